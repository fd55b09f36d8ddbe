//! The eframe app. The UI thread is the only owner of app state:
//! [`App::logic`] drains worker events within a time budget and
//! [`App::show`] only draws from state. Nothing here blocks: engine calls,
//! assessment and file writes run on the tokio runtime.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::mpsc::UnboundedSender;

use crate::policy::Policy;
use crate::report::baseline;
use crate::report::{Format, Report};
use crate::settings::{Settings, ThemeChoice};
use crate::sources::docker::EnvSnapshot;
use crate::watch::demo;
use crate::watch::messages::{Command, Event, Snapshot};
use crate::watch::worker::{self, Notify, WorkerConfig};

/// How long one `logic` pass may spend applying events.
const DRAIN_BUDGET: Duration = Duration::from_millis(4);

pub use crate::ui::state::*;

/// How to (re)start live mode.
#[derive(Clone)]
pub struct Launch {
    pub host: Option<String>,
    /// Several engines to watch at once (`--host` repeated, or more than
    /// one engine found on this machine); empty: one engine, `host` or
    /// discovery, as before.
    pub fleet: Vec<crate::sources::docker::Target>,
    /// Every engine found on this machine at start (offered in Settings).
    pub found: Vec<crate::sources::docker::Target>,
    pub policy: Arc<Policy>,
    pub settings_path: Option<PathBuf>,
    /// The audit log to append to (`None`: keep none).
    pub audit: Option<PathBuf>,
    /// The vulnerability database's folder (`None`: matching off).
    pub vulndb: Option<crate::vulndb::store::Store>,
    /// `--kubeconfig` (`None`: KUBECONFIG, else ~/.kube/config).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig's contexts at start (offered in Settings).
    pub contexts: Vec<String>,
}

/// Results of background jobs the UI started.
enum Side {
    Notice(String, bool),
    /// From the desktop notification task.
    Alerts(crate::sources::desktop::Feedback),
    /// The tray started, or why it did not.
    Tray(Result<Arc<crate::sources::tray::TrayHandle>, String>),
    /// The tray's menu or icon was used.
    TrayAction(crate::sources::tray::TrayAction),
    Exported(Result<PathBuf, String>),
    ExportCancelled,
    Baseline(Result<(PathBuf, Arc<Report>), String>),
}

/// Asks the user for a file: (suggested name, format, save?) → path.
/// The default uses the native dialog (rfd, async); tests inject their own.
pub type Picker = Arc<
    dyn Fn(
            String,
            Format,
            bool,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<PathBuf>> + Send>>
        + Send
        + Sync,
>;

pub fn native_picker() -> Picker {
    Arc::new(|name, format, save| {
        Box::pin(async move {
            let dialog =
                rfd::AsyncFileDialog::new().add_filter(format.name(), &[format.extension()]);
            let handle = if save {
                dialog.set_file_name(name).save_file().await
            } else {
                dialog.pick_file().await
            };
            handle.map(|h| h.path().to_path_buf())
        })
    })
}

/// Channels to whatever feeds the UI (the engine worker or the demo).
struct Link {
    cmd: Option<UnboundedSender<Command>>,
    rx: crate::watch::messages::Events,
    demo_task: Option<tokio::task::JoinHandle<()>>,
    /// The engine worker; finishes after `Shutdown` once its audit log is
    /// flushed.
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        if let Some(c) = &self.cmd {
            let _ = c.send(Command::Shutdown);
        }
        if let Some(t) = &self.demo_task {
            t.abort();
        }
    }
}

pub struct App {
    pub state: State,
    link: Link,
    /// The other engines' workers, when several are watched.
    others: Vec<Link>,
    runtime: Option<tokio::runtime::Handle>,
    launch: Option<Launch>,
    ctx: Option<egui::Context>,
    saved_settings: Settings,
    applied_theme: Option<ThemeChoice>,
    /// Results of background jobs the UI started (export, settings, …).
    side_tx: std::sync::mpsc::Sender<Side>,
    side_rx: std::sync::mpsc::Receiver<Side>,
    picker: Picker,
    /// The last [`Command::Focus`] sent (sent again to new workers).
    sent_focus: Vec<String>,
    /// Frames drawn so far, and whether a full inventory has been drawn:
    /// `SHIPSHAPE_LOG=shipshape::timing=info` logs both moments (for
    /// `scripts/bench-scale.sh`).
    frames: u64,
    inventory_drawn: bool,
    /// What later launches ask of this window (see [`crate::instance`]).
    instance: Option<std::sync::mpsc::Receiver<crate::instance::Request>>,
    /// Desktop notifications, when started (live mode).
    alerts: Option<(crate::sources::desktop::Alerts, crate::alerts::Gate)>,
    /// A container asked for (a click, `--show`) that no snapshot has yet,
    /// and since when: tried on every snapshot for [`SHOW_PATIENCE`].
    pending_show: Option<(String, Instant)>,
    /// The tray icon, while it runs (see [`crate::sources::tray`]).
    tray: Option<Arc<crate::sources::tray::TrayHandle>>,
    /// A tray start asked for and not answered yet.
    tray_starting: bool,
    /// The worst active severity the tray shows, and when it was last
    /// worked out (at most every [`TRAY_EVERY`]).
    tray_worst: Option<Option<crate::model::Severity>>,
    tray_checked: Option<Instant>,
    /// The window is hidden in the tray (it keeps watching).
    hidden: bool,
    /// Quit was chosen: let the window close.
    quitting: bool,
}

