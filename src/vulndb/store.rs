//! The vulnerability database on disk: one gzip-compressed JSON file in
//! the user's cache directory, replaced atomically (a failed import or
//! download leaves the old one as it was).
//!
//! Imports read OSV zips (`Debian/all.zip` …), directories of records and
//! single records. Their contents are outside input: every entry is capped
//! in size, and so are the number of entries and the total decompressed
//! size (a zip bomb stops at the first ceiling, with a message naming it).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Advisory, Builder, Database, Entry, Meta, SourceMeta, osv};

/// The file's name inside the store directory.
pub const FILE: &str = "osv-db.json.gz";
/// The exploit data (KEV, EPSS) beside it.
pub const EXPLOITS_FILE: &str = "exploits.json.gz";
/// Bump when the stored layout changes: an older file is then "outdated,
/// run db update" instead of a parse error.
pub const FORMAT: u32 = 1;
/// Bump when what an image's cached reading holds changes: older entries
/// are then read again. 2: the application's packages (PyPI, npm). 3: every
/// ecosystem (Go, crates.io, Maven, RPM), file owners, layers. 4: a Go
/// program's main module when it was built outside module mode.
pub const CACHE_FORMAT: u32 = 4;
/// A single OSV record larger than this (decompressed) is not a record.
pub const MAX_RECORD_BYTES: u64 = 16 << 20;
/// Decompressed bytes one import may read in all.
pub const MAX_TOTAL_BYTES: u64 = 8 << 30;
/// Entries one import may read in all.
pub const MAX_ENTRIES: usize = 2_000_000;
/// Older than this, the window and `db status` say the data is stale.
pub const STALE_DAYS: i64 = 7;

/// Why the database could not be read, written or fetched.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    /// A file is not what it should be.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    #[error(
        "{path}: {what} exceeds the ceiling of {limit} — not a vulnerability database (a zip bomb?); nothing was imported"
    )]
    /// A ceiling stopped the read.
    TooBig {
        /// The file.
        path: PathBuf,
        /// Which ceiling.
        what: String,
        /// The ceiling's value.
        limit: String,
    },
    #[error(
        "no vulnerability database yet: run `shipshape db update` (or `shipshape db import FILE`)"
    )]
    /// No database yet.
    Missing,
    #[error(
        "the vulnerability database at {0} was written by another version of shipshape: run `shipshape db update`"
    )]
    /// The database was written by another version of shipshape.
    Outdated(PathBuf),
    /// A download failed.
    #[error("{0}")]
    Download(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    meta: Meta,
    advisories: Vec<Advisory>,
    /// (ecosystem, package, entries).
    packages: Vec<(String, String, Vec<Entry>)>,
}

/// Only the head of the file, for `status` (the rest is skipped).
#[derive(Deserialize)]
struct Head {
    format: u32,
    meta: Meta,
}

