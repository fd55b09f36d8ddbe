//! Runtime drift: what changed in a container's writable layer since it was
//! created (`GET /containers/{id}/changes`), with file modes read by a stat
//! (`HEAD /containers/{id}/archive`) where the path alone does not tell.

use chrono::Utc;
use futures_util::stream::{self, StreamExt};

use super::{Engine, EngineError};
use crate::model::activity::{
    ChangeKind, Drift, DriftClass, DriftItem, classify_path, drop_parent_dirs, is_executable_file,
    needs_mode_check,
};

/// How many containers are checked at once.
pub const CONCURRENCY: usize = 4;
/// At most this many files per container get a stat (a container that
/// unpacked a whole toolchain into /tmp still costs a bounded time).
pub const MAX_STATS: usize = 64;
/// At most this many items are kept per container as evidence.
pub const MAX_ITEMS: usize = 200;

/// Check one container. `readonly_rootfs`: nothing can drift, say so
/// without asking.
pub async fn check(engine: &Engine, target: &Target) -> Result<Drift, EngineError> {
    if target.readonly_rootfs {
        return Ok(protected());
    }
    let id = target.id.as_str();
    let plan = plan(engine.changes(id).await?, &target.mount_points);
    let stats: Vec<_> = stream::iter(plan.to_stat.clone())
        .map(|(path, kind)| async move {
            let mode = engine.stat_path(id, &path, target.volumes).await;
            (path, kind, mode)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    finish(plan, stats)
}

/// A container to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The container's id.
    pub id: String,
    /// Its root filesystem is read-only (then only mounts can drift).
    pub readonly_rootfs: bool,
    /// Mount destinations: the engine creates them in the writable layer,
    /// so they show up as added; they are not drift.
    pub mount_points: Vec<String>,
    /// Volumes the engine mounts for each stat (see [`Engine::stat_path`]).
    pub volumes: usize,
}

impl Target {
    /// The drift target of a container.
    pub fn of(c: &crate::model::Container) -> Self {
        Self {
            id: c.id.clone(),
            readonly_rootfs: c.readonly_rootfs,
            mount_points: c.mounts.iter().map(|m| m.destination.clone()).collect(),
            volumes: c.volume_count(),
        }
    }
}

/// A read-only root filesystem: nothing can drift.
pub fn protected() -> Drift {
    Drift {
        checked_at: Some(Utc::now()),
        protected: true,
        ..Drift::default()
    }
}

/// What the change list says by itself, and which files need a stat.
#[derive(Debug, Clone)]
pub struct Plan {
    total_changes: usize,
    package_db_changed: bool,
    items: Vec<DriftItem>,
    /// The changed paths to stat, with what changed.
    pub to_stat: Vec<(String, ChangeKind)>,
}

/// Classify `/changes` output (`(path, kind)`, kind 0/1/2).
pub fn plan(raw: Vec<(String, i64)>, mount_points: &[String]) -> Plan {
    let total_changes = raw.len();
    let package_db_changed = raw
        .iter()
        .any(|(p, _)| crate::model::packages::is_package_db(p));
    let changes: Vec<(String, ChangeKind)> = raw
        .into_iter()
        .filter(|(p, _)| !mount_points.iter().any(|m| m == p))
        .filter_map(|(p, k)| ChangeKind::from_api(k).map(|k| (p, k)))
        .collect();
    let mut items = Vec::new();
    let mut to_stat = Vec::new();
    for (path, kind) in drop_parent_dirs(changes) {
        if needs_mode_check(&path, kind) && to_stat.len() < MAX_STATS {
            to_stat.push((path, kind));
        } else if let Some(class) = classify_path(&path, kind) {
            items.push(DriftItem { path, kind, class });
        }
    }
    Plan {
        total_changes,
        package_db_changed,
        items,
        to_stat,
    }
}

/// Complete a plan with the file modes read for it.
pub fn finish(
    plan: Plan,
    stats: Vec<(String, ChangeKind, Result<u32, EngineError>)>,
) -> Result<Drift, EngineError> {
    let Plan {
        total_changes,
        package_db_changed,
        mut items,
        ..
    } = plan;
    for (path, kind, mode) in stats {
        let class = match mode {
            Ok(m) if is_executable_file(m) => Some(DriftClass::Executable),
            Ok(_) => classify_path(&path, kind),
            // Removed since the change list was read: nothing to report.
            Err(EngineError::NotFound { .. }) => None,
            Err(e @ EngineError::Lost { .. }) => return Err(e),
            // Could not read the mode: report what the path tells.
            Err(_) => classify_path(&path, kind),
        };
        if let Some(class) = class {
            items.push(DriftItem { path, kind, class });
        }
    }
    items.sort_by(|a, b| a.path.cmp(&b.path));
    items.truncate(MAX_ITEMS);
    Ok(Drift {
        checked_at: Some(Utc::now()),
        protected: false,
        total_changes,
        items,
        package_db_changed,
    })
}

/// Check many containers with bounded concurrency, reporting progress
/// (`done`, `total`) after each one.
pub async fn pass(
    engine: &Engine,
    targets: Vec<Target>,
    progress: impl Fn(usize, usize),
) -> Vec<(String, Result<Drift, EngineError>)> {
    let total = targets.len();
    progress(0, total);
    let mut done = 0;
    let mut out = Vec::with_capacity(total);
    let mut results = stream::iter(targets)
        .map(|t| async move {
            let r = check(engine, &t).await;
            (t.id, r)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(r) = results.next().await {
        done += 1;
        progress(done, total);
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_decide_for_scratch_files_and_paths_for_the_rest() {
        let p = plan(
            vec![
                ("/tmp".into(), 0),
                ("/tmp/dropper".into(), 1),
                ("/tmp/notes.txt".into(), 1),
                ("/tmp/gone".into(), 1),
                ("/usr/bin/nc".into(), 1),
                ("/etc/passwd".into(), 0),
                ("/var/log/app.log".into(), 1),
                ("/root/.ssh".into(), 1),
                ("/root/.ssh/authorized_keys".into(), 1),
                ("/root/run.sh".into(), 1),
                ("/root/.ash_history".into(), 1),
                ("/etc/app".into(), 1),
            ],
            &["/etc/app".into()],
        );
        let stat_paths: Vec<&str> = p.to_stat.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            stat_paths,
            [
                "/root/.ash_history",
                "/root/run.sh",
                "/tmp/dropper",
                "/tmp/gone",
                "/tmp/notes.txt"
            ]
        );
        let modes = |path: &str| match path {
            "/tmp/dropper" | "/root/run.sh" => Ok(0o755),
            "/tmp/gone" => Err(EngineError::NotFound { what: path.into() }),
            _ => Ok(0o644),
        };
        let stats = p
            .to_stat
            .iter()
            .map(|(path, kind)| (path.clone(), *kind, modes(path)))
            .collect();
        let d = finish(p, stats).unwrap();
        assert_eq!(d.total_changes, 12);
        let got: Vec<(&str, DriftClass)> =
            d.items.iter().map(|i| (i.path.as_str(), i.class)).collect();
        assert_eq!(
            got,
            [
                ("/etc/passwd", DriftClass::Accounts),
                ("/root/.ash_history", DriftClass::RootHome),
                ("/root/.ssh/authorized_keys", DriftClass::AuthorizedKeys),
                ("/root/run.sh", DriftClass::Executable),
                ("/tmp/dropper", DriftClass::Executable),
                ("/usr/bin/nc", DriftClass::Binary),
            ]
        );
    }
}
