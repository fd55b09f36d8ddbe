//! A container's sockets, from its network namespace's
//! `/proc/PID/net/{tcp,tcp6,udp,udp6}` (readable without privileges): one
//! process per namespace is enough, so containers sharing a namespace are
//! read once. The owning process of each socket comes from matching socket
//! inodes in `/proc/PID/fd` of the container's processes, where those can
//! be read (root, or the same user).
//!
//! [`parse_table`] is pure (a fuzz target); [`read_all`] only reads files,
//! bounded ([`MAX_TABLE_BYTES`], [`MAX_LINES`], [`MAX_FDS`]). A namespace
//! that cannot be read is "not available" with the reason, never an empty
//! list.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

use crate::model::flows::{Proto, SockState, Socket, SocketOwner};

/// The most bytes read of one table (about 100,000 lines of 150 bytes).
pub const MAX_TABLE_BYTES: u64 = 16 << 20;
/// The most lines parsed of one table.
pub const MAX_LINES: usize = 100_000;
/// The most `fd` entries looked at per process.
pub const MAX_FDS: usize = 10_000;
/// The most processes whose `fd` are looked at per namespace.
pub const MAX_OWNER_PIDS: usize = 500;

/// The four tables of a namespace: file name, protocol, IPv6.
pub const TABLES: [(&str, Proto, bool); 4] = [
    ("tcp", Proto::Tcp, false),
    ("tcp6", Proto::Tcp, true),
    ("udp", Proto::Udp, false),
    ("udp6", Proto::Udp, true),
];

/// A refresh reads sockets again only when the last pass took at most this
/// share of the time since it began (1/`BUDGET_SHARE`): at scale, reading
/// `/proc/PID/net/tcp` costs milliseconds of kernel time per namespace
/// (bench/sockets-results.md), so the cadence stretches with the cost.
pub const BUDGET_SHARE: u32 = 10;

/// Whether a refresh should read sockets again, given when the last pass
/// began and how long it took. Pure.
pub fn due(
    last: Option<(std::time::Instant, std::time::Duration)>,
    now: std::time::Instant,
) -> bool {
    last.is_none_or(|(at, took)| now.saturating_duration_since(at) >= took * BUDGET_SHARE)
}

/// The last pass of this process: when it began and how long it took.
static LAST_PASS: std::sync::Mutex<Option<(std::time::Instant, std::time::Duration)>> =
    std::sync::Mutex::new(None);

/// Whether a refresh should read sockets now (see [`due`]).
pub fn refresh_due() -> bool {
    due(
        *LAST_PASS.lock().unwrap_or_else(|e| e.into_inner()),
        std::time::Instant::now(),
    )
}

/// One table's sockets, and whether it had more lines than [`MAX_LINES`].
/// Pure: lines that do not parse are skipped. Addresses are in this
/// machine's byte order, as the kernel that wrote the table prints them.
pub fn parse_table(text: &str, proto: Proto, v6: bool) -> (Vec<Socket>, bool) {
    let mut out = Vec::new();
    let mut lines = text.lines();
    // The header: `sl local_address rem_address st …`.
    lines.next();
    for (n, line) in lines.enumerate() {
        if n >= MAX_LINES {
            return (out, true);
        }
        if let Some(s) = parse_line(line, proto, v6) {
            out.push(s);
        }
    }
    (out, false)
}

/// `sl local rem st tx:rx tr:when retrnsmt uid timeout inode …`.
fn parse_line(line: &str, proto: Proto, v6: bool) -> Option<Socket> {
    let mut f = line.split_whitespace();
    let sl = f.next()?;
    if !sl.ends_with(':') {
        return None;
    }
    let local = parse_addr(f.next()?, v6)?;
    let remote = parse_addr(f.next()?, v6)?;
    let st = f.next()?;
    if st.len() != 2 {
        return None;
    }
    let state = SockState::from_code(u8::from_str_radix(st, 16).ok()?);
    let uid = f.nth(3)?.parse().ok()?;
    let inode = f.nth(1)?.parse().ok()?;
    Some(Socket {
        proto,
        local,
        remote,
        state,
        uid,
        inode,
    })
}

