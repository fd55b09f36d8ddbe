//! An image's installed packages, application packages, credentials and
//! setuid files — for every image of the inventory, whether a container
//! uses it or not. Three ways, the first that works:
//!
//! 1. its layer directories, for an engine on this machine whose storage
//!    this process reads, each directory inside the engine's data root
//!    ([`super::layers`], [`super::tree`]): no engine request but the
//!    image's inspect;
//! 2. through one of its containers (`GET /containers/{id}/archive`, see
//!    [`super::files`]);
//! 3. for an image no container uses on an engine elsewhere: the engine's
//!    image export (`GET /images/{id}/get`, [`super::export`]), streamed and
//!    bounded — the engine copies the image's layers to make it, so only
//!    when allowed ([`Export`]); otherwise the image is said as not
//!    assessed, with why.
//!
//! Read once per image id and cached by the caller; a container whose
//! package database changed after it started is read on its own. Every
//! read is noted in the own-call filter, so the Activity view does not
//! report shipshape's reads as copies.

use chrono::NaiveDate;

use super::files::{self, FileError, Kind, PACKAGE_FILES};
use super::tree::add_found;
pub use super::tree::{BY_EXPORT, ImageFiles, exec_dirs};
use super::{Engine, EngineError};
use super::{export, layers, tree};
use crate::model::Container;
use crate::model::packages::{PackageScan, SpecialFile, SpecialFiles};
use crate::vulndb::catalog::Catalog;
use crate::vulndb::installed;

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

/// The RPM database of container `c`: the first of [`tree::RPM_DBS`] there is,
/// read whole up to [`files::RPM_DB`]; `None` when there is none, an error
/// text when one is there but cannot be read (a link to a device, too
/// large).
async fn read_rpm_db(
    engine: &Engine,
    c: &Container,
) -> Result<Option<Result<installed::RpmDbFile, String>>, FileError> {
    for (path, format) in tree::RPM_DBS {
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

/// How the image's files were read: its layer directories.
pub const BY_LAYERS: &str = "the image's layer directories";
/// How the image's files were read: through a container.
pub const BY_ARCHIVE: &str = "the engine's archive API";

/// The application's own packages of container `c` (its image's, or its
/// own files when its package database changed), added to `scan`: through
/// the archive API, [`app_folders`] streamed one by one. A folder or file
/// stopped at a ceiling is named in `scan.unread`; the rest is still read.
pub async fn read_apps(
    engine: &Engine,
    c: &Container,
    scan: &mut PackageScan,
) -> Result<(), FileError> {
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

/// Whether layer directories may be read at all (`SHIPSHAPE_NO_LAYER_READS`
/// turns it off, to read through the engine as for a remote one).
fn layer_reads_allowed(engine: &Engine) -> bool {
    engine.is_local() && std::env::var_os("SHIPSHAPE_NO_LAYER_READS").is_none()
}

/// Image `image_id` read from its layer directories: `Ok(None)` when they
/// cannot be read here (not an overlay driver, not on this machine, not
/// this user's); `Err` with a warning when the engine named directories
/// outside its data root (D9) — the caller reads through the engine.
async fn read_layers(
    engine: &Engine,
    image_id: &str,
    root: &layers::DataRoot,
    today: NaiveDate,
) -> Result<Option<ImageFiles>, String> {
    let Ok(img) = engine.inspect_image(image_id).await else {
        return Ok(None);
    };
    let Some(g) = img.graph_driver else {
        return Ok(None);
    };
    let root = root.clone();
    let short = crate::model::short_id(image_id).to_string();
    let found = tokio::task::spawn_blocking(move || {
        let dirs = match layers::layer_dirs(&g.name, &g.data, &root) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(None),
            Err(why) => {
                return Err(format!(
                    "image {short}: the engine named a layer directory outside its data root, \
                     which shipshape does not read: {why} (the image is read through the engine \
                     instead)"
                ));
            }
        };
        let held: Vec<layers::DirLayer> = dirs.into_iter().map(layers::DirLayer::new).collect();
        let refs: Vec<&dyn tree::Layer> = held.iter().map(|l| l as &dyn tree::Layer).collect();
        let mut gather = tree::Gather::default();
        let walked = tree::walk(&refs, tree::LIMITS, &mut gather);
        let (mut packages, special) = gather.finish(today, BY_LAYERS, refs.len());
        if let Err(e) = walked {
            packages.unread.push(e);
        }
        Ok(Some(ImageFiles { packages, special }))
    })
    .await;
    match found {
        Ok(r) => r,
        Err(e) => Ok(Some(ImageFiles {
            packages: PackageScan {
                unread: vec![format!("the image's layers: {e}")],
                read_by: BY_LAYERS.to_string(),
                ..PackageScan::default()
            },
            special: SpecialFiles::Failed {
                reason: e.to_string(),
            },
        })),
    }
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
    read_apps(engine, c, &mut packages).await?;
    let special = read_special(engine, c).await;
    Ok(ImageFiles { packages, special })
}

/// How many images are read at once.
pub const CONCURRENCY: usize = 2;

/// Which container to read an image's files through: one that exists and
/// whose package database did not change after it started (its drift says
/// so, else `GET /changes`, which the engine does not log), else any.
async fn pick<'a>(engine: &Engine, candidates: &[&'a Container]) -> Option<&'a Container> {
    if let Some(c) = candidates
        .iter()
        .find(|c| c.drift.as_ref().is_some_and(|d| !d.package_db_changed))
    {
        return Some(c);
    }
    for c in candidates.iter().filter(|c| c.drift.is_none()).take(3) {
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

/// Whether an image no container uses may be read, on an engine whose
/// layers cannot be, through the engine's image export
/// (`GET /images/{id}/get`). The export is read-only, but the engine
/// copies every layer of the image to a temporary folder on its machine to
/// make it (a 1 GB image costs 1 GB of its disk and I/O, for a while), so
/// it is asked for, never assumed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Export {
    /// Never: such images are said as not assessed, with how to allow it.
    #[default]
    Never,
    /// Every image that needs it (`--export-images`,
    /// `SHIPSHAPE_EXPORT_IMAGES=1`).
    Always,
    /// Only these image ids (the ones a person named).
    Only(std::collections::BTreeSet<String>),
}

