//! Starting what feeds the window: one worker per engine and per cluster
//! (live), or the demo lab; and the repaint pacing the workers use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{App, Link};
use crate::policy::Policy;
use crate::settings::Settings;
use crate::sources::docker::EnvSnapshot;
use crate::ui::state::{EngineSlot, Mode, State};
use crate::watch::demo;
use crate::watch::docker::{self, WorkerConfig};

use crate::watch::trail::Notify;

/// How to (re)start live mode.
#[derive(Clone)]
pub struct Launch {
    /// `--host` (`None`: discovery).
    pub host: Option<String>,
    /// Several engines to watch at once (`--host` repeated, or more than
    /// one engine found on this machine); empty: one engine, `host` or
    /// discovery, as before.
    pub fleet: Vec<crate::sources::docker::Target>,
    /// Every engine found on this machine at start (offered in Settings).
    pub found: Vec<crate::sources::docker::Target>,
    /// The user's policy.
    pub policy: Arc<Policy>,
    /// Where the settings are saved (`None`: not saved).
    pub settings_path: Option<PathBuf>,
    /// The audit log to append to (`None`: keep none).
    pub audit: Option<PathBuf>,
    /// How much of it is kept on disk.
    pub audit_retention: crate::audit::Retention,
    /// The vulnerability database's folder (`None`: matching off).
    pub vulndb: Option<crate::vulndb::store::Store>,
    /// `--kubeconfig` (`None`: KUBECONFIG, else ~/.kube/config).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig's contexts at start (offered in Settings).
    pub contexts: Vec<String>,
}

pub(super) fn notify_for(ctx: &egui::Context) -> Notify {
    let ctx = ctx.clone();
    let attention = Attention::of(&ctx);
    Arc::new(move |after: Option<Duration>| match after {
        None => ctx.request_repaint(),
        Some(d) => ctx.request_repaint_after(attention.pace(d)),
    })
}

/// Nobody has touched the window for this long: it is unattended.
pub const UNATTENDED_AFTER: Duration = Duration::from_secs(60);

/// How often live numbers (stats, the host line) repaint an unattended
/// window. Events, snapshots and open charts are not slowed.
pub const UNATTENDED_REPAINT: Duration = Duration::from_secs(5);

/// When a person last used the window. Low-urgency repaints (live numbers)
/// come at the worker's pace while someone is there, and at
/// [`UNATTENDED_REPAINT`] once nobody has moved the pointer, typed or
/// focused the window for [`UNATTENDED_AFTER`] — as a browser slows a
/// background tab: an idle dashboard draws a fraction of the frames.
#[derive(Clone)]
pub(super) struct Attention(Arc<std::sync::atomic::AtomicU64>);

impl Attention {
    /// The window's one record, kept in the egui context.
    pub(super) fn of(ctx: &egui::Context) -> Self {
        ctx.data_mut(|d| {
            d.get_temp_mut_or_insert_with(egui::Id::NULL.with("shipshape-attention"), || {
                Attention(Arc::new(std::sync::atomic::AtomicU64::new(now_ms())))
            })
            .clone()
        })
    }

