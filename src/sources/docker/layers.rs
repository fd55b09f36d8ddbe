//! An image's (or a container's) layer directories on this machine, for an
//! engine whose storage this process may read (root, a rootless engine's
//! own user, Podman's user storage): the directories an inspect names in
//! `GraphDriver` (`LowerDir`, `UpperDir`: overlay2, fuse-overlayfs,
//! Podman's overlay). Read-only, and much faster than streaming the image
//! through the engine: a file is opened only when a reader wants it, and
//! only the bytes it needs are read (the sections of a 50 MB executable,
//! the central directory of a jar). Each file is known with its layer, so
//! the image's history names the build step that brought it in.
//!
//! The directories come from the engine, which may lie (D9: a fake engine
//! on a local socket can name `/root`). Every directory must sit inside the
//! engine's data root (`DockerRootDir` of `/info`), where its storage
//! driver lays out its layers (`<root>/<driver>/<id>/diff`), both as
//! written and with every symbolic link resolved; any other is refused
//! with a named warning, and the caller reads through the engine instead.
//! The overlay itself is [`super::tree`].

use std::collections::HashMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::tree::{Kind, Layer, Node, Opened};

/// The storage drivers whose layers are directories this process reads,
/// each laid out as `<data root>/<driver>/<layer id>/diff`.
pub const OVERLAY_DRIVERS: [&str; 3] = ["overlay2", "fuse-overlayfs", "overlay"];

/// The engine's data root on this machine, resolved: where every layer
/// directory must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataRoot {
    /// `DockerRootDir` with every symbolic link resolved.
    root: PathBuf,
}

impl DataRoot {
    /// The data root the engine reports (`DockerRootDir`), resolved on this
    /// machine; an error when it is not an absolute folder here, or is `/`.
    pub fn of(docker_root_dir: &str) -> Result<Self, String> {
        let p = Path::new(docker_root_dir);
        if docker_root_dir.is_empty() || !p.is_absolute() {
            return Err(format!(
                "the engine reports no usable data root ({docker_root_dir:?})"
            ));
        }
        let root = std::fs::canonicalize(p)
            .map_err(|e| format!("the engine's data root {docker_root_dir}: {e}"))?;
        if root.parent().is_none() {
            return Err("the engine reports / as its data root".into());
        }
        Ok(Self { root })
    }

    /// Layer directory `dir` of storage driver `driver`, resolved, when it
    /// sits where that driver keeps its layers in this data root
    /// (`<root>/<driver>/<id>/diff`), as written and resolved; else the
    /// reason, for a warning.
    pub fn confine(&self, driver: &str, dir: &str) -> Result<PathBuf, String> {
        if !OVERLAY_DRIVERS.contains(&driver) {
            return Err(format!("storage driver {driver:?} is not read here"));
        }
        let home = self.root.join(driver);
        let inside = |p: &Path| {
            p.strip_prefix(&home).is_ok_and(|rest| {
                let parts: Vec<_> = rest.components().collect();
                parts.len() == 2
                    && matches!(parts[0], std::path::Component::Normal(_))
                    && parts[1].as_os_str() == "diff"
            })
        };
        let outside = || {
            format!(
                "{dir} is not a layer directory of the engine's data root ({}/{driver}/…/diff)",
                self.root.display()
            )
        };
        let written = Path::new(dir);
        // As written: no `..`, no relative path. (The root as written may
        // itself be a link: compare the resolved forms below.)
        if !written.is_absolute()
            || written
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(outside());
        }
        let resolved = std::fs::canonicalize(written).map_err(|e| format!("{dir}: {e}"))?;
        if !inside(&resolved) {
            return Err(outside());
        }
        Ok(resolved)
    }
}

