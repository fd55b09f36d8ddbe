//! Process starts as they happen, from the best source this process may
//! use:
//!
//! 1. the kernel's process-event connector (netlink `NETLINK_CONNECTOR`,
//!    group `CN_IDX_PROC`, `PROC_CN_MCAST_LISTEN`): every fork, exec and
//!    exit, host-wide; needs root or `CAP_NET_ADMIN` (else `EPERM` at bind);
//! 2. polling `/proc` every [`POLL_PERIOD`]: readable by anyone, but a
//!    process that starts and ends between two passes is never seen.
//!
//! Either way the event only names a pid: the process is read from `/proc`
//! at once ([`super::procfs::one`]) and may already be gone.
//!
//! No `unsafe`: the socket, its address and its options are rustix's; the
//! messages are bytes built and parsed here ([`listen_message`],
//! [`parse_events`], both pure).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often `/proc` is polled without the connector.
pub const POLL_PERIOD: Duration = Duration::from_millis(500);

/// The environment variable that forces polling (`poll`), for tests and
/// for people who would rather not open a netlink socket.
pub const FORCE_ENV: &str = "SHIPSHAPE_PROC_SOURCE";

/// Where process starts come from, as the window and the report say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The kernel's process-event connector.
    Connector,
    /// Polling `/proc` at this period; `why` says why not the connector.
    Poll {
        /// The period.
        every: Duration,
        /// Why the connector is not used.
        why: String,
    },
    /// Processes cannot be seen at all.
    NotAvailable(String),
}

impl Source {
    /// The sentence the window and the report show.
    pub fn describe(&self) -> String {
        match self {
            Self::Connector => "process events: kernel connector".into(),
            Self::Poll { every, why } => format!(
                "polling /proc every {} ms: shorter processes can be missed ({why})",
                every.as_millis()
            ),
            Self::NotAvailable(why) => format!("not available: {why}"),
        }
    }
}

/// One thing the kernel (or a poll) said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw {
    /// A new process (`fork`): parent tgid, child pid and tgid.
    Fork {
        /// The parent's tgid.
        parent: u32,
        /// The child's pid (thread id).
        pid: u32,
        /// The child's tgid: equal to `pid` for a process, not a thread.
        tgid: u32,
    },
    /// A process ran a new program.
    Exec {
        /// Its pid.
        pid: u32,
        /// Its tgid.
        tgid: u32,
    },
    /// A process ended.
    Exit {
        /// Its pid.
        pid: u32,
        /// Its tgid.
        tgid: u32,
    },
    /// The kernel dropped events (socket buffer full): `n` receive calls
    /// failed with `ENOBUFS`.
    Lost(u32),
}

const NLMSG_HDRLEN: usize = 16;
const NLMSG_DONE: u16 = 3;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const CN_MSG_LEN: usize = 20;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_EVENT_FORK: u32 = 0x0000_0001;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const PROC_EVENT_EXIT: u32 = 0x8000_0000;

