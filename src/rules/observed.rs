//! Network isolation as observed: who a container actually talks to and
//! what it listens on, from the sockets read in its network namespace
//! ([`crate::model::flows`]). Each rule decides only on what was seen: a
//! container whose sockets could not be read has no hit here (its
//! "not available" is in the report, never "clean").

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::flows::{Connection, Direction, Observed, Peer};
use crate::model::{Container, SeedRule, Severity};

const NET_DOCS: &str = "https://docs.docker.com/engine/network/";

/// The connections this container opened (its own namespace only: a
/// container joining another's is judged there).
fn outbound(c: &Container) -> impl Iterator<Item = &Connection> {
    c.sockets
        .own()
        .into_iter()
        .flat_map(|o: &Observed| o.connections.iter())
        .filter(|x| x.direction == Direction::Outbound)
}

/// `name`, without the leading `/`.
fn bare(name: &str) -> &str {
    name.trim_start_matches('/')
}

/// The name of the engine's default bridge network.
fn default_bridge<'a>(ctx: &Ctx<'a>) -> &'a str {
    ctx.inventory
        .engine
        .default_bridge
        .as_ref()
        .map_or("bridge", |b| b.name.as_str())
}

/// Why `a` and `b` may talk, when something declares it: the same Compose
/// project, a link, or a user-defined network both were put on (unless
/// that network is one Compose project's own and one of them is not in
/// it). `None`: no declared relation.
pub fn relation(ctx: &Ctx, a: &Container, b: &Container) -> Option<String> {
    let pa = a.compose().map(|r| r.project);
    let pb = b.compose().map(|r| r.project);
    if let (Some(x), Some(y)) = (&pa, &pb)
        && x == y
    {
        return Some(format!("same compose project {x}"));
    }
    let (na, nb) = (bare(&a.name), bare(&b.name));
    let linked = |from: &Container, to: &str| {
        from.links.iter().any(|l| l == to)
            || from
                .endpoints
                .iter()
                .flat_map(|e| &e.links)
                .any(|l| l.split(':').next() == Some(to))
    };
    if linked(a, nb) || linked(b, na) {
        return Some("a link".into());
    }
    let bridge = default_bridge(ctx);
    for e in &a.endpoints {
        let n = e.network.as_str();
        if n == bridge || n == "host" || n == "none" || !b.endpoints.iter().any(|f| f.network == n)
        {
            continue;
        }
        // Compose names a project's networks `<project>_<name>`.
        let owner = [&pa, &pb]
            .into_iter()
            .flatten()
            .find(|p| n.starts_with(&format!("{p}_")));
        match owner {
            Some(p) if pa.as_ref() != Some(p) || pb.as_ref() != Some(p) => continue,
            _ => return Some(format!("both on network {n}")),
        }
    }
    None
}

/// The `container.lateral-connection` rule.
pub const LATERAL_CONNECTION: Rule = Rule {
    id: "container.lateral-connection",
    title: "Connects to a container it has no declared relation with",
    severity: Severity::High,
    family: Family::Network,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "Containers that belong together say so: one Compose project, a link, a user-defined \
          network made for them. A connection to a container outside all of those is traffic \
          nobody planned — another project's database reached across a shared network or through \
          a published host port.",
    attack: "Lateral movement: from one compromised container an attacker reaches the services of \
             others on the same engine (databases, caches, admin ports) that trusted the network \
             to keep strangers out.",
    fix: Fix {
        summary: "Give each application its own network and attach a container only to the \
                  networks of what it must reach; if the connection is intended, declare it \
                  (same project, or a network made for the pair).",
        run: "docker network disconnect <other-net> <container>; --network <own-net>",
        compose: "networks: [own]  (and a shared network declared in both projects when intended)",
        kube: "",
    },
    references: &[NET_DOCS],
    check: Check::Container(|ctx, c| {
        let bridge = default_bridge(ctx);
        let mut hits: Vec<Hit> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for x in outbound(c) {
            let Peer::Container {
                id, name, network, ..
            } = &x.peer
            else {
                continue;
            };
            // Two containers on the default bridge: its own rule says it.
            if network == bridge || id == &c.id {
                continue;
            }
            let Some(other) = ctx.index.container(id) else {
                continue;
            };
            if relation(ctx, c, other).is_some() || !seen.insert((name.clone(), x.remote.port())) {
                continue;
            }
            hits.push(Hit::new(format!(
                "{} {} → {} ({}): no shared compose project, link or network of their own",
                x.proto.as_str(),
                x.local,
                x.remote,
                x.peer.describe()
            )));
        }
        hits
    }),
};

