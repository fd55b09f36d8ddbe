//! The application's own packages inside an image — Python distributions
//! and npm packages — from their own metadata files. Pure: paths and bytes
//! in, packages out (the reading is `sources::docker::packages`).
//!
//! Everything here was written by the image's author: names, versions and
//! licences are bounded, odd bytes are kept as text, a file that does not
//! parse is skipped and said so, and nothing panics (fuzz target
//! `fuzz::app_packages`).

use crate::model::packages::{Ecosystem, Package};

/// How many nested `node_modules` levels are followed; deeper manifests
/// are skipped and counted (real trees stay under 10).
pub const MAX_NODE_DEPTH: usize = 32;

/// The longest name, version or licence kept, in characters.
const MAX_FIELD: usize = 256;

/// Installers whose packages are the application's, under an OS-owned
/// folder (`/usr/lib/python3*/…`); anything else there (Debian's `python3-*`,
/// Alpine's `py3-*`) belongs to the OS package manager, already counted.
pub const LANGUAGE_INSTALLERS: [&str; 6] = ["pip", "uv", "poetry", "pipenv", "conda", "pdm"];

fn field(s: &str) -> String {
    s.trim().chars().take(MAX_FIELD).collect()
}

/// PyPI's name normalisation (PEP 503): lower case, every run of `-`, `_`
/// and `.` one `-`. OSV's PyPI records use the project's own spelling, so
/// both sides are normalised before they meet.
pub fn pypi_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            dash = true;
        } else {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// `Name`, `Version` and licence of a core-metadata file (`METADATA`,
/// `PKG-INFO`): RFC 822 headers up to the first blank line. The licence is
/// `License-Expression`, else `License` (its first line), else the first
/// `License ::` classifier.
pub fn python_metadata(text: &str) -> Option<(String, String, String)> {
    let (mut name, mut version) = (None, None);
    let (mut expr, mut license, mut classifier) = (None, None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "name" if name.is_none() => name = Some(field(value)),
            "version" if version.is_none() => version = Some(field(value)),
            "license-expression" if expr.is_none() => expr = Some(field(value)),
            "license" if license.is_none() && !value.is_empty() && value != "UNKNOWN" => {
                license = Some(field(value))
            }
            "classifier" if classifier.is_none() => {
                if let Some(l) = value.strip_prefix("License ::") {
                    let l = l.rsplit("::").next().unwrap_or(l);
                    classifier = Some(field(l));
                }
            }
            _ => {}
        }
    }
    let (name, version) = (name?, version?);
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some((
        name,
        version,
        expr.or(license).or(classifier).unwrap_or_default(),
    ))
}

/// `name`, `version` and licence of an npm `package.json`. The licence is
/// `license` (a string, or the old `{ "type": … }`), else the types of
/// `licenses`.
pub fn npm_manifest(bytes: &[u8]) -> Option<(String, String, String)> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        name: Option<serde_json::Value>,
        version: Option<serde_json::Value>,
        license: Option<serde_json::Value>,
        licenses: Option<serde_json::Value>,
    }
    let m: Manifest = serde_json::from_slice(bytes).ok()?;
    let text = |v: &Option<serde_json::Value>| v.as_ref()?.as_str().map(field);
    let (name, version) = (text(&m.name)?, text(&m.version)?);
    if name.is_empty() || version.is_empty() {
        return None;
    }
    let license = match &m.license {
        Some(serde_json::Value::String(s)) => field(s),
        Some(serde_json::Value::Object(o)) => o
            .get("type")
            .and_then(|t| t.as_str())
            .map(field)
            .unwrap_or_default(),
        _ => match &m.licenses {
            Some(serde_json::Value::Array(a)) => field(
                &a.iter()
                    .filter_map(|l| l.get("type").and_then(|t| t.as_str()))
                    .collect::<Vec<_>>()
                    .join(" OR "),
            ),
            _ => String::new(),
        },
    };
    Some((name, version, license))
}

/// Whether a path names a Python distribution's metadata (or its
/// `INSTALLER`, which tells who installed it).
pub fn is_python_file(path: &str) -> bool {
    path.ends_with(".dist-info/METADATA")
        || path.ends_with(".dist-info/INSTALLER")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with(".egg-info")
}

