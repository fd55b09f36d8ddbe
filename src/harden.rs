//! The hardened version of a container: every change the catalogue's
//! findings ask for that can be made without knowing more than what was
//! observed, applied to a copy of the container's settings, and the copy
//! judged again by the same catalogue — so "clears" is what the rules say
//! of the result, not a claim. Rendered as a `docker run` command, a
//! compose service, and a unified diff of the user's own compose file
//! (only the lines that change; comments and order kept).
//!
//! What is observed decides what is kept: the users the processes run as
//! (a root process keeps the default capabilities that root programs use
//! to drop to their own user; a non-root one keeps none), the paths the
//! container wrote (the drift check) become `tmpfs` under a read-only
//! root, published container ports below 1024 keep `NET_BIND_SERVICE`,
//! and limits come from the peak use seen, with head room. Pure.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::model::activity::ChangeKind;
use crate::model::compose::{ComposeFile, ServiceLines};
use crate::model::policy::Policy;
use crate::model::{Container, Finding, Inventory, LogConfig, PortBinding, TmpfsMount};

/// What was seen of the container while it ran (the window's charts, the
/// engine's change list).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Every path its writable layer holds (`GET /containers/{id}/changes`);
    /// `None`: the drift check's items are used (security-relevant paths
    /// only).
    pub written: Option<Vec<(String, ChangeKind)>>,
    /// The ports something listens on inside (`/proc/PID/net/*`, a local
    /// engine's running container); `None`: not seen.
    pub listening: Option<BTreeSet<(u16, &'static str)>>,
    /// The capabilities its processes hold in effect (`CapEff`, a local
    /// engine's running container); `None`: not seen.
    pub caps_held: Option<BTreeSet<&'static str>>,
    /// The highest memory use seen, bytes.
    pub memory_peak: Option<u64>,
    /// The highest CPU use seen, in cores (1.0 = one core busy).
    pub cpu_peak: Option<f64>,
    /// The most processes seen at once.
    pub pids_peak: Option<u64>,
}

/// One change, and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The compose key it sets or removes (`cap_drop`, `read_only`…).
    pub key: &'static str,
    /// The setting, as a `docker run` flag would say it.
    pub what: String,
    /// The rules whose findings it clears (checked on the result).
    pub clears: Vec<&'static str>,
    /// What could break, and how to tell.
    pub breaks: String,
}

/// The hardened version of one container.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The container as it is.
    pub original: Container,
    /// Its settings hardened.
    pub hardened: Container,
    /// The changes, in the order they are applied.
    pub changes: Vec<Change>,
    /// The original's findings.
    pub before: Vec<Finding>,
    /// The hardened container's findings, each with why it is left.
    pub after: Vec<(Finding, &'static str)>,
}

/// Root programs commonly use these (of Docker's default set) to switch to
/// their own user and own their files: kept when a process runs as root.
const ROOT_KEEPS: [&str; 6] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "NET_BIND_SERVICE",
    "SETGID",
    "SETUID",
];

/// Why a finding is left on the hardened container.
fn why_left(rule_id: &str) -> &'static str {
    match rule_id {
        "container.root-user" => {
            "its processes run as root (observed, or the image's USER): a non-root `user` needs \
             the files it writes owned by that user — set it once the image supports it"
        }
        "container.engine-socket" | "container.host-socket" => {
            "it may use the engine's or host's API through the socket (a CI runner, a proxy, a \
             dashboard): remove the mount if it does not, or put a filtering proxy in front"
        }
        "container.sensitive-mount" | "container.sensitive-mount-extra" | "container.host-path" => {
            "the host folder is its data or configuration: move it to a named volume, or mount \
             only the files it needs, read-only"
        }
        "container.privileged-port" | "container.published-ports" => {
            "other programs reach it on this port: change the port where they connect first"
        }
        "container.joins-namespace" => {
            "it shares another container's namespace on purpose (a sidecar): move both into one \
             user-defined network instead"
        }
        "container.no-healthcheck" => {
            "a health check must ask the application itself (its port, its command): add one \
             that fits it"
        }
        "container.secret-env" | "container.secret-in-config" => {
            "the value must move to a secret file (compose `secrets:`, a mounted file): the \
             application has to read it from there"
        }
        "container.unapproved-image"
        | "container.stale-image"
        | "container.known-vulnerabilities" => {
            "the image decides: rebuild or update it, or approve it in the policy"
        }
        "container.mutable-image-ref" => {
            "the image has no registry digest here (built or loaded locally): push it and pin \
             the digest"
        }
        "container.writable-rootfs" => {
            "it writes where no tmpfs can go (seen by the drift check, e.g. a file in /etc or \
             /var): give those files a volume, then make the root read-only"
        }
        "container.default-bridge" => {
            "a user-defined network must exist first (`docker network create app-net`) and its \
             peers join it too"
        }
        _ => "no change of its settings clears it without knowing more of the application",
    }
}

/// The users the container's processes run as (`None`: not seen).
fn runs_as_root(c: &Container, image_user: &str) -> bool {
    match &c.processes {
        Some(ps) if !ps.is_empty() => ps.iter().any(|p| matches!(p.user.as_str(), "root" | "0")),
        _ => {
            let u = if c.user.is_empty() {
                image_user
            } else {
                &c.user
            };
            let name = u.split(':').next().unwrap_or("");
            matches!(name, "" | "root" | "0")
        }
    }
}

struct Item {
    path: String,
    kind: ChangeKind,
}

struct Written {
    items: Vec<Item>,
}

