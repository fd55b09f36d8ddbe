//! An image's installed packages and setuid files, read through one of its
//! containers (`GET /containers/{id}/archive`, see [`super::files`]).
//!
//! Read once per image id and cached by the caller; a container whose
//! package database changed after it started is read on its own. Every
//! read is noted in the own-call filter, so the Activity view does not
//! report shipshape's reads as copies.

use chrono::NaiveDate;

use super::files::{self, FileError, Kind, PACKAGE_FILES};
use super::layers;
use super::{Engine, EngineError};
use crate::model::Container;
use crate::model::packages::{PackageScan, SpecialFile, SpecialFiles};
use crate::vulndb::catalog::Catalog;
use crate::vulndb::{installed, rpmdb};

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
    } else if crate::vulndb::installed::ecosystem(&os, None, today).0
        == Some(crate::model::packages::Distro::Rpm)
    {
        f.rpm_db = read_rpm_db(engine, c).await?;
    } else if like_debian {
        f.dpkg_status = optional_file(engine, c, "/var/lib/dpkg/status")
            .await?
            .map(|d| text(&d));
        // What each package installed, for the files processes map.
        match files::read(
            engine,
            &c.id,
            c.volume_count(),
            "/var/lib/dpkg/info",
            PACKAGE_FILES,
            |p| p.ends_with(".list"),
        )
        .await
        {
            Ok(items) => {
                for i in items {
                    if let (Kind::File, Some(d)) = (&i.kind, &i.data) {
                        f.dpkg_lists.push((i.path.clone(), text(d)));
                    }
                }
            }
            Err(FileError::NotFound(_)) => {}
            Err(e @ FileError::Engine(EngineError::Lost { .. })) => return Err(e),
            // Without them only "in use" is unknown: the packages stand.
            Err(e) => tracing::debug!("dpkg file lists of {}: {e}", c.name),
        }
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
    Ok(scan)
}

/// Where RPM keeps its database, newest layout first (`/var/lib/rpm` is a
/// link to `/usr/lib/sysimage/rpm` on recent Fedora and SUSE).
const RPM_DBS: [(&str, rpmdb::Format); 5] = [
    ("/usr/lib/sysimage/rpm/rpmdb.sqlite", rpmdb::Format::Sqlite),
    ("/var/lib/rpm/rpmdb.sqlite", rpmdb::Format::Sqlite),
    ("/usr/lib/sysimage/rpm/Packages.db", rpmdb::Format::Ndb),
    ("/var/lib/rpm/Packages.db", rpmdb::Format::Ndb),
    ("/var/lib/rpm/Packages", rpmdb::Format::BerkeleyDb),
];

/// The RPM database of container `c`: the first of [`RPM_DBS`] there is,
/// read whole up to [`files::RPM_DB`]; `None` when there is none, an error
/// text when one is there but cannot be read (a link to a device, too
/// large).
async fn read_rpm_db(
    engine: &Engine,
    c: &Container,
) -> Result<Option<Result<installed::RpmDbFile, String>>, FileError> {
    for (path, format) in RPM_DBS {
        match files::read_file(engine, &c.id, c.volume_count(), path, files::RPM_DB).await {
            Ok(bytes) => {
                return Ok(Some(Ok(installed::RpmDbFile {
                    path: path.to_string(),
                    format,
                    bytes,
                })));
            }
            Err(FileError::NotFound(p)) if p == path => {}
            // A link to something that is not there (`/dev/zero` in a
            // container that never started).
            Err(FileError::NotFound(p)) => {
                return Ok(Some(Err(format!(
                    "the RPM database could not be read: {path} is a link to {p}, which is not a \
                     regular file in the image"
                ))));
            }
            Err(e @ FileError::Engine(EngineError::Lost { .. })) => return Err(e),
            Err(e) => {
                return Ok(Some(Err(format!(
                    "the RPM database could not be read: {e}"
                ))));
            }
        }
    }
    Ok(None)
}

/// Python minor versions whose `site-packages` are looked for.
const PYTHON_MINORS: std::ops::RangeInclusive<u32> = 6..=14;

