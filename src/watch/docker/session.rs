//! One connected session with an engine: the event stream read on its own
//! task, light and full passes, exec sessions inspected as they start,
//! drift passes, image-file reads, and the stats streams it keeps.

use super::live::*;
use super::*;

/// Container events that change the inventory (others, such as the `top`
/// calls shipshape itself makes, are ignored).
pub(super) fn changes_inventory(action: &str) -> bool {
    let base = action.split(':').next().unwrap_or(action).trim();
    matches!(
        base,
        "create"
            | "start"
            | "restart"
            | "die"
            | "stop"
            | "kill"
            | "oom"
            | "pause"
            | "unpause"
            | "destroy"
            | "rename"
            | "update"
            | "health_status"
    )
}

/// Results of work the session started on other tasks.
pub(super) enum Internal {
    Inspected(Box<Container>),
    /// An inspected exec; `true` when it is the engine's own healthcheck.
    Exec(Box<Activity>, bool),
    Drift(String, Drift),
    DriftPassDone,
    /// Image and container files read (the whole readings, updated), or
    /// the engine was lost meanwhile.
    Read(Box<crate::vulndb::Readings>),
}

/// The state of one connected session.
pub(super) struct Session<'a> {
    engine: &'a Engine,
    cfg: &'a WorkerConfig,
    rec: &'a Recorder,
    memory: &'a mut Memory,
    vulndb: &'a mut VulnDb,
    /// Image files are being read (one reading task at a time).
    reading: bool,
    stats: HashMap<String, JoinHandle<()>>,
    internal: UnboundedSender<Internal>,
    drift_running: bool,
    /// When the last drift pass over every running container started.
    drift_started: Option<tokio::time::Instant>,
    tasks: Vec<JoinHandle<()>>,
    /// Exec ids of the engine's own healthcheck runs.
    health_execs: HashSet<String>,
    /// Start/end events of execs whose create is still being inspected.
    pending_exec: HashMap<String, Vec<Activity>>,
    /// What events said changed since the last scan: the next refresh
    /// inspects only these (and what the lists show is new or moved).
    changed: scan::Changed,
    /// Light passes since the last full one (see [`FULL_EVERY`]).
    since_full: u32,
    /// A full pass is due at the next scan (events were dropped).
    full_due: bool,
    /// Running containers without a stream, read by the sampler.
    sampled: Arc<std::sync::Mutex<Vec<(String, bool)>>>,
    /// The latest CPU share of each running container (streams and
    /// samples write it): the busiest get the free streams.
    cpu: CpuShares,
    sampler: Option<JoinHandle<()>>,
}

pub(super) fn exec_id_of(a: &Activity) -> String {
    a.attributes.get("execID").cloned().unwrap_or_default()
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        for h in self.tasks.drain(..) {
            h.abort();
        }
        for (id, h) in self.stats.drain() {
            h.abort();
            self.rec.sink.send(Event::StatsEnded { id });
        }
        if let Some(h) = self.sampler.take() {
            h.abort();
        }
    }
}