/// `0100007F:1F90` (IPv4: one 32-bit word) or 32 hex digits (IPv6: four
/// words), each word printed as the kernel holds it in memory; the port
/// in host order.
fn parse_addr(s: &str, v6: bool) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    if port.len() != 4 {
        return None;
    }
    let port = u16::from_str_radix(port, 16).ok()?;
    let ip = if v6 {
        if ip.len() != 32 || !ip.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, chunk) in bytes.chunks_exact_mut(4).enumerate() {
            let word = u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16).ok()?;
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if ip.len() != 8 {
            return None;
        }
        let word = u32::from_str_radix(ip, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
    };
    Some(SocketAddr::new(ip, port))
}

/// One namespace's sockets, as read.
#[derive(Debug, Clone, Default)]
pub struct NetnsSockets {
    /// `net:[inode]`.
    pub netns: String,
    /// Every socket of the four tables.
    pub sockets: Vec<Socket>,
    /// Socket inode → the process holding it.
    pub owners: HashMap<u64, SocketOwner>,
    /// A table was cut at the caps.
    pub truncated: bool,
}

/// What to read for one running container.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Its id (its init's cgroup must name it).
    pub id: String,
    /// `State.Pid`.
    pub pid: i64,
    /// `HostConfig.NetworkMode`.
    pub network_mode: String,
    /// Its processes' host pids, when known (for socket owners).
    pub pids: Vec<String>,
}

/// Each container's sockets (in `asks` order), or why they cannot be read.
/// Containers in the same namespace share one read (the same `Arc`).
pub fn read_all(proc: &Path, asks: &[Ask]) -> Vec<Result<std::sync::Arc<NetnsSockets>, String>> {
    let began = std::time::Instant::now();
    let out = read_each(proc, asks);
    *LAST_PASS.lock().unwrap_or_else(|e| e.into_inner()) = Some((began, began.elapsed()));
    out
}

fn read_each(proc: &Path, asks: &[Ask]) -> Vec<Result<std::sync::Arc<NetnsSockets>, String>> {
    let host_ns = netns_of(proc, "1");
    let own_ns = netns_of(proc, "self");
    let mut by_ns: HashMap<String, std::sync::Arc<NetnsSockets>> = HashMap::new();
    asks.iter()
        .map(|a| {
            if a.network_mode == "host" {
                return Err("it uses the host's network namespace (--network host): its sockets are the host's".into());
            }
            if a.pid <= 0 {
                return Err("it has no process".into());
            }
            let pid = a.pid.to_string();
            let cgroup = std::fs::read_to_string(proc.join(&pid).join("cgroup")).map_err(|e| {
                format!("its process {pid} is not visible on this machine ({e}): an engine in a VM, another PID namespace, or hidepid")
            })?;
            if a.id.len() < 12 || !cgroup.contains(&a.id) {
                return Err(format!(
                    "pid {pid} on this machine is not its process: the engine runs elsewhere (a VM) or in another PID namespace"
                ));
            }
            let ns = netns_of(proc, &pid)
                .ok_or_else(|| format!("cannot read /proc/{pid}/ns/net"))?;
            if Some(&ns) == host_ns.as_ref() || Some(&ns) == own_ns.as_ref() {
                return Err("it is in the host's network namespace: its sockets are the host's".into());
            }
            if let Some(done) = by_ns.get(&ns) {
                return Ok(done.clone());
            }
            let read = std::sync::Arc::new(read_netns(proc, &pid, ns.clone(), &a.pids)?);
            by_ns.insert(ns, read.clone());
            Ok(read)
        })
        .collect()
}