/// Folders a tmpfs must never cover: the image's own software and
/// configuration live there.
const NOT_TMPFS: [&str; 12] = [
    "/", "/bin", "/boot", "/etc", "/home", "/lib", "/lib64", "/opt", "/sbin", "/srv", "/usr",
    "/var",
];

/// What the container wrote, from the drift check: the folders to give it
/// as tmpfs (an added folder itself; a file's folder), without those a
/// mount already covers — and the paths written where no tmpfs can go
/// (`/etc/app.conf`), which keep the root writable.
fn written(c: &Container, seen: &Observed) -> (BTreeSet<String>, Vec<String>) {
    let (mut dirs, mut blocked) = (BTreeSet::new(), Vec::new());
    let items: Vec<(String, ChangeKind)> = match (&seen.written, &c.drift) {
        (Some(w), _) => w.clone(),
        (None, Some(d)) => d.items.iter().map(|i| (i.path.clone(), i.kind)).collect(),
        (None, None) => return (dirs, blocked),
    };
    let d = Written {
        items: items
            .iter()
            .map(|(path, kind)| Item {
                path: path.clone(),
                kind: *kind,
            })
            .collect(),
    };
    let under = |p: &str, dir: &str| p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
    let covered = |p: &str| {
        c.mounts
            .iter()
            .map(|m| m.destination.as_str())
            .chain(c.tmpfs.iter().map(|t| t.destination.as_str()))
            .any(|m| p == m || under(p, m))
    };
    for item in d.items.iter().filter(|i| i.kind != ChangeKind::Deleted) {
        let parent_of_others = d.items.iter().any(|o| under(&o.path, &item.path));
        // A folder marked changed because something under it changed.
        if item.kind == ChangeKind::Modified && parent_of_others {
            continue;
        }
        let target = if parent_of_others {
            item.path.clone()
        } else {
            item.path
                .rsplit_once('/')
                .map_or("/".to_string(), |(p, _)| {
                    if p.is_empty() {
                        "/".into()
                    } else {
                        p.to_string()
                    }
                })
        };
        // Inside a folder it added itself: that folder is the target.
        if d.items
            .iter()
            .any(|o| o.kind == ChangeKind::Added && under(&target, &o.path))
            || covered(&item.path)
        {
            continue;
        }
        // A folder the container added hides nothing of the image.
        let added = d
            .items
            .iter()
            .any(|o| o.path == target && o.kind == ChangeKind::Added);
        if !added && NOT_TMPFS.contains(&target.as_str()) {
            blocked.push(item.path.clone());
        } else {
            dirs.insert(target);
        }
    }
    let all: Vec<String> = dirs.iter().cloned().collect();
    dirs.retain(|d| !all.iter().any(|o| o != d && under(d, o)));
    (dirs, blocked)
}

fn round_up(v: u64, step: u64) -> u64 {
    v.div_ceil(step) * step
}

