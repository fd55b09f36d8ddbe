//! Namespaces shared with the host or with another container.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const NS_DOC: &str = "https://docs.docker.com/engine/containers/run/";

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
    },
    references: &[CIS, NS_DOC],
    check: Check::Container(|_, c| {
        if c.pid_mode == "host" {
            vec![Hit::new("HostConfig.PidMode is host")]
        } else {
            vec![]
        }
    }),
};

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
    },
    references: &[CIS, NS_DOC],
    check: Check::Container(|_, c| {
        if c.ipc_mode == "host" {
            vec![Hit::new("HostConfig.IpcMode is host")]
        } else {
            vec![]
        }
    }),
};

pub const HOST_UTS: Rule = Rule {
    id: "container.host-uts",
    title: "Shares the host's UTS namespace",
    severity: Severity::Medium,
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
    },
    references: &[CIS, "https://docs.docker.com/engine/security/userns-remap/"],
    check: Check::Container(|_, c| {
        if c.userns_mode == "host" {
            vec![Hit::new("HostConfig.UsernsMode is host")]
        } else {
            vec![]
        }
    }),
};

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
}
