//! The user's policy, as data: approved image sources, the maximum image
//! age, the oldest acceptable engine versions, severity overrides and
//! waivers. The rules read it ([`crate::rules::Ctx::policy`]); reading and
//! checking the file is `crate::policy`'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use globset::GlobMatcher;

use super::{ImageRef, Severity};

/// One image pattern the policy approves.
#[derive(Debug, Clone)]
pub struct ApprovedPattern {
    /// The pattern (`registry/name:*`, `*` matches any run of characters).
    pub pattern: String,
    pub(crate) matcher: GlobMatcher,
}

/// A finding the policy accepts, with its reason and expiry.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// The id of the rule it waives.
    pub rule: String,
    /// Glob over container names, image references or image ids; `*` when
    /// the waiver names no target.
    pub target: String,
    pub(crate) matcher: GlobMatcher,
    /// Glob over engine names (`engines[].name` of a report: a context's
    /// name, "Docker system", an address); `None`: every engine.
    pub engine: Option<String>,
    pub(crate) engine_matcher: Option<GlobMatcher>,
    /// Why it is accepted; shown beside the finding and in reports.
    pub reason: String,
    /// The day it stops applying; `None` never expires.
    pub expires: Option<NaiveDate>,
    /// Line in the policy file, for messages.
    pub line: usize,
}

impl Waiver {
    /// Whether the waiver's target glob matches any of these names (container name, image reference, image id).
    pub fn matches_any<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> bool {
        names.into_iter().any(|n| self.matcher.is_match(n))
    }

    /// Does it cover findings of this engine?
    pub fn covers_engine(&self, engine: &str) -> bool {
        self.engine_matcher
            .as_ref()
            .is_none_or(|m| m.is_match(engine))
    }

    /// Whether its expiry day has passed on `today`.
    pub fn is_expired(&self, today: NaiveDate) -> bool {
        self.expires.is_some_and(|d| d < today)
    }
}

/// What the user allows: approved images, thresholds, severity overrides and waivers.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it was loaded from; `None` for the built-in default.
    pub source: Option<PathBuf>,
    /// Empty: no approved-source restriction.
    pub approved: Vec<ApprovedPattern>,
    /// Images older than this many days are stale.
    pub max_image_age_days: u32,
    /// The oldest Docker Engine version accepted.
    pub min_docker_version: String,
    /// The oldest Podman version accepted.
    pub min_podman_version: String,
    /// Severities the policy sets for rule ids instead of the built-in ones.
    pub severity_overrides: BTreeMap<String, Severity>,
    /// The findings the policy accepts.
    pub waivers: Vec<Waiver>,
    /// Fail a scan on any known-exploited vulnerability (CISA KEV) that is
    /// not waived, whatever its severity.
    pub fail_on_known_exploited: bool,
    /// Which images must be signed by which keys (`[integrity]`).
    pub integrity: IntegrityPolicy,
}

/// The `[integrity]` section: may the registry be asked, and which images
/// must be signed by whom.
#[derive(Debug, Clone, Default)]
pub struct IntegrityPolicy {
    /// Ask registries for signatures (also `--online`). Off by default.
    pub online: bool,
    /// The requirements, first match wins.
    pub require: Vec<SignatureRequirement>,
}

/// Images whose repository matches `pattern` must be signed by one of
/// `keys`.
#[derive(Debug, Clone)]
pub struct SignatureRequirement {
    /// Glob over the repository (`registry/name`, as in a repository digest).
    pub pattern: String,
    pub(crate) matcher: GlobMatcher,
    /// Public key files (PEM), relative paths from the policy file's folder.
    pub keys: Vec<PathBuf>,
    /// Who holds the key, for people ("release team").
    pub signer: Option<String>,
    /// Line in the policy file, for messages.
    pub line: usize,
}

impl SignatureRequirement {
    /// A requirement (for tests and the command line).
    pub fn new(pattern: &str, keys: Vec<PathBuf>, signer: Option<String>) -> Option<Self> {
        let matcher = globset::Glob::new(pattern).ok()?.compile_matcher();
        Some(Self {
            pattern: pattern.to_string(),
            matcher,
            keys,
            signer,
            line: 0,
        })
    }

    /// Whether it covers a repository (`registry/name`, without tag or
    /// digest; Docker Hub's as `docker.io/library/x`).
    pub fn covers(&self, repository: &str) -> bool {
        self.matcher.is_match(repository)
    }
}

impl IntegrityPolicy {
    /// The requirement covering a repository digest (`name@sha256:…`),
    /// if any: tried with the name as written and in its full form.
    pub fn requirement_for(&self, repo_digest: &str) -> Option<&SignatureRequirement> {
        let name = repo_digest.split('@').next().unwrap_or(repo_digest);
        let full = ImageRef::parse(name).map(|r| r.name()).unwrap_or_default();
        self.require
            .iter()
            .find(|r| r.covers(name) || r.covers(&full))
    }
}

/// The default image age limit, in days.
pub const DEFAULT_MAX_IMAGE_AGE_DAYS: u32 = 90;
/// Oldest Docker Engine release line still receiving security updates at the
/// time of writing; override in the policy as releases move on.
pub const DEFAULT_MIN_DOCKER_VERSION: &str = "27.0";
/// The default oldest Podman version accepted.
pub const DEFAULT_MIN_PODMAN_VERSION: &str = "5.0";

impl Default for Policy {
    fn default() -> Self {
        Self {
            source: None,
            approved: Vec::new(),
            max_image_age_days: DEFAULT_MAX_IMAGE_AGE_DAYS,
            min_docker_version: DEFAULT_MIN_DOCKER_VERSION.into(),
            min_podman_version: DEFAULT_MIN_PODMAN_VERSION.into(),
            severity_overrides: BTreeMap::new(),
            waivers: Vec::new(),
            fail_on_known_exploited: false,
            integrity: IntegrityPolicy::default(),
        }
    }
}

impl Policy {
    /// Does an approved pattern match this image? Patterns match the
    /// normalised `registry/repository` (e.g. `docker.io/library/nginx`) or
    /// the full `registry/repository:tag`.
    pub fn approves(&self, r: &ImageRef) -> bool {
        let name = r.name();
        let full = r.canonical();
        self.approved
            .iter()
            .any(|p| p.matcher.is_match(&name) || p.matcher.is_match(&full))
    }

    /// Where the policy came from (its file, or the built-in default), for a person.
    pub fn describe_source(&self) -> String {
        match &self.source {
            Some(p) => p.display().to_string(),
            None => "built-in default".into(),
        }
    }
}
