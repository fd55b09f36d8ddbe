//! What is installed inside an image, and which known vulnerabilities that
//! brings: the data behind rule 1 (vulnerability management).
//!
//! Read from the image's own files (`/etc/os-release`, the dpkg status, the
//! apk database) by `engine::files`, parsed by `vulndb::installed`, matched
//! against the OSV data by `vulndb`. Plain data here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Severity;

/// Which package world an image lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distro {
    /// Debian.
    Debian,
    /// Ubuntu.
    Ubuntu,
    /// Alpine Linux.
    Alpine,
    /// RHEL, Fedora, CentOS, Rocky, Alma, Amazon Linux, SUSE, …
    Rpm,
    /// Any other distribution (named in the scan's `os-release`).
    Other,
}

/// `/etc/os-release`, the parts that decide the vulnerability data.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `ubuntu`, `alpine`, …).
    pub id: String,
    /// `ID_LIKE`, space-separated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id_like: String,
    /// `VERSION_ID` (`12`, `22.04`, `3.20.3`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version_id: String,
    /// `VERSION_CODENAME` (`bookworm`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub codename: String,
    /// `PRETTY_NAME`, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pretty_name: String,
}

impl OsRelease {
    /// A name for people: `PRETTY_NAME`, else `ID VERSION_ID`.
    pub fn display(&self) -> String {
        if self.pretty_name.is_empty() {
            format!("{} {}", self.id, self.version_id)
                .trim()
                .to_string()
        } else {
            self.pretty_name.clone()
        }
    }
}

/// Which package manager a package belongs to: the OS's (dpkg, apk), or a
/// language's registry. One package model for every ecosystem.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Ecosystem {
    /// The distribution's package manager (the scan's `ecosystem` names
    /// the release).
    #[default]
    #[serde(rename = "os")]
    Os,
    /// Python packages (`*.dist-info`, `*.egg-info`).
    #[serde(rename = "pypi")]
    PyPI,
    /// npm packages (`node_modules/**/package.json`, or a lock file
    /// where there is no `node_modules`).
    #[serde(rename = "npm")]
    Npm,
    /// Go modules compiled into an executable (its build information),
    /// and the Go standard library (`stdlib`).
    #[serde(rename = "go")]
    Go,
    /// Rust crates compiled into an executable (`cargo auditable`).
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Java archives (`META-INF/maven/**/pom.properties` in jars and wars,
    /// nested ones too); named `groupId:artifactId`.
    #[serde(rename = "maven")]
    Maven,
}

impl Ecosystem {
    /// The language ecosystems, in the order they are shown.
    pub const LANGUAGES: [Ecosystem; 5] = [
        Ecosystem::PyPI,
        Ecosystem::Npm,
        Ecosystem::Go,
        Ecosystem::CratesIo,
        Ecosystem::Maven,
    ];

    /// The OSV ecosystem of a language's packages (`None` for the OS, whose
    /// OSV ecosystem depends on the release).
    pub fn osv(self) -> Option<&'static str> {
        match self {
            Self::Os => None,
            Self::PyPI => Some("PyPI"),
            Self::Npm => Some("npm"),
            Self::Go => Some("Go"),
            Self::CratesIo => Some("crates.io"),
            Self::Maven => Some("Maven"),
        }
    }

    /// The name shown (`os`, `PyPI`, `npm`, `Go`, `crates.io`, `Maven`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Os => "os",
            Self::PyPI => "PyPI",
            Self::Npm => "npm",
            Self::Go => "Go",
            Self::CratesIo => "crates.io",
            Self::Maven => "Maven",
        }
    }

    fn is_os(&self) -> bool {
        *self == Self::Os
    }
}

/// One installed package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The binary package (`libssl3`).
    pub name: String,
    /// Its version (`3.0.11-1~deb12u2`).
    pub version: String,
    /// The source package it was built from (`openssl`; dpkg `Source:`,
    /// apk `o:`). Vulnerability data is keyed by this.
    pub source: String,
    /// The source version (dpkg `Source: name (version)`), which can differ
    /// from the binary's.
    pub source_version: String,
    /// Which package manager it belongs to.
    #[serde(default, skip_serializing_if = "Ecosystem::is_os")]
    pub ecosystem: Ecosystem,
    /// Where it was found in the image (a language package's metadata
    /// file; empty for the OS's, which the scan's `sources` name).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// Its licence, as its metadata names it (empty when it names none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub license: String,
    /// Which of the image's layers brought it in (0 = the lowest), when
    /// the layers were read one by one; the image's history names the
    /// build step ([`crate::model::Image::layer_step`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