/// The message that subscribes to process events, from netlink port `port`:
/// `nlmsghdr` + `cn_msg` + the operation. Pure.
pub fn listen_message(port: u32) -> [u8; 40] {
    let mut m = [0u8; 40];
    m[0..4].copy_from_slice(&40u32.to_ne_bytes());
    m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    m[12..16].copy_from_slice(&port.to_ne_bytes());
    m[16..20].copy_from_slice(&CN_IDX_PROC.to_ne_bytes());
    m[20..24].copy_from_slice(&CN_VAL_PROC.to_ne_bytes());
    m[32..34].copy_from_slice(&4u16.to_ne_bytes());
    m[36..40].copy_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    m
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The process events in one datagram from the connector (one or more
/// netlink messages). Malformed parts are skipped. Pure.
pub fn parse_events(buf: &[u8]) -> Vec<Raw> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while out.len() < 1_024 {
        let Some(len) = u32_at(buf, at).map(|l| l as usize) else {
            break;
        };
        if len < NLMSG_HDRLEN || at + len > buf.len() {
            break;
        }
        let msg = &buf[at..at + len];
        // cn_msg: idx, val, seq, ack, len(u16), flags(u16); then proc_event:
        // what, cpu, timestamp_ns(u64), data.
        let body = &msg[NLMSG_HDRLEN..];
        if u32_at(body, 0) == Some(CN_IDX_PROC) && u32_at(body, 4) == Some(CN_VAL_PROC) {
            let ev = body.get(CN_MSG_LEN..).unwrap_or(&[]);
            let data = 16;
            let field = |i: usize| u32_at(ev, data + 4 * i);
            match u32_at(ev, 0) {
                Some(PROC_EVENT_FORK) => {
                    if let (Some(_), Some(parent), Some(pid), Some(tgid)) =
                        (field(0), field(1), field(2), field(3))
                    {
                        out.push(Raw::Fork { parent, pid, tgid });
                    }
                }
                Some(PROC_EVENT_EXEC) => {
                    if let (Some(pid), Some(tgid)) = (field(0), field(1)) {
                        out.push(Raw::Exec { pid, tgid });
                    }
                }
                Some(PROC_EVENT_EXIT) => {
                    if let (Some(pid), Some(tgid)) = (field(0), field(1)) {
                        out.push(Raw::Exit { pid, tgid });
                    }
                }
                _ => {}
            }
        }
        // NLMSG_ALIGN(len)
        at += (len + 3) & !3;
    }
    out
}

/// A subscribed connector socket.
pub struct Connector {
    fd: rustix::fd::OwnedFd,
    buf: Vec<u8>,
}

impl Connector {
    /// Opens the socket, joins `CN_IDX_PROC` and subscribes. `EPERM` at
    /// bind without root or `CAP_NET_ADMIN`.
    pub fn open() -> std::io::Result<Self> {
        use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType, netlink, sockopt};
        let fd = rustix::net::socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            Some(netlink::CONNECTOR),
        )?;
        // Port 0: the kernel picks one (several watchers in one process).
        rustix::net::bind(&fd, &netlink::SocketAddrNetlink::new(0, CN_IDX_PROC))?;
        // Above `net.core.rmem_max` only with CAP_NET_ADMIN (which this
        // socket needs anyway); else as much as the limit allows.
        if sockopt::set_socket_recv_buffer_size_force(&fd, 4 << 20).is_err() {
            let _ = sockopt::set_socket_recv_buffer_size(&fd, 4 << 20);
        }
        let port = rustix::net::getsockname(&fd)
            .ok()
            .and_then(|a| netlink::SocketAddrNetlink::try_from(a).ok())
            .map_or(0, |a| a.pid());
        rustix::net::sendto(
            &fd,
            &listen_message(port),
            SendFlags::empty(),
            &netlink::SocketAddrNetlink::new(0, 0),
        )?;
        sockopt::set_socket_timeout(
            &fd,
            sockopt::Timeout::Recv,
            Some(Duration::from_millis(200)),
        )?;
        Ok(Self {
            fd,
            buf: vec![0; 64 << 10],
        })
    }

    /// The next events; empty after the receive timeout (200 ms).
    pub fn receive(&mut self) -> std::io::Result<Vec<Raw>> {
        match rustix::net::recv(&self.fd, &mut self.buf[..], rustix::net::RecvFlags::empty()) {
            Ok((n, _)) => Ok(parse_events(self.buf.get(..n).unwrap_or(&[]))),
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => Ok(Vec::new()),
            Err(rustix::io::Errno::NOBUFS) => Ok(vec![Raw::Lost(1)]),
            Err(e) => Err(e.into()),
        }
    }
}

/// Polls `/proc`: a process is new when its (pid, start time, comm) was
/// not there the pass before (an exec changes comm).
pub struct Poller {
    known: HashSet<(u32, u64, String)>,
    first: bool,
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}

impl Poller {
    /// A poller that reports nothing on its first pass (what runs already).
    pub fn new() -> Self {
        Self {
            known: HashSet::new(),
            first: true,
        }
    }

