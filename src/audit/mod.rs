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
    seq: u64,
    last_line_hash: String,
    _lock: File,
}

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
        open: &mut Option<File>,
        kind: &str,
        data: Value,
    ) -> Result<Record, AuditError> {
        let current = self.family.current.clone();
        let size = std::fs::metadata(&current).map(|m| m.len()).unwrap_or(0);
        if size >= self.max_bytes {
            if let Some(f) = open.take() {
                f.sync_data().map_err(io(&current))?;
            }
            let next = self
                .seq
                .checked_add(1)
                .ok_or_else(|| AuditError::Exhausted(current.clone()))?;
            let first = first_seq(&current)?.unwrap_or(next);
            let rotated = self.family.rotated_name(first);
            std::fs::rename(&current, &rotated).map_err(io(&rotated))?;
        }
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
            *open = Some(
                private(OpenOptions::new().create(true).append(true))
                    .open(&current)
                    .map_err(io(&current))?,
            );
        }
        let f = open.as_mut().expect("opened above");
        f.write_all(format!("{line}\n").as_bytes())
            .map_err(io(&current))?;
        self.seq = rec.seq;
        self.last_line_hash = sha(line.as_bytes());
        Ok(rec)
    }

    /// Sync what was written, then move the head forward.
    fn commit(&mut self, open: Option<File>) -> Result<(), AuditError> {
        if let Some(f) = open {
            f.sync_data().map_err(io(&self.family.current))?;
        }
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

/// Appends records on its own thread, so neither the UI nor the engine
/// worker ever waits for the disk. Dropping it (or [`Writer::finish`])
/// writes everything queued, then closes the log.
pub struct Writer {
    tx: Option<std::sync::mpsc::Sender<(String, Value)>>,
    thread: Option<std::thread::JoinHandle<()>>,
    path: PathBuf,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("path", &self.path).finish()
    }
}

impl Writer {
    /// Start writing to `log`. `on_error` hears about a failed append once
    /// per distinct error (a full disk is not reported a thousand times).
    pub fn start(mut log: AuditLog, on_error: Box<dyn Fn(String) + Send>) -> Self {
        let path = log.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel::<(String, Value)>();
        let thread = std::thread::Builder::new()
            .name("shipshape-audit".into())
            .spawn(move || {
                let mut last_error = String::new();
                while let Ok(first) = rx.recv() {
                    // Everything that arrived meanwhile goes in one sync.
                    let batch: Vec<(String, Value)> = std::iter::once(first)
                        .chain(rx.try_iter().take(999))
                        .collect();
                    if let Err(e) = log.append_many(batch) {
                        let msg = e.to_string();
                        if msg != last_error {
                            on_error(msg.clone());
                            last_error = msg;
                        }
                    }
                }
            })
            .expect("spawn the audit thread");
        Self {
            tx: Some(tx),
            thread: Some(thread),
            path,
        }
    }

    /// The file this writer appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue one record.
    pub fn record(&self, kind: &str, data: Value) {
        if let Some(tx) = &self.tx {
            let _ = tx.send((kind.to_string(), data));
        }
    }

    /// Write everything queued and close the log.
    pub fn finish(mut self) {
        self.close();
    }

    fn close(&mut self) {
        self.tx.take();
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
                _ => {}
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
    Ok(Ok(Verified {
        records,
        files: files.len(),
        torn_tail,
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