/// The package inventory of one image (or of one container whose package
/// database changed after it started).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageScan {
    /// The image's `os-release`.
    pub os: OsRelease,
    /// The distribution it names, when shipshape knows it.
    pub distro: Option<Distro>,
    /// The OSV ecosystem (`Debian:12`, `Ubuntu:22.04:LTS`, `Alpine:v3.20`),
    /// when the release is one shipshape can match.
    pub ecosystem: Option<String>,
    /// The installed packages the package database lists.
    pub packages: Vec<Package>,
    /// Where the packages were read from (`/var/lib/dpkg/status`, …).
    pub sources: Vec<String>,
    /// The container whose files were read (its image's, unchanged).
    pub read_from: String,
    /// Why the packages cannot be matched, when they cannot.
    pub not_assessed: Option<String>,
    /// The release stopped getting fixes (its packages are still matched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_support: Option<EndOfSupport>,
    /// For a container's own reading: how many changes its filesystem had
    /// then (read again when that moves).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub read_at_changes: usize,
    /// Credentials found in the image's files (private keys, `.env` files,
    /// cloud and registry credentials, tokens): where and what kind, never
    /// a value. `None` when its files were not looked at for them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SecretScan>,
    /// How the application's packages were read (the image's layer
    /// directories, or the engine's archive API).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub read_by: String,
    /// How many layers the image has, when they were read one by one (a
    /// package's `layer` counts from 0 among them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub layer_count: usize,
    /// Which OS package installed each executable and shared library
    /// (path → binary package, from the package manager's file lists), so a
    /// file a running process has mapped names its package.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owners: BTreeMap<String, String>,
    /// What of the application's packages could not be read, and why (a
    /// folder stopped at a ceiling, a manifest that does not parse): what
    /// these held is not assessed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One credential found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretFile {
    /// Where, in the image.
    pub path: String,
    /// What kind (`a private key (OpenSSH)`, `an .env file with 2 secrets
    /// (DB_PASSWORD, API_TOKEN)`, `a GitHub token`): never the value.
    pub kind: String,
    /// The layer it was found in (0 = the lowest), when the layers were
    /// read one by one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
}

/// What was looked at of an image for credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretScan {
    /// What was found.
    pub found: Vec<SecretFile>,
    /// Files read.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
    /// What stopped the look early, or files that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A release past its end of support: no more fixes, and advisories
/// published since then mostly do not name it at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndOfSupport {
    /// `Debian 11`, `Ubuntu 18.04`, `Alpine v3.20`.
    pub release: String,
    /// The last day it got security fixes.
    pub date: chrono::NaiveDate,
}

/// Fixed, not fixed yet, or not worth fixing in the vendor's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FixState {
    /// A fixed version exists in the distribution.
    Fixed,
    /// Affected, no fix released yet.
    NoFix,
    /// The distribution rates it "unimportant" / "negligible": shown only
    /// on request.
    Unimportant,
}

/// One entry of the Known Exploited Vulnerabilities catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kev {
    /// When CISA added it (`2021-12-10`).
    pub added: String,
    /// CISA's name for it (`Apache Log4j2 Remote Code Execution Vulnerability`).
    pub name: String,
    /// Used in ransomware campaigns, as far as CISA knows.
    #[serde(default)]
    pub ransomware: bool,
}

/// An EPSS score: the probability of exploitation activity in the next 30
/// days, and its percentile among all scored CVEs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Epss {
    /// 0.0 – 1.0.
    pub score: f32,
    /// 0.0 – 1.0.
    pub percentile: f32,
}

/// One known vulnerability in one source package of an image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vulnerability {
    /// The CVE id when there is one (the records' aliases grouped), else
    /// the advisory's own id.
    pub id: String,
    /// Every advisory id that says the same (`DEBIAN-CVE-…`, `DSA-…`).
    pub advisories: Vec<String>,
    /// The source package.
    pub package: String,
    /// Its binary packages installed in the image (for a language
    /// package: the paths it was found at).
    pub binaries: Vec<String>,
    /// The OS's package, or a language's.
    #[serde(default, skip_serializing_if = "Ecosystem::is_os")]
    pub ecosystem: Ecosystem,
    /// The installed (source) version.
    pub installed: String,
    /// The first version that fixes it, when there is one.
    pub fixed: Option<String>,
    /// Whether a fix is released, pending or will not come.
    pub state: FixState,
    /// The severity the advisory or its CVSS vector gives.
    pub severity: Severity,
    /// Where the severity came from (`CVSS 3.1 9.8`, `Debian urgency low`).
    pub rated_by: String,
    /// The advisory's one-line summary.
    pub summary: String,
    /// In CISA's Known Exploited Vulnerabilities catalogue, when that is
    /// loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kev: Option<Kev>,
    /// Its EPSS score, when the scores are loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epss: Option<Epss>,
    /// [`Vulnerability::describe`], made once when it is matched (a rescan
    /// formats nothing again).
    #[serde(skip)]
    pub described: String,
}

