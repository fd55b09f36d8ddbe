//! Every field the engine reports, judged: a risk (which rules read it), no
//! risk (and why not), or not applicable. `docs/fields.md` is rendered from
//! this table, and tests walk captured and live engine JSON so that a field
//! nobody judged — one a newer API version adds — fails a test instead of
//! passing unseen.
//!
//! A row covers its path and everything below it (`Mounts` covers
//! `Mounts[].Source`); arrays and maps whose keys are data (labels,
//! networks) are judged as a whole.

use std::fmt::Write;

/// Which engine answer a field belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// `GET /containers/{id}/json`
    Container,
    /// `GET /images/{id}/json`
    Image,
    /// `GET /images/{id}/history`, one entry
    History,
    /// `GET /info`
    Info,
    /// `GET /version`
    Version,
    /// Other reads: `top`, exec inspect, `/changes`, the archive endpoint,
    /// the default bridge network.
    Other,
}

impl Object {
    /// Every object, in the order the page lists them.
    pub const ALL: [Object; 6] = [
        Object::Container,
        Object::Image,
        Object::History,
        Object::Info,
        Object::Version,
        Object::Other,
    ];

    /// The object's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Container => "Container (`GET /containers/{id}/json`)",
            Self::Image => "Image (`GET /images/{id}/json`)",
            Self::History => "Image history (`GET /images/{id}/history`, per layer)",
            Self::Info => "Engine (`GET /info`)",
            Self::Version => "Engine version (`GET /version`)",
            Self::Other => "Other reads",
        }
    }
}

/// What shipshape does with a field.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    /// Read by these rules.
    Risk(&'static [&'static str]),
    /// Looked at; nothing an attacker gains. Says why.
    NoRisk(&'static str),
    /// Does not apply to the engines and platforms shipshape judges.
    NotApplicable(&'static str),
}

/// One field of an engine's answer and what shipshape does with it.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The object it belongs to.
    pub object: Object,
    /// Its path in the object (`HostConfig.Privileged`).
    pub path: &'static str,
    /// Checked, shown or ignored, and why.
    pub verdict: Verdict,
}

use Object::*;
use Verdict::*;

const fn f(object: Object, path: &'static str, verdict: Verdict) -> Field {
    Field {
        object,
        path,
        verdict,
    }
}

const STATUS: &str = "status, shown in the inventory; what caused it is judged elsewhere";
const IDENTITY: &str = "identity or naming, shown, not a setting";
const ENGINE_FILE: &str = "a file the engine manages for the container";
const TERMINAL: &str = "terminal plumbing; who may attach is a question of engine access";
const ADDRESS: &str =
    "an address the engine assigned; reach is judged by network mode, networks and ports";
const WINDOWS: &str = "Windows containers only";
const DEPRECATED: &str = "deprecated and ignored by current engines";
const BUILD: &str = "build metadata, shown, not a setting that runs";
const KERNEL_SUPPORT: &str =
    "kernel feature support; when one is missing the daemon says so in Warnings";
const COUNTER: &str = "a counter or inventory figure";
const IO_LIMIT: &str =
    "optional I/O throttling; only CPU, memory and PIDs limits are required (CIS 5.10-5.12, 5.29)";