impl Export {
    /// `Always` when `SHIPSHAPE_EXPORT_IMAGES` is set (to anything but
    /// `0`), else `Never`.
    pub fn from_env() -> Self {
        match std::env::var("SHIPSHAPE_EXPORT_IMAGES") {
            Ok(v) if v != "0" && !v.is_empty() => Self::Always,
            _ => Self::Never,
        }
    }

    fn allows(&self, image_id: &str) -> bool {
        match self {
            Self::Never => false,
            Self::Always => true,
            Self::Only(ids) => ids.contains(image_id),
        }
    }
}

/// Why an image no container uses is not read, when the export is not
/// allowed. Starts as the rule that grades it (`no container uses this
/// image`) expects.
fn export_refused(size: i64) -> String {
    let mb = size.max(0) as f64 / 1e6;
    format!(
        "no container uses this image, and its layers cannot be read on this machine: reading it \
         takes the engine's image export (GET /images/…/get), for which the engine first copies \
         its {mb:.0} MB of layers to a temporary folder on its machine — give --export-images \
         (or set SHIPSHAPE_EXPORT_IMAGES=1) to allow that, or create a container of it (even \
         without starting it)"
    )
}

/// How one image was read, or why not.
enum Read {
    Got(Box<ImageFiles>),
    Failed(FileError),
    /// Not read, on purpose (the export is not allowed): why.
    Skipped(String),
}

