//! The activity timeline: engine events, exec sessions, new findings and
//! gaps in the stream, newest first, with filters; and a container's own
//! timeline inside its risk panel.

use crate::model::{visible, visible_multiline};
use egui::{RichText, Ui};
use egui_extras::{Column as TableColumn, TableBuilder};

use super::{theme, widgets};
use crate::model::activity::{Activity, Category};
use crate::model::{Container, Severity};
use crate::ui::state::{DetailTab, RowKey, State};

/// The egui id of the timeline's filter box.
pub const FILTER_ID: &str = "activity_filter";

/// Draws the Activity view.
pub fn show(ui: &mut Ui, state: &mut State) {
    filter_bar(ui, state);
    ui.add_space(4.0);
    if state.timeline.entries.is_empty() {
        ui.add_space(24.0);
        ui.vertical_centered(|ui| {
            ui.label(RichText::new("No activity yet.").strong());
            ui.label(
                RichText::new(
                    "Container starts and stops, docker exec sessions, copies, image pulls and \
                     new findings appear here as they happen.",
                )
                .weak(),
            );
        });
        return;
    }
    if state.timeline.order.is_empty() {
        ui.label(RichText::new("Nothing matches the filters.").weak());
        return;
    }
    table(ui, state);
}

fn filter_bar(ui: &mut Ui, state: &mut State) {
    ui.horizontal(|ui| {
        let before = state.timeline.filter.clone();
        let label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(&mut state.timeline.filter.text)
                .id(egui::Id::unique(FILTER_ID))
                .hint_text("container, action or command")
                .desired_width(240.0),
        )
        .labelled_by(label.id);
        if state.is_fleet() {
            let engine_label = ui.label("Engine");
            let names = state.engine_names();
            egui::ComboBox::from_id_salt("activity_engine")
                .selected_text(
                    state
                        .timeline
                        .filter
                        .engine
                        .clone()
                        .unwrap_or_else(|| "all".into()),
                )
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.timeline.filter.engine, None, "all");
                    for n in names {
                        let label = visible(&n).into_owned();
                        ui.selectable_value(&mut state.timeline.filter.engine, Some(n), label);
                    }
                })
                .response
                .labelled_by(engine_label.id);
        }
        let type_label = ui.label("Type");
        egui::ComboBox::from_id_salt("activity_category")
            .selected_text(
                state
                    .timeline
                    .filter
                    .category
                    .map_or("all", Category::as_str),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.timeline.filter.category, None, "all");
                for c in Category::ALL {
                    ui.selectable_value(&mut state.timeline.filter.category, Some(c), c.as_str());
                }
            })
            .response
            .labelled_by(type_label.id);
        let severity_label = ui.label("At least");
        egui::ComboBox::from_id_salt("activity_severity")
            .selected_text(
                state
                    .timeline
                    .filter
                    .min_severity
                    .map_or("any", Severity::as_str),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.timeline.filter.min_severity, None, "any");
                for s in Severity::ALL {
                    ui.selectable_value(
                        &mut state.timeline.filter.min_severity,
                        Some(s),
                        s.as_str(),
                    );
                }
            })
            .response
            .labelled_by(severity_label.id);
        if state.timeline.filter != before {
            state.activity_filter_changed();
        }
        let total = state.timeline.entries.len();
        let shown = state.timeline.order.len();
        ui.label(
            RichText::new(if shown == total {
                format!("{total} entries")
            } else {
                format!("{shown} of {total} entries")
            })
            .weak(),
        );
        ui.separator();
        audit_status(ui, state);
    });
}

fn audit_status(ui: &mut Ui, state: &State) {
    match &state.audit {
        Some(Ok(path)) => {
            ui.label(RichText::new("Audit log on").color(theme::OK_GREEN))
                .on_hover_text(format!(
                    "Every entry is also appended to {} (hash-chained; check it with \
                     `shipshape audit verify`).",
                    path.display()
                ));
        }
        Some(Err(e)) => {
            ui.label(RichText::new("Audit log off").color(theme::DOWN_RED))
                .on_hover_text(e.as_str());
        }
        None => {
            ui.label(RichText::new("No audit log").weak())
                .on_hover_text("The demo lab and --no-audit keep no audit trail.");
        }
    }
}

