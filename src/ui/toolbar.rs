//! Top bar (engine, connection, refresh, views), banners (engine down,
//! stale data, notices, DEMO), status bar, settings window.

use egui::{Color32, RichText, Ui};

use super::Action;
use super::theme;
use crate::settings::{HISTORY_CHOICES, REFRESH_CHOICES, ThemeChoice};
use crate::ui::state::{Conn, Mode, State, View};

/// Draws the top bar: views, engines, search and actions.
pub fn top_bar(ui: &mut Ui, state: &mut State) -> Option<Action> {
    let mut action = None;
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.heading(RichText::new("shipshape").strong());
        if state.mode == Mode::Demo {
            demo_badge(ui);
        }
        ui.separator();
        for (view, label) in [
            (View::Overview, "Overview"),
            (View::Containers, "Containers"),
            (View::Activity, "Activity"),
            (View::Images, "Images"),
            (View::Engine, "Engine"),
        ] {
            if ui.selectable_label(state.view == view, label).clicked() {
                state.view = view;
            }
        }
        ui.separator();
        connection(ui, state);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui
                .button("Settings")
                .on_hover_text("Theme, refresh interval, chart history")
                .clicked()
            {
                state.dialogs.show_settings = !state.dialogs.show_settings;
            }
            let has_data = state.has_data();
            if ui
                .add_enabled(has_data, egui::Button::new("Export…"))
                .on_hover_text("Save a report: JSON, SARIF, HTML, CSV or Markdown")
                .clicked()
            {
                state.dialogs.show_export = !state.dialogs.show_export;
            }
            if ui
                .add_enabled(has_data, egui::Button::new("Baseline…"))
                .on_hover_text("Compare with an earlier JSON report: what is new since then")
                .clicked()
            {
                action = Some(Action::LoadBaseline);
            }
            match state.mode {
                Mode::Live => {
                    let can = state
                        .engines
                        .iter()
                        .any(|e| matches!(e.conn, Conn::Connected { .. }));
                    if ui
                        .add_enabled(can, egui::Button::new("↻ Refresh"))
                        .on_hover_text("Scan the engine now")
                        .clicked()
                    {
                        action = Some(Action::Refresh);
                    }
                }
                Mode::Demo => {
                    if ui
                        .button("Leave demo")
                        .on_hover_text("Connect to the local engine")
                        .clicked()
                    {
                        action = Some(Action::LeaveDemo);
                    }
                }
            }
            if let Some(t) = state.last_refresh {
                // A clock time needs no ticking redraw; the age is a hint.
                let at = t.with_timezone(&chrono::Local).format("%H:%M:%S");
                let text = if state.any_stale() {
                    format!("last data {at}")
                } else {
                    format!("refreshed {at}")
                };
                let ago = state.refreshed_ago(chrono::Utc::now()).unwrap_or(0);
                ui.label(RichText::new(text).weak())
                    .on_hover_text(format!("{} ago", super::widgets::duration(ago)));
            }
        });
    });
    ui.add_space(2.0);
    action
}

fn demo_badge(ui: &mut Ui) {
    egui::Frame::new()
        .fill(theme::DEMO_PURPLE)
        .corner_radius(3.0)
        .inner_margin(egui::Margin::symmetric(6, 1))
        .show(ui, |ui| {
            ui.label(RichText::new("DEMO").color(Color32::WHITE).strong());
        })
        .response
        .on_hover_text("Bundled demo lab: not your engine. Nothing here is live.");
}

fn dot(ui: &mut Ui, color: Color32) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
    ui.painter().circle_filled(rect.center(), 4.5, color);
}

