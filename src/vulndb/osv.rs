//! OSV records (<https://ossf.github.io/osv-schema/>), read with our own
//! serde types: the ecosystem stays a string (`Debian:12`,
//! `Ubuntu:22.04:LTS`, `Alpine:v3.20`), every field is optional, unknown
//! fields are ignored, and a record of an ecosystem we do not match is
//! skipped, never fatal.

use std::str::FromStr;

use serde::Deserialize;

use crate::model::Severity;

/// One OSV record, the fields shipshape reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Record {
    /// Its id.
    pub id: String,
    /// When it was last changed (RFC 3339).
    pub modified: String,
    /// When it was withdrawn, if it was.
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability (CVEs).
    pub aliases: Vec<String>,
    /// Debian and Ubuntu records name the CVE they track here.
    pub upstream: Vec<String>,
    /// Ids of related vulnerabilities.
    pub related: Vec<String>,
    /// The database's own extra data: GitHub's advisories carry their
    /// severity (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`) here.
    pub database_specific: serde_json::Value,
    /// Its one-line summary.
    pub summary: String,
    /// Its longer description.
    pub details: String,
    /// Its severity scores.
    pub severity: Vec<SeverityEntry>,
    /// The packages it affects.
    pub affected: Vec<Affected>,
}

/// One severity score of a record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SeverityEntry {
    /// `CVSS_V3`, `CVSS_V4`, `Ubuntu`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The score (a CVSS vector).
    pub score: String,
}

/// One affected package of a record.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Affected {
    /// The package.
    pub package: PackageRef,
    /// Its affected ranges.
    pub ranges: Vec<Range>,
    /// Its affected versions, listed.
    pub versions: Vec<String>,
    /// Severity scores for this package only.
    pub severity: Vec<SeverityEntry>,
    /// Debian: `{"urgency": "unimportant"}`.
    pub ecosystem_specific: serde_json::Value,
    /// The ecosystem's own extra data (Debian's urgency, …).
    pub database_specific: serde_json::Value,
}

/// A package name in an ecosystem.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PackageRef {
    /// The ecosystem (`Debian:12`, `Alpine:v3.19`, …).
    pub ecosystem: String,
    /// The package's name.
    pub name: String,
}

/// One range of affected versions.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Range {
    /// `ECOSYSTEM` (the only kind that applies to distribution packages;
    /// `SEMVER` and `GIT` ranges are ignored).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its events, in order.
    pub events: Vec<Event>,
}

/// One range event; exactly one field is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Event {
    /// Affected from this version.
    pub introduced: Option<String>,
    /// Fixed in this version.
    pub fixed: Option<String>,
    /// Affected up to this version.
    pub last_affected: Option<String>,
    /// Affected below this version (a limit, not a fix).
    pub limit: Option<String>,
}

/// Is this an ecosystem shipshape can match (one it downloads by default
/// or on request)?
pub fn is_known(ecosystem: &str) -> bool {
    let b = base(ecosystem);
    super::ECOSYSTEMS.contains(&b) || super::ON_REQUEST.contains(&b)
}

/// The key an ecosystem's records are indexed under: the ecosystem as
/// written, except where one release is written several ways —
/// Red Hat's repository (`Red Hat:enterprise_linux:9::appstream` →
/// `Red Hat:enterprise_linux:9`: a package's version is the same whichever
/// repository shipped it), and SUSE Linux Enterprise's products and
/// modules of one service pack (`SUSE:Linux Enterprise Module for
/// Basesystem 15 SP5` → `SUSE:Linux Enterprise 15 SP5`).
pub fn index_key(ecosystem: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if let Some(rest) = ecosystem.strip_prefix("Red Hat:")
        && let Some((stream, _repo)) = rest.split_once("::")
    {
        return Cow::Owned(format!("Red Hat:{stream}"));
    }
    if let Some(product) = ecosystem.strip_prefix("SUSE:Linux Enterprise ") {
        if product.contains("Micro") {
            return Cow::Borrowed(ecosystem);
        }
        // `… 15 SP5` or `… 15`: the release is the last one or two words.
        let words: Vec<&str> = product.split(' ').collect();
        let n = words.len();
        let release = match words.as_slice() {
            [.., major, sp]
                if sp.starts_with("SP") && major.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Some(format!("{major} {sp}"))
            }
            [.., major] if n >= 2 && major.bytes().all(|b| b.is_ascii_digit()) => {
                Some(major.to_string())
            }
            _ => None,
        };
        if let Some(r) = release {
            return Cow::Owned(format!("SUSE:Linux Enterprise {r}"));
        }
    }
    Cow::Borrowed(ecosystem)
}