/// How often the tray's icon is brought up to date.
const TRAY_EVERY: Duration = Duration::from_secs(2);

/// How long a container asked for may take to appear in a snapshot.
const SHOW_PATIENCE: Duration = Duration::from_secs(30);

impl App {
    /// Live mode: start the engine worker.
    pub fn live(
        ctx: &egui::Context,
        rt: tokio::runtime::Handle,
        launch: Launch,
        settings: Settings,
    ) -> Self {
        setup_fonts(ctx);
        let (link, others, state) = start_live(ctx, &rt, &launch, settings);
        let mut app = Self::assemble(state, link, Some(rt), Some(launch), Some(ctx.clone()));
        app.others = others;
        app.with_alerts(crate::sources::desktop::Bus::Session)
    }

    /// Demo mode: the bundled lab, no engine.
    pub fn demo(
        ctx: &egui::Context,
        rt: tokio::runtime::Handle,
        launch: Launch,
        settings: Settings,
    ) -> Self {
        setup_fonts(ctx);
        let (link, second) = start_demo(ctx, &rt, launch.policy.clone());
        let mut app = Self::assemble(
            demo_state(settings),
            link,
            Some(rt),
            Some(launch),
            Some(ctx.clone()),
        );
        app.others = vec![second];
        app
    }

    /// An app fed by a channel the caller controls (tests, benchmarks).
    pub fn from_channel(
        mode: Mode,
        rx: impl Into<crate::watch::messages::Events>,
        settings: Settings,
    ) -> Self {
        let link = Link {
            cmd: None,
            rx: rx.into(),
            demo_task: None,
            worker: None,
        };
        Self::assemble(State::new(mode, settings), link, None, None, None)
    }

    /// Several engines, each fed by a channel the caller controls: the first
    /// named `primary`, then `others` (tests of the fleet view).
    pub fn from_channels(
        mode: Mode,
        primary: (String, tokio::sync::mpsc::UnboundedReceiver<Event>),
        others: Vec<(String, tokio::sync::mpsc::UnboundedReceiver<Event>)>,
        settings: Settings,
    ) -> Self {
        let mut app = Self::from_channel(mode, primary.1, settings);
        app.state.primary_label = primary.0;
        for (label, rx) in others {
            app.state.others.push(EngineSlot::new(label));
            app.others.push(Link {
                cmd: None,
                rx: rx.into(),
                demo_task: None,
                worker: None,
            });
        }
        app
    }

    /// Send the UI's commands to `tx` (tests that check what a click asks
    /// of the worker).
    pub fn with_commands(mut self, tx: UnboundedSender<Command>) -> Self {
        self.link.cmd = Some(tx);
        self
    }

    /// Like [`App::from_channel`], with a runtime for background jobs and a
    /// file picker (tests of export and baseline loading).
    pub fn from_channel_with(
        mode: Mode,
        rx: impl Into<crate::watch::messages::Events>,
        settings: Settings,
        rt: tokio::runtime::Handle,
        picker: Picker,
    ) -> Self {
        let mut app = Self::from_channel(mode, rx, settings);
        app.runtime = Some(rt);
        app.picker = picker;
        app
    }

    fn assemble(
        state: State,
        link: Link,
        runtime: Option<tokio::runtime::Handle>,
        launch: Option<Launch>,
        ctx: Option<egui::Context>,
    ) -> Self {
        let saved_settings = state.settings.clone();
        let (side_tx, side_rx) = std::sync::mpsc::channel();
        Self {
            state,
            link,
            others: Vec::new(),
            runtime,
            launch,
            ctx,
            saved_settings,
            applied_theme: None,
            side_tx,
            side_rx,
            picker: native_picker(),
            sent_focus: Vec::new(),
            frames: 0,
            inventory_drawn: false,
            instance: None,
            alerts: None,
            pending_show: None,
            tray: None,
            tray_starting: false,
            tray_worst: None,
            tray_checked: None,
            hidden: false,
            quitting: false,
        }
    }

