//! The RPM package database, read from its bytes: the SQLite
//! `rpmdb.sqlite` of rpm 4.16 and later (RHEL 9, UBI, Fedora, Amazon Linux
//! 2023), the BerkeleyDB hash `Packages` of older releases (RHEL 7 and 8,
//! CentOS, Amazon Linux 2) and the NDB `Packages.db` SUSE uses. Pure:
//! bytes in, packages out; the reading is `sources::docker::packages`.
//!
//! Each database stores one rpm *header* per installed package; the three
//! formats differ only in how the headers are found ([`sqlite`], [`bdb`],
//! [`ndb`]). Everything here was written by the image's author: every
//! offset is checked against the bytes there are, every chain of pages is
//! bounded by the pages the file has and visited once, and a header that
//! does not parse is skipped and counted, never a panic (fuzz target
//! `fuzz::rpm_database`).

pub mod bdb;
pub mod ndb;
pub mod sqlite;

use crate::model::packages::{Ecosystem, Package};

/// The most packages read from one database (a full Fedora workstation
/// has about 3,000).
pub const MAX_PACKAGES: usize = 100_000;

/// The most index entries one header may have (rpm's own limit).
const MAX_TAGS: usize = 0xffff;

/// The longest text field kept, in characters.
const MAX_FIELD: usize = 256;

/// Which storage an RPM database uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `rpmdb.sqlite` (rpm 4.16+).
    Sqlite,
    /// BerkeleyDB hash `Packages` (rpm up to 4.15).
    BerkeleyDb,
    /// rpm's own `Packages.db` (SUSE).
    Ndb,
}

impl Format {
    /// The database file's name in `/var/lib/rpm` (or
    /// `/usr/lib/sysimage/rpm`).
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Sqlite => "rpmdb.sqlite",
            Self::BerkeleyDb => "Packages",
            Self::Ndb => "Packages.db",
        }
    }

    /// Every format, in the order they are looked for (newest first).
    pub const ALL: [Format; 3] = [Format::Sqlite, Format::Ndb, Format::BerkeleyDb];
}

/// Why a database could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpmError {
    /// Not a database of this format (wrong magic, impossible sizes).
    #[error("not an RPM {format} database: {why}")]
    NotADatabase {
        /// The format expected.
        format: &'static str,
        /// What did not fit.
        why: String,
    },
    /// A ceiling stopped the read.
    #[error("{what} is over the ceiling of {limit}; the rest was not read")]
    Ceiling {
        /// Which ceiling.
        what: &'static str,
        /// Its value.
        limit: String,
    },
}

/// One installed package as its rpm header describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RpmPackage {
    /// `NAME`.
    pub name: String,
    /// `EPOCH`, when the package has one.
    pub epoch: Option<u32>,
    /// `VERSION`.
    pub version: String,
    /// `RELEASE`.
    pub release: String,
    /// `ARCH`.
    pub arch: String,
    /// `SOURCERPM` (`openssl-3.0.7-24.el9.src.rpm`).
    pub source_rpm: String,
    /// `LICENSE`.
    pub license: String,
    /// `VENDOR`.
    pub vendor: String,
    /// Its executables and shared libraries (from `DIRNAMES`, `BASENAMES`
    /// and `DIRINDEXES`).
    pub files: Vec<String>,
}

impl RpmPackage {
    /// `[epoch:]version-release`, as advisories write it.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(e) if e > 0 => format!("{e}:{}-{}", self.version, self.release),
            _ => format!("{}-{}", self.version, self.release),
        }
    }

    /// The source package's name, from `SOURCERPM`
    /// (`openssl-3.0.7-24.el9.src.rpm` → `openssl`); the binary's own name
    /// when there is none.
    pub fn source_name(&self) -> String {
        let s = self
            .source_rpm
            .strip_suffix(".src.rpm")
            .or_else(|| self.source_rpm.strip_suffix(".nosrc.rpm"));
        // name-version-release: the last two dashes separate version and release.
        s.and_then(|s| s.rsplitn(3, '-').nth(2))
            .filter(|n| !n.is_empty())
            .map_or_else(|| self.name.clone(), str::to_string)
    }

    /// The shared package model: the binary name and its full version, the
    /// source package for matching (advisories name either).
    pub fn to_package(&self, path: &str) -> Package {
        let evr = self.evr();
        Package {
            name: self.name.clone(),
            version: evr.clone(),
            source: self.source_name(),
            source_version: evr,
            ecosystem: Ecosystem::Os,
            path: path.to_string(),
            license: self.license.clone(),
            ..Package::default()
        }
    }
}

