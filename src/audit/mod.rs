//! The tamper-evident audit log: JSON lines, each record carrying the
//! SHA-256 of the previous line and of its own content, so an edited,
//! deleted, inserted or reordered record is detected by [`verify`].
//!
//! ```text
//! {"seq":1,"time":"…","kind":"scan","data":{…},"prev":"000…","hash":"…"}
//! {"seq":2,"time":"…","kind":"export","data":{…},"prev":"<sha256 of line 1>","hash":"…"}
//! ```
//!
//! `hash` is the SHA-256 of the record serialised without its `hash` field;
//! `prev` is the SHA-256 of the previous line's exact bytes. Files rotate by
//! size: `audit.jsonl` is renamed to `audit-<first seq>.jsonl` and the new
//! file's first record links to the last line of the old one, so the chain
//! stays verifiable across files. A small `audit.head` file (written
//! atomically) remembers the last sequence number and line hash, so a
//! truncated tail is detected too.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const CURRENT: &str = "audit.jsonl";
const HEAD: &str = "audit.head";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: DateTime<Utc>,
    /// `scan`, `export`, `event`, `exec`, `gap`, …
    pub kind: String,
    pub data: Value,
    pub prev: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Head {
    seq: u64,
    line_hash: String,
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Record {
    fn content_hash(&self) -> String {
        let mut unhashed = self.clone();
        unhashed.hash.clear();
        sha(serde_json::to_string(&unhashed)
            .expect("records serialise")
            .as_bytes())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "audit log {0}: the last record is damaged; refusing to append (run `shipshape audit verify`)"
    )]
    Damaged(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An append-only, hash-chained log in one directory.
pub struct AuditLog {
    dir: PathBuf,
    max_bytes: u64,
    seq: u64,
    last_line_hash: String,
}

impl AuditLog {
    /// The default directory: `<data dir>/shipshape/audit`.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape").map(|d| d.data_dir().join("audit"))
    }

    /// Open (or create) the log in `dir`, continuing its chain.
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Self, AuditError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut log = Self {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1024),
            seq: 0,
            last_line_hash: GENESIS.into(),
        };
        // Continue from the last line of the current file, or of the newest
        // rotated file when the current one is empty or missing.
        let mut files = rotated_files(dir)?;
        files.push(dir.join(CURRENT));
        for f in files.iter().rev() {
            if let Some(line) = last_line(f)? {
                let rec: Record =
                    serde_json::from_str(&line).map_err(|_| AuditError::Damaged(f.clone()))?;
                log.seq = rec.seq;
                log.last_line_hash = sha(line.as_bytes());
                break;
            }
        }
        Ok(log)
    }

    /// Append one record; rotates first when the current file is full.
    pub fn append(&mut self, kind: &str, data: Value) -> Result<Record, AuditError> {
        let current = self.dir.join(CURRENT);
        let size = std::fs::metadata(&current).map(|m| m.len()).unwrap_or(0);
        if size >= self.max_bytes {
            let first = first_seq(&current)?.unwrap_or(self.seq + 1);
            let rotated = self.dir.join(format!("audit-{first:012}.jsonl"));
            std::fs::rename(&current, &rotated).map_err(io(&rotated))?;
        }
        let mut rec = Record {
            seq: self.seq + 1,
            time: Utc::now(),
            kind: kind.into(),
            data,
            prev: self.last_line_hash.clone(),
            hash: String::new(),
        };
        rec.hash = rec.content_hash();
        let line = serde_json::to_string(&rec).expect("records serialise");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&current)
            .map_err(io(&current))?;
        f.write_all(format!("{line}\n").as_bytes())
            .map_err(io(&current))?;
        f.sync_data().map_err(io(&current))?;
        self.seq = rec.seq;
        self.last_line_hash = sha(line.as_bytes());
        let head = serde_json::to_string(&Head {
            seq: self.seq,
            line_hash: self.last_line_hash.clone(),
        })
        .expect("serialises");
        let head_path = self.dir.join(HEAD);
        crate::report::write::write_atomic(&head_path, head.as_bytes()).map_err(|e| {
            AuditError::Io {
                path: head_path.clone(),
                source: std::io::Error::other(e.reason),
            }
        })?;
        Ok(rec)
    }
}

