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
    /// Its installed packages, when read (its layers, a container of it, or
    /// the engine's image export).
    pub packages: Option<std::sync::Arc<super::packages::PackageScan>>,
    /// Known vulnerabilities of those packages. Shared: a rescan copies no
    /// lists.
    pub vulns: std::sync::Arc<super::packages::VulnState>,
    /// Setuid and setgid files in its executable directories.
    pub special_files: super::packages::SpecialFiles,
    /// Its signature check, when the policy requires one for it (`None`:
    /// no requirement covers it, so it was not checked).
    pub integrity: Option<super::integrity::ImageIntegrity>,
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

    /// The build step that made layer `layer` (0 = the lowest) of an image
    /// of `count` layers: the history's entries that made a layer, oldest
    /// first — those with bytes, and the steps that always make one (`RUN`,
    /// `COPY`, `ADD`) — when they are as many as the layers; `None` when
    /// the history does not say unambiguously.
    pub fn layer_step(&self, layer: usize, count: usize) -> Option<&HistoryEntry> {
        let oldest_first = || self.history.iter().rev();
        let makes_layer = |h: &HistoryEntry| {
            let c = h.created_by.trim();
            let step = c.strip_prefix("/bin/sh -c ").unwrap_or(c).trim_start();
            h.size > 0
                || (!c.contains("#(nop)")
                    && (c.starts_with("/bin/sh -c")
                        || step.starts_with("RUN ")
                        || step.starts_with("COPY ")
                        || step.starts_with("ADD ")))
                || c.contains("#(nop) COPY")
                || c.contains("#(nop) ADD")
        };
        let steps: Vec<&HistoryEntry> = oldest_first().filter(|h| makes_layer(h)).collect();
        if steps.len() == count {
            return steps.get(layer).copied();
        }
        let sized: Vec<&HistoryEntry> = oldest_first().filter(|h| h.size > 0).collect();
        (sized.len() == count)
            .then(|| sized.get(layer).copied())
            .flatten()
    }

    /// Whether no tag names it.
    pub fn is_dangling(&self) -> bool {
        self.tags.is_empty() || self.tags.iter().all(|t| t == "<none>:<none>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(created_by: &str, size: i64) -> HistoryEntry {
        HistoryEntry {
            created_by: created_by.into(),
            created: None,
            size,
        }
    }

    #[test]
    fn layers_map_to_the_build_steps_that_made_them() {
        // Newest first, as the engine returns it (classic builder).
        let img = Image {
            history: vec![
                step("/bin/sh -c #(nop)  CMD [\"svc\"]", 0),
                step(
                    "/bin/sh -c #(nop) COPY file:ab in /srv/package-lock.json ",
                    120,
                ),
                step("/bin/sh -c #(nop) COPY file:cd in /app/app.jar ", 0),
                step("/bin/sh -c pip install -r requirements.txt", 4_000_000),
                step("/bin/sh -c #(nop)  ENV PATH=/bin", 0),
                step("/bin/sh -c #(nop) ADD file:ef in / ", 5_000_000),
            ],
            ..Image::default()
        };
        let at = |l| img.layer_step(l, 4).map(|h| h.created_by.as_str());
        assert!(at(0).unwrap().contains("ADD file:ef"));
        assert!(at(1).unwrap().contains("pip install"));
        // A COPY of an empty file still made a layer.
        assert!(at(2).unwrap().contains("app.jar"));
        assert!(at(3).unwrap().contains("package-lock"));
        // When the layers do not add up, nothing is guessed.
        assert_eq!(img.layer_step(0, 7), None);
    }
}