/// `Debian:12` → `Debian`.
pub fn base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// `CVE-…` ids this record is about: its own id, its aliases and the
/// upstream ids (Debian's `DEBIAN-CVE-2024-1` tracks `CVE-2024-1`).
pub fn cve_ids(r: &Record) -> Vec<String> {
    let mut out: Vec<String> = std::iter::once(&r.id)
        .chain(&r.aliases)
        .chain(&r.upstream)
        .filter_map(|id| {
            let bare = ["DEBIAN-", "UBUNTU-", "ALPINE-"]
                .iter()
                .find_map(|p| id.strip_prefix(p))
                .unwrap_or(id);
            bare.starts_with("CVE-").then(|| bare.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A CVSS vector's base score and the severity it gives.
pub fn cvss(vector: &str) -> Option<(f64, Severity)> {
    let score = cvss::Cvss::from_str(vector.trim()).ok()?.score();
    if !score.is_finite() {
        return None;
    }
    let sev = if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    };
    Some((score, sev))
}

/// How the distribution itself rates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rating {
    /// CVSS base score (the rating of its impact).
    Cvss(Severity, String),
    /// The distribution's own priority (Ubuntu priority, Debian urgency).
    Vendor(Severity, String),
    /// The vendor says it does not matter in their build.
    Unimportant(String),
}

/// The rating of one affected package in one record: CVSS where the record
/// has a vector, else the distribution's rating; "unimportant" (Debian) and
/// "negligible" (Ubuntu) always win, as the vendor knows its build.
pub fn rating(r: &Record, a: &Affected) -> Option<Rating> {
    let urgency = a
        .ecosystem_specific
        .get("urgency")
        .and_then(|u| u.as_str())
        .map(str::to_ascii_lowercase);
    let ubuntu = a
        .severity
        .iter()
        .chain(&r.severity)
        .find(|s| s.kind.eq_ignore_ascii_case("Ubuntu"))
        .map(|s| s.score.to_ascii_lowercase());
    match (urgency.as_deref(), ubuntu.as_deref()) {
        (Some("unimportant"), _) => return Some(Rating::Unimportant("Debian: unimportant".into())),
        (_, Some("negligible")) => return Some(Rating::Unimportant("Ubuntu: negligible".into())),
        _ => {}
    }
    let best_cvss = a
        .severity
        .iter()
        .chain(&r.severity)
        .filter(|s| s.kind.starts_with("CVSS_V3") || s.kind.starts_with("CVSS_V4"))
        .filter_map(|s| cvss(&s.score).map(|(score, sev)| (score, sev, &s.kind)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((score, sev, kind)) = best_cvss {
        let version = if kind.contains("V4") { "4.0" } else { "3.x" };
        return Some(Rating::Cvss(sev, format!("CVSS {version} {score:.1}")));
    }
    let vendor = |name: &str, word: &str| {
        let sev = match word {
            "critical" => Severity::Critical,
            "high" => Severity::High,
            "medium" => Severity::Medium,
            "low" => Severity::Low,
            _ => return None,
        };
        Some(Rating::Vendor(sev, format!("{name}: {word}")))
    };
    if let Some(u) = ubuntu.as_deref().and_then(|u| vendor("Ubuntu priority", u)) {
        return Some(u);
    }
    let github = r
        .database_specific
        .get("severity")
        .and_then(|s| s.as_str())
        .map(|s| match s.to_ascii_lowercase().as_str() {
            "moderate" => "medium".to_string(),
            other => other.to_string(),
        });
    if let Some(g) = github.as_deref().and_then(|g| vendor("GitHub", g)) {
        return Some(g);
    }
    urgency
        .as_deref()
        .map(|u| u.trim_end_matches('*').trim())
        .and_then(|u| vendor("Debian urgency", u))
}

#[cfg(test)]
mod tests {

    #[test]
    fn one_index_key_per_release() {
        for (eco, key) in [
            (
                "Red Hat:enterprise_linux:9::appstream",
                "Red Hat:enterprise_linux:9",
            ),
            (
                "Red Hat:enterprise_linux:9::baseos",
                "Red Hat:enterprise_linux:9",
            ),
            ("Red Hat:rhel_eus:9.2::appstream", "Red Hat:rhel_eus:9.2"),
            (
                "SUSE:Linux Enterprise Server 15 SP5",
                "SUSE:Linux Enterprise 15 SP5",
            ),
            (
                "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
                "SUSE:Linux Enterprise 15 SP5",
            ),
            (
                "SUSE:Linux Enterprise Desktop 15",
                "SUSE:Linux Enterprise 15",
            ),
            (
                "SUSE:Linux Enterprise Micro 5.5",
                "SUSE:Linux Enterprise Micro 5.5",
            ),
            ("Debian:12", "Debian:12"),
            ("AlmaLinux:9", "AlmaLinux:9"),
        ] {
            assert_eq!(index_key(eco), key, "{eco}");
        }
    }
    use super::*;

    fn record(json: serde_json::Value) -> Record {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn lenient_and_ecosystem_is_a_string() {
        let r = record(serde_json::json!({
            "id": "X-1",
            "affected": [{ "package": { "ecosystem": "Wolfi:2030", "name": "p" }, "new_field": 1 }],
            "unknown": { "nested": true }
        }));
        assert_eq!(r.affected[0].package.ecosystem, "Wolfi:2030");
        assert!(!is_known("Wolfi:2030"));
        assert!(is_known("Debian:12") && is_known("Ubuntu:22.04:LTS") && is_known("Alpine:v3.20"));
        let empty: Record = serde_json::from_str("{}").unwrap();
        assert!(empty.id.is_empty());
    }

    #[test]
    fn aliases_group_into_cves() {
        let r = record(serde_json::json!({
            "id": "DEBIAN-CVE-2024-0001", "upstream": ["CVE-2024-0001"], "aliases": ["GHSA-x"]
        }));
        assert_eq!(cve_ids(&r), ["CVE-2024-0001"]);
        let dsa = record(serde_json::json!({
            "id": "DSA-5678-1", "upstream": ["CVE-2024-0002", "CVE-2024-0001"]
        }));
        assert_eq!(cve_ids(&dsa), ["CVE-2024-0001", "CVE-2024-0002"]);
        let ubuntu = record(serde_json::json!({ "id": "UBUNTU-CVE-2023-9" }));
        assert_eq!(cve_ids(&ubuntu), ["CVE-2023-9"]);
    }

    #[test]
    fn cvss_scores() {
        assert_eq!(
            cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Some((9.8, Severity::Critical))
        );
        assert_eq!(
            cvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"),
            Some((7.5, Severity::High))
        );
        assert_eq!(cvss("nonsense"), None);
    }

    #[test]
    fn ratings() {
        let r = record(serde_json::json!({
            "id": "DEBIAN-CVE-1",
            "severity": [{ "type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }],
            "affected": [
                { "ecosystem_specific": { "urgency": "unimportant" } },
                { "ecosystem_specific": { "urgency": "low" } },
                { "ecosystem_specific": { "urgency": "not yet assigned" } }
            ]
        }));
        assert!(matches!(
            rating(&r, &r.affected[0]),
            Some(Rating::Unimportant(_))
        ));
        assert_eq!(
            rating(&r, &r.affected[1]),
            Some(Rating::Cvss(Severity::Critical, "CVSS 3.x 9.8".into()))
        );
        let u = record(serde_json::json!({
            "id": "UBUNTU-CVE-1",
            "severity": [{ "type": "Ubuntu", "score": "medium" }],
            "affected": [{}]
        }));
        assert_eq!(
            rating(&u, &u.affected[0]),
            Some(Rating::Vendor(
                Severity::Medium,
                "Ubuntu priority: medium".into()
            ))
        );
        let d = record(serde_json::json!({
            "id": "DEBIAN-CVE-2", "affected": [{ "ecosystem_specific": { "urgency": "high" } }]
        }));
        assert_eq!(
            rating(&d, &d.affected[0]),
            Some(Rating::Vendor(
                Severity::High,
                "Debian urgency: high".into()
            ))
        );
        let none = record(serde_json::json!({ "id": "ALPINE-CVE-3", "affected": [{}] }));
        assert_eq!(rating(&none, &none.affected[0]), None);
    }
}
