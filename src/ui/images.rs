//! Images: tags, age, size, user, healthcheck, findings, and which
//! containers use each one.

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::{container_panel, widgets};
use crate::app::State;
use crate::model::{Severity, SeverityCounts, visible};

pub fn show(ui: &mut Ui, state: &mut State) {
    let Some(snapshot) = state.snapshot.clone() else {
        ui.label(RichText::new("Waiting for the first scan…").weak());
        return;
    };
    let inv = &snapshot.inventory;
    let now = chrono::Utc::now();
    let mut clicked = None;
    let selected = state.selected_image.clone();
    let table_h = if selected.is_some() {
        ui.available_height() * 0.45
    } else {
        ui.available_height()
    };
    ui.push_id("images_table", |ui| {
        ui.style_mut().interaction.selectable_labels = false;
        ui.set_max_height(table_h);
        TableBuilder::new(ui)
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .max_scroll_height(table_h)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(260.0).clip(true))
            .column(Column::initial(110.0))
            .column(Column::initial(80.0))
            .column(Column::initial(90.0))
            .column(Column::initial(90.0))
            .column(Column::initial(100.0))
            .column(Column::initial(120.0))
            .column(Column::remainder().clip(true))
            .header(22.0, |mut h| {
                for t in [
                    "Image",
                    "Id",
                    "Age",
                    "Size",
                    "User",
                    "Healthcheck",
                    "Findings",
                    "Used by",
                ] {
                    h.col(|ui| {
                        ui.label(RichText::new(t).strong());
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, inv.images.len(), |mut row| {
                    let img = &inv.images[row.index()];
                    let findings = snapshot.assessment.image(&img.id);
                    row.set_selected(selected.as_deref() == Some(img.id.as_str()));
                    row.col(|ui| {
                        ui.label(if img.tags.is_empty() {
                            "<untagged>".to_string()
                        } else {
                            visible(&img.tags.join(", ")).into_owned()
                        });
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(img.short_id()).monospace());
                    });
                    row.col(|ui| {
                        ui.label(
                            img.created.map_or("—".into(), |t| {
                                widgets::duration((now - t).num_seconds())
                            }),
                        );
                    });
                    row.col(|ui| {
                        ui.label(widgets::bytes(img.size as f64));
                    });
                    row.col(|ui| {
                        ui.label(if img.user.is_empty() {
                            "root"
                        } else {
                            img.user.as_str()
                        });
                    });
                    row.col(|ui| {
                        ui.label(
                            if img.healthcheck.as_ref().is_some_and(|h| !h.is_disabled()) {
                                "yes"
                            } else {
                                "no"
                            },
                        );
                    });
                    row.col(|ui| {
                        let counts = SeverityCounts::active(findings);
                        if counts.is_empty() {
                            ui.label(RichText::new("none").weak());
                        } else {
                            widgets::counts(ui, &counts);
                            if counts.highest() == Some(Severity::Info) {
                                ui.label(RichText::new("info").weak());
                            }
                        }
                    });
                    row.col(|ui| {
                        let users: Vec<&str> = inv
                            .containers_using(&img.id)
                            .map(|c| c.name.as_str())
                            .collect();
                        ui.label(if users.is_empty() {
                            "—".into()
                        } else {
                            visible(&users.join(", ")).into_owned()
                        });
                    });
                    if row.response().clicked() {
                        clicked = Some(img.id.clone());
                    }
                });
            });
    });
    if let Some(id) = clicked {
        state.selected_image = if state.selected_image.as_ref() == Some(&id) {
            None
        } else {
            Some(id)
        };
    }
    if let Some(id) = &state.selected_image
        && let Some(img) = inv.image_by_id(id)
    {
        ui.separator();
        ui.heading(visible(&img.display_name()));
        egui::ScrollArea::vertical()
            .id_salt("image_findings")
            .show(ui, |ui| {
                container_panel::findings(ui, snapshot.assessment.image(&img.id));
                ui.add_space(6.0);
                ui.label(RichText::new("Build history (newest first)").strong());
                for h in &img.history {
                    ui.label(
                        RichText::new(visible(h.created_by.trim()))
                            .monospace()
                            .small(),
                    );
                }
            });
    }
}
