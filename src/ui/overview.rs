//! The Overview, the first thing the window shows: a card for each of the
//! eight rules (what breaks it, how badly, the worst offenders, the change
//! since the baseline or the session's start), the seven threats with the
//! findings that feed them, and the posture over time from the audit log.
//! A card opens the inventory filtered to its rule; "What is this?" opens
//! the rule's explanation for trainees.

use egui::{RichText, Ui};
use egui_plot::{Legend, Line, Plot};

use super::{theme, widgets};
use crate::model::{SeedRule, Severity, Threat, visible};
use crate::report::overview::{Kind, Overview, RuleCard};
use crate::ui::state::{Mode, State};

/// What a click asks for; applied after drawing.
enum Click {
    Rule(SeedRule),
    Threat(Threat),
    Container(crate::ui::state::RowKey),
    Explain(SeedRule),
}

/// Draws the Overview.
pub fn show(ui: &mut Ui, state: &mut State) {
    let Some(current) = state.overview.current.clone() else {
        ui.label(RichText::new("Waiting for the first scan…").weak());
        return;
    };
    let mut click = None;
    egui::ScrollArea::vertical()
        .id_salt("overview")
        .show(ui, |ui| {
            header(ui, state, &current);
            ui.add_space(6.0);
            cards(ui, state, &current, &mut click);
            if let Some(seed) = state.overview.explain {
                ui.add_space(8.0);
                explanation(ui, state, &current, seed, &mut click);
            }
            ui.add_space(10.0);
            threats(ui, &current, &mut click);
            ui.add_space(10.0);
            posture(ui, state);
        });
    match click {
        Some(Click::Rule(seed)) => state.show_in_inventory(Some(seed), None),
        Some(Click::Threat(t)) => state.show_in_inventory(None, Some(t)),
        Some(Click::Container(key)) => {
            state.view = crate::ui::state::View::Containers;
            state.inventory.selected = Some(key);
            state.inventory.scroll_to_selected = true;
        }
        Some(Click::Explain(seed)) => {
            state.overview.explain = if state.overview.explain == Some(seed) {
                None
            } else {
                Some(seed)
            };
        }
        None => {}
    }
}

/// What the changes are measured against.
fn reference(state: &State) -> Option<(&Overview, &'static str)> {
    if let Some(b) = &state.overview.baseline {
        return Some((b, "since the baseline"));
    }
    state
        .overview
        .first
        .as_ref()
        .map(|f| (f, "since the session started"))
}

fn header(ui: &mut Ui, state: &State, o: &Overview) {
    let broken = o.rules.iter().filter(|c| c.breaking() > 0).count();
    ui.heading("How you stand on the eight rules");
    let rows = state.inventory.rows.len();
    let images: usize = state.snapshots().map(|s| s.inventory.images.len()).sum();
    let engines = state.snapshots().count();
    ui.label(
        RichText::new(format!(
            "{broken} of 8 rules broken · {rows} containers, {images} images on {engines} engine{}{}",
            if engines == 1 { "" } else { "s" },
            match reference(state) {
                Some((_, what)) => format!(" · changes {what}"),
                None => String::new(),
            }
        ))
        .weak(),
    );
}

fn cards(ui: &mut Ui, state: &State, o: &Overview, click: &mut Option<Click>) {
    let per_row = if ui.available_width() > 1100.0 { 4 } else { 2 };
    for row in o.rules.chunks(per_row) {
        ui.columns(per_row, |cols| {
            for (col, card) in cols.iter_mut().zip(row) {
                rule_card(col, state, card, click);
            }
        });
        ui.add_space(4.0);
    }
}

