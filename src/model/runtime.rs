//! What runs inside a container, as plain data: each process seen (from
//! `/proc` on the engine's machine), who started it, and how it was seen.
//!
//! Filled by `crate::sources::runtime`; judged by `crate::rules::procs`.
//! Arguments are redacted before they get here (never a secret's value).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one of a process's standard streams (fd 0, 1, 2) is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "inode")]
pub enum Stdio {
    /// Not read (no permission, or the process was gone).
    #[default]
    Unknown,
    /// Closed.
    Closed,
    /// A socket (`socket:[inode]`): network or Unix, not told apart here.
    Socket(u64),
    /// A pipe.
    Pipe,
    /// A terminal (`/dev/pts/N`, `/dev/console`).
    Tty,
    /// `/dev/null`.
    Null,
    /// A file or another device.
    File,
}

impl Stdio {
    /// What a `/proc/PID/fd/N` link says, as a kind. Pure.
    pub fn of_link(link: &str) -> Self {
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|r| r.strip_suffix(']'))
        {
            return inode.parse().map_or(Self::File, Self::Socket);
        }
        if link.starts_with("pipe:[") {
            Self::Pipe
        } else if link == "/dev/null" {
            Self::Null
        } else if link.starts_with("/dev/pts/") || link == "/dev/console" || link == "/dev/tty" {
            Self::Tty
        } else {
            Self::File
        }
    }

    /// Short word for evidence.
    pub fn describe(&self) -> String {
        match self {
            Self::Unknown => "unknown".into(),
            Self::Closed => "closed".into(),
            Self::Socket(i) => format!("socket:[{i}]"),
            Self::Pipe => "pipe".into(),
            Self::Tty => "terminal".into(),
            Self::Null => "/dev/null".into(),
            Self::File => "file".into(),
        }
    }
}

/// A process up the parent chain of another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ancestor {
    /// Its pid on the host.
    pub pid: u32,
    /// Its short name (`comm`).
    pub name: String,
    /// Its executable, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// Whether it belongs to the same container (else: the engine's shim,
    /// `runc`, the host — how `docker exec` and healthchecks start).
    pub in_container: bool,
}

/// One process seen in a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcInfo {
    /// Its pid on the host.
    pub pid: u32,
    /// Its parent's pid on the host.
    pub ppid: u32,
    /// Its short name (`comm`, at most 15 bytes, chosen by the program).
    pub name: String,
    /// `/proc/PID/exe` as the container sees it: may end in ` (deleted)`
    /// or be `/memfd:…`. `None` when it could not be read (not root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// Its arguments, secrets hidden, bounded.
    pub args: Vec<String>,
    /// Its working directory, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Real user id (host view).
    pub uid: Option<u32>,
    /// Effective user id (host view).
    pub euid: Option<u32>,
    /// When it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<DateTime<Utc>>,
    /// What its stdin, stdout and stderr are.
    pub stdio: [Stdio; 3],
    /// The container it belongs to (from its cgroup), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Its parents, nearest first, up to the first outside its container
    /// (at most [`MAX_ANCESTORS`]).
    pub parents: Vec<Ancestor>,
}

/// The most ancestors kept for one process.
pub const MAX_ANCESTORS: usize = 8;

impl ProcInfo {
    /// The program's name: the last part of its executable (or of its
    /// first argument when the executable is unknown), else `comm`.
    pub fn program(&self) -> &str {
        let path = self
            .exe
            .as_deref()
            .map(|e| e.trim_end_matches(" (deleted)"))
            .or_else(|| self.args.first().map(String::as_str))
            .unwrap_or("");
        let base = path.rsplit('/').next().unwrap_or("");
        if base.is_empty() { &self.name } else { base }
    }

