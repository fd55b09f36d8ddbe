//! Reading files out of a container, read-only, through
//! `GET /containers/{id}/archive` — the package databases and the setuid
//! bits that rule 1 and CIS 4.8 need.
//!
//! What comes back is a tar stream written by whoever built the image, so:
//! * nothing is ever extracted: entries are parsed in memory, their paths
//!   are only compared as strings, symlinks and device nodes are never
//!   followed or opened (a symlink is reported; the caller may ask the
//!   engine for its target, which the engine resolves inside the
//!   container's root);
//! * every read has ceilings — bytes in the stream, number of entries,
//!   bytes of one entry — and a time limit (the engine holds the container
//!   while the stream is open); hitting one is a clear error;
//! * each call is noted in the own-call filter first (the engine logs it as
//!   `archive-path`, plus `mount`/`unmount` per volume), and forgotten when
//!   the engine answers 404 (which it does not log).

use std::io::Read;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Engine, EngineError};
use crate::vulndb::catalog::{Catalog, Keep};

/// Ceilings for one read.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes in the whole tar stream.
    pub stream_bytes: u64,
    /// The most entries read.
    pub entries: usize,
    /// Bytes of one regular file kept in memory.
    pub entry_bytes: u64,
    /// The whole read, from request to last byte.
    pub time: Duration,
    /// Keep the first `entry_bytes` of a larger file instead of stopping
    /// (metadata whose fields come first, such as Python's `METADATA`).
    pub truncate: bool,
}

/// Package databases: `status` files of a few MiB, `status.d/` of a few
/// hundred small files.
pub const PACKAGE_FILES: Limits = Limits {
    stream_bytes: 64 << 20,
    entries: 20_000,
    entry_bytes: 32 << 20,
    time: Duration::from_secs(30),
    truncate: false,
};

/// Executable directories, read only for their headers (modes): contents
/// stream past and are dropped.
pub const EXEC_DIRS: Limits = Limits {
    stream_bytes: 1 << 30,
    entries: 200_000,
    entry_bytes: 0,
    time: Duration::from_secs(120),
    truncate: false,
};

/// Trees of the application's packages (`site-packages`, `node_modules`):
/// every byte streams past, only the metadata files are kept, and of those
/// only the first 256 KiB (names and versions come first; a 100 MB
/// `METADATA` costs no memory).
pub const APP_TREES: Limits = Limits {
    stream_bytes: 8 << 30,
    entries: 500_000,
    entry_bytes: 256 << 10,
    time: Duration::from_secs(180),
    truncate: true,
};

/// An RPM database: `rpmdb.sqlite` is a few MiB in a container image, tens
/// on a full system; read whole, in memory.
pub const RPM_DB: Limits = Limits {
    stream_bytes: 260 << 20,
    entries: 16,
    entry_bytes: 256 << 20,
    time: Duration::from_secs(60),
    truncate: false,
};

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path does not exist.
    #[error("{0} does not exist in the container")]
    NotFound(String),
    /// A ceiling stopped the read.
    #[error("{path}: {what} is over the ceiling of {limit}; the read was stopped")]
    Ceiling {
        /// The path being read.
        path: String,
        /// Which ceiling (`bytes`, `entries`, …).
        what: &'static str,
        /// The ceiling's value, for a person.
        limit: String,
    },
    /// The engine did not finish within the time limit.
    #[error("{0}: the engine did not finish sending it within the time limit")]
    Timeout(String),
    #[error("{path}: not a readable tar stream: {reason}")]
    /// The engine's answer is not a tar stream.
    BadArchive {
        /// The path being read.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The engine call failed.
    #[error(transparent)]
    Engine(EngineError),
}

/// What a tar entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link and its target, as written.
    Symlink(String),
    /// Hard links, devices, fifos: listed, never read.
    Other,
}

/// One entry of the stream.
#[derive(Debug, Clone)]
pub struct Item {
    /// The path inside the tar (relative: `status`, `status.d/base`).
    pub path: String,
    /// File or directory.
    pub kind: Kind,
    /// Its mode bits.
    pub mode: u32,
    /// Its size in bytes.
    pub size: u64,
    /// The content, for regular files when asked for.
    pub data: Option<Vec<u8>>,
}

/// A `Read` over chunks that arrive on a channel, with a byte ceiling.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, EngineError>>,
    chunk: bytes::Bytes,
    total: u64,
    cap: u64,
    error: Option<Stop>,
}

