//! An image's files as one tree, overlaid from its layers the way the
//! engine overlays them, whatever holds the layers: the layer directories
//! of an engine on this machine ([`super::layers`]) or the layers of the
//! engine's image export ([`super::export`]). One walk hands every visible
//! entry to one [`Gather`], which keeps what the readers need: the OS
//! package databases and `os-release`, the application's packages and the
//! credentials of the package catalogue, and the setuid, setgid and
//! world-writable files of the executable directories and `/etc`.
//!
//! The overlay: a file in a higher layer hides the same path below; a
//! whiteout (a character device 0/0, or a `.wh.` file) removes it; an
//! opaque directory (the overlay `opaque` attribute, or a `.wh..wh..opq`
//! file) hides everything below it. Symlinks are never followed, nothing
//! but regular files is opened, and the walk has ceilings on entries and
//! time, each named when it stops.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

use crate::model::packages::{PackageScan, SpecialFile, SpecialFiles};
use crate::vulndb::catalog::{Catalog, Keep};
use crate::vulndb::installed;

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

/// How the image's files were read: the engine's image export.
pub const BY_EXPORT: &str = "the engine's image export";

pub(super) fn add_found(scan: &mut PackageScan, found: crate::vulndb::apps::Found) {
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

/// What one entry of a layer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// An overlay whiteout: a character device 0/0.
    Whiteout,
    /// Devices, fifos, sockets: listed, never opened.
    Other,
}

/// One entry of a layer's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name in the folder.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Its permission bits (`0o4755`), without the file type.
    pub mode: u32,
    /// Its size in bytes (regular files).
    pub size: u64,
}

/// A regular file of a layer, opened for reading: random access for the
/// executables and archives the catalogue looks into.
pub trait Opened: Read + Seek + crate::vulndb::binaries::At + Send {}
impl<T: Read + Seek + crate::vulndb::binaries::At + Send> Opened for T {}

/// One layer of an image, however it is held. Paths are the image's
/// (`/usr/local/bin`, `""` for the root).
pub trait Layer: Send + Sync {
    /// The entries of folder `dir` in this layer; `false` when the layer
    /// has no such folder.
    fn list(&self, dir: &str, out: &mut Vec<Node>) -> bool;
    /// Whether folder `dir` is marked opaque in this layer by an attribute
    /// (a `.wh..wh..opq` entry is seen by the walk itself).
    fn opaque_attr(&self, dir: &str) -> bool;
    /// Open regular file `path` of this layer.
    fn open(&self, path: &str) -> std::io::Result<Box<dyn Opened>>;
    /// The target of symbolic link `path`, as written.
    fn link(&self, path: &str) -> Option<String>;
}

/// Ceilings of one walk.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most directory entries looked at, over every layer.
    pub entries: usize,
    /// The whole walk.
    pub time: Duration,
}

/// What an image of a large application needs (a `node_modules` of 1,500
/// packages is some 60,000 files).
pub const LIMITS: Limits = Limits {
    entries: 500_000,
    time: Duration::from_secs(180),
};

/// What a walk saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Walked {
    /// Directory entries looked at.
    pub entries: usize,
    /// Files handed to the catalogue.
    pub kept: usize,
    /// Bytes those files hold (not all of them read).
    pub kept_bytes: u64,
}

