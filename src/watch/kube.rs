//! The worker of one Kubernetes context, in the one supervise loop
//! ([`super::supervise`]): connect, list,
//! assess, send a snapshot; then keep it current from a watch on pods,
//! resuming from the last resourceVersion when the stream ends or drops,
//! and listing afresh when the server says that version is gone (410) or
//! the poll interval passes. Speaks the same [`Event`]s as an engine
//! worker, so the window shows a cluster as one more engine, and writes
//! through the same sink, audit trail and publish step ([`super::trail`],
//! [`super::publish`]): pods added, removed and changing phase are timeline
//! entries, new findings are audited and alerted, and each assessment that
//! moves the picture is a `scan` record and a posture point.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::WatchEvent;
use tokio::sync::mpsc::UnboundedSender;

use super::messages::{Command, Event};
use super::publish::{Publisher, Trigger, snapshot};
use super::supervise::{Commands, End, Watched, supervise};
use super::tracker::Tracker;
use super::trail::{Recorder, Sink, open_audit};
use crate::model::activity::{Activity, Source};
use crate::policy::Policy;
use crate::sources::kube::{Cluster, ClusterId, KubeError, Lists, connect_with, convert};

/// How a cluster's worker runs.
#[derive(Clone)]
pub struct KubeConfig {
    /// `--kubeconfig`; `None`: KUBECONFIG, else ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to watch (also its name in the window).
    pub context: String,
    /// The user's policy.
    pub policy: Arc<Policy>,
    /// A full list this often, watch or not (and the only refresh where
    /// pods cannot be watched cluster-wide).
    pub poll_interval: Duration,
    /// After a watch event, wait this long for more before assessing
    /// (a rollout is dozens of events in a second).
    pub settle: Duration,
    /// Append the cluster's timeline, findings and scans to this audit log
    /// (shared with the engines' workers; `None`: keep no trail).
    pub audit: Option<PathBuf>,
    /// How much of the audit log is kept on disk.
    pub audit_retention: crate::audit::Retention,
    /// Who runs the worker, for the audit trail (`gui`, `watch`).
    pub mode: &'static str,
    /// The ceilings of its reads and of the pods it follows
    /// ([`crate::sources::kube::LIMITS`]; tests lower them).
    pub limits: crate::sources::kube::Limits,
}

/// Start the worker on `rt`: commands in, events out (each followed by
/// `notify`).
pub fn spawn(
    rt: &tokio::runtime::Handle,
    cfg: KubeConfig,
    notify: super::trail::Notify,
) -> (
    UnboundedSender<Command>,
    super::messages::Events,
    tokio::task::JoinHandle<()>,
) {
    let (cmd_tx, cmd_rx) = tokio::sync::mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = tokio::sync::mpsc::unbounded_channel();
    let sink = Sink::new(ev_tx, notify);
    let queued = sink.queued.clone();
    let done = rt.spawn(run_with(cfg, sink, Commands::new(cmd_rx)));
    (cmd_tx, super::messages::Events::new(ev_rx, queued), done)
}

/// Run without commands until the receiver goes away (tests, and `scan`'s
/// siblings).
pub async fn run(cfg: KubeConfig, tx: UnboundedSender<Event>) {
    run_with(cfg, Sink::new(tx, Arc::new(|_| {})), Commands::none()).await;
}

/// What the worker keeps across reconnects: which findings it has seen,
/// and the last `scan` record.
#[derive(Default)]
struct Memory {
    tracker: Tracker,
    publisher: Publisher,
}

async fn run_with(cfg: KubeConfig, sink: Sink, mut cmds: Commands) {
    let rec = Recorder::new(
        sink.clone(),
        open_audit(cfg.audit.clone(), cfg.audit_retention, &sink).await,
        Some(cfg.context.clone()),
    );
    rec.session_start(cfg.mode, crate::model::Source::Kubernetes);
    let mode = cfg.mode;
    let mut watch = ClusterWatch {
        cfg,
        rec,
        memory: Memory::default(),
    };
    supervise(&mut watch, &mut cmds, &sink).await;
    watch.rec.session_end(mode).await;
}

/// One cluster's worker inside the supervise loop.
struct ClusterWatch {
    cfg: KubeConfig,
    rec: Recorder,
    memory: Memory,
}

impl Watched for ClusterWatch {
    async fn session(&mut self, cmds: &mut Commands) -> End {
        session(&self.cfg, &self.rec, &mut self.memory, cmds).await
    }

    async fn waiting(&mut self, cmd: Command) -> bool {
        if let Command::Record { kind, data } = cmd {
            self.rec.audit(&kind, data);
        }
        false
    }
}

