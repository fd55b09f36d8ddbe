//! Daemon-level checks from `/info`, `/version` and the default bridge.
//! Each fires at most once per engine, never per container.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::{EngineInfo, EngineProduct, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const DAEMON_DOC: &str = "https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file";

fn once(cond: bool, evidence: impl FnOnce() -> String) -> Vec<Hit> {
    if cond {
        vec![Hit::new(evidence())]
    } else {
        vec![]
    }
}

/// The `engine.not-rootless` rule: Engine runs as root.
pub const NOT_ROOTLESS: Rule = Rule {
    id: "engine.not-rootless",
    title: "Engine runs as root",
    severity: Severity::Medium,
    family: Family::Engine,
    cis: Some("2.1"),
    seed: SeedRule::LeastPrivilege,
    why: "A rootful daemon means every container escape, and every user who can reach the API, \
          ends up as root on the host. Rootless mode runs the daemon and containers as an \
          ordinary user.",
    attack: "Membership of the docker group is equivalent to root: `docker run -v /:/host` from \
             any account that can reach the socket owns the machine.",
    fix: Fix {
        summary: "Run Docker in rootless mode (dockerd-rootless-setuptool.sh install) or use rootless Podman.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/rootless/"],
    check: Check::Engine(|_, e| {
        once(!e.security.rootless, || {
            "SecurityOptions has no name=rootless".into()
        })
    }),
};

