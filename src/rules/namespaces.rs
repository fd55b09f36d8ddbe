//! Namespaces shared with the host or with another container.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const NS_DOC: &str = "https://docs.docker.com/engine/containers/run/";

/// The `container.host-pid` rule: Shares the host's process namespace.
pub const HOST_PID: Rule = Rule {
    id: "container.host-pid",
    title: "Shares the host's process namespace",
    severity: Severity::High,
    family: Family::Namespaces,
    cis: Some("5.16"),
    seed: SeedRule::LeastPrivilege,
    why: "With --pid host the container sees every process on the host, their command lines and \
          environments, and can signal them.",
    attack: "Read secrets from other processes' /proc/<pid>/environ and cmdline, kill security \
             agents, or (with ptrace) inject into a host process to escape.",
    fix: Fix {
        summary: "Remove --pid host.",
        run: "remove --pid host",
        compose: "remove pid: host",
        kube: "hostPID: false",
    },
    references: &[CIS, NS_DOC],
    check: Check::Container(|ctx, c| super::Ns::Pid.host_hits(ctx, c)),
};

/// The `container.host-ipc` rule: Shares the host's IPC namespace.
pub const HOST_IPC: Rule = Rule {
    id: "container.host-ipc",
    title: "Shares the host's IPC namespace",
    severity: Severity::High,
    family: Family::Namespaces,
    cis: Some("5.17"),
    seed: SeedRule::LeastPrivilege,
    why: "With --ipc host the container shares System V IPC and POSIX shared memory with every \
          host process.",
    attack: "Read or tamper with shared-memory segments of host processes (databases, X servers), \
             leaking data or corrupting their state.",
    fix: Fix {
        summary: "Remove --ipc host.",
        run: "remove --ipc host",
        compose: "remove ipc: host",
        kube: "hostIPC: false",
    },
    references: &[CIS, NS_DOC],
    check: Check::Container(|ctx, c| super::Ns::Ipc.host_hits(ctx, c)),
};

/// The `container.host-uts` rule: Shares the host's UTS namespace.
pub const HOST_UTS: Rule = Rule {
    id: "container.host-uts",
    title: "Shares the host's UTS namespace",
    severity: Severity::Low,
    family: Family::Namespaces,
    cis: Some("5.21"),
    seed: SeedRule::LeastPrivilege,
    why: "With --uts host the container can change the host's hostname and NIS domain name.",
    attack: "Renaming the host confuses logging, monitoring and certificate-based identity, and \
             can break services that trust the hostname.",
    fix: Fix {
        summary: "Remove --uts host.",
        run: "remove --uts host",
        compose: "remove uts: host",
        kube: "",
    },
    references: &[CIS, NS_DOC],
    check: Check::Container(|_, c| {
        if c.uts_mode == "host" {
            vec![Hit::new("HostConfig.UTSMode is host")]
        } else {
            vec![]
        }
    }),
};

