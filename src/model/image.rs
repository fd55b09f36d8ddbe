use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{EnvVar, Healthcheck};

/// One layer record of `GET /images/{id}/history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub created_by: String,
    pub created: Option<DateTime<Utc>>,
    pub size: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Image {
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub tags: Vec<String>,
    pub digests: Vec<String>,
    pub created: Option<DateTime<Utc>>,
    pub size: i64,
    /// Default user (`Config.User`).
    pub user: String,
    pub healthcheck: Option<Healthcheck>,
    /// `Config.Entrypoint` followed by `Config.Cmd`.
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub labels: BTreeMap<String, String>,
    pub os: String,
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

    pub fn is_dangling(&self) -> bool {
        self.tags.is_empty() || self.tags.iter().all(|t| t == "<none>:<none>")
    }
}