    /// The names it answers to: `comm`, the executable's and the first
    /// argument's last part (busybox runs `sh` as `/bin/busybox`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let exe = self
            .exe
            .as_deref()
            .map(|e| e.trim_end_matches(" (deleted)"))
            .and_then(|e| e.rsplit('/').next());
        let arg0 = self.args.first().and_then(|a| a.rsplit('/').next());
        [Some(self.name.as_str()), exe, arg0]
            .into_iter()
            .flatten()
            .filter(|n| !n.is_empty())
    }

    /// Where it runs from: the executable, or (unknown) the first
    /// argument when it is an absolute path.
    pub fn path(&self) -> Option<&str> {
        self.exe.as_deref().or_else(|| {
            self.args
                .first()
                .map(String::as_str)
                .filter(|a| a.starts_with('/'))
        })
    }

    /// `pid 412 sh (/bin/busybox) as uid 0: sh -c id`, for evidence.
    pub fn describe(&self) -> String {
        let exe = self
            .exe
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let user = match (self.uid, self.euid) {
            (Some(u), Some(e)) if u != e => format!(" as uid {u} (effective {e})"),
            (_, Some(e)) => format!(" as uid {e}"),
            _ => String::new(),
        };
        let mut args = self.args.join(" ");
        if args.chars().count() > 200 {
            args = args.chars().take(200).collect::<String>() + "…";
        }
        crate::model::visible(&format!(
            "pid {} {}{exe}{user}: {args}",
            self.pid, self.name
        ))
        .into_owned()
    }

    /// `httpd (pid 7) ← runc (outside the container)`, for evidence.
    pub fn chain(&self) -> String {
        if self.parents.is_empty() {
            return "no parent seen".into();
        }
        let parts: Vec<String> = self
            .parents
            .iter()
            .map(|a| {
                let outside = if a.in_container {
                    ""
                } else {
                    ", outside the container"
                };
                format!("{} (pid {}{outside})", a.name, a.pid)
            })
            .collect();
        crate::model::visible(&format!("started by {}", parts.join(" ← "))).into_owned()
    }
}

/// A container's processes as read once, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// Whether processes could be read at all (else `source` says why
    /// not: never an empty list that looks clean).
    pub available: bool,
    /// How they were seen, in words ("one reading of /proc …"), or why
    /// they could not be ("not available: …").
    pub source: String,
    /// When they were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The processes, pid order, at most the source's cap.
    pub procs: Vec<ProcInfo>,
    /// Processes beyond the cap, not kept.
    #[serde(default)]
    pub more: usize,
    /// What could not be read, and what that hides (e.g. not root: no
    /// executables, no standard streams).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<String>,
}

impl Observed {
    /// Processes that could not be read, and why.
    pub fn not_available(why: &str) -> Self {
        Self {
            available: false,
            source: format!("not available: {why}"),
            ..Self::default()
        }
    }

    /// A process by pid.
    pub fn get(&self, pid: u32) -> Option<&ProcInfo> {
        self.procs.iter().find(|p| p.pid == pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdio_kinds_and_names() {
        assert_eq!(Stdio::of_link("socket:[12345]"), Stdio::Socket(12345));
        assert_eq!(Stdio::of_link("socket:[x]"), Stdio::File);
        assert_eq!(Stdio::of_link("pipe:[9]"), Stdio::Pipe);
        assert_eq!(Stdio::of_link("/dev/pts/0"), Stdio::Tty);
        assert_eq!(Stdio::of_link("/dev/null"), Stdio::Null);
        assert_eq!(Stdio::of_link("/var/log/x"), Stdio::File);
        let p = ProcInfo {
            pid: 9,
            name: "sh".into(),
            exe: Some("/bin/busybox".into()),
            args: vec!["/bin/sh".into(), "-c".into(), "id".into()],
            ..ProcInfo::default()
        };
        assert_eq!(p.program(), "busybox");
        assert_eq!(p.names().collect::<Vec<_>>(), ["sh", "busybox", "sh"]);
        let d = ProcInfo {
            exe: Some("/tmp/x (deleted)".into()),
            ..ProcInfo::default()
        };
        assert_eq!(d.program(), "x");
    }
}