    pub(super) fn touch(&self) {
        self.0.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn pace(&self, wanted: Duration) -> Duration {
        let last = self.0.load(std::sync::atomic::Ordering::Relaxed);
        let idle = Duration::from_millis(now_ms().saturating_sub(last));
        if idle >= UNATTENDED_AFTER {
            wanted.max(UNATTENDED_REPAINT)
        } else {
            wanted
        }
    }
}

pub(super) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Start live mode: one worker, or one per engine when several are to be
/// watched (each its own connection, backoff, events, stats and drift; one
/// shared audit log, each record naming its engine).
pub(super) fn start_live(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: Settings,
) -> (Vec<Link>, State) {
    let mut slots = Vec::new();
    let mut links = Vec::new();
    if launch.fleet.len() < 2 {
        // One engine, `--host` or discovery: named by its first snapshot.
        slots.push(EngineSlot::new(String::new()));
        links.push(start_worker(ctx, rt, launch, &settings, None));
    } else {
        for t in &launch.fleet {
            let m = docker::FleetMember {
                label: t.label(),
                target: t.clone(),
            };
            slots.push(EngineSlot::new(m.label.clone()));
            links.push(start_worker(ctx, rt, launch, &settings, Some(m)));
        }
    }
    let notices = start_clusters(ctx, rt, launch, &settings, &mut slots, &mut links);
    let mut state = State::with_engines(Mode::Live, settings, slots);
    for n in notices {
        state.notify(n, true);
    }
    state.found_engines = launch
        .found
        .iter()
        .map(crate::settings::EngineEntry::of)
        .collect();
    state.found_contexts = launch.contexts.clone();
    (links, state)
}

/// One worker per Kubernetes context the settings list, beside the engines.
#[cfg(feature = "kube")]
pub(super) fn start_clusters(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: &Settings,
    slots: &mut Vec<EngineSlot>,
    links: &mut Vec<Link>,
) -> Vec<String> {
    for context in &settings.kube_contexts {
        let cfg = crate::watch::kube::KubeConfig {
            kubeconfig: launch.kubeconfig.clone(),
            context: context.clone(),
            policy: launch.policy.clone(),
            poll_interval: Duration::from_secs(settings.refresh_secs.max(60)),
            settle: Duration::from_millis(500),
            audit: launch.audit.clone(),
            audit_retention: launch.audit_retention,
            mode: "gui",
            limits: crate::sources::kube::LIMITS,
        };
        let (cmd, rx, done) = crate::watch::kube::spawn(rt, cfg, notify_for(ctx));
        slots.push(EngineSlot::new(context.clone()));
        links.push(Link {
            cmd: Some(cmd),
            rx,
            demo_task: None,
            worker: Some(done),
        });
    }
    Vec::new()
}

#[cfg(not(feature = "kube"))]
pub(super) fn start_clusters(
    _: &egui::Context,
    _: &tokio::runtime::Handle,
    _: &Launch,
    settings: &Settings,
    _: &mut Vec<EngineSlot>,
    _: &mut Vec<Link>,
) -> Vec<String> {
    if settings.kube_contexts.is_empty() {
        return Vec::new();
    }
    vec!["This build has no Kubernetes support (the `kube` feature): the clusters in Settings are not watched.".into()]
}

pub(super) fn start_worker(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: &Settings,
    fleet: Option<docker::FleetMember>,
) -> Link {
    // The first (or only) engine's worker samples the host and shows the
    // audit log's past; the others do not repeat that.
    let first = fleet
        .as_ref()
        .is_none_or(|m| launch.fleet.first().is_some_and(|t| *t == m.target));
    let cfg = WorkerConfig {
        host: launch.host.clone(),
        env: EnvSnapshot::from_process(),
        policy: launch.policy.clone(),
        poll_interval: Duration::from_secs(settings.refresh_secs),
        host_stats: first,
        container_stats: true,
        max_streams: crate::watch::docker::MAX_STREAMS,
        audit: launch.audit.clone(),
        audit_retention: launch.audit_retention,
        drift: true,
        mode: "gui",
        history: first,
        vulns: launch.vulndb.clone(),
        fleet,
    };
    let (cmd, rx, done) = docker::spawn_with_handle(rt, cfg, notify_for(ctx));
    Link {
        cmd: Some(cmd),
        rx,
        demo_task: None,
        worker: Some(done),
    }
}

/// The demo lab's state: two engines.
pub(super) fn demo_state(settings: Settings) -> State {
    State::with_engines(
        Mode::Demo,
        settings,
        vec![
            EngineSlot::demo("lab-docker".into()),
            EngineSlot::demo("lab-podman".into()),
        ],
    )
}

/// The demo lab's two engines: a link each ([`demo::spawn`]).
pub(super) fn start_demo(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    policy: Arc<Policy>,
) -> Vec<Link> {
    let ([rx, rx2], task) = demo::spawn(rt, policy, notify_for(ctx));
    let mut first = Link::fed(rx);
    first.demo_task = Some(task);
    vec![first, Link::fed(rx2)]
}

impl App {
    /// Switch to the demo lab (from the engine-down banner).
    pub fn switch_to_demo(&mut self) {
        let (Some(rt), Some(launch), Some(ctx)) = (&self.runtime, &self.launch, &self.ctx) else {
            return;
        };
        self.links = start_demo(ctx, rt, launch.policy.clone());
        self.sent_focus.clear();
        self.state = demo_state(self.state.settings.clone());
    }

    /// Watch the enabled engines of the settings' list now (or, when it is
    /// empty, every engine found at start).
    pub fn apply_engine_list(&mut self) {
        let env = EnvSnapshot::from_process();
        let (targets, problems) = self.state.settings.engine_targets(&env);
        for p in problems {
            self.state.notify(p, true);
        }
        let Some(launch) = self.launch.as_mut() else {
            return;
        };
        launch.fleet = if self.state.settings.engines.iter().any(|e| e.enabled) {
            targets
        } else {
            launch.found.clone()
        };
        self.switch_to_live();
    }

    /// Leave the demo and connect to the engine.
    pub fn switch_to_live(&mut self) {
        let (Some(rt), Some(launch), Some(ctx)) = (&self.runtime, &self.launch, &self.ctx) else {
            return;
        };
        let (links, state) = start_live(ctx, rt, launch, self.state.settings.clone());
        self.links = links;
        self.sent_focus.clear();
        self.state = state;
    }
}
