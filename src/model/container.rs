use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::Sensitive;

/// Lifecycle state, as the engine reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Running.
    Running,
    /// Paused (its processes frozen).
    Paused,
    /// Being restarted by its restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Stopped; its processes ended.
    Exited,
    /// Failed to stop or be removed: the engine gave up on it.
    Dead,
    /// A state shipshape does not know (a newer engine's).
    #[default]
    Unknown,
}

impl ContainerState {
    /// The engine's name of the state (`running`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
            Self::Unknown => "unknown",
        }
    }

    /// Parses the engine's state string; unknown ones are [`ContainerState::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "created" | "configured" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "removing" => Self::Removing,
            "exited" | "stopped" => Self::Exited,
            "dead" => Self::Dead,
            _ => Self::Unknown,
        }
    }

    /// Processes exist (so `top` and stats make sense).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Restarting)
    }
}

/// One environment entry. The value is [`Sensitive`]: never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name (always shown).
    pub key: String,
    /// Its value, never shown or exported.
    pub value: Sensitive,
}

impl EnvVar {
    /// Split a `KEY=value` entry as the engine returns it.
    pub fn parse(entry: &str) -> Self {
        match entry.split_once('=') {
            Some((k, v)) => Self {
                key: k.to_string(),
                value: Sensitive::new(v),
            },
            None => Self {
                key: entry.to_string(),
                value: Sensitive::default(),
            },
        }
    }
}

/// What kind of mount it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A host path bound in.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A memory-backed tmpfs.
    Tmpfs,
    /// A Windows named pipe.
    Npipe,
    /// A cluster (Swarm) volume.
    Cluster,
    /// Any other kind.
    Other,
}

impl MountKind {
    /// The engine's name of the kind (`bind`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Volume => "volume",
            Self::Tmpfs => "tmpfs",
            Self::Npipe => "npipe",
            Self::Cluster => "cluster",
            Self::Other => "other",
        }
    }
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Bind, volume, tmpfs, …
    pub kind: MountKind,
    /// Host path for binds, the volume's data path for volumes.
    pub source: String,
    /// Where the container sees it.
    pub destination: String,
    /// Whether the container may write it.
    pub read_write: bool,
    /// `rprivate`, `rshared`, … (empty when the engine does not say).
    pub propagation: String,
    /// Volume name, for named volumes.
    pub name: Option<String>,
    /// What the source is on this machine, when shipshape could look
    /// (binds of a local engine): symlinks resolved, and its file type.
    pub host: Option<HostPath>,
}

impl Mount {
    /// The host paths this mount stands for: the source as configured and,
    /// when it differs, where it really leads.
    pub fn host_paths(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.source.as_str()).chain(
            self.host
                .as_ref()
                .map(|h| h.resolved.as_str())
                .filter(|r| *r != self.source),
        )
    }

    /// `source` or `source (→ resolved)`, for evidence.
    pub fn describe_source(&self) -> String {
        match &self.host {
            Some(h) if h.resolved != self.source => format!("{} (→ {})", self.source, h.resolved),
            _ => self.source.clone(),
        }
    }

    /// Whether it mounts a Unix socket (by what the host says it is, or by its name).
    pub fn is_socket(&self) -> bool {
        self.host
            .as_ref()
            .is_some_and(|h| h.kind == HostPathKind::Socket)
    }
}

/// A bind source as found on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPath {
    /// Canonical path (every symlink resolved).
    pub resolved: String,
    /// What the host path is.
    pub kind: HostPathKind,
}

/// What a bound host path is, when it could be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPathKind {
    /// A directory.
    Directory,
    /// A regular file.
    File,
    /// A Unix socket.
    Socket,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// Anything else (a fifo, …).
    Other,
}

/// One `--ulimit` override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    /// The resource's name (`nofile`, `nproc`, …).
    pub name: String,
    /// The soft limit.
    pub soft: i64,
    /// The hard limit.
    pub hard: i64,
}