/// The layer directories of an inspect's `GraphDriver` (`name`, `data`),
/// lowest first (`UpperDir` last), each inside `root`: `Ok(None)` when the
/// driver is not one whose layers are read here or a directory is not
/// there to read (another machine's engine, another user's storage); an
/// error (for a warning) when one lies outside the data root.
pub fn layer_dirs(
    driver: &str,
    data: &HashMap<String, String>,
    root: &DataRoot,
) -> Result<Option<Vec<PathBuf>>, String> {
    if !OVERLAY_DRIVERS.contains(&driver) {
        return Ok(None);
    }
    let Some(upper) = data.get("UpperDir") else {
        return Ok(None);
    };
    let mut named: Vec<&str> = data
        .get("LowerDir")
        .map(|l| l.split(':').filter(|d| !d.is_empty()).collect())
        .unwrap_or_default();
    // LowerDir lists the highest first.
    named.reverse();
    named.push(upper);
    let mut dirs = Vec::with_capacity(named.len());
    for d in named {
        let written = Path::new(d);
        let well_formed = written.is_absolute()
            && !written
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        match root.confine(driver, d) {
            Ok(p) => dirs.push(p),
            // Not on this machine (an engine in a VM): read through it.
            Err(_) if well_formed && !written.exists() => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    let readable = dirs.iter().all(|d| std::fs::read_dir(d).is_ok());
    Ok(readable.then_some(dirs))
}

/// Is folder `dir` (on this machine) marked opaque: its lower layers'
/// contents hidden? The overlay attribute (the kernel's, fuse-overlayfs'
/// as root or not), or the `.wh..wh..opq` marker file.
pub fn opaque(dir: &Path) -> bool {
    opaque_attr(dir) || dir.join(".wh..wh..opq").exists()
}

fn opaque_attr(dir: &Path) -> bool {
    for name in [
        "trusted.overlay.opaque",
        "user.overlay.opaque",
        "user.fuseoverlayfs.opaque",
    ] {
        let mut v = [0u8; 4];
        if let Ok(n) = rustix::fs::lgetxattr(dir, name, &mut v)
            && n >= 1
            && v[0] == b'y'
        {
            return true;
        }
    }
    false
}

/// What one entry of a layer directory is, from its `lstat`.
pub fn node_of(name: String, meta: &std::fs::Metadata) -> Node {
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        Kind::Dir
    } else if ft.is_file() {
        Kind::File
    } else if ft.is_symlink() {
        Kind::Symlink
    } else if ft.is_char_device() && meta.rdev() == 0 {
        Kind::Whiteout
    } else {
        Kind::Other
    };
    Node {
        name,
        kind,
        mode: meta.mode() & 0o7777,
        size: meta.len(),
    }
}

/// Open a regular file of a layer directory, read-only, without following
/// a link and without waiting on a fifo; anything but a regular file is
/// refused.
pub fn open_regular(p: &Path) -> std::io::Result<std::fs::File> {
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(p)?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(f)
}

/// One layer directory on this machine.
#[derive(Debug, Clone)]
pub struct DirLayer {
    root: PathBuf,
}

impl DirLayer {
    /// The layer whose files are under `root`.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn host(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }
}

impl Layer for DirLayer {
    fn list(&self, dir: &str, out: &mut Vec<Node>) -> bool {
        let Ok(entries) = std::fs::read_dir(self.host(dir)) else {
            return false;
        };
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            out.push(node_of(e.file_name().to_string_lossy().into_owned(), &meta));
        }
        true
    }

    fn opaque_attr(&self, dir: &str) -> bool {
        opaque_attr(&self.host(dir))
    }

    fn open(&self, path: &str) -> std::io::Result<Box<dyn Opened>> {
        Ok(Box::new(open_regular(&self.host(path))?))
    }

    fn link(&self, path: &str) -> Option<String> {
        std::fs::read_link(self.host(path))
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(t: &Path) -> (DataRoot, PathBuf, PathBuf) {
        let root = t.join("docker");
        let a = root.join("overlay2/aaaa/diff");
        let b = root.join("overlay2/bbbb/diff");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        (DataRoot::of(root.to_str().unwrap()).unwrap(), a, b)
    }

    #[test]
    fn only_overlay_drivers_with_readable_directories() {
        let t = tempfile::tempdir().unwrap();
        let (root, a, b) = layout(t.path());
        let data: HashMap<String, String> = [
            ("LowerDir".to_string(), a.display().to_string()),
            ("UpperDir".to_string(), b.display().to_string()),
        ]
        .into();
        assert_eq!(
            layer_dirs("overlay2", &data, &root),
            Ok(Some(vec![
                std::fs::canonicalize(&a).unwrap(),
                std::fs::canonicalize(&b).unwrap()
            ]))
        );
        assert_eq!(layer_dirs("btrfs", &data, &root), Ok(None));
        let missing: HashMap<String, String> = [(
            "UpperDir".to_string(),
            t.path()
                .join("docker/overlay2/gone/diff")
                .display()
                .to_string(),
        )]
        .into();
        assert_eq!(layer_dirs("overlay2", &missing, &root), Ok(None));
    }

    /// D9: a fake engine names host folders as layers (`UpperDir=/root`,
    /// a folder of its own, a link out of the data root, `..`): each is
    /// refused, named, and nothing is walked.
    #[test]
    fn layer_directories_outside_the_data_root_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let (root, a, _) = layout(t.path());
        let host = t.path().join("host-secrets");
        std::fs::create_dir_all(&host).unwrap();
        // A layer id whose diff is a link to a host folder.
        let linked = t.path().join("docker/overlay2/cccc");
        std::fs::create_dir_all(&linked).unwrap();
        std::os::unix::fs::symlink(&host, linked.join("diff")).unwrap();
        let a = a.display().to_string();
        for upper in [
            "/root".to_string(),
            host.display().to_string(),
            linked.join("diff").display().to_string(),
            format!("{a}/../../../../host-secrets"),
            // Inside the root, but not where the driver keeps layers.
            t.path().join("docker").display().to_string(),
            "relative/diff".to_string(),
        ] {
            let data: HashMap<String, String> = [
                ("LowerDir".to_string(), a.clone()),
                ("UpperDir".to_string(), upper.clone()),
            ]
            .into();
            let got = layer_dirs("overlay2", &data, &root);
            let Err(why) = got else {
                panic!("{upper}: {got:?}")
            };
            assert!(
                why.contains("is not a layer directory of the engine's data root"),
                "{upper}: {why}"
            );
        }
        // Another driver's folder of the same root is not this driver's.
        let data: HashMap<String, String> = [("UpperDir".to_string(), a.clone())].into();
        assert!(layer_dirs("fuse-overlayfs", &data, &root).is_err());
        // A root of `/` is no root.
        assert!(DataRoot::of("/").is_err());
        assert!(DataRoot::of("").is_err());
    }
}
