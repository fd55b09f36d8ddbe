use chrono::{DateTime, Utc};

/// Which engine product answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineProduct {
    #[default]
    Docker,
    Podman,
    /// A Kubernetes cluster's API server.
    Kubernetes,
}

impl EngineProduct {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Docker => "Docker Engine",
            Self::Podman => "Podman",
            Self::Kubernetes => "Kubernetes",
        }
    }
}

/// Who an engine is. Docker's `/info` `ID` is not enough: Engine 20.10 takes
/// it from the key file (`/etc/docker/key.json`) and Engine 23+ from
/// `<data-root>/engine-id`, so two engines that share that file (a copied
/// configuration, a cloned VM) report the same ID. Their data roots differ,
/// so the pair tells engines apart: the watcher pinned to an endpoint, the
/// window's engine list and the fleet scan all use this one identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineIdentity {
    /// `/info` `ID` (`k8s:<server>` for a cluster).
    pub id: String,
    /// `/info` `DockerRootDir` (empty for a cluster).
    pub root: String,
    /// `/info` `Name`: the engine host's name (the context, for a cluster).
    pub name: String,
}

impl EngineIdentity {
    /// The same engine, reached again or another way. An engine that did
    /// not say who it is is nobody's twin.
    pub fn same_engine(&self, other: &EngineIdentity) -> bool {
        !self.id.is_empty() && self.id == other.id && self.root == other.root
    }

    pub fn describe(&self) -> String {
        format!(
            "engine {} on {}, data in {}",
            super::short_id(&self.id),
            self.name,
            self.root
        )
    }
}

/// `GET /info` `SecurityOptions`, parsed (`name=seccomp,profile=default`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityOptions {
    pub apparmor: bool,
    pub selinux: bool,
    /// Seccomp profile name when seccomp is on.
    pub seccomp: Option<String>,
    pub rootless: bool,
    pub userns: bool,
    pub no_new_privileges: bool,
    pub cgroupns: bool,
    /// The raw strings, for display.
    pub raw: Vec<String>,
}

impl SecurityOptions {
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Self {
        let mut out = Self {
            raw: raw.iter().map(|s| s.as_ref().to_string()).collect(),
            ..Self::default()
        };
        for opt in raw {
            let opt = opt.as_ref();
            // Old engines say just `apparmor`; current ones `name=apparmor,…`.
            let mut name = opt;
            let mut profile = None;
            for part in opt.split(',') {
                if let Some(n) = part.strip_prefix("name=") {
                    name = n;
                } else if let Some(p) = part.strip_prefix("profile=") {
                    profile = Some(p.to_string());
                }
            }
            match name {
                "apparmor" => out.apparmor = true,
                "selinux" => out.selinux = true,
                "seccomp" => out.seccomp = Some(profile.unwrap_or_else(|| "default".into())),
                "rootless" => out.rootless = true,
                "userns" => out.userns = true,
                "no-new-privileges" => out.no_new_privileges = true,
                "cgroupns" => out.cgroupns = true,
                _ => {}
            }
        }
        out
    }
}

/// The default bridge network (`GET /networks/bridge`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeNetwork {
    pub name: String,
    /// `com.docker.network.bridge.enable_icc`; `None` when not reported.
    pub icc: Option<bool>,
}

/// The engine: identity, how we reached it, and its daemon-level settings.
#[derive(Debug, Clone, Default)]
pub struct EngineInfo {
    /// A short name for people and reports: the docker context's name, the
    /// kind of socket ("Docker system"), or the address given.
    pub label: String,
    /// The engine's `/info` ID: the same engine reached two ways is one.
    pub id: String,
    /// How shipshape found the engine, for people ("--host flag", …).
    pub found_by: String,
    /// Where it connected (`unix:///var/run/docker.sock`, `tcp://…`).
    pub endpoint: String,
    /// The connection is TCP without TLS.
    pub plaintext_tcp: bool,
    pub product: EngineProduct,
    pub name: String,
    pub version: String,
    pub api_version: String,
    pub min_api_version: String,
    pub os: String,
    pub os_type: String,
    pub kernel: String,
    pub architecture: String,
    pub ncpu: i64,
    pub mem_total: i64,
    pub docker_root_dir: String,
    pub security: SecurityOptions,
    pub logging_driver: String,
    pub live_restore: bool,
    /// `1` or `2` (empty when not reported).
    pub cgroup_version: String,
    /// The daemon runs with `--debug`.
    pub debug: bool,
    pub experimental: bool,
    /// `inactive`, `active`, … (empty when not reported).
    pub swarm_state: String,
    pub authorization_plugins: Vec<String>,
    pub insecure_registry_cidrs: Vec<String>,
    /// Registries configured as insecure by name (`IndexConfigs` with `Secure: false`).
    pub insecure_registries: Vec<String>,
    pub warnings: Vec<String>,
    pub default_bridge: Option<BridgeNetwork>,
    /// `DOCKER_CONTENT_TRUST=1` in the environment shipshape runs in.
    pub client_content_trust: bool,
    pub system_time: Option<DateTime<Utc>>,
}
