//! Draining the workers' events into the view state, within a time
//! budget: one reducer call per event, every source in turn; alerts
//! offered on the way; what the window shows told back to the workers.

use std::time::{Duration, Instant};

use super::jobs::Side;
use super::{App, Mode, RowKey};
use crate::report::sbom::Completeness;
use crate::watch::messages::{Command, Event};

/// How long one `logic` pass may spend applying events.
pub(super) const DRAIN_BUDGET: Duration = Duration::from_millis(4);

/// Events taken from one source before the next source's turn.
const DRAIN_BATCH: usize = 64;

/// How long a container asked for may take to appear in a snapshot.
pub(super) const SHOW_PATIENCE: Duration = Duration::from_secs(30);

impl App {
    /// Open the window on a container once a snapshot has it.
    pub fn show_when_seen(&mut self, what: String) {
        if !self.state.show_container(&what) {
            self.pending_show = Some((what, Instant::now()));
        }
    }

    /// A worker's event: an alert when it is one (live activities only).
    pub(super) fn offer_alert(&mut self, ev: &Event) {
        let (Some((tx, gate)), Event::Activity(a)) = (&mut self.alerts, ev) else {
            return;
        };
        gate.settings = self.state.settings.alerts;
        if let Some(alert) = gate.alert(a) {
            tx.send(alert);
        }
    }

    /// A later launch asked for this window: bring it to the front, on the
    /// demo lab when that was asked.
    pub(super) fn instance_requests(&mut self) {
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
    /// stats live, the others are sampled. Each worker hears of its own
    /// containers only.
    pub(super) fn send_focus(&mut self) {
        let inv = &self.state.inventory;
        let mut focus: Vec<RowKey> = inv.selected.iter().cloned().collect();
        focus.extend(
            inv.visible
                .iter()
                .filter(|k| inv.selected.as_ref() != Some(*k))
                .cloned(),
        );
        if focus == self.sent_focus {
            return;
        }
        for slot in 0..self.links.len() {
            let ids = focus
                .iter()
                .filter(|k| k.engine == slot)
                .map(|k| k.id.clone())
                .collect();
            self.command_to(slot, Command::Focus(ids));
        }
        self.sent_focus = focus;
    }

    /// Drain events within the time budget. Returns true if events remain.
    pub fn pump(&mut self) -> bool {
        while let Ok(side) = self.side_rx.try_recv() {
            match side {
                Side::Notice(text, error) => self.state.notify(text, error),
                Side::HardenDiff { id, result } => match result {
                    Ok((diff, notes)) => self.state.harden_diff = Some((id, diff, notes)),
                    Err(e) => self.state.notify(format!("No hardening diff: {e}"), true),
                },
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
                Side::SbomExported {
                    result,
                    format,
                    image,
                } => {
                    self.state.dialogs.export_running = false;
                    self.command(Command::Record {
                        kind: "export".into(),
                        data: serde_json::json!({
                            "format": format.extension(),
                            "image": image,
                            "path": result.as_ref().ok().map(|(p, _)| p.display().to_string()),
                            "error": result.as_ref().err(),
                        }),
                    });
                    match result {
                        Ok((p, Completeness::Complete)) => self.state.notify(
                            format!("{} of {image} saved to {}", format.name(), p.display()),
                            false,
                        ),
                        Ok((p, Completeness::Incomplete(gaps))) => self.state.notify(
                            format!(
                                "{} of {image} saved to {}, INCOMPLETE (said in the file): {}",
                                format.name(),
                                p.display(),
                                gaps.join("; ")
                            ),
                            true,
                        ),
                        Ok((p, Completeness::NotRead(why))) => self.state.notify(
                            format!(
                                "{} of {image} saved to {}, but its packages were NOT READ (said in the file): {why}",
                                format.name(),
                                p.display()
                            ),
                            true,
                        ),
                        Err(e) => self.state.notify(format!("Export failed: {e}"), true),
                    }
                }
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
        // Every source in turn, a batch at a time, within one budget: a
        // busy engine never starves another.
        let start = Instant::now();
        let mut open = vec![true; self.links.len()];
        while open.contains(&true) && start.elapsed() < DRAIN_BUDGET {
            for (slot, still) in open.iter_mut().enumerate() {
                for _ in 0..DRAIN_BATCH {
                    let Ok(ev) = self.links[slot].rx.try_recv() else {
                        *still = false;
                        break;
                    };
                    self.offer_alert(&ev);
                    self.state.apply(slot, ev);
                }
            }
        }
        let left = open.contains(&true);
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
}
