//! Runtime drift: what changed in a container's writable layer since it was
//! created, with file modes where the path alone does not tell.
//!
//! On an engine on this machine, from the container's own writable layer
//! (its overlay upper directory, `GraphDriver.Data.UpperDir`, checked to
//! sit in the engine's data root as for image layers: D9) compared with
//! the layers under it — what the engine's `/changes` computes, with the
//! same paths and kinds, at a fraction of the cost: the engine's naive diff
//! (every overlay driver on kernels with `redirect_dir`, fuse-overlayfs
//! always) mounts and walks both whole trees, 10–40 ms a container; this
//! reads only what the container wrote. Elsewhere (or when the directories
//! cannot be read or are refused), `GET /containers/{id}/changes` and a
//! stat per file (`HEAD /containers/{id}/archive`).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::Utc;
use futures_util::stream::{self, StreamExt};

use super::layers::{self, DataRoot};
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

/// How drift was read: the container's writable layer on this machine.
pub const FROM_UPPER_DIR: &str = "the container's writable layer";
/// How drift was read: the engine's change list.
pub const FROM_ENGINE: &str = "the engine's /changes";

/// Check one container. `readonly_rootfs`: nothing can drift, say so
/// without asking.
pub async fn check(engine: &Engine, target: &Target) -> Result<Drift, EngineError> {
    if target.readonly_rootfs {
        return Ok(protected());
    }
    let mut refused = None;
    if let Some(dirs) = local_dirs(engine, target) {
        let read =
            tokio::task::spawn_blocking(move || read_local(&dirs, &mut RootCache::default()))
                .await
                .unwrap_or_else(|e| Err(Refusal::Unread(e.to_string())));
        match from_local(target, read) {
            Local::Done(d) => return d,
            Local::Ask(r) => refused = r,
        }
    }
    from_engine(engine, target, refused).await
}

/// What the engine's `/changes` and stats say of `target`.
async fn from_engine(
    engine: &Engine,
    target: &Target,
    refused: Option<String>,
) -> Result<Drift, EngineError> {
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
    let mut d = finish(plan, stats)?;
    d.read_by = FROM_ENGINE.into();
    d.refused = refused;
    Ok(d)
}

/// Data roots resolved once per pass (every container of an engine shares
/// one).
#[derive(Default)]
struct RootCache(BTreeMap<String, Result<DataRoot, String>>);

/// The changes in a container's writable layer, its directories checked
/// against the data root first.
fn read_local(dirs: &LocalDirs, roots: &mut RootCache) -> Result<LayerChanges, Refusal> {
    let root = roots
        .0
        .entry(dirs.data_root.clone())
        .or_insert_with(|| DataRoot::of(&dirs.data_root))
        .clone()?;
    let upper = root.confine(&dirs.driver, &dirs.upper)?;
    let lower = dirs
        .lower
        .iter()
        .map(|l| root.confine(&dirs.driver, l))
        .collect::<Result<Vec<_>, _>>()?;
    changes_from_dirs(&upper, &lower, MAX_ENTRIES).map_err(Refusal::Unread)
}

/// What a local read gives: the drift, or the engine is to be asked (with
/// a warning when a directory was refused).
enum Local {
    Done(Result<Drift, EngineError>),
    Ask(Option<String>),
}

fn from_local(target: &Target, read: Result<LayerChanges, Refusal>) -> Local {
    match read {
        Ok((raw, modes)) => {
            let plan = plan(raw, &target.mount_points);
            let stats = plan
                .to_stat
                .iter()
                .map(|(path, kind)| {
                    let mode = modes
                        .get(path)
                        .copied()
                        .ok_or(EngineError::NotFound { what: path.clone() });
                    (path.clone(), *kind, mode)
                })
                .collect();
            Local::Done(finish(plan, stats).map(|mut d| {
                d.read_by = FROM_UPPER_DIR.into();
                d
            }))
        }
        Err(Refusal::Outside(why)) => Local::Ask(Some(format!(
            "container {}: its writable layer was not read, {why} (its changes were asked of \
             the engine instead)",
            crate::model::short_id(&target.id)
        ))),
        // Not readable here, or over the ceiling: the engine says.
        Err(Refusal::Unread(why)) => {
            tracing::debug!("drift of {}: {why}", target.id);
            Local::Ask(None)
        }
    }
}

