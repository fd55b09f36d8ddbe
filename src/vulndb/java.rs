//! Java archives (`.jar`, `.war`, `.ear`, and the jars nested in them, as
//! Spring Boot's `BOOT-INF/lib/` and a war's `WEB-INF/lib/` hold them): the
//! Maven coordinates their `META-INF/maven/<group>/<artifact>/pom.properties`
//! name. Pure: an archive's bytes (or file) in, packages out.
//!
//! An archive is hostile input: a zip of zips of zips (a "jar bomb"), an
//! entry that inflates a thousandfold, a million entries. So nesting stops
//! at [`MAX_DEPTH`], every inflated byte counts against one budget per
//! top-level archive ([`MAX_INFLATED`]), an entry is inflated only up to
//! its own ceiling whatever its header claims, and entries are counted;
//! each ceiling is named when it stops a read, and what was read before it
//! stands (fuzz target `fuzz::java_archive`).

use std::io::{Read, Seek};

use crate::model::packages::{Ecosystem, Package};

/// How deep archives inside archives are followed (a war's jar's jar).
pub const MAX_DEPTH: usize = 3;
/// The most bytes inflated for one top-level archive, nested ones included.
pub const MAX_INFLATED: u64 = 512 << 20;
/// The largest nested archive read into memory.
const MAX_NESTED: u64 = 128 << 20;
/// The most entries one archive may list.
const MAX_ENTRIES: usize = 100_000;
/// The largest `pom.properties` read.
const MAX_PROPERTIES: u64 = 64 << 10;
/// The longest coordinate kept.
const MAX_FIELD: usize = 256;

/// Whether a path names a Java archive.
pub fn is_archive(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".jar", ".war", ".ear", ".jpi", ".hpi"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// What one archive held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The packages, each with where it was found
    /// (`/app/app.jar!BOOT-INF/lib/jackson-databind-2.13.0.jar`).
    pub packages: Vec<Package>,
    /// What was not read, and why.
    pub skipped: Vec<String>,
}

/// The Maven coordinates of a `pom.properties`.
pub fn pom_properties(text: &str) -> Option<(String, String, String)> {
    let (mut g, mut a, mut v) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((k, val)) = line.split_once(['=', ':']) else {
            continue;
        };
        let val: String = val.trim().chars().take(MAX_FIELD).collect();
        match k.trim() {
            "groupId" => g = Some(val),
            "artifactId" => a = Some(val),
            "version" => v = Some(val),
            _ => {}
        }
    }
    let (g, a, v) = (g?, a?, v?);
    (!g.is_empty() && !a.is_empty() && !v.is_empty()).then_some((g, a, v))
}

struct Budget {
    inflated: u64,
}

impl Budget {
    /// Inflate `entry` up to `limit` bytes (and what is left of the budget).
    fn read(&mut self, entry: impl Read, limit: u64, what: &str) -> Result<Vec<u8>, String> {
        let left = MAX_INFLATED.saturating_sub(self.inflated);
        let cap = limit.min(left);
        let mut out = Vec::new();
        entry
            .take(cap + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("{what}: {e}"))?;
        self.inflated += out.len() as u64;
        if out.len() as u64 > cap {
            return Err(if cap < limit {
                format!(
                    "{what}: the archive inflates past the ceiling of {} MiB (the rest was not read)",
                    MAX_INFLATED >> 20
                )
            } else {
                format!(
                    "{what}: over the ceiling of {} KiB for it (not read)",
                    limit >> 10
                )
            });
        }
        Ok(out)
    }
}

/// The packages of the archive at `path` (its bytes or file in `r`).
pub fn archive<R: Read + Seek>(r: R, path: &str) -> Found {
    let mut found = Found::default();
    let mut budget = Budget { inflated: 0 };
    walk(r, path, 1, &mut budget, &mut found);
    found
        .packages
        .sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
    found
        .packages
        .dedup_by(|a, b| a.name == b.name && a.version == b.version && a.path == b.path);
    found
}

