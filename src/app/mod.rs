//! The eframe app. The UI thread is the only owner of app state:
//! `App::logic` (eframe's) drains worker events within a time budget and
//! [`App::show`] only draws from state. Nothing here blocks: engine calls,
//! assessment and file writes run on the tokio runtime.
//!
//! By concept: `launch` starts the workers (or the demo lab), `pump`
//! applies their events, `jobs` runs export, baseline and settings saves,
//! `tray` keeps the tray icon and desktop notifications.

mod jobs;
mod launch;
mod pump;
mod tray;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::settings::{Settings, ThemeChoice};
use crate::watch::messages::{Command, Event};

pub use crate::ui::state::*;
use jobs::Side;
pub use jobs::{FileKind, Picker, native_picker};
use launch::{Attention, demo_state, start_demo, start_live};
pub use launch::{Launch, UNATTENDED_AFTER, UNATTENDED_REPAINT};

/// Channels to whatever feeds the UI (the engine worker or the demo).
struct Link {
    cmd: Option<UnboundedSender<Command>>,
    rx: crate::watch::messages::Events,
    demo_task: Option<tokio::task::JoinHandle<()>>,
    /// The engine worker; finishes after `Shutdown` once its audit log is
    /// flushed.
    worker: Option<tokio::task::JoinHandle<()>>,
}

impl Link {
    /// A link fed by a channel the caller controls (tests, benchmarks).
    fn fed(rx: impl Into<crate::watch::messages::Events>) -> Self {
        Self {
            cmd: None,
            rx: rx.into(),
            demo_task: None,
            worker: None,
        }
    }
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

/// The window: the view state, one link per source feeding it, and the
/// background jobs, tray and notifications around it.
pub struct App {
    /// Everything drawn; changed only by events and the panels.
    pub state: State,
    /// One link per source, in the order of `state.engines` (the events of
    /// `links[i]` are applied to slot `i`).
    links: Vec<Link>,
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
    sent_focus: Vec<RowKey>,
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

impl App {
    /// Live mode: start the engine worker.
    pub fn live(
        ctx: &egui::Context,
        rt: tokio::runtime::Handle,
        launch: Launch,
        settings: Settings,
    ) -> Self {
        setup_fonts(ctx);
        let (links, state) = start_live(ctx, &rt, &launch, settings);
        let app = Self::assemble(state, links, Some(rt), Some(launch), Some(ctx.clone()));
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
        let links = start_demo(ctx, &rt, launch.policy.clone());
        Self::assemble(
            demo_state(settings),
            links,
            Some(rt),
            Some(launch),
            Some(ctx.clone()),
        )
    }

    /// An app fed by a channel the caller controls (tests, benchmarks).
    pub fn from_channel(
        mode: Mode,
        rx: impl Into<crate::watch::messages::Events>,
        settings: Settings,
    ) -> Self {
        Self::assemble(
            State::new(mode, settings),
            vec![Link::fed(rx)],
            None,
            None,
            None,
        )
    }

    /// Several engines, each fed by a channel the caller controls: the first
    /// named `primary`, then `others` (tests of the fleet view).
    pub fn from_channels(
        mode: Mode,
        primary: (String, tokio::sync::mpsc::UnboundedReceiver<Event>),
        others: Vec<(String, tokio::sync::mpsc::UnboundedReceiver<Event>)>,
        settings: Settings,
    ) -> Self {
        let (slots, links) = std::iter::once(primary)
            .chain(others)
            .map(|(label, rx)| (EngineSlot::new(label), Link::fed(rx)))
            .unzip();
        Self::assemble(
            State::with_engines(mode, settings, slots),
            links,
            None,
            None,
            None,
        )
    }

    /// Send the UI's commands to `tx` (tests that check what a click asks
    /// of the worker).
    pub fn with_commands(mut self, tx: UnboundedSender<Command>) -> Self {
        if let Some(first) = self.links.first_mut() {
            first.cmd = Some(tx);
        }
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
        links: Vec<Link>,
        runtime: Option<tokio::runtime::Handle>,
        launch: Option<Launch>,
        ctx: Option<egui::Context>,
    ) -> Self {
        let saved_settings = state.settings.clone();
        let (side_tx, side_rx) = std::sync::mpsc::channel();
        Self {
            state,
            links,
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
        let to = if everyone { self.links.len() } else { 1 };
        for link in &self.links[..to.min(self.links.len())] {
            if let Some(tx) = &link.cmd {
                let _ = tx.send(c.clone());
            }
        }
    }

    /// Send a command to one source's worker only.
    fn command_to(&self, slot: usize, c: Command) {
        if let Some(tx) = self.links.get(slot).and_then(|l| l.cmd.as_ref()) {
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

    /// Follow the theme setting (once per change).
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
            if self.links.iter().any(|l| l.cmd.is_some()) {
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
            Some(crate::ui::Action::HardenDiff { key, seen }) => self.start_harden_diff(key, seen),
            Some(crate::ui::Action::SavePatch { name, text }) => self.start_save_patch(name, text),
            Some(crate::ui::Action::ExportSbom {
                engine,
                image,
                format,
            }) => self.start_sbom_export(&engine, &image, format),
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
        let waiting = self
            .state
            .engines
            .iter()
            .any(|e| matches!(e.conn, Conn::Down { .. }));
        if waiting || self.state.charts_visible() {
            ctx.request_repaint_after(Duration::from_secs(1));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.command(Command::Shutdown);
        // Let every worker write its last records (at most two seconds in
        // all: the window is closing, nothing else is waiting).
        let done: Vec<_> = self
            .links
            .iter_mut()
            .filter_map(|l| l.worker.take())
            .collect();
        if let (Some(rt), false) = (self.runtime.clone(), done.is_empty()) {
            let _ = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), futures_util::future::join_all(done))
                    .await
            });
        }
    }
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
