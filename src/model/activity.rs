//! What happens over time: engine events, `docker exec` sessions, runtime
//! drift of a container's filesystem, and containers that are gone.
//!
//! Plain data and pure classification; the engine layer fills it in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Severity;

/// Where an activity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An engine event about a container.
    Container,
    /// An engine event about an image.
    Image,
    /// An engine event about a network.
    Network,
    /// An engine event about a volume.
    Volume,
    /// An engine event about the daemon itself (reload, configuration).
    Daemon,
    /// Anything else the engine reports (plugin, node, service, …).
    Other,
    /// shipshape itself: gaps in the stream, new findings.
    Shipshape,
}

impl Source {
    /// The source an engine's event `Type` names; unknown types are [`Source::Other`].
    pub fn parse(s: &str) -> Self {
        match s {
            "container" => Self::Container,
            "image" => Self::Image,
            "network" => Self::Network,
            "volume" => Self::Volume,
            "daemon" => Self::Daemon,
            _ => Self::Other,
        }
    }

    /// The lowercase name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Image => "image",
            Self::Network => "network",
            Self::Volume => "volume",
            Self::Daemon => "daemon",
            Self::Other => "other",
            Self::Shipshape => "shipshape",
        }
    }
}

/// A coarse grouping for filtering the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// create, start, die, kill, oom, destroy, pause, …
    Lifecycle,
    /// exec_create / exec_start / exec_die.
    Exec,
    /// attach, copy (archive-path / extract-to-dir), commit, export.
    Access,
    /// pull, push, tag, delete, import, …
    Image,
    /// connect, disconnect, create, destroy of a network.
    Network,
    /// A new finding on a container (exec as root, drift, a new container).
    Finding,
    /// Watching was interrupted (the event stream was lost), or another
    /// engine took the watched endpoint.
    Gap,
    /// Everything else.
    Other,
}

impl Category {
    /// Every category, in the order the timeline's filter lists them.
    pub const ALL: [Category; 8] = [
        Self::Lifecycle,
        Self::Exec,
        Self::Access,
        Self::Image,
        Self::Network,
        Self::Finding,
        Self::Gap,
        Self::Other,
    ];

    /// The name shown in the timeline's filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lifecycle => "lifecycle",
            Self::Exec => "exec",
            Self::Access => "access",
            Self::Image => "image",
            Self::Network => "network",
            Self::Finding => "finding",
            Self::Gap => "gap",
            Self::Other => "other",
        }
    }
}

/// One thing that happened, as shown in the timeline and written to the
/// audit log. Label values are never copied in (they may hold secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// When it happened (the engine's time for engine events).
    pub time: DateTime<Utc>,
    /// Nanoseconds since the epoch as the engine stamped it (0 for
    /// shipshape's own records); used to resume the stream without repeats.
    #[serde(default)]
    pub time_nano: i64,
    /// What it is about.
    pub source: Source,
    /// The action without its detail: `exec_create`, `die`, `pull`, `gap`.
    pub action: String,
    /// What the action was about, in words: the exec command, the exit
    /// code, the finding, the gap's reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The engine object (container id, image id/ref, network id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    /// The container this is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    /// Human name: the container name, the image reference, the network.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Selected engine attributes (never labels): image, exitCode, signal,
    /// execID, container (for network events), type, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// How much it matters; `None` for plain bookkeeping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// For exec events: what the exec inspect said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecSession>,
    /// For new findings: the rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For a container assessed for the first time: all its findings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingNote>,
    /// The engine it happened on (its name, when shipshape watches more
    /// than one).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub engine: String,
}

/// A finding as recorded in the timeline and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingNote {
    /// The id of the rule that fired.
    pub rule: String,
    /// Its severity after the policy's overrides.
    pub severity: Severity,
    /// The evidence the rule gave (never a secret's value).
    pub evidence: String,
    /// Whether a waiver in the policy covers it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waived: bool,
}

