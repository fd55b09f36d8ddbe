//! One catalogue of an image's application packages, whatever reads the
//! files: a reader offers each file's path, mode and size to [`keep`], hands
//! over what it was told to keep, and [`Catalog::finish`] says which
//! packages the files name — Python distributions, npm packages (and lock
//! files where no `node_modules` is installed), Go and Rust executables,
//! Java archives. The readers are `sources::docker` (through the engine's
//! archive API, or the image's layer directories on a local engine); this
//! module is pure.

use std::collections::BTreeMap;

use super::apps::{self, LANGUAGE_INSTALLERS, MAX_NODE_DEPTH};
use super::binaries::{self, At};
use super::{baked, java};
use crate::model::packages::{Ecosystem, Package};

/// The first bytes kept of a metadata file (`METADATA`, `package.json`):
/// names and versions come first, and a 100 MB file costs no memory.
pub const METADATA_BYTES: u64 = 256 << 10;
/// The largest npm lock file read.
pub const LOCK_BYTES: u64 = 32 << 20;
/// The largest executable or Java archive looked into.
pub const BINARY_BYTES: u64 = 2 << 30;
/// The most application packages kept per image (a real `node_modules`
/// holds a few thousand); past it the rest are counted and said.
pub const MAX_PACKAGES: usize = 100_000;
/// Executables smaller than this are scripts and stubs, not programs with
/// build information (the smallest Go program is over 1 MiB).
const MIN_BINARY: u64 = 4 << 10;

/// What a reader should do with one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing: let it stream past.
    No,
    /// Its first bytes, up to this many ([`Catalog::add_file`]).
    Head(u64),
    /// All of it, up to this many; larger is not read and said
    /// ([`Catalog::add_file`]).
    Whole(u64),
    /// Random access to it, up to this size ([`Catalog::add_random`]): an
    /// executable that may carry build information, or a Java archive.
    Random(u64),
}

pub use crate::model::text::ceiling;

/// Whether a path is an npm lock file of an application (not one shipped
/// inside a package).
pub fn is_npm_lock(path: &str) -> bool {
    (path.ends_with("/package-lock.json") || path.ends_with("/npm-shrinkwrap.json"))
        && !path.contains("/node_modules/")
}

/// What to keep of a regular file, from its path (as in the image:
/// `/usr/local/lib/…`), mode and size alone.
pub fn keep(path: &str, mode: u32, size: u64) -> Keep {
    if credential_too_large(path, size) {
        // Said by the reader (`Keep::Whole` over its ceiling).
        return Keep::Whole(baked::MAX_FILE);
    }
    if apps::is_python_file(path) || apps::is_npm_manifest(path) {
        Keep::Head(METADATA_BYTES)
    } else if is_npm_lock(path) {
        Keep::Whole(LOCK_BYTES)
    } else if (java::is_archive(path) && size <= BINARY_BYTES)
        || (mode & 0o111 != 0 && (MIN_BINARY..=BINARY_BYTES).contains(&size))
    {
        Keep::Random(BINARY_BYTES)
    } else if baked::wanted(path, size) {
        Keep::Whole(baked::MAX_FILE)
    } else {
        Keep::No
    }
}

/// A file named as a credential is (`.env`, `id_rsa`, `*.pem`, …) but too
/// large to be one: not read, and said.
fn credential_too_large(path: &str, size: u64) -> bool {
    size > baked::MAX_FILE && baked::credential_name(path) && baked::looked_at(path)
}

/// Whether a Python folder belongs to the OS's Python (`/usr/lib/python3*`),
/// whose distributions the OS package manager installed unless a language
/// installer says otherwise.
fn os_python(path: &str) -> bool {
    path.starts_with("/usr/lib/python")
}

/// The packages and notes collected so far.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Python metadata by distribution folder: (metadata path, bytes, layer).
    python: BTreeMap<String, (String, Vec<u8>, Option<usize>)>,
    /// `INSTALLER` contents by distribution folder.
    installers: BTreeMap<String, String>,
    /// Lock files: (path, bytes, layer).
    locks: Vec<(String, Vec<u8>, Option<usize>)>,
    packages: Vec<Package>,
    skipped: Vec<String>,
    os_owned: usize,
    /// Executables read, and how many carried build information.
    pub binaries: (usize, usize),
    /// Metadata files passed over at [`MAX_PACKAGES`].
    over: usize,
    /// Credentials found so far.
    secrets: crate::model::packages::SecretScan,
}

/// What the catalogue found.
pub type Found = apps::Found;

