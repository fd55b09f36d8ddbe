//! Host paths and sockets mounted into containers, and the container's own
//! root filesystem.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::{Container, HostPathKind, Mount, MountKind, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

/// Host paths CIS 5.6 calls sensitive; sub-paths count too (except for `/`).
pub const CIS_SENSITIVE: &[&str] = &[
    "/",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/var/lib/docker",
    "/root",
];

/// Socket file names of container engines.
pub const ENGINE_SOCKETS: &[&str] = &["docker.sock", "podman.sock", "containerd.sock", "crio.sock"];

/// Where engines keep their sockets on a standard host (after `/var/run` →
/// `/run`). The connected engine's own socket is added at check time.
const ENGINE_SOCKET_PATHS: &[&str] = &[
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/run/crio/crio.sock",
];

/// Sockets of host daemons that run as root and take orders over them.
const ROOT_DAEMON_SOCKETS: &[&str] = &[
    "/run/dbus/system_bus_socket",
    "/run/systemd/private",
    "/run/systemd/notify",
    "/run/systemd/journal/stdout",
    "/run/snapd.socket",
    "/run/libvirt/libvirt-sock",
    "/run/containerd/containerd.sock.ttrpc",
];

/// `path` is `base` or below it. `/` only matches itself.
pub fn is_under(path: &str, base: &str) -> bool {
    let path = normalise(path);
    if base == "/" {
        return path == "/";
    }
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// `dir` is a proper ancestor of `path` (`/` is everyone's).
fn is_ancestor(dir: &str, path: &str) -> bool {
    let dir = normalise(dir);
    dir == "/" && path != "/"
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
}

fn normalise(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

/// `/var/run` is a symlink to `/run` on every current distribution; when
/// shipshape could not resolve a path on the host, assume that much.
fn canonical_run(path: &str) -> String {
    let path = normalise(path);
    match path.strip_prefix("/var/run") {
        Some("") => "/run".to_string(),
        Some(rest) if rest.starts_with('/') => format!("/run{rest}"),
        _ => path.to_string(),
    }
}

/// Whether a path is an engine's API socket (Docker, Podman, containerd, CRI-O, …).
pub fn is_engine_socket(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    ENGINE_SOCKETS.contains(&file)
}

/// Bind mounts only: named volumes live under the engine's data dir by
/// design and are not host paths the user chose.
fn binds(c: &Container) -> impl Iterator<Item = &Mount> {
    c.mounts.iter().filter(|m| m.kind == MountKind::Bind)
}

/// The host paths of a bind, `/var/run` spelled `/run`.
fn host_paths(m: &Mount) -> Vec<String> {
    let mut out: Vec<String> = m.host_paths().map(canonical_run).collect();
    out.dedup();
    out
}

fn mode(m: &Mount) -> &'static str {
    if m.read_write {
        "read-write"
    } else {
        "read-only"
    }
}

/// The engine sockets this host is known to have, the connected one first.
fn engine_socket_paths(ctx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(own) = ctx.inventory.engine.endpoint.strip_prefix("unix://") {
        out.push(canonical_run(own));
    }
    for p in ENGINE_SOCKET_PATHS {
        if !out.iter().any(|o| o == p) {
            out.push((*p).to_string());
        }
    }
    out
}

/// How this bind reaches an engine socket, if it does: the socket itself,
/// or a directory above one (a socket stays connectable through a
/// read-only mount).
fn engine_socket_reach(ctx: &Ctx, m: &Mount) -> Option<String> {
    let paths = host_paths(m);
    let known = engine_socket_paths(ctx);
    if paths
        .iter()
        .any(|p| is_engine_socket(p) || known.contains(p))
        || is_engine_socket(&m.destination)
    {
        return Some(format!(
            "{} mounted at {} ({})",
            m.describe_source(),
            m.destination,
            mode(m)
        ));
    }
    if m.kind != MountKind::Bind
        || m.host
            .as_ref()
            .is_some_and(|h| h.kind != HostPathKind::Directory)
    {
        return None;
    }
    for socket in known {
        if let Some(dir) = paths.iter().find(|p| is_ancestor(p, &socket)) {
            // `/` + `/run/docker.sock`, or `/run` + `/docker.sock`.
            let dir = normalise(dir);
            let rest = if dir == "/" {
                &socket[..]
            } else {
                &socket[dir.len()..]
            };
            let inside = format!("{}{rest}", m.destination.trim_end_matches('/'));
            return Some(format!(
                "{} mounted at {} ({}) reaches the engine socket {socket} as {inside}",
                m.describe_source(),
                m.destination,
                mode(m)
            ));
        }
    }
    None
}

/// The `container.engine-socket` rule: Container engine socket mounted.
pub const ENGINE_SOCKET: Rule = Rule {
    id: "container.engine-socket",
    title: "Container engine socket mounted",
    severity: Severity::Critical,
    family: Family::Mounts,
    cis: Some("5.32"),
    seed: SeedRule::LeastPrivilege,
    why: "Whoever can talk to the engine socket controls the engine: it can start a privileged \
          container with the host's root filesystem mounted. Read-only does not help; it is an \
          API, not a file. Mounting a directory above the socket (/run, /) or a symlink to it \
          hands over the same thing. On a rootless engine the socket gives what your own user \
          can do, not root.",
    attack: "From inside: `docker -H unix:///var/run/docker.sock run --privileged -v /:/host …` \
             and chroot /host — full root on the host in one command.",
    fix: Fix {
        summary: "Do not mount the engine socket or a directory that contains it. If a tool truly needs the API, put an authorising proxy in front of it that allows only the calls it needs.",
        run: "remove -v /var/run/docker.sock:/var/run/docker.sock (and -v /run:…)",
        compose: "remove the docker.sock (or /run) entry from volumes:",
        kube: "remove the hostPath volume of the runtime socket (and its volumeMounts entry)",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
    ],
    check: Check::Container(|ctx, c| {
        let rootless = ctx.inventory.engine.security.rootless;
        c.mounts
            .iter()
            .filter_map(|m| engine_socket_reach(ctx, m))
            .map(|evidence| {
                if rootless {
                    Hit::graded(
                        Severity::High,
                        format!("{evidence}; rootless engine: your user's engine, not root's"),
                    )
                } else {
                    Hit::new(evidence)
                }
            })
            .collect()
    }),
};

/// Severity of a bind of a system path, by what an attacker gains: the
/// path itself (`exact`) or something below it.
fn system_path_grade(base: &str, exact: bool, rw: bool) -> Severity {
    use Severity::*;
    if !exact {
        return match (base, rw) {
            ("/var/lib/docker" | "/root", _) => High,
            (_, true) => High,
            (_, false) => Low,
        };
    }
    match (base, rw) {
        ("/" | "/etc" | "/root" | "/var/lib/docker" | "/proc", true) => Critical,
        ("/" | "/etc" | "/root" | "/var/lib/docker" | "/proc", false) => High,
        ("/usr" | "/lib" | "/sys", true) => Critical,
        ("/boot" | "/dev", true) => High,
        (_, true) => High,
        (_, false) => Medium,
    }
}

/// A root-owned host path is only as exposed as the container's root is
/// powerful: on a rootless engine, nothing is critical.
fn cap_for_rootless(ctx: &Ctx, sev: Severity) -> Severity {
    if ctx.inventory.engine.security.rootless && sev == Severity::Critical {
        Severity::High
    } else {
        sev
    }
}

fn graded(ctx: &Ctx, sev: Severity, m: &Mount, what: &str) -> Hit {
    let sev = cap_for_rootless(ctx, sev);
    Hit::graded(
        sev,
        format!(
            "{what} {} mounted {} at {}",
            m.describe_source(),
            mode(m),
            m.destination
        ),
    )
}

/// Files below a system directory that hold credentials: even read-only,
/// they are high.
const SECRET_PATHS: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/kubernetes",
    "/etc/docker",
    "/etc/containers",
];