/// How the engine records what the container prints (`HostConfig.LogConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// `json-file`, `local`, `journald`, `none`, … (empty: the engine's default).
    pub driver: String,
    /// Driver options; values may be credentials (`splunk-token`), so they
    /// are [`Sensitive`].
    pub options: BTreeMap<String, Sensitive>,
}

/// One published port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PortBinding {
    /// The port inside the container.
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// As configured: empty means every interface.
    pub host_ip: String,
    /// `None` when the port is exposed but not published.
    pub host_port: Option<u16>,
}

impl PortBinding {
    /// Listening on every interface of the host.
    pub fn binds_all_interfaces(&self) -> bool {
        matches!(self.host_ip.as_str(), "" | "0.0.0.0" | "::" | "[::]")
    }

    /// The binding as `docker ps` shows it (`0.0.0.0:8080->80/tcp`).
    pub fn describe(&self) -> String {
        let ip = if self.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &self.host_ip
        };
        match self.host_port {
            Some(hp) => format!("{ip}:{hp}->{}/{}", self.container_port, self.protocol),
            None => format!("{}/{} (not published)", self.container_port, self.protocol),
        }
    }
}

/// A host device passed into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The device's path on the host.
    pub host_path: String,
    /// Its path inside the container.
    pub container_path: String,
    /// The cgroup permissions granted (`rwm`).
    pub permissions: String,
}

/// What the engine does when the container stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestartPolicy {
    /// `no`, `always`, `unless-stopped`, `on-failure` (empty = `no`).
    pub name: String,
    /// How many restarts `on-failure` allows (0: no limit).
    pub max_retries: i64,
}

/// Resource limits; 0 / `None` means unlimited, as in the engine API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// The memory limit in bytes; 0 is unlimited.
    pub memory_bytes: i64,
    /// `HostConfig.MemorySwap`: memory plus swap. `-1` is unlimited swap;
    /// `0` is the engine's default (swap as large as the memory limit).
    pub memory_swap: i64,
    /// The CPU limit in billionths of a CPU (`--cpus`); 0 is unlimited.
    pub nano_cpus: i64,
    /// The CFS quota per period, in microseconds; 0 is unlimited.
    pub cpu_quota: i64,
    /// The relative CPU weight; 0 is the default.
    pub cpu_shares: i64,
    /// The process limit; `None` or a value ≤ 0 is unlimited.
    pub pids: Option<i64>,
}

/// The healthcheck a container or image declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// `["CMD", …]`, `["CMD-SHELL", …]` or `["NONE"]` (disabled).
    pub test: Vec<String>,
}

impl Healthcheck {
    /// Whether it is switched off (`NONE`).
    pub fn is_disabled(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE") || self.test.is_empty()
    }
}

/// An in-memory mount (`--tmpfs` or `--mount type=tmpfs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    /// Where the container sees it.
    pub destination: String,
    /// Programs may run from it: the engine mounts tmpfs `noexec` unless
    /// `exec` is asked for (measured on Engine 20.10 and 28).
    pub exec: bool,
}

/// A process seen by `GET /containers/{id}/top`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// The user that runs it.
    pub user: String,
    /// Its process id on the host.
    pub pid: String,
    /// The executable's short name (`comm`) when the engine gives it.
    pub comm: String,
    /// Its command line.
    pub command: String,
    /// The capabilities it holds in effect, the kernel's bit set
    /// (`CapEff`), when it was read from `/proc`.
    pub cap_eff: Option<u64>,
}

/// Linux capability names by bit number (`capability.h`).
const CAP_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The names of the capabilities in a bit set (`CapEff`).
pub fn cap_names(bits: u64) -> Vec<&'static str> {
    CAP_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits >> i & 1 == 1)
        .map(|(_, n)| *n)
        .collect()
}