fn rotated_files(dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn last_line(path: &Path) -> Result<Option<String>, AuditError> {
    match File::open(path) {
        Ok(f) => Ok(BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .last()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuditError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

fn first_seq(path: &Path) -> Result<Option<u64>, AuditError> {
    let f = File::open(path).map_err(io(path))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .next()
        .and_then(|l| serde_json::from_str::<Record>(&l).ok())
        .map(|r| r.seq))
}

/// Where verification stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line in `file`.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub records: u64,
    pub files: usize,
}

/// Verify a log: a directory (every rotated file, then the current one,
/// and the head) or a single file (its own chain only).
pub fn verify(path: &Path) -> Result<Result<Verified, Problem>, AuditError> {
    let (files, head) = if path.is_dir() {
        let mut f = rotated_files(path)?;
        let cur = path.join(CURRENT);
        if cur.exists() {
            f.push(cur);
        }
        let head = std::fs::read_to_string(path.join(HEAD))
            .ok()
            .and_then(|t| serde_json::from_str::<Head>(&t).ok());
        (f, head)
    } else {
        (vec![path.to_path_buf()], None)
    };
    let mut prev_hash: Option<String> = None;
    let mut prev_seq: Option<u64> = None;
    let mut records = 0;
    for file in &files {
        let f = File::open(file).map_err(io(file))?;
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(io(file))?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |message: String| {
                Ok(Err(Problem {
                    file: file.clone(),
                    line: i + 1,
                    message,
                }))
            };
            let Ok(rec) = serde_json::from_str::<Record>(&line) else {
                return bad("not an audit record (edited or damaged)".into());
            };
            if rec.hash != rec.content_hash() {
                return bad(format!(
                    "record {} was edited: its content no longer matches its hash",
                    rec.seq
                ));
            }
            if let Some(ps) = prev_seq {
                if rec.seq <= ps {
                    return bad(format!(
                        "record {} comes after record {ps}: records were reordered or replayed",
                        rec.seq
                    ));
                }
                if rec.seq != ps + 1 {
                    return bad(format!(
                        "records {}..{} are missing (deleted)",
                        ps + 1,
                        rec.seq - 1
                    ));
                }
            }
            match &prev_hash {
                Some(h) if *h != rec.prev => {
                    return bad(format!(
                        "record {} does not link to the record before it: that record was changed or removed",
                        rec.seq
                    ));
                }
                None if rec.seq == 1 && rec.prev != GENESIS => {
                    return bad("the first record does not start the chain".into());
                }
                _ => {}
            }
            prev_hash = Some(sha(line.as_bytes()));
            prev_seq = Some(rec.seq);
            records += 1;
        }
    }
    if let (Some(h), Some(last)) = (head, files.last()) {
        let truncated = prev_seq.is_none_or(|s| s < h.seq)
            || prev_hash.as_deref() != Some(h.line_hash.as_str()) && prev_seq == Some(h.seq);
        if truncated {
            return Ok(Err(Problem {
                file: last.clone(),
                line: 0,
                message: format!(
                    "the log ends before record {} that was written last: its tail was deleted or changed",
                    h.seq
                ),
            }));
        }
    }
    Ok(Ok(Verified {
        records,
        files: files.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_with(dir: &Path, n: u64, max: u64) -> AuditLog {
        let mut log = AuditLog::open(dir, max).unwrap();
        for i in 0..n {
            log.append("scan", json!({ "containers": i })).unwrap();
        }
        log
    }

    fn lines(p: &Path) -> Vec<String> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write_lines(p: &Path, l: &[String]) {
        std::fs::write(p, l.join("\n") + "\n").unwrap();
    }

    #[test]
    fn an_intact_log_verifies_and_reopening_continues_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        log_with(dir.path(), 5, 1 << 20);
        let mut log = AuditLog::open(dir.path(), 1 << 20).unwrap();
        let r = log.append("export", json!({ "format": "html" })).unwrap();
        assert_eq!(r.seq, 6);
        assert_eq!(
            verify(dir.path()).unwrap(),
            Ok(Verified {
                records: 6,
                files: 1
            })
        );
    }

    #[test]
    fn an_edited_line_is_found_at_that_line() {
        let dir = tempfile::tempdir().unwrap();
        log_with(dir.path(), 5, 1 << 20);
        let p = dir.path().join(CURRENT);
        let mut l = lines(&p);
        l[2] = l[2].replace("\"containers\":2", "\"containers\":99");
        write_lines(&p, &l);
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("record 3 was edited"), "{e}");
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        log_with(dir.path(), 5, 1 << 20);
        let p = dir.path().join(CURRENT);
        let mut l = lines(&p);
        let mut rec: Record = serde_json::from_str(&l[1]).unwrap();
        rec.data = json!({ "containers": 1000 });
        rec.hash = rec.content_hash();
        l[1] = serde_json::to_string(&rec).unwrap();
        write_lines(&p, &l);
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("does not link"), "{e}");
    }

    #[test]
    fn deleted_reordered_and_truncated_records_are_found() {
        let dir = tempfile::tempdir().unwrap();
        log_with(dir.path(), 5, 1 << 20);
        let p = dir.path().join(CURRENT);
        let orig = lines(&p);

        let mut l = orig.clone();
        l.remove(2);
        write_lines(&p, &l);
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert!(e.message.contains("records 3..3 are missing"), "{e}");

        let mut l = orig.clone();
        l.swap(1, 2);
        write_lines(&p, &l);
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert_eq!(e.line, 2);

        let l = orig[..4].to_vec();
        write_lines(&p, &l);
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert!(e.message.contains("tail was deleted"), "{e}");
    }

    #[test]
    fn rotation_keeps_the_chain_verifiable_across_files() {
        let dir = tempfile::tempdir().unwrap();
        log_with(dir.path(), 40, 1024);
        let files = rotated_files(dir.path()).unwrap();
        assert!(files.len() >= 2, "rotated by size: {files:?}");
        assert_eq!(
            verify(dir.path()).unwrap(),
            Ok(Verified {
                records: 40,
                files: files.len() + 1
            })
        );
        // Deleting a whole rotated file in the middle is detected.
        std::fs::remove_file(&files[1]).unwrap();
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert!(e.message.contains("missing"), "{e}");
    }
}
