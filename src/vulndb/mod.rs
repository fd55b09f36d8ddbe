//! Known vulnerabilities of distribution packages, offline.
//!
//! * [`osv`]: OSV records with our own serde types.
//! * [`version`]: dpkg and apk version order.
//! * [`installed`]: the image files that say what is installed.
//! * [`store`]: the database on disk — import (zip, dir, file), download
//!   (`shipshape db update`, the only network access shipshape makes),
//!   atomic replacement, status.
//! * [`Database`]: the loaded index and the matcher.
//!
//! Pure apart from `store`: no engine calls. Matching is precise where
//! scanners commonly go wrong: Debian and Ubuntu match the *source*
//! package and *source* version (which can differ from the binary's),
//! Alpine the origin package; versions compare with the package manager's
//! own rules (epochs, `~`, `_rc`, `-rN`); every record is scoped to its
//! exact release (`Debian:12`, never `Debian`); aliases are grouped (one
//! vulnerability per CVE); "fixed in X", "no fix yet" and the vendor's
//! "unimportant" are told apart; a release the data does not cover is "not
//! assessed", never clean.

pub mod apps;
pub mod baked;
pub mod binaries;
pub mod catalog;
pub mod exploits;
pub mod installed;
pub mod java;
pub mod osv;
pub mod rpmdb;
pub mod store;
pub mod version;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Severity;
use crate::model::packages::{Ecosystem, FixState, PackageScan, Vulnerability};
use version::Scheme;

/// The OSV base ecosystems whose records shipshape matches (the folders of
/// the OSV bucket it downloads or imports).
pub const ECOSYSTEMS: [&str; 3] = ["Debian", "Ubuntu", "Alpine"];

/// Ecosystems `db update --ecosystem` also takes, on request only: the RPM
/// distributions' (for images of them) and the languages' (npm's and
/// Maven's dumps are the largest OSV publishes; the download says its size
/// as it goes, and resumes when run again after a break).
pub const ON_REQUEST: [&str; 13] = [
    "Red Hat",
    "AlmaLinux",
    "Rocky Linux",
    "SUSE",
    "openSUSE",
    "Mageia",
    "Photon OS",
    "Azure Linux",
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
];

/// One range event, compact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ev {
    /// Affected from this version on.
    #[serde(rename = "i")]
    Introduced(String),
    /// Fixed in this version.
    #[serde(rename = "f")]
    Fixed(String),
    /// Affected up to and including this version.
    #[serde(rename = "l")]
    LastAffected(String),
}

impl Ev {
    fn version(&self) -> &str {
        match self {
            Self::Introduced(v) | Self::Fixed(v) | Self::LastAffected(v) => v,
        }
    }
}

/// The rating kept per affected package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoredRating {
    /// A CVSS score's severity, and the vector it came from.
    #[serde(rename = "c")]
    Cvss(Severity, String),
    /// The vendor's own severity, and its words.
    #[serde(rename = "v")]
    Vendor(Severity, String),
    /// The distribution rates it unimportant, and why.
    #[serde(rename = "u")]
    Unimportant(String),
}

impl From<osv::Rating> for StoredRating {
    fn from(r: osv::Rating) -> Self {
        match r {
            osv::Rating::Cvss(s, w) => Self::Cvss(s, w),
            osv::Rating::Vendor(s, w) => Self::Vendor(s, w),
            osv::Rating::Unimportant(w) => Self::Unimportant(w),
        }
    }
}

/// One package of one advisory in one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Index into the advisories.
    #[serde(rename = "a")]
    pub advisory: u32,
    /// ECOSYSTEM ranges, each a list of events.
    #[serde(rename = "r", default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Vec<Ev>>,
    /// Explicitly listed affected versions.
    #[serde(rename = "v", default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Its severity, when the record gives one.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<StoredRating>,
}

/// One OSV record, what the views need of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// The advisory's id (`DSA-…`, `CVE-…`).
    pub id: String,
    /// The CVEs it is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cves: Vec<String>,
    /// Its summary.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

/// Where the data came from, and when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// When this database was built (imported or downloaded).
    pub built_at: Option<DateTime<Utc>>,
    /// Each input: a URL or a path, with its record count.
    pub sources: Vec<SourceMeta>,
    /// Records kept, by ecosystem.
    pub ecosystems: BTreeMap<String, usize>,
    /// Records kept.
    pub records: usize,
    /// Records of ecosystems shipshape does not match (skipped).
    pub skipped_unknown: usize,
    /// Entries that were not OSV records (skipped, counted).
    pub unreadable: usize,
    /// Withdrawn records (skipped).
    pub withdrawn: usize,
    /// What an imported folder held that was not read, and why (another
    /// ecosystem's `all.zip`, a symlinked folder, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// The exploit data loaded beside it, for people (`known exploited:
    /// 1,484 CVEs (CISA KEV 2026.12.04); EPSS of 2026-12-06`); filled when
    /// the database is loaded, not stored with it.
    #[serde(skip)]
    pub exploits: String,
}

/// One input of a database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMeta {
    /// `Debian`, `Alpine`, … or the file name.
    pub name: String,
    /// A URL or a path.
    pub origin: String,
    /// Records read from it.
    pub records: usize,
}