/// Apply every change the settings allow; returns them.
fn harden(
    c: &mut Container,
    image_user: &str,
    digest: Option<&str>,
    seen: &Observed,
    fired: &BTreeSet<&str>,
) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut change = |key: &'static str, what: String, breaks: &str| {
        changes.push(Change {
            key,
            what,
            clears: Vec::new(),
            breaks: breaks.to_string(),
        });
    };
    if c.privileged {
        c.privileged = false;
        change(
            "privileged",
            "no --privileged".into(),
            "programs that need every device or to change kernel settings (Docker in Docker, \
             hardware tools) stop working",
        );
    }
    let root = runs_as_root(c, image_user);
    // A port below 1024 it listens on (seen), or else publishes.
    let low_port = match &seen.listening {
        Some(l) => l.iter().any(|(p, _)| *p < 1024),
        None => c
            .ports
            .iter()
            .any(|p| p.container_port < 1024 && p.host_port.is_some()),
    };
    let keep: Vec<String> = if root {
        ROOT_KEEPS.iter().map(|s| s.to_string()).collect()
    } else if low_port {
        vec!["NET_BIND_SERVICE".into()]
    } else {
        Vec::new()
    };
    // Reduced by what its processes hold (seen): a capability none holds
    // in effect is not one it uses.
    let keep: Vec<String> = match &seen.caps_held {
        Some(held) => keep
            .into_iter()
            .filter(|k| held.contains(k.as_str()))
            .collect(),
        None => keep,
    };
    let dropped_all = c
        .cap_drop
        .iter()
        .any(|d| crate::model::normalise_cap(d) == "ALL");
    if !dropped_all
        || c.cap_add
            .iter()
            .any(|a| !keep.contains(&crate::model::normalise_cap(a)))
    {
        c.cap_drop = vec!["ALL".into()];
        c.cap_add = keep.clone();
        change(
            "cap_drop",
            format!(
                "--cap-drop ALL{}",
                keep.iter()
                    .map(|k| format!(" --cap-add {k}"))
                    .collect::<String>()
            ),
            if root {
                "a root process that needs another capability (NET_ADMIN to set routes, SYS_ADMIN \
                 to mount) gets 'operation not permitted': add back only that one"
            } else {
                "a process that needs a capability gets 'operation not permitted': add back only \
                 that one"
            },
        );
    }
    let before = c.security_opt.clone();
    c.security_opt.retain(|o| {
        !matches!(
            o.as_str(),
            "seccomp=unconfined"
                | "seccomp:unconfined"
                | "apparmor=unconfined"
                | "apparmor:unconfined"
                | "label=disable"
                | "label:disable"
                | "systempaths=unconfined"
        )
    });
    if c.security_opt.len() != before.len() {
        c.masked_paths = None;
        c.readonly_paths = None;
        change(
            "security_opt",
            "the default seccomp, AppArmor and SELinux profiles, /proc and /sys masked".into(),
            "a program that uses a blocked system call (some debuggers, old JVMs) fails",
        );
    }
    if !c
        .security_opt
        .iter()
        .any(|o| o.starts_with("no-new-privileges") && !o.ends_with("false"))
    {
        c.security_opt.push("no-new-privileges:true".into());
        change(
            "security_opt",
            "--security-opt no-new-privileges:true".into(),
            "setuid programs (sudo, su) no longer raise privileges; an entrypoint that drops \
             from root with gosu or su-exec still works",
        );
    }
    for (key, mode, what, breaks) in [
        (
            "network_mode",
            &mut c.network_mode,
            "the host's network",
            "it no longer listens on the host's interfaces directly: publish its ports",
        ),
        (
            "pid",
            &mut c.pid_mode,
            "the host's processes",
            "it no longer sees the host's processes (a monitoring agent needs them)",
        ),
        (
            "ipc",
            &mut c.ipc_mode,
            "the host's IPC",
            "shared memory with host programs stops",
        ),
        (
            "uts",
            &mut c.uts_mode,
            "the host's hostname",
            "it gets its own hostname",
        ),
        (
            "userns_mode",
            &mut c.userns_mode,
            "the host's user namespace",
            "none expected",
        ),
        (
            "cgroup",
            &mut c.cgroupns_mode,
            "the host's cgroup namespace",
            "none expected",
        ),
    ] {
        // The host's cgroup namespace is cgroup v1's default: changed only
        // where the rule asks for it.
        if mode == "host" && (key != "cgroup" || fired.contains("container.cgroupns-host")) {
            *mode = if key == "cgroup" {
                "private".into()
            } else {
                String::new()
            };
            change(key, format!("not in {what}"), breaks);
        }
    }
    if !c.devices.is_empty() || !c.device_cgroup_rules.is_empty() || !c.device_requests.is_empty() {
        c.devices.clear();
        c.device_cgroup_rules.clear();
        c.device_requests.clear();
        change(
            "devices",
            "no host devices, device rules or GPUs".into(),
            "a program that uses a device (a GPU, a USB stick, /dev/kvm) cannot open it",
        );
    }
    if !c.sysctls.is_empty() {
        c.sysctls.clear();
        change(
            "sysctls",
            "no sysctls".into(),
            "the kernel settings it asked for are the defaults",
        );
    }
    if !c.cgroup_parent.is_empty() {
        c.cgroup_parent.clear();
        change(
            "cgroup_parent",
            "the engine's own cgroup".into(),
            "none expected",
        );
    }
    for m in &mut c.mounts {
        if m.propagation.contains("shared") {
            m.propagation = "rprivate".into();
            change(
                "volumes",
                format!("{} mounted rprivate", m.destination),
                "mounts made under it no longer reach the host",
            );
        }
    }
    let (written_dirs, blocked) = written(c, seen);
    if !c.readonly_rootfs && blocked.is_empty() {
        c.readonly_rootfs = true;
        let mut dirs = written_dirs;
        for d in ["/tmp", "/run"] {
            if !c.mounts.iter().any(|m| m.destination == d)
                && !c.tmpfs.iter().any(|t| t.destination == d)
            {
                dirs.insert(d.to_string());
            }
        }
        for d in &dirs {
            c.tmpfs.push(TmpfsMount {
                destination: d.clone(),
                exec: false,
            });
        }
        let seen = if seen.written.is_some() {
            "the folders its writable layer holds"
        } else if c.drift.is_some() {
            "the security-relevant folders the drift check saw it write"
        } else {
            "nothing was seen written, so only /tmp and /run"
        };
        change(
            "read_only",
            format!(
                "--read-only with --tmpfs {}",
                dirs.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
            &format!(
                "writes outside the tmpfs folders ({seen}) fail with 'read-only file system': add \
                 that folder as tmpfs or a volume"
            ),
        );
    }
    // A published port nothing listens on inside (seen): the publish goes.
    if let Some(l) = &seen.listening {
        let proto = |p: &PortBinding| {
            if p.protocol.is_empty() {
                "tcp".to_string()
            } else {
                p.protocol.clone()
            }
        };
        let idle: BTreeSet<String> = c
            .ports
            .iter()
            .filter(|p| {
                p.host_port.is_some()
                    && !l
                        .iter()
                        .any(|(q, pr)| *q == p.container_port && *pr == proto(p))
            })
            .map(|p| format!("{}/{}", p.container_port, proto(p)))
            .collect();
        if !idle.is_empty() {
            c.ports
                .retain(|p| !idle.contains(&format!("{}/{}", p.container_port, proto(p))));
            change(
                "ports",
                format!(
                    "not published: {} (nothing listens on it inside)",
                    idle.into_iter().collect::<Vec<_>>().join(", ")
                ),
                "a program that starts listening later is not reachable from outside: publish it again then",
            );
        }
    }
    let mut loopback = Vec::new();
    for p in &mut c.ports {
        if p.binds_all_interfaces() {
            p.host_ip = "127.0.0.1".into();
            loopback.push(p.container_port.to_string());
        }
    }
    // IPv4 and IPv6 bindings of one port are one binding on loopback.
    let mut seen_ports = BTreeSet::new();
    c.ports.retain(|p| {
        seen_ports.insert((
            p.host_ip.clone(),
            p.host_port,
            p.container_port,
            p.protocol.clone(),
        ))
    });
    loopback.dedup();
    if !loopback.is_empty() {
        change(
            "ports",
            format!("ports {} published on 127.0.0.1 only", loopback.join(", ")),
            "other machines no longer reach it: publish on one interface's address if they must",
        );
    }
    if c.limits.memory_bytes <= 0 {
        let bytes = seen
            .memory_peak
            .map_or(512 << 20, |p| round_up((p * 2).max(128 << 20), 64 << 20));
        c.limits.memory_bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        change(
            "mem_limit",
            format!("--memory {}m", bytes >> 20),
            if seen.memory_peak.is_some() {
                "twice the peak seen: a larger load than any seen is stopped by the OOM killer"
            } else {
                "512 MiB assumed (no use was seen): a program that needs more is stopped by the \
                 OOM killer"
            },
        );
    }
    if c.limits.nano_cpus <= 0 && c.limits.cpu_quota <= 0 {
        let cpus = seen
            .cpu_peak
            .map_or(1.0, |p| ((p * 2.0).max(0.5) * 10.0).ceil() / 10.0);
        c.limits.nano_cpus = (cpus * 1e9) as i64;
        change(
            "cpus",
            format!("--cpus {cpus}"),
            "it runs slower under a load beyond the limit, not stopped",
        );
    }
    if c.limits.pids.is_none_or(|p| p <= 0) {
        let pids = seen.pids_peak.map_or(256, |p| (p * 4).max(64));
        c.limits.pids = Some(i64::try_from(pids).unwrap_or(i64::MAX));
        change(
            "pids_limit",
            format!("--pids-limit {pids}"),
            "a fork beyond the limit fails ('resource temporarily unavailable')",
        );
    }
    let r = &mut c.restart;
    if matches!(r.name.as_str(), "always" | "unless-stopped")
        || (r.name == "on-failure" && (r.max_retries == 0 || r.max_retries > 5))
    {
        r.name = "on-failure".into();
        r.max_retries = 5;
        change(
            "restart",
            "--restart on-failure:5".into(),
            "it is no longer started again after the engine restarts, nor after a sixth crash",
        );
    }
    if c.oom_kill_disable {
        c.oom_kill_disable = false;
        change(
            "oom_kill_disable",
            "OOM killer on".into(),
            "none expected with a memory limit",
        );
    }
    if c.oom_score_adj < 0 {
        c.oom_score_adj = 0;
        change("oom_score_adj", "default OOM score".into(), "none expected");
    }
    if !c.ulimits.is_empty() {
        c.ulimits.clear();
        change(
            "ulimits",
            "the engine's default ulimits".into(),
            "a program that raised its open-files limit may hit the default",
        );
    }
    let bounded = c.log.options.contains_key("max-size");
    if c.log.driver == "none" || (matches!(c.log.driver.as_str(), "json-file" | "") && !bounded) {
        let mut options = BTreeMap::new();
        options.insert("max-size".to_string(), crate::model::Sensitive::new("10m"));
        options.insert("max-file".to_string(), crate::model::Sensitive::new("3"));
        c.log = LogConfig {
            driver: "json-file".into(),
            options,
        };
        change(
            "logging",
            "--log-driver json-file --log-opt max-size=10m --log-opt max-file=3".into(),
            "logs older than the last 30 MB are gone",
        );
    }
    if let Some(d) = digest
        && !c.image.contains('@')
    {
        c.image = d.to_string();
        change(
            "image",
            format!("image pinned to {d}"),
            "a newer push of the tag is not used until you change the digest",
        );
    }
    changes
}

