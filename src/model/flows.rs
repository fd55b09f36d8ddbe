//! Who talks to whom: the sockets observed in a container's network
//! namespace (listeners and connections, TCP and UDP, IPv4 and IPv6), each
//! connection's far end named (another container, the host, loopback, the
//! local network, the internet), and the network endpoints a container was
//! given (its addresses, gateways, aliases, links) that the naming uses.
//!
//! Plain data: read by `sources::runtime::sockets`, named by
//! `sources::runtime::peers`, judged by `rules::observed`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::{Deserialize, Serialize};

/// TCP or UDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Proto {
    /// `tcp` / `udp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

/// A socket's state, as the kernel's `st` column says (TCP's states; a UDP
/// socket is `established` when connected, `close` when only bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SockState {
    /// 01
    Established,
    /// 02
    SynSent,
    /// 03
    SynRecv,
    /// 04
    FinWait1,
    /// 05
    FinWait2,
    /// 06
    TimeWait,
    /// 07 (also a bound, unconnected UDP socket)
    Close,
    /// 08
    CloseWait,
    /// 09
    LastAck,
    /// 0A
    Listen,
    /// 0B
    Closing,
    /// 0C
    NewSynRecv,
    /// Anything else.
    Other,
}

impl SockState {
    /// From the `st` column's hex byte.
    pub fn from_code(code: u8) -> Self {
        match code {
            0x01 => Self::Established,
            0x02 => Self::SynSent,
            0x03 => Self::SynRecv,
            0x04 => Self::FinWait1,
            0x05 => Self::FinWait2,
            0x06 => Self::TimeWait,
            0x07 => Self::Close,
            0x08 => Self::CloseWait,
            0x09 => Self::LastAck,
            0x0A => Self::Listen,
            0x0B => Self::Closing,
            0x0C => Self::NewSynRecv,
            _ => Self::Other,
        }
    }
}

/// One line of `/proc/PID/net/{tcp,tcp6,udp,udp6}`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Socket {
    /// TCP or UDP.
    pub proto: Proto,
    /// Local address and port.
    pub local: SocketAddr,
    /// Remote address and port (`0.0.0.0:0` when none).
    pub remote: SocketAddr,
    /// Its state.
    pub state: SockState,
    /// The owning uid, in the socket's user namespace as the host sees it.
    pub uid: u32,
    /// The socket inode (`socket:[inode]` in `/proc/PID/fd`).
    pub inode: u64,
}

impl Socket {
    /// Listening: TCP in LISTEN, or a bound UDP socket with no remote end.
    pub fn is_listener(&self) -> bool {
        match self.proto {
            Proto::Tcp => self.state == SockState::Listen,
            Proto::Udp => self.remote.port() == 0 && self.state == SockState::Close,
        }
    }

    /// A connection: has a remote end (any state but LISTEN).
    pub fn is_connection(&self) -> bool {
        self.state != SockState::Listen && self.remote.port() != 0
    }
}

/// One network a container is attached to, from its inspect
/// (`NetworkSettings.Networks`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetEndpoint {
    /// The network's name.
    pub network: String,
    /// Its IPv4 address there.
    pub ip: Option<IpAddr>,
    /// Its global IPv6 address there.
    pub ipv6: Option<IpAddr>,
    /// The network's IPv4 gateway (the host, on a bridge network).
    pub gateway: Option<IpAddr>,
    /// The network's IPv6 gateway.
    pub ipv6_gateway: Option<IpAddr>,
    /// Its DNS aliases on that network (compose sets the service name).
    pub aliases: Vec<String>,
    /// Legacy links on that network (`container:alias`).
    pub links: Vec<String>,
}

/// The network a container reached another over: the far end's address is
/// one of its endpoints, or a host port the other publishes.
pub const VIA_PUBLISHED: &str = "a published host port";

/// Who is at the far end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Peer {
    /// Another container of the same engine.
    Container {
        /// Its id.
        id: String,
        /// Its name.
        name: String,
        /// The network both are on where its address was reached, or
        /// [`VIA_PUBLISHED`] when reached through a host port it publishes.
        network: String,
        /// The host port it publishes that was reached, if that way.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_port: Option<u16>,
    },
    /// The host itself: a bridge network's gateway address.
    Host {
        /// The address reached.
        address: IpAddr,
        /// The network whose gateway it is.
        network: String,
    },
    /// This container's own loopback.
    Loopback,
    /// An address of a private, link-local or unique-local range (the
    /// local network, or another engine's containers).
    LocalNetwork,
    /// Anything else.
    Internet,
}

impl Peer {
    /// For a person: `container db on app-net`, `the host (gateway of
    /// bridge)`, `loopback`, `local network`, `internet`.
    pub fn describe(&self) -> String {
        match self {
            Self::Container {
                name,
                network,
                host_port,
                ..
            } => match host_port {
                Some(p) => format!(
                    "container {} through host port {p}",
                    name.trim_start_matches('/')
                ),
                None => format!("container {} on {network}", name.trim_start_matches('/')),
            },
            Self::Host { address, network } => {
                format!("the host ({address}, gateway of {network})")
            }
            Self::Loopback => "loopback".into(),
            Self::LocalNetwork => "local network".into(),
            Self::Internet => "internet".into(),
        }
    }
}

/// Who opened a connection, as seen from this container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// This container connected out.
    Outbound,
    /// Something connected to one of its listeners.
    Inbound,
}

/// The process holding a socket, where `/proc/PID/fd` could be read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SocketOwner {
    /// Its host pid.
    pub pid: u32,
    /// Its `comm`.
    pub comm: String,
}