    /// One pass: the pids that are new since the last one (as execs).
    pub fn pass(&mut self, proc: &Path) -> Vec<Raw> {
        let mut now = HashSet::new();
        for e in std::fs::read_dir(proc)
            .into_iter()
            .flatten()
            .flatten()
            .take(200_000)
        {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            if let Some(s) = super::procfs::parse_stat(&text) {
                now.insert((pid, s.start_ticks, s.comm));
            }
        }
        let new: Vec<Raw> = if self.first {
            Vec::new()
        } else {
            let mut v: Vec<u32> = now
                .difference(&self.known)
                .map(|(pid, _, _)| *pid)
                .collect();
            v.sort_unstable();
            v.into_iter()
                .map(|pid| Raw::Exec { pid, tgid: pid })
                .collect()
        };
        self.first = false;
        self.known = now;
        new
    }
}

/// Picks the source: polling when [`FORCE_ENV`] says `poll`, else the
/// connector when it opens, else polling with the reason.
pub fn choose() -> (Source, Option<Connector>) {
    if std::env::var(FORCE_ENV).is_ok_and(|v| v == "poll") {
        return (
            Source::Poll {
                every: POLL_PERIOD,
                why: format!("{FORCE_ENV}=poll"),
            },
            None,
        );
    }
    match Connector::open() {
        Ok(c) => (Source::Connector, Some(c)),
        Err(e) => (
            Source::Poll {
                every: POLL_PERIOD,
                why: if e.kind() == std::io::ErrorKind::PermissionDenied {
                    "the kernel connector needs root or CAP_NET_ADMIN".into()
                } else {
                    format!("the kernel connector did not open: {e}")
                },
            },
            None,
        ),
    }
}

/// What a watcher passes on: a process start, or a count of starts held
/// back by the [`Throttle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A process that started (read from `/proc` right after).
    Start(Box<crate::model::runtime::ProcInfo>),
    /// `count` more starts of `program` in container `container` were not
    /// passed on one by one.
    More {
        /// The container's id.
        container: String,
        /// The program.
        program: String,
        /// How many.
        count: u64,
    },
    /// Events the kernel dropped.
    Lost(u64),
}

impl Seen {
    /// "412 more starts of /bin/sh in web-1", with a name for the id.
    pub fn describe_more(container: &str, program: &str, count: u64) -> String {
        format!("{count} more starts of {program} in {container}")
    }
}

/// Bounds what a fork bomb costs: per (container, program), the first
/// [`Throttle::burst`] starts in a window pass; the rest are counted and
/// reported once when the window ends. At most [`Throttle::KEYS`] keys;
/// beyond that, starts are counted under one key per container.
#[derive(Debug)]
pub struct Throttle {
    window: Duration,
    burst: u32,
    started: Instant,
    counts: HashMap<(String, String), (u32, u64)>,
}

impl Throttle {
    /// Keys kept in one window.
    pub const KEYS: usize = 4_096;

    /// `burst` starts per key per `window` pass.
    pub fn new(window: Duration, burst: u32, now: Instant) -> Self {
        Self {
            window,
            burst,
            started: now,
            counts: HashMap::new(),
        }
    }

    /// Whether a start of `program` in `container` is passed on.
    pub fn admit(&mut self, container: &str, program: &str, now: Instant) -> (bool, Vec<Seen>) {
        let flushed = self.roll(now);
        let key = if self.counts.len() >= Self::KEYS
            && !self
                .counts
                .contains_key(&(container.to_string(), program.to_string()))
        {
            (container.to_string(), "(other programs)".to_string())
        } else {
            (container.to_string(), program.to_string())
        };
        let e = self.counts.entry(key).or_insert((0, 0));
        if e.0 < self.burst {
            e.0 += 1;
            (true, flushed)
        } else {
            e.1 += 1;
            (false, flushed)
        }
    }