/// Entries by ecosystem, then by package.
pub type Index = HashMap<String, HashMap<String, Vec<Entry>>>;

/// The loaded database: advisories and an index by (ecosystem, package).
#[derive(Debug, Clone, Default)]
pub struct Database {
    /// Where the data came from, and when.
    pub meta: Meta,
    /// Which vulnerabilities are known to be exploited, and EPSS scores
    /// (optional; stored beside the OSV data).
    pub exploits: exploits::Exploits,
    advisories: Vec<Advisory>,
    index: Index,
}

/// Builds a [`Database`] record by record.
#[derive(Debug, Default)]
pub struct Builder {
    db: Database,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// Kept.
    Kept,
    /// Withdrawn: skipped.
    Withdrawn,
    /// Of an ecosystem shipshape does not match: skipped.
    Unknown,
}

impl Builder {
    /// Adds one OSV record.
    pub fn add(&mut self, r: osv::Record) -> Added {
        if r.withdrawn.is_some() {
            self.db.meta.withdrawn += 1;
            return Added::Withdrawn;
        }
        let known: Vec<&osv::Affected> = r
            .affected
            .iter()
            .filter(|a| osv::is_known(&a.package.ecosystem) && !a.package.name.is_empty())
            .collect();
        if known.is_empty() {
            self.db.meta.skipped_unknown += 1;
            return Added::Unknown;
        }
        let idx = u32::try_from(self.db.advisories.len()).unwrap_or(u32::MAX);
        let mut ecos = BTreeSet::new();
        for a in known {
            let ranges: Vec<Vec<Ev>> = a
                .ranges
                .iter()
                // npm, crates.io and Go records give SEMVER ranges (in the
                // ecosystem's own order too); GIT ranges name commits.
                .filter(|rg| {
                    rg.kind.eq_ignore_ascii_case("ECOSYSTEM")
                        || rg.kind.eq_ignore_ascii_case("SEMVER")
                })
                .map(|rg| {
                    rg.events
                        .iter()
                        .flat_map(|e| {
                            [
                                e.introduced.clone().map(Ev::Introduced),
                                e.fixed.clone().map(Ev::Fixed),
                                e.last_affected.clone().map(Ev::LastAffected),
                            ]
                        })
                        .flatten()
                        .collect()
                })
                .filter(|evs: &Vec<Ev>| !evs.is_empty())
                .collect();
            if ranges.is_empty() && a.versions.is_empty() {
                continue;
            }
            let key = osv::index_key(&a.package.ecosystem).into_owned();
            ecos.insert(key.clone());
            let name = if a.package.ecosystem == "PyPI" {
                apps::pypi_name(&a.package.name)
            } else {
                a.package.name.clone()
            };
            self.db
                .index
                .entry(key)
                .or_default()
                .entry(name)
                .or_default()
                .push(Entry {
                    advisory: idx,
                    ranges,
                    versions: a.versions.clone(),
                    rating: osv::rating(&r, a).map(Into::into),
                });
        }
        for e in ecos {
            *self.db.meta.ecosystems.entry(e).or_default() += 1;
        }
        let summary = if r.summary.is_empty() {
            r.details.chars().take(300).collect()
        } else {
            r.summary.chars().take(300).collect()
        };
        self.db.advisories.push(Advisory {
            cves: osv::cve_ids(&r),
            id: r.id,
            summary,
        });
        self.db.meta.records += 1;
        Added::Kept
    }

    /// Counts an entry that was not an OSV record.
    pub fn unreadable(&mut self) {
        self.db.meta.unreadable += 1;
    }

    /// Records an input.
    pub fn source(&mut self, s: SourceMeta) {
        self.db.meta.sources.push(s);
    }

    /// How many records were kept so far.
    pub fn records(&self) -> usize {
        self.db.meta.records
    }

    /// Keep the records of `old` for the base ecosystems (`Debian`, …) this
    /// build has none of: importing Alpine data keeps the Debian data.
    pub fn keep_others(&mut self, old: &Database) {
        let have: BTreeSet<String> = self
            .db
            .index
            .keys()
            .map(|e| osv::base(e).to_string())
            .collect();
        let mut remap: HashMap<u32, u32> = HashMap::new();
        for (eco, pkgs) in &old.index {
            if have.contains(osv::base(eco)) {
                continue;
            }
            for (pkg, entries) in pkgs {
                for e in entries {
                    let new_idx = *remap.entry(e.advisory).or_insert_with(|| {
                        let a = old.advisories[e.advisory as usize].clone();
                        self.db.advisories.push(a);
                        self.db.meta.records += 1;
                        u32::try_from(self.db.advisories.len() - 1).unwrap_or(u32::MAX)
                    });
                    self.db
                        .index
                        .entry(eco.clone())
                        .or_default()
                        .entry(pkg.clone())
                        .or_default()
                        .push(Entry {
                            advisory: new_idx,
                            ..e.clone()
                        });
                }
            }
            if let Some(n) = old.meta.ecosystems.get(eco) {
                self.db.meta.ecosystems.insert(eco.clone(), *n);
            }
        }
        for s in &old.meta.sources {
            if !have.contains(&s.name) && !self.db.meta.sources.contains(s) {
                self.db.meta.sources.push(s.clone());
            }
        }
    }