/// Why the reader stopped early.
enum Stop {
    Ceiling,
    Engine(EngineError),
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => {
                    self.total += c.len() as u64;
                    if self.total > self.cap {
                        self.error = Some(Stop::Ceiling);
                        return Err(std::io::Error::other("stream ceiling"));
                    }
                    self.chunk = c;
                }
                Some(Err(e)) => {
                    let text = e.to_string();
                    self.error = Some(Stop::Engine(e));
                    return Err(std::io::Error::other(text));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}

/// Stream `path` of container `id` (it has `volumes` volume mounts, each
/// of which the engine mounts and logs) through `on_entry` on a blocking
/// thread: every tar entry in order, with its header facts and a reader
/// for its bytes. The ceilings of `limits` on the stream, the entries and
/// the time apply; `on_entry` applies the one on a file's bytes.
async fn stream<T: Send + 'static>(
    engine: &Engine,
    id: &str,
    volumes: usize,
    path: &str,
    limits: Limits,
    state: T,
    on_entry: fn(&mut T, &mut dyn Read, Header<'_>) -> Result<(), FileError>,
) -> Result<T, FileError> {
    let own = engine.own_calls();
    own.note(id, "archive-path");
    own.note_volume_mounts(id, volumes);
    match read_tar(engine.archive(id, path), path, limits, state, on_entry).await {
        // A path that is not there logs no `archive-path`, but its volumes
        // were mounted all the same: those notes stay.
        Err(FileError::Engine(EngineError::NotFound { .. })) => {
            own.forget(id, "archive-path");
            Err(FileError::NotFound(path.to_string()))
        }
        r => r,
    }
}

/// Read the tar stream `source` (the engine's answer for `what`) through
/// `on_entry` on a blocking thread: every entry in order, with its header
/// facts and a reader for its bytes. The ceilings of `limits` on the
/// stream, the entries and the time apply; `on_entry` applies the one on a
/// file's bytes. Dropping the source (a ceiling, the time limit) closes the
/// connection.
pub(super) async fn read_tar<T: Send + 'static>(
    source: impl futures_util::Stream<Item = Result<bytes::Bytes, EngineError>>,
    what: &str,
    limits: Limits,
    state: T,
    on_entry: fn(&mut T, &mut dyn Read, Header<'_>) -> Result<(), FileError>,
) -> Result<T, FileError> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let pump = async move {
        let mut stream = std::pin::pin!(source);
        while let Some(chunk) = stream.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    };
    let reader = ChannelReader {
        rx,
        chunk: bytes::Bytes::new(),
        total: 0,
        cap: limits.stream_bytes,
        error: None,
    };
    let p = what.to_string();
    let parse = tokio::task::spawn_blocking(move || walk_tar(reader, &p, limits, state, on_entry));
    let work = async {
        let (_, parsed) = tokio::join!(pump, parse);
        parsed
    };
    match tokio::time::timeout(limits.time, work).await {
        // Dropping the pump on timeout closes the connection: the engine
        // lets go of the container.
        Err(_) => Err(FileError::Timeout(what.to_string())),
        Ok(Err(join)) => Err(FileError::BadArchive {
            path: what.to_string(),
            reason: join.to_string(),
        }),
        Ok(Ok(r)) => r,
    }
}

/// One tar entry's facts, for [`stream`]'s callback.
pub struct Header<'a> {
    /// The read's path (`/usr/local`).
    pub root: &'a str,
    /// The entry's path inside the tar (`local/bin/x`).
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Its mode bits.
    pub mode: u32,
    /// Its size in bytes.
    pub size: u64,
    /// The read's ceilings.
    pub limits: Limits,
}

/// Read `path` from container `id`: every entry, with the content of the
/// regular files for which `want` says so.
pub async fn read(
    engine: &Engine,
    id: &str,
    volumes: usize,
    path: &str,
    limits: Limits,
    want: fn(&str) -> bool,
) -> Result<Vec<Item>, FileError> {
    stream(
        engine,
        id,
        volumes,
        path,
        limits,
        (Vec::new(), want),
        collect_item,
    )
    .await
    .map(|(out, _)| out)
}

/// [`read`]'s handling of one entry: its facts, and its bytes when wanted.
type Collected = (Vec<Item>, fn(&str) -> bool);