/// Attribute keys copied from engine events. Everything else — notably
/// container labels, which the engine mixes into the same map — is dropped.
pub const KEPT_ATTRIBUTES: &[&str] = &[
    "image",
    "name",
    "exitCode",
    "signal",
    "execID",
    "container",
    "type",
    "driver",
    "destination",
    "read/write",
    "propagation",
    "path",
    "comment",
    "imageID",
];

impl Activity {
    /// A record made by shipshape itself.
    pub fn own(action: &str, detail: impl Into<String>, severity: Option<Severity>) -> Self {
        Self {
            time: Utc::now(),
            time_nano: 0,
            source: Source::Shipshape,
            action: action.into(),
            detail: detail.into(),
            actor: String::new(),
            container_id: None,
            name: String::new(),
            attributes: BTreeMap::new(),
            severity,
            exec: None,
            rule: None,
            findings: Vec::new(),
            engine: String::new(),
        }
    }

    /// The same entry, about container `c`.
    pub fn about(mut self, c: &super::Container) -> Self {
        self.actor = c.id.clone();
        self.container_id = Some(c.id.clone());
        self.name = c.name.clone();
        self
    }

    /// The timeline category of this activity.
    pub fn category(&self) -> Category {
        match (self.source, self.action.as_str()) {
            (Source::Shipshape, "gap" | "engine_changed" | "events_dropped" | "not_shown") => {
                Category::Gap
            }
            (Source::Shipshape, "connection") => Category::Network,
            (Source::Shipshape, _) => Category::Finding,
            (Source::Container, a) if a.starts_with("exec_") => Category::Exec,
            (
                Source::Container,
                "attach" | "detach" | "archive-path" | "extract-to-dir" | "commit" | "export"
                | "copy",
            ) => Category::Access,
            (Source::Container, _) => Category::Lifecycle,
            (Source::Image, _) => Category::Image,
            (Source::Network, _) => Category::Network,
            _ => Category::Other,
        }
    }

    /// One line for a terminal or a tooltip.
    pub fn summary(&self) -> String {
        let mut s = format!("{} {}", self.source.as_str(), self.action);
        if !self.name.is_empty() {
            s.push(' ');
            s.push_str(&self.name);
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }

    /// Grade an engine event by what it means for security. Exec events are
    /// graded from their [`ExecSession`] once it is known.
    pub fn grade(&mut self) {
        self.severity = match (self.source, self.action.as_str()) {
            (Source::Container, "exec_create") => self
                .exec
                .as_ref()
                .map(ExecSession::severity)
                .or(Some(Severity::Low)),
            (Source::Container, "oom") => Some(Severity::Medium),
            // Copying files into a running container, committing it or
            // exporting its filesystem bypasses the image's integrity.
            (Source::Container, "extract-to-dir" | "commit" | "export") => Some(Severity::Medium),
            (Source::Container, "archive-path" | "attach") => Some(Severity::Low),
            (Source::Container, "die") => match self.attributes.get("exitCode").map(String::as_str)
            {
                Some("0") | None => None,
                Some(_) => Some(Severity::Low),
            },
            (Source::Container, "kill") => Some(Severity::Info),
            (Source::Image, "pull" | "load" | "import") => Some(Severity::Info),
            (Source::Daemon, "reload") => Some(Severity::Medium),
            _ => self.severity,
        };
    }
}

/// One `docker exec`: who ran what, how, when, in which container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecSession {
    /// The engine's exec id.
    pub id: String,
    /// The id of the container it ran in.
    pub container_id: String,
    /// The name of the container it ran in.
    pub container_name: String,
    /// The user as given to `docker exec --user` (empty: the container's
    /// user). `None` when the exec ended before it could be inspected.
    pub user: Option<String>,
    /// The user it really ran as, resolved against the container's user.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub effective_user: String,
    /// The command and its arguments.
    pub command: Vec<String>,
    /// Whether the exec was privileged.
    pub privileged: bool,
    /// Whether it had a terminal (an interactive shell, usually).
    pub tty: bool,
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it ended; `None` while it runs or when the end was not seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
    /// Its exit code, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
}

