//! Naming both ends of every observed socket: the far end of a connection
//! is another container of the engine (by its address on a network, or a
//! host port it publishes), the host (a bridge network's gateway), loopback,
//! the local network or the internet; a listener is published or not.
//!
//! Pure: the engine's containers (their endpoints and ports) and the
//! sockets read in their namespaces in, [`NetObserved`] out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::sockets::NetnsSockets;
use crate::model::Container;
use crate::model::flows::{
    Connection, Direction, Listener, NetObserved, Observed, Peer, Proto, PublishedSeen,
    VIA_PUBLISHED, classify, unmapped,
};

/// Linux's default range of ports a connecting socket gets
/// (`net.ipv4.ip_local_port_range`).
pub const EPHEMERAL: std::ops::RangeInclusive<u16> = 32768..=60999;

/// What is read for one container: its sockets, or why not.
pub type Read = Result<Arc<NetnsSockets>, String>;

/// Fills `observed` of `containers[i]` for each `(i, read)`. Containers
/// sharing a namespace: the one that owns it (not `container:`-joined)
/// gets the sockets; the others say whose they are.
pub fn fill(containers: &mut [Container], reads: Vec<(usize, Read)>) {
    let book = AddressBook::of(containers);
    // Namespace → the container that owns it.
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, r) in &reads {
        if let Ok(ns) = r {
            let joins = containers[*i].network_mode.starts_with("container:");
            owner
                .entry(ns.netns.clone())
                .and_modify(|o| {
                    if containers[*o].network_mode.starts_with("container:") && !joins {
                        *o = *i;
                    }
                })
                .or_insert(*i);
        }
    }
    let mut out: Vec<(usize, NetObserved)> = Vec::with_capacity(reads.len());
    for (i, r) in reads {
        let o = match r {
            Err(reason) => NetObserved::NotAvailable { reason },
            Ok(ns) => {
                let own = owner.get(&ns.netns).copied().unwrap_or(i);
                let mut seen = observe(&book, containers, own, &ns);
                if own != i {
                    seen.shared_with = Some(containers[own].name.trim_start_matches('/').into());
                }
                NetObserved::Seen(Arc::new(seen))
            }
        };
        out.push((i, o));
    }
    for (i, o) in out {
        containers[i].sockets = o;
    }
}

/// Every address the engine's containers and networks answer on.
#[derive(Debug, Default)]
struct AddressBook {
    /// Container address → (container index, network).
    containers: HashMap<IpAddr, (usize, String)>,
    /// Gateway address → network.
    gateways: HashMap<IpAddr, String>,
    /// (host port, protocol) → the container publishing it.
    published: HashMap<(u16, Proto), usize>,
}

impl AddressBook {
    fn of(containers: &[Container]) -> Self {
        let mut book = Self::default();
        for (i, c) in containers.iter().enumerate() {
            if c.state != crate::model::ContainerState::Running {
                continue;
            }
            for e in &c.endpoints {
                for ip in [e.ip, e.ipv6].into_iter().flatten() {
                    book.containers.insert(ip, (i, e.network.clone()));
                }
                for gw in [e.gateway, e.ipv6_gateway].into_iter().flatten() {
                    book.gateways.entry(gw).or_insert_with(|| e.network.clone());
                }
            }
            for p in &c.ports {
                if let (Some(hp), Some(proto)) =
                    (p.host_port.filter(|p| *p > 0), proto_of(&p.protocol))
                {
                    book.published.insert((hp, proto), i);
                }
            }
        }
        book
    }
}

fn proto_of(s: &str) -> Option<Proto> {
    match s {
        "tcp" => Some(Proto::Tcp),
        "udp" => Some(Proto::Udp),
        _ => None,
    }
}