/// Why a writable layer was not read.
enum Refusal {
    /// A directory outside the engine's data root (a warning).
    Outside(String),
    /// Not readable, or over a ceiling (the engine is asked instead).
    Unread(String),
}

impl From<String> for Refusal {
    fn from(why: String) -> Self {
        Self::Outside(why)
    }
}

/// The container's layer directories, when they may be read here: the
/// engine is on this machine, its driver keeps layers as directories, and
/// reading them is not switched off (`SHIPSHAPE_NO_LAYER_READS`).
fn local_dirs(engine: &Engine, target: &Target) -> Option<LocalDirs> {
    let s = target.storage.as_ref()?;
    if !engine.is_local()
        || std::env::var_os("SHIPSHAPE_NO_LAYER_READS").is_some()
        || !layers::OVERLAY_DRIVERS.contains(&s.driver.as_str())
        || s.upper.is_empty()
        || target.data_root.is_empty()
        || !Path::new(&s.upper).exists()
    {
        return None;
    }
    Some(LocalDirs {
        data_root: target.data_root.clone(),
        driver: s.driver.clone(),
        upper: s.upper.clone(),
        lower: s.lower.clone(),
    })
}

struct LocalDirs {
    data_root: String,
    driver: String,
    upper: String,
    lower: Vec<String>,
}

/// A writable layer's changes as the engine lists them (`(path, kind)`),
/// with the mode of each entry still there (Go's `os.FileMode` bits).
pub type LayerChanges = (Vec<(String, i64)>, BTreeMap<String, u32>);

/// The most entries of a writable layer walked; past it the engine is
/// asked (a container that unpacked a toolchain).
pub const MAX_ENTRIES: usize = 200_000;

/// The changes a container's writable layer `upper` makes to the layers
/// `lower` under it (highest first), as the engine's `/changes` reports
/// them with its naive diff (what every overlay driver uses where the
/// kernel has `redirect_dir`, and fuse-overlayfs always): `(path, kind)`,
/// kind 0 modified, 1 added, 2 deleted — a file whose mode, owner, size,
/// modification time or file capabilities differ from the one below is
/// modified, one with nothing below added; a folder is modified when
/// anything inside changed; a whiteout is a deletion (of a folder: the
/// folder alone); a folder made again (opaque) deletes each old entry it
/// no longer holds. With each changed entry's mode as the engine's stat
/// spells it (Go's `os.FileMode`). Only reads.
pub fn changes_from_dirs(
    upper: &Path,
    lower: &[PathBuf],
    max_entries: usize,
) -> Result<LayerChanges, String> {
    let mut w = Diff {
        upper,
        lower,
        out: Vec::new(),
        modes: BTreeMap::new(),
        entries: 0,
        max_entries,
    };
    let all: Vec<usize> = (0..lower.len()).collect();
    w.dir("", &all, false, false)?;
    Ok((w.out, w.modes))
}

struct Diff<'a> {
    upper: &'a Path,
    lower: &'a [PathBuf],
    out: Vec<(String, i64)>,
    modes: BTreeMap<String, u32>,
    entries: usize,
    max_entries: usize,
}

/// What an upper folder holds: its entries, and the names it whites out.
struct Listing {
    real: Vec<(String, std::fs::Metadata)>,
    gone: BTreeSet<String>,
}

fn at(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

fn is_whiteout(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device() && m.rdev() == 0
}

/// An entry's mode as the engine's stat spells it (Go's `os.FileMode`):
/// permission bits, with the file type in the high bits.
fn go_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::FileTypeExt;
    let ft = m.file_type();
    let perm = m.mode() & 0o777;
    let ty = if ft.is_dir() {
        1 << 31
    } else if ft.is_symlink() {
        1 << 27
    } else if ft.is_file() {
        0
    } else if ft.is_fifo() {
        1 << 25
    } else if ft.is_socket() {
        1 << 24
    } else {
        1 << 26
    };
    ty | perm
}

