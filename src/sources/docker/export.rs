//! An image read through the engine's image export (`GET /images/{id}/get`,
//! what `docker save` writes), for an image no container uses on an engine
//! whose layer directories cannot be read here (another machine, a VM).
//!
//! The cost is the engine's: it copies every layer of the image to a
//! temporary folder on its machine before it sends the first byte, so the
//! caller asks for it only when allowed (see [`super::packages::Export`]).
//! Here the stream is read once, as it arrives, never held whole: each
//! layer (a tar inside the tar, plain or gzip-compressed, legacy
//! `<id>/layer.tar` or OCI `blobs/sha256/<digest>`) is parsed as it
//! streams past and known by its digest (its content's SHA-256, which is
//! the image's `RootFS` diff id); of its entries only the names, kinds and
//! modes are kept, and the bytes of the files a reader wants (package
//! databases, metadata, executables, archives, credentials) go to one
//! unlinked temporary file. Then the layers are overlaid in the order the
//! image's inspect gives ([`super::tree`]), exactly as the layer
//! directories are.
//!
//! Ceilings: the stream's bytes and time, the entries, the bytes kept; each
//! named when it stops the read. Paths are only strings: nothing is ever
//! extracted to the filesystem, links are never followed.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use sha2::Digest as _;

use super::files::{self, FileError, Header, Limits};
use super::tree::{self, Kind, Layer, Node, Opened, Window};
use super::tree::{BY_EXPORT, ImageFiles};
use super::{Engine, EngineError};

/// The export's ceilings: a 16 GiB stream (a large ML image), a quarter of
/// an hour, and the entries of the outer tar (a few per layer).
pub const EXPORT: Limits = Limits {
    stream_bytes: 16 << 30,
    entries: 20_000,
    entry_bytes: 0,
    time: Duration::from_secs(900),
    truncate: false,
};

/// The most bytes of wanted files kept (in a temporary file) per image.
pub const KEPT_BYTES: u64 = 4 << 30;

/// One layer of the export: its folders' entries, and where the bytes of
/// the files kept are in the spill file.
#[derive(Default)]
struct ArchiveLayer {
    /// Folder (`""`, `/usr`) → its entries by name.
    dirs: HashMap<String, BTreeMap<String, Node>>,
    /// Kept files: path → (offset, length) in the spill file.
    kept: HashMap<String, (u64, u64)>,
    /// Symbolic links at the paths of OS files: path → target.
    links: HashMap<String, String>,
    /// Files wanted but not kept (the ceiling on kept bytes): path → why.
    dropped: HashMap<String, String>,
}

impl ArchiveLayer {
    /// Add an entry at `path` (`/usr/bin/x`), with the folders above it.
    fn add(&mut self, path: &str, node: Node) {
        let (dir, _) = path.rsplit_once('/').unwrap_or(("", path));
        let mut at = String::new();
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            let parent = at.clone();
            at.push('/');
            at.push_str(part);
            let siblings = self.dirs.entry(parent).or_default();
            siblings.entry(part.to_string()).or_insert_with(|| Node {
                name: part.to_string(),
                kind: Kind::Dir,
                mode: 0o755,
                size: 0,
            });
        }
        if node.kind == Kind::Dir {
            self.dirs.entry(path.to_string()).or_default();
        }
        self.dirs
            .entry(dir.to_string())
            .or_default()
            .insert(node.name.clone(), node);
    }
}

/// A layer of the export, with the spill file its kept bytes are in.
struct HeldLayer<'a> {
    layer: &'a ArchiveLayer,
    spill: &'a Arc<std::fs::File>,
}

impl Layer for HeldLayer<'_> {
    fn list(&self, dir: &str, out: &mut Vec<Node>) -> bool {
        match self.layer.dirs.get(dir) {
            Some(entries) => {
                out.extend(entries.values().cloned());
                true
            }
            None => false,
        }
    }

    fn opaque_attr(&self, _dir: &str) -> bool {
        // A layer tar marks opaque folders with `.wh..wh..opq` entries.
        false
    }

    fn open(&self, path: &str) -> std::io::Result<Box<dyn Opened>> {
        match self.layer.kept.get(path) {
            Some(&(at, len)) => Ok(Box::new(Window::new(self.spill.clone(), at, len))),
            None => Err(std::io::Error::other(
                self.layer
                    .dropped
                    .get(path)
                    .cloned()
                    .unwrap_or_else(|| "not kept from the export".into()),
            )),
        }
    }

    fn link(&self, path: &str) -> Option<String> {
        self.layer.links.get(path).cloned()
    }
}

