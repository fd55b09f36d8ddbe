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
use std::path::Path;

use crate::model::Process;

/// How a container's process list was read, for the Facts.
pub const FROM_PROC: &str = "/proc on this machine";
pub const FROM_TOP: &str = "the engine's top";

/// The processes sharing `init_pid`'s PID namespace, read under `proc`
/// (`/proc`), or `None` to fall back to `top`. The init must be the
/// container's: its cgroup names the container id (Docker and Podman put
/// it in every cgroup path). That also rules out an engine in a VM whose
/// pids mean other processes here (Docker Desktop).
pub fn read(proc: &Path, init_pid: i64, container_id: &str) -> Option<Vec<Process>> {
    if init_pid <= 0 || container_id.len() < 12 {
        return None;
    }
    let cgroup = std::fs::read_to_string(proc.join(init_pid.to_string()).join("cgroup")).ok()?;
    if !cgroup.contains(container_id) {
        return None;
    }
    let ns = |pid: &str| std::fs::read_link(proc.join(pid).join("ns/pid")).ok();
    let target = ns(&init_pid.to_string())?;
    // The host's own namespace (`--pid host`): every process would match.
    if ns("self").as_ref() == Some(&target) || ns("1").as_ref() == Some(&target) {
        return None;
    }
    let users = passwd();
    let mut out = Vec::new();
    for entry in std::fs::read_dir(proc).ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        if ns(pid).as_ref() != Some(&target) {
            continue;
        }
        let dir = entry.path();
        // Gone between the listing and now: skip it.
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
            user: users.get(&uid).cloned().unwrap_or(uid),
            pid: pid.to_string(),
            comm: super::convert::bounded(comm),
            command: super::convert::bounded(command),
        });
        if out.len() >= super::convert::limits::ITEMS {
            break;
        }
    }
    if out.is_empty() {
        return None;
    }
    out.sort_by_key(|p| p.pid.parse::<u64>().unwrap_or(u64::MAX));
    Some(out)
}

/// uid → user name from the host's `/etc/passwd`, as `ps` on the host
/// (which `top` runs) would name them.
fn passwd() -> HashMap<String, String> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?;
            Some((uid.to_string(), name.to_string()))
        })
        .collect()
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
