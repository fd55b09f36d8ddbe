//! Network isolation: host networking, published ports and bind addresses,
//! the default bridge.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{Container, PortBinding, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

fn published(c: &Container) -> impl Iterator<Item = &PortBinding> {
    c.ports.iter().filter(|p| p.host_port.is_some())
}

/// The container whose network namespace this one uses, when it joins
/// another's (`--network container:x`): its published ports are this
/// container's way in too.
fn network_owner<'a>(ctx: &super::Ctx<'a>, c: &'a Container) -> Option<&'a Container> {
    let j = super::joined(ctx, c, super::Ns::Network);
    j.via.last().copied().filter(|_| j.mode != "host")
}

/// Dedupe the IPv4 and IPv6 records of the same published port.
fn distinct<'a>(ports: impl Iterator<Item = &'a PortBinding>) -> Vec<&'a PortBinding> {
    let mut out: Vec<&PortBinding> = Vec::new();
    for p in ports {
        if !out.iter().any(|q| {
            q.host_port == p.host_port
                && q.protocol == p.protocol
                && q.container_port == p.container_port
                && q.binds_all_interfaces() == p.binds_all_interfaces()
        }) {
            out.push(p);
        }
    }
    out
}

/// The `container.host-network` rule: Uses the host's network namespace.
pub const HOST_NETWORK: Rule = Rule {
    id: "container.host-network",
    title: "Uses the host's network namespace",
    severity: Severity::High,
    family: Family::Network,
    cis: Some("5.10"),
    seed: SeedRule::NetworkIsolation,
    why: "With --network host the container uses the host's interfaces directly: no network \
          isolation, every host port reachable, loopback services of the host included.",
    attack: "Reach services the host binds to 127.0.0.1 only (databases, admin panels, the \
             cloud metadata endpoint), sniff host traffic with NET_RAW, or listen on any host port.",
    fix: Fix {
        summary: "Use a user-defined bridge network and publish only the ports needed.",
        run: "--network <app-net> -p 127.0.0.1:8080:8080",
        compose: "networks: [app-net]  (remove network_mode: host)",
        kube: "hostNetwork: false",
    },
    references: &[CIS, "https://docs.docker.com/engine/network/drivers/host/"],
    check: Check::Container(|ctx, c| super::Ns::Network.host_hits(ctx, c)),
};

/// The `container.privileged-port` rule: Host port below 1024 published.
pub const PRIVILEGED_PORT: Rule = Rule {
    id: "container.privileged-port",
    title: "Host port below 1024 published",
    severity: Severity::Low,
    family: Family::Network,
    cis: Some("5.8"),
    seed: SeedRule::NetworkIsolation,
    why: "Ports below 1024 are the well-known ports of system services (22, 25, 80, 443 …). A \
          container holding one can impersonate a host service.",
    attack: "A compromised container bound to a well-known port receives traffic meant for the \
             host's real service: credential capture, phishing of internal users.",
    fix: Fix {
        summary: "Publish on a high host port and put a reverse proxy in front if a low port is needed.",
        run: "-p 8080:80 (instead of -p 80:80)",
        compose: "ports: [\"8080:80\"]",
        kube: "",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        distinct(published(c).filter(|p| p.host_port.is_some_and(|hp| hp > 0 && hp < 1024)))
            .into_iter()
            .map(|p| Hit::new(format!("publishes {}", p.describe())))
            .collect()
    }),
};

/// The `container.published-ports` rule: Ports published on the host.
pub const PUBLISHED_PORTS: Rule = Rule {
    id: "container.published-ports",
    title: "Ports published on the host",
    severity: Severity::Info,
    family: Family::Network,
    cis: Some("5.9"),
    seed: SeedRule::NetworkIsolation,
    why: "Every published port is a way in from outside the container. Knowing the list is the \
          start of reviewing whether each one is needed.",
    attack: "Attackers scan for published ports and probe whatever answers: debug endpoints, \
             admin consoles and databases published by accident.",
    fix: Fix {
        summary: "Publish only the ports clients need; use container-to-container networks for the rest.",
        run: "remove unneeded -p / -P flags",
        compose: "trim ports:",
        kube: "ports:\n- containerPort: 8080  # no hostPort; expose it with a Service",
    },
    references: &[CIS],
    check: Check::Container(|ctx, c| {
        let list = |c: &Container| -> Vec<String> {
            distinct(published(c))
                .into_iter()
                .map(PortBinding::describe)
                .collect()
        };
        let mut hits = Vec::new();
        if c.source == crate::model::Source::Kubernetes {
            // A hostPort opens the port on whichever node runs the pod,
            // around the Services that are the cluster's way in: graded
            // above the plain list.
            let own: Vec<String> = distinct(published(c))
                .into_iter()
                .map(|p| {
                    let ip = if p.host_ip.is_empty() {
                        "every address"
                    } else {
                        &p.host_ip
                    };
                    format!(
                        "hostPort {} → {}/{} on {ip} of its node",
                        p.host_port.unwrap_or(0),
                        p.container_port,
                        p.protocol.to_ascii_uppercase()
                    )
                })
                .collect();
            if !own.is_empty() {
                hits.push(Hit::graded(Severity::Low, own.join(", ")));
            }
            return hits;
        }
        let own = list(c);
        if !own.is_empty() {
            hits.push(Hit::new(format!("publishes {}", own.join(", "))));
        }
        if let Some(owner) = network_owner(ctx, c) {
            let theirs = list(owner);
            if !theirs.is_empty() {
                hits.push(Hit::new(format!(
                    "shares the network namespace of container {}, which publishes {}",
                    owner.name,
                    theirs.join(", ")
                )));
            }
        }
        hits
    }),
};