/// What one database held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    /// The packages (without rpm's `gpg-pubkey` pseudo-packages).
    pub packages: Vec<RpmPackage>,
    /// Headers that did not parse, and why (the first few).
    pub skipped: Vec<String>,
}

/// The packages of a database of `format`, from its bytes.
pub fn read(format: Format, bytes: &[u8]) -> Result<Read, RpmError> {
    let blobs = match format {
        Format::Sqlite => sqlite::package_blobs(bytes)?,
        Format::BerkeleyDb => bdb::values(bytes)?,
        Format::Ndb => ndb::blobs(bytes)?,
    };
    let mut out = Read::default();
    let mut bad = 0usize;
    for blob in blobs {
        match header(&blob) {
            Ok(p) if p.name == "gpg-pubkey" => {}
            Ok(p) => out.packages.push(p),
            Err(why) => {
                bad += 1;
                if out.skipped.len() < 5 {
                    out.skipped.push(why);
                }
            }
        }
    }
    if bad > out.skipped.len() {
        out.skipped.push(format!(
            "and {} more headers that do not parse",
            bad - out.skipped.len()
        ));
    }
    out.packages
        .sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// rpm header tags this reads.
mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const VENDOR: u32 = 1011;
    pub const LICENSE: u32 = 1014;
    pub const ARCH: u32 = 1022;
    pub const SOURCERPM: u32 = 1044;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
}

/// The most files of one package kept.
const MAX_FILES: usize = 50_000;

/// rpm header data types this reads.
const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// One stored header ("header blob": entry count, data length, the index
/// entries, the data store), as the databases keep it. Needs `NAME`,
/// `VERSION` and `RELEASE`.
pub fn header(blob: &[u8]) -> Result<RpmPackage, String> {
    let il = be32(blob, 0).ok_or("a header shorter than 8 bytes")? as usize;
    let dl = be32(blob, 4).ok_or("a header shorter than 8 bytes")? as usize;
    if il == 0 || il > MAX_TAGS {
        return Err(format!("a header with {il} entries"));
    }
    let index_end = 8 + il * 16;
    let data = blob
        .get(index_end..)
        .and_then(|d| d.get(..dl))
        .ok_or_else(|| {
            format!(
                "a header that says {il} entries and {dl} data bytes in {} bytes",
                blob.len()
            )
        })?;
    let string = |offset: usize| -> Option<String> {
        let s = data.get(offset..)?;
        let end = s.iter().position(|&b| b == 0)?;
        Some(
            String::from_utf8_lossy(&s[..end])
                .chars()
                .take(MAX_FIELD)
                .collect(),
        )
    };
    let mut p = RpmPackage::default();
    // (offset, count) of the three file-list tags.
    let (mut dirindexes, mut basenames, mut dirnames) = (None, None, None);
    for i in 0..il {
        let at = 8 + i * 16;
        let (Some(t), Some(kind), Some(offset)) =
            (be32(blob, at), be32(blob, at + 4), be32(blob, at + 8))
        else {
            break;
        };
        let offset = offset as usize;
        let text = || match kind {
            TYPE_STRING | TYPE_I18NSTRING => string(offset),
            _ => None,
        };
        match t {
            tag::NAME => p.name = text().unwrap_or_default(),
            tag::VERSION => p.version = text().unwrap_or_default(),
            tag::RELEASE => p.release = text().unwrap_or_default(),
            tag::ARCH => p.arch = text().unwrap_or_default(),
            tag::SOURCERPM => p.source_rpm = text().unwrap_or_default(),
            tag::LICENSE => p.license = text().unwrap_or_default(),
            tag::VENDOR => p.vendor = text().unwrap_or_default(),
            tag::EPOCH if kind == TYPE_INT32 => p.epoch = be32(data, offset),
            tag::DIRINDEXES if kind == TYPE_INT32 => {
                dirindexes = be32(blob, at + 12).map(|c| (offset, c as usize))
            }
            tag::BASENAMES if kind == TYPE_STRING_ARRAY => {
                basenames = be32(blob, at + 12).map(|c| (offset, c as usize))
            }
            tag::DIRNAMES if kind == TYPE_STRING_ARRAY => {
                dirnames = be32(blob, at + 12).map(|c| (offset, c as usize))
            }
            _ => {}
        }
    }
    if let (Some((io, n)), Some((bo, nb)), Some((dofs, nd))) = (dirindexes, basenames, dirnames)
        && n == nb
        && n <= MAX_FILES
        && nd <= MAX_FILES
    {
        let strings = |mut at: usize, count: usize| -> Vec<String> {
            let mut out = Vec::with_capacity(count.min(4096));
            for _ in 0..count {
                let Some(rest) = data.get(at..) else { break };
                let Some(end) = rest.iter().position(|&b| b == 0) else {
                    break;
                };
                out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
                at += end + 1;
            }
            out
        };
        let (bases, dirs) = (strings(bo, nb), strings(dofs, nd));
        for (k, base) in bases.iter().enumerate() {
            let Some(d) = be32(data, io + 4 * k).and_then(|d| dirs.get(d as usize)) else {
                continue;
            };
            let path = format!("{d}{base}");
            if crate::model::packages::is_runnable(&path) {
                p.files.push(path);
            }
        }
    }
    if p.name.is_empty() || p.version.is_empty() || p.release.is_empty() {
        return Err(format!(
            "a header without a name, version or release ({:?} {:?} {:?})",
            p.name, p.version, p.release
        ));
    }
    Ok(p)
}