/// The `engine.icc` rule: Inter-container traffic allowed on the default bridge.
pub const ICC: Rule = Rule {
    id: "engine.icc",
    title: "Inter-container traffic allowed on the default bridge",
    severity: Severity::Medium,
    family: Family::Engine,
    cis: Some("2.2"),
    seed: SeedRule::NetworkIsolation,
    why: "With icc on, every container on the default bridge can open connections to every other \
          one, on every port.",
    attack: "From one compromised container the attacker scans and attacks all others on docker0: \
             databases, caches, admin ports that were never published.",
    fix: Fix {
        summary: "Set \"icc\": false in daemon.json and use user-defined networks for containers that must talk.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, DAEMON_DOC],
    check: Check::Engine(|_, e| match &e.default_bridge {
        Some(b) if b.icc != Some(false) => vec![Hit::new(format!(
            "network {} has com.docker.network.bridge.enable_icc={}",
            b.name,
            b.icc.map_or("unset (true)".to_string(), |v| v.to_string())
        ))],
        _ => vec![],
    }),
};

/// The `engine.insecure-registry` rule: Insecure registries configured.
pub const INSECURE_REGISTRY: Rule = Rule {
    id: "engine.insecure-registry",
    title: "Insecure registries configured",
    severity: Severity::High,
    family: Family::Engine,
    cis: Some("2.5"),
    seed: SeedRule::Integrity,
    why: "An insecure registry is reached over plain HTTP or with unverified TLS: images pulled \
          from it can be swapped in transit.",
    attack: "Anyone on the network path (same Wi-Fi, a compromised router) serves a modified \
             image that the engine accepts and runs.",
    fix: Fix {
        summary: "Remove insecure-registries from daemon.json; give the registry a valid TLS certificate.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/reference/cli/dockerd/#insecure-registries",
    ],
    check: Check::Engine(|_, e| {
        let mut list: Vec<&str> = e
            .insecure_registry_cidrs
            .iter()
            .chain(e.insecure_registries.iter())
            .map(String::as_str)
            .filter(|r| !crate::model::is_loopback_host(r))
            .collect();
        list.sort_unstable();
        list.dedup();
        once(!list.is_empty(), || {
            format!("insecure registries: {}", list.join(", "))
        })
    }),
};

/// The `engine.tcp-without-tls` rule: Engine API reachable over TCP without TLS.
pub const TCP_WITHOUT_TLS: Rule = Rule {
    id: "engine.tcp-without-tls",
    title: "Engine API reachable over TCP without TLS",
    severity: Severity::Critical,
    family: Family::Engine,
    cis: Some("2.7"),
    seed: SeedRule::AuditAdminAccess,
    why: "The engine API has no authentication of its own; on plain TCP anyone who can reach the \
          port is an administrator of the engine, and so root on the host.",
    attack: "Internet-wide scans for port 2375 find such engines within minutes and start \
             privileged containers running miners with the host's disk mounted.",
    fix: Fix {
        summary: "Listen on the unix socket only, or require mutual TLS (tlsverify with CA, cert and key).",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/security/protect-access/",
    ],
    check: Check::Engine(|_, e| {
        let mut hits: Vec<Hit> = e
            .warnings
            .iter()
            .filter(|w| w.contains("without encryption") || w.contains("unencrypted"))
            .map(|w| Hit::new(format!("engine warning: {}", w.trim())))
            .collect();
        if hits.is_empty() && e.plaintext_tcp {
            hits.push(Hit::new(format!(
                "shipshape reached the engine at {} without TLS",
                e.endpoint
            )));
        }
        hits.truncate(1);
        hits
    }),
};

/// The `engine.no-userns` rule: No user-namespace remapping.
pub const NO_USERNS: Rule = Rule {
    id: "engine.no-userns",
    title: "No user-namespace remapping",
    severity: Severity::Medium,
    family: Family::Engine,
    cis: Some("2.9"),
    seed: SeedRule::LeastPrivilege,
    why: "Without userns-remap, uid 0 in a container is uid 0 on the host; with it, container \
          root maps to an unprivileged host uid.",
    attack: "Any container escape lands as real root on the host.",
    fix: Fix {
        summary: "Enable \"userns-remap\": \"default\" in daemon.json (or run rootless).",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/userns-remap/"],
    check: Check::Engine(|_, e| {
        once(!e.security.userns && !e.security.rootless, || {
            "SecurityOptions has no name=userns".into()
        })
    }),
};

/// The `engine.cgroupns-host-default` rule: Containers share the host's
/// cgroup namespace by default (cgroup v1).
pub const CGROUPNS_HOST_DEFAULT: Rule = Rule {
    id: "engine.cgroupns-host-default",
    title: "Containers share the host's cgroup namespace by default",
    severity: Severity::Low,
    family: Family::Engine,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "On a cgroup v1 host the engine puts every container in the host's cgroup namespace \
          unless it is told otherwise: each container sees the host's whole cgroup tree in \
          /proc/self/cgroup — its own full id, the names and limits of every other container \
          and host service — and the host's hierarchy paths that the cgroup v1 release_agent \
          escape needs. It is the engine's default, not each container's choice, so it is \
          judged once here (on cgroup v2 the default is private, and a container that asks for \
          the host's namespace is judged by container.cgroupns-host).",
    attack: "From inside any container, read /proc/self/cgroup and /sys/fs/cgroup to map the \
             host's services and neighbours; in a container that also holds SYS_ADMIN, mount a \
             v1 hierarchy and aim at the host's root cgroup (CVE-2022-0492).",
    fix: Fix {
        summary: "Set \"default-cgroupns-mode\": \"private\" in daemon.json and restart the \
                  engine (new containers get a private cgroup namespace), or move the host to \
                  cgroup v2; for one container, --cgroupns private.",
        run: "--cgroupns private",
        compose: "cgroup: private",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file",
        "https://docs.docker.com/reference/cli/docker/container/run/#cgroupns",
    ],
    check: Check::Engine(|ctx, e| {
        if e.cgroup_version != "1" {
            return vec![];
        }
        let shared = ctx
            .inventory
            .containers
            .iter()
            .filter(|c| c.cgroupns_mode == "host")
            .count();
        once(shared > 0, || {
            format!(
                "CgroupVersion is 1 and {shared} of {} containers have HostConfig.CgroupnsMode \
                 host",
                ctx.inventory.containers.len()
            )
        })
    }),
};

/// The `engine.no-authz-plugin` rule: No authorization plugin.
pub const NO_AUTHZ_PLUGIN: Rule = Rule {
    id: "engine.no-authz-plugin",
    title: "No authorization plugin",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("2.12"),
    seed: SeedRule::AuditAdminAccess,
    why: "Without an authorization plugin, every client that reaches the API may do everything, \
          and no per-request decision or record of administrative access exists.",
    attack: "A leaked client certificate or socket access gives full control, with nothing \
             restricting or recording what is done with it.",
    fix: Fix {
        summary: "Configure an authorization plugin (\"authorization-plugins\" in daemon.json), e.g. an OPA-based one.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/extend/plugins_authorization/",
    ],
    check: Check::Engine(|_, e| {
        once(
            e.product == EngineProduct::Docker && e.authorization_plugins.is_empty(),
            || "Plugins.Authorization is empty".into(),
        )
    }),
};

/// The `engine.local-logging` rule: Container logs stay on this machine only.
pub const LOCAL_LOGGING: Rule = Rule {
    id: "engine.local-logging",
    title: "Container logs stay on this machine only",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("2.13"),
    seed: SeedRule::MonitorActivity,
    why: "With a local logging driver, logs live next to the containers they describe: whoever \
          compromises the host can edit or delete them, and nobody sees them centrally.",
    attack: "After a break-in the attacker truncates the json-file logs; the evidence is gone.",
    fix: Fix {
        summary: "Ship logs off the host (syslog, journald forwarding, fluentd, gelf…).",
        run: "--log-driver syslog --log-opt syslog-address=…",
        compose: "logging: { driver: syslog }",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/logging/configure/"],
    check: Check::Engine(|_, e| {
        let local = matches!(
            e.logging_driver.as_str(),
            "json-file" | "local" | "none" | "k8s-file" | ""
        );
        once(local && !e.logging_driver.is_empty(), || {
            format!("LoggingDriver is {}", e.logging_driver)
        })
    }),
};

/// The `engine.no-daemon-no-new-privileges` rule: no-new-privileges not set daemon-wide.
pub const NO_DAEMON_NNP: Rule = Rule {
    id: "engine.no-daemon-no-new-privileges",
    title: "no-new-privileges not set daemon-wide",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("2.14"),
    seed: SeedRule::LeastPrivilege,
    why: "Setting no-new-privileges in daemon.json protects every container by default instead \
          of relying on each one to ask for it.",
    attack: "Any container started without the flag lets setuid binaries raise privileges.",
    fix: Fix {
        summary: "Set \"no-new-privileges\": true in daemon.json.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, DAEMON_DOC],
    check: Check::Engine(|_, e| {
        once(!e.security.no_new_privileges, || {
            "SecurityOptions has no name=no-new-privileges".into()
        })
    }),
};

/// The `engine.no-live-restore` rule: Live restore disabled.
pub const NO_LIVE_RESTORE: Rule = Rule {
    id: "engine.no-live-restore",
    title: "Live restore disabled",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("2.15"),
    seed: SeedRule::VulnerabilityManagement,
    why: "Without live restore, restarting the daemon (for example to patch it) stops every \
          container, which makes people postpone engine updates.",
    attack: "Engines stay unpatched longer because updating them means downtime.",
    fix: Fix {
        summary: "Set \"live-restore\": true in daemon.json.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/daemon/live-restore/"],
    check: Check::Engine(|_, e| {
        once(
            e.product == EngineProduct::Docker && !e.live_restore,
            || "LiveRestoreEnabled is false".into(),
        )
    }),
};

/// The `engine.experimental` rule: Experimental features enabled.
pub const EXPERIMENTAL: Rule = Rule {
    id: "engine.experimental",
    title: "Experimental features enabled",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("2.18"),
    seed: SeedRule::Integrity,
    why: "Experimental features are not covered by the same stability and security review as the \
          rest of the engine.",
    attack: "Bugs in unreviewed code paths are an easier route to the daemon.",
    fix: Fix {
        summary: "Remove \"experimental\": true from daemon.json.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS],
    check: Check::Engine(|_, e| once(e.experimental, || "ExperimentalBuild is true".into())),
};

/// `20.10.24+dfsg1` → (20, 10).
pub fn major_minor(v: &str) -> Option<(u32, u32)> {
    let v = v.trim_start_matches('v');
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn old_version(ctx: &Ctx, e: &EngineInfo) -> Vec<Hit> {
    let min = match e.product {
        EngineProduct::Docker => &ctx.policy.min_docker_version,
        EngineProduct::Podman => &ctx.policy.min_podman_version,
        // A cluster's version is not an engine's (engine rules do not run
        // on clusters).
        EngineProduct::Kubernetes => return vec![],
    };
    match (major_minor(&e.version), major_minor(min)) {
        (Some(have), Some(want)) if have < want => vec![Hit::new(format!(
            "{} {} is older than {min}, the oldest version the policy accepts",
            e.product.as_str(),
            e.version
        ))],
        _ => vec![],
    }
}

/// The `engine.old-version` rule: Engine version is out of date.
pub const OLD_VERSION: Rule = Rule {
    id: "engine.old-version",
    title: "Engine version is out of date",
    severity: Severity::Medium,
    family: Family::Engine,
    cis: Some("1.2.2"),
    seed: SeedRule::VulnerabilityManagement,
    why: "Old engine releases no longer get security fixes; several container-escape CVEs (runc, \
          BuildKit, the daemon itself) are fixed only in current versions.",
    attack: "Known escapes such as CVE-2024-21626 (runc) work against engines that were never \
             updated.",
    fix: Fix {
        summary: "Update the engine to a supported release (the minimum is set by the policy's [engine] section).",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/release-notes/"],
    check: Check::Engine(old_version),
};

/// The `engine.no-content-trust` rule: Content trust not enabled for this client.
pub const NO_CONTENT_TRUST: Rule = Rule {
    id: "engine.no-content-trust",
    title: "Content trust not enabled for this client",
    severity: Severity::Low,
    family: Family::Engine,
    cis: Some("4.5"),
    seed: SeedRule::Integrity,
    why: "With DOCKER_CONTENT_TRUST=1 the docker CLI pulls and runs only signed images; without \
          it any image with the right name is accepted.",
    attack: "A tampered image pushed under a trusted name is pulled and run without complaint.",
    fix: Fix {
        summary: "export DOCKER_CONTENT_TRUST=1 in the shell profile of people and CI jobs that pull images (or verify signatures with cosign).",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/trust/"],
    check: Check::Engine(|_, e| {
        once(!e.client_content_trust, || {
            "DOCKER_CONTENT_TRUST is not 1 in this environment".into()
        })
    }),
};

/// The `engine.swarm` rule: Swarm mode is on.
pub const SWARM: Rule = Rule {
    id: "engine.swarm",
    title: "Swarm mode is on",
    severity: Severity::Info,
    family: Family::Engine,
    cis: Some("5.1"),
    seed: SeedRule::NetworkIsolation,
    why: "Swarm mode opens cluster management ports (2377, 7946, 4789) and accepts work from the \
          swarm's managers; on a workstation that is rarely intended.",
    attack: "An exposed or joined swarm lets another manager schedule containers onto this machine.",
    fix: Fix {
        summary: "Leave the swarm if it is not needed: docker swarm leave.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/swarm/"],
    check: Check::Engine(|_, e| {
        once(
            matches!(e.swarm_state.as_str(), "active" | "pending" | "locked"),
            || format!("Swarm.LocalNodeState is {}", e.swarm_state),
        )
    }),
};

/// The `engine.no-mac` rule: No AppArmor or SELinux on the host.
pub const NO_MAC: Rule = Rule {
    id: "engine.no-mac",
    title: "No AppArmor or SELinux on the host",
    severity: Severity::Medium,
    family: Family::Engine,
    cis: Some("5.2"),
    seed: SeedRule::LeastPrivilege,
    why: "Mandatory access control is the layer that still confines a process after it escapes \
          its namespaces. This engine reports neither AppArmor nor SELinux, so no container has \
          it — said once here instead of on every container.",
    attack: "A container escape is limited only by capabilities and seccomp, not by a MAC policy.",
    fix: Fix {
        summary: "Enable AppArmor (Debian/Ubuntu) or SELinux (Fedora/RHEL) on the host and restart the engine.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/apparmor/"],
    check: Check::Engine(|_, e| {
        once(
            !e.security.apparmor && !e.security.selinux && e.os_type != "windows",
            || "SecurityOptions lists neither apparmor nor selinux".into(),
        )
    }),
};

/// How much one of the engine's own warnings matters, by what it says.
pub fn warning_grade(w: &str) -> Severity {
    let l = w.to_ascii_lowercase();
    if l.contains("without encryption") || l.contains("is insecure") && l.contains("api") {
        // The daemon itself says its API listens unprotected.
        Severity::Critical
    } else if l.contains("bridge-nf-call")
        || l.starts_with("warning: no ")
            && [
                "memory limit",
                "pids limit",
                "cpu cfs",
                "oom kill",
                "swap limit",
            ]
            .iter()
            .any(|k| l.contains(k))
    {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// The `engine.warnings` rule: The engine warns about its own configuration.
pub const WARNINGS: Rule = Rule {
    id: "engine.warnings",
    title: "The engine warns about its own configuration",
    severity: Severity::Low,
    family: Family::Engine,
    cis: None,
    seed: SeedRule::AuditAdminAccess,
    why: "The daemon lists what it found wrong at start (`docker info` warnings): an API \
          listening without TLS, kernel features it cannot use, so that limits set on \
          containers are silently not enforced, or bridge traffic bypassing the firewall. \
          Graded by the warning: an unencrypted API is critical, missing memory, PID or CPU \
          limit support and bridge-nf-call medium, others low.",
    attack: "With bridge-nf-call disabled, containers on one bridge reach each other past every \
             iptables rule; without memory limit support, a container's --memory does nothing.",
    fix: Fix {
        summary: "Fix what the warning names: TLS on the API, the missing kernel feature (cgroup options, br_netfilter module), then restart the engine.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/engine/install/linux-postinstall/#your-kernel-does-not-support-cgroup-swap-limit-capabilities",
        DAEMON_DOC,
    ],
    check: Check::Engine(|_, e| {
        e.warnings
            .iter()
            .map(|w| {
                let w = crate::model::text::visible(w.trim());
                Hit::graded(
                    warning_grade(&w),
                    w.trim_start_matches("WARNING: ").to_string(),
                )
            })
            .collect()
    }),
};

/// The `engine.debug` rule: Engine runs in debug mode.
pub const DEBUG: Rule = Rule {
    id: "engine.debug",
    title: "Engine runs in debug mode",
    severity: Severity::Low,
    family: Family::Engine,
    cis: None,
    seed: SeedRule::AuditAdminAccess,
    why: "Debug mode logs every API request in detail, with request bodies: environment \
          values and other secrets passed to `docker run` end up in the daemon's log.",
    attack: "Read the engine's log (journal, /var/log) and collect the secrets other users \
             passed to their containers.",
    fix: Fix {
        summary: "Turn debug off in daemon.json outside of troubleshooting.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[DAEMON_DOC],
    check: Check::Engine(|_, e| once(e.debug, || "Debug is true".into())),
};

/// The `engine.seccomp-unconfined` rule: Seccomp turned off for every container.
pub const SECCOMP_OFF: Rule = Rule {
    id: "engine.seccomp-unconfined",
    title: "Seccomp turned off for every container",
    severity: Severity::High,
    family: Family::Engine,
    cis: Some("5.22"),
    seed: SeedRule::LeastPrivilege,
    why: "The daemon's default seccomp profile is `unconfined`: no container gets the system \
          call filter, so every kernel bug reachable through a rare system call is reachable \
          from every container.",
    attack: "Use keyctl, userfaultfd or another filtered-by-default system call to exploit a \
             kernel bug from any container.",
    fix: Fix {
        summary: "Remove \"seccomp-profile\": \"unconfined\" from daemon.json (or point it at a real profile).",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[CIS, "https://docs.docker.com/engine/security/seccomp/"],
    check: Check::Engine(|_, e| {
        once(e.security.seccomp.as_deref() == Some("unconfined"), || {
            "SecurityOptions has name=seccomp,profile=unconfined".into()
        })
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{BridgeNetwork, SecurityOptions};

    /// What the Debian 12 engine of the test machines reports.
    fn debian_engine() -> EngineInfo {
        EngineInfo {
            version: "20.10.24+dfsg1".into(),
            security: SecurityOptions::parse(&["name=seccomp,profile=default"]),
            logging_driver: "json-file".into(),
            swarm_state: "inactive".into(),
            insecure_registry_cidrs: vec!["127.0.0.0/8".into()],
            default_bridge: Some(BridgeNetwork {
                name: "bridge".into(),
                icc: Some(true),
            }),
            ..EngineInfo::default()
        }
    }

    #[test]
    fn a_cgroup_v1_engine_shares_its_cgroup_namespace_once_not_per_container() {
        let mut inv = inventory_with(vec![hardened(), hardened()], vec![]);
        inv.engine.cgroup_version = "1".into();
        inv.containers[0].cgroupns_mode = "host".into();
        inv.containers[1].cgroupns_mode = "private".into();
        let hits = run_engine_in(&CGROUPNS_HOST_DEFAULT, &inv)
            .iter()
            .map(|h| h.evidence.clone())
            .collect::<Vec<_>>();
        assert_eq!(
            hits,
            ["CgroupVersion is 1 and 1 of 2 containers have HostConfig.CgroupnsMode host"]
        );
        inv.containers[0].cgroupns_mode = "private".into();
        assert!(
            run_engine_in(&CGROUPNS_HOST_DEFAULT, &inv)
                .iter()
                .map(|h| h.evidence.clone())
                .collect::<Vec<_>>()
                .is_empty()
        );
        inv.containers[0].cgroupns_mode = "host".into();
        inv.engine.cgroup_version = "2".into();
        assert!(
            run_engine_in(&CGROUPNS_HOST_DEFAULT, &inv)
                .iter()
                .map(|h| h.evidence.clone())
                .collect::<Vec<_>>()
                .is_empty(),
            "on v2 a host cgroup namespace is the container's choice: container.cgroupns-host"
        );
    }

    #[test]
    fn a_default_engine_fires_the_expected_set() {
        let e = debian_engine();
        let fired: Vec<&str> = crate::rules::ALL
            .iter()
            .filter(|r| matches!(r.check, Check::Engine(_)))
            .filter(|r| !run_engine(r, &e).is_empty())
            .map(|r| r.id)
            .collect();
        assert_eq!(
            fired,
            vec![
                "engine.not-rootless",
                "engine.icc",
                "engine.no-userns",
                "engine.no-authz-plugin",
                "engine.local-logging",
                "engine.no-daemon-no-new-privileges",
                "engine.no-live-restore",
                "engine.old-version",
                "engine.no-content-trust",
                "engine.no-mac",
            ]
        );
    }

    #[test]
    fn insecure_registries_beyond_loopback() {
        let mut e = hardened_engine();
        e.insecure_registry_cidrs = vec!["127.0.0.0/8".into(), "::1/128".into()];
        e.insecure_registries = vec!["localhost:5000".into()];
        assert!(run_engine(&INSECURE_REGISTRY, &e).is_empty());
        e.insecure_registries.push("registry.lan:5000".into());
        e.insecure_registry_cidrs.push("10.0.0.0/8".into());
        assert_eq!(
            run_engine(&INSECURE_REGISTRY, &e)[0].evidence,
            "insecure registries: 10.0.0.0/8, registry.lan:5000"
        );
    }

    #[test]
    fn tcp_without_tls() {
        let mut e = hardened_engine();
        e.warnings =
            vec!["WARNING: API is accessible on http://0.0.0.0:2375 without encryption.".into()];
        assert_eq!(run_engine(&TCP_WITHOUT_TLS, &e).len(), 1);
        e.warnings.clear();
        e.plaintext_tcp = true;
        e.endpoint = "tcp://10.0.0.5:2375".into();
        assert!(
            run_engine(&TCP_WITHOUT_TLS, &e)[0]
                .evidence
                .contains("10.0.0.5")
        );
    }

    #[test]
    fn versions() {
        assert_eq!(major_minor("20.10.24+dfsg1"), Some((20, 10)));
        assert_eq!(major_minor("v28.1"), Some((28, 1)));
        assert_eq!(major_minor("5"), Some((5, 0)));
        assert_eq!(major_minor("dev"), None);
        let mut e = hardened_engine();
        e.product = EngineProduct::Podman;
        e.version = "4.9.3".into();
        assert_eq!(run_engine(&OLD_VERSION, &e).len(), 1);
        e.version = "5.2.0".into();
        assert!(run_engine(&OLD_VERSION, &e).is_empty());
    }

    #[test]
    fn swarm_and_experimental() {
        let mut e = hardened_engine();
        e.swarm_state = "active".into();
        e.experimental = true;
        assert_eq!(run_engine(&SWARM, &e).len(), 1);
        assert_eq!(run_engine(&EXPERIMENTAL, &e).len(), 1);
    }

    #[test]
    fn warnings_graded_debug_and_seccomp() {
        let mut e = debian_engine();
        assert!(run_engine(&WARNINGS, &e).is_empty());
        e.warnings = vec![
            "WARNING: API is accessible on http://0.0.0.0:2375 without encryption.".into(),
            "WARNING: bridge-nf-call-iptables is disabled".into(),
            "WARNING: No swap limit support".into(),
            "WARNING: No blkio throttle.read_bps_device support".into(),
        ];
        let h = run_engine(&WARNINGS, &e);
        let got: Vec<_> = h.iter().map(|h| h.severity).collect();
        assert_eq!(
            got,
            vec![
                Some(Severity::Critical),
                Some(Severity::Medium),
                Some(Severity::Medium),
                Some(Severity::Low)
            ]
        );
        assert_eq!(h[1].evidence, "bridge-nf-call-iptables is disabled");

        assert!(run_engine(&DEBUG, &e).is_empty());
        e.debug = true;
        assert_eq!(run_engine(&DEBUG, &e).len(), 1);

        assert!(run_engine(&SECCOMP_OFF, &e).is_empty());
        e.security = SecurityOptions::parse(&["name=seccomp,profile=unconfined"]);
        assert_eq!(run_engine(&SECCOMP_OFF, &e).len(), 1);
    }
}