fn collect_item(
    (out, want): &mut Collected,
    entry: &mut dyn Read,
    h: Header<'_>,
) -> Result<(), FileError> {
    let data = if h.kind == Kind::File && want(&h.name) {
        if h.size > h.limits.entry_bytes && !h.limits.truncate {
            return Err(FileError::Ceiling {
                path: format!("{} ({})", h.root, h.name),
                what: "one file's size",
                limit: format!("{} MiB", h.limits.entry_bytes >> 20),
            });
        }
        let mut buf = Vec::with_capacity(h.size.min(h.limits.entry_bytes) as usize);
        let keep = if h.limits.truncate {
            h.limits.entry_bytes
        } else {
            h.limits.entry_bytes + 1
        };
        entry
            .take(keep)
            .read_to_end(&mut buf)
            .map_err(|e| FileError::BadArchive {
                path: h.root.to_string(),
                reason: e.to_string(),
            })?;
        Some(buf)
    } else {
        None
    };
    out.push(Item {
        path: h.name,
        kind: h.kind,
        mode: h.mode,
        size: h.size,
        data,
    });
    Ok(())
}

/// The items of a tar stream (what [`read`] does with the engine's).
#[cfg(test)]
fn parse(
    reader: ChannelReader,
    path: &str,
    limits: Limits,
    want: fn(&str) -> bool,
) -> Result<Vec<Item>, FileError> {
    walk_tar(reader, path, limits, (Vec::new(), want), collect_item).map(|(out, _)| out)
}

/// An executable or archive up to this size is kept in memory to be looked
/// into; a larger one goes to a temporary file (one at a time).
const IN_MEMORY: u64 = 16 << 20;

/// What [`catalog`] keeps while it streams.
struct Cataloguing {
    catalog: Catalog,
    /// The read's parent folder (`/usr` for a read of `/usr/local`), so
    /// entries are named from the image's root.
    parent: String,
    /// Mounted folders inside the read: their content is not the image's.
    skip: Vec<String>,
    /// The spill file for large executables and archives.
    spill: Option<std::fs::File>,
}

/// Stream `path` of container `id` through the package catalogue
/// ([`crate::vulndb::catalog`]): metadata files, lock files, executables
/// and Java archives are kept as it says, everything else streams past.
/// Entries under `skip` (the container's mounts) are not the image's and
/// are passed over.
pub async fn catalog(
    engine: &Engine,
    id: &str,
    volumes: usize,
    path: &str,
    limits: Limits,
    skip: Vec<String>,
    into: Catalog,
) -> Result<Catalog, FileError> {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p).to_string();
    let state = Cataloguing {
        catalog: into,
        parent,
        skip,
        spill: None,
    };
    stream(engine, id, volumes, path, limits, state, |st, entry, h| {
        if h.kind != Kind::File {
            return Ok(());
        }
        let full = format!("{}/{}", st.parent, h.name.trim_start_matches("./"));
        if st
            .skip
            .iter()
            .any(|m| full.starts_with(m.as_str()) && full[m.len()..].starts_with('/'))
        {
            return Ok(());
        }
        let bad = |e: std::io::Error| FileError::BadArchive {
            path: h.root.to_string(),
            reason: e.to_string(),
        };
        match crate::vulndb::catalog::keep(&full, h.mode, h.size) {
            Keep::No => {}
            Keep::Head(n) => {
                let mut buf = Vec::new();
                entry.take(n).read_to_end(&mut buf).map_err(bad)?;
                st.catalog.add_file(&full, None, &buf);
            }
            Keep::Whole(n) | Keep::Random(n) if h.size > n => {
                st.catalog.unread(format!(
                    "{full}: {} bytes, over the ceiling of {} (not read)",
                    h.size,
                    crate::vulndb::catalog::ceiling(n)
                ));
            }
            Keep::Whole(n) => {
                let mut buf = Vec::new();
                entry.take(n).read_to_end(&mut buf).map_err(bad)?;
                st.catalog.add_file(&full, None, &buf);
            }
            Keep::Random(_) if h.size <= IN_MEMORY => {
                let mut buf = Vec::with_capacity(h.size as usize);
                entry.take(h.size).read_to_end(&mut buf).map_err(bad)?;
                st.catalog
                    .add_random(&full, None, std::io::Cursor::new(buf));
            }
            Keep::Random(_) => {
                use std::io::Seek;
                let f = match st.spill.take() {
                    Some(f) => f,
                    None => tempfile::tempfile().map_err(bad)?,
                };
                f.set_len(0).map_err(bad)?;
                let mut w = std::io::BufWriter::new(&f);
                std::io::copy(&mut entry.take(h.size), &mut w).map_err(bad)?;
                drop(w);
                let mut r = &f;
                r.rewind().map_err(bad)?;
                st.catalog.add_random(&full, None, SpillFile(&f));
                st.spill = Some(f);
            }
        }
        Ok(())
    })
    .await
    .map(|st| st.catalog)
}