/// The hardened version of the container `id` of `inv`; `None` when there
/// is no such container.
pub fn plan(
    inv: &Inventory,
    id: &str,
    policy: &Policy,
    seen: &Observed,
    now: DateTime<Utc>,
) -> Option<Plan> {
    let c = inv.containers.iter().find(|c| c.id == id)?;
    let image = inv.images.iter().find(|i| i.id == c.image_id);
    let image_user = image.map_or("", |i| i.user.as_str());
    // A registry digest of the image the container runs, for its name.
    let repo = c.image.rsplit_once(':').map_or(c.image.as_str(), |(r, t)| {
        if t.contains('/') { c.image.as_str() } else { r }
    });
    let digest = image.and_then(|i| {
        i.digests
            .iter()
            .find(|d| d.split('@').next() == Some(repo))
            .cloned()
    });
    let mut h = c.clone();
    h.id = format!("{}-hardened", c.id);
    h.name = format!("{}-hardened", c.name);
    // Judge both in the same small inventory: the container, the ones it
    // joins, its image, the engine.
    let mut small = Inventory {
        engine: inv.engine.clone(),
        images: image.cloned().into_iter().collect(),
        ..Inventory::default()
    };
    small.containers = inv
        .containers
        .iter()
        .filter(|o| {
            o.id != c.id
                && [&c.network_mode, &c.pid_mode, &c.ipc_mode]
                    .iter()
                    .any(|m| m.ends_with(&o.id) || m.ends_with(&o.name))
        })
        .cloned()
        .collect();
    small.containers.push(c.clone());
    let a = crate::assess::assess(&small, policy, now);
    let before = a
        .container(&c.id)
        .map(|x| x.findings.clone())
        .unwrap_or_default();
    let fired: BTreeSet<&str> = before.iter().map(|f| f.rule_id).collect();
    let mut changes = harden(&mut h, image_user, digest.as_deref(), seen, &fired);
    small.containers.pop();
    small.containers.push(h.clone());
    let a = crate::assess::assess(&small, policy, now);
    let after = a
        .container(&h.id)
        .map(|x| x.findings.clone())
        .unwrap_or_default();
    let left: BTreeSet<&str> = after.iter().map(|f| f.rule_id).collect();
    let cleared: BTreeSet<&'static str> = before
        .iter()
        .map(|f| f.rule_id)
        .filter(|r| !left.contains(r))
        .collect();
    for ch in &mut changes {
        ch.clears = cleared.iter().copied().filter(|r| claims(ch, r)).collect();
    }
    Some(Plan {
        original: c.clone(),
        changes,
        before,
        after: after
            .into_iter()
            .map(|f| {
                let why = why_left(f.rule_id);
                (f, why)
            })
            .collect(),
        hardened: h,
    })
}