/// The table. Keep rows sorted by object, then path.
pub const FIELDS: &[Field] = &[
    // ---- Container ----
    f(
        Container,
        "AppArmorProfile",
        Risk(&["container.apparmor-unconfined"]),
    ),
    f(
        Container,
        "Args",
        NoRisk("the process's arguments, as Config.Entrypoint and Config.Cmd (judged there)"),
    ),
    f(Container, "Config.ArgsEscaped", NotApplicable(WINDOWS)),
    f(Container, "Config.AttachStderr", NoRisk(TERMINAL)),
    f(Container, "Config.AttachStdin", NoRisk(TERMINAL)),
    f(Container, "Config.AttachStdout", NoRisk(TERMINAL)),
    f(
        Container,
        "Config.Cmd",
        Risk(&["container.secret-in-config", "container.sshd"]),
    ),
    f(Container, "Config.Domainname", NoRisk(IDENTITY)),
    f(
        Container,
        "Config.Entrypoint",
        Risk(&["container.secret-in-config", "container.sshd"]),
    ),
    f(Container, "Config.Env", Risk(&["container.secret-env"])),
    f(
        Container,
        "Config.ExposedPorts",
        NoRisk(
            "documentation of ports; only published ports (HostConfig.PortBindings) are reachable",
        ),
    ),
    f(
        Container,
        "Config.Healthcheck",
        Risk(&["container.no-healthcheck", "container.secret-in-config"]),
    ),
    f(Container, "Config.Hostname", NoRisk(IDENTITY)),
    f(
        Container,
        "Config.Image",
        Risk(&["container.mutable-image-ref", "container.unapproved-image"]),
    ),
    f(
        Container,
        "Config.Labels",
        Risk(&["container.secret-in-config", "container.lateral-connection"]),
    ),
    f(Container, "Config.MacAddress", NoRisk(ADDRESS)),
    f(
        Container,
        "Config.NetworkDisabled",
        NoRisk("takes the network away; only ever reduces reach"),
    ),
    f(
        Container,
        "Config.OnBuild",
        NotApplicable(
            "build triggers copied from the image; they run in builds, not in the container",
        ),
    ),
    f(Container, "Config.OpenStdin", NoRisk(TERMINAL)),
    f(
        Container,
        "Config.Shell",
        NoRisk(
            "the shell for RUN-style commands; what runs is judged by Config.Cmd and Entrypoint",
        ),
    ),
    f(Container, "Config.StdinOnce", NoRisk(TERMINAL)),
    f(
        Container,
        "Config.StopSignal",
        NoRisk("how the engine stops the container"),
    ),
    f(
        Container,
        "Config.StopTimeout",
        NoRisk("how long the engine waits when stopping"),
    ),
    f(Container, "Config.Tty", NoRisk(TERMINAL)),
    f(Container, "Config.User", Risk(&["container.root-user"])),
    f(
        Container,
        "Config.Volumes",
        NoRisk("anonymous volumes; the engine lists them in Mounts, judged there"),
    ),
    f(
        Container,
        "Config.WorkingDir",
        NoRisk("the starting directory inside the container"),
    ),
    f(
        Container,
        "Created",
        NoRisk("shown; the age of the image matters, not of the container (image.old)"),
    ),
    f(
        Container,
        "Driver",
        NotApplicable("the storage driver; the engine's choice"),
    ),
    f(
        Container,
        "ExecIDs",
        Risk(&["container.exec-root", "container.exec-privileged"]),
    ),
    f(
        Container,
        "GraphDriver",
        NoRisk(
            "where its writable layer is: read for drift on an engine on this machine, only inside the engine's data root",
        ),
    ),
    f(
        Container,
        "HostConfig.Annotations",
        NoRisk("metadata for the OCI runtime; no effect with runc"),
    ),
    f(
        Container,
        "HostConfig.AutoRemove",
        NoRisk(
            "removal after exit; shipshape keeps a removed container in view and in the timeline",
        ),
    ),
    f(
        Container,
        "HostConfig.Binds",
        Risk(&[
            "container.engine-socket",
            "container.sensitive-mount",
            "container.sensitive-mount-extra",
            "container.host-socket",
        ]),
    ),
    f(Container, "HostConfig.BlkioDeviceReadBps", NoRisk(IO_LIMIT)),
    f(
        Container,
        "HostConfig.BlkioDeviceReadIOps",
        NoRisk(IO_LIMIT),
    ),
    f(
        Container,
        "HostConfig.BlkioDeviceWriteBps",
        NoRisk(IO_LIMIT),
    ),
    f(
        Container,
        "HostConfig.BlkioDeviceWriteIOps",
        NoRisk(IO_LIMIT),
    ),
    f(Container, "HostConfig.BlkioWeight", NoRisk(IO_LIMIT)),
    f(Container, "HostConfig.BlkioWeightDevice", NoRisk(IO_LIMIT)),
    f(
        Container,
        "HostConfig.CapAdd",
        Risk(&["container.cap-add", "container.host-takeover"]),
    ),
    f(
        Container,
        "HostConfig.CapDrop",
        Risk(&["container.host-takeover"]),
    ),
    f(
        Container,
        "HostConfig.Capabilities",
        NoRisk(
            "an exact capability list set through the API only; shown by the engine in CapAdd/CapDrop terms",
        ),
    ),
    f(
        Container,
        "HostConfig.Cgroup",
        NotApplicable("legacy field, unused by current engines"),
    ),
    f(
        Container,
        "HostConfig.CgroupParent",
        Risk(&["container.cgroup-parent"]),
    ),
    f(
        Container,
        "HostConfig.CgroupnsMode",
        Risk(&["container.cgroupns-host"]),
    ),
    f(Container, "HostConfig.ConsoleSize", NoRisk(TERMINAL)),
    f(
        Container,
        "HostConfig.ContainerIDFile",
        NoRisk("a client-side file name"),
    ),
    f(Container, "HostConfig.CpuCount", NotApplicable(WINDOWS)),
    f(Container, "HostConfig.CpuPercent", NotApplicable(WINDOWS)),
    f(
        Container,
        "HostConfig.CpuPeriod",
        Risk(&["container.no-cpu-limit"]),
    ),
    f(
        Container,
        "HostConfig.CpuQuota",
        Risk(&["container.no-cpu-limit"]),
    ),
    f(
        Container,
        "HostConfig.CpuRealtimePeriod",
        NoRisk("real-time scheduling needs SYS_NICE, judged by container.cap-add"),
    ),
    f(
        Container,
        "HostConfig.CpuRealtimeRuntime",
        NoRisk("real-time scheduling needs SYS_NICE, judged by container.cap-add"),
    ),
    f(
        Container,
        "HostConfig.CpuShares",
        Risk(&["container.no-cpu-limit"]),
    ),
    f(
        Container,
        "HostConfig.CpusetCpus",
        NoRisk("pins CPUs; only ever narrows"),
    ),
    f(
        Container,
        "HostConfig.CpusetMems",
        NoRisk("pins memory nodes; only ever narrows"),
    ),
    f(
        Container,
        "HostConfig.DeviceCgroupRules",
        Risk(&["container.device-cgroup-rule"]),
    ),
    f(
        Container,
        "HostConfig.DeviceRequests",
        Risk(&["container.device-requests"]),
    ),
    f(
        Container,
        "HostConfig.Devices",
        Risk(&["container.host-devices"]),
    ),
    f(
        Container,
        "HostConfig.Dns",
        NoRisk("name resolution inside the container"),
    ),
    f(
        Container,
        "HostConfig.DnsOptions",
        NoRisk("name resolution inside the container"),
    ),
    f(
        Container,
        "HostConfig.DnsSearch",
        NoRisk("name resolution inside the container"),
    ),
    f(
        Container,
        "HostConfig.ExtraHosts",
        NoRisk("name resolution inside the container"),
    ),
    f(
        Container,
        "HostConfig.GroupAdd",
        NoRisk(
            "extra groups matter only for a mounted host file or device, which are judged themselves",
        ),
    ),
    f(
        Container,
        "HostConfig.IOMaximumBandwidth",
        NotApplicable(WINDOWS),
    ),
    f(
        Container,
        "HostConfig.IOMaximumIOps",
        NotApplicable(WINDOWS),
    ),
    f(
        Container,
        "HostConfig.Init",
        NoRisk("an init process that reaps zombies; hygiene of the workload"),
    ),
    f(
        Container,
        "HostConfig.IpcMode",
        Risk(&["container.host-ipc", "container.joins-namespace"]),
    ),
    f(Container, "HostConfig.Isolation", NotApplicable(WINDOWS)),
    f(
        Container,
        "HostConfig.KernelMemory",
        NotApplicable(DEPRECATED),
    ),
    f(
        Container,
        "HostConfig.KernelMemoryTCP",
        NotApplicable(DEPRECATED),
    ),
    f(
        Container,
        "HostConfig.Links",
        Risk(&["container.lateral-connection"]),
    ),
    f(
        Container,
        "HostConfig.LogConfig",
        Risk(&["container.logging-disabled", "container.log-unbounded"]),
    ),
    f(
        Container,
        "HostConfig.MaskedPaths",
        Risk(&["container.unmasked-paths"]),
    ),
    f(
        Container,
        "HostConfig.Memory",
        Risk(&["container.no-memory-limit", "container.oom-kill-disabled"]),
    ),
    f(
        Container,
        "HostConfig.MemoryReservation",
        NoRisk("a soft target, not a limit; the limit is HostConfig.Memory"),
    ),
    f(
        Container,
        "HostConfig.MemorySwap",
        Risk(&["container.no-memory-limit"]),
    ),
    f(
        Container,
        "HostConfig.MemorySwappiness",
        NoRisk("a tuning knob"),
    ),
    f(
        Container,
        "HostConfig.Mounts",
        Risk(&[
            "container.writable-rootfs",
            "container.engine-socket",
            "container.sensitive-mount",
            "container.sensitive-mount-extra",
            "container.host-socket",
            "container.shared-propagation",
        ]),
    ),
    f(
        Container,
        "HostConfig.NanoCpus",
        Risk(&["container.no-cpu-limit"]),
    ),
    f(
        Container,
        "HostConfig.NetworkMode",
        Risk(&[
            "container.host-network",
            "container.default-bridge",
            "container.joins-namespace",
        ]),
    ),
    f(
        Container,
        "HostConfig.OomKillDisable",
        Risk(&["container.oom-kill-disabled"]),
    ),
    f(
        Container,
        "HostConfig.OomScoreAdj",
        Risk(&["container.oom-score-adj"]),
    ),
    f(
        Container,
        "HostConfig.PidMode",
        Risk(&[
            "container.host-pid",
            "container.joins-namespace",
            "container.host-takeover",
        ]),
    ),
    f(
        Container,
        "HostConfig.PidsLimit",
        Risk(&["container.no-pids-limit"]),
    ),
    f(
        Container,
        "HostConfig.PortBindings",
        Risk(&[
            "container.published-ports",
            "container.privileged-port",
            "container.port-all-interfaces",
        ]),
    ),
    f(
        Container,
        "HostConfig.Privileged",
        Risk(&["container.privileged"]),
    ),
    f(
        Container,
        "HostConfig.PublishAllPorts",
        Risk(&["container.published-ports", "container.port-all-interfaces"]),
    ),
    f(
        Container,
        "HostConfig.ReadonlyPaths",
        Risk(&["container.unmasked-paths"]),
    ),
    f(
        Container,
        "HostConfig.ReadonlyRootfs",
        Risk(&["container.writable-rootfs"]),
    ),
    f(
        Container,
        "HostConfig.RestartPolicy",
        Risk(&["container.restart-policy"]),
    ),
    f(
        Container,
        "HostConfig.Runtime",
        NoRisk(
            "the OCI runtime; runc, crun, runsc and kata all isolate at least as well as the default",
        ),
    ),
    f(
        Container,
        "HostConfig.SecurityOpt",
        Risk(&[
            "container.host-takeover",
            "container.seccomp-unconfined",
            "container.no-new-privileges",
            "container.apparmor-unconfined",
            "container.selinux-unlabelled",
        ]),
    ),
    f(
        Container,
        "HostConfig.ShmSize",
        NoRisk("/dev/shm is charged to the memory limit"),
    ),
    f(
        Container,
        "HostConfig.StorageOpt",
        NoRisk("a size limit for the writable layer; only ever narrows"),
    ),
    f(
        Container,
        "HostConfig.Sysctls",
        Risk(&["container.sysctls"]),
    ),
    f(
        Container,
        "HostConfig.Tmpfs",
        Risk(&["container.writable-rootfs"]),
    ),
    f(
        Container,
        "HostConfig.UTSMode",
        Risk(&["container.host-uts"]),
    ),
    f(
        Container,
        "HostConfig.Ulimits",
        Risk(&["container.ulimits"]),
    ),
    f(
        Container,
        "HostConfig.UsernsMode",
        Risk(&["container.host-userns"]),
    ),
    f(
        Container,
        "HostConfig.VolumeDriver",
        NoRisk("where named volumes live; their mounts are judged in Mounts"),
    ),
    f(
        Container,
        "HostConfig.VolumesFrom",
        NoRisk("inherited mounts appear in Mounts and are judged there"),
    ),
    f(Container, "HostnamePath", NotApplicable(ENGINE_FILE)),
    f(Container, "HostsPath", NotApplicable(ENGINE_FILE)),
    f(Container, "Id", NoRisk(IDENTITY)),
    f(Container, "Image", Risk(&["container.stale-image"])),
    f(
        Container,
        "ImageManifestDescriptor",
        NoRisk("the image's manifest; provenance is judged by reference and digest"),
    ),
    f(Container, "LogPath", NotApplicable(ENGINE_FILE)),
    f(
        Container,
        "MountLabel",
        Risk(&["container.selinux-unlabelled"]),
    ),
    f(
        Container,
        "Mounts",
        Risk(&[
            "container.engine-socket",
            "container.sensitive-mount",
            "container.sensitive-mount-extra",
            "container.host-socket",
            "container.shared-propagation",
        ]),
    ),
    f(Container, "Name", NoRisk(IDENTITY)),
    f(Container, "NetworkSettings.Bridge", NoRisk(ADDRESS)),
    f(Container, "NetworkSettings.EndpointID", NoRisk(ADDRESS)),
    f(Container, "NetworkSettings.Gateway", NoRisk(ADDRESS)),
    f(
        Container,
        "NetworkSettings.GlobalIPv6Address",
        NoRisk(ADDRESS),
    ),
    f(
        Container,
        "NetworkSettings.GlobalIPv6PrefixLen",
        NoRisk(ADDRESS),
    ),
    f(
        Container,
        "NetworkSettings.HairpinMode",
        NoRisk("lets a container reach itself through its published port"),
    ),
    f(Container, "NetworkSettings.IPAddress", NoRisk(ADDRESS)),
    f(Container, "NetworkSettings.IPPrefixLen", NoRisk(ADDRESS)),
    f(Container, "NetworkSettings.IPv6Gateway", NoRisk(ADDRESS)),
    f(
        Container,
        "NetworkSettings.LinkLocalIPv6Address",
        NoRisk(ADDRESS),
    ),
    f(
        Container,
        "NetworkSettings.LinkLocalIPv6PrefixLen",
        NoRisk(ADDRESS),
    ),
    f(Container, "NetworkSettings.MacAddress", NoRisk(ADDRESS)),
    f(
        Container,
        "NetworkSettings.Networks",
        Risk(&[
            "container.default-bridge",
            "container.lateral-connection",
            "container.reaches-host",
            "container.default-bridge-talk",
        ]),
    ),
    f(
        Container,
        "NetworkSettings.Ports",
        Risk(&[
            "container.unpublished-listener",
            "container.lateral-connection",
            "container.published-ports",
            "container.privileged-port",
            "container.port-all-interfaces",
        ]),
    ),
    f(Container, "NetworkSettings.SandboxID", NoRisk(ADDRESS)),
    f(Container, "NetworkSettings.SandboxKey", NoRisk(ADDRESS)),
    f(
        Container,
        "NetworkSettings.SecondaryIPAddresses",
        NoRisk(ADDRESS),
    ),
    f(
        Container,
        "NetworkSettings.SecondaryIPv6Addresses",
        NoRisk(ADDRESS),
    ),
    f(Container, "Node", NotApplicable("classic Swarm only")),
    f(
        Container,
        "Path",
        NoRisk("the process's program, as Config.Entrypoint and Config.Cmd (judged there)"),
    ),
    f(Container, "Platform", NoRisk(IDENTITY)),
    f(
        Container,
        "ProcessLabel",
        Risk(&["container.selinux-unlabelled"]),
    ),
    f(Container, "ResolvConfPath", NotApplicable(ENGINE_FILE)),
    f(Container, "RestartCount", NoRisk(STATUS)),
    f(Container, "SizeRootFs", NoRisk(COUNTER)),
    f(Container, "SizeRw", NoRisk(COUNTER)),
    f(Container, "State.Dead", NoRisk(STATUS)),
    f(Container, "State.Error", NoRisk(STATUS)),
    f(Container, "State.ExitCode", NoRisk(STATUS)),
    f(
        Container,
        "State.FinishedAt",
        NoRisk("with StartedAt, the lifetime of short-lived containers (activity timeline)"),
    ),
    f(Container, "State.Health", NoRisk(STATUS)),
    f(Container, "State.OOMKilled", NoRisk(STATUS)),
    f(Container, "State.Paused", NoRisk(STATUS)),
    f(
        Container,
        "State.Pid",
        Risk(&[
            "container.lateral-connection",
            "container.reaches-host",
            "container.default-bridge-talk",
            "container.suspicious-port",
            "container.unpublished-listener",
        ]),
    ),
    f(Container, "State.Restarting", NoRisk(STATUS)),
    f(Container, "State.Running", NoRisk(STATUS)),
    f(
        Container,
        "State.StartedAt",
        Risk(&["container.drift-program", "container.drift-sensitive"]),
    ),
    f(Container, "State.Status", NoRisk(STATUS)),
    // ---- Image ----
    f(Image, "Architecture", NoRisk(IDENTITY)),
    f(Image, "Author", NoRisk(BUILD)),
    f(Image, "Comment", NoRisk(BUILD)),
    f(Image, "Config.ArgsEscaped", NotApplicable(WINDOWS)),
    f(Image, "Config.AttachStderr", NoRisk(TERMINAL)),
    f(Image, "Config.AttachStdin", NoRisk(TERMINAL)),
    f(Image, "Config.AttachStdout", NoRisk(TERMINAL)),
    f(Image, "Config.Cmd", Risk(&["image.secret-in-config"])),
    f(Image, "Config.Domainname", NoRisk(IDENTITY)),
    f(
        Image,
        "Config.Entrypoint",
        Risk(&["image.secret-in-config"]),
    ),
    f(Image, "Config.Env", Risk(&["image.secret-env"])),
    f(
        Image,
        "Config.ExposedPorts",
        NoRisk("documentation of ports; only published ports are reachable (container rules)"),
    ),
    f(
        Image,
        "Config.Healthcheck",
        Risk(&["image.no-healthcheck", "image.secret-in-config"]),
    ),
    f(Image, "Config.Hostname", NoRisk(IDENTITY)),
    f(Image, "Config.Image", NoRisk(BUILD)),
    f(Image, "Config.Labels", Risk(&["image.secret-in-config"])),
    f(
        Image,
        "Config.OnBuild",
        NoRisk("triggers run in a later build, whose own history is judged"),
    ),
    f(Image, "Config.OpenStdin", NoRisk(TERMINAL)),
    f(
        Image,
        "Config.Shell",
        NoRisk("the shell for RUN in later builds"),
    ),
    f(Image, "Config.StdinOnce", NoRisk(TERMINAL)),
    f(
        Image,
        "Config.StopSignal",
        NoRisk("how the engine stops containers of it"),
    ),
    f(Image, "Config.Tty", NoRisk(TERMINAL)),
    f(Image, "Config.User", Risk(&["image.root-user"])),
    f(
        Image,
        "Config.Volumes",
        NoRisk("anonymous volumes of its containers; judged in their Mounts"),
    ),
    f(Image, "Config.WorkingDir", NoRisk("the starting directory")),
    f(Image, "Container", NoRisk(BUILD)),
    f(
        Image,
        "ContainerConfig",
        NoRisk("the legacy builder's build container; Config is what runs"),
    ),
    f(Image, "Created", Risk(&["image.old"])),
    f(
        Image,
        "Descriptor",
        NoRisk("the image's content descriptor; provenance is judged by reference and digest"),
    ),
    f(Image, "DockerVersion", NoRisk(BUILD)),
    f(
        Image,
        "GraphDriver",
        NoRisk(
            "where its layers are: read for its packages on an engine on this machine, only inside the engine's data root",
        ),
    ),
    f(
        Image,
        "Id",
        Risk(&["container.stale-image", "image.unused"]),
    ),
    f(Image, "Identity", NoRisk(BUILD)),
    f(
        Image,
        "Manifests",
        NoRisk("per-platform manifests of the containerd store; provenance is judged by digest"),
    ),
    f(Image, "Metadata", NoRisk(COUNTER)),
    f(Image, "Os", NoRisk(IDENTITY)),
    f(Image, "OsVersion", NotApplicable(WINDOWS)),
    f(Image, "Parent", NoRisk(BUILD)),
    f(
        Image,
        "RepoDigests",
        Risk(&["container.mutable-image-ref", "image.signature"]),
    ),
    f(
        Image,
        "RepoTags",
        Risk(&["image.dangling", "container.stale-image"]),
    ),
    f(
        Image,
        "RootFS",
        NoRisk(
            "layer digests; the files in them are read from the layer directories, a container or the image export (packages, setuid files)",
        ),
    ),
    f(Image, "Size", NoRisk(COUNTER)),
    f(Image, "Variant", NoRisk(IDENTITY)),
    f(Image, "VirtualSize", NoRisk(COUNTER)),
    // ---- History ----
    f(History, "Comment", NoRisk(BUILD)),
    f(History, "Created", NoRisk(BUILD)),
    f(
        History,
        "CreatedBy",
        Risk(&[
            "image.secret-env",
            "image.update-alone",
            "image.add-instead-of-copy",
            "image.unverified-download",
            "image.signature-checks-off",
        ]),
    ),
    f(History, "Id", NoRisk(IDENTITY)),
    f(History, "Size", NoRisk(COUNTER)),
    f(History, "Tags", NoRisk(IDENTITY)),
    // ---- Info ----
    f(Info, "Architecture", NoRisk(IDENTITY)),
    f(Info, "BridgeNfIp6tables", Risk(&["engine.warnings"])),
    f(Info, "BridgeNfIptables", Risk(&["engine.warnings"])),
    f(
        Info,
        "CDISpecDirs",
        NoRisk("where device descriptions live; devices given to containers are judged on them"),
    ),
    f(Info, "CPUSet", NoRisk(KERNEL_SUPPORT)),
    f(Info, "CPUShares", NoRisk(KERNEL_SUPPORT)),
    f(
        Info,
        "CgroupDriver",
        NoRisk("cgroupfs or systemd; both enforce limits"),
    ),
    f(
        Info,
        "CgroupVersion",
        Risk(&["container.cgroupns-host", "engine.cgroupns-host-default"]),
    ),
    f(Info, "ClusterAdvertise", NotApplicable(DEPRECATED)),
    f(Info, "ClusterStore", NotApplicable(DEPRECATED)),
    f(
        Info,
        "Containerd",
        NoRisk("containerd's address and namespaces, used by the engine itself"),
    ),
    f(Info, "ContainerdCommit", NoRisk(BUILD)),
    f(Info, "Containers", NoRisk(COUNTER)),
    f(Info, "ContainersPaused", NoRisk(COUNTER)),
    f(Info, "ContainersRunning", NoRisk(COUNTER)),
    f(Info, "ContainersStopped", NoRisk(COUNTER)),
    f(Info, "CpuCfsPeriod", Risk(&["engine.warnings"])),
    f(Info, "CpuCfsQuota", Risk(&["engine.warnings"])),
    f(Info, "Debug", Risk(&["engine.debug"])),
    f(
        Info,
        "DefaultAddressPools",
        NoRisk("address ranges for new networks"),
    ),
    f(
        Info,
        "DefaultRuntime",
        NoRisk(
            "the OCI runtime; runc, crun, runsc and kata all isolate at least as well as the default",
        ),
    ),
    f(
        Info,
        "DockerRootDir",
        Risk(&[
            "container.sensitive-mount",
            "container.sensitive-mount-extra",
        ]),
    ),
    f(Info, "Driver", NotApplicable("the storage driver")),
    f(
        Info,
        "DriverStatus",
        NotApplicable("storage driver internals"),
    ),
    f(Info, "ExperimentalBuild", Risk(&["engine.experimental"])),
    f(
        Info,
        "FirewallBackend",
        NoRisk("iptables or nftables; both isolate networks"),
    ),
    f(Info, "GenericResources", NotApplicable("Swarm resources")),
    f(
        Info,
        "HttpProxy",
        NoRisk("the engine masks credentials in it; shipshape does not show it"),
    ),
    f(
        Info,
        "HttpsProxy",
        NoRisk("the engine masks credentials in it; shipshape does not show it"),
    ),
    f(
        Info,
        "ID",
        NoRisk(
            "the engine's identity; shipshape uses it to notice another engine at the same address",
        ),
    ),
    f(
        Info,
        "IPv4Forwarding",
        NoRisk("needed for bridge networking"),
    ),
    f(Info, "Images", NoRisk(COUNTER)),
    f(Info, "IndexServerAddress", NoRisk("the default registry")),
    f(Info, "InitBinary", NoRisk(BUILD)),
    f(Info, "InitCommit", NoRisk(BUILD)),
    f(Info, "Isolation", NotApplicable(WINDOWS)),
    f(Info, "KernelMemory", NotApplicable(DEPRECATED)),
    f(Info, "KernelMemoryTCP", NotApplicable(DEPRECATED)),
    f(
        Info,
        "KernelVersion",
        NoRisk("shown; kernel vulnerabilities are the host's package manager's to fix"),
    ),
    f(Info, "Labels", NoRisk("the engine's own labels")),
    f(
        Info,
        "LiveRestoreEnabled",
        Risk(&["engine.no-live-restore"]),
    ),
    f(Info, "LoggingDriver", Risk(&["engine.local-logging"])),
    f(Info, "MemTotal", NoRisk(COUNTER)),
    f(Info, "MemoryLimit", Risk(&["engine.warnings"])),
    f(Info, "NCPU", NoRisk(COUNTER)),
    f(Info, "NEventsListener", NoRisk(COUNTER)),
    f(Info, "NFd", NoRisk(COUNTER)),
    f(Info, "NGoroutines", NoRisk(COUNTER)),
    f(Info, "Name", NoRisk(IDENTITY)),
    f(Info, "NoProxy", NoRisk("hosts that bypass the proxy")),
    f(Info, "OSType", NoRisk(IDENTITY)),
    f(Info, "OSVersion", NoRisk(IDENTITY)),
    f(Info, "OomKillDisable", NoRisk(KERNEL_SUPPORT)),
    f(Info, "OperatingSystem", NoRisk(IDENTITY)),
    f(Info, "PidsLimit", Risk(&["engine.warnings"])),
    f(Info, "Plugins", Risk(&["engine.no-authz-plugin"])),
    f(Info, "ProductLicense", NoRisk(IDENTITY)),
    f(
        Info,
        "RegistryConfig.AllowNondistributableArtifactsCIDRs",
        NoRisk("pushing of foreign layers"),
    ),
    f(
        Info,
        "RegistryConfig.AllowNondistributableArtifactsHostnames",
        NoRisk("pushing of foreign layers"),
    ),
    f(
        Info,
        "RegistryConfig.IndexConfigs",
        Risk(&["engine.insecure-registry"]),
    ),
    f(
        Info,
        "RegistryConfig.InsecureRegistryCIDRs",
        Risk(&["engine.insecure-registry"]),
    ),
    f(
        Info,
        "RegistryConfig.Mirrors",
        NoRisk("pull-through mirrors; images are still verified by digest"),
    ),
    f(Info, "RuncCommit", NoRisk(BUILD)),
    f(
        Info,
        "Runtimes",
        NoRisk("the OCI runtimes the engine offers"),
    ),
    f(
        Info,
        "SecurityOptions",
        Risk(&[
            "engine.not-rootless",
            "engine.no-userns",
            "engine.no-daemon-no-new-privileges",
            "engine.no-mac",
            "engine.seccomp-unconfined",
            "container.root-user",
            "container.privileged",
            "container.engine-socket",
        ]),
    ),
    f(Info, "ServerVersion", Risk(&["engine.old-version"])),
    f(Info, "SwapLimit", Risk(&["engine.warnings"])),
    f(Info, "Swarm", Risk(&["engine.swarm"])),
    f(Info, "SystemTime", NoRisk("used to date findings")),
    f(Info, "Warnings", Risk(&["engine.warnings"])),
    // ---- Version ----
    f(
        Version,
        "ApiVersion",
        NoRisk("the API version shipshape speaks"),
    ),
    f(Version, "Arch", NoRisk(IDENTITY)),
    f(Version, "BuildTime", NoRisk(BUILD)),
    f(
        Version,
        "Components",
        NoRisk("versions of the engine's parts; the product (Docker or Podman) is read from it"),
    ),
    f(Version, "Experimental", Risk(&["engine.experimental"])),
    f(Version, "GitCommit", NoRisk(BUILD)),
    f(Version, "GoVersion", NoRisk(BUILD)),
    f(Version, "KernelVersion", NoRisk(IDENTITY)),
    f(
        Version,
        "MinAPIVersion",
        NoRisk("the oldest API version the engine accepts"),
    ),
    f(Version, "Os", NoRisk(IDENTITY)),
    f(Version, "Platform", NoRisk(IDENTITY)),
    f(Version, "Version", Risk(&["engine.old-version"])),
    // ---- Other reads ----
    f(Other, "top: processes", Risk(&["container.sshd"])),
    f(
        Other,
        "/proc: processes (parents, users, executable, arguments, standard streams)",
        Risk(&[
            "container.shell-from-service",
            "container.package-manager-run",
            "container.network-tool-run",
            "container.run-from-scratch-dir",
            "container.socket-stdio",
            "container.root-process",
        ]),
    ),
    f(
        Other,
        "exec inspect: User, Privileged",
        Risk(&["container.exec-root", "container.exec-privileged"]),
    ),
    f(
        Other,
        "changes: added and changed files",
        Risk(&["container.drift-program", "container.drift-sensitive"]),
    ),
    f(
        Other,
        "archive: package databases",
        Risk(&[
            "image.known-vulnerabilities",
            "container.known-vulnerabilities",
            "image.vulns-not-assessed",
            "image.release-end-of-life",
        ]),
    ),
    f(
        Other,
        "archive: executable directories",
        Risk(&["image.setuid-files", "image.world-writable"]),
    ),
    f(
        Other,
        "image files: layer directories or archive",
        Risk(&["image.secret-file", "image.known-vulnerabilities"]),
    ),
    f(Other, "networks/bridge: enable_icc", Risk(&["engine.icc"])),
    f(
        Other,
        "connection: endpoint and TLS",
        Risk(&["engine.tcp-without-tls", "container.engine-socket"]),
    ),
    f(
        Other,
        "client environment: DOCKER_CONTENT_TRUST",
        Risk(&["engine.no-content-trust"]),
    ),
    f(
        Other,
        "policy file: allowed registries, image age",
        Risk(&["container.unapproved-image", "image.old"]),
    ),
];

