//! The container inventory: filters and a virtualised, sortable table.
//! Keyboard: ↑/↓ move the selection, Enter opens it, `/` focuses the filter,
//! Esc closes the detail panel.

use egui::{Key, RichText, Ui};
use egui_extras::{Column as TableColumn, TableBuilder};

use super::widgets;
use crate::model::{ContainerState, Severity};
use crate::ui::state::{Column, DetailTab, State};

/// The egui id of the inventory's filter box.
pub const FILTER_ID: &str = "inventory_filter";

const STATES: [ContainerState; 6] = [
    ContainerState::Running,
    ContainerState::Created,
    ContainerState::Paused,
    ContainerState::Restarting,
    ContainerState::Exited,
    ContainerState::Dead,
];

/// Shown on a CPU figure that comes from a sample, not a live stream.
pub const SAMPLED_HINT: &str = "Sampled every 10 s: only the selected container, the rows on \
screen and the busiest stream live (see docs/scale.md)";

/// Draws the Containers view.
pub fn show(ui: &mut Ui, state: &mut State) {
    if !state.has_data() {
        ui.centered_and_justified(|ui| {
            ui.label(RichText::new("Waiting for the first scan…").weak());
        });
        return;
    }
    filter_bar(ui, state);
    keyboard(ui, state);
    ui.add_space(4.0);
    table(ui, state);
}