/// Ports where a connection to the host is graver than the rest.
const HOST_PORTS: &[(u16, &str, Severity)] = &[
    (2375, "the engine's API without TLS", Severity::Critical),
    (2376, "the engine's API", Severity::Critical),
    (22, "SSH", Severity::High),
    (10250, "the kubelet's API", Severity::Critical),
];

/// The `container.reaches-host` rule.
pub const REACHES_HOST: Rule = Rule {
    id: "container.reaches-host",
    title: "Connects to a service of the host through the gateway",
    severity: Severity::Medium,
    family: Family::Network,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "A bridge network's gateway is the host itself: whatever the host listens on, on every \
          address, a container can reach there — the engine's API port, SSH, databases and admin \
          consoles meant for the machine's own user.",
    attack: "From a compromised container: the engine's API on 2375/2376 is root on the host; SSH \
             invites password guessing or stolen keys; any other host service is a way out of the \
             container's network.",
    fix: Fix {
        summary: "Bind host services to loopback or to the interfaces that need them, and firewall \
                  the bridge networks from the host's ports (DOCKER-USER / INPUT rules); give the \
                  container an internal network if it needs no way out.",
        run: "--network <internal-net> (docker network create --internal …)",
        compose: "networks: {app: {internal: true}}",
        kube: "",
    },
    references: &[
        NET_DOCS,
        "https://docs.docker.com/engine/security/protect-access/",
    ],
    check: Check::Container(|_, c| {
        let mut hits = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for x in outbound(c) {
            let Peer::Host { .. } = &x.peer else {
                continue;
            };
            let port = x.remote.port();
            if !seen.insert(port) {
                continue;
            }
            let (what, sev) = HOST_PORTS
                .iter()
                .find(|(p, ..)| *p == port)
                .map_or(("a host service", Severity::Medium), |(_, w, s)| (*w, *s));
            hits.push(Hit::graded(
                sev,
                format!(
                    "{} {} → {}: {what} on {}",
                    x.proto.as_str(),
                    x.local,
                    x.remote,
                    x.peer.describe()
                ),
            ));
        }
        hits
    }),
};

/// The `container.default-bridge-talk` rule.
pub const DEFAULT_BRIDGE_TALK: Rule = Rule {
    id: "container.default-bridge-talk",
    title: "Talks to another container over the default bridge",
    severity: Severity::Medium,
    family: Family::Network,
    cis: Some("5.30"),
    seed: SeedRule::NetworkIsolation,
    why: "On the default bridge every container reaches every other one; a connection seen there \
          is the proof that this openness is used, by address (the default bridge has no names), \
          with nothing that says the two belong together.",
    attack: "A compromised container on the default bridge reaches every neighbour, and a \
             neighbour's traffic to it cannot be told from an attack.",
    fix: Fix {
        summary: "Move the pair to a user-defined network of their own and disable \
                  inter-container communication on the default bridge.",
        run: "docker network create app-net; --network app-net (and dockerd --icc=false)",
        compose: "networks: [app-net]",
        kube: "",
    },
    references: &[
        NET_DOCS,
        "https://docs.docker.com/engine/network/drivers/bridge/",
    ],
    check: Check::Container(|ctx, c| {
        let bridge = default_bridge(ctx);
        let mut seen = std::collections::BTreeSet::new();
        outbound(c)
            .filter(|x| matches!(&x.peer, Peer::Container { network, .. } if network == bridge))
            .filter(|x| seen.insert((x.remote.ip(), x.remote.port())))
            .map(|x| {
                Hit::new(format!(
                    "{} {} → {} ({})",
                    x.proto.as_str(),
                    x.local,
                    x.remote,
                    x.peer.describe()
                ))
            })
            .collect()
    }),
};