/// Where the database lives.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// `<cache dir>/shipshape/vulndb` (`~/.cache/shipshape/vulndb`).
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape").map(|d| d.cache_dir().join("vulndb"))
    }

    /// The store in this folder.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// What is loaded and from where, without loading the index.
    pub fn status(&self) -> Result<Meta, StoreError> {
        let path = self.path();
        let reader = self.open_gz(&path)?;
        let head: Head = serde_json::from_reader(reader).map_err(|e| StoreError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if head.format != FORMAT {
            return Err(StoreError::Outdated(path));
        }
        Ok(head.meta)
    }

    fn open_gz(&self, path: &Path) -> Result<impl Read, StoreError> {
        match std::fs::File::open(path) {
            Ok(f) => Ok(flate2::read::GzDecoder::new(std::io::BufReader::new(f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StoreError::Missing),
            Err(e) => Err(io(path)(e)),
        }
    }

    /// Load the whole database.
    pub fn load(&self) -> Result<Database, StoreError> {
        let path = self.path();
        let reader = self.open_gz(&path)?;
        let stored: Stored = serde_json::from_reader(reader).map_err(|e| {
            if e.is_data() {
                StoreError::Outdated(path.clone())
            } else {
                StoreError::Invalid {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            }
        })?;
        if stored.format != FORMAT {
            return Err(StoreError::Outdated(path));
        }
        let n = stored.advisories.len();
        let mut index: HashMap<String, HashMap<String, Vec<Entry>>> = HashMap::new();
        for (eco, pkg, entries) in stored.packages {
            if entries.iter().any(|e| e.advisory as usize >= n) {
                return Err(StoreError::Invalid {
                    path,
                    reason: "an entry points past the advisories (damaged)".into(),
                });
            }
            index.entry(eco).or_default().insert(pkg, entries);
        }
        let mut db = Database::from_parts(stored.meta, stored.advisories, index);
        db.exploits = self.load_exploits()?;
        db.meta.exploits = db.exploits.describe();
        Ok(db)
    }

    /// When the database and the exploit data were last written (what a
    /// running window compares to notice an import from elsewhere).
    pub fn disk_stamp(&self) -> (Option<std::time::SystemTime>, Option<std::time::SystemTime>) {
        let at = |f: &str| {
            std::fs::metadata(self.dir.join(f))
                .and_then(|m| m.modified())
                .ok()
        };
        (at(FILE), at(EXPLOITS_FILE))
    }

    /// The exploit data (KEV, EPSS); empty when none was imported.
    pub fn load_exploits(&self) -> Result<super::exploits::Exploits, StoreError> {
        let path = self.dir.join(EXPLOITS_FILE);
        match self.open_gz(&path) {
            Ok(r) => serde_json::from_reader(r).map_err(|e| StoreError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            }),
            Err(StoreError::Missing) => Ok(Default::default()),
            Err(e) => Err(e),
        }
    }

    /// Write the exploit data, replacing the old file atomically.
    pub fn save_exploits(&self, x: &super::exploits::Exploits) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(EXPLOITS_FILE);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gz, x).map_err(|e| StoreError::Invalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let bytes = gz.finish().map_err(io(&self.dir))?;
        crate::report::write::write_atomic(&path, &bytes).map_err(|e| StoreError::Io {
            path,
            source: std::io::Error::other(e.reason),
        })
    }

    /// Import a KEV catalogue or an EPSS score file (`origin` is where it
    /// came from, for `db status`): it replaces the stored part of its
    /// kind, the other stays. Returns what is stored now.
    pub fn import_exploits(
        &self,
        bytes: &[u8],
        origin: &str,
    ) -> Result<super::exploits::Exploits, StoreError> {
        use super::exploits::{self, Kind};
        let invalid = |reason: String| StoreError::Invalid {
            path: PathBuf::from(origin),
            reason,
        };
        let bytes = exploits::unpack(bytes).map_err(invalid)?;
        let mut x = self.load_exploits().unwrap_or_default();
        let kind = exploits::sniff(&bytes).ok_or_else(|| {
            invalid("neither CISA's KEV catalogue nor FIRST's EPSS scores".into())
        })?;
        let label = match kind {
            Kind::Kev => {
                let (v, kev) = exploits::parse_kev(&bytes).map_err(invalid)?;
                x.kev = kev;
                x.kev_version = v;
                "KEV"
            }
            Kind::Epss => {
                let (v, epss) = exploits::parse_epss(&bytes).map_err(invalid)?;
                x.epss = epss;
                x.epss_version = v;
                "EPSS"
            }
        };
        x.sources.retain(|s| !s.starts_with(label));
        x.sources.push(format!("{label}: {origin}"));
        self.save_exploits(&x)?;
        Ok(x)
    }

    /// Write `db`, replacing the old file atomically.
    pub fn save(&self, db: &Database) -> Result<(), StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let (advisories, index) = db.parts();
        let mut packages: Vec<(String, String, Vec<Entry>)> = index
            .iter()
            .flat_map(|(eco, pkgs)| {
                pkgs.iter()
                    .map(move |(p, e)| (eco.clone(), p.clone(), e.clone()))
            })
            .collect();
        packages.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        let stored = Stored {
            format: FORMAT,
            meta: db.meta.clone(),
            advisories: advisories.to_vec(),
            packages,
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gz, &stored).map_err(|e| StoreError::Invalid {
            path: self.path(),
            reason: e.to_string(),
        })?;
        let bytes = gz.finish().map_err(io(&self.dir))?;
        crate::report::write::write_atomic(&self.path(), &bytes).map_err(|e| StoreError::Io {
            path: self.path(),
            source: std::io::Error::other(e.reason),
        })
    }

    /// Import files (OSV zips, record files, directories of either) into a
    /// new database, keeping the old data for ecosystems the inputs do not
    /// cover, and replace the stored one. Returns the new database.
    pub fn import(&self, inputs: &[PathBuf], now: DateTime<Utc>) -> Result<Database, StoreError> {
        let mut imp = Import::default();
        for input in inputs {
            imp.path(input)?;
        }
        if imp.builder.records() == 0 {
            let left = if imp.left_out.is_empty() {
                String::new()
            } else {
                format!("; left out: {}", imp.left_out.join(", "))
            };
            return Err(StoreError::Invalid {
                path: inputs.first().cloned().unwrap_or_default(),
                reason: format!(
                    "no Debian, Ubuntu or Alpine records found ({} entries were not OSV records, {} were of other ecosystems){left}",
                    imp.builder.db.meta.unreadable, imp.builder.db.meta.skipped_unknown
                ),
            });
        }
        imp.builder.db.meta.left_out = std::mem::take(&mut imp.left_out);
        if let Ok(old) = self.load() {
            imp.builder.keep_others(&old);
        }
        let db = imp.builder.finish(now);
        self.save(&db)?;
        Ok(db)
    }
}

