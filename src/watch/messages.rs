//! The messages between the UI thread and the engine worker.
//!
//! The UI thread owns all app state; the worker owns the engine connection.
//! They talk only through these owned values over channels.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::assess::Assessment;
use crate::model::stats::{HostPoint, StatsPoint};
use crate::model::{Activity, Inventory};
use crate::sources::host::HostInfo;

/// UI → worker.
#[derive(Debug, Clone)]
pub enum Command {
    /// Take a fresh snapshot now.
    Refresh,
    /// Stop waiting for the backoff timer and try to connect now (to the
    /// same endpoint).
    ReconnectNow,
    /// Forget the endpoint being watched and look for an engine again
    /// (`--host`, `DOCKER_HOST`, the context, the sockets). Only ever on
    /// the user's request: losing an engine never does this.
    Rediscover,
    /// Change how often the inventory is polled.
    SetPollInterval(Duration),
    /// Stop showing these gone containers (all gone ones when empty).
    Dismiss(Vec<String>),
    /// Download the OSV data from `from` (the user pressed Update) and use
    /// it; the old data stays if that fails.
    UpdateVulnDb {
        /// The OSV base URL.
        from: String,
    },
    /// Append one of the UI's own actions (an export) to the audit log.
    Record {
        /// The record's kind (`export`, …).
        kind: String,
        /// Its data, as the audit log stores it.
        data: serde_json::Value,
    },
    /// The containers the window shows now (the selected one first, then
    /// the visible rows): their stats stream live, within
    /// [`super::docker::MAX_STREAMS`].
    Focus(Vec<String>),
    /// Stop every task (the window is closing).
    Shutdown,
}

/// A snapshot and its assessment, shared read-only.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// What the source holds.
    pub inventory: Inventory,
    /// Its findings under the policy.
    pub assessment: Assessment,
    /// When it was read (`None`: never, an empty snapshot).
    pub taken_at: Option<DateTime<Utc>>,
}

/// Worker → UI.
#[derive(Debug, Clone)]
pub enum Event {
    /// Trying to reach the engine (attempt number, from 1).
    Connecting {
        /// From 1; back to 1 after a session.
        attempt: u32,
    },
    /// Connected: who, how found, which API version.
    Connected {
        /// How it was found (the flag, DOCKER_HOST, a context, a socket).
        found_by: String,
        /// Where it answers.
        endpoint: String,
        /// The API version spoken.
        api_version: String,
        /// Who answered (`/info` ID, data root and host name).
        engine: crate::model::EngineIdentity,
    },
    /// A different engine (another `/info` ID) now answers at the endpoint
    /// being watched. Loud: a banner until dismissed, and a high-severity
    /// audit record. Everything known about the old engine was dropped.
    EngineChanged {
        /// The watched endpoint.
        endpoint: String,
        /// The `/info` ID before.
        was: String,
        /// The `/info` ID now.
        now: String,
        /// What the banner and the audit record say.
        detail: String,
        /// When it was noticed.
        at: DateTime<Utc>,
    },
    /// The engine cannot be reached (or was lost). `retry_in` is when the
    /// next attempt happens. Existing state stays, marked stale.
    Disconnected {
        /// Why, as the source said it.
        reason: String,
        /// When the next attempt is.
        retry_in: Duration,
    },
    /// A complete, assessed snapshot.
    Snapshot(Arc<Snapshot>),
    /// One stats point for a running container.
    Stats {
        /// The container.
        id: String,
        /// The reading, per second.
        point: StatsPoint,
    },
    /// One stats point for a running container without a stream of its
    /// own: a one-shot reading, every [`super::docker::SAMPLE_EVERY`].
    Sampled {
        /// The container.
        id: String,
        /// The reading, per second.
        point: StatsPoint,
    },
    /// A container's stats stream ended (it stopped): charts show a gap.
    StatsEnded {
        /// The container.
        id: String,
    },
    /// Points of the posture chart: every `scan` record of the audit log at
    /// start, then each new one.
    Posture(Vec<crate::model::PosturePoint>),
    /// Host load.
    Host(HostPoint),
    /// Facts about the host (once).
    HostInfo(HostInfo),
    /// Something went wrong that is worth showing but not fatal.
    Warning(String),
    /// One entry of the activity timeline (engine event, exec session,
    /// new finding, gap in the stream).
    Activity(Arc<Activity>),
    /// Drift check of running containers: `done` of `total` checked.
    DriftProgress {
        /// Checked so far.
        done: usize,
        /// To check in this pass.
        total: usize,
    },
    /// Where the audit trail goes, or why there is none.
    Audit(Result<PathBuf, String>),
    /// The vulnerability database in use (its metadata), or why there is none.
    VulnDb(Result<crate::vulndb::Meta, String>),
    /// Progress of a database update.
    VulnDbProgress(crate::sources::osv::Progress),
    /// A database update failed; the old data is still used.
    VulnDbUpdateFailed(String),
    /// The window was not keeping up: this many timeline entries and stats
    /// points were not queued for it (the audit log has every entry).
    Dropped {
        /// Timeline entries not queued.
        activities: usize,
        /// Stats points not queued.
        stats: usize,
    },
}

impl Event {
    /// Frequent events that may be dropped (and counted) when the consumer
    /// falls behind; everything else is always delivered.
    pub fn is_data(&self) -> bool {
        matches!(
            self,
            Self::Activity(_) | Self::Stats { .. } | Self::Sampled { .. } | Self::Host(_)
        )
    }
}

/// At most this many frequent events wait for the window at once.
pub const DATA_QUEUE: usize = 8192;

/// The worker's events, as the window (or `watch`) receives them. Control
/// events (connection, snapshots, warnings) always arrive; frequent ones
/// (timeline entries, stats) are bounded by [`DATA_QUEUE`]: when the
/// consumer falls behind — a minimised window, a flood of events — the
/// excess is counted and reported as [`Event::Dropped`], never silently
/// lost and never an unbounded queue.
#[derive(Debug)]
pub struct Events {
    rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
    queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl Events {
    /// The receiving end of a worker's channel; `queued` is the count its
    /// sink keeps of frequent events waiting.
    pub fn new(
        rx: tokio::sync::mpsc::UnboundedReceiver<Event>,
        queued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    ) -> Self {
        Self { rx, queued }
    }

    fn took(&self, ev: &Event) {
        if ev.is_data() {
            release(&self.queued);
        }
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&mut self) -> Result<Event, tokio::sync::mpsc::error::TryRecvError> {
        let ev = self.rx.try_recv()?;
        self.took(&ev);
        Ok(ev)
    }

    /// The next event; `None` when the worker has ended.
    pub async fn recv(&mut self) -> Option<Event> {
        let ev = self.rx.recv().await?;
        self.took(&ev);
        Some(ev)
    }
}

/// One item left a bounded queue (never below zero).
pub fn release(queued: &std::sync::atomic::AtomicUsize) {
    let _ = queued.fetch_update(
        std::sync::atomic::Ordering::AcqRel,
        std::sync::atomic::Ordering::Acquire,
        |n| Some(n.saturating_sub(1)),
    );
}

/// A plain channel (tests, the demo feed): nothing counted.
impl From<tokio::sync::mpsc::UnboundedReceiver<Event>> for Events {
    fn from(rx: tokio::sync::mpsc::UnboundedReceiver<Event>) -> Self {
        Self::new(rx, Default::default())
    }
}