/// Is `path` judged by a row of `object` (that row's path or one above it)?
pub fn is_judged(object: Object, path: &str) -> bool {
    FIELDS.iter().filter(|r| r.object == object).any(|r| {
        path == r.path
            || path
                .strip_prefix(r.path)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Every field path of an engine answer that no row judges. Objects are
/// walked; arrays and scalars are leaves (a row covers all below it).
pub fn unjudged(object: Object, value: &serde_json::Value) -> Vec<String> {
    fn walk(object: Object, v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if !prefix.is_empty() && is_judged(object, prefix) {
            return;
        }
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, child) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(object, child, &p, out);
                }
            }
            _ => out.push(prefix.to_string()),
        }
    }
    let mut out = Vec::new();
    walk(object, value, "", &mut out);
    out.retain(|p| !p.is_empty());
    out
}

/// `docs/fields.md`.
pub fn fields_markdown() -> String {
    let risks = FIELDS
        .iter()
        .filter(|r| matches!(r.verdict, Risk(_)))
        .count();
    let no = FIELDS
        .iter()
        .filter(|r| matches!(r.verdict, NoRisk(_)))
        .count();
    let na = FIELDS.len() - risks - no;
    let mut out = format!(
        "# Every engine field, judged\n\n\
         Generated from `src/rules/fields.rs` by `shipshape rules --fields`. Do not edit by hand.\n\n\
         Each field the engine's API returns for a container, an image, its history and the \
         engine itself is either a **risk** (the rules that read it), **no risk** (and why not) \
         or **n/a**. A row covers the fields below it. The test suite walks captured and live \
         engine answers and fails on a field that no row judges, so a field a newer API \
         version adds is noticed.\n\n\
         {} rows: {risks} risk, {no} no risk, {na} not applicable.\n",
        FIELDS.len()
    );
    for object in Object::ALL {
        let _ = write!(
            out,
            "\n## {}\n\n| field | verdict | rules, or why not |\n|---|---|---|\n",
            object.title()
        );
        for r in FIELDS.iter().filter(|r| r.object == object) {
            let (verdict, detail) = match r.verdict {
                Risk(ids) => (
                    "risk",
                    ids.iter()
                        .map(|id| format!("[`{id}`](rules.md#{})", id.replace('.', "")))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                NoRisk(why) => ("no risk", why.to_string()),
                NotApplicable(why) => ("n/a", why.to_string()),
            };
            let _ = writeln!(out, "| `{}` | {verdict} | {detail} |", r.path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_captured_field_is_judged() {
        for (object, file) in [
            (Object::Container, "container-cap-priv.json"),
            (Object::Container, "container-cap-run.json"),
            (Object::Container, "container-cap-hard.json"),
            (Object::Image, "image-hardened.json"),
            (Object::Image, "image-leaky.json"),
            (Object::Info, "info.json"),
            (Object::Version, "version.json"),
        ] {
            let v = fixture(file);
            let v = if v.is_array() { v[0].clone() } else { v };
            assert_eq!(unjudged(object, &v), Vec::<String>::new(), "{file}");
        }
        for entry in fixture("history-leaky.json").as_array().unwrap() {
            assert_eq!(unjudged(Object::History, entry), Vec::<String>::new());
        }
    }

    #[test]
    fn a_new_field_is_noticed() {
        let v = serde_json::json!({
            "HostConfig": { "Privileged": false, "Memory": 0, "NewKnob": true },
            "Mounts": [{ "Source": "/" }],
            "Config": { "Labels": { "anything": "x" } },
        });
        assert_eq!(unjudged(Object::Container, &v), vec!["HostConfig.NewKnob"]);
        // A row covers what is below it, not a sibling with a longer name.
        assert!(is_judged(Object::Container, "Mounts.Source"));
        assert!(!is_judged(Object::Container, "MountsExtra"));
    }

    #[test]
    fn rows_name_real_rules_and_every_rule_has_its_fields() {
        let mut named = std::collections::BTreeSet::new();
        for r in FIELDS {
            if let Risk(ids) = r.verdict {
                assert!(!ids.is_empty(), "{}", r.path);
                for id in ids {
                    assert!(
                        super::super::by_id(id).is_some(),
                        "{}: no rule {id}",
                        r.path
                    );
                    named.insert(*id);
                }
            }
        }
        for rule in super::super::ALL {
            // Kubernetes-only rules read pod-spec fields, not the engine's
            // (docs/kubernetes.md lists them).
            if !matches!(
                rule.check,
                super::super::Check::Policy | super::super::Check::Workload(_)
            ) {
                assert!(
                    named.contains(rule.id),
                    "{} reads no field in the table",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn rows_are_unique_and_sorted() {
        for object in Object::ALL {
            let paths: Vec<&str> = FIELDS
                .iter()
                .filter(|r| r.object == object)
                .map(|r| r.path)
                .collect();
            let mut sorted = paths.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if object != Object::Other {
                assert_eq!(paths, sorted, "{object:?} rows sorted, no duplicates");
            }
        }
    }

    #[test]
    fn docs_fields_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fields.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        let fresh = fields_markdown();
        if on_disk != fresh {
            if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
                std::fs::write(path, fresh).unwrap();
                return;
            }
            panic!(
                "docs/fields.md is out of date: run `SHIPSHAPE_BLESS=1 cargo test --lib docs_fields_md_is_current`"
            );
        }
    }
}
