//! The engine worker: one task on the tokio runtime that owns the engine
//! connection. It connects (with backoff), polls snapshots on a timer and on
//! engine events, assesses them in the background, runs one stats stream per
//! running container, samples host load, and sends owned [`Event`]s to the UI.
//!
//! It also watches: every engine event becomes an [`Activity`] (shipshape's
//! own `top` calls filtered out), containers are inspected the moment they
//! are created or started, `docker exec` sessions are inspected, running
//! containers are checked for drift, and everything — with gaps in the
//! stream and findings that appear — goes to the tamper-evident audit log.
//!
//! By concept: this file holds the worker's configuration, its start, and
//! what outlives one connection (inside the one supervise loop,
//! [`crate::watch::supervise`]); `session` is one connected session
//! (events, passes, drift, exec audit); `live` the stats streams, the
//! sampler and the host line.

mod live;
mod session;

use live::host_loop;
pub use live::{MAX_STREAMS, SAMPLE_EVERY};
use session::session;
pub use session::{DRIFT_EVERY, FULL_EVERY, SESSION_QUEUE};

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use futures_util::StreamExt;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use crate::audit;
use crate::model::activity::{Activity, ExecSession, Source, is_healthcheck_command};
use crate::model::stats::{StatsReading, derive};
use crate::model::{Container, ContainerState, Drift, EngineIdentity, Severity};
use crate::policy::Policy;
use crate::sources::docker::events::Resume;
use crate::sources::docker::{
    Engine, EngineError, EnvSnapshot, convert, drift, events, scan, stats,
};
use crate::sources::host::HostSampler;
use crate::watch::messages::{Command, Event, Events, Snapshot};
use crate::watch::publish::{Publisher, Trigger, Vulns, snapshot};
use crate::watch::supervise::{Commands, End, Watched, supervise};
use crate::watch::tracker::Tracker;
use crate::watch::trail::{Notify, Recorder, Sink, open_audit};

/// How an engine's worker runs.
#[derive(Clone)]
pub struct WorkerConfig {
    /// `--host` (`None`: discovery).
    pub host: Option<String>,
    /// The environment discovery reads (DOCKER_HOST, contexts).
    pub env: EnvSnapshot,
    /// The user's policy (approved images, waivers, overrides).
    pub policy: Arc<Policy>,
    /// A full pass at least this often (events bring the rest sooner).
    pub poll_interval: Duration,
    /// Sample host load with sysinfo.
    pub host_stats: bool,
    /// Stream each running container's stats (the charts; `watch` has none).
    pub container_stats: bool,
    /// Stats streams held at once ([`MAX_STREAMS`]); the other running
    /// containers are sampled every [`SAMPLE_EVERY`].
    pub max_streams: usize,
    /// Append activity, exec sessions, findings and own actions to this
    /// audit log (`None`: keep no audit trail).
    pub audit: Option<PathBuf>,
    /// How much of the audit log is kept on disk.
    pub audit_retention: crate::audit::Retention,
    /// Check running containers for filesystem drift after each poll.
    pub drift: bool,
    /// Who runs the worker, for the audit trail (`gui`, `watch`).
    pub mode: &'static str,
    /// Start the timeline with the end of the audit log (the window).
    pub history: bool,
    /// Read images' packages and setuid files, and match them against the
    /// vulnerability database in this store (`None`: do neither).
    pub vulns: Option<crate::vulndb::store::Store>,
    /// One engine of several: watch exactly this target (no discovery) and
    /// name each timeline entry and audit record with its label.
    pub fleet: Option<FleetMember>,
}

/// How a worker takes part in watching several engines. Every member
/// writes to the same audit log (one hash chain, one writer in the
/// process: see `open_audit`).
#[derive(Clone, Debug)]
pub struct FleetMember {
    /// The engine to watch, and only this one.
    pub target: crate::sources::docker::Target,
    /// Its name in the window, the timeline and the audit log.
    pub label: String,
}

/// Start the worker on `rt`.
pub fn spawn(
    rt: &tokio::runtime::Handle,
    cfg: WorkerConfig,
    notify: Notify,
) -> (UnboundedSender<Command>, Events) {
    let (cmd, events, _done) = spawn_with_handle(rt, cfg, notify);
    (cmd, events)
}