/// Well-known mining-pool and remote-shell ports.
pub const SUSPICIOUS_PORTS: &[(u16, &str)] = &[
    (1337, "a remote-shell port"),
    (3333, "a mining-pool (Stratum) port"),
    (4444, "a remote-shell (Metasploit) and mining-pool port"),
    (5555, "a mining-pool and remote-shell port"),
    (7777, "a mining-pool port"),
    (14433, "a mining-pool (Stratum over TLS) port"),
    (14444, "a mining-pool (Stratum over TLS) port"),
    (31337, "a remote-shell port"),
    (45560, "a mining-pool port"),
    (45700, "a mining-pool (Monero) port"),
];

/// The `container.suspicious-port` rule.
pub const SUSPICIOUS_PORT: Rule = Rule {
    id: "container.suspicious-port",
    title: "Connects to a mining-pool or remote-shell port",
    severity: Severity::High,
    family: Family::Network,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "Cryptominers dropped into containers talk Stratum to pools on a handful of well-known \
          ports, and reverse shells call back to the ports their tools default to. Legitimate \
          applications rarely use them.",
    attack: "A container taken over through an exposed service is turned into a miner or a \
             foothold: it connects out to the pool or to the attacker's listener.",
    fix: Fix {
        summary: "Find the process holding the connection and why it runs; rebuild the container \
                  from a trusted image; restrict egress to what the application needs.",
        run: "docker stop <container>; docker run … --network <internal-net>",
        compose: "networks: {app: {internal: true}}",
        kube: "",
    },
    references: &[
        "https://www.cisa.gov/news-events/cybersecurity-advisories/aa23-075a",
        NET_DOCS,
    ],
    check: Check::Container(|_, c| {
        let mut seen = std::collections::BTreeSet::new();
        outbound(c)
            .filter(|x| {
                matches!(
                    x.peer,
                    Peer::LocalNetwork | Peer::Internet | Peer::Host { .. }
                )
            })
            .filter_map(|x| {
                let port = x.remote.port();
                let (_, what) = SUSPICIOUS_PORTS.iter().find(|(p, _)| *p == port)?;
                seen.insert((x.remote.ip(), port)).then(|| {
                    let by = x
                        .process
                        .as_ref()
                        .map(|p| format!(" by {} (pid {})", crate::model::visible(&p.comm), p.pid))
                        .unwrap_or_default();
                    Hit::new(format!(
                        "{} {} → {} ({}): {what}{by}",
                        x.proto.as_str(),
                        x.local,
                        x.remote,
                        x.peer.describe()
                    ))
                })
            })
            .collect()
    }),
};