/// Walk `layers` (lowest first) as one overlaid tree and hand every
/// visible entry to `g`, with its layer index. A ceiling stops the walk
/// with its name in the error; what was handed over stands.
pub fn walk(layers: &[&dyn Layer], limits: Limits, g: &mut Gather) -> Result<Walked, String> {
    let started = Instant::now();
    let mut walked = Walked::default();
    // Paths a higher layer already decided (a file there, or removed),
    // and folders whose lower contents are hidden.
    let mut decided: HashSet<String> = HashSet::new();
    let mut hidden: Vec<String> = Vec::new();
    // Folders already seen in a higher layer: the topmost one's mode is
    // the folder's.
    let mut seen_dirs: HashSet<String> = HashSet::new();
    let mut nodes = Vec::new();
    for (index, layer) in layers.iter().enumerate().rev() {
        let mut hidden_here = Vec::new();
        // (folder, whether a higher layer hides it).
        let mut stack: Vec<(String, bool)> = vec![(String::new(), false)];
        while let Some((dir, under_hidden)) = stack.pop() {
            nodes.clear();
            if !layer.list(&dir, &mut nodes) {
                continue;
            }
            // A `.wh..wh..opq` marker: this folder hides its lower layers'
            // contents (the folder itself was judged by its parent).
            if nodes.iter().any(|n| n.name == ".wh..wh..opq") && !dir.is_empty() {
                hidden_here.push(dir.clone());
            }
            for n in nodes.drain(..) {
                walked.entries += 1;
                if walked.entries > limits.entries {
                    return Err(format!(
                        "the image's files: more than {} entries, over the ceiling (the rest was not read)",
                        limits.entries
                    ));
                }
                if walked.entries.is_multiple_of(4096) && started.elapsed() > limits.time {
                    return Err(format!(
                        "the image's files: not read within the ceiling of {} s (the rest was not read)",
                        limits.time.as_secs()
                    ));
                }
                let path = format!("{dir}/{}", n.name);
                if let Some(gone) = n.name.strip_prefix(".wh.") {
                    if gone != ".wh..opq" {
                        let p = format!("{dir}/{gone}");
                        decided.insert(p.clone());
                        hidden_here.push(p);
                    }
                    continue;
                }
                let covered = under_hidden
                    || hidden
                        .iter()
                        .any(|h| path.starts_with(h.as_str()) && path[h.len()..].starts_with('/'));
                if covered || decided.contains(&path) {
                    // Hidden by a higher layer, yet still in the image: a
                    // credential there is extracted from the layer all the
                    // same.
                    match n.kind {
                        Kind::Dir => stack.push((path, true)),
                        Kind::File if crate::vulndb::baked::wanted(&path, n.size) => {
                            if let Ok(mut f) = layer.open(&path) {
                                let mut bytes = Vec::new();
                                if f.by_ref()
                                    .take(crate::vulndb::baked::MAX_FILE)
                                    .read_to_end(&mut bytes)
                                    .is_ok()
                                {
                                    g.catalog.add_hidden(&path, index, &bytes);
                                }
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                match n.kind {
                    Kind::Whiteout => {
                        decided.insert(path.clone());
                        hidden_here.push(path);
                    }
                    Kind::Dir => {
                        if layer.opaque_attr(&path) {
                            hidden_here.push(path.clone());
                        }
                        if seen_dirs.insert(path.clone()) {
                            g.node(&path, &n);
                        }
                        stack.push((path, false));
                    }
                    Kind::File => {
                        decided.insert(path.clone());
                        if g.file(*layer, index, &path, &n) {
                            walked.kept += 1;
                            walked.kept_bytes += n.size;
                        }
                    }
                    Kind::Symlink | Kind::Other => {
                        decided.insert(path.clone());
                        g.node(&path, &n);
                        if n.kind == Kind::Symlink
                            && Gather::os_file(&path).is_some()
                            && let Some(t) = layer.link(&path)
                        {
                            g.links.insert(path, t);
                        }
                    }
                }
            }
        }
        hidden.extend(hidden_here);
    }
    Ok(walked)
}

/// The OS package files (`os-release`, the package databases): the
/// ceiling on each one's size.
const OS_FILE: u64 = 32 << 20;

/// Where RPM keeps its database, newest layout first (`/var/lib/rpm` is a
/// link to `/usr/lib/sysimage/rpm` on recent Fedora and SUSE).
pub const RPM_DBS: [(&str, crate::vulndb::rpmdb::Format); 5] = [
    (
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        crate::vulndb::rpmdb::Format::Sqlite,
    ),
    (
        "/var/lib/rpm/rpmdb.sqlite",
        crate::vulndb::rpmdb::Format::Sqlite,
    ),
    (
        "/usr/lib/sysimage/rpm/Packages.db",
        crate::vulndb::rpmdb::Format::Ndb,
    ),
    (
        "/var/lib/rpm/Packages.db",
        crate::vulndb::rpmdb::Format::Ndb,
    ),
    (
        "/var/lib/rpm/Packages",
        crate::vulndb::rpmdb::Format::BerkeleyDb,
    ),
];

/// An RPM database is read whole, up to this size.
pub const RPM_DB_BYTES: u64 = 256 << 20;

/// Everything kept of an image's visible entries, for its package scan and
/// its special files.
#[derive(Default)]
pub struct Gather {
    /// The application's packages and the credentials.
    pub catalog: Catalog,
    /// The OS files read, by path (`/etc/os-release`, …): their bytes, or
    /// why they were not read.
    os: BTreeMap<String, Result<Vec<u8>, String>>,
    /// Symbolic links at the paths of OS files: path → target.
    links: BTreeMap<String, String>,
    /// Setuid and setgid files of the executable directories.
    special: Vec<SpecialFile>,
    /// World-writable entries where what root runs comes from.
    writable: Vec<SpecialFile>,
    /// The executable directories there are.
    dirs: BTreeSet<String>,
}

/// Which OS file a path is, and the ceiling on its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OsFile {
    /// A file read whole up to this many bytes.
    Whole(u64),
}

impl Gather {
    /// Whether `path` is an OS file the package scan reads.
    fn os_file(path: &str) -> Option<OsFile> {
        match path {
            "/etc/os-release"
            | "/usr/lib/os-release"
            | "/etc/apk/repositories"
            | "/lib/apk/db/installed"
            | "/var/lib/dpkg/status" => Some(OsFile::Whole(OS_FILE)),
            p if RPM_DBS.iter().any(|(r, _)| *r == p) => Some(OsFile::Whole(RPM_DB_BYTES)),
            p => {
                let (dir, name) = p.rsplit_once('/')?;
                match dir {
                    "/var/lib/dpkg/status.d" if !name.ends_with(".md5sums") => {
                        Some(OsFile::Whole(OS_FILE))
                    }
                    "/var/lib/dpkg/info" if name.ends_with(".list") => Some(OsFile::Whole(OS_FILE)),
                    _ => None,
                }
            }
        }
    }

    /// How many bytes of a regular file the readers want (0: none), from its
    /// path, mode and size alone: for a reader that decides as a stream
    /// passes (the image export).
    pub fn wants(path: &str, mode: u32, size: u64) -> u64 {
        let os = match Self::os_file(path) {
            Some(OsFile::Whole(limit)) if size <= limit => size,
            _ => 0,
        };
        let catalog = match crate::vulndb::catalog::keep(path, mode, size) {
            Keep::No => 0,
            Keep::Head(n) => size.min(n),
            Keep::Whole(n) | Keep::Random(n) if size <= n => size,
            Keep::Whole(_) | Keep::Random(_) => 0,
        };
        // A credential a higher layer hides is still read.
        let hidden = if crate::vulndb::baked::wanted(path, size) {
            size
        } else {
            0
        };
        os.max(catalog).max(hidden)
    }

    /// A visible entry that is not a regular file: what the special-file
    /// scan needs of it.
    fn node(&mut self, path: &str, n: &Node) {
        if exec_dir(path) && matches!(n.kind, Kind::Dir | Kind::Symlink) {
            self.dirs.insert(path.to_string());
        }
        self.special(path, n);
    }

    fn special(&mut self, path: &str, n: &Node) {
        let in_exec = under_exec_dir(path);
        if in_exec && n.kind == Kind::File && n.mode & 0o6000 != 0 {
            self.special.push(SpecialFile {
                path: path.to_string(),
                mode: n.mode & 0o7777,
            });
        }
        // Symlinks are 0777 by nature: only what they point at counts.
        if matches!(n.kind, Kind::File | Kind::Dir)
            && n.mode & 0o002 != 0
            && (in_exec || crate::model::packages::root_runs_etc(path))
        {
            self.writable.push(SpecialFile {
                path: path.to_string(),
                mode: n.mode & 0o7777,
            });
        }
    }

    /// A visible regular file: read what the readers want of it. True
    /// when the catalogue kept it.
    fn file(&mut self, layer: &dyn Layer, index: usize, path: &str, n: &Node) -> bool {
        self.special(path, n);
        if let Some(OsFile::Whole(limit)) = Self::os_file(path) {
            let read = if n.size > limit {
                Err(format!(
                    "{path}: {} bytes, over the ceiling of {} (not read)",
                    n.size,
                    crate::vulndb::catalog::ceiling(limit)
                ))
            } else {
                layer
                    .open(path)
                    .and_then(|f| {
                        let mut buf = Vec::with_capacity(n.size.min(limit) as usize);
                        f.take(limit).read_to_end(&mut buf)?;
                        Ok(buf)
                    })
                    .map_err(|e| format!("{path}: {e}"))
            };
            self.os.insert(path.to_string(), read);
        }
        let keep = crate::vulndb::catalog::keep(path, n.mode, n.size);
        if keep == Keep::No {
            return false;
        }
        let catalog = &mut self.catalog;
        match keep {
            Keep::No => {}
            Keep::Whole(max) | Keep::Random(max) if n.size > max => catalog.unread(format!(
                "{path}: {} bytes, over the ceiling of {} (not read)",
                n.size,
                crate::vulndb::catalog::ceiling(max)
            )),
            // A metadata file's head, or a whole lock file.
            Keep::Head(max) | Keep::Whole(max) => {
                let read = layer.open(path).and_then(|f| {
                    let mut buf = Vec::new();
                    f.take(max).read_to_end(&mut buf)?;
                    Ok(buf)
                });
                match read {
                    Ok(buf) => catalog.add_file(path, Some(index), &buf),
                    Err(e) => catalog.unread(format!("{path}: {e}")),
                }
            }
            Keep::Random(_) => match layer.open(path) {
                Ok(mut f) => catalog.add_random(path, Some(index), &mut *f),
                Err(e) => catalog.unread(format!("{path}: {e}")),
            },
        }
        true
    }

    /// The bytes of OS file `path`, following symbolic links among the OS
    /// files (at most 8): `Ok(None)` when it is not in the image.
    fn os_bytes(&self, path: &str) -> Result<Option<&[u8]>, String> {
        let mut current = path.to_string();
        for _ in 0..8 {
            if let Some(r) = self.os.get(&current) {
                return r.as_deref().map(Some).map_err(Clone::clone);
            }
            match self.links.get(&current) {
                Some(target) => {
                    let next = super::files::resolve(&current, target);
                    if Self::os_file(&next).is_none() {
                        return Err(format!(
                            "{path} is a link to {next}, which is not a regular file in the image"
                        ));
                    }
                    current = next;
                }
                None if current == path => return Ok(None),
                None => {
                    return Err(format!(
                        "{path} is a link to {current}, which is not a regular file in the image"
                    ));
                }
            }
        }
        Err(format!("{path}: too many symbolic links"))
    }

    /// The package scan and the special files, as the archive reader would
    /// have them (`read_by` says how the files were read).
    pub fn finish(
        mut self,
        today: chrono::NaiveDate,
        read_by: &str,
        layer_count: usize,
    ) -> (PackageScan, SpecialFiles) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let mut f = installed::Files::default();
        let mut os_unread = None;
        let take = |path: &str, unread: &mut Option<String>| match self.os_bytes(path) {
            Ok(b) => b.map(text),
            Err(e) => {
                unread.get_or_insert(e);
                None
            }
        };
        f.os_release =
            take("/etc/os-release", &mut None).or_else(|| take("/usr/lib/os-release", &mut None));
        f.apk_repositories = take("/etc/apk/repositories", &mut os_unread);
        f.apk_installed = take("/lib/apk/db/installed", &mut os_unread);
        f.dpkg_status = take("/var/lib/dpkg/status", &mut os_unread);
        for (path, read) in &self.os {
            match (path.rsplit_once('/'), read) {
                (Some(("/var/lib/dpkg/status.d", _)), Ok(b)) => f.dpkg_status_d.push(text(b)),
                (Some(("/var/lib/dpkg/info", _)), Ok(b)) => {
                    f.dpkg_lists.push((path.clone(), text(b)));
                }
                (Some(("/var/lib/dpkg/status.d", _)), Err(e)) => {
                    os_unread.get_or_insert(e.clone());
                }
                _ => {}
            }
        }
        for (path, format) in RPM_DBS {
            match self.os_bytes(path) {
                Ok(None) => {}
                Ok(Some(bytes)) => {
                    f.rpm_db = Some(Ok(installed::RpmDbFile {
                        path: path.to_string(),
                        format,
                        bytes: bytes.to_vec(),
                    }));
                    break;
                }
                Err(e) => {
                    f.rpm_db = Some(Err(format!("the RPM database could not be read: {e}")));
                    break;
                }
            }
        }
        let mut scan = installed::scan(&f, today);
        // A package database over its ceiling is not a missing one.
        if let Some(why) = os_unread
            && scan.distro.is_some()
            && scan.packages.is_empty()
        {
            scan.not_assessed = Some(why);
        }
        scan.read_by = read_by.to_string();
        scan.layer_count = layer_count;
        add_found(&mut scan, std::mem::take(&mut self.catalog).finish());
        for list in [&mut self.special, &mut self.writable] {
            list.sort_by(|a, b| a.path.cmp(&b.path));
            list.dedup();
        }
        let special = SpecialFiles::Read {
            files: self.special,
            dirs: self.dirs.into_iter().collect(),
            writable: self.writable,
        };
        (scan, special)
    }
}

/// Is `path` one of the directories read for setuid files?
fn exec_dir(path: &str) -> bool {
    exec_dirs().any(|d| d == path)
}

/// Is `path` inside (or) one of the directories read for setuid files?
fn under_exec_dir(path: &str) -> bool {
    exec_dirs().any(|d| path == d || (path.starts_with(d) && path[d.len()..].starts_with('/')))
}

/// A part of a file (one that a stream was spilled into): random access
/// within `[start, start + len)`.
pub struct Window {
    file: std::sync::Arc<std::fs::File>,
    start: u64,
    len: u64,
    pos: u64,
}

impl Window {
    /// `len` bytes of `file` from `start`.
    pub fn new(file: std::sync::Arc<std::fs::File>, start: u64, len: u64) -> Self {
        Self {
            file,
            start,
            len,
            pos: 0,
        }
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let got = self.file.read_at(&mut buf[..n], self.start + self.pos)?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for Window {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let to = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match to {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(std::io::Error::from(std::io::ErrorKind::InvalidInput)),
        }
    }
}

impl crate::vulndb::binaries::At for Window {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        at.checked_add(<[u8]>::len(buf) as u64)
            .filter(|e| *e <= self.len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        self.file.read_exact_at(buf, self.start + at)
    }
}

#[cfg(test)]
mod tests {
    use super::super::layers::DirLayer;
    use super::*;
    use std::path::Path;

    fn write(p: &Path, data: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }

    fn walk_dirs(dirs: &[std::path::PathBuf], limits: Limits) -> (Result<Walked, String>, Gather) {
        let layers: Vec<DirLayer> = dirs.iter().map(|d| DirLayer::new(d.clone())).collect();
        let refs: Vec<&dyn Layer> = layers.iter().map(|l| l as &dyn Layer).collect();
        let mut g = Gather::default();
        let w = walk(&refs, limits, &mut g);
        (w, g)
    }

    #[test]
    fn layers_overlay_as_the_engine_overlays_them() {
        let t = tempfile::tempdir().unwrap();
        let l0 = t.path().join("l0");
        let l1 = t.path().join("l1");
        let l2 = t.path().join("l2");
        let npm = |v: &str| format!(r#"{{"name":"a","version":"{v}"}}"#).into_bytes();
        // Layer 0: a, b, c and a folder d.
        write(&l0.join("app/node_modules/a/package.json"), &npm("1.0.0"));
        write(&l0.join("app/node_modules/b/package.json"), &npm("2.0.0"));
        write(&l0.join("app/node_modules/c/package.json"), &npm("3.0.0"));
        write(&l0.join("srv/node_modules/d/package.json"), &npm("4.0.0"));
        // Layer 1: a replaced, b removed (.wh. file).
        write(&l1.join("app/node_modules/a/package.json"), &npm("1.1.0"));
        write(&l1.join("app/node_modules/.wh.b"), b"");
        // Layer 2: /srv removed and made again, opaque (marker file).
        write(&l2.join("srv/.wh..wh..opq"), b"");
        write(&l2.join("srv/node_modules/e/package.json"), &npm("5.0.0"));
        let (w, g) = walk_dirs(&[l0.clone(), l1, l2], LIMITS);
        let w = w.unwrap();
        let mut got: Vec<(String, String, Option<usize>)> = g
            .catalog
            .finish()
            .packages
            .into_iter()
            .map(|p| (p.path, p.version, p.layer))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                (
                    "/app/node_modules/a/package.json".into(),
                    "1.1.0".into(),
                    Some(1)
                ),
                (
                    "/app/node_modules/c/package.json".into(),
                    "3.0.0".into(),
                    Some(0)
                ),
                (
                    "/srv/node_modules/e/package.json".into(),
                    "5.0.0".into(),
                    Some(2)
                ),
            ]
        );
        assert_eq!(w.kept, 3);

        let (err, _) = walk_dirs(
            &[l0],
            Limits {
                entries: 3,
                time: LIMITS.time,
            },
        );
        let err = err.unwrap_err();
        assert!(
            err.contains("more than 3 entries, over the ceiling"),
            "{err}"
        );
    }

    /// The OS package database, `os-release` through its usual link, the
    /// setuid and world-writable files: the same facts the archive reader
    /// gives, from the layers alone.
    #[test]
    fn os_packages_and_special_files_come_from_the_layers() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let (l0, l1) = (t.path().join("l0"), t.path().join("l1"));
        write(
            &l0.join("usr/lib/os-release"),
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        );
        std::fs::create_dir_all(l0.join("etc")).unwrap();
        std::os::unix::fs::symlink("../usr/lib/os-release", l0.join("etc/os-release")).unwrap();
        write(
            &l0.join("var/lib/dpkg/status"),
            b"Package: old\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n",
        );
        write(
            &l0.join("var/lib/dpkg/info/bash.list"),
            b"/bin/bash\n/usr/bin/bashbug\n",
        );
        write(&l0.join("usr/bin/su"), b"#!/bin/sh\n");
        std::fs::set_permissions(
            l0.join("usr/bin/su"),
            std::fs::Permissions::from_mode(0o4755),
        )
        .unwrap();
        write(&l0.join("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n");
        std::fs::set_permissions(
            l0.join("etc/passwd"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        // Layer 1 upgrades the package and removes the setuid file.
        write(
            &l1.join("var/lib/dpkg/status"),
            b"Package: new\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n",
        );
        write(&l1.join("usr/bin/.wh.su"), b"");
        let (w, g) = walk_dirs(&[l0, l1], LIMITS);
        w.unwrap();
        let (scan, special) = g.finish("2026-12-01".parse().unwrap(), "test", 2);
        assert_eq!(scan.ecosystem.as_deref(), Some("Debian:12"));
        let names: Vec<(&str, &str)> = scan
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(names, [("new", "2.0")]);
        assert_eq!(
            scan.owners.get("/usr/bin/bash").map(String::as_str),
            Some("bash")
        );
        assert_eq!((scan.read_by.as_str(), scan.layer_count), ("test", 2));
        match special {
            SpecialFiles::Read {
                files,
                dirs,
                writable,
            } => {
                assert!(files.is_empty(), "{files:?}");
                assert_eq!(dirs, ["/usr/bin"]);
                assert_eq!(
                    writable,
                    [SpecialFile {
                        path: "/etc/passwd".into(),
                        mode: 0o666
                    }]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_os_file_linked_outside_the_image_is_said() {
        let t = tempfile::tempdir().unwrap();
        let l0 = t.path().join("l0");
        write(
            &l0.join("etc/os-release"),
            b"ID=fedora\nVERSION_ID=40\nPRETTY_NAME=\"Fedora 40\"\n",
        );
        std::fs::create_dir_all(l0.join("usr/lib/sysimage/rpm")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", l0.join("usr/lib/sysimage/rpm/rpmdb.sqlite"))
            .unwrap();
        let (w, g) = walk_dirs(&[l0], LIMITS);
        w.unwrap();
        let (scan, _) = g.finish("2026-12-01".parse().unwrap(), "test", 1);
        let why = scan.not_assessed.unwrap_or_default();
        assert!(
            why.contains("is a link to /dev/zero, which is not a regular file"),
            "{why}"
        );
    }
}