pub(super) async fn session(
    engine: &Engine,
    cfg: &mut WorkerConfig,
    cmds: &mut Commands,
    rec: &Recorder,
    memory: &mut Memory,
    vulndb: &mut VulnDb,
    gap: Option<(DateTime<Utc>, String)>,
) -> End {
    // Engine events, read on their own task so a slow snapshot never makes
    // the engine drop us as a slow subscriber. After a gap, resume from the
    // newest event recorded: the engine replays what it still has.
    let since = gap.as_ref().and_then(|_| memory.resume.since());
    let replaying = since.is_some();
    let (act_tx, mut act_rx) = mpsc::unbounded_channel::<Result<Activity, String>>();
    // Engine events waiting for the session, bounded: the stream is always
    // read (the engine drops a slow subscriber), and past the bound events
    // are counted by kind, reported as one entry, and followed by a full
    // re-list — never an unbounded queue, never silence.
    let act_queued: Arc<std::sync::atomic::AtomicUsize> = Default::default();
    // Counted and not reported yet; shared, so stopping reports them too.
    let act_dropped: Dropped = Default::default();
    let events_task = {
        let engine = engine.clone();
        let queued = act_queued.clone();
        let dropped = act_dropped.clone();
        tokio::spawn(async move {
            use std::sync::atomic::Ordering;
            let own = engine.own_calls().clone();
            let mut stream = std::pin::pin!(engine.events(since));
            let take = || std::mem::take(&mut *dropped.lock().unwrap_or_else(|e| e.into_inner()));
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(msg) => {
                        let a = events::activity(&msg);
                        if own.claim(&a) {
                            continue;
                        }
                        if queued.load(Ordering::Acquire) >= SESSION_QUEUE {
                            *dropped
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .entry(format!("{} {}", a.source.as_str(), a.action))
                                .or_default() += 1;
                            continue;
                        }
                        let counted = take();
                        if !counted.is_empty() {
                            let note = events_dropped(counted);
                            queued.fetch_add(1, Ordering::AcqRel);
                            if act_tx.send(Ok(note)).is_err() {
                                return;
                            }
                        }
                        queued.fetch_add(1, Ordering::AcqRel);
                        if act_tx.send(Ok(a)).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = act_tx.send(Err(e.to_string()));
                        return;
                    }
                }
            }
            let _ = act_tx.send(Err("the engine closed the event stream".into()));
        })
    };
    let (internal, mut internal_rx) = mpsc::unbounded_channel();
    let cfg_now = cfg.clone();
    let mut s = Session {
        engine,
        cfg: &cfg_now,
        rec,
        memory,
        vulndb,
        reading: false,
        stats: HashMap::new(),
        internal,
        drift_running: false,
        drift_started: None,
        tasks: vec![events_task],
        health_execs: HashSet::new(),
        pending_exec: HashMap::new(),
        changed: scan::Changed::default(),
        since_full: 0,
        full_due: false,
        sampled: Arc::default(),
        cpu: Arc::default(),
        sampler: None,
    };

    if let Some((from, reason)) = gap {
        let to = Utc::now();
        let mut a = Activity::own(
            "gap",
            format!(
                "no events from {} to {} ({reason}); re-listed every container{}",
                from.format("%H:%M:%S"),
                to.format("%H:%M:%S"),
                if replaying {
                    " and replayed what the engine still had"
                } else {
                    ""
                }
            ),
            Some(Severity::High),
        );
        a.attributes.insert("from".into(), from.to_rfc3339());
        a.attributes.insert("to".into(), to.to_rfc3339());
        a.attributes.insert("reason".into(), reason);
        s.rec.activity(a);
    }

    if let Err(reason) = s.rescan(Trigger::Scan { user: false }, Pass::Full).await {
        return End::Lost(reason);
    }
    s.start_drift_pass(true);
    let mut poll = tokio::time::interval(cfg.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    let mut rescan_due: Option<tokio::time::Instant> = None;
    let mut reassess_due: Option<tokio::time::Instant> = None;
    // Which containers stream is chosen again this often: the busiest
    // get the free streams.
    let mut restream = tokio::time::interval(SAMPLE_EVERY);
    restream.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    restream.tick().await;
    loop {
        let rescan_timer = async {
            match rescan_due {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        let reassess_timer = async {
            match reassess_due {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        // Repeated events folded into a count go out as a summary when
        // their window ends, even if nothing else happens.
        let fold_due = s.rec.fold_due();
        let fold_timer = async {
            match fold_due {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = poll.tick() => {
                let pass = s.poll_pass();
                if let Err(reason) = s.rescan(Trigger::Scan { user: false }, pass).await { return End::Lost(reason) }
                s.start_drift_pass(false);
            }
            () = rescan_timer => {
                rescan_due = None;
                reassess_due = None;
                if let Err(reason) = s.rescan(Trigger::Scan { user: false }, Pass::Changed).await { return End::Lost(reason) }
                poll.reset();
            }
            () = reassess_timer => {
                reassess_due = None;
                s.publish(Trigger::Facts).await;
            }
            _ = restream.tick() => s.sync_stats(),
            () = fold_timer => s.rec.tick(),
            cmd = cmds.next() => match cmd {
                None | Some(Command::Shutdown) => {
                    s.unhandled_at_stop(&mut act_rx, &act_dropped);
                    return End::Shutdown;
                }
                Some(Command::Rediscover) => return End::Again,
                Some(Command::Refresh) => {
                    rescan_due = None;
                    if let Err(reason) = s.rescan(Trigger::Scan { user: true }, Pass::Full).await { return End::Lost(reason) }
                    s.start_drift_pass(true);
                    poll.reset();
                }
                Some(Command::ReconnectNow) => {}
                Some(Command::SetPollInterval(d)) => {
                    cfg.poll_interval = d;
                    poll = tokio::time::interval(d);
                    poll.tick().await;
                }
                Some(Command::Record { kind, data }) => s.rec.audit(&kind, data),
                Some(Command::Focus(ids)) => {
                    if s.memory.focus != ids {
                        s.memory.focus = ids;
                        s.sync_stats();
                    }
                }
                Some(Command::Dismiss(ids)) => {
                    let n = s.memory.tracker.dismiss(&ids);
                    s.rec.audit("dismiss", serde_json::json!({ "containers": n }));
                    s.publish(Trigger::Facts).await;
                }
                Some(Command::UpdateVulnDb { from }) => {
                    if let Some(store) = &s.cfg.vulns {
                        let fresh = update_vulndb(store, &from, s.rec).await;
                        if fresh.is_ok() {
                            *s.vulndb = fresh;
                            s.publish(Trigger::Facts).await;
                        }
                    }
                }
            },
            act = act_rx.recv() => match act {
                Some(Ok(a)) => match s.took(&act_queued, a) {
                    Due::Rescan => { rescan_due.get_or_insert_with(|| tokio::time::Instant::now() + DEBOUNCE); }
                    Due::Reassess => { reassess_due.get_or_insert_with(|| tokio::time::Instant::now() + DEBOUNCE); }
                    Due::Nothing => {}
                },
                Some(Err(reason)) => return End::Lost(reason),
                None => return End::Lost("the event stream stopped".into()),
            },
            Some(msg) = internal_rx.recv() => {
                if s.on_internal(msg) {
                    reassess_due.get_or_insert_with(|| tokio::time::Instant::now() + DEBOUNCE);
                }
            }
        }
    }
}

/// Events arriving together are handled with one scan.
pub(super) const DEBOUNCE: Duration = Duration::from_millis(300);

/// One poll in this many is a full pass (every container and image
/// inspected again, `/info` read): the safety net under the event stream.
/// The others are light: the two lists, and inspect only what events or
/// the lists say changed. At the default 30 s poll: a full pass every 5 min.
pub const FULL_EVERY: u32 = 10;

/// A drift pass over every running container starts at most this often
/// (on a poll). A container is also checked on its own when an exec in it
/// ends; drift comes from processes writing files, so the pass is the
/// safety net. 300 running containers: 300 `/changes` a minute at most
/// (every 30 s poll, it was 600).
pub const DRIFT_EVERY: Duration = Duration::from_secs(60);

/// How much a scan reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pass {
    /// Everything, as `shipshape scan` does.
    Full,
    /// What changed since the last scan ([`scan::refresh`]).
    Changed,
}

/// Engine events that may wait for the session at once.
pub const SESSION_QUEUE: usize = 20_000;

/// Engine events counted instead of queued, by kind, not reported yet.
type Dropped = Arc<std::sync::Mutex<std::collections::BTreeMap<String, usize>>>;

/// The entry that stands for events the session could not take one by one.
pub(super) fn events_dropped(counts: std::collections::BTreeMap<String, usize>) -> Activity {
    dropped_entry(
        counts,
        "came faster than they could be handled and were counted, not recorded one by one",
        "Everything was listed again afterwards.",
    )
}

fn dropped_entry(
    counts: std::collections::BTreeMap<String, usize>,
    what: &str,
    after: &str,
) -> Activity {
    let total: usize = counts.values().sum();
    let kinds: Vec<String> = counts.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    let mut a = Activity::own(
        "events_dropped",
        format!(
            "{total} engine events {what}: {}. {after}",
            kinds.join(", ")
        ),
        Some(Severity::Medium),
    );
    a.attributes.insert("dropped".into(), total.to_string());
    a
}

pub(super) enum Due {
    Rescan,
    Reassess,
    Nothing,
}

impl Session<'_> {
    /// Stopping: the engine events still waiting are not handled (that
    /// would make stopping wait for a flood), but counted by kind and
    /// recorded as one entry — bounded work, and nothing vanishes
    /// silently.
    fn unhandled_at_stop(
        &mut self,
        rx: &mut mpsc::UnboundedReceiver<Result<Activity, String>>,
        dropped: &Dropped,
    ) {
        // The event reader among them: nothing more comes in meanwhile.
        for t in &self.tasks {
            t.abort();
        }
        let mut counts = std::mem::take(&mut *dropped.lock().unwrap_or_else(|e| e.into_inner()));
        while let Ok(ev) = rx.try_recv() {
            if let Ok(a) = ev {
                if a.source == Source::Shipshape && a.action == "events_dropped" {
                    let n = a
                        .attributes
                        .get("dropped")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    *counts.entry("(already counted)".into()).or_default() += n;
                } else {
                    *counts
                        .entry(format!("{} {}", a.source.as_str(), a.action))
                        .or_default() += 1;
                }
            }
        }
        if !counts.is_empty() {
            self.rec.activity(dropped_entry(
                counts,
                "had arrived but were not handled: watching stopped",
                "They were counted, not recorded one by one.",
            ));
        }
    }

    /// An event taken off the bounded queue: count it out, handle it.
    fn took(&mut self, queued: &std::sync::atomic::AtomicUsize, a: Activity) -> Due {
        crate::watch::messages::release(queued);
        self.on_activity(a)
    }

    /// Handle one engine event: record it, and start whatever it calls for.
    fn on_activity(&mut self, mut a: Activity) -> Due {
        if a.source == Source::Shipshape && a.action == "events_dropped" {
            // What the lost events changed is found by reading everything.
            self.full_due = true;
            self.rec.activity(a);
            return Due::Rescan;
        }
        if self.memory.resume.is_repeat(&a) {
            return Due::Nothing;
        }
        let mut due = Due::Nothing;
        let cid = a.container_id.clone().unwrap_or_default();
        match (a.source, a.action.as_str()) {
            (Source::Container, "exec_create") => {
                // Shown once the exec is inspected: who, privileged, tty.
                // Its start and end wait for that, to keep the order.
                let exec_id = exec_id_of(&a);
                let health = self.memory.tracker.container(&cid).is_some_and(|c| {
                    is_healthcheck_command(&a.detail, c, crate::rules::secrets::redact_command)
                });
                if health {
                    self.health_execs.insert(exec_id.clone());
                }
                self.pending_exec.insert(exec_id, Vec::new());
                self.inspect_exec(a, health);
                return Due::Nothing;
            }
            (Source::Container, "exec_start" | "exec_die") => {
                let exec_id = exec_id_of(&a);
                let died = a.action == "exec_die";
                // The engine's healthchecks run as execs every few seconds:
                // they are health, not access (health_status reports them).
                let health = self.health_execs.contains(&exec_id);
                if let Some(queue) = self.pending_exec.get_mut(&exec_id) {
                    queue.push(a);
                    return Due::Nothing;
                }
                if health {
                    if died {
                        self.health_execs.remove(&exec_id);
                    }
                    return Due::Nothing;
                }
                if died {
                    self.exec_died(&cid, &exec_id, &a);
                    due = Due::Reassess;
                }
            }
            (Source::Network, "connect" | "disconnect") => {
                self.changed.containers.insert(cid.clone());
                if let Some(c) = a
                    .container_id
                    .as_deref()
                    .and_then(|id| self.memory.tracker.container(id))
                {
                    a.detail = format!("container {}", c.name);
                }
                due = Due::Rescan;
            }
            (Source::Container, "destroy") => {
                self.memory.tracker.destroyed(&cid, a.time);
                due = Due::Rescan;
            }
            (Source::Container, action) if changes_inventory(action) => {
                self.changed.containers.insert(cid.clone());
                if matches!(action, "create" | "start" | "die" | "restart") {
                    self.inspect_container(&cid);
                }
                due = Due::Rescan;
            }
            (Source::Image, "pull" | "load" | "import" | "tag" | "untag" | "delete") => {
                due = Due::Rescan;
            }
            (Source::Daemon, _) => {
                // A reload changes the engine's own settings.
                self.changed.engine = true;
                due = Due::Rescan;
            }
            _ => {}
        }
        self.rec.activity(a);
        due
    }

    /// An exec ended: note its end and exit code, and check what it left
    /// behind in the container's filesystem.
    fn exec_died(&mut self, container_id: &str, exec_id: &str, die: &Activity) {
        let code = die.attributes.get("exitCode").and_then(|c| c.parse().ok());
        self.memory
            .tracker
            .exec_ended(container_id, exec_id, die.time, code);
        if self.cfg.drift {
            self.check_drift(container_id);
        }
    }

    /// Inspect a container the moment it is created or started, so one that
    /// lives a second is still scored.
    fn inspect_container(&mut self, id: &str) {
        if id.is_empty() {
            return;
        }
        let engine = self.engine.clone();
        let tx = self.internal.clone();
        let id = id.to_string();
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            match engine.container(&id).await {
                Ok(c) => {
                    let _ = tx.send(Internal::Inspected(Box::new(c)));
                }
                Err(e) => tracing::debug!("inspect after event: {e}"),
            }
        }));
    }

    fn inspect_exec(&mut self, mut a: Activity, looks_like_healthcheck: bool) {
        let engine = self.engine.clone();
        let tx = self.internal.clone();
        let container = a
            .container_id
            .as_deref()
            .and_then(|id| self.memory.tracker.container(id))
            .cloned();
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            let exec_id = a.attributes.get("execID").cloned().unwrap_or_default();
            let container = match container {
                Some(c) => Some(c),
                // Not seen yet (created a moment ago): ask, for its user.
                None => match a.container_id.as_deref() {
                    Some(id) => engine
                        .inspect_container(id)
                        .await
                        .ok()
                        .map(convert::container),
                    None => None,
                },
            };
            let session = match engine.inspect_exec(&exec_id).await {
                Ok(r) => convert::exec_session(r, container.as_ref(), a.time),
                // Gone before we could ask: record what the event says.
                Err(e) => {
                    tracing::debug!("exec inspect: {e}");
                    ExecSession {
                        id: exec_id,
                        container_id: a.container_id.clone().unwrap_or_default(),
                        container_name: a.name.clone(),
                        user: None,
                        effective_user: String::new(),
                        command: a.detail.split_whitespace().map(str::to_string).collect(),
                        privileged: false,
                        tty: false,
                        started: a.time,
                        ended: None,
                        exit_code: None,
                    }
                }
            };
            if looks_like_healthcheck {
                match &container {
                    Some(c) if session.is_healthcheck(c, crate::rules::secrets::redact_command) => {
                        let _ = tx.send(Internal::Exec(Box::new(a), true));
                        return;
                    }
                    _ => {
                        a.attributes
                            .insert("note".into(), "same command as the healthcheck".into());
                    }
                }
            }
            a.detail = session.describe();
            a.exec = Some(session);
            a.grade();
            let _ = tx.send(Internal::Exec(Box::new(a), false));
        }));
    }

    fn check_drift(&mut self, id: &str) {
        let Some(c) = self.memory.tracker.container(id) else {
            return;
        };
        if c.state != ContainerState::Running {
            return;
        }
        let root = self
            .memory
            .tracker
            .base()
            .map_or("", |b| b.engine.docker_root_dir.as_str());
        let (engine, tx, target) = (
            self.engine.clone(),
            self.internal.clone(),
            drift::Target::of(c, root),
        );
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            if let Ok(d) = drift::check(&engine, &target).await {
                let _ = tx.send(Internal::Drift(target.id, d));
            }
        }));
    }

    /// Check every running container, a few at a time, with progress: at
    /// most every [`DRIFT_EVERY`] unless `now` (a session start, a refresh
    /// asked for).
    fn start_drift_pass(&mut self, now: bool) {
        if !self.cfg.drift || self.drift_running {
            return;
        }
        let due = self
            .drift_started
            .is_none_or(|t| t.elapsed() >= DRIFT_EVERY - Duration::from_secs(1));
        if !now && !due {
            return;
        }
        self.drift_started = Some(tokio::time::Instant::now());
        let targets = self.memory.tracker.drift_targets();
        self.drift_running = true;
        let (engine, tx, sink) = (
            self.engine.clone(),
            self.internal.clone(),
            self.rec.sink.clone(),
        );
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            let results = drift::pass(&engine, targets, |done, total| {
                sink.send_soon(Event::DriftProgress { done, total });
            })
            .await;
            let mut failed = Vec::new();
            for (id, r) in results {
                match r {
                    Ok(d) => {
                        let _ = tx.send(Internal::Drift(id, d));
                    }
                    // Removed or stopped meanwhile: nothing to check.
                    Err(EngineError::NotFound { .. }) => {}
                    Err(e) => failed.push(e.to_string()),
                }
            }
            if let Some(first) = failed.first() {
                sink.send(Event::Warning(format!(
                    "drift could not be checked for {} container(s): {first}",
                    failed.len()
                )));
            }
            let _ = tx.send(Internal::DriftPassDone);
        }));
    }

    /// Handle a result; true when the assessment should be redone.
    fn on_internal(&mut self, msg: Internal) -> bool {
        match msg {
            Internal::Inspected(c) => {
                self.memory.tracker.observe(*c);
                true
            }
            Internal::Exec(a, healthcheck) => {
                let exec_id = exec_id_of(&a);
                let queued = self.pending_exec.remove(&exec_id).unwrap_or_default();
                if healthcheck {
                    if queued.iter().any(|q| q.action == "exec_die") {
                        self.health_execs.remove(&exec_id);
                    }
                    return false;
                }
                // Not a healthcheck after all (another user, a tty, …).
                self.health_execs.remove(&exec_id);
                if let Some(e) = &a.exec {
                    self.memory.tracker.add_exec(e.clone());
                }
                let cid = a.container_id.clone().unwrap_or_default();
                self.rec.activity(*a);
                for q in queued {
                    if q.action == "exec_die" {
                        self.exec_died(&cid, &exec_id, &q);
                    }
                    self.rec.activity(q);
                }
                true
            }
            Internal::Drift(id, mut d) => {
                if let Some(w) = d.refused.take() {
                    self.rec.sink.send(Event::Warning(w));
                }
                self.memory.tracker.set_drift(&id, d)
            }
            Internal::DriftPassDone => {
                self.drift_running = false;
                false
            }
            Internal::Read(r) => {
                self.reading = false;
                self.memory.readings = *r;
                true
            }
        }
    }

    /// What the poll timer reads: a full pass every [`FULL_EVERY`] polls,
    /// or when events were dropped; a light one otherwise.
    fn poll_pass(&mut self) -> Pass {
        self.since_full += 1;
        if self.since_full >= FULL_EVERY {
            Pass::Full
        } else {
            Pass::Changed
        }
    }

    /// Load the vulnerability data again when it changed on disk since it
    /// was loaded (`shipshape db import` or `db update` run elsewhere: a
    /// newly imported KEV catalogue then reaches the running containers,
    /// and their alerts, at the next full pass).
    async fn reload_vulndb_if_changed(&mut self) {
        let Some(store) = self.cfg.vulns.clone() else {
            return;
        };
        let s = store.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || s.disk_stamp()).await else {
            return;
        };
        match self.memory.vulndb_stamp {
            None => self.memory.vulndb_stamp = Some(now),
            Some(before) if before != now => {
                self.memory.vulndb_stamp = Some(now);
                let s = store.clone();
                let loaded = tokio::task::spawn_blocking(move || s.load())
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()));
                self.rec.sink.send(Event::VulnDb(match &loaded {
                    Ok(db) => Ok(db.meta.clone()),
                    Err(e) => Err(e.clone()),
                }));
                if let Ok(db) = loaded {
                    *self.vulndb = Ok(Arc::new(db));
                }
            }
            Some(_) => {}
        }
    }

    /// Scan (all of it, or what changed), then publish.
    async fn rescan(&mut self, trigger: Trigger, pass: Pass) -> Result<(), String> {
        let changed = std::mem::take(&mut self.changed);
        let full = pass == Pass::Full || self.full_due || !self.memory.tracker.has_scan();
        let result = match self.memory.tracker.base() {
            Some(prev) if !full => scan::refresh(self.engine, &self.cfg.env, prev, &changed)
                .await
                .map(|(inv, reread)| {
                    tracing::debug!(?reread, "light pass");
                    inv
                }),
            _ => scan::snapshot(self.engine, &self.cfg.env).await,
        };
        let inventory = match result {
            Ok(i) => i,
            Err(e @ (EngineError::Lost { .. } | EngineError::Connect(_))) => {
                return Err(e.to_string());
            }
            Err(e) => {
                // Read it next time.
                self.changed.containers.extend(changed.containers);
                self.changed.engine |= changed.engine;
                self.rec.sink.send(Event::Warning(e.to_string()));
                return Ok(());
            }
        };
        if full {
            self.since_full = 0;
            self.full_due = false;
            self.reload_vulndb_if_changed().await;
        }
        self.memory.tracker.apply_scan(inventory, Utc::now());
        self.sync_stats();
        self.publish(trigger).await;
        Ok(())
    }

    /// Read the files of images (and changed containers) not read yet, on
    /// a task: once per image id, through the on-disk cache (an image id
    /// names its content); the results come back as `Internal::Read` and
    /// the assessment is redone. Started from each published snapshot.
    fn start_reading(&mut self, snapshot: &Arc<Snapshot>) {
        if self.reading || self.cfg.vulns.is_none() {
            return;
        }
        let readings = &self.memory.readings;
        let live = || {
            snapshot
                .inventory
                .containers
                .iter()
                .filter(|c| c.gone.is_none())
        };
        let unread = |id: &str| {
            !id.is_empty()
                && !readings.images.contains_key(id)
                && !readings.failed.contains_key(id)
                && !readings.skipped.contains_key(id)
        };
        let missing_image = live().any(|c| unread(&c.image_id));
        // Images no container uses come after (a later snapshot starts
        // them): what runs is assessed first.
        let missing_unused = snapshot.inventory.images.iter().any(|i| unread(&i.id));
        let changed_container = live().any(|c| {
            c.drift.as_ref().is_some_and(|d| {
                d.package_db_changed
                    && readings
                        .containers
                        .get(&c.id)
                        .is_none_or(|s| s.read_at_changes != d.total_changes)
            })
        });
        if !missing_image && !changed_container && !missing_unused {
            return;
        }
        let mut inventory = snapshot.inventory.clone();
        if missing_image || changed_container {
            let ids: std::collections::HashSet<&str> =
                live().map(|c| c.image_id.as_str()).collect();
            inventory.images.retain(|i| ids.contains(i.id.as_str()));
        }
        self.reading = true;
        let (engine, tx, sink) = (
            self.engine.clone(),
            self.internal.clone(),
            self.rec.sink.clone(),
        );
        let cache = self
            .cfg
            .vulns
            .as_ref()
            .map(crate::vulndb::store::ImageCache::of);
        let readings = self.memory.readings.clone();
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(tokio::spawn(async move {
            let today = Utc::now().date_naive();
            let ids: Vec<String> = inventory
                .images
                .iter()
                .map(|i| i.id.clone())
                .chain(inventory.containers.iter().map(|c| c.image_id.clone()))
                .collect();
            let (c2, mut readings) = (cache.clone(), readings);
            readings = match tokio::task::spawn_blocking(move || {
                if let Some(c) = c2 {
                    c.fill(&mut readings, ids.iter().map(String::as_str));
                }
                readings
            })
            .await
            {
                Ok(r) => r,
                Err(_) => return,
            };
            if let Err(e) = crate::sources::docker::packages::collect(
                &engine,
                &inventory,
                &mut readings,
                today,
                &crate::sources::docker::packages::Export::from_env(),
            )
            .await
            {
                sink.send(Event::Warning(format!(
                    "image files could not be read: {e}"
                )));
            }
            for w in std::mem::take(&mut readings.warnings) {
                sink.send(Event::Warning(w));
            }
            if let Some(cache) = cache {
                let kept = readings.clone();
                let _ = tokio::task::spawn_blocking(move || cache.keep(&kept)).await;
            }
            let _ = tx.send(Internal::Read(Box::new(readings)));
        }));
    }

    /// Assess what the tracker knows (off the async threads), send it, and
    /// record what is new.
    async fn publish(&mut self, trigger: Trigger) {
        if !self.memory.tracker.has_scan() {
            return;
        }
        let mut inventory = self.memory.tracker.merged();
        let policy = self.cfg.policy.clone();
        // Signatures: the window judges only what an earlier online check
        // cached (`shipshape verify --online`, `scan --online`): it never
        // waits on a registry between two frames' worth of engine events.
        crate::sources::registry::check_images(
            &mut inventory.images,
            &policy.integrity,
            false,
            Utc::now(),
        )
        .await;
        // The readings go to the blocking task and come back with their
        // match results memoised: a rescan then matches nothing again.
        let vulns = self.cfg.vulns.is_some().then(|| {
            (
                std::mem::take(&mut self.memory.readings),
                self.vulndb.clone(),
            )
        });
        let Ok((snapshot, readings)) = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            let Some((mut readings, db)) = vulns else {
                return (snapshot(inventory, None, &policy, now), None);
            };
            let db = db.as_deref().map_err(String::as_str);
            readings.refresh_matches(db);
            let vulns = Vulns {
                readings: &readings,
                db,
            };
            let s = snapshot(inventory, Some(vulns), &policy, now);
            (s, Some(readings))
        })
        .await
        else {
            self.rec
                .sink
                .send(Event::Warning("the assessment failed".into()));
            return;
        };
        if let Some(r) = readings {
            self.memory.readings = r;
        }
        let snapshot =
            self.memory
                .publisher
                .publish(self.rec, &mut self.memory.tracker, snapshot, trigger);
        // Drift results arrive as a reassessment, so a container whose
        // packages changed is noticed here too.
        self.start_reading(&snapshot);
    }

    /// Live stats within a budget: a stream for each of up to
    /// [`MAX_STREAMS`] running containers — those the window shows first,
    /// then the busiest — and a one-shot reading every [`SAMPLE_EVERY`] for
    /// the rest. A stream makes the engine read a container's cgroup every
    /// second; a sample, once in ten.
    fn sync_stats(&mut self) {
        if !self.cfg.container_stats {
            return;
        }
        let running: HashMap<String, bool> =
            self.memory.tracker.merged_running().into_iter().collect();
        let chosen: HashSet<String> = {
            let cpu = self.cpu.lock().unwrap_or_else(|e| e.into_inner());
            let streaming: HashSet<&str> = self.stats.keys().map(String::as_str).collect();
            choose_streams(
                running.keys().map(String::as_str),
                &self.memory.focus,
                &cpu,
                &streaming,
                self.cfg.max_streams,
            )
        };
        let sink = self.rec.sink.clone();
        self.stats.retain(|id, h| {
            let keep = chosen.contains(id.as_str()) && !h.is_finished();
            if !keep {
                h.abort();
                // Moved to sampling: the chart goes on, with no gap.
                if !running.contains_key(id.as_str()) {
                    sink.send(Event::StatsEnded { id: id.clone() });
                }
            }
            keep
        });
        self.cpu
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| running.contains_key(id));
        let mut sampled = Vec::new();
        for (id, limited) in running {
            if !chosen.contains(&id) {
                sampled.push((id, limited));
            } else if !self.stats.contains_key(&id) {
                let task = tokio::spawn(stats_stream(
                    self.engine.clone(),
                    id.clone(),
                    limited,
                    self.cpu.clone(),
                    sink.clone(),
                ));
                self.stats.insert(id, task);
            }
        }
        sampled.sort();
        let any = !sampled.is_empty();
        *self.sampled.lock().unwrap_or_else(|e| e.into_inner()) = sampled;
        if any && self.sampler.as_ref().is_none_or(JoinHandle::is_finished) {
            self.sampler = Some(tokio::spawn(sampler(
                self.engine.clone(),
                self.sampled.clone(),
                self.cpu.clone(),
                sink,
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activity::Category;

    #[test]
    fn dropped_engine_events_are_one_entry_with_their_counts() {
        let a = events_dropped(
            [
                ("container create".to_string(), 700),
                ("container destroy".to_string(), 300),
            ]
            .into(),
        );
        assert_eq!(a.category(), Category::Gap);
        assert_eq!(a.attributes["dropped"], "1000");
        assert!(
            a.detail
                .contains("container create ×700, container destroy ×300"),
            "{}",
            a.detail
        );
    }

    #[test]
    fn own_top_calls_do_not_trigger_refreshes() {
        assert!(!changes_inventory("top"));
        assert!(!changes_inventory("exec_start: sh"));
        assert!(changes_inventory("health_status: healthy"));
        assert!(changes_inventory("create"));
        assert!(changes_inventory("destroy"));
    }
}