/// The `container.unpublished-listener` rule.
pub const UNPUBLISHED_LISTENER: Rule = Rule {
    id: "container.unpublished-listener",
    title: "Listens on a port nobody published or declared",
    severity: Severity::Low,
    family: Family::Network,
    cis: None,
    seed: SeedRule::NetworkIsolation,
    why: "Ports a container should serve are declared (EXPOSE, --expose, expose:) or published. A \
          listener on any other port is one nobody reviewed: a debug server, a forgotten admin \
          endpoint, or something an intruder started — and every container on its networks can \
          reach it.",
    attack: "A bind shell or a backdoor listens on a port no one looks at; neighbours on the \
             network (and an attacker among them) connect to it.",
    fix: Fix {
        summary: "Stop what should not listen, bind what is internal to 127.0.0.1, and declare \
                  the ports the application really serves.",
        run: "--expose <port> (or bind the program to 127.0.0.1)",
        compose: "expose: [\"<port>\"]",
        kube: "",
    },
    references: &[NET_DOCS],
    check: Check::Container(|_, c| {
        let Some(o) = c.sockets.own() else {
            return Vec::new();
        };
        let mut seen = std::collections::BTreeSet::new();
        o.listeners
            .iter()
            .filter(|l| !l.loopback_only() && l.published.is_empty() && !l.exposed)
            .filter(|l| seen.insert((l.proto, l.port)))
            .map(|l| {
                let by = l
                    .process
                    .as_ref()
                    .map(|p| format!(" by {} (pid {})", crate::model::visible(&p.comm), p.pid))
                    .unwrap_or_default();
                Hit::new(format!(
                    "{} port {} on {}{by}: neither published nor exposed",
                    l.proto.as_str(),
                    l.port,
                    l.address
                ))
            })
            .collect()
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::flows::{
        Connection, Listener, NetEndpoint, NetObserved, Proto, SockState, SocketOwner,
        VIA_PUBLISHED,
    };
    use crate::model::{Container, ContainerState};
    use std::sync::Arc;

    fn on(name: &str, nets: &[&str], project: Option<&str>) -> Container {
        let mut c = hardened();
        c.id = format!("{name}-0123456789abcdef");
        c.name = format!("/{name}");
        c.state = ContainerState::Running;
        c.endpoints = nets
            .iter()
            .map(|n| NetEndpoint {
                network: (*n).into(),
                ..NetEndpoint::default()
            })
            .collect();
        c.networks = nets.iter().map(|n| (*n).to_string()).collect();
        if let Some(p) = project {
            c.labels
                .insert("com.docker.compose.project".into(), p.into());
            c.labels
                .insert("com.docker.compose.service".into(), name.into());
        }
        c
    }

    fn conn(peer: Peer, remote: &str) -> Connection {
        Connection {
            proto: Proto::Tcp,
            direction: Direction::Outbound,
            local: "172.19.0.2:40000".parse().unwrap(),
            remote: remote.parse().unwrap(),
            peer,
            state: SockState::Established,
            process: Some(SocketOwner {
                pid: 42,
                comm: "nc".into(),
            }),
        }
    }

    fn to(other: &Container, network: &str) -> Peer {
        Peer::Container {
            id: other.id.clone(),
            name: bare(&other.name).into(),
            network: network.into(),
            host_port: None,
        }
    }

    fn seen(c: &mut Container, connections: Vec<Connection>, listeners: Vec<Listener>) {
        c.sockets = NetObserved::Seen(Arc::new(Observed {
            netns: "net:[1]".into(),
            listeners,
            connections,
            ..Observed::default()
        }));
    }

    fn run(rule: &Rule, c: &Container, all: &[Container]) -> Vec<Hit> {
        let inv = inventory_with(all.to_vec(), vec![clean_image()]);
        run_container_in(rule, c, &inv, &crate::model::policy::Policy::default())
    }

    #[test]
    fn lateral_connection_needs_a_missing_relation() {
        let db = on("db", &["b_default"], Some("b"));
        // Another project's container joined b's own network: lateral.
        let mut web = on("web", &["a_default", "b_default"], Some("a"));
        seen(
            &mut web,
            vec![conn(to(&db, "b_default"), "172.19.0.3:5432")],
            vec![],
        );
        let all = [db.clone(), web.clone()];
        let hits = run(&LATERAL_CONNECTION, &web, &all);
        assert_eq!(
            hits.len(),
            1,
            "{:?}",
            hits.iter().map(|h| &h.evidence).collect::<Vec<_>>()
        );
        assert!(hits[0].evidence.contains("container db on b_default"));
        // Through a published host port, no shared network: lateral too.
        let mut far = on("far", &["far-net"], None);
        let via = Peer::Container {
            id: db.id.clone(),
            name: "db".into(),
            network: VIA_PUBLISHED.into(),
            host_port: Some(15432),
        };
        seen(&mut far, vec![conn(via, "172.20.0.1:15432")], vec![]);
        assert_eq!(
            run(&LATERAL_CONNECTION, &far, &[db.clone(), far.clone()]).len(),
            1
        );

        // Same project: fine.
        let mut api = on("api", &["b_default"], Some("b"));
        seen(
            &mut api,
            vec![conn(to(&db, "b_default"), "172.19.0.3:5432")],
            vec![],
        );
        assert!(run(&LATERAL_CONNECTION, &api, &[db.clone(), api.clone()]).is_empty());
        // A user-defined network made for both (not one project's own): fine.
        let srv = on("srv", &["app"], None);
        let mut cli = on("cli", &["app"], None);
        seen(
            &mut cli,
            vec![conn(to(&srv, "app"), "172.19.0.3:7000")],
            vec![],
        );
        assert!(run(&LATERAL_CONNECTION, &cli, &[srv.clone(), cli.clone()]).is_empty());
        // A link: fine.
        let mut linked = on("linked", &["x"], None);
        linked.links = vec!["db".into()];
        seen(
            &mut linked,
            vec![conn(to(&db, "b_default"), "172.19.0.3:5432")],
            vec![],
        );
        assert!(run(&LATERAL_CONNECTION, &linked, &[db.clone(), linked.clone()]).is_empty());
        // Over the default bridge: the bridge rule's, not this one's.
        let mut b1 = on("b1", &["bridge"], None);
        let b2 = on("b2", &["bridge"], None);
        seen(
            &mut b1,
            vec![conn(to(&b2, "bridge"), "172.17.0.3:80")],
            vec![],
        );
        assert!(run(&LATERAL_CONNECTION, &b1, &[b1.clone(), b2.clone()]).is_empty());
        assert_eq!(
            run(&DEFAULT_BRIDGE_TALK, &b1, &[b1.clone(), b2.clone()]).len(),
            1
        );
        assert!(run(&DEFAULT_BRIDGE_TALK, &web, &all).is_empty());
        // Inbound connections are the initiator's to answer for.
        let mut dbi = db.clone();
        let mut back = conn(to(&web, "b_default"), "172.19.0.2:40000");
        back.direction = Direction::Inbound;
        seen(&mut dbi, vec![back], vec![]);
        assert!(run(&LATERAL_CONNECTION, &dbi, &all).is_empty());
        // Not read: nothing decided.
        assert!(run(&LATERAL_CONNECTION, &db, &all).is_empty());
    }

    #[test]
    fn host_services_are_graded() {
        let mut c = on("c", &["app"], None);
        let host = |port: u16| {
            conn(
                Peer::Host {
                    address: "172.19.0.1".parse().unwrap(),
                    network: "app".into(),
                },
                &format!("172.19.0.1:{port}"),
            )
        };
        seen(
            &mut c,
            vec![host(2375), host(22), host(8000), host(8000)],
            vec![],
        );
        let hits = run_container(&REACHES_HOST, &c);
        let sev: Vec<_> = hits.iter().map(|h| h.severity).collect();
        assert_eq!(
            sev,
            [
                Some(Severity::Critical),
                Some(Severity::High),
                Some(Severity::Medium)
            ]
        );
        assert!(hits[0].evidence.contains("engine's API"));
        seen(
            &mut c,
            vec![
                conn(Peer::Internet, "8.8.8.8:443"),
                conn(Peer::Loopback, "127.0.0.1:22"),
            ],
            vec![],
        );
        assert!(run_container(&REACHES_HOST, &c).is_empty());
    }

    #[test]
    fn suspicious_ports() {
        let mut c = on("c", &["app"], None);
        seen(
            &mut c,
            vec![
                conn(Peer::Internet, "203.0.113.9:3333"),
                conn(Peer::Internet, "203.0.113.9:443"),
                conn(Peer::Loopback, "127.0.0.1:4444"),
            ],
            vec![],
        );
        let hits = run_container(&SUSPICIOUS_PORT, &c);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].evidence.contains("Stratum") && hits[0].evidence.contains("by nc"));
        seen(
            &mut c,
            vec![conn(Peer::Internet, "203.0.113.9:443")],
            vec![],
        );
        assert!(run_container(&SUSPICIOUS_PORT, &c).is_empty());
    }

    #[test]
    fn unpublished_listeners() {
        let l = |addr: &str, port, published: Vec<u16>, exposed| Listener {
            proto: Proto::Tcp,
            address: addr.parse().unwrap(),
            port,
            published,
            exposed,
            process: None,
        };
        let mut c = on("c", &["app"], None);
        seen(
            &mut c,
            vec![],
            vec![
                l("0.0.0.0", 7100, vec![], false),
                l("::", 7100, vec![], false),
                l("127.0.0.1", 9000, vec![], false),
                l("0.0.0.0", 80, vec![8080], true),
                l("0.0.0.0", 5432, vec![], true),
            ],
        );
        let hits = run_container(&UNPUBLISHED_LISTENER, &c);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].evidence.contains("port 7100"));
        seen(&mut c, vec![], vec![l("0.0.0.0", 80, vec![8080], true)]);
        assert!(run_container(&UNPUBLISHED_LISTENER, &c).is_empty());
        // A container sharing another's namespace: judged there.
        let mut side = c.clone();
        side.sockets = NetObserved::Seen(Arc::new(Observed {
            shared_with: Some("main".into()),
            listeners: vec![l("0.0.0.0", 7100, vec![], false)],
            ..Observed::default()
        }));
        assert!(run_container(&UNPUBLISHED_LISTENER, &side).is_empty());
    }
}