/// Whether the engine's naive diff sees these two as different: mode,
/// owner, device; for anything but folders also size and modification
/// time (a zero nanosecond part matches any).
fn stat_different(old: &std::fs::Metadata, new: &std::fs::Metadata) -> bool {
    let same_time = old.mtime() == new.mtime()
        && (old.mtime_nsec() == new.mtime_nsec() || old.mtime_nsec() == 0 || new.mtime_nsec() == 0);
    old.mode() != new.mode()
        || old.uid() != new.uid()
        || old.gid() != new.gid()
        || old.rdev() != new.rdev()
        || (!old.is_dir() && (!same_time || old.size() != new.size()))
}

fn capability(p: &Path) -> Vec<u8> {
    let mut buf = [0u8; 64];
    match rustix::fs::lgetxattr(p, "security.capability", &mut buf) {
        Ok(n) => buf[..n.min(buf.len())].to_vec(),
        Err(_) => Vec::new(),
    }
}

impl Diff<'_> {
    fn record(&mut self, path: String, kind: i64, meta: Option<&std::fs::Metadata>) {
        if let Some(m) = meta {
            self.modes.insert(path.clone(), go_mode(m));
        }
        self.out.push((path, kind));
    }

    fn list(&mut self, dir: &str) -> Result<Listing, String> {
        let mut l = Listing {
            real: Vec::new(),
            gone: BTreeSet::new(),
        };
        let rd = std::fs::read_dir(at(self.upper, dir)).map_err(|e| format!("{dir}: {e}"))?;
        for e in rd.flatten() {
            self.entries += 1;
            if self.entries > self.max_entries {
                return Err(format!(
                    "more than {} entries in the writable layer",
                    self.max_entries
                ));
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(meta) = e.metadata() else { continue };
            if let Some(gone) = name.strip_prefix(".wh.") {
                // `.wh..wh..opq` (opaque: judged by the parent) and the
                // markers fuse-overlayfs keeps beside it are not entries.
                if !gone.starts_with(".wh.") && !gone.starts_with(".opq") && !is_whiteout(&meta) {
                    l.gone.insert(gone.to_string());
                }
                continue;
            }
            if is_whiteout(&meta) {
                l.gone.insert(name);
            } else {
                l.real.push((name, meta));
            }
        }
        Ok(l)
    }

    /// The entry `name` of old folder `dir` (visible in `active`, the
    /// lower layers that make the folder, highest first): its stat, and
    /// when it is a folder the layers that make it.
    fn lookup(
        &self,
        dir: &str,
        name: &str,
        active: &[usize],
    ) -> (Option<(std::fs::Metadata, usize)>, Vec<usize>) {
        let path = format!("{dir}/{name}");
        let mut found: Option<(std::fs::Metadata, usize)> = None;
        let mut dirs = Vec::new();
        for &i in active {
            let layer = &self.lower[i];
            match std::fs::symlink_metadata(at(layer, &path)) {
                Ok(m) if is_whiteout(&m) => break,
                Ok(m) => {
                    let is_dir = m.is_dir();
                    match &found {
                        None => {
                            found = Some((m, i));
                            if !is_dir {
                                break;
                            }
                        }
                        // A file under a folder of a higher layer: hidden.
                        Some(_) if !is_dir => break,
                        Some(_) => {}
                    }
                    dirs.push(i);
                    if layers::opaque(&at(layer, &path)) {
                        break;
                    }
                }
                Err(_) => {
                    if at(layer, &format!("{dir}/.wh.{name}"))
                        .symlink_metadata()
                        .is_ok()
                    {
                        break;
                    }
                }
            }
        }
        (found, dirs)
    }

    /// The names old folder `dir` holds (made by the layers `active`).
    fn old_names(&self, dir: &str, active: &[usize]) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut gone = BTreeSet::new();
        for &i in active {
            let Ok(rd) = std::fs::read_dir(at(&self.lower[i], dir)) else {
                continue;
            };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(g) = name.strip_prefix(".wh.") {
                    if !g.starts_with(".wh.") && seen.insert(g.to_string()) {
                        gone.insert(g.to_string());
                    }
                    continue;
                }
                if seen.insert(name.clone()) && e.metadata().is_ok_and(|m| is_whiteout(&m)) {
                    gone.insert(name);
                }
            }
        }
        seen.retain(|n| !gone.contains(n));
        seen
    }

    /// Folder `dir` of the container: its upper entries against the old
    /// folder made by `active` (empty: there was none). `detached`: the
    /// folder shows only what the upper layer holds (made again, opaque);
    /// `added`: it is new, and so is everything in it.
    fn dir(
        &mut self,
        dir: &str,
        active: &[usize],
        detached: bool,
        added: bool,
    ) -> Result<(), String> {
        let l = self.list(dir)?;
        let real: BTreeSet<String> = l.real.iter().map(|(n, _)| n.clone()).collect();
        for (name, meta) in &l.real {
            let path = format!("{dir}/{name}");
            let (old, below) = if added || active.is_empty() {
                (None, Vec::new())
            } else {
                self.lookup(dir, name, active)
            };
            let Some((old, found_in)) = old else {
                self.record(path.clone(), 1, Some(meta));
                if meta.is_dir() {
                    self.dir(&path, &[], true, true)?;
                }
                continue;
            };
            let mut reported = stat_different(&old, meta);
            if !reported
                && meta.is_file()
                && old.is_file()
                && capability(&at(self.upper, &path))
                    != capability(&at(&self.lower[found_in], &path))
            {
                reported = true;
            }
            if reported {
                self.record(path.clone(), 0, Some(meta));
            }
            if meta.is_dir() {
                // Under a detached (opaque) folder every lower folder is
                // hidden too, whether or not the overlay marks each one:
                // kernel overlayfs marks only the folder made again,
                // fuse-overlayfs its new subfolders as well.
                let opaque = detached || layers::opaque(&at(self.upper, &path));
                let below = if old.is_dir() { below } else { Vec::new() };
                let start = self.out.len();
                self.dir(&path, &below, opaque || !old.is_dir(), false)?;
                if self.out.len() > start && !reported {
                    self.record(path, 0, Some(meta));
                }
            }
        }
        if active.is_empty() || added {
            return Ok(());
        }
        for name in l.gone.iter().filter(|n| !real.contains(*n)) {
            if self.lookup(dir, name, active).0.is_some() {
                self.record(format!("{dir}/{name}"), 2, None);
            }
        }
        if detached {
            for name in self.old_names(dir, active) {
                if !real.contains(&name) && !l.gone.contains(&name) {
                    self.record(format!("{dir}/{name}"), 2, None);
                }
            }
        }
        Ok(())
    }
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
    /// Its layer directories, as the engine names them.
    pub storage: Option<crate::model::StorageDirs>,
    /// The engine's data root (`DockerRootDir`), where they must be.
    pub data_root: String,
}

