//! The hardened version of a container: every change the catalogue's
//! findings ask for that can be made without knowing more than what was
//! observed, applied to a copy of the container's settings, and the copy
//! judged again by the same catalogue — so "clears" is what the rules say
//! of the result, not a claim. Rendered (`output`) as a `docker run`
//! command, a compose service, and a unified diff of the user's own
//! compose file (only the lines that change; comments and order kept),
//! each quoted for its target.
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

mod output;

pub use output::{compose_diff, compose_service, explain, run_command};

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

/// The compose file's lines of a container, when they were read.
pub fn service_lines(c: &Container) -> Option<&ServiceLines> {
    c.compose_file.as_deref().and_then(ComposeFile::lines)
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