fn category_label(a: &Activity) -> &'static str {
    match a.category() {
        Category::Lifecycle => "container",
        c => c.as_str(),
    }
}

fn table(ui: &mut Ui, state: &mut State) {
    ui.style_mut().interaction.selectable_labels = false;
    let dark = ui.visuals().dark_mode;
    let mut clicked: Option<RowKey> = None;
    let fleet = state.is_fleet();
    let mut builder = TableBuilder::new(ui)
        .id_salt(if fleet { "activity_fleet" } else { "activity" })
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    if fleet {
        builder = builder.column(TableColumn::initial(100.0).at_least(60.0).clip(true)); // engine
    }
    builder
        .column(TableColumn::initial(74.0).at_least(64.0)) // time
        .column(TableColumn::initial(90.0).at_least(70.0)) // severity
        .column(TableColumn::initial(78.0).at_least(60.0)) // type
        .column(TableColumn::initial(104.0).at_least(70.0).clip(true)) // action
        .column(TableColumn::initial(170.0).at_least(80.0).clip(true)) // subject
        .column(TableColumn::remainder().at_least(120.0).clip(true)) // detail
        .header(24.0, |mut h| {
            if fleet {
                h.col(|ui| {
                    ui.label(RichText::new("Engine").strong());
                });
            }
            for t in [
                "Time",
                "Severity",
                "Type",
                "Action",
                "Container / object",
                "Detail",
            ] {
                h.col(|ui| {
                    ui.label(RichText::new(t).strong());
                });
            }
        })
        .body(|body| {
            body.rows(22.0, state.timeline.order.len(), |mut row| {
                let a = &state.timeline.entries[state.timeline.order[row.index()]];
                let selected = state
                    .inventory
                    .selected
                    .as_ref()
                    .is_some_and(|k| state.is_about(a, k));
                row.set_selected(selected);
                if fleet {
                    row.col(|ui| {
                        ui.label(visible(&a.engine));
                    });
                }
                let local = a.time.with_timezone(&chrono::Local);
                row.col(|ui| {
                    ui.label(local.format("%H:%M:%S").to_string())
                        .on_hover_text(local.format("%Y-%m-%d %H:%M:%S%.3f %Z").to_string());
                });
                row.col(|ui| match a.severity {
                    Some(s) => {
                        widgets::severity_badge(ui, s);
                    }
                    None => {
                        ui.label(RichText::new("—").weak());
                    }
                });
                row.col(|ui| {
                    let text = RichText::new(category_label(a));
                    let text = if a.category() == Category::Gap {
                        text.strong().color(theme::DOWN_RED)
                    } else {
                        text.weak()
                    };
                    ui.label(text);
                });
                row.col(|ui| {
                    ui.label(visible(&a.action));
                });
                row.col(|ui| {
                    let name = if a.name.is_empty() {
                        crate::model::short_id(&a.actor).to_string()
                    } else {
                        a.name.clone()
                    };
                    ui.label(RichText::new(visible(&name)).strong());
                });
                row.col(|ui| {
                    let mut text = RichText::new(one_line(&a.detail, 400));
                    if a.category() == Category::Gap {
                        text = text.color(theme::DOWN_RED);
                    } else if let Some(s) = a.severity.filter(|s| *s >= Severity::High) {
                        text = text.color(theme::severity_color(s, dark));
                    }
                    ui.label(text).on_hover_text(visible_multiline(&a.detail));
                });
                if row.response().clicked() {
                    clicked = state.row_of(a);
                }
            });
        });
    if let Some(key) = clicked {
        state.inventory.selected = Some(key);
        state.detail_tab = DetailTab::Activity;
    }
}