impl Container {
    /// The capabilities its processes hold in effect, when they were read
    /// from `/proc` (a local engine's running container).
    pub fn caps_held(&self) -> Option<std::collections::BTreeSet<&'static str>> {
        let held: Vec<u64> = self
            .processes
            .iter()
            .flatten()
            .filter_map(|p| p.cap_eff)
            .collect();
        (!held.is_empty()).then(|| {
            cap_names(held.iter().fold(0, |a, b| a | b))
                .into_iter()
                .collect()
        })
    }
}

/// How a name a person typed names a container ([`Container::answers_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// Its id or its name.
    Exact,
    /// The start of its id.
    IdPrefix,
    /// Not this one.
    No,
}

/// A container's layer directories as the engine names them (`GraphDriver`
/// of its inspect): its writable layer over the image's. Only a claim: a
/// reader checks them against the engine's data root before reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageDirs {
    /// The storage driver (`overlay2`, `fuse-overlayfs`, …).
    pub driver: String,
    /// `UpperDir`: the container's own writable layer.
    pub upper: String,
    /// `LowerDir`: the layers under it, highest first.
    pub lower: Vec<String>,
}

impl StorageDirs {
    /// From an inspect's `GraphDriver` name and data (bounded: at most 500
    /// lower layers, as a kernel overlay takes).
    pub fn of(driver: &str, data: &std::collections::HashMap<String, String>) -> Self {
        let field = |k: &str| data.get(k).cloned().unwrap_or_default();
        Self {
            driver: driver.chars().take(64).collect(),
            upper: field("UpperDir"),
            lower: field("LowerDir")
                .split(':')
                .filter(|d| !d.is_empty())
                .take(500)
                .map(str::to_string)
                .collect(),
        }
    }
}

