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
//! truncated tail is detected too. The log may be any `NAME.jsonl`; its
//! rotated files, head and lock are `NAME-<seq>.jsonl`, `NAME.head` and
//! `NAME.lock` beside it. One process writes at a time (the lock file).
//!
//! Retention ([`Retention`]) bounds the whole family on disk: after a
//! rotation, the oldest rotated files are removed until the log fits. A
//! `retention` record is written (and synced) *before* they are removed; it
//! names the removed files and the exact place where the kept chain resumes
//! (the first kept record's number and `prev` hash), so `verify` can tell a
//! start pruned by retention from one deleted by hand (tampering), and still
//! catches any gap in the middle.
//!
//! [`Writer`] appends from its own thread through a bounded queue; when the
//! disk falls behind, what does not fit is counted by kind and written as
//! one `records_dropped` record, never queued without bound. Repeated
//! engine events are folded into `summary` records before they get there
//! ([`fold`]).

pub mod fold;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev` hash of the very first record of a log: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The log's file name inside the default directory.
pub const CURRENT: &str = "audit.jsonl";
/// Rotate when the current file reaches this size.
pub const DEFAULT_MAX_BYTES: u64 = 16 << 20;
/// The whole log (current and rotated files) is kept within this many MiB
/// unless the user says otherwise (`--audit-keep`, `[audit] keep_mib`).
pub const DEFAULT_KEEP_MIB: u64 = 256;
/// The smallest segment a small retention setting rotates at.
pub const MIN_SEGMENT: u64 = 64 << 10;

/// How much of a log is kept on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// The whole family (current and rotated files) stays within about this
    /// many bytes (plus one record); `None`: everything is kept.
    pub keep_bytes: Option<u64>,
}

impl Default for Retention {
    fn default() -> Self {
        Self::mib(DEFAULT_KEEP_MIB)
    }
}

impl Retention {
    /// Keep everything (as before retention existed).
    pub const UNLIMITED: Self = Self { keep_bytes: None };

    /// Keep about `mib` MiB; 0 keeps everything.
    pub fn mib(mib: u64) -> Self {
        Self {
            keep_bytes: (mib > 0).then(|| mib.saturating_mul(1 << 20)),
        }
    }

    /// The size a file rotates at: an eighth of what is kept (so about
    /// eight files are kept), between [`MIN_SEGMENT`] and
    /// [`DEFAULT_MAX_BYTES`].
    pub fn segment_bytes(&self) -> u64 {
        match self.keep_bytes {
            None => DEFAULT_MAX_BYTES,
            Some(k) => (k / 8).clamp(MIN_SEGMENT, DEFAULT_MAX_BYTES),
        }
    }

    /// In words, for records and messages.
    pub fn describe(&self) -> String {
        match self.keep_bytes {
            None => "keep everything".into(),
            Some(b) if b % (1 << 20) == 0 => format!("keep {} MiB", b >> 20),
            Some(b) => format!("keep {b} bytes"),
        }
    }
}
/// The longest line a log may hold. A record is far smaller (values in it
/// are bounded where they are read); a longer line is damage, and reading
/// stops there instead of growing without bound.
pub const MAX_LINE: usize = 4 << 20;

/// One line of a log file, as read.
enum RawLine {
    /// Ended by a newline (not included).
    Full(Vec<u8>),
    /// The file ends without a newline: a write cut short, or an editor.
    Unterminated(Vec<u8>),
    /// Longer than [`MAX_LINE`] (the rest of it was skipped).
    TooLong,
}

fn next_line(r: &mut impl BufRead) -> std::io::Result<Option<RawLine>> {
    let mut buf = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Some(RawLine::Full(buf)));
    }
    if buf.len() > MAX_LINE {
        // Skip to the end of this line without keeping it.
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    r.consume(i + 1);
                    break;
                }
                None => {
                    let len = chunk.len();
                    r.consume(len);
                }
            }
        }
        return Ok(Some(RawLine::TooLong));
    }
    Ok(Some(RawLine::Unterminated(buf)))
}

/// What the end of a log file holds.
#[derive(Debug, Default)]
struct FileTail {
    /// The last complete, non-blank line.
    last: Option<String>,
    /// Bytes after the last newline (a torn write), if any.
    torn: Option<Vec<u8>>,
}

fn file_tail(path: &Path) -> Result<FileTail, AuditError> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileTail::default()),
        Err(e) => return Err(io(path)(e)),
    };
    let mut r = BufReader::new(f);
    let mut out = FileTail::default();
    while let Some(line) = next_line(&mut r).map_err(io(path))? {
        match line {
            RawLine::Full(b) => {
                let text = String::from_utf8(b).map_err(|_| AuditError::Damaged(path.into()))?;
                if !text.trim().is_empty() {
                    out.last = Some(text);
                }
            }
            RawLine::Unterminated(b) => out.torn = Some(b),
            RawLine::TooLong => return Err(AuditError::Damaged(path.into())),
        }
    }
    Ok(out)
}

/// The files that make up one log.
#[derive(Debug, Clone)]
struct Family {
    dir: PathBuf,
    stem: String,
    current: PathBuf,
}

impl Family {
    fn of(current: &Path) -> Self {
        let dir = current
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let stem = current
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audit".into());
        Self {
            dir,
            stem,
            current: current.to_path_buf(),
        }
    }

    fn head(&self) -> PathBuf {
        self.dir.join(format!("{}.head", self.stem))
    }

    fn lock(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stem))
    }

    fn rotated_name(&self, first_seq: u64) -> PathBuf {
        self.dir
            .join(format!("{}-{first_seq:012}.jsonl", self.stem))
    }

    /// Rotated files, oldest first.
    fn rotated(&self) -> Result<Vec<PathBuf>, AuditError> {
        let prefix = format!("{}-", self.stem);
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(io(&self.dir))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.strip_prefix(&prefix)
                        .and_then(|r| r.strip_suffix(".jsonl"))
                        .is_some_and(|seq| {
                            !seq.is_empty() && seq.bytes().all(|b| b.is_ascii_digit())
                        })
                })
            })
            .collect();
        v.sort();
        Ok(v)
    }
}

/// One line of the audit log, chained to the one before it by hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Its position in the log, from 1, with no gaps.
    pub seq: u64,
    /// When it was written.
    pub time: DateTime<Utc>,
    /// `scan`, `export`, `event`, `exec`, `gap`, …
    pub kind: String,
    /// What happened, as the JSON object the writer was given.
    pub data: Value,
    /// The hash of the record before it ([`GENESIS`] for the first).
    pub prev: String,
    /// SHA-256 over this record's other fields and `prev`, in hex.
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

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing a file of the log failed.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    #[error(
        "audit log {0}: the last record is damaged; refusing to append (run `shipshape audit verify`)"
    )]
    /// The log's last record does not parse or does not chain: nothing is appended to it.
    Damaged(PathBuf),
    #[error(
        "audit log {0} is in use by another shipshape (a window or `shipshape watch`); \
         this one does not record — give it its own file with --audit-log"
    )]
    /// Another process holds the log's lock.
    Busy(PathBuf),
    /// The log grew past its size ceiling and rotation could not make room.
    #[error("audit log {0} is full: its record numbers are used up; start a new log")]
    Exhausted(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An append-only, hash-chained log: one current file plus its rotated
/// predecessors. Holds the log's lock while open.
pub struct AuditLog {
    family: Family,
    max_bytes: u64,
    /// The whole family's ceiling on disk (see [`Retention`]).
    keep_bytes: Option<u64>,
    /// The current file's size, as written (no `stat` per record).
    size: u64,
    seq: u64,
    last_line_hash: String,
    _lock: File,
}

/// The current file, opened for a batch of appends (buffered; flushed and
/// synced before a rotation and at the commit).
type Open = Option<std::io::BufWriter<File>>;

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.family.current)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// The default directory: `<data dir>/shipshape/audit`.
    pub fn default_dir() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape").map(|d| d.data_dir().join("audit"))
    }

    /// The default log file: `<data dir>/shipshape/audit/audit.jsonl`.
    pub fn default_path() -> Option<PathBuf> {
        Self::default_dir().map(|d| d.join(CURRENT))
    }

    /// The log's main file.
    pub fn path(&self) -> &Path {
        &self.family.current
    }

    /// Open (or create) the log whose current file is `current`,
    /// continuing its chain. Fails with [`AuditError::Busy`] while another
    /// process has it open.
    pub fn open(current: &Path, max_bytes: u64) -> Result<Self, AuditError> {
        Self::open_inner(current, max_bytes, None)
    }

    /// Open (or create) the log, rotating and pruning it as `retention`
    /// says. A family already larger than that (the setting was lowered,
    /// or an older shipshape kept everything) is pruned now.
    pub fn open_with(current: &Path, retention: Retention) -> Result<Self, AuditError> {
        let mut log = Self::open_inner(current, retention.segment_bytes(), retention.keep_bytes)?;
        let mut open = None;
        if log.prune(&mut open)? {
            log.commit(open)?;
        }
        Ok(log)
    }

    fn open_inner(
        current: &Path,
        max_bytes: u64,
        keep_bytes: Option<u64>,
    ) -> Result<Self, AuditError> {
        let family = Family::of(current);
        let dir = family.dir.clone();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock_path = family.lock();
        let lock = private(OpenOptions::new().create(true).truncate(false).write(true))
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(AuditError::Busy(current.to_path_buf()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let mut log = Self {
            family,
            max_bytes: max_bytes.max(1024),
            keep_bytes,
            size: 0,
            seq: 0,
            last_line_hash: GENESIS.into(),
            _lock: lock,
        };
        // Continue from the last complete line of the current file, or of
        // the newest rotated file when the current one has none.
        let current_tail = file_tail(&log.family.current)?;
        let mut files = log.family.rotated()?;
        files.push(log.family.current.clone());
        for (i, f) in files.iter().enumerate().rev() {
            let tail = if i + 1 == files.len() {
                FileTail {
                    last: current_tail.last.clone(),
                    torn: None,
                }
            } else {
                file_tail(f)?
            };
            // Only the file being written can end in a cut-short write.
            if tail.torn.is_some() {
                return Err(AuditError::Damaged(f.clone()));
            }
            if let Some(line) = tail.last {
                let rec: Record =
                    serde_json::from_str(&line).map_err(|_| AuditError::Damaged(f.clone()))?;
                log.seq = rec.seq;
                log.last_line_hash = sha(line.as_bytes());
                break;
            }
        }
        log.size = std::fs::metadata(&log.family.current).map_or(0, |m| m.len());
        if let Some(torn) = current_tail.torn {
            log.seal(&torn)?;
        }
        Ok(log)
    }

    /// The current file ends without a newline: a crash cut a write short
    /// (or an editor dropped the final newline). Never append onto it.
    ///
    /// A complete, linking record that only lacks its newline gets the
    /// newline. Anything else is ended with a newline and followed by a
    /// `torn_tail` record holding the torn bytes' length and SHA-256, so
    /// `verify` can prove the chain across it and nothing is deleted.
    fn seal(&mut self, torn: &[u8]) -> Result<(), AuditError> {
        let current = self.family.current.clone();
        let whole = std::str::from_utf8(torn)
            .ok()
            .and_then(|t| serde_json::from_str::<Record>(t).ok())
            .filter(|r| {
                r.hash == r.content_hash()
                    && r.prev == self.last_line_hash
                    && Some(r.seq) == self.seq.checked_add(1)
            });
        let mut f = private(OpenOptions::new().append(true))
            .open(&current)
            .map_err(io(&current))?;
        f.write_all(b"\n").map_err(io(&current))?;
        f.sync_data().map_err(io(&current))?;
        drop(f);
        self.size += 1;
        match whole {
            Some(rec) => {
                self.seq = rec.seq;
                self.last_line_hash = sha(torn);
                self.commit(None)
            }
            None => {
                self.append(
                    "torn_tail",
                    serde_json::json!({
                        "bytes": torn.len(),
                        "sha256": sha(torn),
                        "note": "the line before this record is a write that was cut short \
                                 (a crash or a full disk); it was kept as it is",
                    }),
                )?;
                Ok(())
            }
        }
    }

    /// Append one record (durably: synced before this returns); rotates
    /// first when the current file is full.
    pub fn append(&mut self, kind: &str, data: Value) -> Result<Record, AuditError> {
        let mut open = None;
        let rec = self.write_record(&mut open, kind, data)?;
        self.commit(open)?;
        Ok(rec)
    }

    /// Append several records with one sync to disk (the writer thread
    /// batches whatever arrived together).
    pub fn append_many(
        &mut self,
        items: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<u64, AuditError> {
        let mut open = None;
        for (kind, data) in items {
            self.write_record(&mut open, &kind, data)?;
        }
        self.commit(open)?;
        Ok(self.seq)
    }

    fn write_record(
        &mut self,
        open: &mut Open,
        kind: &str,
        data: Value,
    ) -> Result<Record, AuditError> {
        if self.size >= self.max_bytes {
            self.rotate(open)?;
            self.prune(open)?;
        }
        self.write_line(open, kind, data)
    }

    /// Flush and sync what this batch wrote to the current file.
    fn sync(&self, open: &mut Open) -> Result<(), AuditError> {
        if let Some(w) = open.as_mut() {
            let current = &self.family.current;
            w.flush().map_err(io(current))?;
            w.get_ref().sync_data().map_err(io(current))?;
        }
        Ok(())
    }

    /// The current file is full: it becomes `NAME-<first seq>.jsonl`.
    fn rotate(&mut self, open: &mut Open) -> Result<(), AuditError> {
        let current = self.family.current.clone();
        self.sync(open)?;
        *open = None;
        let next = self
            .seq
            .checked_add(1)
            .ok_or_else(|| AuditError::Exhausted(current.clone()))?;
        let first = first_record(&current)?.map_or(next, |r| r.seq);
        let rotated = self.family.rotated_name(first);
        std::fs::rename(&current, &rotated).map_err(io(&rotated))?;
        self.size = 0;
        Ok(())
    }

    /// Remove the oldest rotated files until the family fits its
    /// retention. The `retention` record saying what goes and where the
    /// kept chain resumes is written and synced first; only then are the
    /// files removed (a crash in between leaves files a record says were
    /// removed: harmless). True when something was removed.
    fn prune(&mut self, open: &mut Open) -> Result<bool, AuditError> {
        let Some(keep) = self.keep_bytes else {
            return Ok(false);
        };
        let rotated = self.family.rotated()?;
        let sizes: Vec<u64> = rotated
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .collect();
        // The current file grows to a segment: the rotated ones get the rest.
        let room = keep.saturating_sub(self.max_bytes.max(self.size));
        let mut total: u64 = sizes.iter().sum();
        let mut cut = 0;
        while cut < rotated.len() && total > room {
            total -= sizes[cut];
            cut += 1;
        }
        if cut == 0 {
            return Ok(false);
        }
        let removed = &rotated[..cut];
        // Where the kept chain resumes: the first record of the oldest kept
        // file, or the retention record itself when no rotated file stays.
        let (resumes_at, resumes_prev) = match rotated.get(cut) {
            Some(f) => match first_record(f)? {
                Some(r) => (r.seq, r.prev),
                // Damaged: nothing is removed (that would hide the damage
                // from `verify`); the log outgrows its setting until then.
                None => return Ok(false),
            },
            None => (
                self.seq
                    .checked_add(1)
                    .ok_or_else(|| AuditError::Exhausted(self.family.current.clone()))?,
                self.last_line_hash.clone(),
            ),
        };
        let from = first_record(&removed[0])?.map_or(1, |r| r.seq);
        let names: Vec<String> = removed
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let bytes: u64 = sizes[..cut].iter().sum();
        self.write_line(
            open,
            "retention",
            serde_json::json!({
                "removed": names,
                "records": { "from": from, "through": resumes_at - 1 },
                "bytes": bytes,
                "resumes_at": resumes_at,
                "resumes_prev": resumes_prev,
                "keep_bytes": keep,
                "note": format!(
                    "records {from}..{} ({} file(s), {bytes} bytes) were removed to keep the log \
                     within {} MiB; the chain is verifiable from record {resumes_at}",
                    resumes_at - 1,
                    names.len(),
                    keep >> 20,
                ),
            }),
        )?;
        self.sync(open)?;
        for f in removed {
            match std::fs::remove_file(f) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(f)(e)),
            }
        }
        Ok(true)
    }

    /// Write one record at the end of the current file (no rotation).
    fn write_line(
        &mut self,
        open: &mut Open,
        kind: &str,
        data: Value,
    ) -> Result<Record, AuditError> {
        let current = self.family.current.clone();
        let seq = self
            .seq
            .checked_add(1)
            .ok_or_else(|| AuditError::Exhausted(current.clone()))?;
        let mut rec = Record {
            seq,
            time: Utc::now(),
            kind: kind.into(),
            data,
            prev: self.last_line_hash.clone(),
            hash: String::new(),
        };
        rec.hash = rec.content_hash();
        // The hash covers the data; the line shows hidden characters as
        // \u escapes, so `tail -f` on the log cannot drive a terminal.
        let line = crate::model::json_safe(serde_json::to_string(&rec).expect("records serialise"));
        if open.is_none() {
            *open = Some(std::io::BufWriter::with_capacity(
                64 << 10,
                private(OpenOptions::new().create(true).append(true))
                    .open(&current)
                    .map_err(io(&current))?,
            ));
        }
        let f = open.as_mut().expect("opened above");
        f.write_all(line.as_bytes())
            .and_then(|()| f.write_all(b"\n"))
            .map_err(io(&current))?;
        self.size += line.len() as u64 + 1;
        self.seq = rec.seq;
        self.last_line_hash = sha(line.as_bytes());
        Ok(rec)
    }

    /// Sync what was written, then move the head forward.
    fn commit(&mut self, mut open: Open) -> Result<(), AuditError> {
        self.sync(&mut open)?;
        let head = serde_json::to_string(&Head {
            seq: self.seq,
            line_hash: self.last_line_hash.clone(),
        })
        .expect("serialises");
        let head_path = self.family.head();
        crate::report::write::write_atomic(&head_path, head.as_bytes()).map_err(|e| {
            AuditError::Io {
                path: head_path.clone(),
                source: std::io::Error::other(e.reason),
            }
        })
    }
}

/// New log files are readable by their owner only: they name containers,
/// commands and users.
fn private(o: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

/// Records that may wait for the writer thread at once. Past this, an
/// ordinary record ([`Writer::record_sheddable`]) is counted instead of
/// queued; the counts are written as one `records_dropped` record.
pub const WRITER_QUEUE: usize = 2048;
/// Extra room kept for records that must not be shed (gaps, findings,
/// summaries, privileged or root execs, the session's own records): they
/// are counted only when this is full too.
pub const WRITER_RESERVE: usize = 512;
/// Records written with one sync.
const BATCH: usize = 1024;

#[derive(Default)]
struct Queue {
    items: std::collections::VecDeque<(String, Value)>,
    /// Not queued, by kind, since the last `records_dropped` record.
    dropped: std::collections::BTreeMap<String, u64>,
    closed: bool,
}

struct Shared {
    queue: std::sync::Mutex<Queue>,
    ready: std::sync::Condvar,
    /// How many records wait (read without the lock).
    waiting: std::sync::atomic::AtomicUsize,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Appends records on its own thread, so neither the UI nor the engine
/// worker ever waits for the disk. The queue between them is bounded
/// ([`WRITER_QUEUE`], [`WRITER_RESERVE`]): a writer that falls behind costs
/// counts in a `records_dropped` record, never memory. Dropping it (or
/// [`Writer::finish`]) writes what is queued — bounded work — then closes
/// the log.
pub struct Writer {
    shared: std::sync::Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

/// The record that says what the writer could not keep.
fn records_dropped(counts: &std::collections::BTreeMap<String, u64>) -> Value {
    let total: u64 = counts.values().sum();
    serde_json::json!({
        "dropped": total,
        "kinds": counts,
        "note": format!(
            "{total} record(s) were not written: they came faster than the disk took them and the \
             writer's queue was full ({})",
            counts
                .iter()
                .map(|(k, n)| format!("{k} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The writer thread: take what is queued (at most [`BATCH`] at a time),
/// add a `records_dropped` record for what was counted instead, append it
/// all with one sync; until closed and empty.
fn write_queued(shared: &Shared, mut log: AuditLog, on_error: Box<dyn Fn(String) + Send>) {
    let mut last_error = String::new();
    loop {
        let (mut batch, dropped, closed) = {
            let mut q = shared.lock();
            while q.items.is_empty() && q.dropped.is_empty() && !q.closed {
                q = shared.ready.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            let n = q.items.len().min(BATCH);
            let batch: Vec<(String, Value)> = q.items.drain(..n).collect();
            shared
                .waiting
                .store(q.items.len(), std::sync::atomic::Ordering::Release);
            let done = q.closed && q.items.is_empty();
            (batch, std::mem::take(&mut q.dropped), done)
        };
        if !dropped.is_empty() {
            batch.push(("records_dropped".into(), records_dropped(&dropped)));
        }
        if !batch.is_empty()
            && let Err(e) = log.append_many(batch)
        {
            let msg = e.to_string();
            if msg != last_error {
                on_error(msg.clone());
                last_error = msg;
            }
        }
        if closed {
            return;
        }
    }
}

impl Writer {
    /// Start writing to `log`. `on_error` hears about a failed append once
    /// per distinct error (a full disk is not reported a thousand times).
    pub fn start(log: AuditLog, on_error: Box<dyn Fn(String) + Send>) -> Self {
        let mut w = Self::idle(log.path().to_path_buf());
        let shared = w.shared.clone();
        w.thread = Some(
            std::thread::Builder::new()
                .name("shipshape-audit".into())
                .spawn(move || write_queued(&shared, log, on_error))
                .expect("spawn the audit thread"),
        );
        w
    }

    /// A writer whose queue nobody empties yet.
    fn idle(path: PathBuf) -> Self {
        Self {
            shared: std::sync::Arc::new(Shared {
                queue: Default::default(),
                ready: std::sync::Condvar::new(),
                waiting: Default::default(),
            }),
            thread: None,
            path,
        }
    }

    /// The file this writer appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue one record that must not be shed: it may use the reserve, and
    /// is counted (in `records_dropped`) only when that is full too.
    pub fn record(&self, kind: &str, data: Value) {
        self.push(kind, data, WRITER_QUEUE + WRITER_RESERVE);
    }

    /// Queue one ordinary record (an engine event): counted instead of
    /// queued when [`WRITER_QUEUE`] records already wait.
    pub fn record_sheddable(&self, kind: &str, data: Value) {
        self.push(kind, data, WRITER_QUEUE);
    }

    /// The writer is falling behind (half its queue waits): callers fold
    /// more ([`fold::Folder::set_pressure`]).
    pub fn under_pressure(&self) -> bool {
        self.shared
            .waiting
            .load(std::sync::atomic::Ordering::Acquire)
            >= WRITER_QUEUE / 2
    }

    fn push(&self, kind: &str, data: Value, limit: usize) {
        let mut q = self.shared.lock();
        if q.closed {
            return;
        }
        if q.items.len() < limit {
            q.items.push_back((kind.to_string(), data));
            self.shared
                .waiting
                .store(q.items.len(), std::sync::atomic::Ordering::Release);
        } else {
            *q.dropped.entry(kind.to_string()).or_default() += 1;
        }
        drop(q);
        self.shared.ready.notify_one();
    }

    /// Write everything queued and close the log.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.close();
    }
}

/// The last `n` records of a log (the current file, then rotated ones as
/// needed), oldest first. Read-only: works while another process writes.
/// Lines that do not parse are skipped (`verify` is the judge of those).
pub fn tail(current: &Path, n: usize) -> Result<Vec<Record>, AuditError> {
    let mut out: Vec<Record> = Vec::new();
    for f in newest_first(current)? {
        if out.len() >= n {
            break;
        }
        let Some(text) = read_if_there(&f)? else {
            continue;
        };
        let mut recs: Vec<Record> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let take = (n - out.len()).min(recs.len());
        let mut newest = recs.split_off(recs.len() - take);
        newest.append(&mut out);
        out = newest;
    }
    Ok(out)
}

/// The files of a log, the current one first, then the rotated ones from
/// the newest.
fn newest_first(current: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut files = Family::of(current).rotated()?;
    files.push(current.to_path_buf());
    files.reverse();
    Ok(files)
}

/// A log file's text, or `None` when it is gone (rotated away meanwhile).
fn read_if_there(f: &Path) -> Result<Option<String>, AuditError> {
    match std::fs::read_to_string(f) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(f)(e)),
    }
}

/// Files [`records_of_kind`] reads at most, newest first (16 MiB each).
pub const KIND_SCAN_FILES: usize = 16;

/// Every record of one kind (`scan`, …) in the newest `max_files` files of
/// a log, oldest first. Lines are matched as text before parsing, so a log
/// of events costs a read, not a parse. Read-only.
pub fn records_of_kind(
    current: &Path,
    kind: &str,
    max_files: usize,
) -> Result<Vec<Record>, AuditError> {
    let needle = format!("\"kind\":\"{kind}\"");
    let mut out: Vec<Record> = Vec::new();
    for f in newest_first(current)?.into_iter().take(max_files.max(1)) {
        let Some(text) = read_if_there(&f)? else {
            continue;
        };
        let mut recs: Vec<Record> = text
            .lines()
            .filter(|l| l.contains(&needle))
            .filter_map(|l| serde_json::from_str::<Record>(l).ok())
            .filter(|r| r.kind == kind)
            .collect();
        recs.append(&mut out);
        out = recs;
    }
    Ok(out)
}

/// The first record of a log file (its first line, read within
/// [`MAX_LINE`]), if it is one.
fn first_record(path: &Path) -> Result<Option<Record>, AuditError> {
    let f = File::open(path).map_err(io(path))?;
    let mut r = BufReader::new(f);
    Ok(match next_line(&mut r).map_err(io(path))? {
        Some(RawLine::Full(b) | RawLine::Unterminated(b)) => serde_json::from_slice(&b).ok(),
        _ => None,
    })
}

/// Where verification stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line in `file`.
    pub line: usize,
    /// What is wrong, for a person.
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
    /// How many records were checked.
    pub records: u64,
    /// How many files (the current log and its rotations) they were in.
    pub files: usize,
    /// The log ends in a write that was cut short (this many bytes, no
    /// newline) after its last committed record: what a crash leaves. Not
    /// tampering; the next shipshape to open the log seals it.
    pub torn_tail: Option<usize>,
    /// Records 1 to this one are no longer in the log: retention removed
    /// them, as a `retention` record in the verified chain says (naming
    /// exactly where the kept chain resumes). Not tampering.
    pub pruned_through: Option<u64>,
}

/// A line that is not a valid record, kept until the next line says
/// whether it is a sealed torn write.
struct Suspect {
    line: usize,
    sha: String,
    bytes: usize,
    message: String,
}

/// What a log's head file may be, for [`verify`] (a few hundred bytes).
const HEAD_FILE: crate::file::Limit = crate::file::Limit {
    what: "an audit log's head",
    bytes: 64 << 10,
};

/// Verify a log: a directory (its `audit.jsonl` family), a log file with
/// its rotated predecessors and head, or — for a file without a head
/// beside it, such as one rotated file — that file's own chain.
pub fn verify(path: &Path) -> Result<Result<Verified, Problem>, AuditError> {
    let current = if path.is_dir() {
        path.join(CURRENT)
    } else {
        path.to_path_buf()
    };
    let family = Family::of(&current);
    // A whole log (its head beside it) must start at record 1, or say why
    // not; one file alone is its own chain, from wherever it starts.
    let family_mode = path.is_dir() || family.head().exists();
    let (files, head) = if path.is_dir() || family.head().exists() {
        let mut f = family.rotated()?;
        if current.exists() {
            f.push(current.clone());
        }
        let head = crate::file::read_to_string(&family.head(), HEAD_FILE)
            .ok()
            .and_then(|t| serde_json::from_str::<Head>(&t).ok());
        (f, head)
    } else {
        std::fs::metadata(&current).map_err(io(&current))?;
        (vec![current.clone()], None)
    };
    let mut prev_hash: Option<String> = None;
    let mut prev_seq: Option<u64> = None;
    let mut records = 0;
    let mut torn_tail = None;
    // A log that does not start at record 1: where it starts (record,
    // `prev`, file, line), and whether a retention record vouches for it.
    let mut start: Option<(u64, String, PathBuf, usize)> = None;
    let mut vouched = false;
    for (fi, file) in files.iter().enumerate() {
        let last_file = fi + 1 == files.len();
        let bad = |line: usize, message: String| {
            Ok(Err(Problem {
                file: file.clone(),
                line,
                message,
            }))
        };
        // Regular files only: a FIFO or `/dev/zero` named as the log is
        // refused at once (each line is bounded by `next_line`).
        let f = crate::file::open(file).map_err(io(file))?;
        let mut reader = BufReader::new(f);
        let mut suspect: Option<Suspect> = None;
        let mut i = 0;
        while let Some(raw) = next_line(&mut reader).map_err(io(file))? {
            i += 1;
            let (bytes, terminated) = match raw {
                RawLine::Full(b) => (b, true),
                RawLine::Unterminated(b) => (b, false),
                RawLine::TooLong => {
                    return bad(
                        i,
                        format!("line longer than {MAX_LINE} bytes: not an audit record"),
                    );
                }
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let parsed = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| serde_json::from_str::<Record>(t).ok());
            let rec = match parsed {
                None => Err("not an audit record (edited or damaged)".to_string()),
                Some(r) if r.hash != r.content_hash() => Err(format!(
                    "record {} was edited: its content no longer matches its hash",
                    r.seq
                )),
                Some(r) => Ok(r),
            };
            let rec = match rec {
                Ok(r) => r,
                Err(message) => {
                    if let Some(s) = suspect.take() {
                        return bad(s.line, s.message);
                    }
                    if !terminated && last_file {
                        // A write cut short at the very end: judged below
                        // against the head.
                        torn_tail = Some(bytes.len());
                        break;
                    }
                    suspect = Some(Suspect {
                        line: i,
                        sha: sha(&bytes),
                        bytes: bytes.len(),
                        message,
                    });
                    continue;
                }
            };
            // A damaged line is only acceptable as a torn write that the
            // very next record seals, by its length and hash.
            if let Some(s) = suspect.take() {
                let sealed = rec.kind == "torn_tail"
                    && rec.data["sha256"].as_str() == Some(s.sha.as_str())
                    && rec.data["bytes"].as_u64() == Some(s.bytes as u64);
                if !sealed {
                    return bad(s.line, s.message);
                }
            }
            if rec.seq == 0 {
                return bad(i, "record number 0 is out of range (damaged)".into());
            }
            if let Some(ps) = prev_seq {
                if rec.seq <= ps {
                    return bad(
                        i,
                        format!(
                            "record {} comes after record {ps}: records were reordered or replayed",
                            rec.seq
                        ),
                    );
                }
                if Some(rec.seq) != ps.checked_add(1) {
                    return bad(
                        i,
                        format!("records {}..{} are missing (deleted)", ps + 1, rec.seq - 1),
                    );
                }
            }
            match &prev_hash {
                Some(h) if *h != rec.prev => {
                    return bad(
                        i,
                        format!(
                            "record {} does not link to the record before it: that record was changed or removed",
                            rec.seq
                        ),
                    );
                }
                None if rec.seq == 1 && rec.prev != GENESIS => {
                    return bad(i, "the first record does not start the chain".into());
                }
                None if rec.seq > 1 && family_mode => {
                    start = Some((rec.seq, rec.prev.clone(), file.clone(), i));
                }
                _ => {}
            }
            if rec.kind == "retention"
                && let Some((at, prev, ..)) = &start
                && rec.data["resumes_at"].as_u64() == Some(*at)
                && rec.data["resumes_prev"].as_str() == Some(prev.as_str())
            {
                vouched = true;
            }
            prev_hash = Some(sha(&bytes));
            prev_seq = Some(rec.seq);
            records += 1;
        }
        if let Some(s) = suspect {
            return bad(s.line, s.message);
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
    if let Some((at, _, file, line)) = &start
        && !vouched
    {
        return Ok(Err(Problem {
            file: file.clone(),
            line: *line,
            message: format!(
                "the log starts at record {at}: records 1..{} are missing and no retention \
                 record accounts for them (deleted)",
                at - 1
            ),
        }));
    }
    Ok(Ok(Verified {
        records,
        files: files.len(),
        torn_tail,
        pruned_through: start.map(|(at, ..)| at - 1),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn log_with(dir: &Path, n: u64, max: u64) -> AuditLog {
        let mut log = AuditLog::open(&dir.join(CURRENT), max).unwrap();
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

    /// The posture chart's read: only `scan` records, across rotated
    /// files, oldest first, and only as many files as asked for.
    #[test]
    fn records_of_one_kind_across_rotations() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = AuditLog::open(&dir.path().join(CURRENT), 4096).unwrap();
        for i in 0..60u64 {
            log.append("scan", json!({ "containers": i })).unwrap();
            // A look-alike: the text matches, the kind does not.
            log.append("event", json!({ "detail": "\"kind\":\"scan\"" }))
                .unwrap();
        }
        drop(log);
        let current = dir.path().join(CURRENT);
        assert!(
            Family::of(&current).rotated().unwrap().len() >= 2,
            "rotated"
        );
        let all = records_of_kind(&current, "scan", 1000).unwrap();
        let n: Vec<u64> = all
            .iter()
            .map(|r| r.data["containers"].as_u64().unwrap())
            .collect();
        assert_eq!(n, (0..60).collect::<Vec<_>>(), "every scan, in order");
        let newest = records_of_kind(&current, "scan", 2).unwrap();
        assert!(newest.len() < 60, "two files only: {}", newest.len());
        let seqs = |v: &[Record]| v.iter().map(|r| r.seq).collect::<Vec<_>>();
        assert!(seqs(&all).ends_with(&seqs(&newest)), "the newest ones");
    }

    #[test]
    fn an_intact_log_verifies_and_reopening_continues_the_chain() {
        let dir = tempfile::tempdir().unwrap();
        drop(log_with(dir.path(), 5, 1 << 20));
        let mut log = AuditLog::open(&dir.path().join(CURRENT), 1 << 20).unwrap();
        let r = log.append("export", json!({ "format": "html" })).unwrap();
        assert_eq!(r.seq, 6);
        assert_eq!(
            verify(dir.path()).unwrap(),
            Ok(Verified {
                records: 6,
                files: 1,
                torn_tail: None,
                pruned_through: None,
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
        let files = Family::of(&dir.path().join(CURRENT)).rotated().unwrap();
        assert!(files.len() >= 2, "rotated by size: {files:?}");
        assert_eq!(
            verify(dir.path()).unwrap(),
            Ok(Verified {
                records: 40,
                files: files.len() + 1,
                torn_tail: None,
                pruned_through: None,
            })
        );
        // Deleting a whole rotated file in the middle is detected.
        std::fs::remove_file(&files[1]).unwrap();
        let e = verify(dir.path()).unwrap().unwrap_err();
        assert!(e.message.contains("missing"), "{e}");
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_writer_batches_and_flushes_everything_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.jsonl");
        let w = Writer::start(
            AuditLog::open(&p, 4096).unwrap(),
            Box::new(|e| panic!("{e}")),
        );
        for i in 0..500 {
            w.record("event", json!({ "n": i }));
        }
        w.finish();
        let v = verify(&p).unwrap().unwrap();
        assert_eq!(v.records, 500);
        assert!(v.files > 1, "rotated inside batches too");
    }

    #[test]
    fn tail_reads_across_rotated_files_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let mut log = AuditLog::open(&p, 1024).unwrap();
        for i in 0..40 {
            log.append("event", json!({ "n": i })).unwrap();
        }
        assert!(Family::of(&p).rotated().unwrap().len() > 1);
        let t = tail(&p, 25).unwrap();
        let seqs: Vec<u64> = t.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (16..=40).collect::<Vec<_>>());
        assert_eq!(tail(&p, 1000).unwrap().len(), 40);
        assert!(tail(&dir.path().join("none.jsonl"), 5).unwrap().is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn log_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.jsonl");
        let mut log = AuditLog::open(&p, 1 << 20).unwrap();
        log.append("event", json!({})).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("watch.jsonl");
        let first = AuditLog::open(&p, 1 << 20).unwrap();
        assert!(matches!(
            AuditLog::open(&p, 1 << 20),
            Err(AuditError::Busy(_))
        ));
        drop(first);
        AuditLog::open(&p, 1 << 20).unwrap();
    }

    #[test]
    fn a_named_file_keeps_its_family_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("trail.jsonl");
        let mut log = AuditLog::open(&p, 1024).unwrap();
        for i in 0..30 {
            log.append("event", json!({ "n": i })).unwrap();
        }
        drop(log);
        assert!(dir.path().join("trail.head").exists());
        let rotated = Family::of(&p).rotated().unwrap();
        assert!(!rotated.is_empty());
        assert!(
            rotated[0]
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("trail-0000")
        );
        let v = verify(&p).unwrap().unwrap();
        assert_eq!(v.records, 30);
        // A rotated file alone verifies as its own chain.
        let alone = verify(&rotated[0]).unwrap().unwrap();
        assert_eq!(alone.files, 1);
    }
}

/// Issue 17: a crash must never make an honest log look tampered with.
#[cfg(test)]
mod torn_tests {
    use super::*;
    use serde_json::json;

    fn log_with(p: &Path, n: u64) {
        let mut log = AuditLog::open(p, 1 << 20).unwrap();
        for i in 0..n {
            log.append("scan", json!({ "containers": i })).unwrap();
        }
    }

    fn cut(p: &Path, keep_of_last: usize) -> Vec<u8> {
        let text = std::fs::read(p).unwrap();
        // Drop the final newline and all but `keep_of_last` bytes of the
        // last line: a write cut short.
        let body = &text[..text.len() - 1];
        let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let kept = [&body[..start], &body[start..start + keep_of_last]].concat();
        std::fs::write(p, &kept).unwrap();
        body[start..start + keep_of_last].to_vec()
    }

    /// The reproduction from the issue: the last record has no final
    /// newline. It used to be glued to the next append.
    #[test]
    fn a_complete_last_record_without_its_newline_is_continued_not_glued() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        log_with(&p, 3);
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, text.trim_end_matches('\n')).unwrap();
        assert_eq!(verify(&p).unwrap().unwrap().records, 3);
        let mut log = AuditLog::open(&p, 1 << 20).unwrap();
        log.append("export", json!({})).unwrap();
        drop(log);
        let v = verify(&p).unwrap().unwrap();
        assert_eq!((v.records, v.torn_tail), (4, None));
    }

    /// A crash between the write and the head: the cut record was never
    /// committed. verify says so (not tampered); open seals it with a
    /// `torn_tail` record carrying the bytes' hash; the chain verifies.
    #[test]
    fn a_torn_last_write_is_sealed_and_the_chain_stays_provable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        log_with(&p, 4);
        // Roll the head back to record 3, as a crash before the head
        // update leaves it, then cut record 4 short.
        let recs = tail(&p, 10).unwrap();
        let line3 = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            .nth(2)
            .unwrap()
            .to_string();
        std::fs::write(
            Family::of(&p).head(),
            serde_json::to_string(&Head {
                seq: recs[2].seq,
                line_hash: sha(line3.as_bytes()),
            })
            .unwrap(),
        )
        .unwrap();
        let torn = cut(&p, 40);
        let v = verify(&p).unwrap().unwrap();
        assert_eq!((v.records, v.torn_tail), (3, Some(40)));

        let mut log = AuditLog::open(&p, 1 << 20).unwrap();
        let next = log.append("event", json!({ "after": "crash" })).unwrap();
        drop(log);
        assert_eq!(next.seq, 5, "the torn_tail record is number 4");
        let v = verify(&p).unwrap().unwrap();
        assert_eq!((v.records, v.torn_tail), (5, None));
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[3].as_bytes(),
            &torn[..],
            "the torn bytes are kept as they were"
        );
        let seal: Record = serde_json::from_str(lines[4]).unwrap();
        assert_eq!(seal.kind, "torn_tail");
        assert_eq!(seal.data["bytes"], 40);
        assert_eq!(seal.data["sha256"], sha(&torn));
    }

    /// A torn write where the head says the record was committed is not a
    /// crash: it stays an error.
    #[test]
    fn a_committed_record_cut_short_is_still_damage() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        log_with(&p, 4);
        cut(&p, 40);
        let e = verify(&p).unwrap().unwrap_err();
        assert!(e.message.contains("tail was deleted"), "{e}");
    }

    /// Sealing cannot launder an edit: a damaged line in the middle that
    /// no torn_tail record vouches for is reported at that line.
    #[test]
    fn a_damaged_middle_line_without_a_seal_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        log_with(&p, 4);
        let text = std::fs::read_to_string(&p).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[1].truncate(30);
        std::fs::write(&p, lines.join("\n") + "\n").unwrap();
        let e = verify(&p).unwrap().unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn record_numbers_that_would_overflow_are_refused_not_wrapped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        let mut rec = Record {
            seq: u64::MAX,
            time: Utc::now(),
            kind: "scan".into(),
            data: json!({}),
            prev: GENESIS.into(),
            hash: String::new(),
        };
        rec.hash = rec.content_hash();
        std::fs::write(&p, serde_json::to_string(&rec).unwrap() + "\n").unwrap();
        let mut log = AuditLog::open(&p, 1 << 20).unwrap();
        let e = log.append("scan", json!({})).unwrap_err();
        assert!(matches!(e, AuditError::Exhausted(_)), "{e}");
        // Record number 0 is damage.
        rec.seq = 0;
        rec.hash = rec.content_hash();
        std::fs::write(&p, serde_json::to_string(&rec).unwrap() + "\n").unwrap();
        drop(log);
        let e = verify(&p).unwrap().unwrap_err();
        assert!(e.message.contains("out of range"), "{e}");
    }

    #[test]
    fn a_monster_line_is_refused_without_reading_it_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        log_with(&p, 2);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&vec![b'x'; MAX_LINE + 10]).unwrap();
        f.write_all(b"\n").unwrap();
        drop(f);
        let e = verify(&p).unwrap().unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("longer than"), "{e}");
        assert!(matches!(
            AuditLog::open(&p, 1 << 20),
            Err(AuditError::Damaged(_))
        ));
    }
}

/// Issue 39 (D10): retention bounds the files, and the chain stays
/// verifiable from the oldest kept file; the writer's queue is bounded.
#[cfg(test)]
mod retention_tests {
    use super::*;
    use serde_json::json;

    fn family_bytes(p: &Path) -> u64 {
        let mut files = Family::of(p).rotated().unwrap();
        files.push(p.to_path_buf());
        files
            .iter()
            .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
            .sum()
    }

    /// 1 MiB kept, 128 KiB segments: 2 MiB of records leave at most about
    /// 1 MiB on disk, and verify passes, saying retention pruned the start.
    fn pruned_log(dir: &Path) -> (PathBuf, u64) {
        let p = dir.join(CURRENT);
        let r = Retention::mib(1);
        assert_eq!(r.segment_bytes(), 128 << 10);
        let mut log = AuditLog::open_with(&p, r).unwrap();
        let mut n = 0;
        while n < 6_000 {
            let batch: Vec<(String, Value)> = (0..200)
                .map(|i| {
                    (
                        "event".to_string(),
                        json!({ "n": n + i, "pad": "x".repeat(200) }),
                    )
                })
                .collect();
            log.append_many(batch).unwrap();
            n += 200;
        }
        (p, n)
    }

    #[test]
    fn retention_bounds_the_files_and_the_pruned_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let (p, n) = pruned_log(dir.path());
        let bytes = family_bytes(&p);
        let files = Family::of(&p).rotated().unwrap().len() + 1;
        assert!(bytes <= (1 << 20) + 4096, "bounded: {bytes} bytes");
        assert!(files <= 9, "{files} files");
        let v = verify(&p).unwrap().unwrap();
        let through = v.pruned_through.expect("the start was pruned");
        assert!(through > 1000, "{through}");
        // Every record after the pruned ones, plus the retention records.
        assert!(v.records >= n - through, "{v:?}");
        assert_eq!(v.files, files);
        // The directory form verifies the same way.
        assert_eq!(verify(dir.path()).unwrap().unwrap(), v);
        // What retention wrote says exactly what went and where the chain
        // resumes.
        let r = records_of_kind(&p, "retention", 100).unwrap();
        let last = r.last().expect("retention records");
        assert!(
            last.data["removed"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        );
        assert_eq!(last.data["keep_bytes"], 1 << 20);
        assert_eq!(last.data["resumes_at"], through + 1);
        // Reopening continues the chain and keeps it within bounds.
        let mut log = AuditLog::open_with(&p, Retention::mib(1)).unwrap();
        log.append("event", json!({ "after": "reopen" })).unwrap();
        drop(log);
        assert!(verify(&p).unwrap().is_ok());
    }

    /// Deleting one more file than retention did is tampering: the start is
    /// no longer the one a retention record vouches for.
    #[test]
    fn a_start_deleted_beyond_what_retention_removed_is_tampering() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _) = pruned_log(dir.path());
        let oldest = Family::of(&p).rotated().unwrap().remove(0);
        std::fs::remove_file(&oldest).unwrap();
        let e = verify(&p).unwrap().unwrap_err();
        assert!(
            e.message.contains("no retention record accounts for them"),
            "{e}"
        );
    }

    /// A gap in the middle of a pruned log is still caught.
    #[test]
    fn tampering_in_the_middle_of_a_pruned_log_is_still_found() {
        let dir = tempfile::tempdir().unwrap();
        let (p, _) = pruned_log(dir.path());
        let rotated = Family::of(&p).rotated().unwrap();
        assert!(rotated.len() >= 3, "{rotated:?}");
        // An edited record.
        let middle = &rotated[1];
        let text = std::fs::read_to_string(middle).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let before = lines[10].clone();
        lines[10] = lines[10].replacen("\"n\":", "\"n\":1", 1);
        std::fs::write(middle, lines.join("\n") + "\n").unwrap();
        let e = verify(&p).unwrap().unwrap_err();
        assert_eq!((e.file.as_path(), e.line), (middle.as_path(), 11), "{e}");
        assert!(e.message.contains("was edited"), "{e}");
        lines[10] = before;
        std::fs::write(middle, lines.join("\n") + "\n").unwrap();
        assert!(verify(&p).unwrap().is_ok());
        // A whole file removed from the middle.
        std::fs::remove_file(middle).unwrap();
        let e = verify(&p).unwrap().unwrap_err();
        assert!(e.message.contains("missing (deleted)"), "{e}");
    }

    /// A log of the previous version (no retention, everything kept) still
    /// verifies; one whose first file was deleted by hand does not pass as
    /// pruned; opening it with retention prunes it and it verifies again.
    #[test]
    fn logs_of_the_previous_version_verify_and_are_pruned_when_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(CURRENT);
        let mut log = AuditLog::open(&p, 4096).unwrap();
        for b in 0..40 {
            let batch = (0..10).map(|i| {
                let n = b * 10 + i;
                (
                    "event".to_string(),
                    json!({ "n": n, "pad": "y".repeat(100) }),
                )
            });
            log.append_many(batch).unwrap();
        }
        drop(log);
        let v = verify(&p).unwrap().unwrap();
        assert_eq!((v.records, v.pruned_through), (400, None));
        let rotated = Family::of(&p).rotated().unwrap();
        assert!(rotated.len() > 10);
        // Reopened by this version with 1 MiB kept: it is small enough.
        drop(AuditLog::open_with(&p, Retention::mib(1)).unwrap());
        assert_eq!(Family::of(&p).rotated().unwrap().len(), rotated.len());
        // A pruned head cannot be faked by deleting the first file by hand.
        let copy = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, copy.path().join(f.file_name().unwrap())).unwrap();
        }
        std::fs::remove_file(copy.path().join(rotated[0].file_name().unwrap())).unwrap();
        let e = verify(copy.path()).unwrap().unwrap_err();
        assert!(e.message.contains("starts at record"), "{e}");
        // A lower setting prunes at open, and says so.
        let mut log = AuditLog::open_inner(&p, 4096, Some(20_000)).unwrap();
        let mut open = None;
        assert!(log.prune(&mut open).unwrap());
        log.commit(open).unwrap();
        drop(log);
        let v = verify(&p).unwrap().unwrap();
        assert!(v.pruned_through.is_some(), "{v:?}");
        assert!(family_bytes(&p) <= 20_000 + 4096, "{}", family_bytes(&p));
    }

    /// The writer's queue is bounded: what does not fit is counted by kind
    /// in one records_dropped record, records that must not be shed use
    /// the reserve, and finishing is bounded work.
    #[test]
    fn the_writers_queue_is_bounded_and_says_what_it_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.jsonl");
        let log = AuditLog::open(&p, 1 << 30).unwrap();
        // A disk that does not keep up: nobody empties the queue yet.
        let mut w = Writer::idle(p.clone());
        for i in 0..WRITER_QUEUE + 300 {
            w.record_sheddable("event", json!({ "n": i }));
        }
        assert!(w.under_pressure());
        // What must not be shed still fits, in the reserve…
        for _ in 0..WRITER_RESERVE {
            w.record("gap", json!({}));
        }
        // …until that is full too: then it is counted as well.
        w.record("gap", json!({}));
        {
            let q = w.shared.lock();
            assert_eq!(q.items.len(), WRITER_QUEUE + WRITER_RESERVE);
            assert_eq!(q.dropped["event"], 300);
            assert_eq!(q.dropped["gap"], 1);
        }
        let shared = w.shared.clone();
        w.thread = Some(std::thread::spawn(move || {
            write_queued(&shared, log, Box::new(|e| panic!("{e}")));
        }));
        w.finish();
        let dropped = records_of_kind(&p, "records_dropped", 10).unwrap();
        assert_eq!(dropped.len(), 1, "{dropped:?}");
        assert_eq!(dropped[0].data["dropped"], 301);
        assert_eq!(dropped[0].data["kinds"]["event"], 300);
        assert_eq!(dropped[0].data["kinds"]["gap"], 1);
        let v = verify(&p).unwrap().unwrap();
        assert_eq!(v.records, (WRITER_QUEUE + WRITER_RESERVE) as u64 + 1);
    }
}