/// The four tables of `pid`'s namespace, and the owners of its sockets
/// among `pids` (the init when none are given).
fn read_netns(
    proc: &Path,
    pid: &str,
    netns: String,
    pids: &[String],
) -> Result<NetnsSockets, String> {
    let mut out = NetnsSockets {
        netns,
        ..NetnsSockets::default()
    };
    let mut read_any = false;
    let mut last_err = String::new();
    for (file, proto, v6) in TABLES {
        let path = proc.join(pid).join("net").join(file);
        match bounded_read(&path, MAX_TABLE_BYTES) {
            Ok((text, cut)) => {
                read_any = true;
                let (list, more) = parse_table(&text, proto, v6);
                out.sockets.extend(list);
                out.truncated |= cut || more;
            }
            // No IPv6 in the kernel, for instance: the others still count.
            Err(e) => last_err = format!("cannot read {}: {e}", path.display()),
        }
    }
    if !read_any {
        return Err(last_err);
    }
    let mut wanted: std::collections::HashSet<u64> = out
        .sockets
        .iter()
        .map(|s| s.inode)
        .filter(|i| *i != 0)
        .collect();
    let init = [pid.to_string()];
    let pids = if pids.is_empty() { &init[..] } else { pids };
    for p in pids.iter().take(MAX_OWNER_PIDS) {
        if wanted.is_empty() {
            break;
        }
        let Ok(fds) = std::fs::read_dir(proc.join(p).join("fd")) else {
            continue;
        };
        let comm = std::fs::read_to_string(proc.join(p).join("comm"))
            .map(|c| c.trim_end().chars().take(64).collect::<String>())
            .unwrap_or_default();
        let Ok(num) = p.parse::<u32>() else { continue };
        for e in fds.take(MAX_FDS).flatten() {
            let Ok(target) = std::fs::read_link(e.path()) else {
                continue;
            };
            if let Some(inode) = socket_inode(&target.to_string_lossy())
                && wanted.remove(&inode)
            {
                out.owners.insert(
                    inode,
                    SocketOwner {
                        pid: num,
                        comm: comm.clone(),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// `socket:[12345]` → 12345. Pure.
pub fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `readlink /proc/<pid>/ns/net`.
fn netns_of(proc: &Path, pid: &str) -> Option<String> {
    std::fs::read_link(proc.join(pid).join("ns/net"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// At most `max` bytes, and whether there was more.
fn bounded_read(path: &Path, max: u64) -> std::io::Result<(String, bool)> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut buf)?;
    let cut = buf.len() as u64 > max;
    if cut {
        buf.truncate(max as usize);
        // Drop the partial last line.
        if let Some(end) = buf.iter().rposition(|b| *b == b'\n') {
            buf.truncate(end + 1);
        }
    }
    Ok((String::from_utf8_lossy(&buf).into_owned(), cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

    #[test]
    #[cfg(target_endian = "little")]
    fn ipv4_table() {
        let text = format!(
            "{HEADER}   0: 00000000:1B58 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0\n   1: 020013AC:D2B4 030013AC:1B58 01 00000000:00000000 00:00000000 00000000  1000        0 42 1 0000000000000000 20 4 30 10 -1\n   2: 0100007F:0050 0100007F:9C40 06 00000000:00000000 03:00001234 00000000     0        0 0 3 0000000000000000\n"
        );
        let (list, cut) = parse_table(&text, Proto::Tcp, false);
        assert!(!cut);
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].local, "0.0.0.0:7000".parse().unwrap());
        assert_eq!(list[0].state, SockState::Listen);
        assert_eq!(list[0].inode, 31337);
        assert!(list[0].is_listener());
        assert_eq!(list[1].local, "172.19.0.2:53940".parse().unwrap());
        assert_eq!(list[1].remote, "172.19.0.3:7000".parse().unwrap());
        assert_eq!(list[1].state, SockState::Established);
        assert_eq!(list[1].uid, 1000);
        assert_eq!(list[1].inode, 42);
        assert_eq!(list[2].state, SockState::TimeWait);
        assert_eq!(list[2].remote, "127.0.0.1:40000".parse().unwrap());
    }

    #[test]
    #[cfg(target_endian = "little")]
    fn ipv6_table_word_order() {
        // `::1` and `::ffff:172.19.0.3`, and 2001:db8::1, as the kernel prints them.
        let text = format!(
            "{HEADER}   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0000000000000000 100 0 0 10 0\n   1: 0000000000000000FFFF0000030013AC:1F90 0000000000000000FFFF0000020013AC:A000 01 00000000:00000000 00:00000000 00000000     0        0 8 1\n   2: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0 0 0 0 0 9\n"
        );
        let (list, _) = parse_table(&text, Proto::Tcp, true);
        assert_eq!(list.len(), 3, "{list:?}");
        assert_eq!(list[0].local, "[::1]:8080".parse().unwrap());
        assert_eq!(list[1].local, "[::ffff:172.19.0.3]:8080".parse().unwrap());
        assert_eq!(list[1].remote, "[::ffff:172.19.0.2]:40960".parse().unwrap());
        assert_eq!(
            crate::model::flows::unmapped(list[1].remote.ip()),
            "172.19.0.2".parse::<IpAddr>().unwrap()
        );
        assert_eq!(list[2].local, "[2001:db8::1]:22".parse().unwrap());
    }

    #[test]
    fn udp_and_garbage() {
        let text = format!(
            "{HEADER}  123: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0000000000000000 0\nnot a line\n 1: zz:zz yy 01 0 0 0 0 0 1\n 2: 00000000:0035 00000000:0000 7 0 0 0 0 0 5\n 3: 00000000:035 00000000:0000 07 0 0 0 0 0 5\n 4: 00000000:0035 00000000:0000 07 0 0 0 x 0 5\n"
        );
        let (list, _) = parse_table(&text, Proto::Udp, false);
        assert_eq!(list.len(), 1);
        assert!(list[0].is_listener());
        assert_eq!(list[0].local.port(), 53);
        assert!(parse_table("", Proto::Tcp, false).0.is_empty());
        assert!(
            parse_table(
                &format!("{HEADER} 0: 0000:0 0:0 0A 0 0 0 0 0 1"),
                Proto::Tcp,
                true
            )
            .0
            .is_empty()
        );
    }

    #[test]
    fn long_tables_are_cut() {
        let mut text = HEADER.to_string();
        for i in 0..MAX_LINES + 5 {
            text.push_str(&format!(
                "{i}: 00000000:0050 00000000:0000 0A 0 0 0 0 0 {i}\n"
            ));
        }
        let (list, cut) = parse_table(&text, Proto::Tcp, false);
        assert!(cut);
        assert_eq!(list.len(), MAX_LINES);
    }

    #[test]
    fn the_cadence_stretches_with_the_cost() {
        use std::time::{Duration, Instant};
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert!(due(None, t0));
        assert!(!due(Some((t0, ms(300))), t0 + ms(2999)));
        assert!(due(Some((t0, ms(300))), t0 + ms(3000)));
        assert!(due(Some((t0, ms(1))), t0 + ms(10)));
    }

    #[test]
    fn socket_links() {
        assert_eq!(socket_inode("socket:[123]"), Some(123));
        assert_eq!(socket_inode("pipe:[123]"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn out_of_reach_is_not_available() {
        let ask = |pid, mode: &str| Ask {
            id: "0123456789abcdef".repeat(4),
            pid,
            network_mode: mode.into(),
            pids: vec![],
        };
        let me = i64::from(std::process::id());
        let r = read_all(
            Path::new("/proc"),
            &[
                ask(me, "bridge"),
                ask(0, "bridge"),
                ask(me, "host"),
                ask(i64::MAX, "bridge"),
            ],
        );
        for r in r {
            let e = r.unwrap_err();
            assert!(!e.is_empty());
        }
        let r = read_all(Path::new("/nonexistent"), &[ask(1, "bridge")]);
        assert!(r[0].as_ref().unwrap_err().contains("not visible"));
    }
}