fn rule_card(ui: &mut Ui, state: &State, card: &RuleCard, click: &mut Option<Click>) {
    let frame = egui::Frame::group(ui.style()).inner_margin(8.0);
    let resp = frame
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(
                    RichText::new(format!("{} · {}", card.seed.number(), card.seed.title()))
                        .strong(),
                );
            });
            ui.horizontal_wrapped(|ui| match card.worst() {
                Some(w) => {
                    widgets::severity_badge(ui, w);
                    ui.label(breaking_text(card));
                }
                None => {
                    ui.label(RichText::new("✔ nothing breaks it").color(theme::OK_GREEN));
                }
            });
            if let Some((reference, what)) = reference(state) {
                let before = reference.rule(card.seed).breaking() as i64;
                let now = card.breaking() as i64;
                let text = match now - before {
                    0 => format!("no change {what}"),
                    d if d > 0 => format!("+{d} {what}"),
                    d => format!("{d} {what}"),
                };
                let color = match now - before {
                    d if d > 0 => theme::DOWN_RED,
                    d if d < 0 => theme::OK_GREEN,
                    _ => ui.visuals().weak_text_color(),
                };
                ui.label(RichText::new(text).small().color(color));
            }
            for off in &card.top {
                ui.horizontal(|ui| {
                    widgets::severity_icon(ui, off.worst);
                    let label = off.label();
                    let label = if off.engine.is_empty() {
                        label
                    } else {
                        format!("{label} · {}", visible(&off.engine))
                    };
                    // Cut to the card's width: a long name never pushes the
                    // card over its neighbour (the full text on hover).
                    if off.kind == Kind::Container {
                        let link = RichText::new(&label).color(ui.visuals().hyperlink_color);
                        let r = ui
                            .add(
                                egui::Label::new(link)
                                    .truncate()
                                    .sense(egui::Sense::click()),
                            )
                            .on_hover_cursor(egui::CursorIcon::PointingHand)
                            .on_hover_text(format!("{label}\nOpen its risk panel"));
                        if r.clicked()
                            && let Some(key) = state.row_key(&off.engine, &off.id)
                        {
                            *click = Some(Click::Container(key));
                        }
                    } else {
                        ui.add(egui::Label::new(&label).truncate())
                            .on_hover_text(&label);
                    }
                });
            }
            ui.horizontal(|ui| {
                if card.containers > 0
                    && ui
                        .button("Show in inventory")
                        .on_hover_text("The containers that break this rule")
                        .clicked()
                {
                    *click = Some(Click::Rule(card.seed));
                }
                let open = state.overview.explain == Some(card.seed);
                if ui
                    .selectable_label(open, "What is this?")
                    .on_hover_text("What the rule asks, and how an attacker uses its absence")
                    .clicked()
                {
                    *click = Some(Click::Explain(card.seed));
                }
            });
        })
        .response;
    resp.on_hover_text(card.seed.asks());
}

fn breaking_text(card: &RuleCard) -> String {
    let mut parts = Vec::new();
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    if card.containers > 0 {
        parts.push(plural(card.containers, "container"));
    }
    if card.images > 0 {
        parts.push(plural(card.images, "image"));
    }
    if card.engines > 0 {
        parts.push(if card.engines == 1 {
            "the engine".into()
        } else {
            plural(card.engines, "engine")
        });
    }
    parts.join(" · ")
}

fn explanation(
    ui: &mut Ui,
    state: &State,
    o: &Overview,
    seed: SeedRule,
    click: &mut Option<Click>,
) {
    egui::Frame::group(ui.style())
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.label(RichText::new(format!("Rule {}: {}", seed.number(), seed.title())).heading());
            ui.label(RichText::new("What it asks").strong());
            ui.label(seed.asks());
            ui.label(RichText::new("How an attacker uses its absence").strong());
            ui.label(seed.exploited());
            ui.label(RichText::new("The checks that serve it").strong());
            for r in crate::rules::ALL.iter().filter(|r| r.seed == seed) {
                ui.horizontal(|ui| {
                    widgets::severity_icon(ui, r.severity);
                    ui.label(RichText::new(r.id).monospace());
                    ui.label(r.title);
                });
            }
            let card = o.rule(seed);
            let whose = if state.mode == Mode::Demo {
                "Lab containers that show it"
            } else {
                "Your containers that show it"
            };
            ui.label(RichText::new(whose).strong());
            let shown: Vec<&crate::ui::state::Row> = state
                .inventory
                .rows
                .iter()
                .filter(|r| r.seeds & (1 << (seed.number() - 1)) != 0)
                .take(12)
                .collect();
            if shown.is_empty() {
                ui.label(RichText::new("none: every container keeps this rule").weak());
            }
            ui.horizontal_wrapped(|ui| {
                for r in shown {
                    if ui.link(visible(&r.name)).clicked() {
                        *click = Some(Click::Container(r.key()));
                    }
                }
                if card.containers > 12 {
                    ui.label(format!("… and {} more", card.containers - 12));
                }
            });
        });
}

