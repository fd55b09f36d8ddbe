//! The command palette (Ctrl+K): type to jump to a container, an image, a
//! rule, a CVE id or a view, or to run one of the main actions (refresh,
//! export, baseline, theme). ↑/↓ choose, Enter runs, Esc closes.

use egui::{Key, KeyboardShortcut, Modifiers, RichText, Ui};

use super::Action;
use crate::model::visible;
use crate::settings::ThemeChoice;
use crate::ui::state::{Mode, State, View};

/// Entries shown at once.
pub const SHOWN: usize = 12;

pub use crate::ui::state::Palette;

/// What an entry does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Open a view.
    View(View),
    /// Open a container.
    Container(crate::ui::state::RowKey),
    /// (engine name, image id)
    Image(String, String),
    /// The inventory filtered to a rule's containers.
    Rule(&'static str),
    /// The Images view searching for this (a CVE id, a package).
    SearchImages(String),
    /// Read again.
    Refresh,
    /// Open the export dialog.
    Export,
    /// Load a baseline.
    Baseline,
    /// Switch theme.
    Theme(ThemeChoice),
    /// Open the settings.
    Settings,
}

/// One line of the command palette.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// What it is, in one word: view, action, container, image, rule, search.
    pub kind: &'static str,
    /// What it shows.
    pub label: String,
    /// What choosing it does.
    pub target: Target,
}

/// Ctrl+K (Cmd+K on a Mac) opens or closes it.
pub const SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::K);

/// Every entry, in order: actions and views, then containers, images,
/// rules.
fn entries(state: &State) -> Vec<Entry> {
    let mut out = Vec::new();
    for (view, name) in [
        (View::Overview, "Overview"),
        (View::Containers, "Containers"),
        (View::Activity, "Activity"),
        (View::Images, "Images"),
        (View::Engine, "Engine"),
    ] {
        out.push(Entry {
            kind: "view",
            label: format!("Go to {name}"),
            target: Target::View(view),
        });
    }
    if state.mode == Mode::Live {
        out.push(Entry {
            kind: "action",
            label: "Refresh: scan the engines now".into(),
            target: Target::Refresh,
        });
    }
    let has_data = state.has_data();
    if has_data {
        out.push(Entry {
            kind: "action",
            label: "Export a report…".into(),
            target: Target::Export,
        });
        out.push(Entry {
            kind: "action",
            label: "Load a baseline report…".into(),
            target: Target::Baseline,
        });
    }
    for (t, name) in [
        (ThemeChoice::Dark, "dark"),
        (ThemeChoice::Light, "light"),
        (ThemeChoice::System, "as the system"),
    ] {
        out.push(Entry {
            kind: "action",
            label: format!("Theme: {name}"),
            target: Target::Theme(t),
        });
    }
    out.push(Entry {
        kind: "action",
        label: "Settings".into(),
        target: Target::Settings,
    });
    for r in &state.inventory.rows {
        let label = if r.engine.is_empty() {
            format!("{} — {}", r.name, r.image)
        } else {
            format!("{} — {} · {}", r.name, r.image, r.engine)
        };
        out.push(Entry {
            kind: "container",
            label,
            target: Target::Container(r.key()),
        });
    }
    for (engine, snap) in state.labelled_snapshots() {
        for img in &snap.inventory.images {
            let name = visible(&img.display_name()).into_owned();
            out.push(Entry {
                kind: "image",
                label: if state.is_fleet() {
                    format!("{name} · {}", visible(&engine))
                } else {
                    name
                },
                target: Target::Image(engine.clone(), img.id.clone()),
            });
        }
    }
    for r in crate::rules::ALL {
        out.push(Entry {
            kind: "rule",
            label: format!("{} — {}", r.id, r.title),
            target: Target::Rule(r.id),
        });
    }
    out
}

/// The entries matching `query`: every word in the label (any case); a
/// query that names a CVE or a package also offers an image search first.
pub fn matches(state: &State, query: &str) -> Vec<Entry> {
    let q = query.trim().to_lowercase();
    let words: Vec<&str> = q.split_whitespace().collect();
    let search = (!q.is_empty()).then(|| Entry {
        kind: "search",
        label: format!(
            "Search images for “{}” (CVE id, package, image)",
            query.trim()
        ),
        target: Target::SearchImages(query.trim().to_string()),
    });
    let mut found: Vec<Entry> = entries(state)
        .into_iter()
        .filter(|e| {
            let label = e.label.to_lowercase();
            words.iter().all(|w| label.contains(w))
        })
        .collect();
    if q.starts_with("cve-") {
        // A CVE id: the search is what is meant; the rest follows.
        return search.into_iter().chain(found).collect();
    }
    // Names that start with the query come first, the search last.
    found.sort_by_key(|e| {
        let label = e.label.to_lowercase();
        !words.first().is_some_and(|w| label.starts_with(w))
    });
    found.extend(search);
    found
}

