use chrono::{DateTime, Utc};

/// Which engine product answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineProduct {
    /// Docker Engine (or Moby).
    #[default]
    Docker,
    /// Podman's Docker-compatible API.
    Podman,
    /// A Kubernetes cluster's API server.
    Kubernetes,
}

impl EngineProduct {
    /// The product's name, as shown.
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

    /// A short description for the engine list: product, version and where it is.
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
    /// AppArmor is enabled on the engine.
    pub apparmor: bool,
    /// SELinux labelling is enabled on the engine.
    pub selinux: bool,
    /// Seccomp profile name when seccomp is on.
    pub seccomp: Option<String>,
    /// The engine runs without root.
    pub rootless: bool,
    /// User-namespace remapping is on.
    pub userns: bool,
    /// The engine sets no-new-privileges on every container.
    pub no_new_privileges: bool,
    /// Containers get their own cgroup namespace.
    pub cgroupns: bool,
    /// The raw strings, for display.
    pub raw: Vec<String>,
}

impl SecurityOptions {
    /// Parses the `SecurityOptions` strings of `/info` (`name=seccomp,profile=default`, …).
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
    /// The network's name (`bridge` on Docker, `podman` on Podman).
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
    /// Docker or Podman.
    pub product: EngineProduct,
    /// The engine host's name.
    pub name: String,
    /// The engine's version.
    pub version: String,
    /// The API version it speaks.
    pub api_version: String,
    /// The oldest API version it accepts.
    pub min_api_version: String,
    /// The host's operating system, as the engine reports it.
    pub os: String,
    /// `linux` or `windows`.
    pub os_type: String,
    /// The host's kernel version.
    pub kernel: String,
    /// The host's CPU architecture.
    pub architecture: String,
    /// The number of CPUs the engine sees.
    pub ncpu: i64,
    /// The host's memory in bytes.
    pub mem_total: i64,
    /// Where the engine keeps its data.
    pub docker_root_dir: String,
    /// The security features the engine reports.
    pub security: SecurityOptions,
    /// The default log driver for new containers.
    pub logging_driver: String,
    /// Containers keep running while the daemon is down.
    pub live_restore: bool,
    /// `1` or `2` (empty when not reported).
    pub cgroup_version: String,
    /// The daemon runs with `--debug`.
    pub debug: bool,
    /// Experimental features are on.
    pub experimental: bool,
    /// `inactive`, `active`, … (empty when not reported).
    pub swarm_state: String,
    /// Authorization plugins that vet API calls.
    pub authorization_plugins: Vec<String>,
    /// Registry networks the engine talks to without TLS verification.
    pub insecure_registry_cidrs: Vec<String>,
    /// Registries configured as insecure by name (`IndexConfigs` with `Secure: false`).
    pub insecure_registries: Vec<String>,
    /// The engine's own warnings (`/info` `Warnings`).
    pub warnings: Vec<String>,
    /// The default bridge network and its settings, when there is one.
    pub default_bridge: Option<BridgeNetwork>,
    /// `DOCKER_CONTENT_TRUST=1` in the environment shipshape runs in.
    pub client_content_trust: bool,
    /// The engine host's clock, to measure skew.
    pub system_time: Option<DateTime<Utc>>,
}
