//! A running container's processes from `/proc`, for an engine on this
//! machine: every process in the container's PID namespace (its init's,
//! `State.Pid`), with user, pid, `comm` and command line — what
//! `GET /containers/{id}/top` gives, without making the engine run `ps`
//! across the whole host for every running container on every poll.
//!
//! Falls back (returns `None`) where that cannot work: the container shares
//! the host's PID namespace, its init is not visible here (another machine,
//! a VM like Docker Desktop's, `hidepid`), or nothing could be read. Only
//! reads files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::Process;

/// How a container's process list was read, for the Facts.
pub const FROM_PROC: &str = "/proc on this machine";
/// Where process facts come from when `/proc` of the host cannot be read.
pub const FROM_TOP: &str = "the engine's top";

/// The processes sharing `init_pid`'s PID namespace, read under `proc`
/// (`/proc`), or `None` to fall back to `top`. The init must be the
/// container's: its cgroup names the container id (Docker and Podman put
/// it in every cgroup path). That also rules out an engine in a VM whose
/// pids mean other processes here (Docker Desktop).
///
/// Which process is in which namespace comes from one pass over `proc`,
/// shared by every container (and every engine) read within
/// [`INDEX_AGE`]: a scan of N running containers costs one pass, not N.
pub fn read(proc: &Path, init_pid: i64, container_id: &str) -> Option<Vec<Process>> {
    if init_pid <= 0 || container_id.len() < 12 {
        return None;
    }
    let asked = Instant::now();
    let init = init_pid.to_string();
    let cgroup = std::fs::read_to_string(proc.join(&init).join("cgroup")).ok()?;
    if !cgroup.contains(container_id) {
        return None;
    }
    let target = ns_of(proc, &init)?;
    let recent = asked.checked_sub(INDEX_AGE).unwrap_or(asked);
    let mut index = Index::since(proc, recent);
    if !index.pids.contains_key(&target) {
        // Started after that pass: look again, once.
        index = Index::since(proc, asked);
    }
    // The host's own namespace (`--pid host`): every process would match.
    if index.host.contains(&target) {
        return None;
    }
    let mut out = Vec::new();
    for pid in index.pids.get(&target)? {
        let dir = proc.join(pid.to_string());
        // Gone since the pass, or its pid reused by another namespace: skip it.
        if ns_of(proc, &pid.to_string()).as_ref() != Some(&target) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("")
            .to_string();
        let comm = std::fs::read_to_string(dir.join("comm"))
            .map(|c| c.trim_end_matches('\n').to_string())
            .unwrap_or_default();
        let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let command = if args.is_empty() {
            format!("[{comm}]")
        } else {
            args.join(" ")
        };
        out.push(Process {
            user: index.users.get(&uid).cloned().unwrap_or(uid),
            pid: pid.to_string(),
            comm: super::convert::bounded(comm),
            command: super::convert::bounded(command),
            cap_eff: cap_eff_bits(&status),
        });
        if out.len() >= super::convert::limits::ITEMS {
            break;
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(out)
}

/// The most files in use kept per container, and lines of one process's
/// `maps` and entries of its `fd` folder looked at.
/// The ports something listens on in a process's network namespace, from
/// `/proc/PID/net/{tcp,tcp6,udp,udp6}` (TCP in state LISTEN, UDP bound):
/// `(port, "tcp"|"udp")`. `None` when none of the files could be read.
pub fn listening(proc: &Path, pid: i64) -> Option<std::collections::BTreeSet<(u16, &'static str)>> {
    let mut out = std::collections::BTreeSet::new();
    let mut read_any = false;
    for (file, proto) in [
        ("tcp", "tcp"),
        ("tcp6", "tcp"),
        ("udp", "udp"),
        ("udp6", "udp"),
    ] {
        let Ok(text) = bounded_read(&proc.join(pid.to_string()).join("net").join(file), 4 << 20)
        else {
            continue;
        };
        read_any = true;
        out.extend(listening_in(&text, proto));
    }
    read_any.then_some(out)
}

/// The bit set of a `status` file's `CapEff:` line. Pure.
fn cap_eff_bits(status: &str) -> Option<u64> {
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// The names in a `status` file's `CapEff:` line. Pure.
pub fn cap_eff(status: &str) -> Option<Vec<&'static str>> {
    cap_eff_bits(status).map(crate::model::cap_names)
}

/// One `/proc/net/{tcp,udp}` table's listening ports. Pure.
pub fn listening_in(text: &str, proto: &'static str) -> Vec<(u16, &'static str)> {
    // `sl local_address rem_address st …`: LISTEN is 0A; a bound UDP socket 07.
    let want = if proto == "tcp" { "0A" } else { "07" };
    text.lines()
        .skip(1)
        .take(100_000)
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let local = f.nth(1)?;
            let state = f.nth(1)?;
            (state == want).then_some(())?;
            let port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            Some((port, proto))
        })
        .collect()
}

fn bounded_read(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut s = String::new();
    std::fs::File::open(path)?
        .take(max)
        .read_to_string(&mut s)?;
    Ok(s)
}

const MAX_IN_USE: usize = 20_000;
const MAX_MAPS_LINES: usize = 50_000;
const MAX_FDS: usize = 10_000;