/// Do what an entry says: edit the view state, or return the action the
/// App runs.
pub fn run(state: &mut State, target: Target) -> Option<Action> {
    match target {
        Target::View(v) => state.view = v,
        Target::Container(key) => {
            state.view = View::Containers;
            state.inventory.selected = Some(key);
            state.inventory.scroll_to_selected = true;
        }
        Target::Image(engine, id) => {
            state.view = View::Images;
            state.images.selected = Some((engine, id));
        }
        Target::Rule(id) => {
            state.inventory.filter = crate::ui::state::Filter {
                rule: Some(id),
                ..Default::default()
            };
            state.view = View::Containers;
            state.filter_changed();
        }
        Target::SearchImages(q) => {
            state.view = View::Images;
            state.images.search = q;
        }
        Target::Refresh => return Some(Action::Refresh),
        Target::Export => state.dialogs.show_export = true,
        Target::Baseline => return Some(Action::LoadBaseline),
        Target::Theme(t) => state.settings.theme = t,
        Target::Settings => state.dialogs.show_settings = true,
    }
    None
}

/// Open or close on Ctrl+K; draw it while open.
pub fn show(ui: &mut Ui, state: &mut State) -> Option<Action> {
    if ui.input_mut(|i| i.consume_shortcut(&SHORTCUT)) {
        state.palette = match state.palette {
            Some(_) => None,
            None => Some(Palette::default()),
        };
    }
    let mut palette = state.palette.take()?;
    let (down, up, enter, esc) = ui.input_mut(|i| {
        (
            i.consume_key(Modifiers::NONE, Key::ArrowDown),
            i.consume_key(Modifiers::NONE, Key::ArrowUp),
            i.consume_key(Modifiers::NONE, Key::Enter),
            i.consume_key(Modifiers::NONE, Key::Escape),
        )
    });
    if esc {
        return None;
    }
    let found = matches(state, &palette.query);
    if down {
        palette.selected = (palette.selected + 1).min(found.len().saturating_sub(1));
    }
    if up {
        palette.selected = palette.selected.saturating_sub(1);
    }
    palette.selected = palette.selected.min(found.len().saturating_sub(1));
    let mut chosen = enter
        .then(|| found.get(palette.selected).cloned())
        .flatten();
    let mut open = true;
    egui::Window::new("Go to or run…")
        .id(egui::Id::unique("command_palette"))
        .collapsible(false)
        .resizable(false)
        .title_bar(false)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
        .fixed_size([560.0, 0.0])
        .show(ui.ctx(), |ui| {
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut palette.query)
                        .hint_text("Container, image, rule, CVE id, view or action (Esc closes)")
                        .desired_width(f32::INFINITY),
                )
                .on_hover_text("Go to or run");
            edit.widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, "Go to or run")
            });
            // The palette keeps the keyboard while it is open.
            if !edit.has_focus() {
                edit.request_focus();
            }
            if edit.changed() {
                palette.selected = 0;
            }
            ui.separator();
            if found.is_empty() {
                ui.label(RichText::new("Nothing matches.").weak());
            }
            let start = palette.selected.saturating_sub(SHOWN - 1);
            for (i, e) in found.iter().enumerate().skip(start).take(SHOWN) {
                ui.horizontal(|ui| {
                    ui.label(RichText::new(e.kind).small().weak().monospace());
                    let r = ui.selectable_label(i == palette.selected, visible(&e.label));
                    if r.clicked() {
                        chosen = Some(e.clone());
                    }
                });
            }
            if found.len() > SHOWN {
                ui.label(
                    RichText::new(format!("{} matches: type more to narrow", found.len()))
                        .small()
                        .weak(),
                );
            }
            if ui.input(|i| i.pointer.any_click()) && !ui.ui_contains_pointer() {
                open = false;
            }
        });
    match chosen {
        Some(e) => run(state, e.target),
        None => {
            if open {
                state.palette = Some(palette);
            }
            None
        }
    }
}