/// Start the worker; the handle finishes after a `Shutdown` once the audit
/// log is flushed.
pub fn spawn_with_handle(
    rt: &tokio::runtime::Handle,
    cfg: WorkerConfig,
    notify: Notify,
) -> (UnboundedSender<Command>, Events, JoinHandle<()>) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let sink = Sink::new(ev_tx, notify);
    let queued = sink.queued.clone();
    let done = rt.spawn(run(cfg, cmd_rx, sink));
    (cmd_tx, Events::new(ev_rx, queued), done)
}

/// Ask the engine who it is. A connection that cannot answer this is no
/// connection.
pub(super) async fn identify(engine: &Engine) -> Result<EngineIdentity, String> {
    let info = engine.info().await.map_err(|e| e.to_string())?;
    Ok(EngineIdentity {
        id: info.id.unwrap_or_default(),
        root: info.docker_root_dir.unwrap_or_default(),
        name: info.name.unwrap_or_default(),
    })
}

/// A different engine now answers at the endpoint this worker watches: say
/// so loudly, on screen and in the audit log. The caller starts afresh.
pub(super) fn engine_changed(
    rec: &Recorder,
    target: &crate::sources::docker::Target,
    before: &EngineIdentity,
    now: &EngineIdentity,
) {
    let endpoint = target.endpoint.to_string();
    let detail = format!(
        "a different engine answers at {endpoint}: it was {}, it is now {}. \
         Everything shown from here on is about the new engine; the old one is not watched.",
        before.describe(),
        now.describe(),
    );
    let mut a = Activity::own("engine_changed", detail.clone(), Some(Severity::High));
    a.attributes.insert("endpoint".into(), endpoint.clone());
    for (prefix, who) in [("was", before), ("now", now)] {
        a.attributes.insert(format!("{prefix}_id"), who.id.clone());
        a.attributes
            .insert(format!("{prefix}_root"), who.root.clone());
        a.attributes
            .insert(format!("{prefix}_name"), who.name.clone());
    }
    rec.sink.send(Event::EngineChanged {
        endpoint,
        was: before.id.clone(),
        now: now.id.clone(),
        detail,
        at: a.time,
    });
    rec.activity(a);
}

/// Timeline entries kept from earlier sessions, shown at start.
pub const HISTORY: usize = 2000;

/// Show the end of the audit log's timeline (earlier sessions, or a
/// `shipshape watch` that holds the log), oldest first.
pub(super) async fn history(path: PathBuf, sink: &Sink) {
    let scans_path = path.clone();
    let read = tokio::task::spawn_blocking(move || audit::tail(&path, HISTORY * 2)).await;
    let Ok(Ok(records)) = read else { return };
    let entries: Vec<Activity> = records
        .into_iter()
        .filter(|r| {
            matches!(
                r.kind.as_str(),
                "event"
                    | "exec"
                    | "summary"
                    | "finding"
                    | "gap"
                    | "engine_changed"
                    | "events_dropped"
            )
        })
        .filter_map(|r| serde_json::from_value(r.data).ok())
        .collect();
    let skip = entries.len().saturating_sub(HISTORY);
    for a in entries.into_iter().skip(skip) {
        sink.tx.send(Event::Activity(Arc::new(a))).ok();
    }
    // The posture chart: every `scan` record the newest files hold.
    let read = tokio::task::spawn_blocking(move || {
        audit::records_of_kind(&scans_path, "scan", audit::KIND_SCAN_FILES)
    })
    .await;
    if let Ok(Ok(records)) = read {
        let points: Vec<crate::model::PosturePoint> = records
            .iter()
            .filter_map(|r| crate::model::PosturePoint::from_record(r.time, &r.data))
            .collect();
        if !points.is_empty() {
            sink.tx.send(Event::Posture(points)).ok();
        }
    }
    (sink.notify)(None);
}

/// Everything that outlives one connection.
#[derive(Default)]
pub(super) struct Memory {
    tracker: Tracker,
    resume: Resume,
    /// Packages and setuid files read from images (by image id) and from
    /// containers whose packages changed.
    readings: crate::vulndb::Readings,
    /// What the window shows now (see [`Command::Focus`]).
    focus: Vec<String>,
    /// What the publish step remembers (the last `scan` record).
    publisher: Publisher,
    /// When the vulnerability data on disk was written, as last loaded: a
    /// full pass reloads it when an import elsewhere changed it.
    vulndb_stamp: Option<(Option<std::time::SystemTime>, Option<std::time::SystemTime>)>,
}