    /// Start or stop the tray icon to match the setting (live mode only).
    fn sync_tray(&mut self) {
        let wanted = self.state.settings.keep_watching && self.state.mode == Mode::Live;
        match (&self.tray, wanted) {
            (None, true) if !self.tray_starting => {
                let Some(rt) = self.runtime.clone() else {
                    return;
                };
                self.tray_starting = true;
                let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
                let sink = {
                    let (tx, ctx) = (tx.clone(), ctx.clone());
                    move |a| {
                        let _ = tx.send(Side::TrayAction(a));
                        if let Some(c) = &ctx {
                            c.request_repaint();
                        }
                    }
                };
                rt.spawn(async move {
                    let tray = crate::sources::tray::Tray::new(sink);
                    let r = crate::sources::tray::TrayHandle::start(tray)
                        .await
                        .map(Arc::new);
                    let _ = tx.send(Side::Tray(r));
                    if let Some(c) = &ctx {
                        c.request_repaint();
                    }
                });
            }
            (Some(t), false) => {
                self.shut_tray(t.clone());
                self.tray = None;
                self.tray_worst = None;
                self.state.tray_status = None;
            }
            _ => {}
        }
    }

    /// Send to the UI thread from elsewhere (a task, the tray's thread), and
    /// wake it.
    fn side_sink(&self) -> impl Fn(Side) + Send + Sync + 'static {
        let (tx, ctx) = (
            std::sync::Mutex::new(self.side_tx.clone()),
            self.ctx.clone(),
        );
        move |side| {
            let _ = tx
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .send(side);
            if let Some(c) = &ctx {
                c.request_repaint();
            }
        }
    }

    fn shut_tray(&self, t: Arc<crate::sources::tray::TrayHandle>) {
        if let Some(rt) = &self.runtime {
            rt.spawn(async move { t.shutdown().await });
        }
    }

    /// Keep the tray's icon on the worst active severity.
    fn update_tray_icon(&mut self) {
        let (Some(t), Some(rt)) = (&self.tray, &self.runtime) else {
            return;
        };
        if self.tray_checked.is_some_and(|c| c.elapsed() < TRAY_EVERY) {
            return;
        }
        self.tray_checked = Some(Instant::now());
        let worst = self.state.counts().highest();
        if self.tray_worst == Some(worst) {
            return;
        }
        self.tray_worst = Some(worst);
        let dot = match worst {
            Some(s) => crate::ui::theme::severity_color(s, true),
            None => crate::ui::theme::OK_GREEN,
        };
        let (t, dot) = (t.clone(), [dot.r(), dot.g(), dot.b()]);
        rt.spawn(async move { t.set_worst(worst, dot).await });
    }

    fn show_window(&mut self) {
        self.hidden = false;
        if let Some(ctx) = &self.ctx {
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        }
    }

    fn on_tray_action(&mut self, a: crate::sources::tray::TrayAction) {
        use crate::sources::tray::TrayAction;
        match a {
            TrayAction::Open => self.show_window(),
            TrayAction::PauseAlerts(paused) => {
                if let Some((tx, _)) = &self.alerts {
                    tx.pause(paused);
                }
                self.state.notify(
                    if paused {
                        "Alerts paused (from the tray)".to_string()
                    } else {
                        "Alerts resumed".to_string()
                    },
                    false,
                );
            }
            TrayAction::Quit => {
                self.quitting = true;
                if let Some(ctx) = &self.ctx {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
    }

    /// Send desktop notifications for what the workers report (see
    /// [`crate::alerts`]), on `bus`. Needs a runtime.
    pub fn with_alerts(mut self, bus: crate::sources::desktop::Bus) -> Self {
        let Some(rt) = &self.runtime else { return self };
        let sink = self.side_sink();
        let alerts =
            crate::sources::desktop::Alerts::spawn(rt, bus, move |fb| sink(Side::Alerts(fb)));
        let gate = crate::alerts::Gate::new(self.state.settings.alerts);
        self.alerts = Some((alerts, gate));
        self
    }

    /// Open the window on a container once a snapshot has it.
    pub fn show_when_seen(&mut self, what: String) {
        if !self.state.show_container(&what) {
            self.pending_show = Some((what, Instant::now()));
        }
    }

    /// A worker's event: an alert when it is one (live activities only).
    fn offer_alert(&mut self, ev: &Event) {
        let (Some((tx, gate)), Event::Activity(a)) = (&mut self.alerts, ev) else {
            return;
        };
        gate.settings = self.state.settings.alerts;
        if let Some(alert) = gate.alert(a) {
            tx.send(alert);
        }
    }

    fn on_alert_feedback(&mut self, fb: crate::sources::desktop::Feedback) {
        use crate::sources::desktop::Feedback;
        match fb {
            Feedback::Available(server) => self.state.alerts_service = Some(Ok(server)),
            Feedback::Unavailable(why) => {
                // Said once in the window; the Settings keep saying it.
                if self.state.alerts_service.is_none() && self.state.settings.alerts.enabled {
                    self.state.notify(
                        format!("Desktop notifications are not available: {why}"),
                        false,
                    );
                }
                self.state.alerts_service = Some(Err(why));
            }
            Feedback::Clicked(target) => {
                self.show_window();
                if !target.container_id.is_empty() {
                    self.show_when_seen(target.container_id);
                }
            }
        }
    }

    /// Send a command to the worker (no-op in demo mode). With several
    /// engines, what concerns every engine goes to every worker; the rest
    /// (look again, the database, the app's own records) to the first.
    pub fn command(&self, c: Command) {
        let everyone = matches!(
            c,
            Command::Refresh
                | Command::Focus(_)
                | Command::SetPollInterval(_)
                | Command::Dismiss(_)
                | Command::ReconnectNow
                | Command::Shutdown
        );
        if everyone {
            for other in &self.others {
                if let Some(tx) = &other.cmd {
                    let _ = tx.send(c.clone());
                }
            }
        }
        if let Some(tx) = &self.link.cmd {
            let _ = tx.send(c);
        }
    }

    /// Take requests from later launches of shipshape.
    pub fn with_instance(
        mut self,
        rx: std::sync::mpsc::Receiver<crate::instance::Request>,
    ) -> Self {
        self.instance = Some(rx);
        self
    }

    /// A later launch asked for this window: bring it to the front, on the
    /// demo lab when that was asked.
    fn instance_requests(&mut self) {
        let Some(rx) = &self.instance else { return };
        let asked: Vec<crate::instance::Request> = rx.try_iter().collect();
        for r in asked {
            self.show_window();
            match r {
                crate::instance::Request::Demo if self.state.mode != Mode::Demo => {
                    self.switch_to_demo();
                }
                crate::instance::Request::Show(what) => self.show_when_seen(what),
                _ => {}
            }
        }
    }

    /// Tell the workers which containers the window shows (the selected
    /// one, then the visible rows), when that changed: those stream their
    /// stats live, the others are sampled.
    fn send_focus(&mut self) {
        let mut focus: Vec<String> = self.state.inventory.selected.iter().cloned().collect();
        focus.extend(
            self.state
                .inventory
                .visible
                .iter()
                .filter(|id| self.state.inventory.selected.as_ref() != Some(*id))
                .cloned(),
        );
        if focus != self.sent_focus {
            self.sent_focus = focus.clone();
            self.command(Command::Focus(focus));
        }
    }

    /// Switch to the demo lab (from the engine-down banner).
    pub fn switch_to_demo(&mut self) {
        let (Some(rt), Some(launch), Some(ctx)) = (&self.runtime, &self.launch, &self.ctx) else {
            return;
        };
        let (link, second) = start_demo(ctx, rt, launch.policy.clone());
        self.link = link;
        self.others = vec![second];
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
        let (link, others, state) = start_live(ctx, rt, launch, self.state.settings.clone());
        self.others = others;
        self.link = link;
        self.sent_focus.clear();
        self.state = state;
    }

    /// Drain events within the time budget. Returns true if events remain.
    pub fn pump(&mut self) -> bool {
        while let Ok(side) = self.side_rx.try_recv() {
            match side {
                Side::Notice(text, error) => self.state.notify(text, error),
                Side::Alerts(fb) => self.on_alert_feedback(fb),
                Side::Tray(r) => {
                    self.tray_starting = false;
                    match r {
                        Ok(t) if self.state.settings.keep_watching => {
                            self.tray = Some(t);
                            self.tray_worst = None;
                            self.state.tray_status = Some(Ok(()));
                        }
                        // Turned off while it started.
                        Ok(t) => self.shut_tray(t),
                        Err(why) => {
                            self.state.notify(
                                format!("No tray icon: {why}. Closing the window quits."),
                                false,
                            );
                            self.state.tray_status = Some(Err(why));
                        }
                    }
                }
                Side::TrayAction(a) => self.on_tray_action(a),
                Side::Exported(result) => {
                    self.state.dialogs.export_running = false;
                    let choice = self.state.dialogs.export;
                    self.command(Command::Record {
                        kind: "export".into(),
                        data: serde_json::json!({
                            "format": choice.format.extension(),
                            "only_filtered": choice.filtered,
                            "path": result.as_ref().ok().map(|p| p.display().to_string()),
                            "error": result.as_ref().err(),
                        }),
                    });
                    match result {
                        Ok(p) => self
                            .state
                            .notify(format!("Report saved to {}", p.display()), false),
                        Err(e) => self.state.notify(format!("Export failed: {e}"), true),
                    }
                }
                Side::ExportCancelled => self.state.dialogs.export_running = false,
                Side::Baseline(Ok((path, report))) => {
                    self.state.set_baseline(path.display().to_string(), report);
                    self.state
                        .notify(format!("Baseline loaded from {}", path.display()), false);
                }
                Side::Baseline(Err(e)) => {
                    self.state.notify(format!("Baseline not loaded: {e}"), true)
                }
            }
        }
        let start = Instant::now();
        let mut left = false;
        while start.elapsed() < DRAIN_BUDGET {
            match self.link.rx.try_recv() {
                Ok(ev) => {
                    self.offer_alert(&ev);
                    self.state.apply(ev);
                }
                Err(_) => break,
            }
        }
        left |= start.elapsed() >= DRAIN_BUDGET;
        // The other engines in turn, within the same budget: a busy engine
        // never starves the first one, nor the first one them.
        for i in 0..self.others.len() {
            while start.elapsed() < DRAIN_BUDGET * 2 {
                match self.others[i].rx.try_recv() {
                    Ok(ev) => {
                        self.offer_alert(&ev);
                        self.state.apply_other(i, ev);
                    }
                    Err(_) => break,
                }
            }
            left |= start.elapsed() >= DRAIN_BUDGET * 2;
        }
        if let Some((what, since)) = self.pending_show.take() {
            if self.state.show_container(&what) {
                // Shown.
            } else if since.elapsed() < SHOW_PATIENCE {
                self.pending_show = Some((what, since));
            } else {
                self.state
                    .notify(format!("No container {what} on the engines watched"), true);
            }
        }
        left
    }

    /// Persist settings when they changed, on the runtime.
    fn save_settings_if_changed(&mut self) {
        if self.state.settings == self.saved_settings {
            return;
        }
        if self.state.settings.refresh_secs != self.saved_settings.refresh_secs {
            self.command(Command::SetPollInterval(Duration::from_secs(
                self.state.settings.refresh_secs,
            )));
        }
        self.saved_settings = self.state.settings.clone();
        let (Some(rt), Some(path)) = (
            &self.runtime,
            self.launch.as_ref().and_then(|l| l.settings_path.clone()),
        ) else {
            return;
        };
        let text = self.state.settings.to_toml();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn_blocking(move || {
            let result = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    crate::report::write::write_atomic(&path, text.as_bytes())
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = result {
                let _ = tx.send(Side::Notice(format!("settings not saved: {e}"), true));
                if let Some(c) = ctx {
                    c.request_repaint();
                }
            }
        });
    }

    /// Write a report of what is on screen, on the runtime.
    pub fn start_export(&mut self) {
        if self.state.dialogs.export_running {
            self.state.notify(
                "An export is already running; wait for it to finish.".into(),
                false,
            );
            return;
        }
        let snapshots: Vec<Arc<Snapshot>> = self.state.snapshots().cloned().collect();
        let (Some(rt), false) = (self.runtime.clone(), snapshots.is_empty()) else {
            self.state.notify("Nothing to export yet.".into(), true);
            return;
        };
        let choice = self.state.dialogs.export;
        let visible: Option<std::collections::HashSet<String>> = choice.filtered.then(|| {
            self.state
                .inventory
                .order
                .iter()
                .map(|&i| self.state.inventory.rows[i].id.clone())
                .collect()
        });
        let policy = self
            .launch
            .as_ref()
            .map_or_else(|| Arc::new(Policy::default()), |l| l.policy.clone());
        let baseline = self.state.baseline.view.clone();
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        let name = format!(
            "shipshape-report-{}.{}",
            Utc::now().format("%Y%m%d-%H%M%S"),
            choice.format.extension()
        );
        self.state.dialogs.export_running = true;
        self.state.dialogs.show_export = false;
        rt.spawn(async move {
            let started = Instant::now();
            let picked = picker(name.clone(), choice.format, true).await;
            let path = match picked {
                Some(p) => p,
                // A dialog that closes at once never opened (no portal, no zenity):
                // save next to the user's files instead of silently doing nothing.
                None if started.elapsed() < Duration::from_millis(250) => match fallback_dir() {
                    Some(dir) => {
                        let _ = tx.send(Side::Notice("No file dialog is available here; saving into your Downloads (or home) folder.".into(), false));
                        dir.join(&name)
                    }
                    None => {
                        let _ = tx.send(Side::Exported(Err("no file dialog is available and no home folder is known".into())));
                        return;
                    }
                },
                None => {
                    let _ = tx.send(Side::ExportCancelled);
                    if let Some(c) = ctx {
                        c.request_repaint();
                    }
                    return;
                }
            };
            let result = tokio::task::spawn_blocking(move || {
                let now = Utc::now();
                // Every engine on screen, each tied to its engine.
                let parts = snapshots
                    .iter()
                    .map(|s| Ok(Report::build(&s.inventory, &s.assessment, &policy, now)))
                    .collect();
                let Some(mut report) = Report::merge(parts) else {
                    return Err("nothing to export".to_string());
                };
                if let Some(ids) = visible {
                    report.retain_containers(|c| ids.contains(&c.id));
                }
                if let Some(b) = baseline {
                    baseline::apply(&mut report, &b.report, &b.source);
                }
                let text = choice.format.render(&report);
                crate::report::write::write_atomic(&path, text.as_bytes()).map(|()| path).map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the export task failed: {e}")));
            let _ = tx.send(Side::Exported(result));
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    /// Ask for an earlier JSON report and compare with it.
    pub fn load_baseline(&mut self) {
        let Some(rt) = self.runtime.clone() else {
            return;
        };
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn(async move {
            let Some(path) = picker(String::new(), Format::Json, false).await else {
                return;
            };
            let p = path.clone();
            let loaded = tokio::task::spawn_blocking(move || crate::report::load_baseline(&p))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let _ = tx.send(Side::Baseline(loaded.map(|r| (path, Arc::new(r)))));
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    pub fn apply_theme(&mut self, ctx: &egui::Context) {
        if self.applied_theme == Some(self.state.settings.theme) {
            return;
        }
        self.applied_theme = Some(self.state.settings.theme);
        ctx.set_theme(match self.state.settings.theme {
            ThemeChoice::System => egui::ThemePreference::System,
            ThemeChoice::Dark => egui::ThemePreference::Dark,
            ThemeChoice::Light => egui::ThemePreference::Light,
        });
    }

    /// Draw everything (used by eframe and by the UI tests).
    pub fn show(&mut self, ui: &mut egui::Ui) {
        self.apply_theme(&ui.ctx().clone());
        self.state.refresh_order();
        self.state.refresh_activity();
        let action = crate::ui::draw(ui, &mut self.state);
        self.frames += 1;
        if self.frames == 1 {
            tracing::info!(target: "shipshape::timing", "first frame");
        }
        // Every container of the first snapshot is in the view state and
        // this frame drew from it (the Overview, or the table).
        if !self.inventory_drawn && !self.state.inventory.rows.is_empty() {
            self.inventory_drawn = true;
            tracing::info!(
                target: "shipshape::timing",
                rows = self.state.inventory.rows.len(),
                "inventory on screen"
            );
        }
        self.send_focus();
        if let Some(ids) = self.state.pending_dismiss.take() {
            if self.link.cmd.is_some() {
                self.command(Command::Dismiss(ids));
            } else {
                self.state.dismiss_locally(&ids);
            }
        }
        match action {
            Some(crate::ui::Action::Refresh) => self.command(Command::Refresh),
            Some(crate::ui::Action::ReconnectNow) => self.command(Command::ReconnectNow),
            Some(crate::ui::Action::UpdateVulnDb) => {
                self.state.vulndb_progress = Some(crate::sources::osv::Progress::Download {
                    name: "…".into(),
                    done: 0,
                    total: None,
                });
                self.command(Command::UpdateVulnDb {
                    from: crate::sources::osv::DEFAULT_BASE.into(),
                });
            }
            Some(crate::ui::Action::Rediscover) => {
                self.state.engine_changed = None;
                self.command(Command::Rediscover);
            }
            Some(crate::ui::Action::OpenDemo) => self.switch_to_demo(),
            Some(crate::ui::Action::LeaveDemo) => self.switch_to_live(),
            Some(crate::ui::Action::Export) => self.start_export(),
            Some(crate::ui::Action::LoadBaseline) => self.load_baseline(),
            Some(crate::ui::Action::ApplyEngines) => self.apply_engine_list(),
            None => {}
        }
        self.save_settings_if_changed();
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // `SHIPSHAPE_LOG=shipshape::frames=trace`: one line per frame, to
        // see why an idle window paints.
        tracing::trace!(target: "shipshape::frames", pass = ctx.cumulative_pass_nr());
        if ctx.input(|i| !i.events.is_empty()) {
            Attention::of(ctx).touch();
        }
        self.instance_requests();
        // With the tray, closing the window hides it: watching goes on.
        if ctx.input(|i| i.viewport().close_requested()) && self.tray.is_some() && !self.quitting {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(false));
            self.hidden = true;
        }
        if self.pump() {
            ctx.request_repaint();
        }
        self.sync_tray();
        self.update_tray_icon();
        // Hidden, the window still runs this (eframe calls `logic` for an
        // invisible window): drain and alert at least every second.
        if self.hidden {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
        // 1 Hz only where something on screen moves every second: open
        // charts, and the countdown to the next reconnect attempt. Otherwise
        // the window sleeps until an event arrives.
        if matches!(self.state.conn, Conn::Down { .. }) || self.state.charts_visible() {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.command(Command::Shutdown);
        // Let the worker write its last records (at most two seconds: the
        // window is closing, nothing else is waiting).
        if let (Some(rt), Some(done)) = (self.runtime.clone(), self.link.worker.take()) {
            let _ = rt.block_on(async { tokio::time::timeout(Duration::from_secs(2), done).await });
        }
    }
}

/// Where exports go when no file dialog can be shown.
fn fallback_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(
        dirs.download_dir()
            .map_or_else(|| dirs.home_dir().to_path_buf(), |d| d.to_path_buf()),
    )
}

/// egui's proportional font (Ubuntu Light) lacks arrows and geometric
/// shapes; Hack, already bundled for monospace text, has them.
pub fn setup_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(family) = fonts.families.get_mut(&egui::FontFamily::Proportional) {
        family.push("Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

fn notify_for(ctx: &egui::Context) -> Notify {
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
struct Attention(Arc<std::sync::atomic::AtomicU64>);

impl Attention {
    /// The window's one record, kept in the egui context.
    fn of(ctx: &egui::Context) -> Self {
        ctx.data_mut(|d| {
            d.get_temp_mut_or_insert_with(egui::Id::NULL.with("shipshape-attention"), || {
                Attention(Arc::new(std::sync::atomic::AtomicU64::new(now_ms())))
            })
            .clone()
        })
    }

    fn touch(&self) {
        self.0.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    }

    fn pace(&self, wanted: Duration) -> Duration {
        let last = self.0.load(std::sync::atomic::Ordering::Relaxed);
        let idle = Duration::from_millis(now_ms().saturating_sub(last));
        if idle >= UNATTENDED_AFTER {
            wanted.max(UNATTENDED_REPAINT)
        } else {
            wanted
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Start live mode: one worker, or one per engine when several are to be
/// watched (each its own connection, backoff, events, stats and drift; one
/// shared audit log, each record naming its engine).
fn start_live(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: Settings,
) -> (Link, Vec<Link>, State) {
    let mut state = State::new(Mode::Live, settings.clone());
    state.found_engines = launch
        .found
        .iter()
        .map(crate::settings::EngineEntry::of)
        .collect();
    state.found_contexts = launch.contexts.clone();
    if launch.fleet.len() < 2 {
        let link = start_worker(ctx, rt, launch, &settings, None);
        let mut others = Vec::new();
        start_clusters(ctx, rt, launch, &settings, &mut state, &mut others);
        return (link, others, state);
    }
    let mut targets = launch.fleet.iter();
    let first = targets.next().cloned();
    let member = |t: crate::sources::docker::Target| worker::FleetMember {
        label: t.label(),
        target: t,
    };
    let primary = first.map(member);
    state.primary_label = primary
        .as_ref()
        .map(|m| m.label.clone())
        .unwrap_or_default();
    let link = start_worker(ctx, rt, launch, &settings, primary);
    let mut others = Vec::new();
    for t in targets {
        let m = member(t.clone());
        state.others.push(EngineSlot::new(m.label.clone()));
        others.push(start_worker(ctx, rt, launch, &settings, Some(m)));
    }
    start_clusters(ctx, rt, launch, &settings, &mut state, &mut others);
    (link, others, state)
}

/// One worker per Kubernetes context the settings list, beside the engines.
#[cfg(feature = "kube")]
fn start_clusters(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: &Settings,
    state: &mut State,
    others: &mut Vec<Link>,
) {
    for context in &settings.kube_contexts {
        let cfg = crate::watch::kube::KubeConfig {
            kubeconfig: launch.kubeconfig.clone(),
            context: context.clone(),
            policy: launch.policy.clone(),
            poll_interval: Duration::from_secs(settings.refresh_secs.max(60)),
            settle: Duration::from_millis(500),
            audit: launch.audit.clone(),
            mode: "gui",
        };
        let (cmd, rx, done) = crate::watch::kube::spawn(rt, cfg, notify_for(ctx));
        state.others.push(EngineSlot::new(context.clone()));
        others.push(Link {
            cmd: Some(cmd),
            rx,
            demo_task: None,
            worker: Some(done),
        });
    }
}

#[cfg(not(feature = "kube"))]
fn start_clusters(
    _: &egui::Context,
    _: &tokio::runtime::Handle,
    _: &Launch,
    settings: &Settings,
    state: &mut State,
    _: &mut Vec<Link>,
) {
    if !settings.kube_contexts.is_empty() {
        state.notify(
            "This build has no Kubernetes support (the `kube` feature): the clusters in Settings are not watched."
                .into(),
            true,
        );
    }
}

fn start_worker(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    launch: &Launch,
    settings: &Settings,
    fleet: Option<worker::FleetMember>,
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
        max_streams: crate::watch::worker::MAX_STREAMS,
        audit: launch.audit.clone(),
        drift: true,
        mode: "gui",
        history: first,
        vulns: launch.vulndb.clone(),
        fleet,
    };
    let (cmd, rx, done) = worker::spawn_with_handle(rt, cfg, notify_for(ctx));
    Link {
        cmd: Some(cmd),
        rx,
        demo_task: None,
        worker: Some(done),
    }
}

/// The demo lab's state: two engines.
fn demo_state(settings: Settings) -> State {
    let mut state = State::new(Mode::Demo, settings);
    state.primary_label = "lab-docker".into();
    let mut second = EngineSlot::new("lab-podman".into());
    second.conn = Conn::Demo;
    state.others.push(second);
    state
}

/// The demo feed: the lab snapshot once, then synthetic stats every second;
/// and the lab's second engine (a link of its own, as a real one has).
fn start_demo(
    ctx: &egui::Context,
    rt: &tokio::runtime::Handle,
    policy: Arc<Policy>,
) -> (Link, Link) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (tx2, rx2) = tokio::sync::mpsc::unbounded_channel();
    let notify = notify_for(ctx);
    let task = rt.spawn(async move {
        let lab_policy = policy.clone();
        let built = tokio::task::spawn_blocking(move || {
            let policy = lab_policy;
            demo::lab().map(|(inventory, events)| {
                let now = Utc::now();
                let assessment = crate::assess::assess(&inventory, &policy, now);
                let timeline = demo::timeline(&inventory, &assessment, events);
                (
                    Snapshot {
                        inventory,
                        assessment,
                        taken_at: Some(now),
                    },
                    timeline,
                )
            })
        })
        .await;
        let (snapshot, timeline) = match built {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let _ = tx.send(Event::Warning(e));
                notify(None);
                return;
            }
            Err(e) => {
                let _ = tx.send(Event::Warning(format!("demo lab failed to load: {e}")));
                notify(None);
                return;
            }
        };
        let running = demo::running(&snapshot.inventory);
        let second = demo::second_engine(&snapshot.inventory);
        let second_assessment = crate::assess::assess(&second, &policy, Utc::now());
        let _ = tx2.send(Event::Snapshot(Arc::new(Snapshot {
            inventory: second,
            assessment: second_assessment,
            taken_at: snapshot.taken_at,
        })));
        let _ = tx.send(Event::Snapshot(Arc::new(snapshot)));
        for a in timeline {
            let _ = tx.send(Event::Activity(Arc::new(a)));
        }
        notify(None);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        // Pre-fill a few minutes so the charts have a history to explore.
        let now = Utc::now().timestamp() as f64;
        for back in (1..=180).rev() {
            for (i, (id, limit)) in running.iter().enumerate() {
                let point = demo::stats_point(i, now - f64::from(back), *limit);
                let _ = tx.send(Event::Stats {
                    id: id.clone(),
                    point,
                });
            }
        }
        loop {
            tick.tick().await;
            let t = Utc::now().timestamp_micros() as f64 / 1e6;
            for (i, (id, limit)) in running.iter().enumerate() {
                if tx
                    .send(Event::Stats {
                        id: id.clone(),
                        point: demo::stats_point(i, t, *limit),
                    })
                    .is_err()
                {
                    return;
                }
            }
            notify(Some(worker::STATS_REPAINT));
        }
    });
    (
        Link {
            cmd: None,
            rx: rx.into(),
            demo_task: Some(task),
            worker: None,
        },
        Link {
            cmd: None,
            rx: rx2.into(),
            demo_task: None,
            worker: None,
        },
    )
}