/// A listening socket.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Listener {
    /// TCP or UDP.
    pub proto: Proto,
    /// The address it is bound to (`0.0.0.0`/`::` for every one).
    pub address: IpAddr,
    /// The port.
    pub port: u16,
    /// The host ports that publish it (none: not published).
    #[serde(default)]
    pub published: Vec<u16>,
    /// Declared by the image or the run (`EXPOSE`, `--expose`, `expose:`).
    #[serde(default)]
    pub exposed: bool,
    /// Who holds it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<SocketOwner>,
}

impl Listener {
    /// Bound to loopback only: nothing outside the namespace can reach it.
    pub fn loopback_only(&self) -> bool {
        unmapped(self.address).is_loopback()
    }
}

/// A connection, with both ends named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Connection {
    /// TCP or UDP.
    pub proto: Proto,
    /// Who opened it.
    pub direction: Direction,
    /// This end.
    pub local: SocketAddr,
    /// The far end.
    pub remote: SocketAddr,
    /// Who the far end is.
    pub peer: Peer,
    /// Its state.
    pub state: SockState,
    /// Who holds it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<SocketOwner>,
}

/// A port the container publishes on the host, as seen at the read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedSeen {
    /// TCP or UDP.
    pub proto: Proto,
    /// The host port.
    pub host_port: u16,
    /// The container port behind it.
    pub container_port: u16,
    /// Something listens on the container port.
    pub listening: bool,
    /// A connection from the host's side (the engine's proxy, or the host
    /// itself through a gateway) to the container port was open at the read.
    pub connected_from_outside: bool,
}

/// The sockets of one container's network namespace, read once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The namespace (`net:[inode]`).
    pub netns: String,
    /// When the container joins another's namespace: that container's
    /// name (its sockets are reported, and judged, there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
    /// Listening sockets.
    pub listeners: Vec<Listener>,
    /// Connections (any state with a far end; TIME_WAIT included).
    pub connections: Vec<Connection>,
    /// Its published ports: is anything listening behind each, and was a
    /// connection from outside open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<PublishedSeen>,
    /// A table was longer than the caps: the lists are incomplete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// What is known of a container's sockets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NetObserved {
    /// Not looked at (not running, or not read in this scan).
    #[default]
    NotRead,
    /// Could not be looked at, and why. Never "no sockets".
    NotAvailable {
        /// Why, for a person.
        reason: String,
    },
    /// Read.
    Seen(std::sync::Arc<Observed>),
}

impl NetObserved {
    /// The sockets, when they were read (and are this container's own, not
    /// another's it shares).
    pub fn own(&self) -> Option<&Observed> {
        match self {
            Self::Seen(o) if o.shared_with.is_none() => Some(o),
            _ => None,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it is.
pub fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The kind of address, when it is not a known container or the host:
/// loopback, the local network (private, link-local, unique-local, CGNAT),
/// or the internet.
pub fn classify(ip: IpAddr) -> Peer {
    match unmapped(ip) {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Peer {
    let o = ip.octets();
    if ip.is_loopback() {
        Peer::Loopback
    } else if ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || (o[0] == 100 && (o[1] & 0xC0) == 64)
    {
        Peer::LocalNetwork
    } else {
        Peer::Internet
    }
}

fn classify_v6(ip: Ipv6Addr) -> Peer {
    let s = ip.segments();
    if ip.is_loopback() {
        Peer::Loopback
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xFE00) == 0xFC00
        || (s[0] & 0xFFC0) == 0xFE80
    {
        Peer::LocalNetwork
    } else {
        Peer::Internet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_classified() {
        let p = |s: &str| classify(s.parse().unwrap());
        assert_eq!(p("127.0.0.1"), Peer::Loopback);
        assert_eq!(p("::1"), Peer::Loopback);
        assert_eq!(p("::ffff:127.0.0.1"), Peer::Loopback);
        assert_eq!(p("10.1.2.3"), Peer::LocalNetwork);
        assert_eq!(p("172.17.0.2"), Peer::LocalNetwork);
        assert_eq!(p("192.168.1.1"), Peer::LocalNetwork);
        assert_eq!(p("169.254.169.254"), Peer::LocalNetwork);
        assert_eq!(p("100.64.0.1"), Peer::LocalNetwork);
        assert_eq!(p("fd00::1"), Peer::LocalNetwork);
        assert_eq!(p("fe80::1"), Peer::LocalNetwork);
        assert_eq!(p("::ffff:10.0.0.1"), Peer::LocalNetwork);
        assert_eq!(p("8.8.8.8"), Peer::Internet);
        assert_eq!(p("172.32.0.1"), Peer::Internet);
        assert_eq!(p("2001:db8::1"), Peer::Internet);
    }

    #[test]
    fn listeners_and_connections() {
        let s = |proto, st, remote: &str| Socket {
            proto,
            local: "0.0.0.0:80".parse().unwrap(),
            remote: remote.parse().unwrap(),
            state: st,
            uid: 0,
            inode: 1,
        };
        assert!(s(Proto::Tcp, SockState::Listen, "0.0.0.0:0").is_listener());
        assert!(!s(Proto::Tcp, SockState::Listen, "0.0.0.0:0").is_connection());
        assert!(s(Proto::Tcp, SockState::Established, "1.2.3.4:5").is_connection());
        assert!(s(Proto::Udp, SockState::Close, "0.0.0.0:0").is_listener());
        assert!(s(Proto::Udp, SockState::Established, "1.2.3.4:53").is_connection());
        assert!(!s(Proto::Udp, SockState::Established, "1.2.3.4:53").is_listener());
        assert_eq!(SockState::from_code(0x0A), SockState::Listen);
        assert_eq!(SockState::from_code(0xEE), SockState::Other);
    }
}