/// The `container.host-userns` rule: Opts out of user-namespace remapping.
pub const HOST_USERNS: Rule = Rule {
    id: "container.host-userns",
    title: "Opts out of user-namespace remapping",
    severity: Severity::Medium,
    family: Family::Namespaces,
    cis: Some("5.31"),
    seed: SeedRule::LeastPrivilege,
    why: "--userns host disables the daemon's user-namespace remapping for this container, so \
          root inside is real root on the host again.",
    attack: "Any escape from this container lands as uid 0 on the host instead of an unprivileged \
             remapped uid.",
    fix: Fix {
        summary: "Remove --userns host.",
        run: "remove --userns host",
        compose: "remove userns_mode: host",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/userns-remap/"],
    check: Check::Container(|ctx, c| {
        if c.userns_mode != "host" {
            vec![]
        } else if ctx.inventory.engine.security.userns {
            vec![Hit::new("HostConfig.UsernsMode is host")]
        } else {
            vec![Hit::graded(
                Severity::Low,
                "HostConfig.UsernsMode is host (no effect today: the engine does not remap user namespaces)",
            )]
        }
    }),
};

/// The `container.joins-namespace` rule: Joins another container's namespace.
pub const JOINS_NAMESPACE: Rule = Rule {
    id: "container.joins-namespace",
    title: "Joins another container's namespace",
    severity: Severity::Medium,
    family: Family::Namespaces,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "A container started with --network container:<id> or --pid container:<id> shares that \
          container's network stack or process table: the two are no longer isolated.",
    attack: "Compromising one of the pair gives the other's listening sockets, loopback services \
             and (with a shared PID namespace) its processes and their secrets: lateral movement \
             without crossing any network boundary.",
    fix: Fix {
        summary: "Give the container its own namespaces; talk to the other over a user-defined network.",
        run: "remove --network container:<id> / --pid container:<id>",
        compose: "remove network_mode: \"container:…\" / pid: \"container:…\"",
        kube: "",
    },
    references: &[NS_DOC],
    check: Check::Container(|_, c| {
        let mut hits = Vec::new();
        for (what, mode) in [
            ("NetworkMode", &c.network_mode),
            ("PidMode", &c.pid_mode),
            ("IpcMode", &c.ipc_mode),
        ] {
            if let Some(target) = mode.strip_prefix("container:") {
                hits.push(Hit::new(format!(
                    "HostConfig.{what} joins container {target}"
                )));
            }
        }
        hits
    }),
};

/// The `container.cgroupns-host` rule: Shares the host's cgroup namespace.
pub const CGROUPNS_HOST: Rule = Rule {
    id: "container.cgroupns-host",
    title: "Shares the host's cgroup namespace",
    severity: Severity::Low,
    family: Family::Namespaces,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "With --cgroupns host the container sees the host's whole cgroup tree in \
          /proc/self/cgroup and /sys/fs/cgroup: names and limits of every other container and \
          host service, and the paths a cgroup-based escape needs. Judged here on cgroup v2, \
          where private is the default and host is the container's own choice; on v1, host is \
          the engine's default for every container and is judged once, as \
          engine.cgroupns-host-default.",
    attack: "Map the host's services and containers from the cgroup tree; combined with a \
             writable cgroup mount (SYS_ADMIN), target the host's root cgroup.",
    fix: Fix {
        summary: "Use a private cgroup namespace (the default on cgroup v2).",
        run: "--cgroupns private",
        compose: "cgroup: private",
        kube: "",
    },
    references: &["https://docs.docker.com/reference/cli/docker/container/run/#cgroupns"],
    check: Check::Container(|ctx, c| {
        // On cgroup v1 `host` is the engine's default, not the container's
        // choice, and a private namespace hides little there.
        if c.cgroupns_mode == "host" && ctx.inventory.engine.cgroup_version != "1" {
            vec![Hit::new("HostConfig.CgroupnsMode is host")]
        } else {
            vec![]
        }
    }),
};

/// Kernel parameters that reach beyond the container's own namespaces
/// or loosen a protection.
fn sysctl_grade(key: &str) -> Severity {
    if key.starts_with("kernel.")
        || key == "net.ipv4.ip_unprivileged_port_start"
        || key.starts_with("net.ipv4.conf.all.")
        || key.ends_with(".route_localnet")
    {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The `container.sysctls` rule: Kernel parameters changed for the container.
pub const SYSCTLS: Rule = Rule {
    id: "container.sysctls",
    title: "Kernel parameters changed for the container",
    severity: Severity::Low,
    family: Family::Namespaces,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "--sysctl changes kernel parameters in the container's namespaces. Most net.* ones are \
          harmless, but some loosen a protection (route_localnet lets traffic reach services \
          bound to 127.0.0.1, ip_unprivileged_port_start lets any user bind low ports) and \
          kernel.* (IPC) ones change limits shared with whatever joins that namespace.",
    attack: "With route_localnet=1 a neighbour on the bridge reaches admin interfaces bound to \
             the container's loopback.",
    fix: Fix {
        summary: "Set only the parameters the workload needs, and prefer the engine's defaults.",
        run: "remove --sysctl <key>=<value>",
        compose: "remove the key from sysctls:",
        kube: "securityContext:  # pod level\n  sysctls: []  # keep only the safe set",
    },
    references: &[
        "https://docs.docker.com/reference/cli/docker/container/run/#sysctl",
        "https://www.kernel.org/doc/Documentation/networking/ip-sysctl.txt",
    ],
    check: Check::Container(|_, c| {
        c.sysctls
            .iter()
            .map(|(k, v)| Hit::graded(sysctl_grade(k), format!("HostConfig.Sysctls sets {k}={v}")))
            .collect()
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn host_namespaces() {
        let mut c = hardened();
        c.pid_mode = "host".into();
        c.ipc_mode = "host".into();
        c.uts_mode = "host".into();
        c.userns_mode = "host".into();
        for rule in [&HOST_PID, &HOST_IPC, &HOST_UTS, &HOST_USERNS] {
            assert_eq!(run_container(rule, &c).len(), 1, "{}", rule.id);
        }
        c.ipc_mode = "shareable".into();
        assert!(run_container(&HOST_IPC, &c).is_empty());
    }

    #[test]
    fn joined_namespaces() {
        let mut c = hardened();
        c.network_mode = "container:abc123".into();
        c.pid_mode = "container:abc123".into();
        let hits = run_container(&JOINS_NAMESPACE, &c);
        assert_eq!(hits.len(), 2);
        assert!(
            hits[0]
                .evidence
                .contains("NetworkMode joins container abc123")
        );
    }

    #[test]
    fn cgroupns_sysctls_and_userns_opt_out() {
        let mut c = hardened();
        assert!(run_container(&CGROUPNS_HOST, &c).is_empty());
        c.cgroupns_mode = "host".into();
        assert_eq!(run_container(&CGROUPNS_HOST, &c).len(), 1);
        c.cgroupns_mode = "private".into();
        assert!(run_container(&CGROUPNS_HOST, &c).is_empty());

        c.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
        c.sysctls
            .insert("net.ipv4.conf.eth0.route_localnet".into(), "1".into());
        c.sysctls.insert("kernel.shmmax".into(), "1".into());
        let sev: Vec<_> = run_container(&SYSCTLS, &c)
            .into_iter()
            .map(|h| h.severity)
            .collect();
        assert_eq!(
            sev,
            vec![
                Some(Severity::Medium),
                Some(Severity::Medium),
                Some(Severity::Low)
            ]
        );

        c.userns_mode = "host".into();
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.userns = false;
        let p = crate::model::policy::Policy::default();
        let h = run_container_in(&HOST_USERNS, &c, &inv, &p);
        assert_eq!(
            h[0].severity,
            Some(Severity::Low),
            "no remapping: no effect today"
        );
        inv.engine.security.userns = true;
        let h = run_container_in(
            &HOST_USERNS,
            &c,
            &inv,
            &crate::model::policy::Policy::default(),
        );
        assert_eq!(h[0].severity, None);
    }
}