/// A container's exec sessions, drift status and events (the risk panel's
/// Activity tab).
pub fn container(ui: &mut Ui, state: &State, key: &RowKey, c: &Container) {
    ui.label(RichText::new("docker exec sessions").strong());
    if c.execs.is_empty() {
        ui.label(RichText::new("None seen.").weak());
    } else {
        egui::Grid::new("execs")
            .striped(true)
            .num_columns(5)
            .spacing([10.0, 4.0])
            .show(ui, |ui| {
                for h in ["When", "User", "Command", "Flags", "Exit"] {
                    ui.label(RichText::new(h).weak());
                }
                ui.end_row();
                for e in c.execs.iter().rev() {
                    ui.label(
                        e.started
                            .with_timezone(&chrono::Local)
                            .format("%m-%d %H:%M:%S")
                            .to_string(),
                    );
                    let user = match &e.user {
                        None => RichText::new("unknown").weak(),
                        Some(_) if e.as_root() => {
                            RichText::new(visible(&e.effective_user)).strong().color(
                                theme::severity_color(Severity::Medium, ui.visuals().dark_mode),
                            )
                        }
                        Some(_) => RichText::new(visible(&e.effective_user)),
                    };
                    ui.label(user);
                    ui.label(RichText::new(one_line(&e.command_line(), 48)).monospace())
                        .on_hover_text(visible(&e.describe()));
                    let mut flags = Vec::new();
                    if e.privileged {
                        flags.push("privileged");
                    }
                    if e.tty {
                        flags.push("tty");
                    }
                    ui.label(if flags.is_empty() {
                        "—".to_string()
                    } else {
                        flags.join(", ")
                    });
                    ui.label(match (e.exit_code, e.ended) {
                        (Some(code), _) => code.to_string(),
                        (None, None) => "running".into(),
                        (None, Some(_)) => "—".into(),
                    });
                    ui.end_row();
                }
            });
    }

    ui.add_space(8.0);
    ui.label(RichText::new("Filesystem drift").strong());
    match &c.drift {
        None if c.state == crate::model::ContainerState::Running => {
            ui.label(RichText::new("Not checked yet.").weak());
        }
        None => {
            ui.label(RichText::new("Checked while the container runs.").weak());
        }
        Some(d) if d.protected => {
            ui.label(
                RichText::new("Protected: the root filesystem is read-only.")
                    .color(theme::OK_GREEN),
            );
        }
        Some(d) => {
            let when = d
                .checked_at
                .map(|t| {
                    t.with_timezone(&chrono::Local)
                        .format("%H:%M:%S")
                        .to_string()
                })
                .unwrap_or_default();
            ui.label(format!(
                "{} changed path(s), {} that matter — checked at {when}.",
                d.total_changes,
                d.items.len()
            ));
            for i in d.items.iter().take(50) {
                ui.horizontal_wrapped(|ui| {
                    widgets::severity_icon(ui, i.class.severity());
                    ui.label(RichText::new(&i.path).monospace());
                    ui.label(
                        RichText::new(format!("{} · {}", i.kind.as_str(), i.class.describe()))
                            .weak(),
                    );
                });
            }
        }
    }

    ui.add_space(8.0);
    ui.label(RichText::new("Events").strong());
    let mut any = false;
    for a in state.activity_of(key).take(300) {
        any = true;
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(
                    a.time
                        .with_timezone(&chrono::Local)
                        .format("%H:%M:%S")
                        .to_string(),
                )
                .monospace(),
            );
            if let Some(s) = a.severity {
                widgets::severity_icon(ui, s);
            }
            ui.label(RichText::new(&a.action).strong());
            ui.label(one_line(&a.detail, 90))
                .on_hover_text(visible_multiline(&a.detail));
        });
    }
    if !any {
        ui.label(RichText::new("No events recorded for this container in this session.").weak());
    }
}

/// One line of at most `max` characters (commands can span lines).
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = visible(&flat).into_owned();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
