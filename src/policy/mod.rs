//! The user's policy file (TOML): approved image sources, the maximum image
//! age, the oldest acceptable engine versions, severity overrides and
//! waivers. See `docs/policy.md` for the format.
//!
//! Parsing is strict: unknown keys, unknown rule ids, bad globs and bad dates
//! are errors that name the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use globset::{Glob, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::model::Severity;
pub use crate::model::policy::{
    ApprovedPattern, DEFAULT_MAX_IMAGE_AGE_DAYS, DEFAULT_MIN_DOCKER_VERSION,
    DEFAULT_MIN_PODMAN_VERSION, Policy, Waiver,
};

/// What a policy file may be (read as [`crate::file`] reads: a
/// regular file only, within a size and a time). A policy of thousands of
/// waivers is a few hundred KiB.
pub const FILE: crate::file::Limit = crate::file::Limit {
    what: "a policy file",
    bytes: 4 << 20,
};

/// A policy file problem, located in the file.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The policy file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The policy file is not valid.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file's name.
        file: String,
        /// The line of the mistake, from 1.
        line: usize,
        /// Its column, from 1.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

// --- the file format -------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    images: ImagesSection,
    #[serde(default)]
    engine: EngineSection,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default, rename = "waiver")]
    waivers: Vec<Spanned<WaiverEntry>>,
    #[serde(default)]
    vulnerabilities: VulnerabilitiesSection,
    #[serde(default)]
    integrity: IntegritySection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct IntegritySection {
    #[serde(default)]
    online: bool,
    #[serde(default)]
    require: Vec<Spanned<RequireEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequireEntry {
    images: Spanned<String>,
    keys: Spanned<Vec<String>>,
    signer: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VulnerabilitiesSection {
    #[serde(default)]
    fail_on_known_exploited: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImagesSection {
    #[serde(default)]
    approved: Vec<Spanned<String>>,
    max_age_days: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EngineSection {
    min_docker_version: Option<Spanned<String>>,
    min_podman_version: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiverEntry {
    rule: Spanned<String>,
    target: Option<Spanned<String>>,
    engine: Option<Spanned<String>>,
    reason: Spanned<String>,
    expires: Option<Spanned<toml::value::Datetime>>,
}

impl Policy {
    /// Load from a file. A missing file is an error (the caller decides
    /// whether a missing *default* path means "use the built-in policy").
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = crate::file::read_to_string(path, FILE).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, Some(path))
    }

    /// The default location: `<config dir>/shipshape/policy.toml`.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape")
            .map(|d| d.config_dir().join("policy.toml"))
    }

    /// Parses a policy from TOML text; `path` names the file in errors and in the report.
    pub fn from_toml_str(text: &str, path: Option<&Path>) -> Result<Self, PolicyError> {
        let file_name = path.map_or_else(|| "<policy>".to_string(), |p| p.display().to_string());
        let err = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
            PolicyError::Invalid {
                file: file_name.clone(),
                line,
                column,
                message,
            }
        };
        let file: File =
            toml::from_str(text).map_err(|e| err(e.span(), e.message().to_string()))?;

        let mut policy = Policy {
            source: path.map(Path::to_path_buf),
            ..Policy::default()
        };

        for p in file.images.approved {
            let pattern = p.get_ref().trim().to_string();
            let matcher = glob(&pattern).map_err(|m| err(Some(p.span()), m))?;
            policy.approved.push(ApprovedPattern { pattern, matcher });
        }
        policy.fail_on_known_exploited = file.vulnerabilities.fail_on_known_exploited;
        policy.integrity.online = file.integrity.online;
        let folder = path.and_then(Path::parent).map(Path::to_path_buf);
        for r in file.integrity.require {
            let line = line_col(text, r.span().start).0;
            let r = r.into_inner();
            let pattern = r.images.get_ref().trim().to_string();
            let matcher = glob(&pattern).map_err(|m| err(Some(r.images.span()), m))?;
            if r.keys.get_ref().is_empty() {
                return Err(err(
                    Some(r.keys.span()),
                    "a signature requirement needs at least one key file".into(),
                ));
            }
            let keys = r
                .keys
                .get_ref()
                .iter()
                .map(|k| match &folder {
                    Some(f) if Path::new(k).is_relative() => f.join(k),
                    _ => PathBuf::from(k),
                })
                .collect();
            policy
                .integrity
                .require
                .push(crate::model::policy::SignatureRequirement {
                    pattern,
                    matcher,
                    keys,
                    signer: r.signer,
                    line,
                });
        }
        if let Some(days) = file.images.max_age_days {
            policy.max_image_age_days = days;
        }
        if let Some(v) = file.engine.min_docker_version {
            check_version(v.get_ref()).map_err(|m| err(Some(v.span()), m))?;
            policy.min_docker_version = v.into_inner();
        }
        if let Some(v) = file.engine.min_podman_version {
            check_version(v.get_ref()).map_err(|m| err(Some(v.span()), m))?;
            policy.min_podman_version = v.into_inner();
        }
        for (rule, sev) in file.severity {
            known_rule(rule.get_ref()).map_err(|m| err(Some(rule.span()), m))?;
            let parsed: Severity = sev
                .get_ref()
                .parse()
                .map_err(|m| err(Some(sev.span()), m))?;
            policy.severity_overrides.insert(rule.into_inner(), parsed);
        }
        for w in file.waivers {
            let line = line_col(text, w.span().start).0;
            let w = w.into_inner();
            known_rule(w.rule.get_ref()).map_err(|m| err(Some(w.rule.span()), m))?;
            if w.reason.get_ref().trim().is_empty() {
                return Err(err(Some(w.reason.span()), "a waiver needs a reason".into()));
            }
            let target = w
                .target
                .as_ref()
                .map_or("*".to_string(), |t| t.get_ref().clone());
            let matcher = glob(&target).map_err(|m| err(w.target.as_ref().map(|t| t.span()), m))?;
            let engine_matcher = match &w.engine {
                None => None,
                Some(e) => Some(glob(e.get_ref()).map_err(|m| err(Some(e.span()), m))?),
            };
            let expires = match &w.expires {
                None => None,
                Some(d) => Some(to_date(d.get_ref()).map_err(|m| err(Some(d.span()), m))?),
            };
            policy.waivers.push(Waiver {
                rule: w.rule.into_inner(),
                target,
                matcher,
                engine: w.engine.map(Spanned::into_inner),
                engine_matcher,
                reason: w.reason.into_inner(),
                expires,
                line,
            });
        }
        Ok(policy)
    }
}

fn glob(pattern: &str) -> Result<GlobMatcher, String> {
    if pattern.is_empty() {
        return Err("empty pattern".into());
    }
    Glob::new(pattern)
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("bad glob pattern '{pattern}': {}", e.kind()))
}

