//! Host paths and sockets mounted into containers, and the container's own
//! root filesystem.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::{Container, Mount, MountKind, SeedRule, Severity};

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

fn normalise(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() { "/" } else { t }
}

pub fn is_engine_socket(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    ENGINE_SOCKETS.contains(&file)
}

/// Bind mounts only: named volumes live under the engine's data dir by
/// design and are not host paths the user chose.
fn binds(c: &Container) -> impl Iterator<Item = &Mount> {
    c.mounts.iter().filter(|m| m.kind == MountKind::Bind)
}

fn mode(m: &Mount) -> &'static str {
    if m.read_write {
        "read-write"
    } else {
        "read-only"
    }
}

fn graded(m: &Mount, what: &str) -> Hit {
    let sev = if m.read_write {
        Severity::High
    } else {
        Severity::Medium
    };
    Hit::graded(
        sev,
        format!(
            "{what} {} mounted {} at {}",
            m.source,
            mode(m),
            m.destination
        ),
    )
}

pub const ENGINE_SOCKET: Rule = Rule {
    id: "container.engine-socket",
    title: "Container engine socket mounted",
    severity: Severity::Critical,
    family: Family::Mounts,
    cis: Some("5.32"),
    seed: SeedRule::LeastPrivilege,
    why: "Whoever can talk to the engine socket controls the engine: it can start a privileged \
          container with the host's root filesystem mounted. Read-only does not help; it is an \
          API, not a file.",
    attack: "From inside: `docker -H unix:///var/run/docker.sock run --privileged -v /:/host …` \
             and chroot /host — full root on the host in one command.",
    fix: Fix {
        summary: "Do not mount the engine socket. If a tool truly needs the API, put an authorising proxy in front of it that allows only the calls it needs.",
        run: "remove -v /var/run/docker.sock:/var/run/docker.sock",
        compose: "remove the docker.sock entry from volumes:",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/security/#docker-daemon-attack-surface",
    ],
    check: Check::Container(|_, c| {
        c.mounts
            .iter()
            .filter(|m| is_engine_socket(&m.source) || is_engine_socket(&m.destination))
            .map(|m| {
                Hit::new(format!(
                    "{} mounted at {} ({})",
                    m.source,
                    m.destination,
                    mode(m)
                ))
            })
            .collect()
    }),
};

pub const SENSITIVE_MOUNT: Rule = Rule {
    id: "container.sensitive-mount",
    title: "Sensitive host directory mounted",
    severity: Severity::High,
    family: Family::Mounts,
    cis: Some("5.6"),
    seed: SeedRule::Whitelisting,
    why: "System directories of the host (/, /etc, /proc, /sys, /dev, /boot, /usr, /lib, /root, \
          the engine's data dir) mounted into a container let it read host secrets and, if \
          writable, change the host itself.",
    attack: "Read-write: add a user to /etc/passwd, drop a cron job or a systemd unit, replace a \
             binary in /usr — code runs on the host. Read-only: read /etc/shadow, SSH host keys, \
             other containers' files under /var/lib/docker.",
    fix: Fix {
        summary: "Mount only the specific application directory it needs, read-only where possible.",
        run: "-v /srv/app/config:/config:ro (instead of a system directory)",
        compose: "volumes: [\"/srv/app/config:/config:ro\"]",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        binds(c)
            .filter(|m| !is_engine_socket(&m.source))
            .filter(|m| CIS_SENSITIVE.iter().any(|base| is_under(&m.source, base)))
            .map(|m| graded(m, "host path"))
            .collect()
    }),
};

/// Host paths beyond the CIS list that are just as telling.
fn extra_sensitive(ctx: &Ctx, source: &str) -> Option<&'static str> {
    let root = ctx.inventory.engine.docker_root_dir.as_str();
    if !root.is_empty() && !is_under(root, "/var/lib/docker") && is_under(source, root) {
        return Some("engine data directory");
    }
    if is_under(source, "/var/run") || is_under(source, "/run") {
        return Some("runtime state directory");
    }
    if source.split('/').any(|part| part == ".ssh") {
        return Some("SSH directory");
    }
    if is_under(source, "/home") {
        return Some("home directory");
    }
    None
}

pub const SENSITIVE_MOUNT_EXTRA: Rule = Rule {
    id: "container.sensitive-mount-extra",
    title: "Other sensitive host path mounted",
    severity: Severity::High,
    family: Family::Mounts,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "Beyond the CIS list: /run and /var/run hold sockets and credentials of host services; \
          home and .ssh directories hold keys and tokens; a relocated engine data directory is \
          as sensitive as /var/lib/docker.",
    attack: "Steal SSH private keys or cloud credentials from a mounted home directory, or talk to \
             a host daemon through a socket in /run (systemd, containerd, D-Bus).",
    fix: Fix {
        summary: "Mount a dedicated directory for the application instead of a home, /run or key directory.",
        run: "-v /srv/app/data:/data (not $HOME, /run or ~/.ssh)",
        compose: "volumes: [\"/srv/app/data:/data\"]",
    },
    references: &[CIS],
    check: Check::Container(|ctx, c| {
        binds(c)
            .filter(|m| !is_engine_socket(&m.source))
            .filter(|m| !CIS_SENSITIVE.iter().any(|base| is_under(&m.source, base)))
            .filter_map(|m| extra_sensitive(ctx, &m.source).map(|what| graded(m, what)))
            .collect()
    }),
};

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

pub const WRITABLE_ROOTFS: Rule = Rule {
    id: "container.writable-rootfs",
    title: "Root filesystem is writable",
    severity: Severity::Low,
    family: Family::Mounts,
    cis: Some("5.13"),
    seed: SeedRule::Whitelisting,
    why: "A writable root filesystem lets anything running in the container add or replace \
          executables and configuration, so what runs can drift from what was built.",
    attack: "After getting a foothold the attacker downloads tools, replaces binaries with \
             backdoored ones, and persists across process restarts.",
    fix: Fix {
        summary: "Run with a read-only root filesystem; give writable tmpfs or volumes only where the app writes.",
        run: "--read-only --tmpfs /tmp",
        compose: "read_only: true\ntmpfs: [/tmp]",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        if c.readonly_rootfs {
            vec![]
        } else {
            vec![Hit::new("HostConfig.ReadonlyRootfs is false")]
        }
    }),
};

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
        }
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
        let hits = run_container(&SENSITIVE_MOUNT, &c);
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].severity, Some(Severity::High));
        assert_eq!(hits[1].severity, Some(Severity::Medium));
        assert!(hits[1].evidence.contains("/etc/ssl mounted read-only"));
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
            &crate::policy::Policy::default(),
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
}