fn holds_credentials(path: &str) -> bool {
    SECRET_PATHS.iter().any(|s| is_under(path, s)) || path.split('/').any(|part| part == ".ssh")
}

/// The CIS-sensitive base a bind falls under, and whether it is that path
/// exactly.
fn cis_base(m: &Mount) -> Option<(&'static str, bool)> {
    let paths = host_paths(m);
    for p in &paths {
        for base in CIS_SENSITIVE {
            if is_under(p, base) {
                return Some((base, normalise(p) == *base));
            }
        }
    }
    None
}

fn sensitive_grade(m: &Mount) -> Option<Severity> {
    let (base, exact) = cis_base(m)?;
    let sev = system_path_grade(base, exact, m.read_write);
    if !exact && host_paths(m).iter().any(|p| holds_credentials(p)) {
        return Some(sev.max(Severity::High));
    }
    Some(sev)
}

/// The `container.sensitive-mount` rule: Sensitive host directory mounted.
pub const SENSITIVE_MOUNT: Rule = Rule {
    id: "container.sensitive-mount",
    title: "Sensitive host directory mounted",
    severity: Severity::High,
    family: Family::Mounts,
    cis: Some("5.6"),
    seed: SeedRule::Whitelisting,
    why: "System directories of the host (/, /etc, /proc, /sys, /dev, /boot, /usr, /lib, /root, \
          the engine's data dir) mounted into a container let it read host secrets and, if \
          writable, change the host itself. Graded by what it gives: the host's /, /etc, /root, \
          /proc, /usr, /lib, /sys or the engine's data read-write is critical; /, /etc, /root, \
          /proc or the engine's data read-only is high, as is anything below /root and any \
          credential file (/etc/shadow, /etc/ssh, .ssh); another file or directory below a \
          system path is high read-write and low read-only (/etc/localtime).",
    attack: "Read-write: add a user to /etc/passwd, drop a cron job or a systemd unit, replace a \
             binary in /usr, set /proc/sys/kernel/core_pattern — code runs on the host. \
             Read-only: read /etc/shadow, SSH host keys, other containers' files under \
             /var/lib/docker.",
    fix: Fix {
        summary: "Mount only the specific application directory it needs, read-only where possible.",
        run: "-v /srv/app/config:/config:ro (instead of a system directory)",
        compose: "volumes: [\"/srv/app/config:/config:ro\"]",
        kube: "volumes:\n- name: config\n  configMap: { name: app-config }  # instead of hostPath",
    },
    references: &[CIS],
    check: Check::Container(|ctx, c| {
        binds(c)
            .filter(|m| !m.is_socket() && !host_paths(m).iter().any(|p| is_engine_socket(p)))
            .filter_map(|m| Some(graded(ctx, sensitive_grade(m)?, m, "host path")))
            .collect()
    }),
};