impl Catalog {
    /// A file kept as [`Keep::Head`] or [`Keep::Whole`], found in `layer`
    /// (when the reader knows it).
    pub fn add_file(&mut self, path: &str, layer: Option<usize>, bytes: &[u8]) {
        if baked::looked_at(path) {
            baked::add(&mut self.secrets, path, layer, bytes);
        }
        if self.packages.len() + self.python.len() >= MAX_PACKAGES && !path.ends_with("/INSTALLER")
        {
            self.over += 1;
            return;
        }
        if let Some(dir) = path.strip_suffix("/INSTALLER") {
            self.installers.insert(
                dir.to_string(),
                String::from_utf8_lossy(bytes).trim().to_ascii_lowercase(),
            );
        } else if apps::is_python_file(path) {
            let dir = path.strip_suffix("/METADATA").unwrap_or(path);
            self.python
                .insert(dir.to_string(), (path.to_string(), bytes.to_vec(), layer));
        } else if apps::is_npm_manifest(path) {
            if apps::node_depth(path) > MAX_NODE_DEPTH {
                self.skipped.push(format!(
                    "{path}: more than {MAX_NODE_DEPTH} nested node_modules (not read)"
                ));
                return;
            }
            match apps::npm_manifest(bytes) {
                Some((name, version, license)) => self.packages.push(Package {
                    source: name.clone(),
                    source_version: version.clone(),
                    name,
                    version,
                    ecosystem: Ecosystem::Npm,
                    path: path.to_string(),
                    license,
                    layer,
                }),
                None => self.skipped.push(format!(
                    "{path}: not a package manifest with a name and version"
                )),
            }
        } else if is_npm_lock(path) {
            self.locks.push((path.to_string(), bytes.to_vec(), layer));
        }
    }

    /// A file kept as [`Keep::Random`]: an executable (Go build
    /// information, `cargo auditable`) or a Java archive.
    pub fn add_random<F: At + std::io::Read + std::io::Seek>(
        &mut self,
        path: &str,
        layer: Option<usize>,
        mut f: F,
    ) {
        let with_layer = |mut p: Vec<Package>| {
            for x in &mut p {
                x.layer = layer;
            }
            p
        };
        if java::is_archive(path) {
            let found = java::archive(&mut f, path);
            self.packages.extend(with_layer(found.packages));
            self.skipped.extend(found.skipped);
            return;
        }
        let mut head = [0u8; 4];
        if f.len() < 4 || f.read_at(0, &mut head).is_err() || !binaries::is_elf(&head) {
            // A script, not a program: looked at for credentials.
            if baked::wanted(path, f.len()) {
                let mut bytes = vec![0u8; f.len() as usize];
                if f.read_at(0, &mut bytes).is_ok() {
                    baked::add(&mut self.secrets, path, layer, &bytes);
                }
            }
            return;
        }
        self.binaries.0 += 1;
        match binaries::packages(&f, path) {
            Ok(p) if p.is_empty() => {}
            Ok(p) => {
                self.binaries.1 += 1;
                self.packages.extend(with_layer(p));
            }
            Err(e) => self.skipped.push(format!("{path}: {e}")),
        }
    }

    /// A file a higher layer hides (removed or replaced), still in the
    /// image's lower layer: looked at for credentials only.
    pub fn add_hidden(&mut self, path: &str, layer: usize, bytes: &[u8]) {
        let before = self.secrets.found.len();
        baked::add(&mut self.secrets, path, Some(layer), bytes);
        for f in &mut self.secrets.found[before..] {
            f.kind
                .push_str(", removed by a later layer but still in the image");
        }
    }

    /// A file that was not read, and why (a ceiling, an I/O error).
    pub fn unread(&mut self, note: String) {
        self.skipped.push(note);
    }

    /// The packages, with what was not used and why.
    pub fn finish(mut self) -> Found {
        if self.over > 0 {
            self.skipped.push(format!(
                "more than {MAX_PACKAGES} application packages, over the ceiling: {} more \
                 metadata files were not read",
                self.over
            ));
        }
        for (dir, (path, bytes, layer)) in std::mem::take(&mut self.python) {
            if os_python(&dir) {
                let by = self.installers.get(&dir).map_or("", String::as_str);
                if !LANGUAGE_INSTALLERS.contains(&by) {
                    self.os_owned += 1;
                    continue;
                }
            }
            match apps::python_metadata(&String::from_utf8_lossy(&bytes)) {
                Some((name, version, license)) => self.packages.push(Package {
                    source: apps::pypi_name(&name),
                    source_version: version.clone(),
                    name,
                    version,
                    ecosystem: Ecosystem::PyPI,
                    path,
                    license,
                    layer,
                }),
                None => self
                    .skipped
                    .push(format!("{path}: no Name and Version in its metadata")),
            }
        }
        // A lock file counts only where its packages are not installed.
        for (path, bytes, layer) in std::mem::take(&mut self.locks) {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            let installed = format!("{dir}/node_modules/");
            if self
                .packages
                .iter()
                .any(|p| p.ecosystem == Ecosystem::Npm && p.path.starts_with(&installed))
            {
                continue;
            }
            match apps::npm_lock(&bytes, &path) {
                Ok(mut p) => {
                    for x in &mut p {
                        x.layer = layer;
                    }
                    self.packages.extend(p)
                }
                Err(e) => self.skipped.push(format!("{path}: {e}")),
            }
        }
        self.packages
            .sort_by(|a, b| (a.ecosystem, &a.path, &a.name).cmp(&(b.ecosystem, &b.path, &b.name)));
        Found {
            packages: self.packages,
            skipped: self.skipped,
            os_owned: self.os_owned,
            secrets: self.secrets,
        }
    }
}