/// The loaded vulnerability database, or why there is none.
pub(super) type VulnDb = Result<Arc<crate::vulndb::Database>, String>;

/// Databases loaded in this process: several engines' workers share one.
pub(super) static DATABASES: std::sync::Mutex<Vec<std::sync::Weak<crate::vulndb::Database>>> =
    std::sync::Mutex::new(Vec::new());

/// Load the database from `store` (off the async threads) and tell the UI.
pub(super) async fn load_vulndb(store: &crate::vulndb::store::Store, sink: &Sink) -> VulnDb {
    // A fleet sibling loaded it a moment ago: the same data, shared.
    let loaded = {
        let mut all = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| w.strong_count() > 0);
        all.iter().find_map(std::sync::Weak::upgrade)
    };
    if let Some(db) = loaded {
        let s = store.clone();
        let on_disk = tokio::task::spawn_blocking(move || s.status()).await;
        // The same OSV data (the exploit summary is not stored with it).
        let same = |m: &crate::vulndb::Meta| {
            crate::vulndb::Meta {
                exploits: String::new(),
                ..db.meta.clone()
            } == *m
        };
        if matches!(&on_disk, Ok(Ok(meta)) if same(meta)) {
            sink.send(Event::VulnDb(Ok(db.meta.clone())));
            return Ok(db);
        }
    }
    let s = store.clone();
    let r = tokio::task::spawn_blocking(move || s.load())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
    sink.send(Event::VulnDb(match &r {
        Ok(db) => Ok(db.meta.clone()),
        Err(e) => Err(e.clone()),
    }));
    let r = r.map(Arc::new);
    if let Ok(db) = &r {
        DATABASES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(db));
    }
    r
}

pub(super) async fn run(cfg: WorkerConfig, cmd_rx: UnboundedReceiver<Command>, sink: Sink) {
    let host_task = cfg
        .host_stats
        .then(|| tokio::spawn(host_loop(sink.clone())));
    let rec = Recorder::new(
        sink.clone(),
        open_audit(cfg.audit.clone(), cfg.audit_retention, &sink).await,
        cfg.fleet.as_ref().map(|m| m.label.clone()),
    );
    if let Some(path) = cfg.audit.clone().filter(|_| cfg.history) {
        history(path, &sink).await;
    }
    rec.session_start(cfg.mode, crate::model::Source::Engine);
    let vulndb: VulnDb = match &cfg.vulns {
        Some(store) => load_vulndb(store, &sink).await,
        None => Err("vulnerability matching is off".into()),
    };
    let mode = cfg.mode;
    let mut watch = EngineWatch {
        pinned: cfg.fleet.as_ref().map(|m| m.target.clone()),
        cfg,
        rec,
        memory: Memory::default(),
        vulndb,
        lost: None,
        seen: None,
    };
    supervise(&mut watch, &mut Commands::new(cmd_rx), &sink).await;
    if let Some(t) = host_task {
        t.abort();
    }
    watch.rec.session_end(mode).await;
}

/// One engine's worker inside the supervise loop: what outlives one
/// connection.
pub(super) struct EngineWatch {
    cfg: WorkerConfig,
    rec: Recorder,
    memory: Memory,
    vulndb: VulnDb,
    /// When the event stream was lost, and why: becomes a gap on reconnect.
    lost: Option<(DateTime<Utc>, String)>,
    /// The endpoint this worker watches. Chosen by discovery at start (or
    /// when the user asks to look again), then pinned: losing the engine
    /// never sends the worker to another one.
    pinned: Option<crate::sources::docker::Target>,
    /// The engine last seen at the pinned endpoint (its `/info` ID).
    seen: Option<EngineIdentity>,
}

impl EngineWatch {
    /// The user asked to look for an engine again: forget the pinned one.
    fn rediscover(&mut self) {
        self.rec.audit(
            "rediscover",
            serde_json::json!({
                "was": self.pinned.as_ref().map(|t| t.endpoint.to_string()),
            }),
        );
        self.pinned = None;
        self.seen = None;
        self.memory = Memory::default();
        self.lost = None;
    }
}