fn pod_key(p: &Pod) -> (String, String) {
    (
        p.metadata.namespace.clone().unwrap_or_default(),
        p.metadata.name.clone().unwrap_or_default(),
    )
}

/// A pod that appeared, went away or changed phase, as a timeline entry.
fn pod_activity(action: &str, p: &Pod, detail: String) -> Activity {
    let (ns, name) = pod_key(p);
    let mut a = Activity::own(action, detail, None);
    a.source = Source::Container;
    a.actor = p.metadata.uid.clone().unwrap_or_default();
    a.name = format!("{ns}/{name}");
    a.attributes.insert("namespace".into(), ns);
    if let Some(phase) = p.status.as_ref().and_then(|s| s.phase.clone()) {
        a.attributes.insert("phase".into(), phase);
    }
    a
}

fn phase_of(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

/// Assess off the runtime's threads, then publish through the step every
/// source shares. The lists go to the assessing thread and come back (a
/// cluster's pods are its largest data: not copied for this).
async fn publish(
    cfg: &KubeConfig,
    rec: &Recorder,
    memory: &mut Memory,
    id: &ClusterId,
    lists: &mut Lists,
) -> bool {
    let (id, taken, policy) = (id.clone(), std::mem::take(lists), cfg.policy.clone());
    let built = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        let s = snapshot(convert::inventory(&id, &taken, now), None, &policy, now);
        (s, taken)
    })
    .await;
    match built {
        Ok((s, taken)) => {
            *lists = taken;
            memory
                .publisher
                .publish(rec, &mut memory.tracker, s, Trigger::Scan { user: false });
            !rec.sink.tx.is_closed()
        }
        Err(e) => rec
            .sink
            .send(Event::Warning(format!("assessment failed: {e}"))),
    }
}

/// One connection: list, then watch until lost or told to stop.
async fn session(
    cfg: &KubeConfig,
    rec: &Recorder,
    memory: &mut Memory,
    cmds: &mut Commands,
) -> End {
    let sink = &rec.sink;
    let unreachable = |e: KubeError| End::Unreachable(e.to_string());
    let cluster = match connect_with(cfg.kubeconfig.as_deref(), &cfg.context, cfg.limits).await {
        Ok(c) => c,
        Err(e) => return unreachable(e),
    };
    let id = match cluster.identify().await {
        Ok(id) => id,
        Err(e) => return unreachable(e),
    };
    rec.audit(
        "connect",
        serde_json::json!({
            "endpoint": id.server,
            "found_by": "kubeconfig context",
            "api_version": id.version,
            "engine_id": format!("k8s:{}", id.server),
            "engine_name": id.context,
        }),
    );
    sink.send(Event::Connected {
        found_by: "kubeconfig context".into(),
        endpoint: id.server.clone(),
        api_version: id.version.clone(),
        engine: crate::model::EngineIdentity {
            id: format!("k8s:{}", id.server),
            root: String::new(),
            name: id.context.clone(),
        },
    });
    let mut followed = false;
    let end = loop {
        let (mut lists, rv) = match cluster.read().await {
            Ok(r) => r,
            // Reached but never read (RBAC, say): back off as unreachable.
            Err(e) if !followed => break unreachable(e),
            Err(e) => break End::Lost(e.to_string()),
        };
        followed = true;
        if !publish(cfg, rec, memory, &id, &mut lists).await {
            break End::Shutdown;
        }
        match follow(cfg, rec, memory, cmds, &cluster, &id, &mut lists, rv).await {
            Follow::Relist => continue,
            Follow::End(e) => break e,
        }
    };
    if let End::Lost(reason) | End::Unreachable(reason) = &end {
        rec.audit("disconnect", serde_json::json!({ "reason": reason }));
    }
    end
}

enum Follow {
    /// List everything again (poll interval, 410 Gone, a refresh asked for).
    Relist,
    End(End),
}