/// Read what `readings` does not have yet: the files of every image of the
/// inventory (used by a container or not: [`Export`] says whether an image
/// that can only be exported may be), and the packages of containers whose
/// package database changed (their drift says so). An engine that went
/// away stops the work and is returned; anything else is noted per image,
/// and a refused layer directory (D9) in `readings.warnings`.
pub async fn collect(
    engine: &Engine,
    inv: &crate::model::Inventory,
    readings: &mut crate::vulndb::Readings,
    today: NaiveDate,
    export: &Export,
) -> Result<(), EngineError> {
    use futures_util::StreamExt;
    let mut users: std::collections::BTreeMap<String, Vec<Container>> = Default::default();
    for c in inv.containers.iter().filter(|c| c.gone.is_none()) {
        if !c.image_id.is_empty() {
            users.entry(c.image_id.clone()).or_default().push(c.clone());
        }
    }
    let mut todo: Vec<(String, i64)> = Vec::new();
    let known = |id: &str| {
        readings.images.contains_key(id)
            || readings.failed.contains_key(id)
            || readings.skipped.contains_key(id)
    };
    for img in &inv.images {
        if !img.id.is_empty() && !known(&img.id) && !todo.iter().any(|(i, _)| i == &img.id) {
            todo.push((img.id.clone(), img.size));
        }
    }
    for id in users.keys() {
        if !known(id) && !todo.iter().any(|(i, _)| i == id) {
            todo.push((id.clone(), 0));
        }
    }
    if todo.is_empty() {
        return collect_containers(engine, inv, readings, today).await;
    }
    // The engine's data root, resolved once: where its layers must be.
    let root = if layer_reads_allowed(engine) {
        let dir = inv.engine.docker_root_dir.clone();
        tokio::task::spawn_blocking(move || layers::DataRoot::of(&dir).ok())
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    // Owned data in each future: the stream may run on a spawned task.
    let results: Vec<(String, Read, Option<String>)> = futures_util::stream::iter(todo)
        .map(|(id, size)| {
            let engine = engine.clone();
            let cs = users.get(&id).cloned().unwrap_or_default();
            let root = root.clone();
            let export_ok = export.allows(&id);
            async move {
                let mut warning = None;
                if let Some(root) = &root {
                    match read_layers(&engine, &id, root, today).await {
                        Ok(Some(f)) => return (id, Read::Got(Box::new(f)), None),
                        Ok(None) => {}
                        Err(w) => warning = Some(w),
                    }
                }
                let refs: Vec<&Container> = cs.iter().collect();
                let r = match pick(&engine, &refs).await {
                    Some(c) => match read_image(&engine, c, today).await {
                        Ok(f) => Read::Got(Box::new(f)),
                        Err(e) => Read::Failed(e),
                    },
                    None if export_ok => match export::read(&engine, &id, today).await {
                        Ok(f) => Read::Got(Box::new(f)),
                        Err(e) => Read::Failed(e),
                    },
                    None => Read::Skipped(export_refused(size)),
                };
                (id, r, warning)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut lost = None;
    for (id, r, warning) in results {
        readings.warnings.extend(warning);
        match r {
            Read::Got(f) => {
                let f = *f;
                readings.images.insert(id, (f.packages.into(), f.special));
            }
            Read::Skipped(why) => {
                readings.skipped.insert(id, why);
            }
            Read::Failed(FileError::Engine(e @ EngineError::Lost { .. })) => lost = Some(e),
            // Removed while we read: tried again with the next scan.
            Read::Failed(FileError::Engine(EngineError::NotFound { .. })) => {}
            Read::Failed(e) => {
                readings.failed.insert(id, e.to_string());
            }
        }
    }
    if let Some(e) = lost {
        return Err(e);
    }
    collect_containers(engine, inv, readings, today).await
}

/// The packages of containers whose package database changed after they
/// started: read from the container itself, again when its changes move.
async fn collect_containers(
    engine: &Engine,
    inv: &crate::model::Inventory,
    readings: &mut crate::vulndb::Readings,
    today: NaiveDate,
) -> Result<(), EngineError> {
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
            read_apps(engine, c, &mut scan).await?;
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
