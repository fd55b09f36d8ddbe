//! What happened inside a container after it started: `docker exec`
//! sessions (CIS 5.23, 5.24) and filesystem drift.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::activity::{DriftClass, DriftItem, ExecSession};
use crate::model::{Container, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const EXEC_DOCS: &str = "https://docs.docker.com/reference/cli/docker/container/exec/";
const READ_ONLY_DOCS: &str =
    "https://docs.docker.com/reference/cli/docker/container/run/#read-only";

/// At most this many paths are named in one finding's evidence.
const MAX_PATHS: usize = 8;

/// The `container.exec-privileged` rule: docker exec with --privileged.
pub const EXEC_PRIVILEGED: Rule = Rule {
    id: "container.exec-privileged",
    title: "docker exec with --privileged",
    severity: Severity::High,
    family: Family::Runtime,
    cis: Some("5.23"),
    seed: SeedRule::AuditAdminAccess,
    why: "A privileged exec gets every capability and all devices for its process, even when \
          the container itself was started unprivileged: one command undoes the container's \
          confinement.",
    attack: "Whoever can run `docker exec --privileged` (or has stolen that access) mounts the \
             host's disks from /dev, loads kernel modules or writes to /sys, and owns the host.",
    fix: Fix {
        summary: "Never use --privileged with docker exec; grant the single capability the task \
                  needs to a purpose-built container instead, and restrict who may reach the \
                  engine socket.",
        run: "docker exec (without --privileged)",
        compose: "docker compose exec (without --privileged)",
        kube: "",
    },
    references: &[CIS, EXEC_DOCS],
    check: Check::Container(|_, c| exec_hits(c, |e| e.privileged)),
};

/// The `container.exec-root` rule: docker exec as root.
pub const EXEC_ROOT: Rule = Rule {
    id: "container.exec-root",
    title: "docker exec as root",
    severity: Severity::Medium,
    family: Family::Runtime,
    cis: Some("5.24"),
    seed: SeedRule::AuditAdminAccess,
    why: "An exec as root is an interactive administrator session inside the container that no \
          image review covers; it can change any file and, with a writable root filesystem, \
          leave changes behind.",
    attack: "An attacker with engine access uses `docker exec -u 0` to read secrets, install \
             tools or plant persistence inside a running service, bypassing the user the image \
             was built to run as.",
    fix: Fix {
        summary: "Exec as the container's unprivileged user, and keep an audit trail of who \
                  runs exec; give the image a non-root USER so the default is not root.",
        run: "docker exec --user 1000:1000 …",
        compose: "docker compose exec --user 1000:1000 …",
        kube: "",
    },
    references: &[CIS, EXEC_DOCS],
    check: Check::Container(|_, c| exec_hits(c, |e| e.as_root() && !e.privileged)),
};

/// One hit per exec session that matches.
fn exec_hits(c: &Container, matches: impl Fn(&ExecSession) -> bool) -> Vec<Hit> {
    c.execs
        .iter()
        .filter(|e| matches(e))
        .map(|e| {
            Hit::new(format!(
                "exec {} at {}: {}",
                crate::model::short_id(&e.id),
                e.started.format("%Y-%m-%d %H:%M:%S UTC"),
                e.describe()
            ))
        })
        .collect()
}

/// One hit per class, naming up to [`MAX_PATHS`] paths.
fn drift_hits(c: &Container, want: impl Fn(DriftClass) -> bool) -> Vec<Hit> {
    let Some(drift) = &c.drift else {
        return vec![];
    };
    let mut by_class: std::collections::BTreeMap<DriftClass, Vec<&DriftItem>> = Default::default();
    for item in drift.items.iter().filter(|i| want(i.class)) {
        by_class.entry(item.class).or_default().push(item);
    }
    by_class
        .into_iter()
        .map(|(class, items)| {
            let mut paths: Vec<String> = items
                .iter()
                .take(MAX_PATHS)
                .map(|i| format!("{} ({})", i.path, i.kind.as_str()))
                .collect();
            if items.len() > MAX_PATHS {
                paths.push(format!("and {} more", items.len() - MAX_PATHS));
            }
            Hit::graded(
                class.severity(),
                format!("{}: {}", class.describe(), paths.join(", ")),
            )
        })
        .collect()
}

/// The `container.drift-program` rule: Programs added or changed after the container started.
pub const DRIFT_PROGRAM: Rule = Rule {
    id: "container.drift-program",
    title: "Programs added or changed after the container started",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "What a container may run should be exactly what its reviewed image holds. An \
          executable that appears at runtime — a binary in /usr/bin, a script made executable \
          in /tmp — ran past every image scan and signature.",
    attack: "After a foothold, attackers download tooling (miners, scanners, reverse shells) \
             into /tmp or /dev/shm, mark it executable and run it; replacing a binary in a bin \
             directory hides a backdoor behind a trusted name.",
    fix: Fix {
        summary: "Run with a read-only root filesystem and mount scratch space noexec, so \
                  nothing new can be written and executed; rebuild the image instead of \
                  changing a running container.",
        run: "--read-only --tmpfs /tmp:rw,noexec,nosuid",
        compose: "read_only: true + tmpfs: [\"/tmp:rw,noexec,nosuid\"]",
        kube: "",
    },
    references: &[READ_ONLY_DOCS],
    check: Check::Container(|_, c| drift_hits(c, DriftClass::is_program)),
};

/// The `container.drift-sensitive` rule: Sensitive files added or changed after the container started.
pub const DRIFT_SENSITIVE: Rule = Rule {
    id: "container.drift-sensitive",
    title: "Sensitive files added or changed after the container started",
    severity: Severity::High,
    family: Family::Runtime,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "Accounts, sudo rules, the dynamic loader, cron jobs and SSH keys decide who gets in \
          and what runs; a container should never change them at runtime. A change there is \
          either configuration drift or persistence.",
    attack: "Attackers add a key to authorized_keys, a cron entry or a line in \
             /etc/ld.so.preload to survive restarts of the process, or add an account with a \
             known password.",
    fix: Fix {
        summary: "Run with a read-only root filesystem, put configuration in the image or a \
                  read-only mount, and investigate how the file was changed.",
        run: "--read-only",
        compose: "read_only: true",
        kube: "",
    },
    references: &[READ_ONLY_DOCS],
    check: Check::Container(|_, c| drift_hits(c, |k| !k.is_program())),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::activity::{ChangeKind, Drift};

    fn exec(user: &str, container_user: &str, privileged: bool) -> ExecSession {
        ExecSession {
            id: "e0123456789abcdef".into(),
            container_id: "c".into(),
            container_name: "app".into(),
            user: Some(user.into()),
            effective_user: crate::model::activity::effective_user(user, container_user),
            command: vec!["sh".into(), "-c".into(), "id".into()],
            privileged,
            tty: false,
            started: now(),
            ended: None,
            exit_code: None,
        }
    }

    #[test]
    fn exec_rules() {
        let mut c = hardened();
        assert!(run_container(&EXEC_ROOT, &c).is_empty());
        c.execs = vec![exec("10001", "10001", false)];
        assert!(run_container(&EXEC_ROOT, &c).is_empty());
        assert!(run_container(&EXEC_PRIVILEGED, &c).is_empty());

        c.execs.push(exec("0", "10001", false));
        let hits = run_container(&EXEC_ROOT, &c);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].evidence.contains("0: sh -c id"),
            "{}",
            hits[0].evidence
        );

        // No --user: runs as the container's user, root when that is unset.
        c.execs = vec![exec("", "", false)];
        let hits = run_container(&EXEC_ROOT, &c);
        assert!(hits[0].evidence.contains("root (container default)"));

        c.execs = vec![exec("10001", "10001", true)];
        assert_eq!(run_container(&EXEC_PRIVILEGED, &c).len(), 1);
        assert!(
            run_container(&EXEC_ROOT, &c).is_empty(),
            "reported once, as privileged"
        );

        // Unknown user (ended before inspect): not claimed to be root.
        let mut unknown = exec("", "", false);
        unknown.user = None;
        c.execs = vec![unknown];
        assert!(run_container(&EXEC_ROOT, &c).is_empty());
    }

    fn item(path: &str, class: DriftClass) -> DriftItem {
        DriftItem {
            path: path.into(),
            kind: ChangeKind::Added,
            class,
        }
    }

    #[test]
    fn drift_rules_split_programs_from_files() {
        let mut c = hardened();
        assert!(
            run_container(&DRIFT_PROGRAM, &c).is_empty(),
            "never checked"
        );
        c.drift = Some(Drift {
            protected: true,
            ..Drift::default()
        });
        assert!(run_container(&DRIFT_PROGRAM, &c).is_empty());
        c.drift = Some(Drift {
            total_changes: 5,
            items: vec![
                item("/tmp/x", DriftClass::Executable),
                item("/usr/bin/nc", DriftClass::Binary),
                item("/root/.ssh/authorized_keys", DriftClass::AuthorizedKeys),
                item("/etc/app.conf", DriftClass::Config),
            ],
            ..Drift::default()
        });
        let programs = run_container(&DRIFT_PROGRAM, &c);
        assert_eq!(programs.len(), 2);
        assert!(
            programs
                .iter()
                .any(|h| h.evidence.contains("/tmp/x (added)"))
        );
        let files = run_container(&DRIFT_SENSITIVE, &c);
        assert_eq!(files.len(), 2);
        let config = files
            .iter()
            .find(|h| h.evidence.contains("/etc/app.conf"))
            .unwrap();
        assert_eq!(config.severity, Some(Severity::Medium));
    }

    #[test]
    fn long_drift_lists_are_capped() {
        let mut c = hardened();
        c.drift = Some(Drift {
            items: (0..20)
                .map(|i| item(&format!("/usr/bin/t{i:02}"), DriftClass::Binary))
                .collect(),
            ..Drift::default()
        });
        let hits = run_container(&DRIFT_PROGRAM, &c);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].evidence.ends_with("and 12 more"),
            "{}",
            hits[0].evidence
        );
    }
}