    /// The database, built at `built_at`.
    pub fn finish(mut self, built_at: DateTime<Utc>) -> Database {
        self.db.meta.built_at = Some(built_at);
        self.db
    }
}

/// A vulnerability being assembled from the records that name it.
#[derive(Debug)]
struct Agg {
    advisories: BTreeSet<String>,
    fixed: Option<String>,
    unfixed: bool,
    unimportant: bool,
    cvss: Option<(Severity, String)>,
    vendor: Option<(Severity, String)>,
    summary: String,
}

impl Database {
    /// Is there data for this exact release?
    pub fn has_ecosystem(&self, ecosystem: &str) -> bool {
        self.index.contains_key(ecosystem)
    }

    /// How many advisories it holds.
    pub fn advisories(&self) -> usize {
        self.advisories.len()
    }

    /// Number of (ecosystem, package, advisory) entries.
    pub fn entries(&self) -> usize {
        self.index
            .values()
            .flat_map(|p| p.values())
            .map(Vec::len)
            .sum()
    }

    /// The known vulnerabilities of an image's packages, or why they cannot
    /// be known.
    pub fn match_scan(&self, scan: &PackageScan) -> Result<Vec<Vulnerability>, String> {
        if let Some(why) = &scan.not_assessed {
            return Err(why.clone());
        }
        let Some(eco) = scan.ecosystem.as_deref() else {
            return Err("the distribution is unknown".into());
        };
        let Some(scheme) = Scheme::of(eco) else {
            return Err(format!("no version rules for {eco}"));
        };
        let Some(pkgs) = self.index.get(eco) else {
            return Err(format!(
                "the vulnerability database has no data for {eco} (run `shipshape db update`, or \
                 the release is not covered by OSV)"
            ));
        };
        // Source package → (source version, binaries).
        let mut sources: BTreeMap<&str, (&str, BTreeSet<&str>)> = BTreeMap::new();
        for p in scan
            .packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Os)
        {
            let e = sources
                .entry(p.source.as_str())
                .or_insert((p.source_version.as_str(), BTreeSet::new()));
            // Two versions of one source (rare: a partial upgrade): the
            // older one is the one at risk.
            if scheme.compare(&p.source_version, e.0).is_lt() {
                e.0 = p.source_version.as_str();
            }
            e.1.insert(p.name.as_str());
        }
        let mut out = Vec::new();
        for (source, (installed, binaries)) in sources {
            // RPM advisories name a binary package or the source one
            // (Red Hat: either; AlmaLinux and Rocky: the binaries): both
            // are looked up, one finding per CVE of the source.
            let mut found: Vec<Entry> = pkgs.get(source).cloned().unwrap_or_default();
            if scheme == Scheme::Rpm {
                for b in binaries.iter().filter(|b| **b != source) {
                    found.extend(pkgs.get(*b).into_iter().flatten().cloned());
                }
            }
            if found.is_empty() {
                continue;
            }
            let binaries = binaries.iter().map(|b| b.to_string()).collect();
            self.vulns_of(
                scheme,
                Ecosystem::Os,
                source,
                installed,
                binaries,
                &found,
                &mut out,
            );
        }
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.package.cmp(&b.package))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// The vulnerabilities of one package (`source` at `installed`, found
    /// as `binaries`) among its index entries, grouped by CVE.
    #[allow(clippy::too_many_arguments)]
    fn vulns_of(
        &self,
        scheme: Scheme,
        ecosystem: Ecosystem,
        source: &str,
        installed: &str,
        binaries: Vec<String>,
        entries: &[Entry],
        out: &mut Vec<Vulnerability>,
    ) {
        let mut groups: BTreeMap<String, Agg> = BTreeMap::new();
        for e in entries {
            let Some(fixed) = affected(scheme, installed, e) else {
                continue;
            };
            let adv = &self.advisories[e.advisory as usize];
            let keys: Vec<String> = if adv.cves.is_empty() {
                vec![adv.id.clone()]
            } else {
                adv.cves.clone()
            };
            for key in keys {
                let g = groups.entry(key).or_insert_with(|| Agg {
                    advisories: BTreeSet::new(),
                    fixed: None,
                    unfixed: false,
                    unimportant: false,
                    cvss: None,
                    vendor: None,
                    summary: String::new(),
                });
                g.advisories.insert(adv.id.clone());
                match &fixed {
                    Some(f) => {
                        if g.fixed
                            .as_ref()
                            .is_none_or(|g| scheme.compare(f, g).is_gt())
                        {
                            g.fixed = Some(f.clone());
                        }
                    }
                    None => g.unfixed = true,
                }
                match &e.rating {
                    Some(StoredRating::Unimportant(_)) => g.unimportant = true,
                    Some(StoredRating::Cvss(s, w))
                        if g.cvss.as_ref().is_none_or(|(c, _)| s > c) =>
                    {
                        g.cvss = Some((*s, w.clone()));
                    }
                    Some(StoredRating::Vendor(s, w))
                        if g.vendor.as_ref().is_none_or(|(c, _)| s > c) =>
                    {
                        g.vendor = Some((*s, w.clone()));
                    }
                    _ => {}
                }
                if g.summary.is_empty() {
                    g.summary.clone_from(&adv.summary);
                }
            }
        }
        for (id, g) in groups {
            let state = match (&g.fixed, g.unimportant) {
                (Some(_), _) => FixState::Fixed,
                (None, true) => FixState::Unimportant,
                (None, false) => FixState::NoFix,
            };
            let (severity, rated_by) = if state == FixState::Unimportant {
                let upstream = g
                    .cvss
                    .as_ref()
                    .map(|(_, w)| format!(" ({w} upstream)"))
                    .unwrap_or_default();
                (Severity::Info, format!("vendor: unimportant{upstream}"))
            } else if let Some((s, w)) = g.cvss.clone().or(g.vendor.clone()) {
                (s, w)
            } else {
                (Severity::Medium, "no rating in the data".to_string())
            };
            let mut v = Vulnerability {
                id,
                advisories: g.advisories.into_iter().collect(),
                package: source.to_string(),
                binaries: binaries.clone(),
                ecosystem,
                installed: installed.to_string(),
                // A fix exists but another record says none yet: the
                // fix is what the user can act on.
                fixed: g.fixed,
                state,
                severity,
                rated_by,
                summary: g.summary,
                kev: None,
                epss: None,
                described: String::new(),
            };
            v.kev = self.exploits.kev.get(&v.id).cloned();
            v.epss = self.exploits.epss.get(&v.id).copied();
            v.described = v.describe();
            out.push(v);
        }
    }

    /// The known vulnerabilities of the application's own packages (PyPI,
    /// npm), and what could not be assessed among them, said per
    /// ecosystem: a language without data is never shown as clean.
    pub fn match_languages(&self, scan: &PackageScan) -> (Vec<Vulnerability>, Vec<String>) {
        let mut out = Vec::new();
        let mut notes = Vec::new();
        for eco in Ecosystem::LANGUAGES {
            let pkgs: Vec<&crate::model::packages::Package> = scan
                .packages
                .iter()
                .filter(|p| p.ecosystem == eco)
                .collect();
            let Some(osv_name) = eco.osv() else { continue };
            if pkgs.is_empty() {
                continue;
            }
            let Some(scheme) = Scheme::of(osv_name) else {
                continue;
            };
            let Some(index) = self.index.get(osv_name) else {
                notes.push(format!(
                    "{} {} packages: the vulnerability database has no {osv_name} data (run \
                     `shipshape db update --ecosystem {osv_name}`, or `shipshape db import` \
                     its dump)",
                    pkgs.len(),
                    eco.label()
                ));
                continue;
            };
            // Name and version → where each copy was found.
            let mut copies: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
            let mut unreadable = Vec::new();
            for p in pkgs {
                // A Go main module built from a work tree has no version:
                // it is the application itself, which no advisory names.
                if p.version == "(devel)" {
                    continue;
                }
                if scheme.parses(&p.version) {
                    copies
                        .entry((p.source.as_str(), p.version.as_str()))
                        .or_default()
                        .push(p.path.clone());
                } else {
                    unreadable.push(format!("{} {}", p.name, p.version));
                }
            }
            if !unreadable.is_empty() {
                unreadable.truncate(5);
                notes.push(format!(
                    "{} packages whose version is not a {osv_name} version, not matched: {}",
                    eco.label(),
                    unreadable.join(", ")
                ));
            }
            for ((name, version), paths) in copies {
                if let Some(entries) = index.get(name) {
                    self.vulns_of(scheme, eco, name, version, paths, entries, &mut out);
                }
            }
        }
        (out, notes)
    }

    /// The advisories and the index (for the store and the fuzz targets).
    pub fn parts(&self) -> (&[Advisory], &Index) {
        (&self.advisories, &self.index)
    }

    pub(crate) fn from_parts(meta: Meta, advisories: Vec<Advisory>, index: Index) -> Self {
        Self {
            meta,
            exploits: exploits::Exploits::default(),
            advisories,
            index,
        }
    }
}