fn connection(ui: &mut Ui, state: &State) {
    if state.is_fleet() {
        // One chip for every engine: how many answer, which do not.
        let mut up = 0;
        let mut down = Vec::new();
        let mut total = 0;
        for e in state.engines.iter().filter(|e| e.duplicate_of.is_none()) {
            total += 1;
            let label = &e.label;
            match &e.conn {
                Conn::Connected { .. } | Conn::Demo => up += 1,
                Conn::Down { reason, .. } => down.push(format!("{label}: {reason}")),
                _ => {}
            }
        }
        dot(
            ui,
            if down.is_empty() {
                theme::OK_GREEN
            } else {
                theme::DOWN_RED
            },
        );
        let text = if state.mode == crate::ui::state::Mode::Demo {
            format!("Demo lab — {total} engines, none real")
        } else if down.is_empty() {
            format!("{up} of {total} engines connected")
        } else {
            format!(
                "{up} of {total} engines connected, {} unreachable",
                down.len()
            )
        };
        let r = ui.label(text);
        if !down.is_empty() {
            r.on_hover_text(crate::model::visible(&down.join("\n")).into_owned());
        }
        return;
    }
    let first = state.first();
    match &first.conn {
        Conn::Connected {
            found_by,
            endpoint,
            api_version,
            engine: who,
        } => {
            dot(ui, theme::OK_GREEN);
            let engine = first.snapshot.as_ref().map(|s| {
                format!(
                    "{} {}",
                    s.inventory.engine.product.as_str(),
                    s.inventory.engine.version
                )
            });
            ui.label(crate::model::visible(&engine.unwrap_or_else(|| "Connected".into())))
                .on_hover_text(format!(
                    "found by {found_by}\n{endpoint}\nAPI {api_version}\nengine ID {} on {}, data in {}\n\
                     shipshape stays on this engine: if it goes away, it waits for it to come back.",
                    who.id, who.name, who.root
                ));
            ui.label(RichText::new(format!("via {found_by}")).weak());
        }
        Conn::Connecting { attempt } => {
            ui.spinner();
            ui.label(if *attempt > 1 {
                format!("Connecting (attempt {attempt})…")
            } else {
                "Connecting…".into()
            });
        }
        Conn::Down { .. } => {
            dot(ui, theme::DOWN_RED);
            ui.label(
                RichText::new("Engine unreachable")
                    .color(theme::DOWN_RED)
                    .strong(),
            );
        }
        Conn::Demo => {
            ui.label(RichText::new("Demo lab — no engine connected").color(theme::DEMO_PURPLE));
        }
    }
}

fn banner(ui: &mut Ui, color: Color32, add: impl FnOnce(&mut Ui)) {
    egui::Frame::new()
        .fill(color.gamma_multiply(0.18))
        .stroke(egui::Stroke::new(1.0, color))
        .corner_radius(4.0)
        .inner_margin(egui::Margin::symmetric(10, 6))
        .outer_margin(egui::Margin::symmetric(6, 3))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui);
        });
}