/// A container, in any state, with its full configuration.
#[derive(Debug, Clone, Default)]
pub struct Container {
    /// Which configuration filled these facts (evidence names its fields).
    pub source: super::Source,
    /// The container id (64 hex digits on an engine).
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    /// The image as referenced when the container was created (`Config.Image`).
    pub image: String,
    /// The image id the container actually runs (`Image`).
    pub image_id: String,
    /// Running, exited, …
    pub state: ContainerState,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
    /// When it last started; `None` when it never did.
    pub started_at: Option<DateTime<Utc>>,
    /// When it last stopped; `None` while running or never started.
    pub finished_at: Option<DateTime<Utc>>,
    /// The exit code of its last run, once it stopped.
    pub exit_code: Option<i64>,
    /// Health status (`healthy`, `starting`, …) when a healthcheck runs.
    pub health: Option<String>,
    /// The entrypoint and command it runs.
    pub command: Vec<String>,
    /// The user it runs as (`""` is the image's, root unless the image sets one).
    pub user: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its environment (values kept as secrets).
    pub env: Vec<EnvVar>,
    /// It runs privileged.
    pub privileged: bool,
    /// Capabilities added to the default set.
    pub cap_add: Vec<String>,
    /// Capabilities dropped from the default set.
    pub cap_drop: Vec<String>,
    /// Its network mode (`bridge`, `host`, `none`, `container:<id>`, a network's name).
    pub network_mode: String,
    /// Its PID namespace mode (`""`, `host`, `container:<id>`).
    pub pid_mode: String,
    /// Its IPC namespace mode (`private`, `shareable`, `host`, `container:<id>`).
    pub ipc_mode: String,
    /// Its UTS namespace mode (`""` or `host`).
    pub uts_mode: String,
    /// Its user namespace mode (`""` or `host`).
    pub userns_mode: String,
    /// The cgroup it is placed under, when not the default.
    pub cgroup_parent: String,
    /// Its security options (`seccomp=…`, `apparmor=…`, `no-new-privileges`, `label=…`).
    pub security_opt: Vec<String>,
    /// The AppArmor profile it runs under (empty when none).
    pub apparmor_profile: String,
    /// Its SELinux process label (empty when none).
    pub process_label: String,
    /// Its root filesystem is read-only.
    pub readonly_rootfs: bool,
    /// Its memory, CPU and process limits.
    pub limits: Limits,
    /// Its restart policy.
    pub restart: RestartPolicy,
    /// Host devices passed in.
    pub devices: Vec<Device>,
    /// Its mounts.
    pub mounts: Vec<Mount>,
    /// In-memory mounts, with whether they allow execution.
    pub tmpfs: Vec<TmpfsMount>,
    /// Its published ports.
    pub ports: Vec<PortBinding>,
    /// The networks it is attached to.
    pub networks: Vec<String>,
    /// Its healthcheck, its own or the image's.
    pub healthcheck: Option<Healthcheck>,
    /// Its log driver and options.
    pub log: LogConfig,
    /// `HostConfig.OomKillDisable`.
    pub oom_kill_disable: bool,
    /// `HostConfig.OomScoreAdj` (-1000…1000; 0 is the default).
    pub oom_score_adj: i64,
    /// Its resource limits (`--ulimit`).
    pub ulimits: Vec<Ulimit>,
    /// `HostConfig.DeviceCgroupRules` (`c 1:3 mr`, `b *:* rwm`, …).
    pub device_cgroup_rules: Vec<String>,
    /// `HostConfig.DeviceRequests` (GPUs), described for people.
    pub device_requests: Vec<String>,
    /// Kernel parameters it sets (`--sysctl`).
    pub sysctls: BTreeMap<String, String>,
    /// `HostConfig.MaskedPaths`; `None` when the engine does not report it.
    pub masked_paths: Option<Vec<String>>,
    /// `HostConfig.ReadonlyPaths`; `None` when the engine does not report it.
    pub readonly_paths: Option<Vec<String>>,
    /// `HostConfig.CgroupnsMode`: `private`, `host` or empty.
    pub cgroupns_mode: String,
    /// `HostConfig.Runtime` (`runc`, `runsc`, …).
    pub runtime: String,
    /// `RestartCount`.
    pub restart_count: i64,
    /// `State.OOMKilled`.
    pub oom_killed: bool,
    /// Processes from `top` or `/proc`; `None` when the container is not
    /// running or the engine would not say.
    pub processes: Option<Vec<Process>>,
    /// How `processes` were read ([`crate::sources::docker::procs::FROM_PROC`] or
    /// `FROM_TOP`); empty when they were not.
    pub processes_from: &'static str,
    /// Its processes as the runtime source read them (parents, users,
    /// executables, standard streams), for the runtime rules; `None` when
    /// they were not read.
    pub observed: Option<std::sync::Arc<super::runtime::Observed>>,
    /// The files its processes run, have mapped or hold open (executables,
    /// shared libraries, jars), as the container sees them — read from
    /// `/proc` for an engine on this machine; `None` when not known.
    pub files_in_use: Option<std::sync::Arc<std::collections::BTreeSet<String>>>,
    /// `State.Pid`: the host pid of its first process (0 when not running).
    pub pid: i64,
    /// Where the engine keeps its filesystem (`GraphDriver`), for an
    /// overlay driver: read for drift on an engine on this machine.
    pub storage: Option<StorageDirs>,
    /// Exec sessions the engine still lists (`ExecIDs`).
    pub exec_ids: Vec<String>,
    /// `docker exec` sessions seen in this container (newest last).
    pub execs: Vec<super::ExecSession>,
    /// Runtime drift of the filesystem, when it was checked.
    pub drift: Option<super::Drift>,
    /// The engine removed it; shipshape keeps showing it until dismissed.
    pub gone: Option<super::Gone>,
    /// Its own packages, read when its package database changed after it
    /// started (otherwise its image's apply).
    pub packages: Option<std::sync::Arc<super::packages::PackageScan>>,
    /// Known vulnerabilities of its own packages (`NotScanned` when its
    /// image's apply). Shared: a rescan copies no lists.
    pub vulns: std::sync::Arc<super::packages::VulnState>,
    /// On a Kubernetes cluster: the workload container this row stands for.
    pub kube: Option<std::sync::Arc<super::kube::Workload>>,
    /// Created by Compose from files this process could read: where its
    /// service's keys are (or why they were not read). Shared per project.
    pub compose_file: Option<std::sync::Arc<super::compose::ComposeFile>>,
    /// The networks it is attached to, with its addresses there.
    pub endpoints: Vec<super::flows::NetEndpoint>,
    /// `HostConfig.Links`: the containers it links to (names, no `/`).
    pub links: Vec<String>,
    /// Its observed sockets (listeners, connections), when read.
    pub sockets: super::flows::NetObserved,
}