    /// Ends the window when it is over: the held-back counts.
    pub fn roll(&mut self, now: Instant) -> Vec<Seen> {
        if now.duration_since(self.started) < self.window {
            return Vec::new();
        }
        self.started = now;
        let mut out: Vec<Seen> = std::mem::take(&mut self.counts)
            .into_iter()
            .filter(|(_, (_, held))| *held > 0)
            .map(|((container, program), (_, count))| Seen::More {
                container,
                program,
                count,
            })
            .collect();
        out.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        out
    }
}

/// Watches process starts in containers until `sink` returns false:
/// each start read from `/proc` (container attributed from its cgroup;
/// host processes dropped), throttled per (container, program). Blocking:
/// run it on its own thread.
pub fn watch(
    proc: &Path,
    source: &Source,
    mut connector: Option<Connector>,
    mut sink: impl FnMut(Seen) -> bool,
) {
    let caps = super::procfs::Caps::default();
    // Which container each recent fork's child belongs to (from its
    // parent, read at fork time): a process that ran and ended before it
    // could be read is still counted in its container. Bounded.
    let mut owners: HashMap<u32, Option<String>> = HashMap::new();
    let mut throttle = Throttle::new(Duration::from_secs(1), 20, Instant::now());
    let mut poller = Poller::new();
    if matches!(source, Source::Poll { .. }) {
        poller.pass(proc);
    }
    loop {
        let raws = match (&source, connector.as_mut()) {
            (Source::Connector, Some(c)) => match c.receive() {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("process connector: {e}");
                    return;
                }
            },
            (Source::Poll { every, .. }, _) => {
                std::thread::sleep(*every);
                poller.pass(proc)
            }
            _ => return,
        };
        let now = Instant::now();
        for s in throttle.roll(now) {
            if !sink(s) {
                return;
            }
        }
        for raw in raws {
            let pid = match raw {
                Raw::Fork { parent, pid, tgid } if pid == tgid => {
                    if owners.len() >= 65_536 {
                        owners.clear();
                    }
                    // A cached "no container" is read again: runc forks
                    // a container's first process before moving it in.
                    let owner = match owners.get(&parent) {
                        Some(Some(o)) => Some(o.clone()),
                        _ => super::procfs::owner_of(proc, parent),
                    };
                    owners.insert(pid, owner);
                    continue;
                }
                Raw::Exit { pid, tgid } if pid == tgid => {
                    owners.remove(&pid);
                    continue;
                }
                Raw::Exec { pid, tgid } if pid == tgid => pid,
                Raw::Lost(n) => {
                    if !sink(Seen::Lost(u64::from(n))) {
                        return;
                    }
                    continue;
                }
                _ => continue,
            };
            let read = super::procfs::one(proc, pid, caps).map(|mut p| {
                // Exiting: its cgroup no longer names the container.
                if p.container_id.is_none() {
                    p.container_id = owners.get(&pid).cloned().flatten();
                }
                p
            });
            let Some(p) = read.or_else(|| {
                // Gone before it could be read: counted, not named.
                let container = owners.get(&pid).cloned().flatten()?;
                Some(crate::model::runtime::ProcInfo {
                    pid,
                    name: GONE.into(),
                    container_id: Some(container),
                    ..Default::default()
                })
            }) else {
                continue;
            };
            let Some(container) = p.container_id.clone() else {
                continue;
            };
            let (pass, flushed) = throttle.admit(&container, &program_label(&p), now);
            for s in flushed {
                if !sink(s) {
                    return;
                }
            }
            if pass && !sink(Seen::Start(Box::new(p))) {
                return;
            }
        }
        if !sink_alive(&mut sink) {
            return;
        }
    }
}

/// What the throttle counts a start under: its executable, and its name
/// when that differs (busybox runs every applet as `/bin/busybox`).
pub fn program_label(p: &crate::model::runtime::ProcInfo) -> String {
    match p.path() {
        Some(path) if path.rsplit('/').next() == Some(p.name.as_str()) => path.to_string(),
        Some(path) => format!("{} ({path})", p.name),
        None => p.name.clone(),
    }
}

/// The name of a process that ended before it could be read.
pub const GONE: &str = "(ended before it was read)";