impl Watched for EngineWatch {
    async fn session(&mut self, cmds: &mut Commands) -> End {
        let connected = match (&self.pinned, &self.cfg.fleet) {
            (Some(target), _) => Engine::connect(target.clone()).await,
            // One of several engines: its own target, never another.
            (None, Some(member)) => Engine::connect(member.target.clone()).await,
            (None, None) => {
                Engine::discover_and_connect(self.cfg.host.as_deref(), &self.cfg.env).await
            }
        };
        let connected = match connected {
            Ok(engine) => identify(&engine).await.map(|id| (engine, id)),
            Err(e) => Err(e.to_string()),
        };
        let (engine, identity) = match connected {
            Ok(c) => c,
            Err(reason) => return End::Unreachable(reason),
        };
        let rec = &self.rec;
        self.pinned.get_or_insert_with(|| engine.target().clone());
        if let Some(before) = self.seen.as_ref().filter(|b| !b.same_engine(&identity)) {
            engine_changed(rec, engine.target(), before, &identity);
            // Nothing known about the old engine applies to this one.
            self.memory = Memory::default();
        }
        self.seen = Some(identity.clone());
        rec.sink.send(Event::Connected {
            found_by: engine.target().found_by.to_string(),
            endpoint: engine.target().endpoint.to_string(),
            api_version: engine.api_version().to_string(),
            engine: identity.clone(),
        });
        rec.audit(
            "connect",
            serde_json::json!({
                "endpoint": engine.target().endpoint.to_string(),
                "found_by": engine.target().found_by.to_string(),
                "api_version": engine.api_version(),
                "engine_id": identity.id,
                "engine_root": identity.root,
                "engine_name": identity.name,
            }),
        );
        let gap = self.lost.take();
        let end = session(
            &engine,
            &mut self.cfg,
            cmds,
            &self.rec,
            &mut self.memory,
            &mut self.vulndb,
            gap,
        )
        .await;
        match end {
            End::Again => self.rediscover(),
            End::Lost(ref reason) => {
                self.rec
                    .audit("disconnect", serde_json::json!({ "reason": reason }));
                // Everything before this moment was read.
                self.lost = Some((Utc::now(), reason.clone()));
            }
            End::Shutdown | End::Unreachable(_) => {}
        }
        end
    }

    async fn waiting(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Rediscover => {
                self.rediscover();
                return true;
            }
            Command::SetPollInterval(d) => self.cfg.poll_interval = d,
            Command::Focus(ids) => self.memory.focus = ids,
            Command::Record { kind, data } => self.rec.audit(&kind, data),
            Command::Dismiss(ids) => {
                let n = self.memory.tracker.dismiss(&ids);
                self.rec
                    .audit("dismiss", serde_json::json!({ "containers": n }));
            }
            Command::UpdateVulnDb { from } => {
                if let Some(store) = &self.cfg.vulns {
                    let old = std::mem::replace(&mut self.vulndb, Err(String::new()));
                    self.vulndb = update_vulndb(store, &from, &self.rec).await.or(old);
                }
            }
            Command::Shutdown | Command::ReconnectNow | Command::Refresh => {}
        }
        false
    }
}

/// Download and import the OSV data (the user asked), reporting progress;
/// the new database, or the old one stays.
pub(super) async fn update_vulndb(
    store: &crate::vulndb::store::Store,
    from: &str,
    rec: &Recorder,
) -> VulnDb {
    let ecos: Vec<String> = crate::sources::osv::ECOSYSTEMS
        .iter()
        .map(|e| e.to_string())
        .collect();
    let sink = rec.sink.clone();
    let progress = move |p| {
        sink.send_soon(Event::VulnDbProgress(p));
    };
    rec.audit("vulndb_update", serde_json::json!({ "from": from }));
    match crate::sources::osv::update(store, from, &ecos, &progress).await {
        Ok(db) => {
            rec.audit(
                "vulndb_updated",
                serde_json::json!({ "records": db.meta.records, "from": from }),
            );
            rec.sink.send(Event::VulnDb(Ok(db.meta.clone())));
            Ok(Arc::new(db))
        }
        Err(e) => {
            let msg =
                format!("vulnerability data not updated: {e}; the previous data is unchanged");
            rec.audit("vulndb_update_failed", serde_json::json!({ "error": msg }));
            rec.sink.send(Event::VulnDbUpdateFailed(msg.clone()));
            Err(msg)
        }
    }
}