/// Draws the banners: engines down, engine changed, demo lab, baseline.
pub fn banners(ui: &mut Ui, state: &mut State) -> Option<Action> {
    let mut action = None;
    let mut dismiss = None;
    let fleet = state.is_fleet();
    // Every engine's scan warnings: one line with their count by kind, the
    // list in a window of its own (fourteen stale compose projects must not
    // push the view off the screen).
    let warnings_summary = {
        let w = scan_warnings(state);
        (!w.is_empty()).then(|| warnings_line(&w))
    };
    let mut toggle_warnings = false;
    let down: Vec<&crate::ui::state::EngineSlot> = state
        .engines
        .iter()
        .filter(|e| matches!(e.conn, Conn::Down { .. }))
        .collect();
    let any = !down.is_empty()
        || state.engine_changed.is_some()
        || state.mode == Mode::Demo
        || !state.notices.is_empty()
        || warnings_summary.is_some();
    if !any {
        return None;
    }
    let mut forget_change = false;
    egui::Panel::top("banners").show_separator_line(false).show(ui, |ui| {
        if let Some(ch) = &state.engine_changed {
            banner(ui, theme::DOWN_RED, |ui| {
                let title = if ch.label.is_empty() {
                    "A different engine now answers at the watched address".to_string()
                } else {
                    format!("Engine {}: a different engine now answers at its address", ch.label)
                };
                ui.label(RichText::new(crate::model::visible(&title)).strong().color(theme::DOWN_RED));
                ui.label(crate::model::visible(&format!(
                    "Since {}: {}",
                    ch.at.with_timezone(&chrono::Local).format("%H:%M:%S"),
                    ch.detail
                )));
                ui.horizontal(|ui| {
                    if ui.button("I understand").on_hover_text("Hide this notice; the change stays in the audit log").clicked() {
                        forget_change = true;
                    }
                    if ui.button("Look for an engine again").on_hover_text("Run discovery again: --host, DOCKER_HOST, the docker context, the sockets").clicked() {
                        action = Some(Action::Rediscover);
                    }
                });
            });
        }
        for e in &down {
            let Conn::Down { reason, retry_at } = &e.conn else { continue };
            let secs = retry_at.saturating_duration_since(std::time::Instant::now()).as_secs();
            let title = if fleet {
                format!("Cannot reach engine {}", e.label)
            } else {
                "Cannot reach the container engine".to_string()
            };
            banner(ui, theme::DOWN_RED, |ui| {
                ui.label(RichText::new(crate::model::visible(&title)).strong().color(theme::DOWN_RED));
                ui.label(crate::model::visible(reason));
                ui.horizontal(|ui| {
                    let when = if secs == 0 { "Retrying now…".to_string() } else { format!("Retrying automatically in {secs} s.") };
                    ui.label(RichText::new(when).weak());
                    if ui.button("Retry now").on_hover_text("Try the same engine again now").clicked() {
                        action = Some(Action::ReconnectNow);
                    }
                    if ui.button("Look for another engine").on_hover_text("Run discovery again: --host, DOCKER_HOST, the docker context, the sockets. shipshape never switches engines by itself.").clicked() {
                        action = Some(Action::Rediscover);
                    }
                    if ui.button("Open the demo lab").on_hover_text("Explore risky containers without an engine").clicked() {
                        action = Some(Action::OpenDemo);
                    }
                });
                if fleet {
                    ui.label(RichText::new("The other engines carry on.").weak());
                }
                if e.stale {
                    ui.label(RichText::new("The data below is from before the engine went away: it may be out of date.").color(theme::STALE_AMBER));
                }
            });
        }
        if state.mode == Mode::Demo {
            banner(ui, theme::DEMO_PURPLE, |ui| {
                ui.label(
                    RichText::new("DEMO — a bundled lab of deliberately risky containers. Nothing you see here is running on this machine.")
                        .color(theme::DEMO_PURPLE)
                        .strong(),
                );
            });
        }
        for (i, n) in state.notices.iter().enumerate() {
            let color = if n.error { theme::STALE_AMBER } else { theme::OK_GREEN };
            banner(ui, color, |ui| {
                ui.horizontal(|ui| {
                    ui.label(crate::model::visible(&n.text));
                    if ui.small_button("Dismiss").clicked() {
                        dismiss = Some(i);
                    }
                });
            });
        }
        if let Some(line) = &warnings_summary {
            banner(ui, theme::STALE_AMBER, |ui| {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(line).color(theme::STALE_AMBER));
                    let label = if state.dialogs.show_warnings { "Hide the list" } else { "Show the list" };
                    if ui
                        .small_button(label)
                        .on_hover_text("What was not read or not complete in the last scan, grouped by kind")
                        .clicked()
                    {
                        toggle_warnings = true;
                    }
                });
            });
        }
    });
    if let Some(i) = dismiss {
        state.notices.remove(i);
    }
    if forget_change {
        state.engine_changed = None;
    }
    if toggle_warnings {
        state.dialogs.show_warnings = !state.dialogs.show_warnings;
    }
    action
}

/// A scan warning and the engine it comes from (named when several engines
/// are watched).
pub struct ShownWarning<'a> {
    /// The engine's label, or empty with one engine.
    pub engine: &'a str,
    /// The warning.
    pub warning: &'a crate::model::Warning,
}

/// Every engine's scan warnings, in engine order.
pub fn scan_warnings(state: &State) -> Vec<ShownWarning<'_>> {
    let fleet = state.is_fleet();
    state
        .engines
        .iter()
        .filter_map(|e| Some((e, e.snapshot.as_ref()?)))
        .flat_map(|(e, s)| {
            s.inventory.warnings.iter().map(move |w| ShownWarning {
                engine: if fleet { e.label.as_str() } else { "" },
                warning: w,
            })
        })
        .collect()
}