/// Reading inputs with ceilings.
#[derive(Default)]
pub struct Import {
    /// The database being built.
    pub builder: Builder,
    /// What a folder held that was not read, and why.
    pub left_out: Vec<String>,
    entries: usize,
    total: u64,
}

/// Folders below an imported folder that are walked.
pub const MAX_DEPTH: usize = 4;

fn is_input(p: &Path) -> bool {
    p.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json") || x.eq_ignore_ascii_case("zip"))
}

impl Import {
    /// A zip, a `.json` record, or a directory of those: records and zips
    /// at any depth (at most [`MAX_DEPTH`] folders down, symlinked folders
    /// not followed), and a mirror of the OSV bucket — one folder per
    /// ecosystem holding its `all.zip` — of which the ecosystems shipshape
    /// matches are read and the others named in [`Import::left_out`].
    pub fn path(&mut self, p: &Path) -> Result<(), StoreError> {
        self.walk(p, 0)
    }

    fn walk(&mut self, p: &Path, depth: usize) -> Result<(), StoreError> {
        let meta = std::fs::metadata(p).map_err(io(p))?;
        if !meta.is_dir() {
            return self.file(p);
        }
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for e in std::fs::read_dir(p).map_err(io(p))?.filter_map(Result::ok) {
            let path = e.path();
            // A symlinked folder could loop; symlinked files are fine.
            match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => dirs.push(path),
                Ok(m) if m.file_type().is_symlink() && path.is_dir() => {
                    self.left_out
                        .push(format!("{} (a symbolic link to a folder)", path.display()));
                }
                Ok(_) if is_input(&path) => files.push(path),
                _ => {}
            }
        }
        files.sort();
        dirs.sort();
        for f in files {
            self.file(&f)?;
        }
        for d in dirs {
            let all = d.join("all.zip");
            if all.is_file() {
                // `<bucket>/Debian/all.zip`, `<bucket>/PyPI/all.zip`, …
                let eco = d
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let base = eco.split(':').next().unwrap_or_default();
                if osv::is_known(base) {
                    self.file(&all)?;
                } else {
                    self.left_out.push(format!(
                        "{} (shipshape does not match {eco} packages)",
                        all.display()
                    ));
                }
            } else if depth < MAX_DEPTH {
                self.walk(&d, depth + 1)?;
            } else {
                self.left_out.push(format!(
                    "{} (more than {MAX_DEPTH} folders deep)",
                    d.display()
                ));
            }
        }
        Ok(())
    }

    /// One zip or record file.
    fn file(&mut self, p: &Path) -> Result<(), StoreError> {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let before = self.builder.records();
        // Regular files only (a FIFO named `x.json` is refused, not waited on).
        let f = crate::file::open(p).map_err(io(p))?;
        if name.to_ascii_lowercase().ends_with(".zip") {
            self.zip(std::io::BufReader::new(f), p)?;
        } else {
            self.record(f, p, &name)?;
        }
        // A downloaded `Debian/all.zip` is named by its folder.
        let label = if name == "all.zip" {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(name)
        } else {
            name
        };
        self.builder.source(SourceMeta {
            name: label,
            origin: p.display().to_string(),
            records: self.builder.records() - before,
        });
        Ok(())
    }

    /// Every `.json` entry of a zip.
    pub fn zip<R: std::io::Read + std::io::Seek>(
        &mut self,
        reader: R,
        path: &Path,
    ) -> Result<(), StoreError> {
        let mut zip = zip::ZipArchive::new(reader).map_err(|e| StoreError::Invalid {
            path: path.into(),
            reason: format!("not a zip archive: {e}"),
        })?;
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).map_err(|e| StoreError::Invalid {
                path: path.into(),
                reason: format!("entry {i}: {e}"),
            })?;
            if entry.is_dir() || !entry.name().to_ascii_lowercase().ends_with(".json") {
                continue;
            }
            let name = entry.name().to_string();
            // The zip crate checks each entry's CRC as it is read.
            self.record(&mut entry, path, &name)?;
        }
        Ok(())
    }

    /// One OSV record, read with ceilings.
    fn record(&mut self, reader: impl Read, path: &Path, name: &str) -> Result<(), StoreError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(StoreError::TooBig {
                path: path.into(),
                what: "the number of entries".into(),
                limit: format!("{MAX_ENTRIES}"),
            });
        }
        let mut buf = Vec::new();
        reader
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| StoreError::Invalid {
                path: path.into(),
                reason: format!("{name}: {e} (a damaged download?)"),
            })?;
        if buf.len() as u64 > MAX_RECORD_BYTES {
            return Err(StoreError::TooBig {
                path: path.into(),
                what: format!("entry {name} (decompressed)"),
                limit: "16 MiB".into(),
            });
        }
        self.total += buf.len() as u64;
        if self.total > MAX_TOTAL_BYTES {
            return Err(StoreError::TooBig {
                path: path.into(),
                what: "the total decompressed size".into(),
                limit: "8 GiB".into(),
            });
        }
        match serde_json::from_slice::<osv::Record>(&buf) {
            Ok(r) if !r.id.is_empty() => {
                self.builder.add(r);
            }
            _ => self.builder.unreadable(),
        }
        Ok(())
    }
}