fn known_rule(id: &str) -> Result<(), String> {
    if crate::rules::by_id(id).is_some() {
        Ok(())
    } else {
        Err(format!(
            "unknown rule id '{id}' (run `shipshape rules` to list them)"
        ))
    }
}

fn check_version(v: &str) -> Result<(), String> {
    crate::rules::engine::major_minor(v)
        .map(|_| ())
        .ok_or_else(|| format!("'{v}' is not a version like \"27.0\""))
}

fn to_date(d: &toml::value::Datetime) -> Result<NaiveDate, String> {
    match (d.date, d.time) {
        (Some(date), None) => NaiveDate::from_ymd_opt(
            i32::from(date.year),
            u32::from(date.month),
            u32::from(date.day),
        )
        .ok_or_else(|| format!("'{d}' is not a calendar date")),
        _ => Err(format!(
            "expires must be a plain date like 2027-01-31, not '{d}'"
        )),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ImageRef;

    #[test]
    fn reads_signature_requirements() {
        let text = "[integrity]\nonline = true\n\n[[integrity.require]]\nimages = \"127.0.0.1:*/integ-x/*\"\nkeys = [\"keys/release.pub\", \"/etc/k.pub\"]\nsigner = \"release team\"\n";
        let p = Policy::from_toml_str(text, Some(Path::new("/etc/shipshape/policy.toml"))).unwrap();
        assert!(p.integrity.online);
        let r = &p.integrity.require[0];
        assert_eq!(r.keys[0], Path::new("/etc/shipshape/keys/release.pub"));
        assert_eq!(r.keys[1], Path::new("/etc/k.pub"));
        assert_eq!(r.signer.as_deref(), Some("release team"));
        assert_eq!(r.line, 4);
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert!(
            p.integrity
                .requirement_for(&format!("127.0.0.1:5000/integ-x/a@{d}"))
                .is_some()
        );
        assert!(
            p.integrity
                .requirement_for(&format!("alpine@{d}"))
                .is_none()
        );
        let e = Policy::from_toml_str("[[integrity.require]]\nimages = \"x/*\"\nkeys = []\n", None)
            .unwrap_err();
        assert!(e.to_string().contains("at least one key"), "{e}");
        assert!(Policy::from_toml_str("[integrity]\nofline = true\n", None).is_err());
    }

    const GOOD: &str = r#"
[images]
approved = ["docker.io/library/*", "ghcr.io/acme/*"]
max_age_days = 30

[engine]
min_docker_version = "26.1"

[severity]
"container.no-cpu-limit" = "info"

[[waiver]]
rule = "container.root-user"
target = "legacy-*"
reason = "vendor image, ticket SEC-12"
expires = 2027-01-31

[[waiver]]
rule = "engine.icc"
reason = "single-container host"
"#;

    #[test]
    fn parses_every_section() {
        let p = Policy::from_toml_str(GOOD, Some(Path::new("p.toml"))).unwrap();
        assert_eq!(p.max_image_age_days, 30);
        assert_eq!(p.min_docker_version, "26.1");
        assert_eq!(
            p.severity_overrides["container.no-cpu-limit"],
            Severity::Info
        );
        assert_eq!(p.waivers.len(), 2);
        assert_eq!(p.waivers[0].line, 12, "the [[waiver]] header line");
        assert_eq!(p.waivers[0].expires, NaiveDate::from_ymd_opt(2027, 1, 31));
        assert!(p.waivers[0].matches_any(["legacy-db"]));
        assert!(!p.waivers[0].matches_any(["web"]));
        assert_eq!(p.waivers[1].target, "*");
        assert!(p.approves(&ImageRef::parse("nginx:1.27").unwrap()));
        assert!(p.approves(&ImageRef::parse("ghcr.io/acme/api").unwrap()));
        assert!(!p.approves(&ImageRef::parse("ghcr.io/evil/api").unwrap()));
    }

    fn error_of(text: &str) -> String {
        Policy::from_toml_str(text, Some(Path::new("/etc/p.toml")))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let e = error_of("[images]\nmax_age_days = \"ninety\"\n");
        assert!(e.starts_with("/etc/p.toml:2:"), "{e}");
        assert!(e.contains("invalid type"), "{e}");

        let e = error_of("[severity]\n\"container.nope\" = \"low\"\n");
        assert!(e.starts_with("/etc/p.toml:2:1:"), "{e}");
        assert!(e.contains("unknown rule id 'container.nope'"), "{e}");

        let e = error_of("[severity]\n\"container.privileged\" = \"severe\"\n");
        assert!(e.contains("unknown severity 'severe'"), "{e}");

        let e = error_of(
            "[[waiver]]\nrule = \"container.privileged\"\nreason = \"x\"\nexpires = \"soon\"\n",
        );
        assert!(e.starts_with("/etc/p.toml:4:"), "{e}");

        let e = error_of("[[waiver]]\nrule = \"container.privileged\"\nreason = \"  \"\n");
        assert!(e.contains("needs a reason"), "{e}");

        let e = error_of("[images]\napproved = [\"docker.io/[\"]\n");
        assert!(e.contains("bad glob"), "{e}");

        let e = error_of("[image]\n");
        assert!(e.contains("unknown field `image`"), "{e}");

        let e = error_of("[images\n");
        assert!(e.starts_with("/etc/p.toml:1:"), "{e}");
    }

    #[test]
    fn expiry() {
        let p = Policy::from_toml_str(GOOD, None).unwrap();
        let w = &p.waivers[0];
        assert!(!w.is_expired(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()));
        assert!(w.is_expired(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()));
        assert!(!p.waivers[1].is_expired(NaiveDate::from_ymd_opt(2099, 1, 1).unwrap()));
    }
}