impl ExecSession {
    /// Ran as root: an explicit root user, or no user with a container that
    /// itself runs as root.
    pub fn as_root(&self) -> bool {
        self.user.is_some() && is_root_user(&self.effective_user)
    }

    /// How much the session matters: privileged or root execs rank higher.
    pub fn severity(&self) -> Severity {
        if self.privileged {
            Severity::High
        } else if self.as_root() {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// The command as one shell-quoted line.
    pub fn command_line(&self) -> String {
        self.command.join(" ")
    }

    /// `root: sh -c id (privileged, tty)`.
    pub fn describe(&self) -> String {
        let who = match &self.user {
            None => "unknown user".to_string(),
            Some(u) if u.is_empty() => format!("{} (container default)", self.effective_user),
            Some(_) => self.effective_user.clone(),
        };
        let mut flags = Vec::new();
        if self.privileged {
            flags.push("privileged");
        }
        if self.tty {
            flags.push("tty");
        }
        let flags = if flags.is_empty() {
            String::new()
        } else {
            format!(" ({})", flags.join(", "))
        };
        format!("{who}: {}{flags}", self.command_line())
    }
}

/// The command line the engine runs for a container's healthcheck (it runs
/// it as an exec, and reports it with exec events like any other).
pub fn healthcheck_command(c: &super::Container) -> Option<String> {
    let hc = c.healthcheck.as_ref().filter(|h| !h.is_disabled())?;
    let (kind, args) = hc.test.split_first()?;
    match kind.as_str() {
        "CMD-SHELL" => Some(format!("/bin/sh -c {}", args.join(" "))),
        "CMD" => Some(args.join(" ")),
        _ => None,
    }
}

/// An exec event's command line is the container's healthcheck. `redact`
/// is applied to the healthcheck as it was to the command line (exec
/// commands are stored redacted: `rules::secrets::redact_command`).
pub fn is_healthcheck_command(
    command_line: &str,
    c: &super::Container,
    redact: impl Fn(&str) -> String,
) -> bool {
    healthcheck_command(c).is_some_and(|h| redact(h.trim()) == command_line.trim())
}

impl ExecSession {
    /// The engine's own healthcheck run: same command, the container's
    /// user, no privileges, no tty. A person running the same command with
    /// other settings is not hidden by this.
    pub fn is_healthcheck(&self, c: &super::Container, redact: impl Fn(&str) -> String) -> bool {
        is_healthcheck_command(&self.command_line(), c, redact)
            && !self.privileged
            && !self.tty
            && self
                .user
                .as_deref()
                .is_some_and(|u| u.is_empty() || u == c.user)
    }
}

/// `""`, `root`, `0` and their `user:group` forms are root.
pub fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("");
    matches!(name.trim(), "" | "root" | "0")
}

/// The user an exec runs as: its own `--user`, else the container's.
pub fn effective_user(exec_user: &str, container_user: &str) -> String {
    let u = if exec_user.is_empty() {
        container_user
    } else {
        exec_user
    };
    if u.is_empty() {
        "root".into()
    } else {
        u.into()
    }
}

/// How a path changed in the container's writable layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// The path was changed.
    Modified,
    /// The path was created.
    Added,
    /// The path was removed.
    Deleted,
}

impl ChangeKind {
    /// The engine's numeric kind: 0 modified, 1 added, 2 deleted.
    pub fn from_api(k: i64) -> Option<Self> {
        match k {
            0 => Some(Self::Modified),
            1 => Some(Self::Added),
            2 => Some(Self::Deleted),
            _ => None,
        }
    }

    /// The letter `docker diff` prints for it: `C`, `A` or `D`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Modified => "modified",
            Self::Added => "added",
            Self::Deleted => "deleted",
        }
    }
}

/// Why a changed path matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftClass {
    /// Added or changed under a bin directory.
    Binary,
    /// An executable file somewhere writable (/tmp, /dev/shm, /root, …).
    Executable,
    /// SSH keys: persistent remote access.
    AuthorizedKeys,
    /// cron: persistence.
    Cron,
    /// Accounts, sudo, the dynamic loader.
    Accounts,
    /// Other configuration under /etc.
    Config,
    /// Files in root's home.
    RootHome,
}