/// Equal when the data is: `described` is only a cache of it.
impl PartialEq for Vulnerability {
    fn eq(&self, o: &Self) -> bool {
        (
            &self.id,
            &self.advisories,
            &self.package,
            &self.binaries,
            &self.installed,
            &self.fixed,
            self.state,
            self.severity,
            &self.rated_by,
            &self.summary,
            &self.kev,
            self.epss
                .map(|e| (e.score.to_bits(), e.percentile.to_bits())),
        ) == (
            &o.id,
            &o.advisories,
            &o.package,
            &o.binaries,
            &o.installed,
            &o.fixed,
            o.state,
            o.severity,
            &o.rated_by,
            &o.summary,
            &o.kev,
            o.epss.map(|e| (e.score.to_bits(), e.percentile.to_bits())),
        )
    }
}

impl Eq for Vulnerability {}

impl Vulnerability {
    /// `CVE-2024-0001 in openssl 3.0.11-1~deb12u2 (libssl3, openssl): fixed
    /// in 3.0.13-1~deb12u1; CVSS 3.x 9.8 [DEBIAN-CVE-2024-0001, DSA-5678-1]`:
    /// a finding's evidence, stable for baselines and waivers.
    pub fn describe(&self) -> String {
        if !self.described.is_empty() {
            return self.described.clone();
        }
        let fix = match (self.state, &self.fixed) {
            (FixState::Fixed, Some(f)) => format!("fixed in {f}"),
            (FixState::Unimportant, _) => "no fix: the distribution rates it unimportant".into(),
            _ => "no fix yet".into(),
        };
        let ecosystem = if self.ecosystem == Ecosystem::Os {
            String::new()
        } else {
            format!("{} ", self.ecosystem.label())
        };
        let binaries = if self.binaries.len() == 1 && self.binaries[0] == self.package {
            String::new()
        } else {
            format!(" ({})", self.binaries.join(", "))
        };
        let also: Vec<&str> = self
            .advisories
            .iter()
            .map(String::as_str)
            .filter(|a| *a != self.id)
            .collect();
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" [{}]", also.join(", "))
        };
        format!(
            "{} in {ecosystem}{} {}{binaries}: {fix}; {}{also}",
            self.id, self.package, self.installed, self.rated_by
        )
    }
}

/// What is known about an image's vulnerabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VulnState {
    /// Not looked at (no container uses it, or matching is switched off).
    #[default]
    NotScanned,
    /// Looked at, and cannot say: never shown as clean.
    NotAssessed {
        /// Why it cannot say, for a person.
        reason: String,
    },
    /// Matched against the database.
    Assessed {
        /// The OSV ecosystem matched (`Debian:12`, …).
        ecosystem: String,
        /// How many packages were matched.
        packages: usize,
        /// When the database was built from its sources.
        database: String,
        /// The known vulnerabilities found.
        vulnerabilities: Vec<Vulnerability>,
        /// What could not be assessed among its packages (an ecosystem
        /// without data, OS packages shipshape cannot match): never clean.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        not_assessed: Vec<String>,
    },
}

impl VulnState {
    /// The vulnerabilities found; empty unless assessed.
    pub fn vulnerabilities(&self) -> &[Vulnerability] {
        match self {
            Self::Assessed {
                vulnerabilities, ..
            } => vulnerabilities,
            _ => &[],
        }
    }

    /// "3 critical · 12 fixable", "not assessed", "none known", "—".
    pub fn summary(&self) -> String {
        match self {
            Self::NotScanned => "—".into(),
            Self::NotAssessed { .. } => "not assessed".into(),
            Self::Assessed {
                vulnerabilities, ..
            } => {
                let relevant: Vec<&Vulnerability> = vulnerabilities
                    .iter()
                    .filter(|v| v.state != FixState::Unimportant)
                    .collect();
                if relevant.is_empty() {
                    return "none known".into();
                }
                let critical = relevant
                    .iter()
                    .filter(|v| v.severity == Severity::Critical)
                    .count();
                let high = relevant
                    .iter()
                    .filter(|v| v.severity == Severity::High)
                    .count();
                let fixable = relevant
                    .iter()
                    .filter(|v| v.state == FixState::Fixed)
                    .count();
                let mut parts = Vec::new();
                let exploited = relevant.iter().filter(|v| v.kev.is_some()).count();
                if exploited > 0 {
                    parts.push(format!("{exploited} known exploited"));
                }
                if critical > 0 {
                    parts.push(format!("{critical} critical"));
                }
                if high > 0 {
                    parts.push(format!("{high} high"));
                }
                if parts.is_empty() {
                    parts.push(format!("{}", relevant.len()));
                }
                parts.push(format!("{fixable} fixable"));
                parts.join(" · ")
            }
        }
    }
}