/// The files the processes `pids` (of one container) run, have mapped or
/// hold open: `/proc/<pid>/exe`, the file-backed lines of
/// `/proc/<pid>/maps`, and `/proc/<pid>/fd/*` links to files — paths as the
/// container sees them (what `/proc` shows for a process in another mount
/// namespace), in their `/usr`-merged spelling. Devices, sockets, pipes
/// and deleted files are left out.
pub fn files_in_use(proc: &Path, pids: &[String]) -> std::collections::BTreeSet<String> {
    use std::io::BufRead;
    let mut out = std::collections::BTreeSet::new();
    let mut add = |p: &str| {
        let p = p.trim_end_matches(" (deleted)");
        if p.starts_with('/')
            && !p.starts_with("/dev/")
            && !p.starts_with("/proc/")
            && !p.starts_with("/sys/")
            && !p.starts_with("/memfd:")
            && out.len() < MAX_IN_USE
        {
            out.insert(crate::model::packages::usr_merged(p).into_owned());
        }
    };
    for pid in pids {
        let dir = proc.join(pid);
        if let Ok(exe) = std::fs::read_link(dir.join("exe")) {
            add(&exe.to_string_lossy());
        }
        if let Ok(f) = std::fs::File::open(dir.join("maps")) {
            for line in std::io::BufReader::new(f).lines().take(MAX_MAPS_LINES) {
                let Ok(line) = line else { break };
                // address perms offset dev inode path
                if let Some(path) = line.splitn(6, char::is_whitespace).nth(5) {
                    add(path.trim_start());
                }
            }
        }
        if let Ok(fds) = std::fs::read_dir(dir.join("fd")) {
            for e in fds.take(MAX_FDS).flatten() {
                if let Ok(t) = std::fs::read_link(e.path()) {
                    add(&t.to_string_lossy());
                }
            }
        }
    }
    out
}

/// How long one pass over `/proc` answers for: a scan's or a poll's
/// containers are all read well within it.
pub const INDEX_AGE: Duration = Duration::from_secs(1);

/// `readlink /proc/<pid>/ns/pid`: the namespace, as `pid:[inode]`.
fn ns_of(proc: &Path, pid: &str) -> Option<PathBuf> {
    std::fs::read_link(proc.join(pid).join("ns/pid")).ok()
}

/// One pass over `/proc`: every process by PID namespace (pids ascending),
/// the host's namespaces, and the host's user names.
#[derive(Debug, Default)]
struct Index {
    pids: HashMap<PathBuf, Vec<u32>>,
    /// Our own and pid 1's namespace.
    host: Vec<PathBuf>,
    /// uid → user name from the host's `/etc/passwd`, as `ps` on the host
    /// (which `top` runs) would name them.
    users: HashMap<String, String>,
}

type Cached = (Instant, PathBuf, Arc<Index>);

/// The last pass, shared by every caller in the process.
static LAST: Mutex<Option<Cached>> = Mutex::new(None);

impl Index {
    /// A pass over `proc` made no earlier than `since`: the last one if it
    /// is, else a new one. The lock is held while reading, so callers that
    /// miss together share one new pass.
    fn since(proc: &Path, since: Instant) -> Arc<Index> {
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, p, index)) = last.as_ref()
            && p == proc
            && *at >= since
        {
            return index.clone();
        }
        let index = Arc::new(Self::read(proc));
        *last = Some((Instant::now(), proc.to_path_buf(), index.clone()));
        index
    }

    fn read(proc: &Path) -> Index {
        let mut pids: HashMap<PathBuf, Vec<u32>> = HashMap::new();
        for entry in std::fs::read_dir(proc).into_iter().flatten().flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(ns) = ns_of(proc, &pid.to_string()) {
                pids.entry(ns).or_default().push(pid);
            }
        }
        for list in pids.values_mut() {
            list.sort_unstable();
        }
        let host = ["self", "1"]
            .iter()
            .filter_map(|p| ns_of(proc, p))
            .collect();
        let users = std::fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                let uid = f.nth(1)?;
                Some((uid.to_string(), name.to_string()))
            })
            .collect();
        Index { pids, host, users }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_namespace_falls_back_and_bad_pids_too() {
        // The test runs in the host's PID namespace: reading "a container"
        // whose init is this process must fall back to top.
        let me = std::process::id() as i64;
        let id = "0123456789abcdef".repeat(4);
        assert!(
            read(Path::new("/proc"), me, &id).is_none(),
            "not the container's init"
        );
        assert!(read(Path::new("/proc"), 0, &id).is_none());
        assert!(read(Path::new("/proc"), i64::MAX, &id).is_none());
        assert!(read(Path::new("/nonexistent"), 1, &id).is_none());
    }
}

#[cfg(test)]
mod listening_tests {
    use super::listening_in;

    #[test]
    fn listening_ports_of_a_proc_net_table() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 10 0\n   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 10 0\n   2: 0A00020F:0050 0A000201:D2B4 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 10 0\n";
        assert_eq!(listening_in(tcp, "tcp"), [(80, "tcp"), (8080, "tcp")]);
        let udp = "  sl  local_address rem_address   st\n  1: 00000000:0035 00000000:0000 07 0\n";
        assert_eq!(listening_in(udp, "udp"), [(53, "udp")]);
        assert!(listening_in("garbage\n1: x y", "tcp").is_empty());
        // Docker's default set for root, and a process that dropped all.
        assert_eq!(
            super::cap_eff("Name:\tsh\nCapEff:\t00000000a80425fb\n").unwrap(),
            [
                "CHOWN",
                "DAC_OVERRIDE",
                "FOWNER",
                "FSETID",
                "KILL",
                "SETGID",
                "SETUID",
                "SETPCAP",
                "NET_BIND_SERVICE",
                "NET_RAW",
                "SYS_CHROOT",
                "MKNOD",
                "AUDIT_WRITE",
                "SETFCAP"
            ]
        );
        assert_eq!(
            super::cap_eff("CapEff:\t0000000000000000\n").unwrap(),
            Vec::<&str>::new()
        );
        assert!(super::cap_eff("CapEff: zz").is_none());
    }
}
