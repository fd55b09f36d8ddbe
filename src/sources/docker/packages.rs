//! An image's installed packages and setuid files, read through one of its
//! containers (`GET /containers/{id}/archive`, see [`super::files`]).
//!
//! Read once per image id and cached by the caller; a container whose
//! package database changed after it started is read on its own. Every
//! read is noted in the own-call filter, so the Activity view does not
//! report shipshape's reads as copies.

use chrono::NaiveDate;

use super::files::{self, FileError, Kind, PACKAGE_FILES};
use super::{Engine, EngineError};
use crate::model::Container;
use crate::model::packages::{PackageScan, SpecialFile, SpecialFiles};
use crate::vulndb::{apps, installed};

/// Read for setuid/setgid bits (CIS 4.8): the executable directories, and
/// where helpers that are setuid by design live.
pub fn exec_dirs() -> impl Iterator<Item = &'static str> {
    crate::model::activity::BIN_DIRS
        .iter()
        .chain(&["/usr/lib/openssh", "/usr/lib/dbus-1.0"])
        .copied()
}

/// What one image (or one container) holds.
#[derive(Debug, Clone)]
pub struct ImageFiles {
    /// The image's installed packages.
    pub packages: PackageScan,
    /// Its setuid, setgid and world-writable files.
    pub special: SpecialFiles,
}