/// Whether change `ch` is what clears rule `r`'s finding: the rules whose
/// compose key it sets, and those it settles beyond them.
fn claims(ch: &Change, r: &str) -> bool {
    if ch.key == "security_opt" {
        return if ch.what.contains("no-new-privileges") {
            r == "container.no-new-privileges"
        } else {
            matches!(
                r,
                "container.seccomp-unconfined"
                    | "container.apparmor-unconfined"
                    | "container.selinux-unlabelled"
                    | "container.unmasked-paths"
            )
        };
    }
    crate::model::compose::keys_of(r).contains(&ch.key) || clears_also(ch.key, r)
}

/// Findings a change clears beyond the rules whose compose key it is.
fn clears_also(key: &str, rule: &str) -> bool {
    matches!(
        (key, rule),
        (
            "privileged",
            "container.host-devices"
                | "container.unmasked-paths"
                | "container.cap-add"
                | "container.seccomp-unconfined"
                | "container.apparmor-unconfined"
                | "container.host-takeover"
        ) | ("cap_drop", "container.cap-add" | "container.host-takeover")
            | ("network_mode" | "pid", "container.host-takeover")
    )
}

/// Quote a word for a POSIX shell when it needs it.
fn sh(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_./:=@%+,".contains(ch))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn port(p: &PortBinding) -> String {
    let proto = if p.protocol.is_empty() || p.protocol == "tcp" {
        String::new()
    } else {
        format!("/{}", p.protocol)
    };
    let host = match (p.host_ip.as_str(), p.host_port) {
        ("", Some(h)) | ("0.0.0.0", Some(h)) => format!("{h}:"),
        (ip, Some(h)) => format!("{ip}:{h}:"),
        ("", None) => String::new(),
        (ip, None) => format!("{ip}::"),
    };
    format!("{host}{}{proto}", p.container_port)
}

fn mount(m: &crate::model::Mount) -> String {
    let src = m.name.clone().unwrap_or_else(|| m.source.clone());
    let mut opts = Vec::new();
    if !m.read_write {
        opts.push("ro".to_string());
    }
    if !m.propagation.is_empty() && m.propagation != "rprivate" {
        opts.push(m.propagation.clone());
    }
    let head = if src.is_empty() {
        m.destination.clone()
    } else {
        format!("{src}:{}", m.destination)
    };
    if opts.is_empty() {
        head
    } else {
        format!("{head}:{}", opts.join(","))
    }
}

/// The env keys the container sets beyond its image's: passed through
/// (`-e KEY`), so no value is written.
fn own_env<'a>(c: &'a Container, image: Option<&crate::model::Image>) -> Vec<&'a str> {
    c.env
        .iter()
        .filter(|e| {
            !image.is_some_and(|i| {
                i.env.iter().any(|ie| {
                    ie.key == e.key
                        && ie.value.expose_for_analysis() == e.value.expose_for_analysis()
                })
            })
        })
        .map(|e| e.key.as_str())
        .collect()
}

/// The container's command, when it is not its image's.
fn own_command<'a>(c: &'a Container, image: Option<&crate::model::Image>) -> Option<&'a [String]> {
    (image.is_none_or(|i| i.command != c.command) && !c.command.is_empty())
        .then_some(c.command.as_slice())
}

fn flag(a: &mut Vec<String>, f: &str, v: &str) {
    a.push(f.to_string());
    a.push(sh(v));
}