/// Is `installed` affected by this entry? `Some(fixed)` when it is: the
/// version that fixes it, or `None` when there is none yet.
fn affected(scheme: Scheme, installed: &str, e: &Entry) -> Option<Option<String>> {
    if e.versions
        .iter()
        .any(|v| scheme.compare(v, installed).is_eq())
    {
        return Some(None);
    }
    for range in &e.ranges {
        let mut events: Vec<&Ev> = range.iter().collect();
        // "0" (introduced at the beginning) sorts first.
        events.sort_by(|a, b| {
            let (x, y) = (a.version(), b.version());
            match (x == "0", y == "0") {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                _ => scheme.compare(x, y),
            }
        });
        let mut hit = false;
        for ev in &events {
            match ev {
                Ev::Introduced(v) if v == "0" || scheme.compare(installed, v).is_ge() => hit = true,
                Ev::Fixed(v) if scheme.compare(installed, v).is_ge() => hit = false,
                Ev::LastAffected(v) if scheme.compare(installed, v).is_gt() => hit = false,
                _ => {}
            }
        }
        if hit {
            let fixed = events.iter().find_map(|ev| match ev {
                Ev::Fixed(v) if scheme.compare(v, installed).is_gt() => Some(v.clone()),
                _ => None,
            });
            return Some(fixed);
        }
    }
    None
}