/// Whether a path is a package's own `package.json` in a `node_modules`
/// tree (`node_modules/a/package.json`, `node_modules/@s/a/package.json`,
/// nested at any depth) — not a file of the package's own (`lib/package.json`).
pub fn is_npm_manifest(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let n = parts.len();
    if n < 3 || parts[n - 1] != "package.json" {
        return false;
    }
    parts[n - 3] == "node_modules"
        || (n >= 4 && parts[n - 4] == "node_modules" && parts[n - 3].starts_with('@'))
}

/// How many `node_modules` levels deep a path is.
pub fn node_depth(path: &str) -> usize {
    path.split('/').filter(|p| *p == "node_modules").count()
}

/// What one folder of an image held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// The packages, each with the path it was found at.
    pub packages: Vec<Package>,
    /// Files that were not used, and why (for the scan's notes).
    pub skipped: Vec<String>,
    /// Distributions left to the OS package manager (installed by it).
    pub os_owned: usize,
    /// Credentials found in the files looked at.
    pub secrets: crate::model::packages::SecretScan,
}

/// The most packages one lock file may list.
const MAX_LOCK_PACKAGES: usize = 200_000;

/// The packages an npm lock file (`package-lock.json`,
/// `npm-shrinkwrap.json`) pins: lockfile v2/v3's `packages` (keyed by
/// `node_modules/…` path; links and the root left out), else v1's nested
/// `dependencies`. Each is reported at the lock file's path.
pub fn npm_lock(bytes: &[u8], path: &str) -> Result<Vec<Package>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not a lock file: {e}"))?;
    let mut out = Vec::new();
    let mut push = |name: &str, version: &str, license: String| -> Result<(), String> {
        if out.len() >= MAX_LOCK_PACKAGES {
            return Err(format!(
                "over the ceiling of {MAX_LOCK_PACKAGES} packages (the rest was not read)"
            ));
        }
        if name.is_empty() || version.is_empty() {
            return Ok(());
        }
        out.push(Package {
            name: field(name),
            version: field(version),
            source: field(name),
            source_version: field(version),
            ecosystem: Ecosystem::Npm,
            path: path.to_string(),
            license,
            ..Package::default()
        });
        Ok(())
    };
    if let Some(pkgs) = v.get("packages").and_then(|p| p.as_object()) {
        for (key, p) in pkgs {
            let Some(rest) = key
                .rsplit("node_modules/")
                .next()
                .filter(|_| key.contains("node_modules/"))
            else {
                continue; // the root project
            };
            if p.get("link").and_then(|l| l.as_bool()) == Some(true) {
                continue;
            }
            let name = p.get("name").and_then(|n| n.as_str()).unwrap_or(rest);
            let version = p.get("version").and_then(|n| n.as_str()).unwrap_or("");
            let license = p
                .get("license")
                .and_then(|l| l.as_str())
                .map(field)
                .unwrap_or_default();
            push(name, version, license)?;
        }
    } else if let Some(deps) = v.get("dependencies").and_then(|d| d.as_object()) {
        // v1: nested; walked without recursion, bounded by the ceiling.
        let mut stack: Vec<(&String, &serde_json::Value)> = deps.iter().collect();
        while let Some((name, d)) = stack.pop() {
            let version = d.get("version").and_then(|v| v.as_str()).unwrap_or("");
            // A `file:` or git dependency has no registry version.
            if !version.contains(':') {
                push(name, version, String::new())?;
            }
            if let Some(inner) = d.get("dependencies").and_then(|d| d.as_object()) {
                stack.extend(inner.iter());
            }
        }
    } else {
        return Err("no packages or dependencies in it".into());
    }
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out.dedup_by(|a, b| a.name == b.name && a.version == b.version);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_metadata_of_a_real_wheel_and_of_odd_ones() {
        let real = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: Python HTTP for Humans.\n\
                    License: Apache 2.0\nClassifier: License :: OSI Approved :: Apache Software License\n\n\
                    Name: not-a-header\n";
        assert_eq!(
            python_metadata(real),
            Some(("requests".into(), "2.31.0".into(), "Apache 2.0".into()))
        );
        let expr =
            "Name: x\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: long text\n";
        assert_eq!(python_metadata(expr).unwrap().2, "MIT OR Apache-2.0");
        let classifier = "Name: x\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: BSD License\n";
        assert_eq!(python_metadata(classifier).unwrap().2, "BSD License");
        assert_eq!(
            python_metadata("Name: x\n\nVersion: 1\n"),
            None,
            "headers end at the blank line"
        );
        assert_eq!(python_metadata("Version: 1\n"), None);
        assert_eq!(python_metadata(""), None);
        let long = format!("Name: {}\nVersion: 1\n", "n".repeat(10_000));
        assert_eq!(python_metadata(&long).unwrap().0.len(), MAX_FIELD);
    }

    #[test]
    fn npm_manifests_old_and_new_licence_forms() {
        let m = br#"{"name":"lodash","version":"4.17.15","license":"MIT","main":"lodash.js"}"#;
        assert_eq!(
            npm_manifest(m),
            Some(("lodash".into(), "4.17.15".into(), "MIT".into()))
        );
        let old = br#"{"name":"a","version":"1.0.0","license":{"type":"BSD","url":"x"}}"#;
        assert_eq!(npm_manifest(old).unwrap().2, "BSD");
        let list =
            br#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#;
        assert_eq!(npm_manifest(list).unwrap().2, "MIT OR Apache-2.0");
        assert_eq!(npm_manifest(br#"{"name":"a"}"#), None);
        assert_eq!(npm_manifest(br#"{"name":"a","version":3}"#), None);
        assert_eq!(npm_manifest(b"{ not json"), None);
        assert_eq!(npm_manifest(b"[]"), None);
    }

    #[test]
    fn which_files_are_manifests() {
        for (p, yes) in [
            ("app/node_modules/lodash/package.json", true),
            ("node_modules/@xmldom/xmldom/package.json", true),
            ("node_modules/a/node_modules/b/package.json", true),
            ("node_modules/lodash/fp/package.json", false),
            ("app/package.json", false),
            ("node_modules/package.json", false),
            ("node_modules/@scope/package.json", true),
        ] {
            assert_eq!(is_npm_manifest(p), yes, "{p}");
        }
        assert!(is_python_file(
            "site-packages/requests-2.31.0.dist-info/METADATA"
        ));
        assert!(is_python_file("site-packages/six-1.16.0.egg-info/PKG-INFO"));
        assert!(!is_python_file("site-packages/requests/__init__.py"));
        assert_eq!(pypi_name("Django_REST.framework"), "django-rest-framework");
        assert_eq!(pypi_name("  PyYAML "), "pyyaml");
        assert_eq!(pypi_name("a--_b"), "a-b");
    }

    #[test]
    fn lock_files_of_each_version() {
        let v3 = br#"{"name":"app","lockfileVersion":3,"packages":{
            "":{"name":"app","version":"1.0.0"},
            "node_modules/lodash":{"version":"4.17.15","license":"MIT"},
            "node_modules/a/node_modules/minimist":{"version":"1.2.0"},
            "node_modules/@xmldom/xmldom":{"version":"0.8.3"},
            "node_modules/mine":{"resolved":"../mine","link":true}}}"#;
        let got: Vec<(String, String)> = npm_lock(v3, "/app/package-lock.json")
            .unwrap()
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect();
        assert_eq!(
            got,
            [
                ("@xmldom/xmldom".to_string(), "0.8.3".to_string()),
                ("lodash".to_string(), "4.17.15".to_string()),
                ("minimist".to_string(), "1.2.0".to_string()),
            ]
        );
        let v1 = br#"{"lockfileVersion":1,"dependencies":{
            "node-fetch":{"version":"2.6.0","dependencies":{"whatwg-url":{"version":"5.0.0"}}},
            "local":{"version":"file:../local"}}}"#;
        let got: Vec<String> = npm_lock(v1, "/srv/package-lock.json")
            .unwrap()
            .into_iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        assert_eq!(got, ["node-fetch@2.6.0", "whatwg-url@5.0.0"]);
        assert!(npm_lock(b"{}", "x").is_err());
        assert!(npm_lock(b"[1,", "x").is_err());
    }
}
