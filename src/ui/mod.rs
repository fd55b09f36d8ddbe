//! Drawing. Every function here only reads and edits [`State`] — no I/O, no
//! engine calls, no locks. User intents that need the worker come back as an
//! [`Action`].

pub mod activity;
pub mod charts;
pub mod container_panel;
pub mod engine_view;
pub mod images;
pub mod inventory;
pub mod overview;
pub mod palette;
pub mod state;
pub mod theme;
pub mod toolbar;
pub mod widgets;

use crate::ui::state::{State, View};

/// What a click asks the app to do beyond editing state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read every engine again now.
    Refresh,
    /// Reconnect to the down engines now.
    ReconnectNow,
    /// Look for an engine again (the user's choice, never automatic).
    Rediscover,
    /// Download the vulnerability data (the user's choice, never automatic).
    UpdateVulnDb,
    /// Open the demo lab.
    OpenDemo,
    /// Leave the demo lab for the real engines.
    LeaveDemo,
    /// Export a report (the dialog's choice).
    Export,
    /// Load a baseline report.
    LoadBaseline,
    /// Watch the engines of the settings' list now (the user's choice).
    ApplyEngines,
    /// Work out the diff of a container's compose file that hardens it
    /// (a file read: off the UI thread).
    HardenDiff {
        /// The container.
        key: state::RowKey,
        /// What was seen of it (the charts' peaks).
        seen: crate::harden::Observed,
    },
    /// Save a patch where the user chooses.
    SavePatch {
        /// The file name offered.
        name: String,
        /// The patch.
        text: String,
    },
    /// Save the bill of materials of an image (engine label, image id).
    ExportSbom {
        /// The engine's label.
        engine: String,
        /// The image id.
        image: String,
        /// CycloneDX or SPDX.
        format: crate::report::sbom::SbomFormat,
    },
}

/// Draws the whole window; returns what the user asked for.
pub fn draw(ui: &mut egui::Ui, state: &mut State) -> Option<Action> {
    let mut action = palette::show(ui, state);
    egui::Panel::top("top_bar").show(ui, |ui| {
        action = toolbar::top_bar(ui, state).or(action.take());
    });
    if let Some(a) = toolbar::banners(ui, state) {
        action = Some(a);
    }
    egui::Panel::bottom("status_bar").show(ui, |ui| toolbar::status_bar(ui, state));
    match state.view {
        View::Overview => {
            egui::CentralPanel::default().show(ui, |ui| overview::show(ui, state));
        }
        View::Containers => {
            if let Some(a) = detail_panel(ui, state) {
                action = Some(a);
            }
            egui::CentralPanel::default().show(ui, |ui| inventory::show(ui, state));
        }
        View::Activity => {
            if let Some(a) = detail_panel(ui, state) {
                action = Some(a);
            }
            egui::CentralPanel::default().show(ui, |ui| activity::show(ui, state));
        }
        View::Images => {
            egui::CentralPanel::default().show(ui, |ui| {
                if let Some(a) = images::show(ui, state) {
                    action = Some(a);
                }
            });
        }
        View::Engine => {
            egui::CentralPanel::default().show(ui, |ui| engine_view::show(ui, state));
        }
    }
    if let Some(a) = toolbar::settings_window(ui, state) {
        action = Some(a);
    }
    if let Some(a) = toolbar::export_window(ui, state) {
        action = Some(a);
    }
    toolbar::warnings_window(ui, state);
    action
}

/// The selected container's panel, on the right.
fn detail_panel(ui: &mut egui::Ui, state: &mut State) -> Option<Action> {
    if state.inventory.selected.is_some() {
        egui::Panel::right("detail")
            .resizable(true)
            .default_size(520.0)
            .min_size(360.0)
            .max_size(ui.available_width() * 0.5)
            .show(ui, |ui| container_panel::show(ui, state))
            .inner
    } else {
        None
    }
}