/// Where applications and their packages live, read whole through the
/// archive API when the image's layers cannot be read directly: each is
/// one bounded stream of which the catalogue keeps metadata files,
/// executables and Java archives (`/usr/local` holds Python's and Node's
/// own packages, `/usr/bin` programs installed there).
const APP_ROOTS: [&str; 21] = [
    "/usr/local",
    "/etc",
    "/tmp",
    "/app",
    "/opt",
    "/srv",
    "/go",
    "/home",
    "/root",
    "/usr/src",
    "/workspace",
    "/code",
    "/var/www",
    "/usr/share/java",
    "/usr/lib/jvm",
    "/usr/bin",
    "/usr/sbin",
    "/bin",
    "/sbin",
    "/node_modules",
    "/dist",
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

/// Is `inner` the folder `outer` or inside it?
fn under(inner: &str, outer: &str) -> bool {
    inner == outer || (inner.starts_with(outer) && inner[outer.len()..].starts_with('/'))
}

/// The folders to stream for the application's packages of container `c`:
/// [`APP_ROOTS`], the OS Python's package folders, and the folder of the
/// program it runs — each once (none inside another), and none that holds
/// a mount (its content is not the image's; said in `unread`).
async fn app_folders(
    engine: &Engine,
    c: &Container,
    unread: &mut Vec<String>,
) -> Result<Vec<String>, FileError> {
    let mut wanted: Vec<String> = APP_ROOTS.iter().map(|r| r.to_string()).collect();
    if exists(engine, c, "/usr/lib").await? {
        for minor in PYTHON_MINORS {
            let lib = format!("/usr/lib/python3.{minor}");
            if !exists(engine, c, &lib).await? {
                continue;
            }
            for leaf in ["site-packages", "dist-packages"] {
                wanted.push(format!("{lib}/{leaf}"));
            }
        }
        wanted.push("/usr/lib/python3/dist-packages".into());
    }
    if let Some(dir) = c
        .command
        .first()
        .filter(|p| p.starts_with('/'))
        .and_then(|p| p.rsplit_once('/'))
        .map(|(d, _)| d)
        .filter(|d| d.len() > 1)
    {
        wanted.push(dir.to_string());
    }
    wanted.sort();
    wanted.dedup();
    let roots: Vec<String> = wanted
        .iter()
        .filter(|w| !wanted.iter().any(|o| o != *w && under(w, o)))
        .cloned()
        .collect();
    let mut out = Vec::new();
    for root in roots {
        if let Some(m) = c
            .mounts
            .iter()
            .find(|m| under(&m.destination, &root) || under(&root, &m.destination))
        {
            unread.push(format!(
                "{root}: not read, {} is a mount of the container (its content is not the image's)",
                m.destination
            ));
            continue;
        }
        if exists(engine, c, &root).await? {
            out.push(root);
        }
    }
    Ok(out)
}

/// How the application's packages were read.
pub const BY_LAYERS: &str = "the image's layer directories";
/// How the application's packages were read when the layers cannot be.
pub const BY_ARCHIVE: &str = "the engine's archive API";

/// The application's own packages of an image (`image_id`; `None` for the
/// container's own files), added to `scan`: from its layer directories
/// when this is the engine's machine and they can be read (each package
/// with its layer), else through container `c` with
/// [`app_folders`] streamed one by one. A folder or file stopped at a
/// ceiling is named in `scan.unread`; the rest is still read.
pub async fn read_apps(
    engine: &Engine,
    c: &Container,
    image_id: Option<&str>,
    scan: &mut PackageScan,
) -> Result<(), FileError> {
    let dirs = match image_id {
        Some(id) => local_layers(engine, id).await,
        None => None,
    };
    if let Some(dirs) = dirs {
        scan.layer_count = dirs.len();
        let found = tokio::task::spawn_blocking(move || {
            let mut catalog = Catalog::default();
            let walked = layers::walk(&dirs, layers::LIMITS, &mut catalog);
            (catalog.finish(), walked)
        })
        .await;
        match found {
            Ok((found, walked)) => {
                if let Err(e) = walked {
                    scan.unread.push(e);
                }
                scan.read_by = BY_LAYERS.to_string();
                add_found(scan, found);
                return Ok(());
            }
            Err(e) => scan.unread.push(format!("the image's layers: {e}")),
        }
    }
    let mut unread = Vec::new();
    let folders = app_folders(engine, c, &mut unread).await?;
    scan.unread.extend(unread);
    let mut catalog = Catalog::default();
    for dir in folders {
        match files::catalog(
            engine,
            &c.id,
            c.volume_count(),
            &dir,
            files::APP_TREES,
            Vec::new(),
            std::mem::take(&mut catalog),
        )
        .await
        {
            Ok(c) => catalog = c,
            Err(FileError::NotFound(_)) => {}
            Err(e @ FileError::Engine(EngineError::Lost { .. })) => return Err(e),
            // What the stream gave before the ceiling is lost with it: the
            // folder is said as not read.
            Err(e) => scan.unread.push(format!("{dir}: {e}")),
        }
    }
    scan.read_by = BY_ARCHIVE.to_string();
    add_found(scan, catalog.finish());
    Ok(())
}

fn add_found(scan: &mut PackageScan, found: crate::vulndb::apps::Found) {
    let mut folders: Vec<String> = found
        .packages
        .iter()
        .map(|p| p.path.split('!').next().unwrap_or(&p.path).to_string())
        .collect();
    folders.sort();
    folders.dedup();
    // The files the application's packages were found in: named when few.
    match folders.len() {
        0 => {}
        1..=3 => scan.sources.extend(folders),
        n => scan
            .sources
            .push(format!("{n} application files ({}, …)", folders[0])),
    }
    scan.packages.extend(found.packages);
    scan.unread.extend(found.skipped);
    let mut secrets = found.secrets;
    scan.unread.append(&mut secrets.notes);
    scan.secrets = Some(secrets);
}

/// The image's layer directories, when the engine runs on this machine
/// and this process may read them.
async fn local_layers(engine: &Engine, image_id: &str) -> Option<Vec<std::path::PathBuf>> {
    if !engine.is_local() || std::env::var_os("SHIPSHAPE_NO_LAYER_READS").is_some() {
        return None;
    }
    let img = engine.inspect_image(image_id).await.ok()?;
    let g = img.graph_driver?;
    let (name, data) = (g.name, g.data);
    tokio::task::spawn_blocking(move || layers::layer_dirs(&name, &data))
        .await
        .ok()
        .flatten()
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
    let mut packages = read_packages(engine, c, today).await?;
    read_apps(engine, c, Some(&c.image_id), &mut packages).await?;
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
        let read = async {
            let mut scan = read_packages(engine, c, today).await?;
            read_apps(engine, c, None, &mut scan).await?;
            Ok::<_, FileError>(scan)
        };
        match read.await {
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