/// A spill file lent to the catalogue: random access without giving it up.
struct SpillFile<'a>(&'a std::fs::File);

impl Read for SpillFile<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        (&mut &*self.0).read(buf)
    }
}

impl std::io::Seek for SpillFile<'_> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        (&mut &*self.0).seek(pos)
    }
}

impl crate::vulndb::binaries::At for SpillFile<'_> {
    fn len(&self) -> u64 {
        crate::vulndb::binaries::At::len(self.0)
    }
    fn read_at(&self, at: u64, buf: &mut [u8]) -> std::io::Result<()> {
        crate::vulndb::binaries::At::read_at(self.0, at, buf)
    }
}

fn walk_tar<T>(
    mut reader: ChannelReader,
    path: &str,
    limits: Limits,
    mut state: T,
    on_entry: fn(&mut T, &mut dyn Read, Header<'_>) -> Result<(), FileError>,
) -> Result<T, FileError> {
    let mut count = 0usize;
    let result = (|| -> Result<(), FileError> {
        let mut archive = tar::Archive::new(&mut reader);
        let entries = archive.entries().map_err(|e| FileError::BadArchive {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        for entry in entries {
            let mut entry = entry.map_err(|e| FileError::BadArchive {
                path: path.to_string(),
                reason: e.to_string(),
            })?;
            if count >= limits.entries {
                return Err(FileError::Ceiling {
                    path: path.to_string(),
                    what: "the number of entries",
                    limit: limits.entries.to_string(),
                });
            }
            count += 1;
            let header = entry.header();
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let size = header.size().unwrap_or(0);
            let mode = header.mode().unwrap_or(0);
            let kind = match header.entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => Kind::File,
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Symlink => Kind::Symlink(
                    entry
                        .link_name_bytes()
                        .map(|l| String::from_utf8_lossy(&l).into_owned())
                        .unwrap_or_default(),
                ),
                _ => Kind::Other,
            };
            on_entry(
                &mut state,
                &mut entry,
                Header {
                    root: path,
                    name,
                    kind,
                    mode,
                    size,
                    limits,
                },
            )?;
        }
        Ok(())
    })();
    match (result, reader.error.take()) {
        (_, Some(Stop::Ceiling)) => Err(FileError::Ceiling {
            path: path.to_string(),
            what: "the tar stream",
            limit: format!("{} MiB", limits.stream_bytes >> 20),
        }),
        (_, Some(Stop::Engine(e))) => Err(FileError::Engine(e)),
        (Err(e), None) => Err(e),
        (Ok(()), None) => Ok(state),
    }
}

/// Read one file, following symbolic links (at most 8, each resolved by the
/// engine inside the container): `/etc/os-release` is usually a link to
/// `/usr/lib/os-release`.
pub async fn read_file(
    engine: &Engine,
    id: &str,
    volumes: usize,
    path: &str,
    limits: Limits,
) -> Result<Vec<u8>, FileError> {
    let mut current = path.to_string();
    for _ in 0..8 {
        let items = read(engine, id, volumes, &current, limits, |_| true).await?;
        match items.into_iter().next() {
            Some(Item {
                kind: Kind::File,
                data: Some(d),
                ..
            }) => return Ok(d),
            Some(Item {
                kind: Kind::Symlink(target),
                ..
            }) => current = resolve(&current, &target),
            _ => {
                return Err(FileError::BadArchive {
                    path: current,
                    reason: "not a regular file".into(),
                });
            }
        }
    }
    Err(FileError::BadArchive {
        path: path.to_string(),
        reason: "too many symbolic links".into(),
    })
}

/// A link target, as a path from the container's root.
pub(super) fn resolve(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        let dir = link.rsplit_once('/').map_or("", |(d, _)| d);
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_targets_resolve_inside_the_root() {
        assert_eq!(
            resolve("/etc/os-release", "../usr/lib/os-release"),
            "/usr/lib/os-release"
        );
        assert_eq!(
            resolve("/etc/os-release", "/usr/lib/os-release"),
            "/usr/lib/os-release"
        );
        assert_eq!(resolve("/a/b", "../../../../etc/shadow"), "/etc/shadow");
        assert_eq!(resolve("/var/lib/dpkg/status", "/dev/zero"), "/dev/zero");
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn reader_of(bytes: Vec<u8>, cap: u64) -> ChannelReader {
        let (tx, rx) = tokio::sync::mpsc::channel(bytes.len() / 512 + 2);
        for c in bytes.chunks(512) {
            tx.try_send(Ok(bytes::Bytes::copy_from_slice(c))).unwrap();
        }
        ChannelReader {
            rx,
            chunk: bytes::Bytes::new(),
            total: 0,
            cap,
            error: None,
        }
    }

    #[test]
    fn ceilings_stop_a_hostile_stream() {
        let many: Vec<(String, Vec<u8>)> =
            (0..50).map(|i| (format!("f{i}"), vec![b'x'; 10])).collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let t = tar_of(&refs);
        let limits = Limits {
            stream_bytes: 1 << 20,
            entries: 10,
            entry_bytes: 1 << 10,
            time: Duration::from_secs(5),
            truncate: false,
        };
        let e = parse(reader_of(t.clone(), 1 << 20), "/x", limits, |_| true).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::Ceiling {
                    what: "the number of entries",
                    ..
                }
            ),
            "{e}"
        );
        // Metadata trees keep the head of an oversized file and go on.
        let big = tar_of(&[("METADATA", &vec![b'y'; 5000]), ("next", b"z")]);
        let head = Limits {
            entry_bytes: 1000,
            ..APP_TREES
        };
        let items = parse(reader_of(big, 1 << 20), "/x", head, |_| true).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].data.as_ref().map(Vec::len), Some(1000));
        assert_eq!(items[1].data.as_deref(), Some(b"z".as_slice()));
        let e = parse(reader_of(t, 4096), "/x", PACKAGE_FILES, |_| true).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::Ceiling {
                    what: "the tar stream",
                    ..
                }
            ),
            "{e}"
        );
        let big = tar_of(&[("status", &vec![b'y'; 5000])]);
        let small = Limits {
            entry_bytes: 1000,
            ..PACKAGE_FILES
        };
        let e = parse(reader_of(big, 1 << 20), "/x", small, |_| true).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::Ceiling {
                    what: "one file's size",
                    ..
                }
            ),
            "{e}"
        );
        let ok = parse(
            reader_of(tar_of(&[("status", b"Package: a\n")]), 1 << 20),
            "/x",
            PACKAGE_FILES,
            |_| true,
        )
        .unwrap();
        assert_eq!(ok[0].data.as_deref(), Some(&b"Package: a\n"[..]));
        let junk = parse(
            reader_of(vec![7u8; 3000], 1 << 20),
            "/x",
            PACKAGE_FILES,
            |_| true,
        );
        assert!(junk.is_err());
    }

    /// A tar stream of a million entries (as an image can hold in a
    /// status.d/ or a bin directory) stops at the entry ceiling; the
    /// producer is not drained to the end.
    #[test]
    fn a_million_entries_stop_at_the_ceiling() {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let producer = std::thread::spawn(move || {
            let mut sent = 0u64;
            for i in 0..1_000_000u32 {
                let mut h = tar::Header::new_gnu();
                h.set_size(0);
                h.set_mode(0o644);
                let _ = h.set_path(format!("f{i}"));
                h.set_cksum();
                if tx
                    .blocking_send(Ok(bytes::Bytes::copy_from_slice(h.as_bytes())))
                    .is_err()
                {
                    break;
                }
                sent += 1;
            }
            sent
        });
        let reader = ChannelReader {
            rx,
            chunk: bytes::Bytes::new(),
            total: 0,
            cap: EXEC_DIRS.stream_bytes,
            error: None,
        };
        let e = parse(reader, "/usr/bin", PACKAGE_FILES, |_| false).unwrap_err();
        assert!(
            matches!(
                e,
                FileError::Ceiling {
                    what: "the number of entries",
                    ..
                }
            ),
            "{e}"
        );
        let sent = producer.join().unwrap();
        assert!(sent < 30_000, "stopped early: {sent} headers produced");
    }
}
