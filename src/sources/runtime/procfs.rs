//! One reading of `/proc`: every process of the containers asked about,
//! with its parents, users, executable, arguments (redacted), working
//! directory, start time and standard streams. Only reads files, each
//! with a ceiling; at most [`Caps::procs`] processes per container.
//!
//! Unprivileged, `stat`, `status`, `cmdline` and `cgroup` of anyone's
//! processes are readable; `exe`, `cwd` and `fd/` of other users' are not
//! (ptrace access rules): those stay `None`/unknown and the result says so.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::cgroup;
use crate::model::runtime::{Ancestor, MAX_ANCESTORS, Observed, ProcInfo, Stdio};

/// Ceilings of one reading.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Processes kept per container.
    pub procs: usize,
    /// `/proc` entries walked at most (the whole host).
    pub walk: usize,
    /// Bytes of one command line read.
    pub cmdline: u64,
    /// Arguments of one command line kept.
    pub args: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            procs: 2_000,
            walk: 200_000,
            cmdline: 4_096,
            args: 64,
        }
    }
}

/// What a one-shot reading says it is, for the report.
pub const SNAPSHOT: &str =
    "one reading of /proc (processes that started and ended before it are not seen)";

/// The fields of `/proc/PID/stat` used here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// `comm`.
    pub comm: String,
    /// Parent pid.
    pub ppid: u32,
    /// Start time, clock ticks after boot.
    pub start_ticks: u64,
}

/// `/proc/PID/stat`: `pid (comm) state ppid … starttime(22) …`. `comm`
/// may hold spaces and parentheses: it ends at the last `)`. Pure.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?;
    let mut rest = text.get(close + 1..)?.split_whitespace();
    // After comm: state(3) ppid(4) … starttime(22) → index 19 from state.
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    let start_ticks = rest.nth(17)?.parse().ok()?;
    Some(Stat {
        comm: comm.chars().take(64).collect(),
        ppid,
        start_ticks,
    })
}