/// The `container.port-all-interfaces` rule: Port published on all host interfaces.
pub const ALL_INTERFACES: Rule = Rule {
    id: "container.port-all-interfaces",
    title: "Port published on all host interfaces",
    severity: Severity::Medium,
    family: Family::Network,
    cis: Some("5.14"),
    seed: SeedRule::NetworkIsolation,
    why: "A port published without a host IP listens on every interface (0.0.0.0 and ::), \
          including public Wi-Fi and VPN interfaces, and Docker's iptables rules bypass the \
          host firewall.",
    attack: "Anyone on the same network reaches the service directly — a development database on \
             a laptop at a café, for example.",
    fix: Fix {
        summary: "Bind the published port to loopback (or a specific interface).",
        run: "-p 127.0.0.1:8080:8080",
        compose: "ports: [\"127.0.0.1:8080:8080\"]",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/network/packet-filtering-firewalls/",
    ],
    check: Check::Container(|ctx, c| {
        let mut hits: Vec<Hit> = distinct(published(c).filter(|p| p.binds_all_interfaces()))
            .into_iter()
            .map(|p| Hit::new(format!("publishes {} on every interface", p.describe())))
            .collect();
        // What a container joins, it inherits: the owner's ports reach it.
        if let Some(owner) = network_owner(ctx, c) {
            hits.extend(
                distinct(published(owner).filter(|p| p.binds_all_interfaces()))
                    .into_iter()
                    .map(|p| {
                        Hit::new(format!(
                            "shares the network namespace of container {}, which publishes {} on every interface",
                            owner.name,
                            p.describe()
                        ))
                    }),
            );
        }
        hits
    }),
};

/// The `container.default-bridge` rule: Attached to the default bridge network.
pub const DEFAULT_BRIDGE: Rule = Rule {
    id: "container.default-bridge",
    title: "Attached to the default bridge network",
    severity: Severity::Low,
    family: Family::Network,
    cis: Some("5.30"),
    seed: SeedRule::NetworkIsolation,
    why: "On the default bridge every container can reach every other one (inter-container \
          communication is on by default) and there is no name-based service isolation.",
    attack: "One compromised container on docker0 scans and attacks all its neighbours' ports — \
             lateral movement with no network boundary.",
    fix: Fix {
        summary: "Put each application on its own user-defined network.",
        run: "--network <app-net>",
        compose: "networks: [app-net]",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/network/drivers/bridge/",
    ],
    check: Check::Container(|_, c| {
        let on_default = matches!(c.network_mode.as_str(), "default" | "bridge")
            || (c.network_mode.is_empty() && c.networks.iter().any(|n| n == "bridge"));
        if on_default {
            vec![Hit::new(format!(
                "HostConfig.NetworkMode is {}",
                if c.network_mode.is_empty() {
                    "unset"
                } else {
                    &c.network_mode
                }
            ))]
        } else {
            vec![]
        }
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn port(ip: &str, hp: Option<u16>, cp: u16) -> PortBinding {
        PortBinding {
            container_port: cp,
            protocol: "tcp".into(),
            host_ip: ip.into(),
            host_port: hp,
        }
    }

    #[test]
    fn ports() {
        let mut c = hardened();
        c.ports = vec![
            port("0.0.0.0", Some(80), 80),
            port("::", Some(80), 80),
            port("127.0.0.1", Some(8080), 8080),
            port("", None, 9000),
        ];
        let low = run_container(&PRIVILEGED_PORT, &c);
        assert_eq!(low.len(), 1, "v4 and v6 records of one port count once");
        assert!(low[0].evidence.contains("0.0.0.0:80->80/tcp"));
        let all = run_container(&ALL_INTERFACES, &c);
        assert_eq!(all.len(), 1);
        let list = run_container(&PUBLISHED_PORTS, &c);
        assert_eq!(
            list[0].evidence,
            "publishes 0.0.0.0:80->80/tcp, 127.0.0.1:8080->8080/tcp"
        );
    }

    #[test]
    fn loopback_only_is_fine() {
        let mut c = hardened();
        c.ports = vec![port("127.0.0.1", Some(8080), 8080)];
        assert!(run_container(&ALL_INTERFACES, &c).is_empty());
        assert!(run_container(&PRIVILEGED_PORT, &c).is_empty());
    }

    #[test]
    fn networks() {
        let mut c = hardened();
        c.network_mode = "host".into();
        assert_eq!(run_container(&HOST_NETWORK, &c).len(), 1);
        for mode in ["default", "bridge"] {
            c.network_mode = mode.into();
            assert_eq!(run_container(&DEFAULT_BRIDGE, &c).len(), 1);
        }
        c.network_mode = "none".into();
        assert!(run_container(&DEFAULT_BRIDGE, &c).is_empty());
    }
}