fn threats(ui: &mut Ui, o: &Overview, click: &mut Option<Click>) {
    ui.heading("The seven threats");
    egui::Grid::new("threats")
        .striped(true)
        .num_columns(4)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            for t in &o.threats {
                let title = RichText::new(t.threat.title()).strong();
                if t.containers > 0 {
                    if ui
                        .link(title)
                        .on_hover_text("The containers whose findings feed it")
                        .clicked()
                    {
                        *click = Some(Click::Threat(t.threat));
                    }
                } else {
                    ui.label(title);
                }
                ui.label(RichText::new(t.threat.about()).weak());
                ui.horizontal(|ui| {
                    if t.counts.is_empty() {
                        ui.label(RichText::new("no findings").color(theme::OK_GREEN));
                    } else {
                        widgets::counts(ui, &t.counts);
                        ui.label(format!("· {} containers", t.containers));
                    }
                });
                let top: Vec<String> = t
                    .rules
                    .iter()
                    .take(3)
                    .map(|(id, n)| format!("{id} ×{n}"))
                    .collect();
                ui.label(RichText::new(top.join(", ")).small());
                ui.end_row();
            }
        });
}

/// A fixed posture chart (no zoom or drag), time on the x axis.
fn posture_plot(id: &str, fmt_x: impl Fn(f64) -> String + 'static) -> Plot<'static> {
    Plot::new(id)
        .height(160.0)
        .legend(Legend::default())
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .include_y(0.0)
        .x_axis_formatter(move |m, _| fmt_x(m.value))
}

/// Hours up to three days; days beyond.
fn bucket_for(span_secs: i64) -> (i64, &'static str) {
    if span_secs <= 3 * 86_400 {
        (3600, "per hour")
    } else {
        (86_400, "per day")
    }
}

fn posture(ui: &mut Ui, state: &State) {
    ui.heading("Posture over time");
    let points = &state.overview.posture;
    let span = match (points.first(), points.last()) {
        (Some(a), Some(b)) => (b.t - a.t).num_seconds(),
        _ => 0,
    };
    if state.mode == Mode::Demo {
        ui.label(
            RichText::new(
                "The demo lab has no history. Watching a real engine, this chart shows the \
                 active findings and the total risk over time, from the audit log.",
            )
            .weak(),
        );
        return;
    }
    if points.len() < 2 {
        ui.label(
            RichText::new(format!(
                "The audit log holds {} assessment{} so far; the chart fills in as shipshape \
                 keeps watching (each scan that changes the picture is recorded).",
                points.len(),
                if points.len() == 1 { "" } else { "s" }
            ))
            .weak(),
        );
        return;
    }
    let (bucket, per) = bucket_for(span);
    let b = crate::model::posture_buckets(points, bucket);
    ui.label(
        RichText::new(format!(
            "Active findings and total risk {per}, from {} records of the audit log",
            points.len()
        ))
        .weak(),
    );
    let dark = ui.visuals().dark_mode;
    let t0 = b.first().map_or(0, |(t, _, _)| t.timestamp());
    let x = move |t: &chrono::DateTime<chrono::Utc>| (t.timestamp() - t0) as f64;
    let fmt_x = move |v: f64| {
        chrono::DateTime::from_timestamp(t0 + v as i64, 0)
            .map(|t| {
                t.with_timezone(&chrono::Local)
                    .format(if bucket >= 86_400 {
                        "%b %d"
                    } else {
                        "%b %d %H:00"
                    })
                    .to_string()
            })
            .unwrap_or_default()
    };
    ui.columns(2, |cols| {
        posture_plot("posture_findings", fmt_x).show(&mut cols[0], |plot| {
            for s in [
                Severity::Critical,
                Severity::High,
                Severity::Medium,
                Severity::Low,
            ] {
                let pts: Vec<[f64; 2]> =
                    b.iter().map(|(t, c, _)| [x(t), c.get(s) as f64]).collect();
                plot.line(
                    Line::new(theme::severity_label(s), pts)
                        .color(theme::severity_color(s, dark))
                        .width(1.5),
                );
            }
        });
        posture_plot("posture_risk", fmt_x).show(&mut cols[1], |plot| {
            let pts: Vec<[f64; 2]> = b.iter().map(|(t, _, r)| [x(t), *r as f64]).collect();
            plot.line(Line::new("total risk", pts).width(1.5));
        });
    });
}