/// `Uid:` of `/proc/PID/status`: (real, effective). Pure.
pub fn parse_uids(status: &str) -> Option<(u32, u32)> {
    let line = status
        .lines()
        .take(100)
        .find_map(|l| l.strip_prefix("Uid:"))?;
    let mut f = line.split_whitespace();
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

/// `btime` of `/proc/stat`: boot time, seconds since the epoch. Pure.
pub fn parse_btime(stat: &str) -> Option<i64> {
    stat.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// A NUL-separated command line as at most `max` arguments, each at most
/// 1,024 characters, secrets hidden. Pure.
pub fn parse_cmdline(raw: &[u8], max: usize) -> Vec<String> {
    let args: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .take(max)
        .map(|a| String::from_utf8_lossy(a).chars().take(1_024).collect())
        .collect();
    crate::model::redact::redact_args(&args)
}

/// Clock ticks per second of `stat`'s times: `USER_HZ`, 100 on every
/// architecture Linux runs containers on.
const TICKS: u64 = 100;

/// Reads at most `cap` bytes of a file.
fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(path)?.take(cap).read_to_end(&mut out)?;
    Ok(out)
}

fn read_text(path: &Path, cap: u64) -> Option<String> {
    read_capped(path, cap)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// One process as the first pass saw it.
#[derive(Debug, Clone)]
struct Seen {
    stat: Stat,
    owner: Option<String>,
}

/// The processes of the containers `ids` (full ids), read under `proc`:
/// one [`Observed`] per container that has any, keyed by id.
pub fn read(proc: &Path, ids: &[String], caps: Caps) -> HashMap<String, Observed> {
    let want: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut seen: HashMap<u32, Seen> = HashMap::new();
    let mut pids: Vec<u32> = std::fs::read_dir(proc)
        .into_iter()
        .flatten()
        .flatten()
        .take(caps.walk)
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    for &pid in &pids {
        let dir = proc.join(pid.to_string());
        let Some(stat) = read_text(&dir.join("stat"), 4_096).and_then(|t| parse_stat(&t)) else {
            continue;
        };
        let owner = read_text(&dir.join("cgroup"), 16_384)
            .map(|t| cgroup::parse(&t))
            .and_then(|o| {
                o.ids
                    .iter()
                    .find(|(_, id)| want.contains(id.as_str()))
                    .map(|(_, id)| id.clone())
            });
        seen.insert(pid, Seen { stat, owner });
    }
    let boot = read_text(&proc.join("stat"), 1 << 20).and_then(|t| parse_btime(&t));
    let now = Utc::now();
    let mut out: HashMap<String, Observed> = HashMap::new();
    let mut denied = false;
    for &pid in &pids {
        let Some(s) = seen.get(&pid) else { continue };
        let Some(owner) = &s.owner else { continue };
        let o = out.entry(owner.clone()).or_insert_with(|| Observed {
            available: true,
            source: SNAPSHOT.into(),
            at: Some(now),
            ..Observed::default()
        });
        if o.procs.len() >= caps.procs {
            o.more += 1;
            continue;
        }
        let (p, readable) = process(proc, pid, s, &seen, boot, caps);
        denied |= !readable;
        o.procs.push(p);
    }
    if denied {
        for o in out.values_mut() {
            o.limits.push(NOT_ROOT.into());
        }
    }
    out
}

/// One process, right after an event named it: attributed to the
/// outermost container its cgroup names (`None` container for a host
/// process), its parents read on the way up. `None` when it is gone.
pub fn one(proc: &Path, pid: u32, caps: Caps) -> Option<ProcInfo> {
    let first = seen_one(proc, pid)?;
    let mut seen = HashMap::new();
    let mut at = first.stat.ppid;
    seen.insert(pid, first.clone());
    for _ in 0..MAX_ANCESTORS {
        if at == 0 || seen.contains_key(&at) {
            break;
        }
        let Some(p) = seen_one(proc, at) else { break };
        let next = p.stat.ppid;
        let outside = p.owner != first.owner;
        seen.insert(at, p);
        if outside {
            break;
        }
        at = next;
    }
    Some(process(proc, pid, &first, &seen, boot_time(proc), caps).0)
}

fn seen_one(proc: &Path, pid: u32) -> Option<Seen> {
    let dir = proc.join(pid.to_string());
    let stat = read_text(&dir.join("stat"), 4_096).and_then(|t| parse_stat(&t))?;
    let owner = read_text(&dir.join("cgroup"), 16_384)
        .and_then(|t| cgroup::parse(&t).outer().map(str::to_string));
    Some(Seen { stat, owner })
}

/// Boot time of `proc`'s machine, read once per process for `/proc`
/// (events read one process at a time), each time for another folder.
fn boot_time(proc: &Path) -> Option<i64> {
    static BOOT: std::sync::OnceLock<Option<i64>> = std::sync::OnceLock::new();
    let read = || read_text(&proc.join("stat"), 1 << 20).and_then(|t| parse_btime(&t));
    if proc == Path::new("/proc") {
        *BOOT.get_or_init(read)
    } else {
        read()
    }
}

/// The outermost container `pid` belongs to, from its cgroup alone (one
/// small read: cheap enough for every fork).
pub fn owner_of(proc: &Path, pid: u32) -> Option<String> {
    read_text(&proc.join(pid.to_string()).join("cgroup"), 16_384)
        .and_then(|t| cgroup::parse(&t).outer().map(str::to_string))
}

/// What an unprivileged reading cannot see.
pub const NOT_ROOT: &str = "executables, working directories and standard streams of processes \
                            of other users could not be read (not root): programs are named by \
                            their arguments, and sockets on standard input/output are not seen";

/// One process in full; and whether its `exe` was readable.
fn process(
    proc: &Path,
    pid: u32,
    s: &Seen,
    seen: &HashMap<u32, Seen>,
    boot: Option<i64>,
    caps: Caps,
) -> (ProcInfo, bool) {
    let dir = proc.join(pid.to_string());
    let uids = read_text(&dir.join("status"), 16_384).and_then(|t| parse_uids(&t));
    let shown = |s: &str| crate::model::visible(s).into_owned();
    let args = read_capped(&dir.join("cmdline"), caps.cmdline)
        .map(|b| parse_cmdline(&b, caps.args))
        .unwrap_or_default()
        .iter()
        .map(|a| shown(a))
        .collect();
    let link = |name: &str| {
        std::fs::read_link(dir.join(name))
            .ok()
            .map(|p| shown(&p.to_string_lossy().chars().take(4_096).collect::<String>()))
    };
    let exe = link("exe");
    let readable = exe.is_some() || !dir.exists();
    let cwd = link("cwd");
    let stdio = [0, 1, 2].map(
        |fd| match std::fs::read_link(dir.join(format!("fd/{fd}"))) {
            Ok(l) => Stdio::of_link(&l.to_string_lossy()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && exe.is_some() => Stdio::Closed,
            Err(_) => Stdio::Unknown,
        },
    );
    let started = boot.and_then(|b| {
        let secs = b.checked_add(i64::try_from(s.stat.start_ticks / TICKS).ok()?)?;
        DateTime::from_timestamp(secs, 0)
    });
    let mut parents = Vec::new();
    let mut at = s.stat.ppid;
    while parents.len() < MAX_ANCESTORS && at > 0 {
        let Some(p) = seen.get(&at) else { break };
        let in_container = p.owner == s.owner;
        parents.push(Ancestor {
            pid: at,
            name: crate::model::visible(&p.stat.comm).into_owned(),
            exe: in_container
                .then(|| std::fs::read_link(proc.join(at.to_string()).join("exe")).ok())
                .flatten()
                .map(|e| crate::model::visible(&e.to_string_lossy()).into_owned()),
            in_container,
        });
        if !in_container {
            break;
        }
        at = p.stat.ppid;
    }
    (
        ProcInfo {
            pid,
            ppid: s.stat.ppid,
            name: crate::model::visible(&s.stat.comm).into_owned(),
            exe,
            args,
            cwd,
            uid: uids.map(|u| u.0),
            euid: uids.map(|u| u.1),
            started,
            stdio,
            container_id: s.owner.clone(),
            parents,
        },
        readable,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_status_and_cmdline() {
        let s = parse_stat(
            "42 (my (odd) name) S 7 42 42 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 123456 1 2 3",
        )
        .unwrap();
        assert_eq!(s.comm, "my (odd) name");
        assert_eq!(s.ppid, 7);
        assert_eq!(s.start_ticks, 123_456);
        assert!(parse_stat("42 (x) S").is_none());
        assert!(parse_stat("garbage").is_none());
        assert_eq!(
            parse_uids("Name:\tsh\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n"),
            Some((1000, 0))
        );
        assert_eq!(parse_uids("Uid: x"), None);
        assert_eq!(
            parse_btime("cpu 1 2\nbtime 1765000000\n"),
            Some(1_765_000_000)
        );
        let args = parse_cmdline(b"mysql\0--password\0hunter2\0\0", 64);
        assert_eq!(args.len(), 3);
        assert!(!args.join(" ").contains("hunter2"), "{args:?}");
        assert_eq!(parse_cmdline(b"a\0b\0c\0d", 2), ["a", "b"]);
    }

    #[test]
    fn our_own_process_is_no_container() {
        // The test runs on the host: asked for a made-up id, nothing.
        let id = "0123456789abcdef".repeat(4);
        assert!(read(Path::new("/proc"), &[id], Caps::default()).is_empty());
        assert!(read(Path::new("/nonexistent"), &[], Caps::default()).is_empty());
    }
}