/// Apply the pod watch to `lists` until it is time to list again.
#[allow(clippy::too_many_arguments)]
async fn follow(
    cfg: &KubeConfig,
    rec: &Recorder,
    memory: &mut Memory,
    cmds: &mut Commands,
    cluster: &Cluster,
    id: &ClusterId,
    lists: &mut Lists,
    rv: Option<String>,
) -> Follow {
    let relist_at = tokio::time::Instant::now() + cfg.poll_interval;
    let mut pods: BTreeMap<(String, String), Pod> =
        lists.pods.drain(..).map(|p| (pod_key(&p), p)).collect();
    let Some(mut rv) = rv else {
        // No cluster-wide watch (or a list cut at a ceiling): poll.
        lists.pods = pods.into_values().collect();
        return poll(relist_at, rec, cmds).await;
    };
    let most = cluster.limits().items;
    let mut full = false;
    loop {
        let stream = match cluster.watch_pods(&rv).await {
            Ok(s) => s,
            Err(e) => return Follow::End(End::Lost(e.to_string())),
        };
        tokio::pin!(stream);
        let mut dirty = false;
        let mut polled = false;
        loop {
            let settle = async {
                if dirty {
                    tokio::time::sleep(cfg.settle).await;
                } else {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = tokio::time::sleep_until(relist_at) => return Follow::Relist,
                cmd = cmds.next() => return on_command(cmds, cmd),
                // Nobody listens any more: end the session and flush.
                () = rec.sink.tx.closed() => return Follow::End(End::Shutdown),
                () = settle => {
                    dirty = false;
                    lists.pods = pods.values().cloned().collect();
                    if !publish(cfg, rec, memory, id, lists).await {
                        return Follow::End(End::Shutdown);
                    }
                    // The map is the list from here on.
                    lists.pods = Vec::new();
                }
                ev = stream.next() => match ev {
                    Some(Ok(WatchEvent::Added(mut p) | WatchEvent::Modified(mut p))) => {
                        p.metadata.managed_fields = None;
                        if let Some(v) = &p.metadata.resource_version {
                            rv.clone_from(v);
                        }
                        let before = pods.get(&pod_key(&p)).map(|o| phase_of(o).to_string());
                        if before.is_none() && pods.len() >= most {
                            // As many pods as a list may hold: the rest
                            // are not followed, and that is said once.
                            if !full {
                                full = true;
                                lists.notes.push(crate::sources::kube::limits::cut_note(
                                    "pods",
                                    pods.len(),
                                    &crate::sources::kube::Ceiling::Items(most),
                                ));
                                dirty = true;
                            }
                            continue;
                        }
                        match before {
                            None => rec.activity(pod_activity(
                                "pod_added",
                                &p,
                                format!("pod added ({})", phase_of(&p)),
                            )),
                            Some(was) if was != phase_of(&p) => rec.activity(pod_activity(
                                "pod_phase",
                                &p,
                                format!("{was} → {}", phase_of(&p)),
                            )),
                            Some(_) => {}
                        }
                        pods.insert(pod_key(&p), p);
                        dirty = true;
                    }
                    Some(Ok(WatchEvent::Deleted(p))) => {
                        if let Some(v) = &p.metadata.resource_version {
                            rv.clone_from(v);
                        }
                        rec.activity(pod_activity("pod_removed", &p, "pod removed".into()));
                        pods.remove(&pod_key(&p));
                        dirty = true;
                    }
                    Some(Ok(WatchEvent::Bookmark(b))) => {
                        rv = b.metadata.resource_version;
                    }
                    // The version is too old to resume from: list again.
                    Some(Ok(WatchEvent::Error(s))) if s.code == 410 => {
                        lists.pods = pods.into_values().collect();
                        return Follow::Relist;
                    }
                    Some(Ok(WatchEvent::Error(s))) => {
                        rec.sink.send(Event::Warning(format!("watch of pods: {} ({})", s.message, s.code)));
                        break;
                    }
                    // One event over the answer ceiling: the server would
                    // send it again on every resume. Poll until the next
                    // list instead.
                    Some(Err(e)) if crate::sources::kube::limits::too_large(&e).is_some() => {
                        rec.sink.send(Event::Warning(format!(
                            "watch of pods: {}; the cluster is polled until its next full list",
                            cluster.describe_error(&e)
                        )));
                        polled = true;
                        break;
                    }
                    // Ended by the server, or the connection dropped:
                    // resume from the last version seen.
                    Some(Err(e)) => {
                        tracing::debug!("pod watch dropped: {e}; resuming from {rv}");
                        break;
                    }
                    None => break,
                },
            }
        }
        if dirty {
            lists.pods = pods.values().cloned().collect();
            if !publish(cfg, rec, memory, id, lists).await {
                return Follow::End(End::Shutdown);
            }
            lists.pods = Vec::new();
        }
        if polled {
            return poll(relist_at, rec, cmds).await;
        }
    }
}

/// Wait for the next full list (or a command, or the end).
async fn poll(relist_at: tokio::time::Instant, rec: &Recorder, cmds: &mut Commands) -> Follow {
    tokio::select! {
        () = tokio::time::sleep_until(relist_at) => Follow::Relist,
        cmd = cmds.next() => on_command(cmds, cmd),
        () = rec.sink.tx.closed() => Follow::End(End::Shutdown),
    }
}

/// A command during a session: stop, or list afresh (a refresh, and
/// whatever else the user did).
fn on_command(cmds: &Commands, cmd: Option<Command>) -> Follow {
    if cmds.stops(&cmd) {
        Follow::End(End::Shutdown)
    } else {
        Follow::Relist
    }
}