/// Host paths beyond the CIS list that are just as telling.
fn extra_sensitive(ctx: &Ctx, m: &Mount) -> Option<(Severity, &'static str)> {
    let root = ctx.inventory.engine.docker_root_dir.as_str();
    for source in host_paths(m) {
        let source = source.as_str();
        if !root.is_empty() && !is_under(root, "/var/lib/docker") && is_under(source, root) {
            let exact = normalise(source) == normalise(root);
            return Some((
                system_path_grade("/var/lib/docker", exact, m.read_write),
                "engine data directory",
            ));
        }
        if is_under(source, "/run") {
            // Sockets stay connectable through a read-only mount.
            return Some((Severity::High, "runtime state directory"));
        }
        if source.split('/').any(|part| part == ".ssh") {
            return Some((Severity::High, "SSH directory"));
        }
        if is_under(source, "/home") {
            let sev = if m.read_write {
                Severity::High
            } else {
                Severity::Medium
            };
            return Some((sev, "home directory"));
        }
    }
    None
}

/// The `container.sensitive-mount-extra` rule: Other sensitive host path mounted.
pub const SENSITIVE_MOUNT_EXTRA: Rule = Rule {
    id: "container.sensitive-mount-extra",
    title: "Other sensitive host path mounted",
    severity: Severity::High,
    family: Family::Mounts,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "Beyond the CIS list: /run and /var/run hold sockets and credentials of host services \
          (reachable even read-only); home and .ssh directories hold keys and tokens; a \
          relocated engine data directory is as sensitive as /var/lib/docker.",
    attack: "Steal SSH private keys or cloud credentials from a mounted home directory, or talk to \
             a host daemon through a socket in /run (systemd, containerd, D-Bus).",
    fix: Fix {
        summary: "Mount a dedicated directory for the application instead of a home, /run or key directory.",
        run: "-v /srv/app/data:/data (not $HOME, /run or ~/.ssh)",
        compose: "volumes: [\"/srv/app/data:/data\"]",
        kube: "volumes:\n- name: data\n  persistentVolumeClaim: { claimName: app-data }  # instead of hostPath",
    },
    references: &[CIS],
    check: Check::Container(|ctx, c| {
        binds(c)
            .filter(|m| !m.is_socket() && !host_paths(m).iter().any(|p| is_engine_socket(p)))
            .filter(|m| host_socket(m).is_none())
            .filter(|m| cis_base(m).is_none())
            .filter_map(|m| extra_sensitive(ctx, m).map(|(sev, what)| graded(ctx, sev, m, what)))
            .collect()
    }),
};

