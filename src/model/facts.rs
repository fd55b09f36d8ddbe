//! Where a container's security facts come from.
//!
//! A [`crate::model::Container`] is the one source-neutral record of a
//! container's security-relevant settings: privileges, capabilities,
//! namespaces (its own, the host's, or another container's), mounts with
//! their resolved sources, user, read-only root, profiles, limits, ports,
//! env keys, health, restart and logging. Docker/Podman inspect and a
//! Kubernetes pod spec each *fill* it (`sources::docker::convert`,
//! `sources::kube::convert`); every rule decides once, on it.
//!
//! What truly differs between sources is said here, once, as facts about
//! the source: what an unset setting means, which combinations the source
//! forbids, and what each setting is called — so a finding's evidence
//! names the field the user has to edit (`HostConfig.Privileged` for an
//! engine, `securityContext.privileged` for a pod spec).

/// The kind of configuration a container's facts were read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// A Docker-compatible engine's inspect (Docker, Podman, remote engines).
    #[default]
    Engine,
    /// A Kubernetes pod spec (one workload container).
    Kubernetes,
    /// A compose file's service, before anything is created (`compose
    /// check`): what Docker will create from it, its image not yet known.
    Compose,
}

impl Source {
    /// The source's name, as shown in evidence and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Engine => "engine",
            Self::Kubernetes => "kubernetes",
            Self::Compose => "compose",
        }
    }

    /// With no seccomp profile set, the container runs with none at all.
    /// An engine applies its default filter; a kubelet runs pods
    /// `Unconfined` unless it was started with `--seccomp-default`.
    pub fn unset_seccomp_is_unconfined(self) -> bool {
        self == Self::Kubernetes
    }

    /// A privileged container cannot be kept from gaining privileges: the
    /// Kubernetes API rejects `privileged: true` with
    /// `allowPrivilegeEscalation: false`, so the one fix is the
    /// privileged rule's. An engine accepts both flags together.
    pub fn privileged_forces_escalation(self) -> bool {
        self == Self::Kubernetes
    }

    /// The source reports whether the host enforces AppArmor, and the
    /// profile a running container really got (an engine's `/info` and
    /// inspect do; a cluster's nodes are not seen, so only an explicit
    /// `Unconfined` is known).
    pub fn sees_host_mac(self) -> bool {
        self == Self::Engine
    }

    /// What this source calls a setting, for evidence.
    pub fn field(self, s: Setting) -> &'static str {
        use Setting::*;
        match self {
            Self::Engine => match s {
                Privileged => "HostConfig.Privileged",
                User => "Config.User",
                CapAdd => "HostConfig.CapAdd",
                NetworkNs => "HostConfig.NetworkMode",
                PidNs => "HostConfig.PidMode",
                IpcNs => "HostConfig.IpcMode",
                ReadOnlyRoot => "HostConfig.ReadonlyRootfs",
                MaskedPaths => "HostConfig.MaskedPaths",
                ReadonlyPaths => "HostConfig.ReadonlyPaths",
                MemoryLimit => "HostConfig.Memory",
                CpuLimit => "HostConfig.NanoCpus, CpuQuota and CpuShares",
                Env => "env",
            },
            Self::Compose => match s {
                Privileged => "privileged",
                User => "user",
                CapAdd => "cap_add",
                NetworkNs => "network_mode",
                PidNs => "pid",
                IpcNs => "ipc",
                ReadOnlyRoot => "read_only",
                MaskedPaths | ReadonlyPaths => "security_opt: systempaths",
                MemoryLimit => "mem_limit (or deploy.resources.limits.memory)",
                CpuLimit => "cpus (or deploy.resources.limits.cpus)",
                Env => "environment",
            },
            Self::Kubernetes => match s {
                Privileged => "securityContext.privileged",
                User => "securityContext.runAsUser",
                CapAdd => "securityContext.capabilities.add",
                NetworkNs => "hostNetwork",
                PidNs => "hostPID",
                IpcNs => "hostIPC",
                ReadOnlyRoot => "securityContext.readOnlyRootFilesystem",
                MaskedPaths | ReadonlyPaths => "securityContext.procMount",
                MemoryLimit => "resources.limits.memory",
                CpuLimit => "resources.limits.cpu",
                Env => "env",
            },
        }
    }
}

/// The settings whose name differs between sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Full host privileges.
    Privileged,
    /// The user the process runs as.
    User,
    /// Capabilities added.
    CapAdd,
    /// The network namespace.
    NetworkNs,
    /// The PID namespace.
    PidNs,
    /// The IPC namespace.
    IpcNs,
    /// A read-only root filesystem.
    ReadOnlyRoot,
    /// The masked paths of `/proc` and `/sys`.
    MaskedPaths,
    /// The paths mounted read-only.
    ReadonlyPaths,
    /// The memory limit.
    MemoryLimit,
    /// The CPU limit.
    CpuLimit,
    /// The environment variables.
    Env,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_name_in_every_source() {
        // `field` matches every setting for every source (the compiler
        // holds that); the names are what evidence quotes.
        assert_eq!(Source::Engine.field(Setting::PidNs), "HostConfig.PidMode");
        assert_eq!(Source::Kubernetes.field(Setting::PidNs), "hostPID");
        assert_eq!(
            Source::Kubernetes.field(Setting::Privileged),
            "securityContext.privileged"
        );
    }
}
