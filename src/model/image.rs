use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{EnvVar, Healthcheck};

/// One layer record of `GET /images/{id}/history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The instruction that made the layer, as the history records it.
    pub created_by: String,
    /// When the layer was made.
    pub created: Option<DateTime<Utc>>,
    /// The layer's size in bytes (0 for instructions that change only metadata).
    pub size: i64,
}

/// An image as the engine reports it.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// The image id (`sha256:…`).
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub tags: Vec<String>,
    /// The repository digests (`name@sha256:…`) it was pulled or pushed as.
    pub digests: Vec<String>,
    /// When it was built.
    pub created: Option<DateTime<Utc>>,
    /// Its size in bytes.
    pub size: i64,
    /// Default user (`Config.User`).
    pub user: String,
    /// The healthcheck the image declares, if any.
    pub healthcheck: Option<Healthcheck>,
    /// `Config.Entrypoint` followed by `Config.Cmd`.
    pub command: Vec<String>,
    /// The environment the image sets (values kept as secrets).
    pub env: Vec<EnvVar>,
    /// The image's labels.
    pub labels: BTreeMap<String, String>,
    /// The operating system it is built for.
    pub os: String,
    /// The CPU architecture it is built for.
    pub architecture: String,
    /// Newest first, as the engine returns it.
    pub history: Vec<HistoryEntry>,
    /// Its installed packages, when read (through a container using it).
    pub packages: Option<std::sync::Arc<super::packages::PackageScan>>,
    /// Known vulnerabilities of those packages. Shared: a rescan copies no
    /// lists.
    pub vulns: std::sync::Arc<super::packages::VulnState>,
    /// Setuid and setgid files in its executable directories.
    pub special_files: super::packages::SpecialFiles,
}

impl Image {
    /// The first 12 hex digits of the id, as `docker images` shows it.
    pub fn short_id(&self) -> &str {
        super::short_id(&self.id)
    }

    /// A name for people: the first tag, or the short id.
    pub fn display_name(&self) -> String {
        self.tags
            .first()
            .cloned()
            .unwrap_or_else(|| self.short_id().to_string())
    }

    /// Whether no tag names it.
    pub fn is_dangling(&self) -> bool {
        self.tags.is_empty() || self.tags.iter().all(|t| t == "<none>:<none>")
    }
}
