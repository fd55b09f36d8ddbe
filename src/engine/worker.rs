//! The engine worker: one task on the tokio runtime that owns the engine
//! connection. It connects (with backoff), polls snapshots on a timer and on
//! engine events, assesses them in the background, runs one stats stream per
//! running container, samples host load, and sends owned [`Event`]s to the UI.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::host::HostSampler;
use super::messages::{Command, Event, Snapshot};
use super::{Engine, EngineError, EnvSnapshot, scan, stats};
use crate::model::ContainerState;
use crate::model::stats::{StatsReading, derive};
use crate::policy::Policy;

/// Stats arrive at 1 Hz per container; with many containers, asking for a
/// repaint per sample would redraw several times a second for nothing. The
/// table's live values are redrawn every two seconds; open charts ask the
/// UI for 1 Hz themselves (see `App::logic`). Keeps an idle window cheap.
pub const STATS_REPAINT: Duration = Duration::from_secs(2);

/// Ask the UI to repaint: `None` now, `Some(d)` within `d`.
pub type Notify = Arc<dyn Fn(Option<Duration>) + Send + Sync>;

#[derive(Clone)]
pub struct WorkerConfig {
    pub host: Option<String>,
    pub env: EnvSnapshot,
    pub policy: Arc<Policy>,
    pub poll_interval: Duration,
    /// Sample host load with sysinfo.
    pub host_stats: bool,
}

/// Sends events and wakes the UI.
#[derive(Clone)]
struct Sink {
    tx: UnboundedSender<Event>,
    notify: Notify,
}

impl Sink {
    fn send(&self, ev: Event) -> bool {
        let ok = self.tx.send(ev).is_ok();
        (self.notify)(None);
        ok
    }

    /// For frequent, low-urgency events (stats): batch repaints.
    fn send_soon(&self, ev: Event) -> bool {
        let ok = self.tx.send(ev).is_ok();
        (self.notify)(Some(STATS_REPAINT));
        ok
    }
}

/// Start the worker on `rt`.
pub fn spawn(
    rt: &tokio::runtime::Handle,
    cfg: WorkerConfig,
    notify: Notify,
) -> (UnboundedSender<Command>, UnboundedReceiver<Event>) {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let sink = Sink { tx: ev_tx, notify };
    rt.spawn(run(cfg, cmd_rx, sink));
    (cmd_tx, ev_rx)
}

/// Backoff between connection attempts: 1, 2, 4, 8, 15, 15… seconds.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(4)).min(Duration::from_secs(15))
}

enum SessionEnd {
    Shutdown,
    Lost(String),
}

async fn run(mut cfg: WorkerConfig, mut cmd_rx: UnboundedReceiver<Command>, sink: Sink) {
    let host_task = cfg
        .host_stats
        .then(|| tokio::spawn(host_loop(sink.clone())));
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        sink.send(Event::Connecting { attempt });
        let delay = match Engine::discover_and_connect(cfg.host.as_deref(), &cfg.env).await {
            Ok(engine) => {
                attempt = 0;
                sink.send(Event::Connected {
                    found_by: engine.target().found_by.to_string(),
                    endpoint: engine.target().endpoint.to_string(),
                    api_version: engine.api_version().to_string(),
                });
                match session(&engine, &mut cfg, &mut cmd_rx, &sink).await {
                    SessionEnd::Shutdown => break,
                    SessionEnd::Lost(reason) => {
                        let retry_in = backoff(1);
                        sink.send(Event::Disconnected { reason, retry_in });
                        retry_in
                    }
                }
            }
            Err(e) => {
                let retry_in = backoff(attempt);
                sink.send(Event::Disconnected {
                    reason: e.to_string(),
                    retry_in,
                });
                retry_in
            }
        };
        // Wait for the backoff, or for the user.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        let stop = loop {
            tokio::select! {
                () = &mut sleep => break false,
                cmd = cmd_rx.recv() => match cmd {
                    None | Some(Command::Shutdown) => break true,
                    Some(Command::ReconnectNow | Command::Refresh) => { attempt = 0; break false }
                    Some(Command::SetPollInterval(d)) => cfg.poll_interval = d,
                },
            }
        };
        if stop {
            break;
        }
    }
    if let Some(t) = host_task {
        t.abort();
    }
}

async fn host_loop(sink: Sink) {
    let info = tokio::task::spawn_blocking(HostSampler::static_info)
        .await
        .unwrap_or_default();
    sink.send(Event::HostInfo(info));
    let mut sampler = match tokio::task::spawn_blocking(HostSampler::new).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            sink.send(Event::Warning(e));
            return;
        }
        Err(_) => return,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Ok((s, point)) = tokio::task::spawn_blocking(move || {
            let p = sampler.sample();
            (sampler, p)
        })
        .await
        else {
            return;
        };
        sampler = s;
        if !sink.send_soon(Event::Host(point)) {
            return;
        }
    }
}

