//! An image's files read straight from its layer directories, for an
//! engine on this machine whose storage this process may read (root, a
//! rootless engine's own user, Podman's user storage): the directories
//! `GET /images/{id}/json` names in `GraphDriver` (`LowerDir`, `UpperDir`:
//! overlay2, fuse-overlayfs). Read-only, and much faster than streaming the
//! image through the archive API: a file is opened only when the catalogue
//! wants it, and only the bytes it needs are read (the sections of a 50 MB
//! executable, the central directory of a jar). Each file is known with its
//! layer, so the image's history names the build step that brought it in.
//!
//! The layers are overlaid as the engine overlays them: a file in a higher
//! layer hides the same path below; a whiteout (a character device 0/0, or
//! a `.wh.` file) removes it; an opaque directory (the overlay `opaque`
//! attribute, or a `.wh..wh..opq` file) hides everything below it.
//! Symlinks are never followed, nothing but regular files is opened, and
//! the walk has ceilings on entries and time, each named when it stops.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::vulndb::catalog::{Catalog, Keep};

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

/// The layer directories of an image, lowest first, from its inspect's
/// `GraphDriver`; `None` when the driver is not an overlay one or a
/// directory is not there to read (another machine's engine, another
/// user's storage).
pub fn layer_dirs(
    driver: &str,
    data: &std::collections::HashMap<String, String>,
) -> Option<Vec<PathBuf>> {
    if !matches!(driver, "overlay2" | "overlay" | "fuse-overlayfs") {
        return None;
    }
    let mut dirs: Vec<PathBuf> = data
        .get("LowerDir")
        .map(|l| {
            l.split(':')
                .filter(|d| !d.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    // LowerDir lists the highest first.
    dirs.reverse();
    dirs.push(PathBuf::from(data.get("UpperDir")?));
    let readable = dirs
        .iter()
        .all(|d| d.is_absolute() && std::fs::read_dir(d).is_ok());
    readable.then_some(dirs)
}

/// Is this directory marked opaque (its lower layers' contents hidden)?
fn opaque(dir: &Path) -> bool {
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
    dir.join(".wh..wh..opq").exists()
}

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

/// Walk `dirs` (lowest layer first) as one overlaid tree and hand every
/// visible file the catalogue wants to it, with its layer index. A ceiling
/// stops the walk with its name in the error; what was handed over stands.
pub fn walk(dirs: &[PathBuf], limits: Limits, catalog: &mut Catalog) -> Result<Walked, String> {
    let started = Instant::now();
    let mut walked = Walked::default();
    // Paths a higher layer already decided (a file there, or removed),
    // and folders whose lower contents are hidden.
    let mut decided: HashSet<String> = HashSet::new();
    let mut hidden: Vec<String> = Vec::new();
    for (layer, root) in dirs.iter().enumerate().rev() {
        let mut hidden_here = Vec::new();
        // (folder, its path in the image, whether a higher layer hides it).
        let mut stack: Vec<(PathBuf, String, bool)> = vec![(root.clone(), String::new(), false)];
        while let Some((dir, rel, under_hidden)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                walked.entries += 1;
                if walked.entries > limits.entries {
                    return Err(format!(
                        "the image's files: more than {} entries, over the ceiling (the rest was not read)",
                        limits.entries
                    ));
                }
                if walked.entries % 4096 == 0 && started.elapsed() > limits.time {
                    return Err(format!(
                        "the image's files: not read within the ceiling of {} s (the rest was not read)",
                        limits.time.as_secs()
                    ));
                }
                let name = e.file_name().to_string_lossy().into_owned();
                let Ok(ft) = e.file_type() else { continue };
                let path = format!("{rel}/{name}");
                if let Some(gone) = name.strip_prefix(".wh.") {
                    if gone != ".wh..opq" {
                        let p = format!("{rel}/{gone}");
                        decided.insert(p.clone());
                        hidden_here.push(p);
                    }
                    continue;
                }
                use std::os::unix::fs::{FileTypeExt, MetadataExt};
                let covered = under_hidden
                    || hidden
                        .iter()
                        .any(|h| path.starts_with(h.as_str()) && path[h.len()..].starts_with('/'));
                if covered || decided.contains(&path) {
                    // Hidden by a higher layer, yet still in the image: a
                    // credential there is extracted from the layer all the
                    // same.
                    if ft.is_dir() {
                        stack.push((e.path(), path, true));
                    } else if ft.is_file()
                        && let Ok(meta) = e.metadata()
                        && crate::vulndb::baked::wanted(&path, meta.len())
                        && let Ok(bytes) = std::fs::read(e.path())
                    {
                        catalog.add_hidden(&path, layer, &bytes);
                    }
                    continue;
                }
                if ft.is_char_device() {
                    // overlay's whiteout: 0/0.
                    if e.metadata().is_ok_and(|m| m.rdev() == 0) {
                        decided.insert(path.clone());
                        hidden_here.push(path);
                    }
                    continue;
                }
                if ft.is_dir() {
                    if opaque(&e.path()) {
                        hidden_here.push(path.clone());
                    }
                    stack.push((e.path(), path, false));
                    continue;
                }
                if !ft.is_file() {
                    decided.insert(path);
                    continue;
                }
                let Ok(meta) = e.metadata() else { continue };
                let keep = crate::vulndb::catalog::keep(&path, meta.mode(), meta.len());
                decided.insert(path.clone());
                if keep == Keep::No {
                    continue;
                }
                walked.kept += 1;
                walked.kept_bytes += meta.len();
                read_one(&e.path(), &path, layer, meta.len(), keep, catalog);
            }
        }
        hidden.extend(hidden_here);
    }
    Ok(walked)
}

fn read_one(file: &Path, path: &str, layer: usize, size: u64, keep: Keep, catalog: &mut Catalog) {
    use std::io::Read;
    let open = || std::fs::File::open(file).map_err(|e| format!("{path}: {e}"));
    let bytes = |n: u64| {
        open().and_then(|f| {
            let mut buf = Vec::new();
            f.take(n)
                .read_to_end(&mut buf)
                .map_err(|e| format!("{path}: {e}"))?;
            Ok(buf)
        })
    };
    match keep {
        Keep::No => {}
        Keep::Whole(n) | Keep::Random(n) if size > n => catalog.unread(format!(
            "{path}: {size} bytes, over the ceiling of {} (not read)",
            crate::vulndb::catalog::ceiling(n)
        )),
        // A metadata file's head, or a whole lock file.
        Keep::Head(n) | Keep::Whole(n) => match bytes(n) {
            Ok(buf) => catalog.add_file(path, Some(layer), &buf),
            Err(e) => catalog.unread(e),
        },
        Keep::Random(_) => match open() {
            Ok(f) => catalog.add_random(path, Some(layer), f),
            Err(e) => catalog.unread(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, data: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
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
        let mut c = Catalog::default();
        let w = walk(&[l0, l1, l2], LIMITS, &mut c).unwrap();
        let mut got: Vec<(String, String, Option<usize>)> = c
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

        let mut c = Catalog::default();
        let err = walk(
            &[t.path().join("l0")],
            Limits {
                entries: 3,
                time: LIMITS.time,
            },
            &mut c,
        )
        .unwrap_err();
        assert!(
            err.contains("more than 3 entries, over the ceiling"),
            "{err}"
        );
    }

    #[test]
    fn only_overlay_drivers_with_readable_directories() {
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let data: std::collections::HashMap<String, String> = [
            ("LowerDir".to_string(), a.display().to_string()),
            ("UpperDir".to_string(), b.display().to_string()),
        ]
        .into();
        assert_eq!(
            layer_dirs("overlay2", &data),
            Some(vec![a.clone(), b.clone()])
        );
        assert_eq!(layer_dirs("btrfs", &data), None);
        let missing: std::collections::HashMap<String, String> =
            [("UpperDir".to_string(), "/nonexistent/x".to_string())].into();
        assert_eq!(layer_dirs("overlay2", &missing), None);
    }
}