/// What was read from images and containers, for [`annotate`].
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// By image id: its packages and setuid files.
    pub images: HashMap<
        String,
        (
            std::sync::Arc<PackageScan>,
            crate::model::packages::SpecialFiles,
        ),
    >,
    /// By image id: why its files could not be read.
    pub failed: HashMap<String, String>,
    /// By image id: why its files were not read, on purpose (an image no
    /// container uses, whose layers only the engine's export gives, when
    /// that is not allowed). Said as the reason it is not assessed.
    pub skipped: HashMap<String, String>,
    /// What the reading warns about (a layer directory refused), for the
    /// caller to show once.
    pub warnings: Vec<String>,
    /// By container id: its own packages (its package database changed).
    pub containers: HashMap<String, PackageScan>,
    /// Match results by image id, for the database named by `matched_with`
    /// (an image's packages never change; neither does its match until the
    /// database does).
    pub matched: HashMap<String, std::sync::Arc<crate::model::packages::VulnState>>,
    /// The database (by build time) the `matched` results were made with.
    pub matched_with: Option<String>,
}

impl Readings {
    /// Match what is not matched yet against `db` (everything again when
    /// the database changed). Cheap when nothing changed: a rescan then
    /// costs no matching at all.
    pub fn refresh_matches(&mut self, db: Result<&Database, &str>) {
        let stamp = match db {
            Ok(d) => format!(
                "{}:{}:{}",
                d.meta.built_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                d.meta.records,
                d.exploits.stamp()
            ),
            Err(e) => format!("none:{e}"),
        };
        if self.matched_with.as_deref() != Some(stamp.as_str()) {
            self.matched.clear();
            self.matched_with = Some(stamp);
        }
        self.matched.retain(|id, _| self.images.contains_key(id));
        for (id, (scan, _)) in &self.images {
            if !self.matched.contains_key(id) {
                self.matched
                    .insert(id.clone(), std::sync::Arc::new(assess_scan(db, scan)));
            }
        }
    }
}

/// The vulnerability state of one package scan.
pub fn assess_scan(
    db: Result<&Database, &str>,
    scan: &PackageScan,
) -> crate::model::packages::VulnState {
    use crate::model::packages::VulnState;
    let db = match db {
        Ok(db) => db,
        Err(why) => {
            // What the image itself rules out comes first: an RPM image
            // without a database is "RPM", not "no database".
            return VulnState::NotAssessed {
                reason: scan.not_assessed.clone().unwrap_or_else(|| why.to_string()),
            };
        }
    };
    let os = match &scan.not_assessed {
        Some(why) => Err(why.clone()),
        None => db.match_scan(scan),
    };
    let languages =
        scan.packages.iter().any(|p| p.ecosystem != Ecosystem::Os) || !scan.unread.is_empty();
    let database = db.meta.built_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    if !languages {
        return match os {
            Ok(vulnerabilities) => VulnState::Assessed {
                ecosystem: scan.ecosystem.clone().unwrap_or_default(),
                packages: scan.packages.len(),
                database,
                vulnerabilities,
                not_assessed: Vec::new(),
            },
            Err(reason) => VulnState::NotAssessed { reason },
        };
    }
    // The application's packages are assessed even where the OS's cannot
    // be; what was not is said beside them.
    let (mut vulnerabilities, mut not_assessed) = db.match_languages(scan);
    const SHOWN: usize = 10;
    not_assessed.extend(scan.unread.iter().take(SHOWN).cloned());
    if scan.unread.len() > SHOWN {
        not_assessed.push(format!("and {} more not read", scan.unread.len() - SHOWN));
    }
    let mut ecosystems: Vec<String> = Vec::new();
    let has_os = scan.packages.iter().any(|p| p.ecosystem == Ecosystem::Os);
    match os {
        Ok(v) => {
            vulnerabilities.extend(v);
            ecosystems.extend(scan.ecosystem.clone());
        }
        Err(why) if has_os || scan.not_assessed.is_some() => {
            not_assessed.insert(0, format!("OS packages: {why}"));
        }
        Err(_) => {}
    }
    for eco in Ecosystem::LANGUAGES {
        if scan.packages.iter().any(|p| p.ecosystem == eco)
            && eco.osv().is_some_and(|o| db.index.contains_key(o))
        {
            ecosystems.push(eco.label().to_string());
        }
    }
    vulnerabilities.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.ecosystem.cmp(&b.ecosystem))
            .then_with(|| a.package.cmp(&b.package))
            .then_with(|| a.id.cmp(&b.id))
    });
    VulnState::Assessed {
        ecosystem: ecosystems.join(" + "),
        packages: scan.packages.len(),
        database,
        vulnerabilities,
        not_assessed,
    }
}