/// "17 scan warnings: 3 not read · 14 about compose files".
pub fn warnings_line(warnings: &[ShownWarning<'_>]) -> String {
    let by_kind = crate::model::warning::counts(warnings.iter().map(|w| w.warning));
    let parts: Vec<String> = by_kind.iter().map(|(k, n)| k.count(*n)).collect();
    let n = warnings.len();
    let noun = if n == 1 {
        "scan warning"
    } else {
        "scan warnings"
    };
    format!("{n} {noun}: {}", parts.join(" · "))
}

/// The list of scan warnings, grouped by kind, in a window of its own.
pub fn warnings_window(ui: &mut Ui, state: &mut State) {
    if !state.dialogs.show_warnings {
        return;
    }
    let mut open = true;
    {
        let warnings = scan_warnings(state);
        if warnings.is_empty() {
            state.dialogs.show_warnings = false;
            return;
        }
        let title = warnings_line(&warnings);
        // Centred, so it never hides the line that opens and closes it.
        let centre = ui.ctx().content_rect().center();
        egui::Window::new("Scan warnings")
            .open(&mut open)
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(centre)
            .collapsible(false)
            .resizable(true)
            .default_width(640.0)
            .default_height(420.0)
            .show(ui.ctx(), |ui| {
                ui.label(RichText::new(title).strong());
                ui.label(
                    RichText::new(
                        "Each is something the last scan could not read or complete; the rest of \
                         the scan does not depend on it.",
                    )
                    .weak(),
                );
                ui.add_space(4.0);
                egui::ScrollArea::vertical()
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        for (kind, n) in
                            crate::model::warning::counts(warnings.iter().map(|w| w.warning))
                        {
                            egui::CollapsingHeader::new(format!("{} ({n})", kind.title()))
                                .id_salt(("warnings", kind))
                                .default_open(true)
                                .show(ui, |ui| {
                                    for w in warnings.iter().filter(|w| w.warning.kind == kind) {
                                        let text = if w.engine.is_empty() {
                                            crate::model::visible(&w.warning.text).into_owned()
                                        } else {
                                            format!(
                                                "{}: {}",
                                                crate::model::visible(w.engine),
                                                crate::model::visible(&w.warning.text)
                                            )
                                        };
                                        ui.add(egui::Label::new(format!("• {text}")).wrap());
                                    }
                                });
                        }
                    });
            });
    }
    if !open {
        state.dialogs.show_warnings = false;
    }
}

/// Draws the status bar.
pub fn status_bar(ui: &mut Ui, state: &State) {
    ui.horizontal(|ui| {
        if !state.has_data() {
            ui.label(RichText::new("No data yet").weak());
            return;
        }
        // Every engine's, counted once each.
        let (mut containers, mut running, mut gone, mut images) = (0, 0, 0, 0);
        for s in state.snapshots() {
            let inv = &s.inventory;
            containers += inv.containers.len();
            running += inv
                .containers
                .iter()
                .filter(|c| c.state == crate::model::ContainerState::Running && c.gone.is_none())
                .count();
            gone += inv.containers.iter().filter(|c| c.gone.is_some()).count();
            images += inv.images.len();
        }
        let counts = state.counts();
        let gone = if gone > 0 {
            format!(", {gone} gone")
        } else {
            String::new()
        };
        let engines = if state.is_fleet() {
            format!(" on {} engines", state.snapshots().count())
        } else {
            String::new()
        };
        ui.label(format!(
            "{containers} containers ({running} running{gone}) · {images} images{engines}"
        ));
        if let Some((done, total)) = state.drift_progress {
            ui.separator();
            // A bar, not a spinner: a spinner repaints every frame, and a
            // drift pass over hundreds of containers would keep an idle
            // window drawing at full rate. The bar moves as results come.
            let part = done as f32 / total.max(1) as f32;
            ui.add(
                egui::ProgressBar::new(part)
                    .desired_width(48.0)
                    .desired_height(8.0),
            );
            ui.label(RichText::new(format!("checking drift {done}/{total}")).small())
                .on_hover_text(
                    "Reading each running container's filesystem changes (GET /changes), \
                     a few at a time",
                );
        }
        ui.separator();
        for (sev, n) in counts.iter() {
            super::widgets::severity_icon(ui, sev);
            ui.label(RichText::new(format!("{n} {}", sev.as_str())).small());
        }
        if let Some(h) = state.charts.host.latest() {
            ui.separator();
            ui.label(
                RichText::new(format!(
                    "host CPU {:.0}% · memory {} / {} · load {:.2}",
                    h.cpu_pct,
                    super::widgets::bytes(f64::from(h.mem_used)),
                    super::widgets::bytes(f64::from(h.mem_total)),
                    h.load1
                ))
                .small(),
            );
        }
    });
}