#[doc(hidden)]
/// A header blob with these (tag, type, value) entries: strings are
/// NUL-terminated in the data store, INT32s are 4-aligned big-endian.
pub fn blob(entries: &[(u32, &str)], epoch: Option<u32>) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data: Vec<u8> = Vec::new();
    let mut n = 0u32;
    if let Some(e) = epoch {
        index.extend(tag::EPOCH.to_be_bytes());
        index.extend(TYPE_INT32.to_be_bytes());
        index.extend((data.len() as u32).to_be_bytes());
        index.extend(1u32.to_be_bytes());
        data.extend(e.to_be_bytes());
        n += 1;
    }
    for (t, v) in entries {
        index.extend(t.to_be_bytes());
        index.extend(TYPE_STRING.to_be_bytes());
        index.extend((data.len() as u32).to_be_bytes());
        index.extend(1u32.to_be_bytes());
        data.extend(v.as_bytes());
        data.push(0);
        n += 1;
    }
    let mut out = Vec::new();
    out.extend(n.to_be_bytes());
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(data);
    out
}

/// A header blob of a package (`NAME`, `VERSION`, `RELEASE`, `ARCH`,
/// `SOURCERPM`): for tests and fuzz seeds.
#[doc(hidden)]
pub fn header_blob(name: &str, version: &str, release: &str, source_rpm: &str) -> Vec<u8> {
    blob(
        &[
            (tag::NAME, name),
            (tag::VERSION, version),
            (tag::RELEASE, release),
            (tag::ARCH, "x86_64"),
            (tag::SOURCERPM, source_rpm),
        ],
        None,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn pkg(name: &str, v: &str, r: &str, srpm: &str, epoch: Option<u32>) -> Vec<u8> {
        blob(
            &[
                (tag::NAME, name),
                (tag::VERSION, v),
                (tag::RELEASE, r),
                (tag::ARCH, "x86_64"),
                (tag::SOURCERPM, srpm),
                (tag::LICENSE, "OpenSSL and ASL 2.0"),
            ],
            epoch,
        )
    }

    #[test]
    fn a_header_gives_name_epoch_version_release_and_source() {
        let p = header(&pkg(
            "openssl-libs",
            "3.0.7",
            "24.el9",
            "openssl-3.0.7-24.el9.src.rpm",
            Some(1),
        ))
        .unwrap();
        assert_eq!(p.name, "openssl-libs");
        assert_eq!(p.evr(), "1:3.0.7-24.el9");
        assert_eq!(p.source_name(), "openssl");
        assert_eq!(p.license, "OpenSSL and ASL 2.0");
        let pk = p.to_package("/var/lib/rpm/rpmdb.sqlite");
        assert_eq!(
            (pk.name.as_str(), pk.source.as_str(), pk.version.as_str()),
            ("openssl-libs", "openssl", "1:3.0.7-24.el9")
        );
        // No epoch, and a source name with dashes of its own.
        let q = header(&pkg(
            "python3-libs",
            "3.9.18",
            "1.el9_3",
            "python3.9-3.9.18-1.el9_3.src.rpm",
            None,
        ))
        .unwrap();
        assert_eq!(q.evr(), "3.9.18-1.el9_3");
        assert_eq!(q.source_name(), "python3.9");
        let r = RpmPackage {
            name: "x".into(),
            source_rpm: "weird".into(),
            ..Default::default()
        };
        assert_eq!(r.source_name(), "x");
    }

    #[test]
    fn broken_headers_are_errors_not_panics() {
        let good = pkg("a", "1", "1", "a-1-1.src.rpm", None);
        for cut in 0..good.len() {
            let _ = header(&good[..cut]);
        }
        assert!(header(&good[..good.len() - 1]).is_err());
        // Offsets past the data store.
        let mut bad = good.clone();
        bad[8 + 8..8 + 12].copy_from_slice(&9999u32.to_be_bytes());
        let _ = header(&bad);
        // A count that would overflow.
        let mut huge = good.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(header(&huge).is_err());
        assert!(header(&blob(&[(tag::NAME, "only-a-name")], None)).is_err());
    }
}

/// The fixtures of `scripts/make-rpm-fixtures.sh`: databases written by
/// rpm itself (and BerkeleyDB's `db_load`, read back by rpm), against the
/// list rpm reads from them.
#[cfg(test)]
mod fixtures {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/rpm")
                .join(name),
        )
        .unwrap()
    }

    fn listed(r: &Read) -> String {
        let mut lines: Vec<String> = r
            .packages
            .iter()
            .map(|p| {
                format!(
                    "{} {} {} {} {} {}",
                    p.name,
                    p.epoch.map_or("(none)".to_string(), |e| e.to_string()),
                    p.version,
                    p.release,
                    p.source_rpm,
                    p.license
                )
            })
            .collect();
        lines.sort();
        lines.join("\n") + "\n"
    }

    #[test]
    fn sqlite_and_berkeley_db_read_as_rpm_reads_them() {
        let expected = String::from_utf8(fixture("expected.txt")).unwrap();
        for (format, file) in [
            (Format::Sqlite, "rpmdb.sqlite"),
            (Format::BerkeleyDb, "Packages"),
        ] {
            let r = read(format, &fixture(file)).unwrap();
            assert_eq!(listed(&r), expected, "{file}");
            assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        }
    }

    #[test]
    fn truncated_and_wrong_files_stop_with_a_reason() {
        for (format, file) in [
            (Format::Sqlite, "rpmdb.sqlite"),
            (Format::BerkeleyDb, "Packages"),
        ] {
            let bytes = fixture(file);
            for cut in [
                0,
                10,
                100,
                511,
                4096,
                bytes.len() / 3,
                bytes.len() / 2,
                bytes.len() - 1,
            ] {
                // Never a panic; either fewer packages or an error.
                if let Ok(r) = read(format, &bytes[..cut]) {
                    assert!(r.packages.len() <= 8);
                }
            }
            // Every other format refuses this file.
            for other in Format::ALL.into_iter().filter(|f| *f != format) {
                assert!(read(other, &bytes).is_err(), "{other:?} read {file}");
            }
            // One flipped byte at a time through the first pages: no panic.
            let mut b = bytes.clone();
            for i in (0..b.len().min(16384)).step_by(7) {
                b[i] ^= 0xff;
                let _ = read(format, &b);
                b[i] ^= 0xff;
            }
        }
        // /dev/zero's first bytes.
        for format in Format::ALL {
            assert!(read(format, &vec![0u8; 1 << 16]).is_err());
        }
    }
}
