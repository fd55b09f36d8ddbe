//! The tray icon and desktop notifications: started and stopped to match
//! the settings, their clicks brought back to the window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::jobs::Side;
use super::{App, Mode};

/// How often the tray's icon is brought up to date.
pub(super) const TRAY_EVERY: Duration = Duration::from_secs(2);

impl App {
    /// Start or stop the tray icon to match the setting (live mode only).
    pub(super) fn sync_tray(&mut self) {
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
    pub(super) fn side_sink(&self) -> impl Fn(Side) + Send + Sync + 'static {
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

    pub(super) fn shut_tray(&self, t: Arc<crate::sources::tray::TrayHandle>) {
        if let Some(rt) = &self.runtime {
            rt.spawn(async move { t.shutdown().await });
        }
    }

    /// Keep the tray's icon on the worst active severity.
    pub(super) fn update_tray_icon(&mut self) {
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

    pub(super) fn show_window(&mut self) {
        self.hidden = false;
        if let Some(ctx) = &self.ctx {
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        }
    }

    pub(super) fn on_tray_action(&mut self, a: crate::sources::tray::TrayAction) {
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

    pub(super) fn on_alert_feedback(&mut self, fb: crate::sources::desktop::Feedback) {
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
}