/// Draws the export dialog.
pub fn export_window(ui: &mut Ui, state: &mut State) -> Option<Action> {
    let mut action = None;
    let mut open = state.dialogs.show_export;
    let shown = state.inventory.order.len();
    let total = state.inventory.rows.len();
    egui::Window::new("Export report")
        .open(&mut open)
        .resizable(false)
        .collapsible(false)
        .show(ui.ctx(), |ui| {
            ui.label(RichText::new("Format").strong());
            ui.horizontal(|ui| {
                for f in crate::report::Format::ALL {
                    ui.selectable_value(&mut state.dialogs.export.format, f, f.name());
                }
            });
            ui.add_space(4.0);
            ui.label(RichText::new("Containers").strong());
            ui.radio_value(
                &mut state.dialogs.export.filtered,
                false,
                format!("All {total}"),
            );
            ui.radio_value(
                &mut state.dialogs.export.filtered,
                true,
                format!("Only the {shown} shown by the filters"),
            );
            if state.baseline.view.is_some() {
                ui.label(
                    RichText::new(
                        "Findings are marked new or unchanged against the loaded baseline.",
                    )
                    .weak(),
                );
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                if state.dialogs.export_running {
                    ui.spinner();
                    ui.label("Exporting…");
                } else if ui.button("Save…").clicked() {
                    action = Some(Action::Export);
                }
            });
        });
    state.dialogs.show_export = open;
    action
}

/// Draws the settings window.
pub fn settings_window(ui: &mut Ui, state: &mut State) -> Option<Action> {
    let mut action = None;
    let mut open = state.dialogs.show_settings;
    egui::Window::new("Settings").open(&mut open).resizable(false).collapsible(false).show(ui.ctx(), |ui| {
        egui::Grid::new("settings_grid").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            ui.label("Theme");
            ui.horizontal(|ui| {
                for (t, label) in [(ThemeChoice::System, "Follow system"), (ThemeChoice::Dark, "Dark"), (ThemeChoice::Light, "Light")] {
                    ui.selectable_value(&mut state.settings.theme, t, label);
                }
            });
            ui.end_row();
            let refresh_label = ui.label("Refresh every");
            egui::ComboBox::from_id_salt("refresh").selected_text(format!("{} s", state.settings.refresh_secs)).show_ui(ui, |ui| {
                for s in REFRESH_CHOICES {
                    ui.selectable_value(&mut state.settings.refresh_secs, s, format!("{s} s"));
                }
            })
            .response
            .labelled_by(refresh_label.id);
            ui.end_row();
            let history_label = ui.label("Chart history");
            let mut minutes = state.settings.history_minutes;
            egui::ComboBox::from_id_salt("history").selected_text(format!("{minutes} min")).show_ui(ui, |ui| {
                for m in HISTORY_CHOICES {
                    ui.selectable_value(&mut minutes, m, format!("{m} min"));
                }
            })
            .response
            .labelled_by(history_label.id);
            if minutes != state.settings.history_minutes {
                state.set_history_minutes(minutes);
            }
            ui.end_row();
            alerts_settings(ui, state);
        });
        ui.label(RichText::new("Engine events refresh the list between polls. Settings are saved in your config folder.").weak().small());
        ui.separator();
        if engines_editor(ui, state) {
            action = Some(Action::ApplyEngines);
        }
    });
    state.dialogs.show_settings = open;
    action
}

/// Desktop notifications: on or off, the threshold, and whether the
/// service answered (two rows of the settings grid).
fn alerts_settings(ui: &mut Ui, state: &mut State) {
    let label = ui.label("Notifications");
    ui.horizontal(|ui| {
        ui.checkbox(&mut state.settings.alerts.enabled, "Desktop notifications")
            .labelled_by(label.id)
            .on_hover_text(
                "New findings at or above the threshold, privileged or root execs, gaps in \
                 monitoring and images the policy forbids. Bursts make one notification.",
            );
        match &state.alerts_service {
            Some(Ok(server)) => {
                ui.label(
                    RichText::new(format!("via {}", crate::model::visible(server)))
                        .weak()
                        .small(),
                );
            }
            Some(Err(why)) => {
                ui.label(
                    RichText::new("no notification service")
                        .color(theme::STALE_AMBER)
                        .small(),
                )
                .on_hover_text(crate::model::visible(why));
            }
            None => {}
        }
    });
    ui.end_row();
    ui.label("Tray");
    ui.horizontal(|ui| {
        ui.checkbox(
            &mut state.settings.keep_watching,
            "Keep watching in the tray when the window closes",
        )
        .on_hover_text(
            "Closing the window hides it; shipshape keeps watching, recording and alerting. \
                 The tray icon shows the worst active severity; its menu opens the window, \
                 pauses alerts or quits.",
        );
        match &state.tray_status {
            Some(Err(why)) if state.settings.keep_watching => {
                ui.label(
                    RichText::new("no tray host: closing quits")
                        .color(theme::STALE_AMBER)
                        .small(),
                )
                .on_hover_text(crate::model::visible(why));
            }
            _ => {}
        }
    });
    ui.end_row();
    let min_label = ui.label("Notify from");
    ui.add_enabled_ui(state.settings.alerts.enabled, |ui| {
        egui::ComboBox::from_id_salt("alert_min")
            .selected_text(format!(
                "{} findings",
                state.settings.alerts.min_severity.as_str()
            ))
            .show_ui(ui, |ui| {
                for s in crate::model::Severity::ALL {
                    ui.selectable_value(
                        &mut state.settings.alerts.min_severity,
                        s,
                        format!("{} and above", s.as_str()),
                    );
                }
            })
            .response
            .labelled_by(min_label.id);
    });
    ui.end_row();
}

