//! The signature cache: what a registry held for one repository digest
//! (the evidence, not a verdict: any key can be checked against it again,
//! offline), one small JSON file per digest under
//! `~/.cache/shipshape/signatures/` (or `SHIPSHAPE_SIGNATURE_CACHE`).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::model::integrity::Evidence;

/// How long fetched evidence is used without asking the registry again
/// (when the network is allowed). Offline, any age is used, and shown.
pub const FRESH: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// A cache file larger than this is ignored (16 signatures of 64 KiB,
/// base64).
pub const FILE: crate::file::Limit = crate::file::Limit {
    what: "a signature cache file",
    bytes: 2 << 20,
};

/// One cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The repository digest it is about.
    pub repo_digest: String,
    /// When it was fetched.
    pub fetched: DateTime<Utc>,
    /// What the registry held.
    pub evidence: Evidence,
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The default folder (`SHIPSHAPE_SIGNATURE_CACHE`, else
    /// `signatures` in the user's cache directory).
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("SHIPSHAPE_SIGNATURE_CACHE").filter(|d| !d.is_empty()) {
            return Some(PathBuf::from(d));
        }
        directories::ProjectDirs::from("", "", "shipshape")
            .map(|d| d.cache_dir().join("signatures"))
    }

    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, repo_digest: &str) -> PathBuf {
        let h = sha2::Sha256::digest(repo_digest.as_bytes());
        self.dir
            .join(format!("{}.json", crate::integrity::keys::hex(&h[..16])))
    }

    /// The cached entry for `repo_digest`, if any (a damaged file is none).
    pub fn get(&self, repo_digest: &str) -> Option<Entry> {
        let bytes = crate::file::read(&self.path(repo_digest), FILE).ok()?;
        let e: Entry = serde_json::from_slice(&bytes).ok()?;
        (e.repo_digest == repo_digest).then_some(e)
    }

    /// Keep `evidence` for `repo_digest` (written to a temporary file and
    /// renamed: a reader never sees half a file).
    pub fn put(
        &self,
        repo_digest: &str,
        evidence: &Evidence,
        now: DateTime<Utc>,
    ) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let entry = Entry {
            repo_digest: repo_digest.to_string(),
            fetched: now,
            evidence: evidence.clone(),
        };
        let text = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let path = self.path(repo_digest);
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir)?;
        std::io::Write::write_all(&mut tmp, &text)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_evidence_per_digest() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(dir.path());
        let rd = "127.0.0.1:5000/x/a@sha256:00";
        assert!(c.get(rd).is_none());
        let ev = Evidence {
            referrers_api: true,
            ..Evidence::default()
        };
        let now = Utc::now();
        c.put(rd, &ev, now).unwrap();
        let e = c.get(rd).unwrap();
        assert_eq!(e.evidence, ev);
        assert!(c.get("127.0.0.1:5000/x/b@sha256:00").is_none());
        std::fs::write(c.path(rd), b"{not json").unwrap();
        assert!(c.get(rd).is_none());
    }
}