/// Lets the sink stop the watcher between receives (a `Lost(0)` is a
/// heartbeat the sink may ignore).
fn sink_alive(sink: &mut impl FnMut(Seen) -> bool) -> bool {
    sink(Seen::Lost(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(what: u32, fields: [u32; 4]) -> Vec<u8> {
        let mut ev = Vec::new();
        ev.extend(what.to_ne_bytes());
        ev.extend(0u32.to_ne_bytes());
        ev.extend(0u64.to_ne_bytes());
        for f in fields {
            ev.extend(f.to_ne_bytes());
        }
        let mut cn = Vec::new();
        for v in [CN_IDX_PROC, CN_VAL_PROC, 0, 0] {
            cn.extend(v.to_ne_bytes());
        }
        cn.extend((ev.len() as u16).to_ne_bytes());
        cn.extend(0u16.to_ne_bytes());
        cn.extend(ev);
        let mut m = Vec::new();
        m.extend(((16 + cn.len()) as u32).to_ne_bytes());
        m.extend(NLMSG_DONE.to_ne_bytes());
        m.extend([0u8; 10]);
        m.extend(cn);
        m
    }

    #[test]
    fn connector_messages() {
        let l = listen_message(77);
        assert_eq!(u32_at(&l, 0), Some(40));
        assert_eq!(u32_at(&l, 12), Some(77));
        assert_eq!(u32_at(&l, 36), Some(PROC_CN_MCAST_LISTEN));
        let mut two = event(PROC_EVENT_EXEC, [10, 10, 0, 0]);
        two.extend(event(PROC_EVENT_FORK, [1, 1, 11, 11]));
        two.extend(event(PROC_EVENT_EXIT, [9, 9, 0, 0]));
        assert_eq!(
            parse_events(&two),
            [
                Raw::Exec { pid: 10, tgid: 10 },
                Raw::Fork {
                    parent: 1,
                    pid: 11,
                    tgid: 11
                },
                Raw::Exit { pid: 9, tgid: 9 }
            ]
        );
        // Cut short, wrong group, garbage: nothing, no panic.
        assert!(parse_events(&two[..20]).is_empty());
        let mut other = event(PROC_EVENT_EXEC, [1, 1, 0, 0]);
        other[16] = 9;
        assert!(parse_events(&other).is_empty());
        assert!(parse_events(&[0xff; 7]).is_empty());
    }

    #[test]
    fn a_fork_bomb_is_counted_not_passed() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Duration::from_secs(1), 3, t0);
        let admitted = (0..415)
            .filter(|_| t.admit("web-1", "/bin/sh", t0).0)
            .count();
        assert_eq!(admitted, 3);
        // Another container's starts are not held back by it.
        assert!(t.admit("db-1", "/bin/sh", t0).0);
        let (pass, flushed) = t.admit("web-1", "/bin/sh", t0 + Duration::from_secs(1));
        assert!(pass, "a new window");
        assert_eq!(
            flushed,
            [Seen::More {
                container: "web-1".into(),
                program: "/bin/sh".into(),
                count: 412
            }]
        );
        assert_eq!(
            Seen::describe_more("web-1", "/bin/sh", 412),
            "412 more starts of /bin/sh in web-1"
        );
    }

    #[test]
    fn keys_are_bounded() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Duration::from_secs(1), 1, t0);
        for i in 0..(Throttle::KEYS + 100) {
            t.admit("c", &format!("/tmp/p{i}"), t0);
        }
        assert!(t.counts.len() <= Throttle::KEYS + 1);
    }

    #[test]
    fn sources_say_what_they_miss() {
        assert_eq!(
            Source::Connector.describe(),
            "process events: kernel connector"
        );
        let p = Source::Poll {
            every: POLL_PERIOD,
            why: "x".into(),
        };
        assert!(
            p.describe()
                .starts_with("polling /proc every 500 ms: shorter processes can be missed")
        );
        assert_eq!(
            Source::NotAvailable("remote engine".into()).describe(),
            "not available: remote engine"
        );
    }
}