fn filter_bar(ui: &mut Ui, state: &mut State) {
    ui.horizontal(|ui| {
        let id = egui::Id::unique(FILTER_ID);
        let edit = egui::TextEdit::singleline(&mut state.inventory.filter.text)
            .id(id)
            .hint_text("Filter by name, image or label  ( / )")
            .desired_width(280.0);
        let label = ui.label("Filter");
        let resp = ui.add(edit).labelled_by(label.id);
        if resp.changed() {
            state.filter_changed();
        }
        if state.inventory.focus_filter {
            resp.request_focus();
            state.inventory.focus_filter = false;
        }
        let state_label = ui.label("State");
        let shown = if state.inventory.filter.gone {
            "gone"
        } else {
            state.inventory.filter.state.map_or("all", |s| s.as_str())
        };
        let before = (state.inventory.filter.state, state.inventory.filter.gone);
        egui::ComboBox::from_id_salt("state_filter")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(
                        state.inventory.filter.state.is_none() && !state.inventory.filter.gone,
                        "all",
                    )
                    .clicked()
                {
                    state.inventory.filter.state = None;
                    state.inventory.filter.gone = false;
                }
                for s in STATES {
                    if ui
                        .selectable_label(state.inventory.filter.state == Some(s), s.as_str())
                        .clicked()
                    {
                        state.inventory.filter.state = Some(s);
                        state.inventory.filter.gone = false;
                    }
                }
                if ui
                    .selectable_label(state.inventory.filter.gone, "gone")
                    .on_hover_text("Removed from the engine; kept until dismissed")
                    .clicked()
                {
                    state.inventory.filter.state = None;
                    state.inventory.filter.gone = true;
                }
            })
            .response
            .labelled_by(state_label.id);
        if state.is_fleet() {
            let engine_label = ui.label("Engine");
            let shown = state
                .inventory
                .filter
                .engine
                .clone()
                .unwrap_or_else(|| "all".into());
            let before_engine = state.inventory.filter.engine.clone();
            let names = state.engine_names();
            egui::ComboBox::from_id_salt("engine_filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.inventory.filter.engine, None, "all");
                    for n in names {
                        let label = crate::model::visible(&n).into_owned();
                        ui.selectable_value(&mut state.inventory.filter.engine, Some(n), label);
                    }
                })
                .response
                .labelled_by(engine_label.id);
            if before_engine != state.inventory.filter.engine {
                state.filter_changed();
            }
        }
        if state.has_namespaces() {
            let ns_label = ui.label("Namespace");
            let before = state.inventory.filter.namespace.clone();
            let shown = before.clone().unwrap_or_else(|| "all".into());
            let names = state.namespace_names();
            egui::ComboBox::from_id_salt("namespace_filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.inventory.filter.namespace, None, "all");
                    for n in names {
                        let label = n.clone();
                        ui.selectable_value(&mut state.inventory.filter.namespace, Some(n), label);
                    }
                })
                .response
                .labelled_by(ns_label.id);
            if before != state.inventory.filter.namespace {
                state.filter_changed();
            }
        }
        if state.has_projects() {
            let p_label = ui.label("Project");
            let before = state.inventory.filter.project.clone();
            let shown = before.clone().unwrap_or_else(|| "all".into());
            let names = state.project_names();
            egui::ComboBox::from_id_salt("project_filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.inventory.filter.project, None, "all");
                    for n in names {
                        let label = n.clone();
                        ui.selectable_value(&mut state.inventory.filter.project, Some(n), label);
                    }
                })
                .response
                .labelled_by(p_label.id);
            if before != state.inventory.filter.project {
                state.filter_changed();
            }
        }
        let severity_label = ui.label("At least");
        let shown = state
            .inventory
            .filter
            .min_severity
            .map_or("any", |s| s.as_str());
        let before_sev = state.inventory.filter.min_severity;
        egui::ComboBox::from_id_salt("severity_filter")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut state.inventory.filter.min_severity, None, "any");
                for s in Severity::ALL {
                    ui.selectable_value(
                        &mut state.inventory.filter.min_severity,
                        Some(s),
                        s.as_str(),
                    );
                }
            })
            .response
            .labelled_by(severity_label.id);
        if before != (state.inventory.filter.state, state.inventory.filter.gone)
            || before_sev != state.inventory.filter.min_severity
        {
            state.filter_changed();
        }
        let gone = state.gone_count();
        if gone > 0
            && ui
                .small_button(format!("Dismiss {gone} gone"))
                .on_hover_text("Stop showing containers the engine has removed")
                .clicked()
        {
            state.pending_dismiss = Some(Vec::new());
        }
        if let Some(b) = &state.baseline.view {
            ui.separator();
            let new: usize = state
                .inventory
                .rows
                .iter()
                .map(|r| r.new_since_baseline)
                .sum();
            ui.label(format!(
                "Baseline of {}: {new} new",
                b.generated_at.format("%Y-%m-%d %H:%M")
            ))
            .on_hover_text(b.source.as_str());
            if ui
                .checkbox(&mut state.inventory.filter.only_new, "only new")
                .changed()
            {
                state.filter_changed();
            }
            if ui
                .small_button("×")
                .on_hover_text("Forget the baseline")
                .clicked()
            {
                state.clear_baseline();
            }
        }
        // Filters set from the Overview or the palette: shown, and one
        // click clears each.
        let f = &state.inventory.filter;
        let chips: Vec<(String, u8)> = [
            f.seed
                .map(|s| (format!("rule {} · {}", s.number(), s.title()), 0)),
            f.threat.map(|t| (format!("threat: {}", t.title()), 1)),
            f.rule.map(|r| (format!("check: {r}"), 2)),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (text, which) in chips {
            if ui
                .small_button(format!("{text}  ×"))
                .on_hover_text("Only the containers this applies to; click to show all")
                .clicked()
            {
                let f = &mut state.inventory.filter;
                match which {
                    0 => f.seed = None,
                    1 => f.threat = None,
                    _ => f.rule = None,
                }
                state.filter_changed();
            }
        }
        let total = state.inventory.rows.len();
        let shown = state.inventory.order.len();
        ui.label(
            RichText::new(if shown == total {
                format!("{total} containers")
            } else {
                format!("{shown} of {total} containers")
            })
            .weak(),
        );
    });
}

fn keyboard(ui: &mut Ui, state: &mut State) {
    let filter_id = egui::Id::unique(FILTER_ID);
    let in_filter = ui.memory(|m| m.has_focus(filter_id));
    // Another text field (e.g. in a window) keeps its keys.
    if ui.ctx().text_edit_focused() && !in_filter {
        return;
    }
    let none = egui::Modifiers::NONE;
    let (down, up, enter, esc) = ui.input_mut(|i| {
        (
            i.consume_key(none, Key::ArrowDown),
            i.consume_key(none, Key::ArrowUp),
            i.consume_key(none, Key::Enter),
            i.consume_key(none, Key::Escape),
        )
    });
    let slash = !in_filter && ui.input_mut(|i| i.consume_key(none, Key::Slash));
    if down || up {
        state.move_selection(if down { 1 } else { -1 });
        ui.memory_mut(|m| m.surrender_focus(filter_id));
    }
    if enter {
        if state.inventory.selected.is_none() {
            state.move_selection(0);
        }
        state.detail_tab = DetailTab::Risk;
        ui.memory_mut(|m| m.surrender_focus(filter_id));
    }
    if slash {
        // The typed "/" must not land in the filter text.
        ui.input_mut(|i| {
            i.events
                .retain(|e| !matches!(e, egui::Event::Text(t) if t == "/"))
        });
        state.inventory.focus_filter = true;
    }
    if esc {
        if in_filter {
            ui.memory_mut(|m| m.surrender_focus(filter_id));
        } else {
            state.inventory.selected = None;
        }
    }
}