/// The user's list of engines: name, address, on or off. Returns true when
/// the user asks to watch the list now.
fn engines_editor(ui: &mut Ui, state: &mut State) -> bool {
    ui.label(RichText::new("Engines").strong());
    ui.label(
        RichText::new(
            "Empty: every engine found on this machine is watched. With entries, the enabled ones are. \
             Addresses: unix:///path, tcp://host:port, https://host:port, ssh://user@host[/socket].",
        )
        .weak()
        .small(),
    );
    let mut remove = None;
    egui::Grid::new("engines_list")
        .num_columns(4)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            for (i, e) in state.settings.engines.iter_mut().enumerate() {
                let name = ui
                    .add(
                        egui::TextEdit::singleline(&mut e.name)
                            .desired_width(110.0)
                            .hint_text("name"),
                    )
                    .on_hover_text("Its name in the window and in reports");
                name.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Engine name")
                });
                ui.add(
                    egui::TextEdit::singleline(&mut e.address)
                        .desired_width(260.0)
                        .hint_text("address"),
                )
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Engine address")
                });
                ui.checkbox(&mut e.enabled, "on");
                if ui.small_button("Remove").clicked() {
                    remove = Some(i);
                }
                ui.end_row();
            }
        });
    if let Some(i) = remove {
        state.settings.engines.remove(i);
    }
    let mut apply = false;
    ui.horizontal(|ui| {
        if ui.button("Add an engine").clicked() {
            state.settings.engines.push(crate::settings::EngineEntry {
                name: format!("engine-{}", state.settings.engines.len() + 1),
                address: "unix:///var/run/docker.sock".into(),
                enabled: true,
                tls_dir: None,
            });
        }
        if !state.found_engines.is_empty()
            && ui
                .button("Add the engines found here")
                .on_hover_text("Every docker context and engine socket on this machine")
                .clicked()
        {
            for entry in state.found_engines.clone() {
                if !state.settings.engines.iter().any(|e| e.address == entry.address) {
                    state.settings.engines.push(entry);
                }
            }
        }
        if state.mode == crate::ui::state::Mode::Live
            && ui
                .button("Watch these engines and clusters now")
                .on_hover_text("Reconnect to the enabled engines of this list (or, if it is empty, to every engine found)")
                .clicked()
        {
            apply = true;
        }
    });
    clusters_editor(ui, state);
    apply
}

/// The kubeconfig's contexts: each one ticked is watched beside the
/// engines (none by default: a cluster is only contacted when asked).
fn clusters_editor(ui: &mut Ui, state: &mut State) {
    ui.add_space(6.0);
    ui.label(RichText::new("Kubernetes clusters").strong());
    if state.found_contexts.is_empty() {
        ui.label(
            RichText::new("No kubeconfig contexts (KUBECONFIG, ~/.kube/config, or --kubeconfig).")
                .weak()
                .small(),
        );
        return;
    }
    ui.label(
        RichText::new(
            "Each ticked context's pods are read (get, list and watch only) and judged by the same rules.",
        )
        .weak()
        .small(),
    );
    for name in state.found_contexts.clone() {
        let mut on = state.settings.kube_contexts.contains(&name);
        if ui
            .checkbox(&mut on, crate::model::visible(&name).into_owned())
            .changed()
        {
            if on {
                state.settings.kube_contexts.push(name);
            } else {
                state.settings.kube_contexts.retain(|c| *c != name);
            }
        }
    }
}