/// Put packages, setuid files and vulnerabilities on an inventory's images
/// (and on containers whose packages diverged). `db` is the database, or
/// why there is none. Pure.
pub fn annotate(
    inv: &mut crate::model::Inventory,
    readings: &Readings,
    db: Result<&Database, &str>,
) {
    use crate::model::packages::VulnState;
    for img in &mut inv.images {
        if let Some((scan, special)) = readings.images.get(&img.id) {
            img.vulns = match readings.matched.get(&img.id) {
                Some(v) => v.clone(),
                None => std::sync::Arc::new(assess_scan(db, scan)),
            };
            img.packages = Some(scan.clone());
            img.special_files = special.clone();
        } else if let Some(why) = readings.failed.get(&img.id) {
            img.vulns = std::sync::Arc::new(VulnState::NotAssessed {
                reason: format!("its files could not be read: {why}"),
            });
        } else if let Some(why) = readings.skipped.get(&img.id) {
            img.vulns = std::sync::Arc::new(VulnState::NotAssessed {
                reason: why.clone(),
            });
        }
        // Not read yet (every image is read, used or not; one the engine
        // cannot hand over is in `skipped` with its reason): not scanned.
    }
    for c in &mut inv.containers {
        if let Some(scan) = readings.containers.get(&c.id) {
            c.vulns = std::sync::Arc::new(assess_scan(db, scan));
            c.packages = Some(std::sync::Arc::new(scan.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::packages::Package;

    fn rec(json: serde_json::Value) -> osv::Record {
        serde_json::from_value(json).unwrap()
    }

    fn deb12(pkgs: &[(&str, &str, &str, &str)]) -> PackageScan {
        PackageScan {
            ecosystem: Some("Debian:12".into()),
            packages: pkgs
                .iter()
                .map(|(n, v, s, sv)| Package {
                    name: n.to_string(),
                    version: v.to_string(),
                    source: s.to_string(),
                    source_version: sv.to_string(),
                    ..Package::default()
                })
                .collect(),
            ..PackageScan::default()
        }
    }

    fn db(records: Vec<serde_json::Value>) -> Database {
        let mut b = Builder::default();
        for r in records {
            b.add(rec(r));
        }
        b.finish(Utc::now())
    }

    fn fixed_range(eco: &str, pkg: &str, fixed: &str) -> serde_json::Value {
        serde_json::json!({ "package": { "ecosystem": eco, "name": pkg },
            "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": fixed }] }] })
    }

    fn app(eco: Ecosystem, name: &str, version: &str, path: &str) -> Package {
        let source = if eco == Ecosystem::PyPI {
            apps::pypi_name(name)
        } else {
            name.to_string()
        };
        Package {
            name: name.into(),
            version: version.into(),
            source,
            source_version: version.into(),
            ecosystem: eco,
            path: path.into(),
            ..Package::default()
        }
    }

    /// Language packages meet their own ecosystem's records only, by
    /// normalised name and their own version order; the OS's are matched
    /// beside them; an ecosystem without data is said, never clean.
    #[test]
    fn application_packages_match_their_own_ecosystem_only() {
        use crate::model::packages::VulnState;
        let site = "/usr/local/lib/python3.11/site-packages";
        let mut scan = deb12(&[("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2")]);
        scan.packages.extend([
            app(
                Ecosystem::PyPI,
                "Requests",
                "2.31.0",
                &format!("{site}/requests-2.31.0.dist-info/METADATA"),
            ),
            app(
                Ecosystem::PyPI,
                "urllib3",
                "2.2.2",
                &format!("{site}/urllib3-2.2.2.dist-info/METADATA"),
            ),
            app(
                Ecosystem::PyPI,
                "weird",
                "not a version",
                &format!("{site}/weird.dist-info/METADATA"),
            ),
            app(
                Ecosystem::Npm,
                "lodash",
                "4.17.15",
                "/app/node_modules/lodash/package.json",
            ),
            app(
                Ecosystem::Npm,
                "lodash",
                "4.17.15",
                "/app/node_modules/a/node_modules/lodash/package.json",
            ),
            app(
                Ecosystem::Npm,
                "minimist",
                "1.2.0",
                "/app/node_modules/minimist/package.json",
            ),
        ]);
        let pypi_only = db(vec![
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0001", "affected": [fixed_range("Debian:12", "openssl", "3.0.13-1~deb12u1")] }),
            // Spelled as the project spells it; fixed after what is installed.
            serde_json::json!({ "id": "GHSA-9wx4-h78v-vm56", "aliases": ["CVE-2024-35195"],
                "affected": [fixed_range("PyPI", "requests", "2.32.0")] }),
            // Fixed below the installed version: not affected.
            serde_json::json!({ "id": "PYSEC-2023-1", "affected": [fixed_range("PyPI", "urllib3", "2.0.7")] }),
            // PEP 440 order, not text: 2.2.10 > 2.2.2.
            serde_json::json!({ "id": "PYSEC-2024-2", "affected": [fixed_range("PyPI", "urllib3", "2.2.10")] }),
            // The same name in another ecosystem never matches.
            serde_json::json!({ "id": "PYSEC-2020-9", "affected": [fixed_range("PyPI", "lodash", "9.0.0")] }),
            serde_json::json!({ "id": "DEBIAN-CVE-2024-9", "affected": [fixed_range("Debian:12", "requests", "9.0")] }),
        ]);
        let VulnState::Assessed {
            ecosystem,
            vulnerabilities,
            not_assessed,
            packages,
            ..
        } = assess_scan(Ok(&pypi_only), &scan)
        else {
            panic!("assessed");
        };
        assert_eq!(ecosystem, "Debian:12 + PyPI");
        assert_eq!(packages, 7);
        let mut ids: Vec<(String, &str, &str)> = vulnerabilities
            .iter()
            .map(|v| (v.id.clone(), v.ecosystem.label(), v.package.as_str()))
            .collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                ("CVE-2024-0001".into(), "os", "openssl"),
                ("CVE-2024-35195".into(), "PyPI", "requests"),
                ("PYSEC-2024-2".into(), "PyPI", "urllib3"),
            ]
        );
        let req = vulnerabilities
            .iter()
            .find(|v| v.package == "requests")
            .unwrap();
        assert_eq!(req.fixed.as_deref(), Some("2.32.0"));
        assert_eq!(
            req.binaries,
            [format!("{site}/requests-2.31.0.dist-info/METADATA")]
        );
        assert!(
            req.describe()
                .starts_with("CVE-2024-35195 in PyPI requests 2.31.0"),
            "{}",
            req.describe()
        );
        assert_eq!(not_assessed.len(), 2, "{not_assessed:?}");
        assert!(
            not_assessed[0].contains("weird not a version"),
            "{not_assessed:?}"
        );
        assert!(
            not_assessed[1]
                .starts_with("3 npm packages: the vulnerability database has no npm data"),
            "{not_assessed:?}"
        );

        // With npm data: both copies of lodash are one finding naming both paths.
        let with_npm = db(vec![
            // As GitHub's npm records are: a SEMVER range.
            serde_json::json!({ "id": "GHSA-p6mc-m468-83gw", "aliases": ["CVE-2020-8203"],
                "affected": [{ "package": { "ecosystem": "npm", "name": "lodash" },
                    "ranges": [{ "type": "SEMVER", "events": [{ "introduced": "0" }, { "fixed": "4.17.19" }] }] }] }),
            serde_json::json!({ "id": "GHSA-vh95-rmgr-6w4m", "aliases": ["CVE-2020-7598"],
                "affected": [fixed_range("npm", "minimist", "0.2.1")] }),
            serde_json::json!({ "id": "GHSA-xvch-5gv4-984h", "aliases": ["CVE-2021-44906"],
                "affected": [{ "package": { "ecosystem": "npm", "name": "minimist" },
                    "ranges": [{ "type": "SEMVER", "events": [{ "introduced": "1.0.0" }, { "fixed": "1.2.6" }] },
                               { "type": "ECOSYSTEM", "events": [{ "introduced": "1.0.0" }, { "fixed": "1.2.6" }] }] }] }),
        ]);
        let (v, notes) = with_npm.match_languages(&scan);
        let mut ids: Vec<&str> = v.iter().map(|v| v.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["CVE-2020-8203", "CVE-2021-44906"]);
        let lodash = v.iter().find(|v| v.package == "lodash").unwrap();
        assert_eq!(lodash.binaries.len(), 2, "{:?}", lodash.binaries);
        assert!(
            notes.iter().any(|n| n.contains("no PyPI data")),
            "{notes:?}"
        );

        // OS packages that cannot be matched leave the application's assessed.
        let mut rocky = scan.clone();
        rocky.ecosystem = None;
        rocky.not_assessed = Some("RPM databases are not read yet".into());
        let VulnState::Assessed {
            vulnerabilities,
            not_assessed,
            ..
        } = assess_scan(Ok(&pypi_only), &rocky)
        else {
            panic!("the application's packages are still assessed");
        };
        assert!(
            vulnerabilities
                .iter()
                .all(|v| v.ecosystem == Ecosystem::PyPI)
        );
        assert!(
            not_assessed[0].starts_with("OS packages: RPM"),
            "{not_assessed:?}"
        );
    }

    #[test]
    fn the_edge_cases_of_matching() {
        let d = db(vec![
            // Fixed in 3.0.13-1~deb12u1: at, between, below.
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0001", "upstream": ["CVE-2024-0001"],
                "severity": [{ "type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
                "affected": [fixed_range("Debian:12", "openssl", "3.0.13-1~deb12u1"),
                             fixed_range("Debian:11", "openssl", "1.1.1w-0+deb11u2")] }),
            // The DSA for the same CVE: grouped with it.
            serde_json::json!({ "id": "DSA-5678-1", "upstream": ["CVE-2024-0001"],
                "affected": [fixed_range("Debian:12", "openssl", "3.0.13-1~deb12u1")] }),
            // No fix yet.
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0002", "upstream": ["CVE-2024-0002"],
                "affected": [{ "package": { "ecosystem": "Debian:12", "name": "zlib" },
                    "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }] }],
                    "ecosystem_specific": { "urgency": "low" } }] }),
            // Unimportant, no fix.
            serde_json::json!({ "id": "DEBIAN-CVE-2010-4756", "upstream": ["CVE-2010-4756"],
                "affected": [{ "package": { "ecosystem": "Debian:12", "name": "glibc" },
                    "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }] }],
                    "ecosystem_specific": { "urgency": "unimportant" } }] }),
            // Epoch: fixed in 1:1.2.13.dfsg-2; installed 1:1.2.13.dfsg-1.
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0003", "upstream": ["CVE-2024-0003"],
                "affected": [fixed_range("Debian:12", "zlib", "1:1.2.13.dfsg-2")] }),
            // Keyed by the binary name: must not match (source is gcc-12).
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0004", "upstream": ["CVE-2024-0004"],
                "affected": [fixed_range("Debian:12", "libgcc-s1", "99")] }),
            // The source version is what counts: 12.2.0-14 < fix 12.2.0-14+deb12u1,
            // while the binary 12.2.0-14+b1 would (wrongly) look newer.
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0005", "upstream": ["CVE-2024-0005"],
                "affected": [fixed_range("Debian:12", "gcc-12", "12.2.0-14+deb12u1")] }),
            // Unknown ecosystem: skipped, not fatal.
            serde_json::json!({ "id": "WOLFI-1", "affected": [fixed_range("Wolfi", "openssl", "9")] }),
            // Withdrawn.
            serde_json::json!({ "id": "DEBIAN-CVE-2024-0006", "withdrawn": "2024-01-01T00:00:00Z",
                "affected": [fixed_range("Debian:12", "openssl", "9")] }),
        ]);
        assert_eq!(d.meta.skipped_unknown, 1);
        assert_eq!(d.meta.withdrawn, 1);
        let scan = deb12(&[
            ("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
            ("openssl", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
            ("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
            ("libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
            ("libgcc-s1", "12.2.0-14+b1", "gcc-12", "12.2.0-14"),
        ]);
        let v = d.match_scan(&scan).unwrap();
        let got: Vec<(&str, &str, Option<&str>, FixState)> = v
            .iter()
            .map(|v| {
                (
                    v.id.as_str(),
                    v.package.as_str(),
                    v.fixed.as_deref(),
                    v.state,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "CVE-2024-0001",
                    "openssl",
                    Some("3.0.13-1~deb12u1"),
                    FixState::Fixed
                ),
                (
                    "CVE-2024-0005",
                    "gcc-12",
                    Some("12.2.0-14+deb12u1"),
                    FixState::Fixed
                ),
                (
                    "CVE-2024-0003",
                    "zlib",
                    Some("1:1.2.13.dfsg-2"),
                    FixState::Fixed
                ),
                ("CVE-2024-0002", "zlib", None, FixState::NoFix),
                ("CVE-2010-4756", "glibc", None, FixState::Unimportant),
            ]
        );
        let ssl = &v[0];
        assert_eq!(ssl.advisories, ["DEBIAN-CVE-2024-0001", "DSA-5678-1"]);
        assert_eq!(ssl.binaries, ["libssl3", "openssl"]);
        assert_eq!(ssl.severity, Severity::Critical);
        assert_eq!(v[2].rated_by, "no rating in the data");
        assert_eq!(v[3].severity, Severity::Low, "Debian urgency low");
        assert_eq!(v[4].severity, Severity::Info);

        // Exactly at the fixed version: clean. Above it: clean.
        for at in ["3.0.13-1~deb12u1", "3.0.15-1~deb12u1"] {
            let s = deb12(&[("libssl3", at, "openssl", at)]);
            assert!(d.match_scan(&s).unwrap().is_empty(), "{at}");
        }
        // The wrong release: Debian 11 data never applies to Debian 12 and
        // the other way round.
        let mut s11 = deb12(&[("libssl3", "1.1.1w-0+deb11u1", "openssl", "1.1.1w-0+deb11u1")]);
        s11.ecosystem = Some("Debian:11".into());
        let v11 = d.match_scan(&s11).unwrap();
        assert_eq!(v11.len(), 1);
        assert_eq!(v11[0].fixed.as_deref(), Some("1.1.1w-0+deb11u2"));
        let mut s13 = s11.clone();
        s13.ecosystem = Some("Debian:13".into());
        let err = d.match_scan(&s13).unwrap_err();
        assert!(err.contains("no data for Debian:13"), "{err}");
    }

    #[test]
    fn ranges_with_several_events_and_last_affected() {
        let d = db(vec![
            serde_json::json!({ "id": "ALPINE-CVE-2024-9", "upstream": ["CVE-2024-9"],
            "affected": [{ "package": { "ecosystem": "Alpine:v3.22", "name": "busybox" },
                "ranges": [{ "type": "ECOSYSTEM", "events": [
                    { "fixed": "1.36.1-r30" }, { "introduced": "0" },
                    { "introduced": "1.37.0-r0" }, { "last_affected": "1.37.0-r5" } ] }] }] }),
        ]);
        let scan = |v: &str| PackageScan {
            ecosystem: Some("Alpine:v3.22".into()),
            packages: vec![Package {
                name: "busybox-binsh".into(),
                version: v.into(),
                source: "busybox".into(),
                source_version: v.into(),
                ..Default::default()
            }],
            ..PackageScan::default()
        };
        let hit = |v: &str| !d.match_scan(&scan(v)).unwrap().is_empty();
        assert!(hit("1.36.1-r29"));
        assert!(!hit("1.36.1-r30"));
        assert!(hit("1.37.0-r2"));
        assert!(hit("1.37.0-r5"));
        assert!(!hit("1.37.0-r6"));
    }
}
