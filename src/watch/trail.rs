//! The bounded event sink and the audit trail every source's worker
//! writes through: engines, clusters and (without a log) the demo lab. A
//! timeline entry and its audit record go out together
//! (`Recorder::activity`), so the two never disagree — repeated engine
//! events are folded into one summary for both ([`audit::fold`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::messages::{DATA_QUEUE, Event};
use crate::audit;
use crate::model::activity::{Activity, Category};

/// Stats arrive at 1 Hz per container; with many containers, asking for a
/// repaint per sample would redraw several times a second for nothing. The
/// table's live values are redrawn every two seconds; open charts ask the
/// UI for 1 Hz themselves (see `App::logic`). Keeps an idle window cheap.
pub const STATS_REPAINT: Duration = Duration::from_secs(2);

/// Ask the UI to repaint: `None` now, `Some(d)` within `d`.
pub type Notify = Arc<dyn Fn(Option<Duration>) + Send + Sync>;

/// Sends events and wakes the UI. Frequent events are bounded (see
/// [`super::messages::Events`]): past [`DATA_QUEUE`] waiting, they are
/// counted instead of queued, and the count goes out as `Event::Dropped`
/// with the next event that fits.
#[derive(Clone)]
pub(crate) struct Sink {
    pub(crate) tx: UnboundedSender<Event>,
    pub(crate) notify: Notify,
    pub(crate) queued: Arc<std::sync::atomic::AtomicUsize>,
    /// Dropped so far and not reported yet: (timeline entries, stats).
    pub(crate) dropped: Arc<std::sync::Mutex<(usize, usize)>>,
}

impl Sink {
    /// A sink that wakes the UI with `notify` after each event; its
    /// `queued` count goes to the receiving [`super::messages::Events`].
    pub(crate) fn new(tx: UnboundedSender<Event>, notify: Notify) -> Self {
        Self {
            tx,
            notify,
            queued: Default::default(),
            dropped: Default::default(),
        }
    }

    fn push(&self, ev: Event) -> bool {
        use std::sync::atomic::Ordering;
        if ev.is_data() {
            if self.queued.load(Ordering::Acquire) >= DATA_QUEUE {
                let mut d = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
                match ev {
                    Event::Activity(_) => d.0 += 1,
                    _ => d.1 += 1,
                }
                return true;
            }
            self.queued.fetch_add(1, Ordering::AcqRel);
        }
        let report = {
            let mut d = self.dropped.lock().unwrap_or_else(|e| e.into_inner());
            (d.0 + d.1 > 0).then(|| std::mem::take(&mut *d))
        };
        if let Some((activities, stats)) = report {
            let _ = self.tx.send(Event::Dropped { activities, stats });
        }
        self.tx.send(ev).is_ok()
    }

    pub(crate) fn send(&self, ev: Event) -> bool {
        let ok = self.push(ev);
        (self.notify)(None);
        ok
    }

    /// For frequent, low-urgency events (stats): batch repaints.
    pub(crate) fn send_soon(&self, ev: Event) -> bool {
        let ok = self.push(ev);
        (self.notify)(Some(STATS_REPAINT));
        ok
    }
}

/// The audit trail and the timeline, fed together so they never disagree.
/// Repeated engine events are folded into summaries first
/// ([`audit::fold`]): a flood costs neither the disk nor the window.
pub(crate) struct Recorder {
    pub(crate) sink: Sink,
    pub(crate) audit: Option<Arc<audit::Writer>>,
    /// The engine's name, when this worker is one of several.
    pub(crate) engine: Option<String>,
    fold: std::sync::Mutex<audit::fold::Folder>,
}

impl Recorder {
    pub(crate) fn new(
        sink: Sink,
        audit: Option<Arc<audit::Writer>>,
        engine: Option<String>,
    ) -> Self {
        Self {
            sink,
            audit,
            engine,
            fold: Default::default(),
        }
    }

    fn folder(&self) -> std::sync::MutexGuard<'_, audit::fold::Folder> {
        self.fold.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// When folded events are due to go out as a summary ([`Self::tick`]).
    pub(crate) fn fold_due(&self) -> Option<std::time::Instant> {
        self.folder().next_due()
    }

    /// Write the summaries whose window has ended.
    pub(crate) fn tick(&self) {
        let due = self.folder().due(std::time::Instant::now());
        for s in due {
            self.emit(s);
        }
    }

    /// The engine's name (empty with one engine).
    pub(crate) fn engine_name(&self) -> String {
        self.engine.clone().unwrap_or_default()
    }