/// Is this bind a socket of the host (not an engine's)? How bad, and why.
fn host_socket(m: &Mount) -> Option<(Severity, String)> {
    let paths = host_paths(m);
    if paths.iter().any(|p| is_engine_socket(p)) {
        return None;
    }
    let known = paths
        .iter()
        .find(|p| ROOT_DAEMON_SOCKETS.contains(&p.as_str()));
    if let Some(p) = known {
        return Some((
            Severity::High,
            format!("{p}, the control socket of a host daemon that runs as root"),
        ));
    }
    let looks_like = m.host.is_none()
        && paths
            .iter()
            .any(|p| p.ends_with(".sock") || p.ends_with(".socket") || p == "/dev/log");
    if m.is_socket() || looks_like {
        return Some((Severity::Medium, "a unix socket of the host".to_string()));
    }
    None
}

/// The `container.host-socket` rule: Host service socket mounted.
pub const HOST_SOCKET: Rule = Rule {
    id: "container.host-socket",
    title: "Host service socket mounted",
    severity: Severity::Medium,
    family: Family::Mounts,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "A unix socket is an API into the service behind it. The system D-Bus, systemd's private \
          socket or libvirt's take orders from uid 0, and root in a container is uid 0 unless \
          user namespaces remap it; other sockets expose whatever the service offers. Mounting \
          it read-only changes nothing.",
    attack: "Through /run/systemd/private or the system bus: `systemctl start` a transient unit \
             that runs a command on the host as root. Through a syslog socket: forge host log \
             lines to hide tracks.",
    fix: Fix {
        summary: "Do not mount host sockets; if the workload needs the service, give it a narrower, authenticated API.",
        run: "remove -v /run/…/x.sock:…",
        compose: "remove the socket from volumes:",
        kube: "remove the hostPath volume of the socket (and its volumeMounts entry)",
    },
    references: &[
        "https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
        "https://www.freedesktop.org/software/systemd/man/latest/systemd.html",
    ],
    check: Check::Container(|_, c| {
        binds(c)
            .filter_map(|m| {
                let (sev, what) = host_socket(m)?;
                Some(Hit::graded(
                    sev,
                    format!(
                        "{} mounted at {}: {what}",
                        m.describe_source(),
                        m.destination
                    ),
                ))
            })
            .collect()
    }),
};

/// The `container.shared-propagation` rule: Mount with shared propagation.
pub const SHARED_PROPAGATION: Rule = Rule {
    id: "container.shared-propagation",
    title: "Mount with shared propagation",
    severity: Severity::Medium,
    family: Family::Mounts,
    cis: Some("5.20"),
    seed: SeedRule::Whitelisting,
    why: "With shared or rshared propagation, mounts made inside the container appear on the host \
          (and the other way round).",
    attack: "A process in the container mounts over a host path below the shared mount, hiding or \
             replacing files that host processes then use.",
    fix: Fix {
        summary: "Use the default private propagation.",
        run: "--mount type=bind,src=…,dst=…,bind-propagation=rprivate",
        compose: "volumes: - type: bind … bind: { propagation: rprivate }",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/storage/bind-mounts/#configure-bind-propagation",
    ],
    check: Check::Container(|_, c| {
        c.mounts
            .iter()
            .filter(|m| matches!(m.propagation.as_str(), "shared" | "rshared"))
            .map(|m| {
                Hit::new(format!(
                    "{} at {} has {} propagation",
                    m.source, m.destination, m.propagation
                ))
            })
            .collect()
    }),
};