/// The packages among `files` (full paths in the image, and contents):
/// [`Catalog`] over files already read.
pub fn collect<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> super::apps::Found {
    let mut c = Catalog::default();
    for (path, data) in files {
        c.add_file(path, None, data);
    }
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_owned_python_packages_are_left_to_the_os_and_deep_trees_stop() {
        let meta = b"Name: Six\nVersion: 1.16.0\n".as_slice();
        let files = [
            (
                "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                meta,
            ),
            (
                "/usr/lib/python3/dist-packages/idna-3.4.dist-info/METADATA",
                b"Name: idna\nVersion: 3.4\n".as_slice(),
            ),
            (
                "/usr/lib/python3/dist-packages/idna-3.4.dist-info/INSTALLER",
                b"pip\n".as_slice(),
            ),
            (
                "/usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
                meta,
            ),
        ];
        let f = collect(files);
        assert_eq!(f.os_owned, 1);
        let got: Vec<(&str, &str)> = f
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.source.as_str()))
            .collect();
        // The OS's folder keeps only what pip put there; elsewhere every
        // one counts, named as written and normalised for matching.
        assert_eq!(got, [("idna", "idna"), ("Six", "six")]);

        let deep = format!(
            "/app/{}package.json",
            "node_modules/a/".repeat(MAX_NODE_DEPTH + 1)
        );
        let ok = "/app/node_modules/a/package.json";
        let json = br#"{"name":"a","version":"1.0.0"}"#.as_slice();
        let f = collect([
            (deep.as_str(), json),
            (ok, json),
            ("/app/node_modules/b/package.json", b"{".as_slice()),
        ]);
        assert_eq!(f.packages.len(), 1);
        assert_eq!(f.packages[0].ecosystem, Ecosystem::Npm);
        assert_eq!(f.packages[0].path, ok);
        assert_eq!(f.skipped.len(), 2, "{:?}", f.skipped);
        assert!(f.skipped.iter().any(|s| s.contains("nested node_modules")));
    }

    #[test]
    fn what_is_kept_of_which_file() {
        let site = "/usr/local/lib/python3.12/site-packages";
        assert_eq!(
            keep(&format!("{site}/a-1.dist-info/METADATA"), 0o644, 10),
            Keep::Head(METADATA_BYTES)
        );
        assert_eq!(
            keep("/app/node_modules/a/package.json", 0o644, 10),
            Keep::Head(METADATA_BYTES)
        );
        assert_eq!(
            keep("/app/package-lock.json", 0o644, 10),
            Keep::Whole(LOCK_BYTES)
        );
        assert_eq!(
            keep("/app/node_modules/a/package-lock.json", 0o644, 10),
            Keep::No
        );
        assert_eq!(keep("/app/app.jar", 0o644, 10), Keep::Random(BINARY_BYTES));
        assert_eq!(
            keep("/usr/local/bin/api", 0o755, 5 << 20),
            Keep::Random(BINARY_BYTES)
        );
        assert_eq!(keep("/usr/local/bin/tiny.sh", 0o755, 100), Keep::No);
        assert_eq!(keep("/etc/passwd", 0o644, 5 << 20), Keep::No);
    }

    #[test]
    fn lock_files_count_only_without_node_modules() {
        let lock = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},
            "node_modules/lodash":{"version":"4.17.15","license":"MIT"}}}"#;
        let mut c = Catalog::default();
        c.add_file("/srv/package-lock.json", Some(2), lock);
        c.add_file("/app/package-lock.json", Some(3), lock);
        c.add_file(
            "/app/node_modules/lodash/package.json",
            Some(3),
            br#"{"name":"lodash","version":"4.17.21"}"#,
        );
        let f = c.finish();
        let got: Vec<(&str, &str, Option<usize>)> = f
            .packages
            .iter()
            .map(|p| (p.path.as_str(), p.version.as_str(), p.layer))
            .collect();
        assert_eq!(
            got,
            [
                ("/app/node_modules/lodash/package.json", "4.17.21", Some(3)),
                ("/srv/package-lock.json", "4.17.15", Some(2)),
            ]
        );
    }
}