    pub(crate) fn audit(&self, kind: &str, data: serde_json::Value) {
        self.audit_as(kind, data, false);
    }

    /// `sheddable`: an ordinary engine event, which the writer may count
    /// instead of queue when it falls behind.
    fn audit_as(&self, kind: &str, mut data: serde_json::Value, sheddable: bool) {
        if let Some(w) = &self.audit {
            if let (Some(engine), Some(obj)) = (&self.engine, data.as_object_mut()) {
                obj.entry("engine")
                    .or_insert_with(|| serde_json::Value::String(engine.clone()));
            }
            if sheddable {
                w.record_sheddable(kind, data);
            } else {
                w.record(kind, data);
            }
        }
    }

    /// The first record of a worker's session.
    pub(crate) fn session_start(&self, mode: &str, source: crate::model::Source) {
        self.audit(
            "session_start",
            serde_json::json!({
                "mode": mode,
                "version": env!("CARGO_PKG_VERSION"),
                "pid": std::process::id(),
                "source": source.as_str(),
            }),
        );
    }

    /// The last record, then flush: the writer thread writes everything
    /// queued before it ends. A log shared by several workers is flushed by
    /// the last one to let go of it.
    pub(crate) async fn session_end(self, mode: &str) {
        let open = self.folder().flush();
        for s in open {
            self.emit(s);
        }
        self.audit("session_end", serde_json::json!({ "mode": mode }));
        if let Some(w) = self.audit.and_then(|w| Arc::try_unwrap(w).ok()) {
            let _ = tokio::task::spawn_blocking(move || w.finish()).await;
        }
    }

    /// Show an activity and write it down — or count it into a summary
    /// when it repeats too fast ([`audit::fold`]).
    pub(crate) fn activity(&self, mut a: Activity) {
        if let Some(engine) = &self.engine {
            a.engine = engine.clone();
        }
        let now = std::time::Instant::now();
        let (due, pass) = {
            let mut f = self.folder();
            if let Some(w) = &self.audit {
                f.set_pressure(w.under_pressure());
            }
            (f.due(now), f.push(a, now))
        };
        for s in due {
            self.emit(s);
        }
        if let Some(a) = pass {
            self.emit(a);
        }
    }

    fn emit(&self, a: Activity) {
        let summary = audit::fold::is_summary(&a);
        let kind = match a.category() {
            _ if summary => "summary",
            Category::Gap => match a.action.as_str() {
                "engine_changed" => "engine_changed",
                "events_dropped" => "events_dropped",
                _ => "gap",
            },
            Category::Finding => "finding",
            Category::Exec if a.exec.is_some() => "exec",
            _ => "event",
        };
        // What the writer may count instead of queue when it falls behind:
        // ordinary engine events, not root or privileged execs, not what
        // matters (medium and above).
        let sheddable = matches!(kind, "event" | "exec")
            && a.severity
                .is_none_or(|s| s < crate::model::Severity::Medium)
            && a.exec
                .as_ref()
                .is_none_or(|e| !e.privileged && !e.as_root());
        self.audit_as(
            kind,
            serde_json::to_value(&a).unwrap_or(serde_json::Value::Null),
            sheddable,
        );
        self.sink.send(Event::Activity(Arc::new(a)));
    }
}

/// The audit writers open in this process, by log path: the workers of
/// several engines share one (one hash chain; a second open would find the
/// log locked by ourselves).
static WRITERS: std::sync::Mutex<Vec<(PathBuf, std::sync::Weak<audit::Writer>)>> =
    std::sync::Mutex::new(Vec::new());

/// The writer of this log already open in this process, if any.
pub(crate) fn shared_writer(path: &std::path::Path) -> Option<Arc<audit::Writer>> {
    let mut open = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
    open.retain(|(_, w)| w.strong_count() > 0);
    open.iter()
        .find(|(p, _)| p == path)
        .and_then(|(_, w)| w.upgrade())
}