/// The `container.writable-rootfs` rule: Root filesystem is writable.
pub const WRITABLE_ROOTFS: Rule = Rule {
    id: "container.writable-rootfs",
    title: "Root filesystem is writable",
    severity: Severity::Low,
    family: Family::Mounts,
    cis: Some("5.13"),
    seed: SeedRule::Whitelisting,
    why: "A writable root filesystem lets anything running in the container add or replace \
          executables and configuration, so what runs can drift from what was built. A \
          read-only root is undone by a writable mount over a directory programs or libraries \
          are loaded from (PATH, /usr/lib, the command's own directory), and by a tmpfs mounted \
          with exec; a noexec tmpfs (the engine's default) and data volumes elsewhere are fine.",
    attack: "After getting a foothold the attacker downloads tools, replaces binaries with \
             backdoored ones, and persists across process restarts.",
    fix: Fix {
        summary: "Run with a read-only root filesystem; give writable tmpfs or volumes only where the app writes.",
        run: "--read-only --tmpfs /tmp",
        compose: "read_only: true\ntmpfs: [/tmp]",
        kube: "securityContext:\n  readOnlyRootFilesystem: true",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        if !c.readonly_rootfs {
            let field = c.source.field(crate::model::Setting::ReadOnlyRoot);
            return vec![Hit::new(match c.source {
                crate::model::Source::Engine => format!("{field} is false"),
                crate::model::Source::Kubernetes | crate::model::Source::Compose => {
                    format!("{field} is not true")
                }
            })];
        }
        read_only_that_is_not(c)
    }),
};

/// The engine's PATH when the image sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the dynamic loader finds shared libraries.
const LIBRARY_DIRS: &[&str] = &["/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib"];

/// The directories whose contents the container's processes run: PATH,
/// the shared-library directories, and the directory of its command.
fn executable_dirs(c: &crate::model::Container) -> Vec<String> {
    let path = c
        .env
        .iter()
        .rev()
        .find(|e| e.key == "PATH")
        .map_or(DEFAULT_PATH, |e| e.value.expose_for_analysis());
    let mut dirs: Vec<String> = path
        .split(':')
        .filter(|d| d.starts_with('/'))
        .take(64)
        .map(|d| d.trim_end_matches('/').to_string())
        .collect();
    dirs.extend(LIBRARY_DIRS.iter().map(|d| d.to_string()));
    if let Some((dir, _)) = c
        .command
        .first()
        .filter(|p| p.starts_with('/'))
        .and_then(|p| p.rsplit_once('/'))
    {
        dirs.push(if dir.is_empty() {
            "/".into()
        } else {
            dir.to_string()
        });
    }
    dirs.sort();
    dirs.dedup();
    dirs
}

/// `at` is `dir` or one of its parents.
fn covers(at: &str, dir: &str) -> bool {
    let at = at.trim_end_matches('/');
    at.is_empty() || dir == at || dir.strip_prefix(at).is_some_and(|r| r.starts_with('/'))
}