/// The `docker run` command that creates the hardened container.
pub fn run_command(p: &Plan, image: Option<&crate::model::Image>) -> String {
    let h = &p.hardened;
    let mut a: Vec<String> = vec![
        "docker".into(),
        "run".into(),
        "-d".into(),
        "--name".into(),
        h.name.clone(),
    ];
    if !h.user.is_empty() {
        flag(&mut a, "--user", &h.user);
    }
    for d in &h.cap_drop {
        flag(&mut a, "--cap-drop", d);
    }
    for c in &h.cap_add {
        flag(&mut a, "--cap-add", c);
    }
    for o in &h.security_opt {
        flag(&mut a, "--security-opt", o);
    }
    if h.readonly_rootfs {
        a.push("--read-only".into());
    }
    for t in &h.tmpfs {
        flag(
            &mut a,
            "--tmpfs",
            &format!("{}{}", t.destination, if t.exec { ":exec" } else { "" }),
        );
    }
    for m in &h.mounts {
        flag(&mut a, "-v", &mount(m));
    }
    for p in &h.ports {
        flag(&mut a, "-p", &port(p));
    }
    if !h.network_mode.is_empty() && h.network_mode != "default" {
        flag(&mut a, "--network", &h.network_mode);
    }
    for (f, v) in [
        ("--pid", &h.pid_mode),
        ("--ipc", &h.ipc_mode),
        ("--uts", &h.uts_mode),
        ("--userns", &h.userns_mode),
    ] {
        if !v.is_empty() && v != "private" && v != "shareable" {
            flag(&mut a, f, v);
        }
    }
    if h.limits.memory_bytes > 0 {
        flag(
            &mut a,
            "--memory",
            &format!("{}m", h.limits.memory_bytes >> 20),
        );
    }
    if h.limits.nano_cpus > 0 {
        flag(
            &mut a,
            "--cpus",
            &format!("{}", h.limits.nano_cpus as f64 / 1e9),
        );
    }
    if let Some(n) = h.limits.pids.filter(|n| *n > 0) {
        flag(&mut a, "--pids-limit", &n.to_string());
    }
    if !h.restart.name.is_empty() && h.restart.name != "no" {
        let r = if h.restart.name == "on-failure" && h.restart.max_retries > 0 {
            format!("on-failure:{}", h.restart.max_retries)
        } else {
            h.restart.name.clone()
        };
        flag(&mut a, "--restart", &r);
    }
    if !h.log.driver.is_empty() {
        flag(&mut a, "--log-driver", &h.log.driver);
        for (k, v) in &h.log.options {
            if matches!(k.as_str(), "max-size" | "max-file" | "mode" | "tag") {
                // Size and count options only: not secrets.
                flag(
                    &mut a,
                    "--log-opt",
                    &format!("{k}={}", v.expose_for_analysis()),
                );
            }
        }
    }
    if let Some(hc) = h.healthcheck.as_ref().filter(|hc| !hc.is_disabled()) {
        if hc.test.first().is_some_and(|t| t == "CMD-SHELL") {
            flag(&mut a, "--health-cmd", &hc.test[1..].join(" "));
        } else if hc.test.first().is_some_and(|t| t == "CMD") {
            flag(
                &mut a,
                "--health-cmd",
                &hc.test[1..]
                    .iter()
                    .map(|w| sh(w))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    for k in own_env(h, image) {
        flag(&mut a, "-e", k);
    }
    let command = own_command(h, image);
    if let Some(cmd) = command {
        flag(&mut a, "--entrypoint", &cmd[0]);
    }
    a.push(sh(&h.image));
    if let Some(cmd) = command {
        a.extend(cmd[1..].iter().map(|w| sh(w)));
    }
    // `docker run -d --name NAME`, then one flag per line, then the image
    // and its command on the last, as a person would write it.
    let image_at = a.len() - command.map_or(0, |c| c.len().saturating_sub(1)) - 1;
    let mut out = a[..5].join(" ");
    let mut i = 5;
    while i < image_at {
        out.push_str(" \\\n  ");
        out.push_str(&a[i]);
        if a[i].starts_with('-') && i + 1 < image_at && !a[i + 1].starts_with('-') {
            out.push(' ');
            out.push_str(&a[i + 1]);
            i += 1;
        }
        i += 1;
    }
    out.push_str(" \\\n  ");
    out.push_str(&a[image_at..].join(" "));
    out.push('\n');
    out
}

/// YAML for a scalar: quoted unless plainly safe.
fn y(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null"
        )
        && s.parse::<f64>().is_err()
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| y(s)).collect::<Vec<_>>().join(", ")
    )
}

/// The hardened value of one compose key, as lines at `indent` (`None`:
/// the key is removed).
fn compose_value(h: &Container, key: &str, indent: &str) -> Option<Vec<String>> {
    let one = |v: String| Some(vec![format!("{indent}{key}: {v}")]);
    match key {
        "privileged" => None,
        "cap_drop" => one(list(&h.cap_drop)),
        "cap_add" => {
            (!h.cap_add.is_empty()).then(|| vec![format!("{indent}cap_add: {}", list(&h.cap_add))])
        }
        "security_opt" => (!h.security_opt.is_empty())
            .then(|| vec![format!("{indent}security_opt: {}", list(&h.security_opt))]),
        "read_only" => one("true".into()),
        "tmpfs" => (!h.tmpfs.is_empty()).then(|| {
            vec![format!(
                "{indent}tmpfs: {}",
                list(
                    &h.tmpfs
                        .iter()
                        .map(|t| t.destination.clone())
                        .collect::<Vec<_>>()
                )
            )]
        }),
        "ports" => (!h.ports.is_empty()).then(|| {
            let mut v = vec![format!("{indent}ports:")];
            v.extend(
                h.ports
                    .iter()
                    .map(|p| format!("{indent}  - {}", y(&port(p)))),
            );
            v
        }),
        "mem_limit" => one(format!("{}m", h.limits.memory_bytes >> 20)),
        "cpus" => one(y(&format!("{}", h.limits.nano_cpus as f64 / 1e9))),
        "pids_limit" => h.limits.pids.and_then(|p| one(p.to_string())),
        "restart" => one(y(&format!("on-failure:{}", h.restart.max_retries))),
        "logging" => Some(vec![
            format!("{indent}logging:"),
            format!("{indent}  driver: json-file"),
            format!("{indent}  options:"),
            format!("{indent}    max-size: 10m"),
            format!("{indent}    max-file: \"3\""),
        ]),
        "image" => one(y(&h.image)),
        "volumes" => (!h.mounts.is_empty()).then(|| {
            let mut v = vec![format!("{indent}volumes:")];
            v.extend(
                h.mounts
                    .iter()
                    .map(|m| format!("{indent}  - {}", y(&mount(m)))),
            );
            v
        }),
        "cgroup" => one("private".into()),
        // Removed: back to the engine's default.
        _ => None,
    }
}