/// What was read from images, kept on disk by image id. An image id is
/// the hash of its content, so what was read from it never changes: a
/// second scan reads no image files at all.
#[derive(Debug, Clone)]
pub struct ImageCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Cached {
    format: u32,
    packages: crate::model::packages::PackageScan,
    special: crate::model::packages::SpecialFiles,
}

impl ImageCache {
    /// Beside the database: `<store>/images/`.
    pub fn of(store: &Store) -> Self {
        Self {
            dir: store.dir().join("images"),
        }
    }

    fn path(&self, image_id: &str) -> Option<PathBuf> {
        let hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
        // Only real ids name files: nothing an engine says can reach
        // another path.
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.dir.join(format!("{hex}.json")))
    }

    /// The cached package scan of an image, if it is cached in this format.
    pub fn get(
        &self,
        image_id: &str,
    ) -> Option<(
        crate::model::packages::PackageScan,
        crate::model::packages::SpecialFiles,
    )> {
        let text = std::fs::read(self.path(image_id)?).ok()?;
        let c: Cached = serde_json::from_slice(&text).ok()?;
        (c.format == CACHE_FORMAT).then_some((c.packages, c.special))
    }

    /// Caches an image's package scan.
    pub fn put(
        &self,
        image_id: &str,
        packages: &crate::model::packages::PackageScan,
        special: &crate::model::packages::SpecialFiles,
    ) {
        let Some(path) = self.path(image_id) else {
            return;
        };
        let _ = std::fs::create_dir_all(&self.dir);
        let c = Cached {
            format: CACHE_FORMAT,
            packages: packages.clone(),
            special: special.clone(),
        };
        if let Ok(bytes) = serde_json::to_vec(&c) {
            let _ = crate::report::write::write_atomic(&path, &bytes);
        }
    }

    /// Fill `readings` with what the cache has for these image ids.
    pub fn fill<'a>(&self, readings: &mut super::Readings, ids: impl IntoIterator<Item = &'a str>) {
        for id in ids {
            if !readings.images.contains_key(id)
                && let Some(r) = self.get(id)
            {
                readings.images.insert(id.to_string(), (r.0.into(), r.1));
            }
        }
    }

    /// Keep what `readings` has that the cache does not.
    pub fn keep(&self, readings: &super::Readings) {
        for (id, (p, s)) in &readings.images {
            if self.path(id).is_some_and(|p| !p.exists()) {
                self.put(id, p, s);
            }
        }
    }
}