/// A read-only root filesystem that writable mounts undo: a writable bind
/// or volume over a directory whose programs or libraries run, or a tmpfs
/// that allows execution (somewhere to write a tool and run it). A tmpfs
/// mounted noexec (the engine's default) and data volumes elsewhere are
/// what `--read-only` is meant to be used with.
fn read_only_that_is_not(c: &crate::model::Container) -> Vec<Hit> {
    let dirs = executable_dirs(c);
    let mut hits = Vec::new();
    for m in c
        .mounts
        .iter()
        .filter(|m| m.read_write && !matches!(m.kind, MountKind::Tmpfs))
    {
        let under: Vec<&str> = dirs
            .iter()
            .filter(|d| covers(&m.destination, d))
            .map(String::as_str)
            .collect();
        if !under.is_empty() {
            hits.push(Hit::new(format!(
                "HostConfig.ReadonlyRootfs is true, but the writable {} mount at {} covers {}, \
                 where what runs is loaded from",
                m.kind.as_str(),
                m.destination,
                under.join(", ")
            )));
        }
    }
    for t in c.tmpfs.iter().filter(|t| t.exec) {
        hits.push(Hit::new(format!(
            "HostConfig.ReadonlyRootfs is true, but the tmpfs at {} allows execution: a place \
             to write a program and run it",
            t.destination
        )));
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn bind(source: &str, rw: bool) -> Mount {
        Mount {
            kind: MountKind::Bind,
            source: source.into(),
            destination: "/mnt".into(),
            read_write: rw,
            propagation: "rprivate".into(),
            name: None,
            host: None,
        }
    }

    fn resolved(source: &str, to: &str, kind: HostPathKind) -> Mount {
        let mut m = bind(source, false);
        m.host = Some(crate::model::HostPath {
            resolved: to.into(),
            kind,
        });
        m
    }

    /// On an engine that runs as root (the test engine is rootless).
    fn rootful(rule: &Rule, c: &Container) -> Vec<Hit> {
        let mut inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        inv.engine.security.rootless = false;
        inv.engine.endpoint = "unix:///var/run/docker.sock".into();
        run_container_in(rule, c, &inv, &crate::model::policy::Policy::default())
    }

    fn grades(rule: &Rule, c: &Container) -> Vec<(Option<Severity>, String)> {
        rootful(rule, c)
            .into_iter()
            .map(|h| (h.severity, h.evidence))
            .collect()
    }

    #[test]
    fn path_prefixes() {
        assert!(is_under("/etc", "/etc"));
        assert!(is_under("/etc/ssl/", "/etc"));
        assert!(!is_under("/etcetera", "/etc"));
        assert!(is_under("/", "/"));
        assert!(!is_under("/srv", "/"));
        assert!(is_under("/var/lib/docker/volumes/x", "/var/lib/docker"));
    }

    #[test]
    fn cis_sensitive_graded_by_mode() {
        let mut c = hardened();
        c.mounts = vec![
            bind("/", true),
            bind("/etc/ssl", false),
            bind("/srv/app", true),
        ];
        let hits = rootful(&SENSITIVE_MOUNT, &c);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].severity, Some(Severity::Critical));
        assert_eq!(hits[1].severity, Some(Severity::Low));
        assert!(hits[1].evidence.contains("/etc/ssl mounted read-only"));
    }

    #[test]
    fn system_paths_graded_by_what_they_give() {
        use Severity::*;
        let cases: &[(&str, bool, Severity)] = &[
            ("/", true, Critical),
            ("/", false, High),
            ("/etc", true, Critical),
            ("/etc", false, High),
            ("/root", true, Critical),
            ("/var/lib/docker", true, Critical),
            ("/var/lib/docker", false, High),
            ("/var/lib/docker/volumes", false, High),
            ("/proc", true, Critical),
            ("/proc", false, High),
            ("/usr", true, Critical),
            ("/usr", false, Medium),
            ("/sys", false, Medium),
            ("/dev", true, High),
            ("/boot", false, Medium),
            ("/etc/localtime", false, Low),
            ("/root/.ssh", false, High),
            ("/etc/shadow", false, High),
            ("/etc/ssh/ssh_host_ed25519_key", false, High),
            ("/etc/cron.d", true, High),
            ("/sys/fs/cgroup", false, Low),
        ];
        for (path, rw, want) in cases {
            let mut c = hardened();
            c.mounts = vec![bind(path, *rw)];
            let got = grades(&SENSITIVE_MOUNT, &c);
            assert_eq!(got.len(), 1, "{path}");
            assert_eq!(got[0].0, Some(*want), "{path} rw={rw}");
        }
    }

    #[test]
    fn rootless_engine_caps_at_high() {
        let mut c = hardened();
        c.mounts = vec![bind("/", true), bind("/var/run/docker.sock", true)];
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.security.rootless = true;
        let p = crate::model::policy::Policy::default();
        let h = run_container_in(&SENSITIVE_MOUNT, &c, &inv, &p);
        assert_eq!(h[0].severity, Some(Severity::High));
        let h = run_container_in(&ENGINE_SOCKET, &c, &inv, &p);
        assert!(
            h.iter().all(|h| h.severity == Some(Severity::High)),
            "{h:?}"
        );
        assert!(h[0].evidence.contains("rootless"));
    }

    #[test]
    fn engine_socket_through_a_symlink_or_a_parent_directory() {
        let mut c = hardened();
        // A link with an innocent name that leads to the socket.
        c.mounts = vec![resolved(
            "/tmp/tools.sock",
            "/run/docker.sock",
            HostPathKind::Socket,
        )];
        let h = grades(&ENGINE_SOCKET, &c);
        assert_eq!(h.len(), 1);
        assert!(
            h[0].1.contains("/tmp/tools.sock (→ /run/docker.sock)"),
            "{h:?}"
        );
        assert!(
            grades(&HOST_SOCKET, &c).is_empty(),
            "said once, as the engine socket"
        );

        // A parent directory, resolved or as configured.
        for m in [
            bind("/var/run", false),
            bind("/run/", true),
            resolved("/srv/link", "/run", HostPathKind::Directory),
        ] {
            c.mounts = vec![m];
            let h = grades(&ENGINE_SOCKET, &c);
            assert_eq!(h.len(), 1, "{:?}", c.mounts);
            assert!(
                h[0].1
                    .contains("reaches the engine socket /run/docker.sock as /mnt/docker.sock"),
                "{h:?}"
            );
        }
        // `/` reaches it too; `/var` does not (its `run` is an absolute
        // symlink, resolved inside the container).
        c.mounts = vec![bind("/", false)];
        assert!(
            grades(&ENGINE_SOCKET, &c)[0]
                .1
                .contains("as /mnt/run/docker.sock")
        );
        c.mounts = vec![bind("/var", false)];
        assert!(grades(&ENGINE_SOCKET, &c).is_empty());
        // A plain file that happens to sit in /run is not a directory.
        c.mounts = vec![resolved("/run/app.pid", "/run/app.pid", HostPathKind::File)];
        assert!(grades(&ENGINE_SOCKET, &c).is_empty());
    }

    #[test]
    fn the_connected_engines_own_socket_counts_whatever_its_name() {
        let mut c = hardened();
        c.mounts = vec![bind("/srv/engine/api", true)];
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.endpoint = "unix:///srv/engine/api".into();
        let h = run_container_in(
            &ENGINE_SOCKET,
            &c,
            &inv,
            &crate::model::policy::Policy::default(),
        );
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn host_sockets() {
        let mut c = hardened();
        c.mounts = vec![
            bind("/run/dbus/system_bus_socket", false),
            resolved("/srv/x/thing", "/srv/x/thing", HostPathKind::Socket),
            bind("/tmp/app.sock", true),
            resolved("/srv/app", "/srv/app", HostPathKind::Directory),
        ];
        let h = grades(&HOST_SOCKET, &c);
        assert_eq!(h.len(), 3, "{h:?}");
        assert_eq!(h[0].0, Some(Severity::High));
        assert!(h[0].1.contains("runs as root"));
        assert_eq!(h[1].0, Some(Severity::Medium));
        // A socket is not also a "sensitive directory".
        assert!(
            grades(&SENSITIVE_MOUNT_EXTRA, &c).is_empty(),
            "{:?}",
            grades(&SENSITIVE_MOUNT_EXTRA, &c)
        );
    }

    #[test]
    fn a_symlink_to_a_system_directory_is_that_directory() {
        let mut c = hardened();
        c.mounts = vec![resolved("/srv/innocent", "/etc", HostPathKind::Directory)];
        c.mounts[0].read_write = true;
        let h = grades(&SENSITIVE_MOUNT, &c);
        assert_eq!(h[0].0, Some(Severity::Critical));
        assert!(h[0].1.contains("/srv/innocent (→ /etc) mounted read-write"));
    }

    #[test]
    fn volumes_are_not_host_paths() {
        let mut c = hardened();
        let mut v = bind("/var/lib/docker/volumes/data/_data", true);
        v.kind = MountKind::Volume;
        c.mounts = vec![v];
        assert!(run_container(&SENSITIVE_MOUNT, &c).is_empty());
    }

    #[test]
    fn sockets_by_source_or_destination() {
        let mut c = hardened();
        c.mounts = vec![bind("/var/run/docker.sock", false)];
        assert_eq!(run_container(&ENGINE_SOCKET, &c).len(), 1);
        // The socket is not reported again as a /var/run path.
        assert!(run_container(&SENSITIVE_MOUNT_EXTRA, &c).is_empty());
        assert!(run_container(&HOST_SOCKET, &c).is_empty());
        let mut m = bind("/run/user/1000/podman/podman.sock", true);
        m.destination = "/var/run/docker.sock".into();
        c.mounts = vec![m];
        assert_eq!(run_container(&ENGINE_SOCKET, &c).len(), 1);
        c.mounts = vec![bind("/srv/dockerfiles", true)];
        assert!(run_container(&ENGINE_SOCKET, &c).is_empty());
    }

    #[test]
    fn extra_sensitive_paths() {
        let mut c = hardened();
        c.mounts = vec![
            bind("/home/alice", false),
            bind("/srv/x/.ssh", false),
            bind("/run", true),
            bind("/srv/app", true),
        ];
        let hits = run_container(&SENSITIVE_MOUNT_EXTRA, &c);
        let ev: Vec<_> = hits.iter().map(|h| h.evidence.as_str()).collect();
        assert_eq!(hits.len(), 3, "{ev:?}");
        assert!(ev[0].starts_with("home directory /home/alice"));
        assert!(ev[1].starts_with("SSH directory"));
        assert!(ev[2].starts_with("runtime state directory /run mounted read-write"));
        assert_eq!(hits[0].severity, Some(Severity::Medium), "home, read-only");
        assert_eq!(
            hits[1].severity,
            Some(Severity::High),
            "keys, even read-only"
        );
    }

    #[test]
    fn relocated_engine_root() {
        let mut c = hardened();
        c.mounts = vec![bind("/data/docker/containers", false)];
        let mut inv = inventory_with(vec![c.clone()], vec![]);
        inv.engine.docker_root_dir = "/data/docker".into();
        let hits = run_container_in(
            &SENSITIVE_MOUNT_EXTRA,
            &c,
            &inv,
            &crate::model::policy::Policy::default(),
        );
        assert!(hits[0].evidence.starts_with("engine data directory"));
    }

    #[test]
    fn propagation_and_rootfs() {
        let mut c = hardened();
        let mut m = bind("/srv/x", true);
        m.propagation = "rshared".into();
        c.mounts = vec![m];
        assert_eq!(run_container(&SHARED_PROPAGATION, &c).len(), 1);
        c.readonly_rootfs = false;
        assert_eq!(run_container(&WRITABLE_ROOTFS, &c).len(), 1);
    }

    /// Read-only that isn't, and the trap that must not fire.
    #[test]
    fn read_only_roots_undone_by_their_mounts() {
        let mut c = hardened();
        assert!(run_container(&WRITABLE_ROOTFS, &c).is_empty());
        // A noexec tmpfs (the engine's default) and a data volume: fine.
        c.tmpfs = vec![crate::model::TmpfsMount {
            destination: "/tmp".into(),
            exec: false,
        }];
        let mut data = bind("/srv/data", true);
        data.destination = "/data".into();
        c.mounts = vec![data];
        assert!(run_container(&WRITABLE_ROOTFS, &c).is_empty());
        // An exec tmpfs.
        c.tmpfs[0].exec = true;
        let h = run_container(&WRITABLE_ROOTFS, &c);
        assert_eq!(h.len(), 1);
        assert!(h[0].evidence.contains("tmpfs at /tmp allows execution"));
        c.tmpfs[0].exec = false;
        // A writable volume over a PATH directory, or above it.
        let mut tools = bind("/srv/tools", true);
        tools.destination = "/usr/local".into();
        c.mounts.push(tools.clone());
        let h = run_container(&WRITABLE_ROOTFS, &c);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(
            h[0].evidence.contains("/usr/local/bin"),
            "{}",
            h[0].evidence
        );
        // Read-only, it is fine again.
        c.mounts.last_mut().unwrap().read_write = false;
        assert!(run_container(&WRITABLE_ROOTFS, &c).is_empty());
        // The command's own directory, from the container's own PATH.
        let mut app = bind("/srv/app", true);
        app.destination = "/app".into();
        c.mounts = vec![app];
        c.command = vec!["/app/server".into()];
        assert_eq!(run_container(&WRITABLE_ROOTFS, &c).len(), 1);
        c.command = vec!["server".into()];
        assert!(run_container(&WRITABLE_ROOTFS, &c).is_empty());
        c.env = vec![crate::model::EnvVar::parse("PATH=/app:/bin")];
        assert_eq!(run_container(&WRITABLE_ROOTFS, &c).len(), 1);
    }
}