pub(crate) async fn open_audit(
    path: Option<PathBuf>,
    retention: audit::Retention,
    sink: &Sink,
) -> Option<Arc<audit::Writer>> {
    let path = path?;
    if let Some(w) = shared_writer(&path) {
        sink.send(Event::Audit(Ok(w.path().to_path_buf())));
        return Some(w);
    }
    let wanted = path.clone();
    let opened = tokio::task::spawn_blocking(move || {
        // A worker of this same process that is just shutting down (the
        // window switched from the demo back to live) may still hold the
        // lock for a moment.
        let mut tries = 0;
        loop {
            match audit::AuditLog::open_with(&path, retention) {
                // Held by a fleet sibling in this process: share its writer.
                Err(audit::AuditError::Busy(_)) if shared_writer(&path).is_some() => {
                    return Err(audit::AuditError::Busy(path.clone()));
                }
                Err(audit::AuditError::Busy(_)) if tries < 5 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    })
    .await;
    match opened {
        Ok(Ok(log)) => {
            sink.send(Event::Audit(Ok(log.path().to_path_buf())));
            let warn = sink.clone();
            let w = Arc::new(audit::Writer::start(
                log,
                Box::new(move |e| {
                    warn.send(Event::Warning(e.clone()));
                    warn.send(Event::Audit(Err(e)));
                }),
            ));
            // We hold the log's lock: no other writer of it exists here.
            WRITERS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((wanted, Arc::downgrade(&w)));
            Some(w)
        }
        Ok(Err(e)) => {
            if matches!(e, audit::AuditError::Busy(_))
                && let Some(w) = shared_writer(&wanted)
            {
                sink.send(Event::Audit(Ok(w.path().to_path_buf())));
                return Some(w);
            }
            sink.send(Event::Warning(e.to_string()));
            sink.send(Event::Audit(Err(e.to_string())));
            None
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::messages::Events;
    use tokio::sync::mpsc;

    /// Issue 39: a flood in one container reaches the timeline and the
    /// audit log as its first few entries and one summary, the same in
    /// both; stopping writes the summary still open.
    #[test]
    fn a_flood_is_folded_the_same_for_the_timeline_and_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let (tx, mut rx) = mpsc::unbounded_channel();
        let writer = audit::Writer::start(
            audit::AuditLog::open(&path, 1 << 20).unwrap(),
            Box::new(|e| panic!("{e}")),
        );
        let rec = Recorder::new(
            Sink::new(tx, Arc::new(|_| {})),
            Some(Arc::new(writer)),
            None,
        );
        for i in 0..1000 {
            let mut a = Activity::own("exec_start", format!("true {i}"), None);
            a.source = crate::model::activity::Source::Container;
            a.container_id = Some("c1".into());
            a.name = "web".into();
            rec.activity(a);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(rec.session_end("test"));
        let mut shown = Vec::new();
        while let Ok(Event::Activity(a)) = rx.try_recv() {
            shown.push(a);
        }
        let folded = crate::audit::fold::FOLD_AFTER as usize;
        assert_eq!(shown.len(), folded + 1, "the first ones and a summary");
        assert_eq!(
            shown[folded].attributes["summarised"],
            (1000 - folded).to_string()
        );
        let logged = audit::tail(&path, 100).unwrap();
        let kinds: Vec<&str> = logged.iter().map(|r| r.kind.as_str()).collect();
        let mut want = vec!["event"; folded];
        want.extend(["summary", "session_end"]);
        assert_eq!(kinds, want);
        assert_eq!(
            logged[folded].data["detail"], shown[folded].detail,
            "the log and the timeline say the same"
        );
        assert!(audit::verify(&path).unwrap().is_ok());
    }

    /// Issue 15: a consumer that falls behind costs a count, not memory;
    /// the count is delivered before the next event that fits.
    #[test]
    fn frequent_events_are_bounded_and_the_overflow_is_reported() {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued: Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let sink = Sink {
            tx,
            notify: Arc::new(|_| {}),
            queued: queued.clone(),
            dropped: Default::default(),
        };
        let mut events = Events::new(rx, queued);
        let act = || Event::Activity(Arc::new(Activity::own("x", "", None)));
        for _ in 0..DATA_QUEUE + 250 {
            sink.send(act());
        }
        sink.send(Event::Warning("control events always arrive".into()));
        let mut got = Vec::new();
        while let Ok(e) = events.try_recv() {
            got.push(e);
        }
        assert_eq!(
            got.len(),
            DATA_QUEUE + 2,
            "bounded; the count and the control event kept"
        );
        // The count goes out with the next event that is sent at all.
        assert!(matches!(
            got[DATA_QUEUE],
            Event::Dropped {
                activities: 250,
                stats: 0
            }
        ));
        assert!(matches!(got.last(), Some(Event::Warning(_))));
        // Drained: frequent events are queued again.
        sink.send(act());
        assert!(matches!(events.try_recv(), Ok(Event::Activity(_))));
    }
}