/// "3 days ago (2026-11-28 10:00 UTC)", and whether that is stale.
pub fn age(meta: &Meta, now: DateTime<Utc>) -> (String, bool) {
    match meta.built_at {
        Some(t) => {
            let days = (now - t).num_days();
            let when = match days {
                0 => "today".to_string(),
                1 => "yesterday".to_string(),
                d => format!("{d} days ago"),
            };
            (
                format!("{when} ({})", t.format("%Y-%m-%d %H:%M UTC")),
                days > STALE_DAYS,
            )
        }
        None => ("at an unknown time".into(), true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let f = std::fs::File::create(path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap();
    }

    const DEB: &str = r#"{"id":"DEBIAN-CVE-2024-1","upstream":["CVE-2024-1"],"affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.13-1~deb12u1"}]}]}]}"#;
    const ALP: &str = r#"{"id":"ALPINE-CVE-2024-2","upstream":["CVE-2024-2"],"affected":[{"package":{"ecosystem":"Alpine:v3.22","name":"busybox"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.37.0-r1"}]}]}]}"#;

    #[test]
    fn import_save_load_and_status_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("Debian.zip");
        write_zip(
            &z,
            &[
                ("DEBIAN-CVE-2024-1.json", DEB.as_bytes()),
                ("junk.json", b"not json"),
                (
                    "HSEC-1.json",
                    br#"{"id":"HSEC-1","affected":[{"package":{"ecosystem":"Hackage","name":"x"}}]}"#,
                ),
                ("README.txt", b"ignored"),
            ],
        );
        let store = Store::at(dir.path().join("db"));
        assert!(matches!(store.status(), Err(StoreError::Missing)));
        let db = store.import(std::slice::from_ref(&z), Utc::now()).unwrap();
        assert_eq!(db.meta.records, 1);
        assert_eq!(db.meta.unreadable, 1);
        assert_eq!(db.meta.skipped_unknown, 1);
        let meta = store.status().unwrap();
        assert_eq!(meta.ecosystems.get("Debian:12"), Some(&1));
        let loaded = store.load().unwrap();
        assert!(loaded.has_ecosystem("Debian:12"));
        assert_eq!(loaded.entries(), 1);

        // Importing Alpine keeps Debian; re-importing Debian replaces it.
        let a = dir.path().join("alpine.json");
        std::fs::write(&a, ALP).unwrap();
        let db = store.import(&[a], Utc::now()).unwrap();
        assert!(db.has_ecosystem("Debian:12") && db.has_ecosystem("Alpine:v3.22"));
        assert_eq!(db.meta.records, 2);
    }

    /// A mirror of the OSV bucket (`gsutil -m cp -r gs://osv-vulnerabilities/…`):
    /// one folder per ecosystem, each with its `all.zip`. Before, a folder
    /// was read one level deep and this said "no records found".
    #[test]
    fn an_osv_bucket_mirror_is_imported_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bucket = dir.path().join("osv");
        for (eco, name, rec) in [
            ("Debian", "DEBIAN-CVE-2024-1.json", DEB),
            ("Alpine", "ALPINE-CVE-2024-2.json", ALP),
            (
                "Hackage",
                "HSEC-1.json",
                r#"{"id":"HSEC-1","affected":[{"package":{"ecosystem":"Hackage","name":"x"}}]}"#,
            ),
        ] {
            std::fs::create_dir_all(bucket.join(eco)).unwrap();
            write_zip(&bucket.join(eco).join("all.zip"), &[(name, rec.as_bytes())]);
        }
        // Records further down are read too; a folder that links back up
        // is not followed.
        let deep = bucket.join("extra/ubuntu");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(
            deep.join("USN-1.json"),
            r#"{"id":"USN-1","upstream":["CVE-2024-3"],"affected":[{"package":{"ecosystem":"Ubuntu:22.04:LTS","name":"bash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"5.1-6ubuntu1.1"}]}]}]}"#,
        )
        .unwrap();
        std::os::unix::fs::symlink(&bucket, deep.join("loop")).unwrap();
        let store = Store::at(dir.path().join("db"));
        let db = store
            .import(std::slice::from_ref(&bucket), Utc::now())
            .unwrap();
        assert_eq!(db.meta.records, 3, "{:?}", db.meta);
        for eco in ["Debian:12", "Alpine:v3.22", "Ubuntu:22.04:LTS"] {
            assert!(db.has_ecosystem(eco), "{eco}: {:?}", db.meta.ecosystems);
        }
        // Each zip is a source named by its folder; Hackage's was not opened.
        let names: Vec<&str> = db.meta.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Alpine", "Debian", "USN-1.json"], "{names:?}");
        assert_eq!(db.meta.skipped_unknown, 0);
        assert!(
            db.meta
                .left_out
                .iter()
                .any(|l| l.contains("Hackage/all.zip") && l.contains("does not match Hackage")),
            "{:?}",
            db.meta.left_out
        );
        assert!(
            db.meta.left_out.iter().any(|l| l.contains("symbolic link")),
            "{:?}",
            db.meta.left_out
        );
        // What a status read says survives the round trip.
        assert_eq!(store.status().unwrap().left_out, db.meta.left_out);
    }

    #[test]
    fn a_failed_import_leaves_the_old_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path());
        let good = dir.path().join("good.json");
        std::fs::write(&good, DEB).unwrap();
        store.import(&[good], Utc::now()).unwrap();
        let before = std::fs::read(store.path()).unwrap();
        let bad = dir.path().join("bad.zip");
        std::fs::write(&bad, b"PK\x03\x04 truncated").unwrap();
        let e = store.import(&[bad], Utc::now()).unwrap_err();
        assert!(e.to_string().contains("not a zip archive"), "{e}");
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "{}").unwrap();
        assert!(store.import(&[empty], Utc::now()).is_err());
        assert_eq!(std::fs::read(store.path()).unwrap(), before);
    }

    /// A zip bomb: one entry that inflates past the per-record ceiling.
    #[test]
    fn a_zip_bomb_stops_at_the_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let z = dir.path().join("bomb.zip");
        let f = std::fs::File::create(&z).unwrap();
        let mut w = zip::ZipWriter::new(f);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        w.start_file("bomb.json", opts).unwrap();
        let zeros = vec![b' '; 1 << 20];
        for _ in 0..64 {
            w.write_all(&zeros).unwrap();
        }
        w.finish().unwrap();
        assert!(
            std::fs::metadata(&z).unwrap().len() < 1 << 20,
            "64 MiB packed small"
        );
        let store = Store::at(dir.path().join("db"));
        let e = store.import(&[z], Utc::now()).unwrap_err();
        assert!(matches!(e, StoreError::TooBig { .. }), "{e}");
        assert!(e.to_string().contains("16 MiB"), "{e}");
        assert!(matches!(store.status(), Err(StoreError::Missing)));
    }

    #[test]
    fn age_says_when_it_is_stale() {
        let now = Utc::now();
        let m = Meta {
            built_at: Some(now - chrono::Duration::days(9)),
            ..Meta::default()
        };
        let (text, stale) = age(&m, now);
        assert!(text.starts_with("9 days ago"), "{text}");
        assert!(stale);
        let fresh = Meta {
            built_at: Some(now),
            ..Meta::default()
        };
        assert!(!age(&fresh, now).1);
    }
}