/// The compose keys the plan sets, each once, in the order of changes.
fn keys(p: &Plan) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in &p.changes {
        // A change's key, and the keys that go with it.
        let with: &[&'static str] = match c.key {
            "cap_drop" => &["cap_add"],
            "read_only" => &["tmpfs"],
            "devices" => &["device_cgroup_rules"],
            _ => &[],
        };
        for k in std::iter::once(c.key).chain(with.iter().copied()) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The hardened container as a compose service.
pub fn compose_service(p: &Plan, image: Option<&crate::model::Image>) -> String {
    let h = &p.hardened;
    let name = h
        .compose()
        .map_or_else(|| p.original.name.clone(), |r| r.service);
    let mut out = vec![format!("  {name}:"), format!("    image: {}", y(&h.image))];
    if let Some(cmd) = own_command(h, image) {
        out.push(format!("    entrypoint: {}", list(&cmd[..1])));
        if cmd.len() > 1 {
            out.push(format!("    command: {}", list(&cmd[1..])));
        }
    }
    if !h.user.is_empty() {
        out.push(format!("    user: {}", y(&h.user)));
    }
    for k in [
        "cap_drop",
        "cap_add",
        "security_opt",
        "read_only",
        "tmpfs",
        "volumes",
        "ports",
        "mem_limit",
        "cpus",
        "pids_limit",
        "restart",
        "logging",
    ] {
        if let Some(lines) = compose_value(h, k, "    ") {
            out.extend(lines);
        }
    }
    let env = own_env(h, image);
    if !env.is_empty() {
        out.push("    environment:".into());
        out.extend(
            env.iter()
                .map(|k| format!("      - {k}  # the value from your environment")),
        );
    }
    format!("services:\n{}\n", out.join("\n"))
}

/// The end (exclusive, 0-based) of the block that starts at `start`: the
/// next line indented no deeper than it that is not blank or a comment.
fn block_end(lines: &[&str], start: usize) -> usize {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines[start]);
    let mut end = start + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && indent(l) <= own {
            break;
        }
        end += 1;
    }
    // Trailing blank and comment lines belong to what follows.
    while end > start + 1 && {
        let t = lines[end - 1].trim();
        t.is_empty() || t.starts_with('#')
    } {
        end -= 1;
    }
    end
}

/// A unified diff of the user's compose file that hardens the service:
/// the keys the plan changes replaced where the service sets them,
/// removed where it must not set them, added at its end where it does
/// not; every other line, comment and order kept. `text` is the file the
/// service is defined in (its lines known from `lines`). Keys set in
/// another file (`extends`, an anchor) are noted, not edited.
pub fn compose_diff(
    p: &Plan,
    lines: &ServiceLines,
    text: &str,
) -> Result<(String, Vec<String>), String> {
    let service = lines
        .service
        .as_ref()
        .ok_or("the service's line is not known")?;
    let src: Vec<&str> = text.lines().collect();
    let start = service
        .line
        .checked_sub(1)
        .filter(|&s| s < src.len())
        .ok_or("the file changed: the service's line is past its end")?;
    let end = block_end(&src, start);
    let body_indent = src[start + 1..end]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .map_or_else(
            || {
                format!(
                    "{}  ",
                    &src[start][..src[start].len() - src[start].trim_start().len()]
                )
            },
            |l| l[..l.len() - l.trim_start().len()].to_string(),
        );
    // (first line, end line, replacement) edits within the service block.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for key in keys(p) {
        let want = compose_value(&p.hardened, key, &body_indent);
        let here = lines
            .keys
            .get(key)
            .filter(|l| l.file == service.file && l.line > service.line && l.line <= end);
        match (here, want) {
            (Some(l), want) => {
                let s = l.line - 1;
                if !src[s].trim_start().starts_with(&format!("{key}:")) {
                    notes.push(format!(
                        "{key}: line {} is not where the file says it (edited since it was read?)",
                        l.line
                    ));
                    continue;
                }
                edits.push((s, block_end(&src, s), want.unwrap_or_default()));
            }
            (None, want) => {
                if let Some(elsewhere) = lines.keys.get(key) {
                    notes.push(format!(
                        "{key} also comes from {}:{} (extends or an anchor): {}",
                        elsewhere.file,
                        elsewhere.line,
                        if want.is_some() && !matches!(key, "cap_add" | "volumes" | "ports" | "security_opt" | "tmpfs" | "devices") {
                            "overridden in the service"
                        } else {
                            "edit it there; Compose merges lists, so the service cannot take items away"
                        }
                    ));
                    if matches!(
                        key,
                        "cap_add" | "volumes" | "ports" | "security_opt" | "tmpfs" | "devices"
                    ) {
                        continue;
                    }
                }
                if let Some(w) = want {
                    added.extend(w);
                }
            }
        }
    }
    if !added.is_empty() {
        edits.push((end, end, added));
    }
    edits.sort_by_key(|e| e.0);
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    for (s, e, with) in edits {
        if s < at {
            continue;
        }
        out.extend(src[at..s].iter().map(|l| l.to_string()));
        out.extend(with);
        at = e;
    }
    out.extend(src[at..].iter().map(|l| l.to_string()));
    let mut new = out.join("\n");
    if text.ends_with('\n') {
        new.push('\n');
    }
    // `a/compose.yaml`: applies with `git apply` or `patch -p1` in the
    // project's folder.
    let wd = p
        .original
        .compose()
        .map(|r| r.working_dir)
        .unwrap_or_default();
    let name = match service
        .file
        .strip_prefix(&format!("{}/", wd.trim_end_matches('/')))
    {
        Some(rel) if !wd.is_empty() => format!("/{rel}"),
        _ if service.file.starts_with('/') => service.file.clone(),
        _ => format!("/{}", service.file),
    };
    let diff = similar::TextDiff::from_lines(text, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a{name}"), &format!("b{name}"))
        .to_string();
    Ok((diff, notes))
}

/// The compose file's lines of a container, when they were read.
pub fn service_lines(c: &Container) -> Option<&ServiceLines> {
    c.compose_file.as_deref().and_then(ComposeFile::lines)
}