/// Container events that change the inventory (others, such as the `top`
/// calls shipshape itself makes, are ignored).
fn changes_inventory(action: &str) -> bool {
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

async fn session(
    engine: &Engine,
    cfg: &mut WorkerConfig,
    cmd_rx: &mut UnboundedReceiver<Command>,
    sink: &Sink,
) -> SessionEnd {
    let mut stats: HashMap<String, JoinHandle<()>> = HashMap::new();
    let end = session_loop(engine, cfg, cmd_rx, sink, &mut stats).await;
    for (id, h) in stats.drain() {
        h.abort();
        sink.send(Event::StatsEnded { id });
    }
    end
}

async fn session_loop(
    engine: &Engine,
    cfg: &mut WorkerConfig,
    cmd_rx: &mut UnboundedReceiver<Command>,
    sink: &Sink,
    stats: &mut HashMap<String, JoinHandle<()>>,
) -> SessionEnd {
    // Engine events, read on their own task so a slow snapshot never makes
    // the engine drop us as a slow subscriber.
    let (change_tx, mut change_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let events_task = {
        let engine = engine.clone();
        tokio::spawn(async move {
            let mut stream = engine.events();
            while let Some(ev) = stream.next().await {
                match ev {
                    Ok(msg) => {
                        let is_container =
                            msg.typ.map(|t| t.to_string()) == Some("container".into());
                        if is_container
                            && msg.action.as_deref().is_some_and(changes_inventory)
                            && change_tx.send(Ok(())).is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = change_tx.send(Err(e.to_string()));
                        return;
                    }
                }
            }
            let _ = change_tx.send(Err("the engine closed the event stream".into()));
        })
    };
    let _guard = AbortOnDrop(events_task);

    if let Err(reason) = refresh(engine, cfg, sink, stats).await {
        return SessionEnd::Lost(reason);
    }
    let mut poll = tokio::time::interval(cfg.poll_interval);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    poll.tick().await;
    let mut dirty_since: Option<tokio::time::Instant> = None;
    loop {
        let debounce = async {
            match dirty_since {
                Some(t) => tokio::time::sleep_until(t + Duration::from_millis(300)).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = poll.tick() => {
                if let Err(reason) = refresh(engine, cfg, sink, stats).await { return SessionEnd::Lost(reason) }
            }
            () = debounce => {
                dirty_since = None;
                if let Err(reason) = refresh(engine, cfg, sink, stats).await { return SessionEnd::Lost(reason) }
                poll.reset();
            }
            cmd = cmd_rx.recv() => match cmd {
                None | Some(Command::Shutdown) => return SessionEnd::Shutdown,
                Some(Command::Refresh) => {
                    if let Err(reason) = refresh(engine, cfg, sink, stats).await { return SessionEnd::Lost(reason) }
                    poll.reset();
                }
                Some(Command::ReconnectNow) => {}
                Some(Command::SetPollInterval(d)) => {
                    cfg.poll_interval = d;
                    poll = tokio::time::interval(d);
                    poll.tick().await;
                }
            },
            change = change_rx.recv() => match change {
                Some(Ok(())) => { dirty_since.get_or_insert_with(tokio::time::Instant::now); }
                Some(Err(reason)) => return SessionEnd::Lost(reason),
                None => return SessionEnd::Lost("the event stream stopped".into()),
            },
        }
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Snapshot, assess (off the UI thread), send, and bring the stats streams
/// in line with what is running.
async fn refresh(
    engine: &Engine,
    cfg: &WorkerConfig,
    sink: &Sink,
    stats: &mut HashMap<String, JoinHandle<()>>,
) -> Result<(), String> {
    let inventory = match scan::snapshot(engine, &cfg.env).await {
        Ok(i) => i,
        Err(e @ (EngineError::Lost { .. } | EngineError::Connect(_))) => return Err(e.to_string()),
        Err(e) => {
            sink.send(Event::Warning(e.to_string()));
            return Ok(());
        }
    };
    let policy = cfg.policy.clone();
    let snapshot = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        let assessment = crate::assess::assess(&inventory, &policy, now);
        Snapshot {
            inventory,
            assessment,
            taken_at: Some(now),
        }
    })
    .await
    .map_err(|e| format!("assessment failed: {e}"))?;

    // Streams: one per running container.
    let running: HashMap<&str, bool> = snapshot
        .inventory
        .containers
        .iter()
        .filter(|c| c.state == ContainerState::Running)
        .map(|c| (c.id.as_str(), c.limits.memory_bytes > 0))
        .collect();
    stats.retain(|id, h| {
        let keep = running.contains_key(id.as_str()) && !h.is_finished();
        if !keep {
            h.abort();
            sink.send(Event::StatsEnded { id: id.clone() });
        }
        keep
    });
    for (id, limited) in running {
        if !stats.contains_key(id) {
            stats.insert(
                id.to_string(),
                tokio::spawn(stats_stream(
                    engine.clone(),
                    id.to_string(),
                    limited,
                    sink.clone(),
                )),
            );
        }
    }
    sink.send(Event::Snapshot(Arc::new(snapshot)));
    Ok(())
}

async fn stats_stream(engine: Engine, id: String, limited: bool, sink: Sink) {
    let mut prev: Option<StatsReading> = None;
    let mut stream = std::pin::pin!(engine.stats_stream(&id));
    while let Some(item) = stream.next().await {
        let Ok(resp) = item else { break };
        let r = stats::reading(&resp);
        // The first frame has no previous CPU sample: nothing to draw yet.
        if crate::model::stats::cpu_percent(&r).is_some() {
            let point = derive(prev.as_ref(), &r, limited);
            if !sink.send_soon(Event::Stats {
                id: id.clone(),
                point,
            }) {
                return;
            }
        }
        prev = Some(r);
    }
    sink.send(Event::StatsEnded { id });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let secs: Vec<u64> = (1..=7).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 15, 15, 15]);
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