impl Container {
    /// The first 12 hex digits of the id, as `docker ps` shows it.
    pub fn short_id(&self) -> &str {
        super::short_id(&self.id)
    }

    /// Whether `what` (as a person types it: an id, a name with or without
    /// its leading `/`, or at least 4 characters of the id) names it.
    pub fn answers_to(&self, what: &str) -> NameMatch {
        let what = what.trim();
        if self.id == what || self.name.trim_start_matches('/') == what.trim_start_matches('/') {
            NameMatch::Exact
        } else if what.len() >= 4 && self.id.starts_with(what) {
            NameMatch::IdPrefix
        } else {
            NameMatch::No
        }
    }

    /// Its Compose project and service, from the labels Compose sets.
    pub fn compose(&self) -> Option<super::compose::ComposeRef> {
        super::compose::ComposeRef::of(&self.labels)
    }

    /// Named or anonymous volumes: each is mounted (and logged as a
    /// `volume mount`/`unmount` event) by every archive read of the container.
    pub fn volume_count(&self) -> usize {
        self.mounts
            .iter()
            .filter(|m| m.kind == MountKind::Volume)
            .count()
    }

    /// How long it lived: start to finish (or to removal), when known.
    pub fn lifetime(&self) -> Option<chrono::Duration> {
        let start = self.started_at.or(self.created)?;
        let end = self
            .finished_at
            .filter(|f| *f >= start)
            .or(self.gone.map(|g| g.at))?;
        Some(end - start)
    }

    /// The state word to show: the engine's, or `gone`.
    pub fn state_label(&self) -> &'static str {
        if self.gone.is_some() {
            "gone"
        } else {
            self.state.as_str()
        }
    }

    /// Security options split into `(key, value)`, accepting both the
    /// `key=value` and the legacy `key:value` spelling.
    pub fn security_opts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.security_opt.iter().map(|o| split_opt(o))
    }
}

pub(crate) fn split_opt(opt: &str) -> (&str, &str) {
    let eq = opt.find('=');
    let colon = opt.find(':');
    let at = match (eq, colon) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    match at {
        Some(i) => (&opt[..i], &opt[i + 1..]),
        None => (opt, ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_split_keeps_equals_in_value() {
        let e = EnvVar::parse("A=b=c");
        assert_eq!(e.key, "A");
        assert_eq!(e.value.expose_for_analysis(), "b=c");
        assert_eq!(EnvVar::parse("LONELY").key, "LONELY");
    }

    #[test]
    fn security_opt_both_spellings() {
        assert_eq!(split_opt("seccomp=unconfined"), ("seccomp", "unconfined"));
        assert_eq!(split_opt("seccomp:unconfined"), ("seccomp", "unconfined"));
        assert_eq!(split_opt("no-new-privileges"), ("no-new-privileges", ""));
        assert_eq!(split_opt("label=type:svirt_t"), ("label", "type:svirt_t"));
    }

    #[test]
    fn all_interfaces() {
        let mut p = PortBinding {
            container_port: 80,
            protocol: "tcp".into(),
            host_ip: String::new(),
            host_port: Some(8080),
        };
        assert!(p.binds_all_interfaces());
        p.host_ip = "127.0.0.1".into();
        assert!(!p.binds_all_interfaces());
        p.host_ip = "::".into();
        assert!(p.binds_all_interfaces());
    }
}