impl DriftClass {
    /// How serious a change of this class is.
    pub fn severity(self) -> Severity {
        match self {
            Self::Binary
            | Self::Executable
            | Self::AuthorizedKeys
            | Self::Cron
            | Self::Accounts => Severity::High,
            Self::Config | Self::RootHome => Severity::Medium,
        }
    }

    /// A short description of the class, for the drift view.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Binary => "program in a bin directory",
            Self::Executable => "executable file",
            Self::AuthorizedKeys => "SSH authorized_keys",
            Self::Cron => "cron job",
            Self::Accounts => "accounts, sudo or loader configuration",
            Self::Config => "configuration under /etc",
            Self::RootHome => "file in root's home",
        }
    }

    /// Programs (Binary, Executable) versus sensitive files (the rest).
    pub fn is_program(self) -> bool {
        matches!(self, Self::Binary | Self::Executable)
    }
}

/// One changed path that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    /// The path inside the container.
    pub path: String,
    /// Whether it was added, changed or deleted.
    pub kind: ChangeKind,
    /// What kind of path it is (executable, configuration, …), which sets its severity.
    pub class: DriftClass,
}

/// The drift of one container's filesystem since it was created.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drift {
    /// When the container's changes were last read; `None` before the first read.
    pub checked_at: Option<DateTime<Utc>>,
    /// The root filesystem is read-only: nothing can drift.
    pub protected: bool,
    /// Every change the engine reported (files and directories).
    pub total_changes: usize,
    /// The changes that matter, in path order.
    pub items: Vec<DriftItem>,
    /// A package database changed: the container's packages are no longer
    /// its image's, and are read again from the container itself.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub package_db_changed: bool,
    /// How the changes were read: the container's writable layer on this
    /// machine, or the engine's `/changes`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub read_by: String,
    /// Why the writable layer was not read though the engine is on this
    /// machine (a directory outside its data root): a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Where executables live (drift in them is a program added or changed;
/// the setuid scan reads them too).
pub const BIN_DIRS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr/bin",
    "/usr/sbin",
    "/usr/local/bin",
    "/usr/local/sbin",
    "/usr/libexec",
];

/// Places where a dropped executable is suspicious (writable scratch and
/// home directories). Files here are checked for execute bits.
pub const SCRATCH_DIRS: &[&str] = &[
    "/tmp", "/var/tmp", "/dev/shm", "/run", "/root", "/home", "/var/run", "/opt", "/srv",
];

fn under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