/// What the stream's callback builds.
struct Reading {
    /// Layers by digest (`sha256:…`).
    layers: HashMap<String, ArchiveLayer>,
    /// The digests the image's inspect names (`RootFS.Layers`).
    wanted: Vec<String>,
    spill: BufWriter<std::fs::File>,
    spilled: u64,
    /// Layer entries over every layer.
    entries: usize,
    /// What could not be read.
    notes: Vec<String>,
}

/// Is `image_id` an image id as the engine writes it (`sha256:` and 64 hex
/// digits)? Nothing else goes into the request path.
fn is_image_id(image_id: &str) -> bool {
    image_id
        .strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Read image `image_id` through the engine's export: its packages, its
/// application's packages and credentials, its special files.
pub async fn read(
    engine: &Engine,
    image_id: &str,
    today: NaiveDate,
) -> Result<ImageFiles, FileError> {
    if !is_image_id(image_id) {
        return Err(FileError::BadArchive {
            path: image_id.to_string(),
            reason: "not an image id".into(),
        });
    }
    let img = engine
        .inspect_image(image_id)
        .await
        .map_err(FileError::Engine)?;
    let wanted: Vec<String> = img.root_fs.and_then(|r| r.layers).unwrap_or_default();
    if wanted.is_empty() {
        return Err(FileError::BadArchive {
            path: image_id.to_string(),
            reason: "its inspect names no layers".into(),
        });
    }
    let spill = tempfile::tempfile().map_err(|e| FileError::BadArchive {
        path: image_id.to_string(),
        reason: format!("no temporary file to keep its files in: {e}"),
    })?;
    let state = Reading {
        layers: HashMap::new(),
        wanted,
        spill: BufWriter::new(spill),
        spilled: 0,
        entries: 0,
        notes: Vec::new(),
    };
    let what = format!("the export of image {}", crate::model::short_id(image_id));
    let own = engine.own_calls();
    own.note(image_id, "save");
    let read = files::read_tar(
        engine.export_image(image_id),
        &what,
        EXPORT,
        state,
        on_entry,
    )
    .await;
    let reading = match read {
        Ok(r) => r,
        Err(e) => {
            if matches!(e, FileError::Engine(EngineError::NotFound { .. })) {
                own.forget(image_id, "save");
            }
            return Err(e);
        }
    };
    tokio::task::spawn_blocking(move || finish(reading, &what, today))
        .await
        .map_err(|e| FileError::BadArchive {
            path: image_id.to_string(),
            reason: e.to_string(),
        })?
}

/// Overlay what was read, in the image's layer order.
fn finish(mut r: Reading, what: &str, today: NaiveDate) -> Result<ImageFiles, FileError> {
    let bad = |reason: String| FileError::BadArchive {
        path: what.to_string(),
        reason,
    };
    r.spill.flush().map_err(|e| bad(e.to_string()))?;
    let spill = Arc::new(
        r.spill
            .into_inner()
            .map_err(|e| bad(e.error().to_string()))?,
    );
    let mut held = Vec::with_capacity(r.wanted.len());
    for digest in &r.wanted {
        match r.layers.get(digest) {
            Some(layer) => held.push(HeldLayer {
                layer,
                spill: &spill,
            }),
            None => {
                return Err(bad(format!(
                    "it holds no layer {digest}, which the image's inspect names"
                )));
            }
        }
    }
    let refs: Vec<&dyn Layer> = held.iter().map(|l| l as &dyn Layer).collect();
    let mut gather = tree::Gather::default();
    let walked = tree::walk(&refs, tree::LIMITS, &mut gather);
    let (mut packages, special) = gather.finish(today, BY_EXPORT, refs.len());
    packages.unread.extend(r.notes);
    if let Err(e) = walked {
        packages.unread.push(e);
    }
    Ok(ImageFiles { packages, special })
}

/// An export held in memory (`data`, the outer tar) read as the engine's
/// stream is, for the fuzz target: the layers named by `wanted`, overlaid.
#[doc(hidden)]
pub fn from_bytes(
    data: &[u8],
    wanted: Vec<String>,
    today: NaiveDate,
) -> Result<ImageFiles, FileError> {
    let spill = tempfile::tempfile().map_err(|e| FileError::BadArchive {
        path: "export".into(),
        reason: e.to_string(),
    })?;
    let mut r = Reading {
        layers: HashMap::new(),
        wanted,
        spill: BufWriter::new(spill),
        spilled: 0,
        entries: 0,
        notes: Vec::new(),
    };
    let bad = |e: std::io::Error| FileError::BadArchive {
        path: "export".into(),
        reason: e.to_string(),
    };
    let mut outer = tar::Archive::new(data);
    for (n, entry) in outer.entries().map_err(bad)?.enumerate() {
        if n >= EXPORT.entries {
            break;
        }
        let mut entry = entry.map_err(bad)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular => files::Kind::File,
            _ => files::Kind::Other,
        };
        let size = entry.header().size().unwrap_or(0);
        on_entry(
            &mut r,
            &mut entry,
            Header {
                root: "export",
                name,
                kind,
                mode: 0o644,
                size,
                limits: EXPORT,
            },
        )?;
    }
    finish(r, "export", today)
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: sha2::Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// One entry of the export: a layer (a tar, maybe gzip-compressed) is read
/// as it streams past; the rest (the image's configuration, manifests)
/// streams past unread.
fn on_entry(r: &mut Reading, entry: &mut dyn Read, h: Header<'_>) -> Result<(), FileError> {
    if h.kind != files::Kind::File || h.size < 18 {
        return Ok(());
    }
    let mut head = Vec::with_capacity(512);
    entry
        .take(512)
        .read_to_end(&mut head)
        .map_err(|e| FileError::BadArchive {
            path: h.root.to_string(),
            reason: format!("{}: {e}", h.name),
        })?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let zstd = head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let tar = head.get(257..262) == Some(b"ustar".as_slice());
    if zstd {
        r.notes.push(format!(
            "{}: a zstd-compressed layer, which shipshape does not read (not read)",
            h.name
        ));
        return Ok(());
    }
    if !gzip && !tar {
        return Ok(());
    }
    let whole = std::io::Cursor::new(head).chain(entry);
    let plain: Box<dyn Read + '_> = if gzip {
        Box::new(flate2::read::GzDecoder::new(whole))
    } else {
        Box::new(whole)
    };
    let mut hashing = Hashing {
        inner: plain,
        hash: sha2::Sha256::new(),
    };
    let mut layer = ArchiveLayer::default();
    let read = read_layer(r, &mut hashing, &mut layer, &h.name);
    // The digest covers the whole tar, past its end marker.
    let drained = std::io::copy(&mut hashing, &mut std::io::sink());
    read?;
    drained.map_err(|e| FileError::BadArchive {
        path: h.root.to_string(),
        reason: format!("{}: {e}", h.name),
    })?;
    let digest = format!("sha256:{}", hex(&hashing.hash.finalize()));
    if r.wanted.contains(&digest) {
        r.layers.insert(digest, layer);
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A layer tar's entry name as a path of the image (`/usr/bin/x`), or
/// `None` for the root itself and for names that climb out (`..`).
fn image_path(raw: &[u8]) -> Option<String> {
    let name = String::from_utf8_lossy(raw);
    let mut out = String::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Read one layer tar into `layer`: every entry's name, kind and mode,
/// and the bytes of the files a reader wants (to the spill file).
fn read_layer(
    r: &mut Reading,
    tar_bytes: &mut dyn Read,
    layer: &mut ArchiveLayer,
    name: &str,
) -> Result<(), FileError> {
    let bad = |e: std::io::Error| FileError::BadArchive {
        path: name.to_string(),
        reason: e.to_string(),
    };
    let mut archive = tar::Archive::new(tar_bytes);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        r.entries += 1;
        if r.entries > tree::LIMITS.entries {
            return Err(FileError::Ceiling {
                path: name.to_string(),
                what: "the entries of the image's layers",
                limit: tree::LIMITS.entries.to_string(),
            });
        }
        let Some(path) = image_path(&entry.path_bytes()) else {
            continue;
        };
        let header = entry.header();
        let mode = header.mode().unwrap_or(0) & 0o7777;
        let size = header.size().unwrap_or(0);
        let leaf = path.rsplit('/').next().unwrap_or("").to_string();
        let kind = match header.entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
            tar::EntryType::Directory => Kind::Dir,
            tar::EntryType::Symlink => Kind::Symlink,
            tar::EntryType::Char
                if header.device_major().ok().flatten() == Some(0)
                    && header.device_minor().ok().flatten() == Some(0) =>
            {
                Kind::Whiteout
            }
            tar::EntryType::Link => {
                // A hard link: the same file as an earlier entry of this
                // layer, under another name.
                let target = entry.link_name_bytes().and_then(|l| image_path(&l));
                let found = target.as_deref().and_then(|t| {
                    let (dir, leaf_t) = t.rsplit_once('/')?;
                    let n = layer.dirs.get(dir)?.get(leaf_t)?.clone();
                    Some((n, layer.kept.get(t).copied()))
                });
                if let Some((n, kept)) = found
                    && n.kind == Kind::File
                {
                    if let Some(k) = kept {
                        layer.kept.insert(path.clone(), k);
                    }
                    layer.add(&path, Node { name: leaf, ..n });
                } else {
                    layer.add(
                        &path,
                        Node {
                            name: leaf,
                            kind: Kind::Other,
                            mode,
                            size: 0,
                        },
                    );
                }
                continue;
            }
            _ => Kind::Other,
        };
        if kind == Kind::Symlink
            && let Some(t) = entry.link_name_bytes()
        {
            layer
                .links
                .insert(path.clone(), String::from_utf8_lossy(&t).into_owned());
        }
        if kind == Kind::File {
            let want = tree::Gather::wants(&path, mode, size);
            if want > 0 {
                if r.spilled + want > KEPT_BYTES {
                    layer.dropped.insert(
                        path.clone(),
                        format!(
                            "not kept: the ceiling of {} kept from one image's export was reached",
                            crate::vulndb::catalog::ceiling(KEPT_BYTES)
                        ),
                    );
                } else {
                    let at = r.spilled;
                    let copied =
                        std::io::copy(&mut (&mut entry).take(want), &mut r.spill).map_err(bad)?;
                    r.spilled += copied;
                    layer.kept.insert(path.clone(), (at, copied));
                }
            }
        }
        layer.add(
            &path,
            Node {
                name: leaf,
                kind,
                mode,
                size,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer_tar(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data, mode) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            // Written raw: the builder refuses `..`, a hostile layer does not.
            h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn digest(bytes: &[u8]) -> String {
        format!("sha256:{}", hex(&sha2::Sha256::digest(bytes)))
    }

    fn reading(wanted: Vec<String>) -> Reading {
        Reading {
            layers: HashMap::new(),
            wanted,
            spill: BufWriter::new(tempfile::tempfile().unwrap()),
            spilled: 0,
            entries: 0,
            notes: Vec::new(),
        }
    }

    fn feed(r: &mut Reading, name: &str, bytes: &[u8]) {
        on_entry(
            r,
            &mut &bytes[..],
            Header {
                root: "export",
                name: name.into(),
                kind: files::Kind::File,
                mode: 0o644,
                size: bytes.len() as u64,
                limits: EXPORT,
            },
        )
        .unwrap();
    }

    /// Two layers arriving in the wrong order (legacy names sort by their
    /// v1 ids, not by layer), one gzip-compressed, are put in the image's
    /// order by digest: the upper layer's whiteout removes the lower's
    /// package, its os-release and dpkg database are read, and what is not
    /// a layer streams past.
    #[test]
    fn layers_are_known_by_digest_and_overlaid_in_the_images_order() {
        let low = layer_tar(&[
            (
                "etc/os-release",
                b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian 12\"\n",
                0o644,
            ),
            (
                "var/lib/dpkg/status",
                b"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\n",
                0o644,
            ),
            (
                "app/node_modules/left-pad/package.json",
                br#"{"name":"left-pad","version":"1.0.0"}"#,
                0o644,
            ),
            ("usr/bin/su", b"#!/bin/sh\n", 0o4755),
        ]);
        let high = layer_tar(&[
            ("app/node_modules/.wh.left-pad", b"", 0o644),
            (
                "./app/node_modules/minimist/package.json",
                br#"{"name":"minimist","version":"1.2.0"}"#,
                0o644,
            ),
            (
                "../escape/package.json",
                br#"{"name":"x","version":"1"}"#,
                0o644,
            ),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&high).unwrap();
        let high_gz = gz.finish().unwrap();
        let mut r = reading(vec![digest(&low), digest(&high)]);
        feed(&mut r, "zzz/layer.tar", &low);
        feed(&mut r, "blobs/sha256/aaa", &high_gz);
        feed(&mut r, "manifest.json", &[b'{'; 600]);
        assert_eq!(r.layers.len(), 2);
        let f = finish(r, "export", "2026-12-01".parse().unwrap()).unwrap();
        let p = &f.packages;
        assert_eq!(p.ecosystem.as_deref(), Some("Debian:12"));
        assert_eq!(p.read_by, BY_EXPORT);
        let mut names: Vec<(&str, Option<usize>)> = p
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.layer))
            .collect();
        names.sort();
        assert_eq!(names, [("minimist", Some(1)), ("zlib1g", None)]);
        match &f.special {
            crate::model::packages::SpecialFiles::Read { files, .. } => {
                assert_eq!(files.len(), 1);
                assert_eq!(
                    (files[0].path.as_str(), files[0].mode),
                    ("/usr/bin/su", 0o4755)
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_layer_or_a_foreign_id_is_an_error() {
        let low = layer_tar(&[("etc/hostname", b"x\n", 0o644)]);
        let mut r = reading(vec![digest(&low), "sha256:00".into()]);
        feed(&mut r, "a/layer.tar", &low);
        let e = finish(r, "export", "2026-12-01".parse().unwrap())
            .err()
            .unwrap();
        assert!(e.to_string().contains("holds no layer sha256:00"), "{e}");
        assert!(!is_image_id("../../containers/x"));
        assert!(!is_image_id("sha256:abc"));
        assert!(is_image_id(&format!("sha256:{}", "a".repeat(64))));
    }
}