/// The plan in words: each change, what it clears and what could break;
/// what is left and why; the counts before and after.
pub fn explain(p: &Plan) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} finding(s) before, {} after hardening",
        crate::model::visible(&p.original.name),
        p.before.len(),
        p.after.len()
    );
    for c in &p.changes {
        let clears = if c.clears.is_empty() {
            "defence in depth".to_string()
        } else {
            format!("clears {}", c.clears.join(", "))
        };
        let _ = writeln!(
            out,
            "  + {} ({clears})\n      may break: {}",
            c.what, c.breaks
        );
    }
    for (f, why) in &p.after {
        let _ = writeln!(
            out,
            "  ! left: {} [{}] {}\n      {why}",
            f.rule_id,
            f.severity,
            crate::model::visible(&f.evidence)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::compose::{convert, load};

    fn observed(items: &[(&str, ChangeKind)]) -> Observed {
        Observed {
            written: Some(items.iter().map(|(p, k)| (p.to_string(), *k)).collect()),
            ..Observed::default()
        }
    }

    #[test]
    fn written_folders_become_tmpfs_only_where_they_hide_nothing() {
        use ChangeKind::{Added, Modified};
        let c = Container::default();
        // A tree it added: its top, which the image did not have.
        let (dirs, blocked) = written(
            &c,
            &observed(&[
                ("/var", Added),
                ("/var/cache", Added),
                ("/var/cache/app", Added),
                ("/var/cache/app/stamp", Added),
            ]),
        );
        assert_eq!(dirs.into_iter().collect::<Vec<_>>(), ["/var"]);
        assert!(blocked.is_empty());
        // A file in /etc: no tmpfs there; a folder of its own and a file in
        // one of the image's folders are fine.
        let (dirs, blocked) = written(
            &c,
            &observed(&[
                ("/etc", Modified),
                ("/etc/app.conf", Added),
                ("/srv/data", Added),
                ("/srv/data/x", Added),
                ("/var/log/app", Modified),
            ]),
        );
        assert_eq!(
            dirs.into_iter().collect::<Vec<_>>(),
            ["/srv/data", "/var/log"]
        );
        assert_eq!(blocked, ["/etc/app.conf"]);
    }

    #[test]
    fn capabilities_kept_are_those_its_processes_hold() {
        let c = Container {
            id: "c1".into(),
            name: "web".into(),
            ..Container::default()
        };
        let inv = Inventory {
            containers: vec![c],
            ..Inventory::default()
        };
        let at = |seen: &Observed| {
            plan(&inv, "c1", &Policy::default(), seen, chrono::Utc::now())
                .unwrap()
                .hardened
                .cap_add
        };
        // Root, nothing seen: what root programs use to drop to their user.
        assert_eq!(at(&Observed::default()).len(), ROOT_KEEPS.len());
        // Seen: only what its processes hold in effect.
        let seen = Observed {
            caps_held: Some(
                ["CHOWN", "SETUID", "SETGID", "NET_RAW"]
                    .into_iter()
                    .collect(),
            ),
            ..Observed::default()
        };
        assert_eq!(at(&seen), ["CHOWN", "SETGID", "SETUID"]);
    }

    #[test]
    fn the_compose_diff_changes_only_the_service_and_keeps_comments() {
        let text = "# shop\nx-base: &base\n  cap_add: [NET_RAW]\nservices:\n  api:\n    <<: *base\n    image: shop/api:1\n    privileged: true  # for the debugger\n    restart: always\n\n    # its port\n    ports:\n      - \"8080:80\"\n  db:\n    image: postgres:16\n";
        let p = load::load(&load::Input {
            files: vec![("compose.yaml".into(), text.into())],
            folder: "shop".into(),
            ..load::Input::default()
        })
        .unwrap();
        let s = p.services.iter().find(|s| s.name == "api").unwrap();
        let mut c = convert::container(&p, s, "/home/dev/shop", &[]);
        c.compose_file = Some(std::sync::Arc::new(ComposeFile::Read {
            lines: convert::lines(&p, s),
            changed: None,
        }));
        let inv = Inventory {
            containers: vec![c.clone()],
            ..Inventory::default()
        };
        let plan = plan(
            &inv,
            &c.id,
            &Policy::default(),
            &Observed::default(),
            chrono::Utc::now(),
        )
        .unwrap();
        assert!(plan.after.len() < plan.before.len());
        let (diff, notes) = compose_diff(&plan, service_lines(&c).unwrap(), text).unwrap();
        assert!(
            diff.starts_with("--- a/compose.yaml\n+++ b/compose.yaml\n"),
            "{diff}"
        );
        let removed: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with('-') && !l.starts_with("---"))
            .collect();
        let added: Vec<&str> = diff
            .lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .collect();
        assert_eq!(
            removed,
            [
                "-    privileged: true  # for the debugger",
                "-    restart: always",
                "-      - \"8080:80\""
            ],
            "{diff}"
        );
        assert!(added.contains(&"+    restart: \"on-failure:5\""), "{diff}");
        assert!(added.contains(&"+      - \"127.0.0.1:8080:80\""), "{diff}");
        assert!(added.contains(&"+    cap_drop: [ALL]"), "{diff}");
        assert!(added.contains(&"+    read_only: true"), "{diff}");
        // Comments and the other service stay; the anchor's list is noted.
        assert!(
            !removed
                .iter()
                .any(|l| l.contains('#') && !l.contains("debugger"))
        );
        assert!(
            !removed.iter().chain(&added).any(|l| l.contains("postgres")),
            "the other service is not touched: {diff}"
        );
        assert!(
            notes
                .iter()
                .any(|n| n.starts_with("cap_add also comes from compose.yaml:3")),
            "{notes:?}"
        );
    }
}
