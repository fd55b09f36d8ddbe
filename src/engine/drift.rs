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
pub async fn check(engine: &Engine, id: &str, readonly_rootfs: bool) -> Result<Drift, EngineError> {
    if readonly_rootfs {
        return Ok(Drift {
            checked_at: Some(Utc::now()),
            protected: true,
            ..Drift::default()
        });
    }
    let raw = engine.changes(id).await?;
    let total_changes = raw.len();
    let changes: Vec<(String, ChangeKind)> = raw
        .into_iter()
        .filter_map(|(p, k)| ChangeKind::from_api(k).map(|k| (p, k)))
        .collect();
    let files = drop_parent_dirs(changes);
    let mut items = Vec::new();
    let mut to_stat = Vec::new();
    for (path, kind) in files {
        if needs_mode_check(&path, kind) && to_stat.len() < MAX_STATS {
            to_stat.push((path, kind));
        } else if let Some(class) = classify_path(&path, kind) {
            items.push(DriftItem { path, kind, class });
        }
    }
    let stats: Vec<_> = stream::iter(to_stat)
        .map(|(path, kind)| async move {
            let mode = engine.stat_path(id, &path).await;
            (path, kind, mode)
        })
        .buffer_unordered(8)
        .collect()
        .await;
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
    })
}

/// Check many containers with bounded concurrency, reporting progress
/// (`done`, `total`) after each one.
pub async fn pass(
    engine: &Engine,
    targets: Vec<(String, bool)>,
    progress: impl Fn(usize, usize),
) -> Vec<(String, Result<Drift, EngineError>)> {
    let total = targets.len();
    progress(0, total);
    let mut done = 0;
    let mut out = Vec::with_capacity(total);
    let mut results = stream::iter(targets)
        .map(|(id, ro)| async move {
            let r = check(engine, &id, ro).await;
            (id, r)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some(r) = results.next().await {
        done += 1;
        progress(done, total);
        out.push(r);
    }
    out
}