impl Target {
    /// The drift target of a container of an engine whose data root is
    /// `data_root` (`DockerRootDir`; empty when not known).
    pub fn of(c: &crate::model::Container, data_root: &str) -> Self {
        Self {
            id: c.id.clone(),
            readonly_rootfs: c.readonly_rootfs,
            mount_points: c.mounts.iter().map(|m| m.destination.clone()).collect(),
            volumes: c.volume_count(),
            storage: c.storage.clone(),
            data_root: data_root.to_string(),
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
        read_by: String::new(),
        refused: None,
    })
}

/// Check many containers, reporting progress (`done`, `total`) as they
/// finish: the writable layers on this machine in one blocking pass (a few
/// hundred microseconds a container, no task per container), the rest —
/// and any whose layer could not be read — through the engine, a few at a
/// time.
pub async fn pass(
    engine: &Engine,
    targets: Vec<Target>,
    progress: impl Fn(usize, usize),
) -> Vec<(String, Result<Drift, EngineError>)> {
    let total = targets.len();
    progress(0, total);
    let mut out = Vec::with_capacity(total);
    let mut ask = Vec::new();
    let mut local = Vec::new();
    for t in targets {
        if t.readonly_rootfs {
            out.push((t.id.clone(), Ok(protected())));
            continue;
        }
        match local_dirs(engine, &t) {
            Some(dirs) => local.push((t, dirs)),
            None => ask.push((t, None)),
        }
    }
    if !local.is_empty() {
        let kept: Vec<Target> = local.iter().map(|(t, _)| t.clone()).collect();
        let read = tokio::task::spawn_blocking(move || {
            let mut roots = RootCache::default();
            local
                .into_iter()
                .map(|(t, dirs)| {
                    let r = read_local(&dirs, &mut roots);
                    (t, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        // The blocking pass failed: the engine is asked for every one.
        .unwrap_or_else(|e| {
            kept.into_iter()
                .map(|t| (t, Err(Refusal::Unread(e.to_string()))))
                .collect()
        });
        for (t, r) in read {
            match from_local(&t, r) {
                Local::Done(d) => out.push((t.id, d)),
                Local::Ask(refused) => ask.push((t, refused)),
            }
        }
    }
    let mut done = out.len();
    progress(done, total);
    let mut results = stream::iter(ask)
        .map(|(t, refused)| async move {
            let r = from_engine(engine, &t, refused).await;
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

    /// The naive diff of an upper layer over two lower ones, in the AUFS
    /// whiteout spelling (`.wh.` files, which any user can make): what
    /// `/changes` lists. (The real-engine test compares with the engine.)
    #[test]
    fn a_writable_layer_reads_as_the_engines_change_list() {
        let t = tempfile::tempdir().unwrap();
        let (l0, l1, up) = (
            t.path().join("l0"),
            t.path().join("l1"),
            t.path().join("up"),
        );
        let w = |p: &Path, data: &str| {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        };
        w(&l0.join("etc/app/conf"), "c\n");
        w(&l0.join("etc/app/same"), "s\n");
        w(&l0.join("srv/keep/a"), "a\n");
        w(&l0.join("srv/gone/x"), "x\n");
        w(&l0.join("opt/opq/old1"), "1\n");
        w(&l0.join("opt/opq/old2"), "2\n");
        w(&l0.join("opt/opq/sub/deep"), "d\n");
        // Layer 1 (higher) removed old2 already: not deleted again.
        w(&l1.join("opt/opq/.wh.old2"), "");
        // The container: conf changed, `same` copied up unchanged (same
        // mtime and size), a new file and tree, a deleted file and folder,
        // /opt/opq made again with old1 rewritten and a fresh file.
        w(&up.join("etc/app/conf"), "c\nmore\n");
        w(&up.join("etc/app/same"), "s\n");
        let mtime = std::fs::metadata(l0.join("etc/app/same"))
            .unwrap()
            .modified()
            .unwrap();
        std::fs::File::options()
            .write(true)
            .open(up.join("etc/app/same"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        w(&up.join("srv/new"), "");
        w(&up.join("data/x/y/q"), "q\n");
        w(&up.join("srv/keep/.wh.a"), "");
        w(&up.join("srv/.wh.gone"), "");
        w(&up.join("opt/opq/.wh..wh..opq"), "");
        w(&up.join("opt/opq/old1"), "n\n");
        w(&up.join("opt/opq/fresh"), "f\n");
        // Made again inside the opaque folder, and not marked itself (the
        // kernel's overlay marks only /opt/opq): its old contents are
        // hidden all the same.
        std::fs::create_dir_all(up.join("opt/opq/sub")).unwrap();
        let (got, modes) = changes_from_dirs(&up, &[l1, l0], 1000).unwrap();
        let got: BTreeSet<(&str, i64)> = got.iter().map(|(p, k)| (p.as_str(), *k)).collect();
        let want: BTreeSet<(&str, i64)> = [
            ("/etc", 0),
            ("/etc/app", 0),
            ("/etc/app/conf", 0),
            ("/srv", 0),
            ("/srv/new", 1),
            ("/srv/keep", 0),
            ("/srv/keep/a", 2),
            ("/srv/gone", 2),
            ("/data", 1),
            ("/data/x", 1),
            ("/data/x/y", 1),
            ("/data/x/y/q", 1),
            ("/opt", 0),
            ("/opt/opq", 0),
            ("/opt/opq/old1", 0),
            ("/opt/opq/fresh", 1),
            ("/opt/opq/sub", 0),
            ("/opt/opq/sub/deep", 2),
        ]
        .into();
        assert_eq!(got, want);
        assert_eq!(modes.get("/data/x").map(|m| m >> 31), Some(1), "a folder");
        assert_eq!(modes.get("/srv/new").map(|m| m & 0o777), Some(0o644));
        let err = changes_from_dirs(&up, &[], 3).unwrap_err();
        assert!(err.contains("more than 3 entries"), "{err}");
    }

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