/// The sockets of `ns`, named from container `me`'s side.
fn observe(book: &AddressBook, containers: &[Container], me: usize, ns: &NetnsSockets) -> Observed {
    let c = &containers[me];
    let mut listeners: Vec<Listener> = Vec::new();
    for s in ns.sockets.iter().filter(|s| s.is_listener()) {
        let port = s.local.port();
        let mut published: Vec<u16> = c
            .ports
            .iter()
            .filter(|p| p.container_port == port && proto_of(&p.protocol) == Some(s.proto))
            .filter_map(|p| p.host_port.filter(|h| *h > 0))
            .collect();
        published.sort_unstable();
        published.dedup();
        let exposed = c
            .ports
            .iter()
            .any(|p| p.container_port == port && proto_of(&p.protocol) == Some(s.proto));
        listeners.push(Listener {
            proto: s.proto,
            address: s.local.ip(),
            port,
            published,
            exposed,
            process: ns.owners.get(&s.inode).cloned(),
        });
    }
    listeners.sort();
    listeners.dedup();
    let own_ips: Vec<IpAddr> = c
        .endpoints
        .iter()
        .flat_map(|e| [e.ip, e.ipv6])
        .flatten()
        .collect();
    let mut connections = Vec::new();
    for s in ns.sockets.iter().filter(|s| s.is_connection()) {
        // Accepted on one of its listeners; or, the listener being gone
        // (a one-shot server closes it after `accept`), a fixed local port
        // facing an ephemeral one.
        let inbound = s.proto == Proto::Tcp
            && (listeners.iter().any(|l| {
                l.proto == Proto::Tcp
                    && l.port == s.local.port()
                    && (l.address.is_unspecified() || unmapped(l.address) == unmapped(s.local.ip()))
            }) || (!EPHEMERAL.contains(&s.local.port())
                && EPHEMERAL.contains(&s.remote.port())));
        let direction = if inbound {
            Direction::Inbound
        } else {
            Direction::Outbound
        };
        let remote = unmapped(s.remote.ip());
        let peer = if remote.is_loopback() || own_ips.contains(&remote) {
            Peer::Loopback
        } else if let Some((j, network)) = book.containers.get(&remote) {
            let o = &containers[*j];
            Peer::Container {
                id: o.id.clone(),
                name: o.name.trim_start_matches('/').into(),
                network: network.clone(),
                host_port: None,
            }
        } else if let Some(network) = book.gateways.get(&remote) {
            match book.published.get(&(s.remote.port(), s.proto)) {
                Some(&j) if direction == Direction::Outbound && j != me => {
                    let o = &containers[j];
                    Peer::Container {
                        id: o.id.clone(),
                        name: o.name.trim_start_matches('/').into(),
                        network: VIA_PUBLISHED.into(),
                        host_port: Some(s.remote.port()),
                    }
                }
                _ => Peer::Host {
                    address: remote,
                    network: network.clone(),
                },
            }
        } else {
            classify(remote)
        };
        connections.push(Connection {
            proto: s.proto,
            direction,
            local: s.local,
            remote: s.remote,
            peer,
            state: s.state,
            process: ns.owners.get(&s.inode).cloned(),
        });
    }
    connections.sort();
    connections.dedup();
    let mut published: Vec<PublishedSeen> = c
        .ports
        .iter()
        .filter_map(|p| {
            let proto = proto_of(&p.protocol)?;
            let host_port = p.host_port.filter(|h| *h > 0)?;
            let port = p.container_port;
            Some(PublishedSeen {
                proto,
                host_port,
                container_port: port,
                // A bound UDP socket is a listener too; a TCP one must LISTEN.
                listening: listeners.iter().any(|l| l.proto == proto && l.port == port),
                connected_from_outside: connections.iter().any(|x| {
                    x.proto == proto
                        && x.direction == Direction::Inbound
                        && x.local.port() == port
                        && matches!(x.peer, Peer::Host { .. })
                }),
            })
        })
        .collect();
    published.sort();
    published.dedup();
    Observed {
        netns: ns.netns.clone(),
        shared_with: None,
        listeners,
        connections,
        published,
        truncated: ns.truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flows::{NetEndpoint, SockState, Socket};
    use crate::model::{ContainerState, PortBinding};

    fn container(name: &str, net: &str, ip: &str) -> Container {
        Container {
            id: format!("{name}-id"),
            name: format!("/{name}"),
            state: ContainerState::Running,
            network_mode: net.into(),
            endpoints: vec![NetEndpoint {
                network: net.into(),
                ip: Some(ip.parse().unwrap()),
                gateway: Some(
                    format!("{}.1", ip.rsplit_once('.').unwrap().0)
                        .parse()
                        .unwrap(),
                ),
                ..NetEndpoint::default()
            }],
            ..Container::default()
        }
    }

    fn sock(proto: Proto, local: &str, remote: &str, state: SockState, inode: u64) -> Socket {
        Socket {
            proto,
            local: local.parse().unwrap(),
            remote: remote.parse().unwrap(),
            state,
            uid: 0,
            inode,
        }
    }

    fn ns(name: &str, sockets: Vec<Socket>) -> Read {
        Ok(Arc::new(NetnsSockets {
            netns: format!("net:[{name}]"),
            sockets,
            ..NetnsSockets::default()
        }))
    }

    #[test]
    fn every_peer_is_named() {
        let mut cs = vec![
            container("cli", "app", "172.19.0.2"),
            container("srv", "app", "172.19.0.3"),
            container("db", "other", "172.20.0.2"),
        ];
        cs[1].ports = vec![PortBinding {
            container_port: 7000,
            protocol: "tcp".into(),
            host_ip: String::new(),
            host_port: None,
        }];
        cs[2].ports = vec![PortBinding {
            container_port: 5432,
            protocol: "tcp".into(),
            host_ip: "0.0.0.0".into(),
            host_port: Some(15432),
        }];
        use SockState::*;
        let cli = vec![
            sock(
                Proto::Tcp,
                "172.19.0.2:40000",
                "172.19.0.3:7000",
                Established,
                1,
            ),
            sock(
                Proto::Tcp,
                "172.19.0.2:40001",
                "172.19.0.1:22",
                Established,
                2,
            ),
            sock(
                Proto::Tcp,
                "172.19.0.2:40002",
                "172.19.0.1:15432",
                Established,
                3,
            ),
            sock(
                Proto::Tcp,
                "[::ffff:172.19.0.2]:40003",
                "[::ffff:8.8.8.8]:443",
                SynSent,
                4,
            ),
            sock(
                Proto::Udp,
                "172.19.0.2:40004",
                "192.168.1.1:53",
                Established,
                5,
            ),
            sock(
                Proto::Tcp,
                "127.0.0.1:40005",
                "127.0.0.1:9000",
                Established,
                6,
            ),
        ];
        let srv = vec![
            sock(Proto::Tcp, "0.0.0.0:7000", "0.0.0.0:0", Listen, 10),
            sock(Proto::Tcp, "[::]:7001", "[::]:0", Listen, 11),
            sock(Proto::Udp, "0.0.0.0:5353", "0.0.0.0:0", Close, 12),
            sock(
                Proto::Tcp,
                "172.19.0.3:7000",
                "172.19.0.2:40000",
                Established,
                13,
            ),
        ];
        let db = vec![
            sock(Proto::Tcp, "0.0.0.0:5432", "0.0.0.0:0", Listen, 20),
            sock(
                Proto::Tcp,
                "172.20.0.2:5432",
                "172.20.0.1:50000",
                Established,
                21,
            ),
        ];
        // A one-shot server: its listener closed after accepting.
        let oneshot = vec![sock(
            Proto::Tcp,
            "172.20.0.9:5432",
            "172.19.0.2:50001",
            Established,
            22,
        )];
        cs.push(container("oneshot", "other", "172.20.0.9"));
        cs[3].ports = vec![PortBinding {
            container_port: 8080,
            protocol: "tcp".into(),
            host_ip: "127.0.0.1".into(),
            host_port: Some(18080),
        }];
        fill(
            &mut cs,
            vec![
                (0, ns("1", cli)),
                (1, ns("2", srv)),
                (2, ns("3", db)),
                (3, ns("4", oneshot)),
            ],
        );
        let o = cs[3].sockets.own().unwrap();
        assert_eq!(o.connections[0].direction, Direction::Inbound);
        assert_eq!(o.connections[0].peer.describe(), "container cli on app");
        let o = cs[0].sockets.own().unwrap();
        assert!(o.listeners.is_empty());
        let peers: Vec<(Direction, String)> = o
            .connections
            .iter()
            .map(|c| (c.direction, c.peer.describe()))
            .collect();
        assert_eq!(
            peers,
            [
                (Direction::Outbound, "loopback".to_string()),
                (Direction::Outbound, "container srv on app".into()),
                (
                    Direction::Outbound,
                    "the host (172.19.0.1, gateway of app)".into()
                ),
                (
                    Direction::Outbound,
                    "container db through host port 15432".into()
                ),
                (Direction::Outbound, "internet".into()),
                (Direction::Outbound, "local network".into()),
            ]
        );
        let o = cs[1].sockets.own().unwrap();
        assert_eq!(o.listeners.len(), 3);
        let l7000 = o.listeners.iter().find(|l| l.port == 7000).unwrap();
        assert!(l7000.exposed && l7000.published.is_empty());
        assert!(!o.listeners.iter().find(|l| l.port == 7001).unwrap().exposed);
        assert_eq!(o.connections.len(), 1);
        assert_eq!(o.connections[0].direction, Direction::Inbound);
        assert_eq!(o.connections[0].peer.describe(), "container cli on app");
        let o = cs[2].sockets.own().unwrap();
        assert_eq!(o.listeners[0].published, [15432]);
        assert_eq!(
            o.published,
            [PublishedSeen {
                proto: Proto::Tcp,
                host_port: 15432,
                container_port: 5432,
                listening: true,
                connected_from_outside: true,
            }]
        );
        // From outside through the engine's proxy: the host.
        assert_eq!(o.connections[0].direction, Direction::Inbound);
        assert!(matches!(o.connections[0].peer, Peer::Host { .. }));
        // Published, nothing behind it.
        let o = cs[3].sockets.own().unwrap();
        assert_eq!(o.published.len(), 1);
        assert!(!o.published[0].listening && !o.published[0].connected_from_outside);
    }

    #[test]
    fn shared_namespaces_and_unavailable() {
        let mut cs = vec![
            container("side", "container:main-id", "172.19.0.9"),
            container("main", "app", "172.19.0.2"),
            container("far", "app", "172.19.0.4"),
        ];
        cs[0].endpoints.clear();
        let shared = ns("1", vec![]);
        fill(
            &mut cs,
            vec![
                (0, shared.clone()),
                (1, shared),
                (2, Err("it has no process".into())),
            ],
        );
        assert!(cs[1].sockets.own().is_some());
        assert!(cs[0].sockets.own().is_none());
        match &cs[0].sockets {
            NetObserved::Seen(o) => assert_eq!(o.shared_with.as_deref(), Some("main")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            cs[2].sockets,
            NetObserved::NotAvailable {
                reason: "it has no process".into()
            }
        );
    }
}