/// Classify a changed path without looking at the file. `None`: not
/// interesting by its path alone (it may still be an executable in a
/// scratch directory — see [`needs_mode_check`]).
pub fn classify_path(path: &str, kind: ChangeKind) -> Option<DriftClass> {
    if kind == ChangeKind::Deleted {
        return None;
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    if file.starts_with("authorized_keys") {
        return Some(DriftClass::AuthorizedKeys);
    }
    if BIN_DIRS.iter().any(|d| under(path, d)) {
        return Some(DriftClass::Binary);
    }
    if path == "/etc/crontab"
        || under(path, "/var/spool/cron")
        || path
            .strip_prefix("/etc/cron")
            .is_some_and(|r| r.contains('/') || r.is_empty() || r.starts_with('.'))
    {
        return Some(DriftClass::Cron);
    }
    if matches!(
        path,
        "/etc/passwd"
            | "/etc/shadow"
            | "/etc/group"
            | "/etc/gshadow"
            | "/etc/sudoers"
            | "/etc/ld.so.preload"
            | "/etc/ld.so.conf"
            | "/etc/pam.conf"
    ) || under(path, "/etc/sudoers.d")
        || under(path, "/etc/pam.d")
        || under(path, "/etc/ld.so.conf.d")
    {
        return Some(DriftClass::Accounts);
    }
    if under(path, "/etc") {
        return Some(DriftClass::Config);
    }
    if under(path, "/root") {
        return Some(DriftClass::RootHome);
    }
    None
}

/// Should the file's mode be read to see whether it is executable?
pub fn needs_mode_check(path: &str, kind: ChangeKind) -> bool {
    kind != ChangeKind::Deleted
        && classify_path(path, kind).is_none_or(|c| c == DriftClass::RootHome)
        && SCRATCH_DIRS.iter().any(|d| under(path, d))
}

/// Go's `os.FileMode` bits as the engine reports them in a path stat.
pub fn is_executable_file(mode: u32) -> bool {
    const TYPE_BITS: u32 = 0xFFF0_0000; // dir, symlink, device, pipe, socket, …
    mode & TYPE_BITS == 0 && mode & 0o111 != 0
}

/// Directories are reported as changed when anything inside changes; they
/// are not drift themselves. A path is a directory when another change is
/// inside it.
pub fn drop_parent_dirs(mut changes: Vec<(String, ChangeKind)>) -> Vec<(String, ChangeKind)> {
    changes.sort();
    let mut out: Vec<(String, ChangeKind)> = Vec::with_capacity(changes.len());
    for (i, (path, kind)) in changes.iter().enumerate() {
        let prefix = format!("{path}/");
        let is_dir = changes[i + 1..]
            .iter()
            .take_while(|(p, _)| p.starts_with(&prefix) || p < &prefix)
            .any(|(p, _)| p.starts_with(&prefix));
        if !is_dir {
            out.push((path.clone(), *kind));
        }
    }
    out
}

/// A container removed from the engine that shipshape still shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gone {
    /// When the engine removed it (the destroy event, or when shipshape
    /// noticed).
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified() {
        use ChangeKind::*;
        use DriftClass::*;
        let cases = [
            ("/usr/bin/nc", Added, Some(Binary)),
            ("/bin/sh", Modified, Some(Binary)),
            ("/bin", Modified, None),
            ("/root/.ssh/authorized_keys", Added, Some(AuthorizedKeys)),
            (
                "/home/app/.ssh/authorized_keys2",
                Modified,
                Some(AuthorizedKeys),
            ),
            ("/etc/cron.d/evil", Added, Some(Cron)),
            ("/etc/crontab", Modified, Some(Cron)),
            ("/var/spool/cron/crontabs/root", Added, Some(Cron)),
            ("/etc/passwd", Modified, Some(Accounts)),
            ("/etc/ld.so.preload", Added, Some(Accounts)),
            ("/etc/sudoers.d/x", Added, Some(Accounts)),
            ("/etc/nginx/nginx.conf", Modified, Some(Config)),
            ("/root/.bash_history", Added, Some(RootHome)),
            ("/tmp/x", Added, None),
            ("/usr/bin/nc", Deleted, None),
            ("/etcetera/x", Added, None),
            ("/var/log/app.log", Added, None),
        ];
        for (path, kind, want) in cases {
            assert_eq!(classify_path(path, kind), want, "{path} {kind:?}");
        }
    }

    #[test]
    fn mode_checks_only_in_scratch_dirs() {
        assert!(needs_mode_check("/tmp/x", ChangeKind::Added));
        assert!(needs_mode_check("/dev/shm/.x", ChangeKind::Modified));
        assert!(needs_mode_check("/root/run.sh", ChangeKind::Added));
        assert!(!needs_mode_check("/tmp/x", ChangeKind::Deleted));
        assert!(!needs_mode_check("/var/log/a", ChangeKind::Added));
        assert!(!needs_mode_check("/usr/bin/nc", ChangeKind::Added));
        assert!(!needs_mode_check("/tmp", ChangeKind::Modified));
    }

    #[test]
    fn go_file_modes() {
        assert!(is_executable_file(0o755));
        assert!(is_executable_file(0o100));
        assert!(!is_executable_file(0o644));
        assert!(!is_executable_file((1 << 31) | 0o755), "a directory");
        assert!(!is_executable_file((1 << 27) | 0o777), "a symlink");
    }

    #[test]
    fn parent_directories_are_not_drift() {
        use ChangeKind::*;
        let got = drop_parent_dirs(vec![
            ("/tmp".into(), Modified),
            ("/tmp/x".into(), Added),
            ("/tmp-other".into(), Added),
            ("/root".into(), Modified),
            ("/root/.ssh".into(), Added),
            ("/root/.ssh/authorized_keys".into(), Added),
            ("/etc/passwd".into(), Modified),
        ]);
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/etc/passwd",
                "/root/.ssh/authorized_keys",
                "/tmp-other",
                "/tmp/x"
            ]
        );
    }

    #[test]
    fn exec_users_resolve_against_the_container() {
        assert_eq!(effective_user("", ""), "root");
        assert_eq!(effective_user("", "1000"), "1000");
        assert_eq!(effective_user("0", "1000"), "0");
        let mut s = ExecSession {
            id: "e".into(),
            container_id: "c".into(),
            container_name: "web".into(),
            user: Some(String::new()),
            effective_user: effective_user("", ""),
            command: vec!["sh".into()],
            privileged: false,
            tty: true,
            started: Utc::now(),
            ended: None,
            exit_code: None,
        };
        assert!(s.as_root());
        assert_eq!(s.severity(), Severity::Medium);
        assert_eq!(s.describe(), "root (container default): sh (tty)");
        s.user = Some("1000".into());
        s.effective_user = "1000".into();
        assert!(!s.as_root());
        assert_eq!(s.severity(), Severity::Low);
        s.privileged = true;
        assert_eq!(s.severity(), Severity::High);
        s.user = None;
        assert!(!s.as_root(), "unknown is not claimed to be root");
    }

    #[test]
    fn healthcheck_execs_are_recognised_but_not_a_disguise() {
        let same = |s: &str| s.to_string();
        let mut c = crate::model::Container {
            healthcheck: Some(crate::model::Healthcheck {
                test: vec!["CMD-SHELL".into(), "true".into()],
            }),
            ..Default::default()
        };
        assert!(is_healthcheck_command("/bin/sh -c true", &c, same));
        assert!(!is_healthcheck_command("/bin/sh -c id", &c, same));
        let mut e = ExecSession {
            id: "e".into(),
            container_id: "c".into(),
            container_name: "web".into(),
            user: Some(String::new()),
            effective_user: "root".into(),
            command: vec!["/bin/sh".into(), "-c".into(), "true".into()],
            privileged: false,
            tty: false,
            started: Utc::now(),
            ended: None,
            exit_code: None,
        };
        assert!(e.is_healthcheck(&c, same));
        e.privileged = true;
        assert!(
            !e.is_healthcheck(&c, same),
            "a privileged exec is never a healthcheck"
        );
        e.privileged = false;
        e.user = Some("0".into());
        assert!(!e.is_healthcheck(&c, same), "another user is a person");
        c.healthcheck = Some(crate::model::Healthcheck {
            test: vec!["CMD".into(), "/bin/check".into(), "-q".into()],
        });
        assert!(is_healthcheck_command("/bin/check -q", &c, same));
        c.healthcheck = None;
        assert!(!is_healthcheck_command("/bin/sh -c true", &c, same));
    }

    #[test]
    fn events_are_graded_and_categorised() {
        let mut a = Activity::own("x", "", None);
        a.source = Source::Container;
        a.action = "die".into();
        a.attributes.insert("exitCode".into(), "137".into());
        a.grade();
        assert_eq!(a.severity, Some(Severity::Low));
        assert_eq!(a.category(), Category::Lifecycle);
        a.action = "extract-to-dir".into();
        a.grade();
        assert_eq!(a.severity, Some(Severity::Medium));
        assert_eq!(a.category(), Category::Access);
        a.action = "exec_die".into();
        assert_eq!(a.category(), Category::Exec);
        assert_eq!(Activity::own("gap", "", None).category(), Category::Gap);
    }
}