/// `Ok(None)` when the file is not there; an engine that went away is an
/// error for the caller.
async fn optional_file(
    engine: &Engine,
    c: &Container,
    path: &str,
) -> Result<Option<Vec<u8>>, FileError> {
    match files::read_file(engine, &c.id, c.volume_count(), path, PACKAGE_FILES).await {
        Ok(d) => Ok(Some(d)),
        Err(FileError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Read the packages of container `c` (its image's, unless its package
/// database changed): the files, then [`installed::scan`].
pub async fn read_packages(
    engine: &Engine,
    c: &Container,
    today: NaiveDate,
) -> Result<PackageScan, FileError> {
    let mut f = installed::Files::default();
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Some(d) = optional_file(engine, c, path).await? {
            f.os_release = Some(text(&d));
            break;
        }
    }
    let os = installed::os_release(f.os_release.as_deref().unwrap_or(""));
    let like_debian = os.id == "debian"
        || os.id == "ubuntu"
        || os.id_like.split_whitespace().any(|l| l == "debian");
    if os.id == "alpine" {
        f.apk_repositories = optional_file(engine, c, "/etc/apk/repositories")
            .await?
            .map(|d| text(&d));
        f.apk_installed = optional_file(engine, c, "/lib/apk/db/installed")
            .await?
            .map(|d| text(&d));
    } else if like_debian {
        f.dpkg_status = optional_file(engine, c, "/var/lib/dpkg/status")
            .await?
            .map(|d| text(&d));
        // Distroless: one file per package set.
        match files::read(
            engine,
            &c.id,
            c.volume_count(),
            "/var/lib/dpkg/status.d",
            PACKAGE_FILES,
            |p| !p.ends_with(".md5sums"),
        )
        .await
        {
            Ok(items) => {
                for i in items {
                    if let (Kind::File, Some(d)) = (&i.kind, &i.data) {
                        f.dpkg_status_d.push(text(d));
                    }
                }
            }
            Err(FileError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let mut scan = installed::scan(&f, today);
    scan.read_from = c.id.clone();
    read_apps(engine, c, &mut scan).await?;
    Ok(scan)
}

/// Python minor versions whose `site-packages` are looked for.
const PYTHON_MINORS: std::ops::RangeInclusive<u32> = 6..=14;

/// Where Python packages are installed, and whether the folder belongs to
/// the OS's Python (whose packages the OS package manager mostly owns).
const PYTHON_PREFIXES: [(&str, bool); 8] = [
    ("/usr/local/lib", false),
    ("/usr/lib", true),
    ("/opt/venv/lib", false),
    ("/venv/lib", false),
    ("/app/.venv/lib", false),
    ("/opt/conda/lib", false),
    ("/root/.local/lib", false),
    ("/opt/app-root/lib", false),
];

/// Where npm trees are installed: global, and the usual application folders.
const NODE_TREES: [&str; 9] = [
    "/usr/local/lib/node_modules",
    "/usr/lib/node_modules",
    "/app/node_modules",
    "/usr/src/app/node_modules",
    "/opt/app/node_modules",
    "/srv/app/node_modules",
    "/home/node/app/node_modules",
    "/workspace/node_modules",
    "/node_modules",
];

/// Whether `path` exists in the container (`HEAD …/archive`: no event of
/// its own). An engine that went away is an error.
async fn exists(engine: &Engine, c: &Container, path: &str) -> Result<bool, FileError> {
    match engine.stat_path(&c.id, path, c.volume_count()).await {
        Ok(_) => Ok(true),
        Err(e @ EngineError::Lost { .. }) => Err(FileError::Engine(e)),
        Err(_) => Ok(false),
    }
}

/// The application's own packages (Python and npm) of container `c`, added
/// to `scan`: each folder that exists is read as one bounded tar stream
/// keeping only the metadata files. A folder stopped at a ceiling is named
/// in `scan.unread`; the others are still read.
pub async fn read_apps(
    engine: &Engine,
    c: &Container,
    scan: &mut PackageScan,
) -> Result<(), FileError> {
    let mut folders: Vec<(String, bool)> = Vec::new();
    for (prefix, os) in PYTHON_PREFIXES {
        if !exists(engine, c, prefix).await? {
            continue;
        }
        for minor in PYTHON_MINORS {
            let lib = format!("{prefix}/python3.{minor}");
            if !exists(engine, c, &lib).await? {
                continue;
            }
            for leaf in ["site-packages", "dist-packages"] {
                let dir = format!("{lib}/{leaf}");
                if exists(engine, c, &dir).await? {
                    folders.push((dir, os));
                }
            }
        }
        if os {
            // Debian's own Python packages: all dpkg's, unless pip put one there.
            let deb = format!("{prefix}/python3/dist-packages");
            if exists(engine, c, &deb).await? {
                folders.push((deb, true));
            }
        }
    }
    for dir in NODE_TREES {
        if exists(engine, c, dir).await? {
            folders.push((dir.to_string(), false));
        }
    }
    let want: fn(&str) -> bool = |p| apps::is_python_file(p) || apps::is_npm_manifest(p);
    for (dir, os) in folders {
        match files::read(
            engine,
            &c.id,
            c.volume_count(),
            &dir,
            files::APP_TREES,
            want,
        )
        .await
        {
            Ok(items) => {
                // Entries are named from the folder itself (`site-packages/…`).
                let parent = dir.rsplit_once('/').map_or("", |(p, _)| p);
                let named: Vec<(String, Vec<u8>)> = items
                    .into_iter()
                    .filter_map(|i| {
                        let data = i.data?;
                        Some((
                            format!("{parent}/{}", i.path.trim_start_matches("./")),
                            data,
                        ))
                    })
                    .collect();
                let found =
                    apps::collect(named.iter().map(|(p, d)| (p.as_str(), d.as_slice())), os);
                if !found.packages.is_empty() {
                    scan.sources.push(dir.clone());
                }
                scan.packages.extend(found.packages);
                scan.unread.extend(found.skipped);
            }
            Err(FileError::NotFound(_)) => {}
            Err(e @ FileError::Engine(EngineError::Lost { .. })) => return Err(e),
            Err(e) => scan.unread.push(format!("{dir}: {e}")),
        }
    }
    Ok(())
}

/// Setuid and setgid files in the executable directories, and what is
/// world-writable there and among the files of `/etc` that decide what
/// root runs. Headers only: no content is kept.
pub async fn read_special(engine: &Engine, c: &Container) -> SpecialFiles {
    let mut found = Vec::new();
    let mut writable = Vec::new();
    let mut dirs = Vec::new();
    for dir in exec_dirs().chain(["/etc"]) {
        match files::read(
            engine,
            &c.id,
            c.volume_count(),
            dir,
            files::EXEC_DIRS,
            |_| false,
        )
        .await
        {
            Ok(items) => {
                if dir != "/etc" {
                    dirs.push(dir.to_string());
                }
                // Entries are named from the directory itself: `bin/su`.
                let parent = dir.rsplit_once('/').map_or("", |(p, _)| p);
                let etc = dir == "/etc";
                for i in items {
                    let path = || format!("{parent}/{}", i.path.trim_start_matches("./"));
                    if !etc && i.kind == Kind::File && i.mode & 0o6000 != 0 {
                        found.push(SpecialFile {
                            path: path(),
                            mode: i.mode & 0o7777,
                        });
                    }
                    // Symlinks are 0777 by nature: only what they point at counts.
                    if matches!(i.kind, Kind::File | Kind::Dir)
                        && i.mode & 0o002 != 0
                        && (!etc || crate::model::packages::root_runs_etc(&i.path))
                    {
                        writable.push(SpecialFile {
                            path: path().trim_end_matches('/').to_string(),
                            mode: i.mode & 0o7777,
                        });
                    }
                }
            }
            Err(FileError::NotFound(_)) => {}
            Err(e) => {
                return SpecialFiles::Failed {
                    reason: e.to_string(),
                };
            }
        }
    }
    for list in [&mut found, &mut writable] {
        list.sort_by(|a, b| a.path.cmp(&b.path));
        list.dedup();
    }
    SpecialFiles::Read {
        files: found,
        dirs,
        writable,
    }
}

/// Both, for an image read through container `c`.
pub async fn read_image(
    engine: &Engine,
    c: &Container,
    today: NaiveDate,
) -> Result<ImageFiles, FileError> {
    let packages = read_packages(engine, c, today).await?;
    let special = read_special(engine, c).await;
    Ok(ImageFiles { packages, special })
}

/// How many images are read at once.
pub const CONCURRENCY: usize = 2;

/// Which container to read an image's files through: one that exists and
/// whose package database did not change after it started (checked with
/// `GET /changes`, which the engine does not log), else any.
async fn pick<'a>(engine: &Engine, candidates: &[&'a Container]) -> Option<&'a Container> {
    for c in candidates.iter().take(3) {
        match engine.changes(&c.id).await {
            Ok(changes)
                if !changes
                    .iter()
                    .any(|(p, _)| crate::model::packages::is_package_db(p)) =>
            {
                return Some(c);
            }
            _ => {}
        }
    }
    candidates.first().copied()
}

/// Read what `readings` does not have yet: the files of every image a
/// container uses, and the packages of containers whose package database
/// changed (their drift says so). An engine that went away stops the work
/// and is returned; anything else is noted per image.
pub async fn collect(
    engine: &Engine,
    inv: &crate::model::Inventory,
    readings: &mut crate::vulndb::Readings,
    today: NaiveDate,
) -> Result<(), EngineError> {
    use futures_util::StreamExt;
    let mut by_image: std::collections::BTreeMap<String, Vec<Container>> = Default::default();
    for c in inv.containers.iter().filter(|c| c.gone.is_none()) {
        if c.image_id.is_empty()
            || readings.images.contains_key(&c.image_id)
            || readings.failed.contains_key(&c.image_id)
        {
            continue;
        }
        by_image
            .entry(c.image_id.clone())
            .or_default()
            .push(c.clone());
    }
    // Owned data in each future: the stream may run on a spawned task.
    let results: Vec<(String, Result<ImageFiles, FileError>)> =
        futures_util::stream::iter(by_image)
            .map(|(id, cs)| {
                let engine = engine.clone();
                async move {
                    let refs: Vec<&Container> = cs.iter().collect();
                    let r = match pick(&engine, &refs).await {
                        Some(c) => read_image(&engine, c, today).await,
                        None => Err(FileError::NotFound("a container of the image".into())),
                    };
                    (id, r)
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
    let mut lost = None;
    for (id, r) in results {
        match r {
            Ok(f) => {
                readings.images.insert(id, (f.packages.into(), f.special));
            }
            Err(FileError::Engine(e @ EngineError::Lost { .. })) => lost = Some(e),
            // Removed while we read: tried again with the next scan.
            Err(FileError::Engine(EngineError::NotFound { .. })) => {}
            Err(e) => {
                readings.failed.insert(id, e.to_string());
            }
        }
    }
    if let Some(e) = lost {
        return Err(e);
    }
    // Containers whose package database changed: their own packages.
    for c in inv.containers.iter().filter(|c| c.gone.is_none()) {
        let changed = c.drift.as_ref().is_some_and(|d| d.package_db_changed);
        if !changed {
            readings.containers.remove(&c.id);
            continue;
        }
        let stamp = c.drift.as_ref().map_or(0, |d| d.total_changes);
        if readings
            .containers
            .get(&c.id)
            .is_some_and(|s| s.read_at_changes == stamp)
        {
            continue;
        }
        match read_packages(engine, c, today).await {
            Ok(mut scan) => {
                scan.read_at_changes = stamp;
                readings.containers.insert(c.id.clone(), scan);
            }
            Err(FileError::Engine(e @ EngineError::Lost { .. })) => return Err(e),
            Err(e) => tracing::debug!("packages of {}: {e}", c.name),
        }
    }
    Ok(())
}