/// A file with the setuid or setgid bit (CIS 4.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialFile {
    /// The file's path in the image.
    pub path: String,
    /// Permission bits (`0o4755`).
    pub mode: u32,
}

impl SpecialFile {
    /// Whether anyone may write it.
    pub fn world_writable(&self) -> bool {
        self.mode & 0o002 != 0
    }

    /// The sticky bit: others' files cannot be removed or renamed.
    pub fn sticky(&self) -> bool {
        self.mode & 0o1000 != 0
    }

    /// Whether it runs as its owner (setuid).
    pub fn setuid(&self) -> bool {
        self.mode & 0o4000 != 0
    }

    /// Whether it runs with its group (setgid).
    pub fn setgid(&self) -> bool {
        self.mode & 0o2000 != 0
    }
}

/// The setuid/setgid files of an image's executable directories.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SpecialFiles {
    /// Not read (no container uses the image, or reading is off).
    #[default]
    NotRead,
    /// Reading failed.
    Failed {
        /// Why, for a person.
        reason: String,
    },
    /// Read.
    Read {
        /// The setuid, setgid and world-writable files found.
        files: Vec<SpecialFile>,
        /// The directories read.
        dirs: Vec<String>,
        /// World-writable entries where what root runs comes from: in the
        /// executable directories, and the files of `/etc` that decide what
        /// runs as root ([`ROOT_RUNS_ETC`]).
        #[serde(default)]
        writable: Vec<SpecialFile>,
    },
}

/// Files and directories of `/etc` that decide who is root and what root
/// runs: world-writable, any user rewrites them.
pub const ROOT_RUNS_ETC: &[&str] = &[
    "etc/passwd",
    "etc/shadow",
    "etc/group",
    "etc/sudoers",
    "etc/sudoers.d",
    "etc/crontab",
    "etc/cron.d",
    "etc/cron.hourly",
    "etc/cron.daily",
    "etc/profile",
    "etc/profile.d",
    "etc/bash.bashrc",
    "etc/environment",
    "etc/ld.so.preload",
    "etc/ld.so.conf",
    "etc/ld.so.conf.d",
    "etc/init.d",
    "etc/systemd",
];

/// Is this entry (a path as the archive names it, `etc/cron.d/x`) one of
/// [`ROOT_RUNS_ETC`] or directly inside one of its directories?
pub fn root_runs_etc(path: &str) -> bool {
    let p = path
        .trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/');
    ROOT_RUNS_ETC.iter().any(|e| {
        p == *e
            || p.strip_prefix(e)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|r| !r.contains('/'))
    })
}

/// The most file owners kept per image.
pub const MAX_OWNERS: usize = 200_000;

/// Whether a path is one a process runs or maps: in a `bin`/`sbin`
/// folder, or a shared library (`libssl.so.3`).
pub fn is_runnable(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.contains("/bin/")
        || path.contains("/sbin/")
        || name.ends_with(".so")
        || name.contains(".so.")
}

/// A path as it reads after the `/usr` merge (`/lib/x86_64-linux-gnu/…` is
/// `/usr/lib/x86_64-linux-gnu/…` on Debian 12, and a process maps the
/// latter): package lists and `/proc` then agree.
pub fn usr_merged(path: &str) -> std::borrow::Cow<'_, str> {
    for top in ["/lib/", "/lib64/", "/lib32/", "/bin/", "/sbin/"] {
        if path.starts_with(top) {
            return std::borrow::Cow::Owned(format!("/usr{path}"));
        }
    }
    std::borrow::Cow::Borrowed(path)
}

/// Paths of package databases: a change to one after the container started
/// means its packages are no longer its image's.
pub const PACKAGE_DB_PATHS: &[&str] = &[
    "/var/lib/dpkg/status",
    "/var/lib/dpkg/status.d",
    "/lib/apk/db/installed",
    "/var/lib/rpm",
    "/usr/lib/sysimage/rpm",
];

/// Does this changed path touch a package database?
pub fn is_package_db(path: &str) -> bool {
    PACKAGE_DB_PATHS
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}