fn table(ui: &mut Ui, state: &mut State) {
    // Selectable labels would swallow the clicks that select a row.
    ui.style_mut().interaction.selectable_labels = false;
    let row_h = 22.0;
    let scroll_to = if state.inventory.scroll_to_selected {
        state.inventory.scroll_to_selected = false;
        state.inventory.selected.as_ref().and_then(|key| {
            state.inventory.order.iter().position(|&i| {
                let r = &state.inventory.rows[i];
                r.slot == key.engine && r.id == key.id
            })
        })
    } else {
        None
    };
    let fleet = state.is_fleet();
    let namespaces = state.has_namespaces();
    let projects = state.has_projects();
    let mut builder = TableBuilder::new(ui)
        .id_salt(match (fleet, namespaces, projects) {
            (true, true, _) => "inventory_fleet_ns",
            (true, false, true) => "inventory_fleet_projects",
            (true, false, false) => "inventory_fleet",
            (false, _, true) => "inventory_projects",
            (false, _, false) => "inventory",
        })
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
    if fleet {
        builder = builder.column(TableColumn::initial(110.0).at_least(60.0).clip(true)); // engine
    }
    if namespaces {
        builder = builder.column(TableColumn::initial(100.0).at_least(60.0).clip(true)); // namespace
    }
    if projects {
        builder = builder.column(TableColumn::initial(110.0).at_least(60.0).clip(true)); // project
    }
    builder = builder
        .column(TableColumn::initial(170.0).at_least(90.0).clip(true)) // name
        .column(TableColumn::initial(170.0).at_least(80.0).clip(true)) // image
        .column(TableColumn::initial(70.0).at_least(60.0)) // state
        .column(TableColumn::initial(96.0).at_least(90.0)) // risk
        .column(TableColumn::initial(90.0).at_least(80.0)) // worst
        .column(TableColumn::initial(110.0).at_least(60.0).clip(true)) // counts
        .column(TableColumn::initial(56.0).at_least(48.0)) // cpu
        .column(TableColumn::initial(76.0).at_least(60.0)) // mem
        .column(TableColumn::initial(150.0).at_least(60.0).clip(true)) // ports
        .column(TableColumn::initial(100.0).at_least(60.0).clip(true)) // user
        .column(TableColumn::remainder().at_least(70.0)); // uptime
    if let Some(r) = scroll_to {
        builder = builder.scroll_to_row(r, Some(egui::Align::Center));
    }
    let all_headers = [
        Some(Column::Engine),
        Some(Column::Namespace),
        Some(Column::Project),
        Some(Column::Name),
        Some(Column::Image),
        Some(Column::State),
        Some(Column::Risk),
        Some(Column::Severity),
        None,
        Some(Column::Cpu),
        Some(Column::Memory),
        Some(Column::Ports),
        Some(Column::User),
        Some(Column::Uptime),
    ];
    let headers: Vec<Option<Column>> = all_headers
        .into_iter()
        .filter(|c| match c {
            Some(Column::Engine) => fleet,
            Some(Column::Namespace) => namespaces,
            Some(Column::Project) => projects,
            _ => true,
        })
        .collect();
    let mut clicked_sort = None;
    let mut clicked_row = None;
    let mut visible = Vec::new();
    let now = chrono::Utc::now();
    builder
        .header(24.0, |mut header| {
            for &col in &headers {
                header.col(|ui| match col {
                    Some(c) => {
                        let arrow = if state.inventory.sort.0 == c {
                            if state.inventory.sort.1 {
                                " ▲"
                            } else {
                                " ▼"
                            }
                        } else {
                            ""
                        };
                        let text = RichText::new(format!("{}{arrow}", c.title())).strong();
                        if ui
                            .add(egui::Button::new(text).frame(false))
                            .on_hover_text("Sort; click again to reverse")
                            .clicked()
                        {
                            clicked_sort = Some(c);
                        }
                    }
                    None => {
                        ui.label(RichText::new("Findings").strong());
                    }
                });
            }
        })
        .body(|body| {
            body.rows(row_h, state.inventory.order.len(), |mut row| {
                let r = &state.inventory.rows[state.inventory.order[row.index()]];
                let key = r.key();
                let selected = state.inventory.selected.as_ref() == Some(&key);
                row.set_selected(selected);
                if fleet {
                    row.col(|ui| {
                        ui.label(&r.engine);
                    });
                }
                if namespaces {
                    row.col(|ui| {
                        ui.label(&r.namespace);
                    });
                }
                if projects {
                    row.col(|ui| {
                        ui.label(&r.project);
                    });
                }
                row.col(|ui| {
                    ui.label(RichText::new(&r.name).strong());
                });
                row.col(|ui| {
                    ui.label(&r.image);
                });
                row.col(|ui| {
                    if let Some(at) = r.gone {
                        ui.label(
                            RichText::new("gone")
                                .italics()
                                .color(super::theme::GONE_GREY),
                        )
                        .on_hover_text(format!(
                            "Removed at {} — last seen {}",
                            at.with_timezone(&chrono::Local).format("%H:%M:%S"),
                            r.state.as_str()
                        ));
                    } else {
                        ui.label(r.state.as_str());
                    }
                });
                row.col(|ui| {
                    widgets::risk_bar(ui, r.score);
                });
                row.col(|ui| match r.highest {
                    Some(s) => {
                        widgets::severity_badge(ui, s);
                    }
                    None => {
                        ui.label(RichText::new("none").weak());
                    }
                });
                row.col(|ui| {
                    widgets::counts(ui, &r.counts);
                    if r.waived > 0 {
                        ui.label(
                            RichText::new(format!("+{} waived", r.waived))
                                .weak()
                                .small(),
                        );
                    }
                    if r.new_since_baseline > 0 {
                        let red = super::theme::DOWN_RED;
                        ui.label(
                            RichText::new(format!("{} new", r.new_since_baseline))
                                .small()
                                .strong()
                                .color(red),
                        );
                    }
                });
                let live = state
                    .charts
                    .stats
                    .get(&key)
                    .and_then(crate::model::stats::Ring::latest);
                let sampled = state.charts.sampled.contains(&key);
                row.col(|ui| {
                    match live {
                        Some(p) if r.state == ContainerState::Running && sampled => ui
                            .label(format!("{:.1}% ≈", p.cpu_pct))
                            .on_hover_text(SAMPLED_HINT),
                        Some(p) if r.state == ContainerState::Running => {
                            ui.label(format!("{:.1}%", p.cpu_pct))
                        }
                        _ => ui.label(RichText::new("—").weak()),
                    };
                });
                row.col(|ui| {
                    match live {
                        Some(p) if r.state == ContainerState::Running => {
                            ui.label(widgets::bytes(f64::from(p.mem_bytes)))
                        }
                        _ => ui.label(RichText::new("—").weak()),
                    };
                });
                row.col(|ui| {
                    ui.label(if r.ports.is_empty() {
                        "—"
                    } else {
                        r.ports.as_str()
                    });
                });
                row.col(|ui| {
                    ui.label(&r.user);
                });
                row.col(|ui| {
                    let text = match (r.started, r.created) {
                        _ if r.lifetime.is_some() => format!(
                            "lived {}",
                            widgets::duration_precise(r.lifetime.unwrap_or_default())
                        ),
                        (Some(s), _) => {
                            format!("up {}", widgets::duration((now - s).num_seconds()))
                        }
                        (None, Some(c)) => {
                            format!("made {} ago", widgets::duration((now - c).num_seconds()))
                        }
                        _ => "—".into(),
                    };
                    ui.label(text);
                });
                if row.response().clicked() {
                    clicked_row = Some(key.clone());
                }
                visible.push(key);
            });
        });
    state.inventory.visible = visible;
    if let Some(c) = clicked_sort {
        state.set_sort(c);
    }
    if let Some(key) = clicked_row {
        state.inventory.selected = Some(key);
    }
}