fn walk<R: Read + Seek>(r: R, path: &str, depth: usize, budget: &mut Budget, found: &mut Found) {
    let mut zip = match zip::ZipArchive::new(r) {
        Ok(z) => z,
        Err(e) => {
            found
                .skipped
                .push(format!("{path}: not a readable archive: {e}"));
            return;
        }
    };
    if zip.len() > MAX_ENTRIES {
        found.skipped.push(format!(
            "{path}: {} entries, over the ceiling of {MAX_ENTRIES} (not read)",
            zip.len()
        ));
        return;
    }
    let mut nested = Vec::new();
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else {
            continue;
        };
        let name = entry.name().to_string();
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            match budget.read(entry, MAX_PROPERTIES, &format!("{path}!{name}")) {
                Ok(bytes) => {
                    if let Some((g, a, v)) = pom_properties(&String::from_utf8_lossy(&bytes)) {
                        let coordinate = format!("{g}:{a}");
                        found.packages.push(Package {
                            name: coordinate.clone(),
                            version: v.clone(),
                            source: coordinate,
                            source_version: v,
                            ecosystem: Ecosystem::Maven,
                            path: path.to_string(),
                            ..Package::default()
                        });
                    }
                }
                Err(e) => found.skipped.push(e),
            }
        } else if is_archive(&name) && !entry.is_dir() {
            nested.push(i);
        }
    }
    for i in nested {
        let Ok(entry) = zip.by_index(i) else { continue };
        let inner = format!("{path}!{}", entry.name());
        if depth >= MAX_DEPTH {
            found.skipped.push(format!(
                "{inner}: nested more than {MAX_DEPTH} archives deep (not read)"
            ));
            continue;
        }
        match budget.read(entry, MAX_NESTED, &inner) {
            Ok(bytes) => walk(
                std::io::Cursor::new(bytes),
                &inner,
                depth + 1,
                budget,
                found,
            ),
            Err(e) => {
                found.skipped.push(e);
                if budget.inflated >= MAX_INFLATED {
                    return;
                }
            }
        }
    }
}

/// A zip of these (name, bytes) entries, deflated: for tests and fuzz
/// seeds (a jar is a zip).
#[doc(hidden)]
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        if w.start_file(*name, opts).is_err() || w.write_all(data).is_err() {
            break;
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn pom(g: &str, a: &str, v: &str) -> Vec<u8> {
        format!("#Generated by Maven\nversion={v}\ngroupId={g}\nartifactId={a}\n").into_bytes()
    }

    #[test]
    fn coordinates_of_a_fat_jar_and_its_libraries() {
        let lib = zip_of(&[(
            "META-INF/maven/com.fasterxml.jackson.core/jackson-databind/pom.properties",
            &pom("com.fasterxml.jackson.core", "jackson-databind", "2.13.0"),
        )]);
        let log = zip_of(&[(
            "META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
            &pom("org.apache.logging.log4j", "log4j-core", "2.14.1"),
        )]);
        let app = zip_of(&[
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            (
                "META-INF/maven/com.example/app/pom.properties",
                &pom("com.example", "app", "1.0.0"),
            ),
            ("BOOT-INF/lib/jackson-databind-2.13.0.jar", &lib),
            ("BOOT-INF/lib/log4j-core-2.14.1.jar", &log),
            ("BOOT-INF/classes/x.class", b"\xca\xfe\xba\xbe"),
        ]);
        let f = archive(std::io::Cursor::new(app), "/app/app.jar");
        let got: Vec<(&str, &str, &str)> = f
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("com.example:app", "1.0.0", "/app/app.jar"),
                (
                    "com.fasterxml.jackson.core:jackson-databind",
                    "2.13.0",
                    "/app/app.jar!BOOT-INF/lib/jackson-databind-2.13.0.jar"
                ),
                (
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    "/app/app.jar!BOOT-INF/lib/log4j-core-2.14.1.jar"
                ),
            ]
        );
        assert!(f.skipped.is_empty(), "{:?}", f.skipped);
    }

    #[test]
    fn a_jar_bomb_stops_at_a_named_ceiling() {
        // Four levels of zips: the fourth is not opened.
        let mut z = zip_of(&[(
            "META-INF/maven/g/deep/pom.properties",
            &pom("g", "deep", "1"),
        )]);
        for level in 0..4 {
            z = zip_of(&[
                (&format!("lib/level{level}.jar"), &z),
                (&format!("lib/level{level}b.jar"), &z),
            ]);
        }
        let f = archive(std::io::Cursor::new(z), "/bomb.jar");
        assert!(f.packages.is_empty());
        assert!(
            f.skipped
                .iter()
                .any(|s| s.contains("nested more than 3 archives deep")),
            "{:?}",
            f.skipped
        );
        // One entry that inflates past its ceiling.
        let big = vec![b'a'; (MAX_PROPERTIES + 10) as usize];
        let z = zip_of(&[("META-INF/maven/g/a/pom.properties", &big)]);
        let f = archive(std::io::Cursor::new(z), "/big.jar");
        assert!(
            f.skipped[0].contains("over the ceiling of 64 KiB"),
            "{:?}",
            f.skipped
        );
        // Not a zip at all.
        let f = archive(std::io::Cursor::new(b"PK\x03\x04 nope".to_vec()), "/x.jar");
        assert!(
            f.skipped[0].contains("not a readable archive"),
            "{:?}",
            f.skipped
        );
    }

    #[test]
    fn pom_properties_need_all_three() {
        assert_eq!(
            pom_properties("groupId = g\nartifactId: a\nversion=1.2\n"),
            Some(("g".into(), "a".into(), "1.2".into()))
        );
        assert_eq!(pom_properties("groupId=g\nversion=1\n"), None);
        assert_eq!(
            pom_properties("#groupId=g\nartifactId=a\nversion=1\n"),
            None
        );
    }
}
