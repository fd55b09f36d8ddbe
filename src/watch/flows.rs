//! New connections for the timeline: each inventory refresh of an engine
//! on this machine reads its running containers' sockets again
//! (`sources::runtime`); a connection whose ends were not in the last
//! refresh becomes one `connection` entry (category network). The first
//! snapshot of a session is the baseline: nothing is new in it.
//!
//! Bounded: only the last refresh's connections are remembered (a pool's
//! connection that closes and opens again with a new port is one entry
//! per reopening only if it was gone for a whole refresh), and at most
//! [`MAX_ENTRIES`] entries are made per refresh, then one that says how
//! many more there were.

use std::collections::HashSet;

use crate::model::flows::{Connection, Direction, Proto};
use crate::model::{Activity, Inventory};

/// The most `connection` entries one refresh makes.
pub const MAX_ENTRIES: usize = 50;

/// A connection as the timeline tells them apart: an outbound one by its
/// far end, an inbound one by the listener's port and the caller's
/// address (its port is ephemeral).
type Key = (String, Proto, Direction, std::net::IpAddr, u16);

fn key(container: &str, x: &Connection) -> Key {
    let port = match x.direction {
        Direction::Outbound => x.remote.port(),
        Direction::Inbound => x.local.port(),
    };
    (
        container.to_string(),
        x.proto,
        x.direction,
        x.remote.ip(),
        port,
    )
}

/// The connections of the last refresh.
#[derive(Debug, Default)]
pub struct SeenFlows {
    last: Option<HashSet<Key>>,
}

impl SeenFlows {
    /// Timeline entries for the connections of `inv` that were not in the
    /// last refresh (none for the first).
    pub fn new_connections(&mut self, inv: &Inventory) -> Vec<Activity> {
        let mut now: HashSet<Key> = HashSet::new();
        let mut out = Vec::new();
        let mut more = 0usize;
        for c in &inv.containers {
            let Some(o) = c.sockets.own() else { continue };
            for x in &o.connections {
                let k = key(&c.id, x);
                if !now.insert(k.clone()) {
                    continue;
                }
                if self.last.as_ref().is_none_or(|l| l.contains(&k)) {
                    continue;
                }
                if out.len() >= MAX_ENTRIES {
                    more += 1;
                    continue;
                }
                let (verb, port) = match x.direction {
                    Direction::Outbound => ("connected to", x.remote.port()),
                    Direction::Inbound => ("accepted from", x.local.port()),
                };
                let by = x
                    .process
                    .as_ref()
                    .map(|p| format!(" ({}, pid {})", crate::model::visible(&p.comm), p.pid))
                    .unwrap_or_default();
                out.push(
                    Activity::own(
                        "connection",
                        format!(
                            "{} {verb} {} ({}), port {port}{by}",
                            x.proto.as_str(),
                            x.remote.ip(),
                            x.peer.describe()
                        ),
                        None,
                    )
                    .about(c),
                );
            }
        }
        if more > 0 {
            out.push(Activity::own(
                "connection",
                format!("and {more} more new connections (not listed)"),
                None,
            ));
        }
        let first = self.last.is_none();
        self.last = Some(now);
        if first { Vec::new() } else { out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::flows::{NetObserved, Observed, Peer, SockState};
    use crate::model::{Container, activity::Category};
    use std::sync::Arc;

    fn with(conns: &[(&str, &str, Direction)]) -> Inventory {
        let c = Container {
            id: "c1".into(),
            name: "/web".into(),
            sockets: NetObserved::Seen(Arc::new(Observed {
                connections: conns
                    .iter()
                    .map(|(l, r, d)| Connection {
                        proto: Proto::Tcp,
                        direction: *d,
                        local: l.parse().unwrap(),
                        remote: r.parse().unwrap(),
                        peer: Peer::Internet,
                        state: SockState::Established,
                        process: None,
                    })
                    .collect(),
                ..Observed::default()
            })),
            ..Container::default()
        };
        Inventory {
            containers: vec![c],
            ..Inventory::default()
        }
    }

    #[test]
    fn only_new_connections_make_entries() {
        let out = Direction::Outbound;
        let inb = Direction::Inbound;
        let mut seen = SeenFlows::default();
        // The baseline.
        assert!(
            seen.new_connections(&with(&[("10.0.0.2:40000", "8.8.8.8:443", out)]))
                .is_empty()
        );
        // The same far end from another local port: not new.
        assert!(
            seen.new_connections(&with(&[("10.0.0.2:40001", "8.8.8.8:443", out)]))
                .is_empty()
        );
        // A new far end, and a caller on the listener's port.
        let a = seen.new_connections(&with(&[
            ("10.0.0.2:40001", "8.8.8.8:443", out),
            ("10.0.0.2:40002", "1.1.1.1:3333", out),
            ("10.0.0.2:80", "9.9.9.9:50000", inb),
        ]));
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].category(), Category::Network);
        assert!(
            a[0].detail
                .contains("connected to 1.1.1.1 (internet), port 3333"),
            "{}",
            a[0].detail
        );
        assert!(
            a[1].detail.contains("accepted from 9.9.9.9"),
            "{}",
            a[1].detail
        );
        assert_eq!(a[0].container_id.as_deref(), Some("c1"));
        // Gone for a refresh, then back: new again.
        assert!(seen.new_connections(&with(&[])).is_empty());
        assert_eq!(
            seen.new_connections(&with(&[("10.0.0.2:40003", "8.8.8.8:443", out)]))
                .len(),
            1
        );
        // Bounded.
        let many: Vec<(String, String)> = (0..200)
            .map(|i| {
                (
                    "10.0.0.2:40000".to_string(),
                    format!("8.8.{}.{}:443", i / 250, i % 250),
                )
            })
            .collect();
        let refs: Vec<(&str, &str, Direction)> = many
            .iter()
            .map(|(l, r)| (l.as_str(), r.as_str(), out))
            .collect();
        let a = seen.new_connections(&with(&refs));
        assert_eq!(a.len(), MAX_ENTRIES + 1);
        assert!(a[MAX_ENTRIES].detail.contains("150 more"));
    }
}
