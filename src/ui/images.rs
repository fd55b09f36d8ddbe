//! Images: tags, age, size, user, healthcheck, known vulnerabilities,
//! findings, and which containers use each one; the vulnerability data's
//! age and its Update button; a search that answers "is anything here
//! affected by CVE-…?".

use egui::{RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::{Action, container_panel, theme, widgets};
use crate::model::packages::{FixState, SpecialFiles, VulnState, Vulnerability};
use crate::model::{Image, Inventory, Severity, SeverityCounts, visible};
use crate::ui::state::State;

/// Does this image (or a container of it with its own packages) match the
/// search: its names, or a vulnerability id, advisory or package?
fn matches(inv: &Inventory, img: &Image, q: &str) -> bool {
    if q.is_empty() {
        return true;
    }
    let hit = |v: &Vulnerability| {
        v.id.to_lowercase().contains(q)
            || v.package.to_lowercase().contains(q)
            || v.advisories.iter().any(|a| a.to_lowercase().contains(q))
            || v.binaries.iter().any(|b| b.to_lowercase().contains(q))
    };
    img.tags.iter().any(|t| t.to_lowercase().contains(q))
        || img.id.contains(q)
        || img.vulns.vulnerabilities().iter().any(hit)
        // A package of any ecosystem, vulnerable or not.
        || img.packages.as_ref().is_some_and(|p| {
            p.packages
                .iter()
                .any(|pk| pk.name.to_lowercase().contains(q) || pk.path.to_lowercase().contains(q))
        })
        || inv
            .containers_using(&img.id)
            .any(|c| c.vulns.vulnerabilities().iter().any(hit))
}

/// The database line: age, records, Update button (never automatic).
fn database(ui: &mut Ui, state: &State) -> Option<Action> {
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Vulnerability data:").strong());
        let updating = state.vulndb_progress.is_some();
        match &state.vulndb {
            None => {
                ui.label(RichText::new("loading…").weak());
            }
            Some(Ok(meta)) => {
                let (age, stale) = crate::vulndb::store::age(meta, chrono::Utc::now());
                // Imported record files are many: name a few.
                let mut sources: Vec<&str> =
                    meta.sources.iter().take(4).map(|s| s.name.as_str()).collect();
                let more = meta.sources.len().saturating_sub(4);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                if sources.is_empty() {
                    sources.push("no source");
                }
                let exploits = if meta.exploits.is_empty() {
                    String::new()
                } else {
                    format!("; {}", meta.exploits)
                };
                let text = format!(
                    "{} records ({}{more}), built {age}{exploits}",
                    meta.records,
                    sources.join(", ")
                );
                if stale {
                    widgets::severity_icon(ui, Severity::Medium);
                    ui.label(
                        RichText::new(format!("{text} — older than a week: update it"))
                            .color(theme::STALE_AMBER),
                    );
                } else {
                    ui.label(text);
                }
            }
            Some(Err(why)) => {
                widgets::severity_icon(ui, Severity::Medium);
                ui.label(RichText::new(visible(why)).color(theme::STALE_AMBER));
            }
        }
        if let Some(p) = &state.vulndb_progress {
            ui.spinner();
            ui.label(match p {
                crate::sources::osv::Progress::Download { name, done, total } => match total {
                    Some(t) if *t > 0 => format!(
                        "downloading {name}: {} of {}",
                        widgets::bytes(*done as f64),
                        widgets::bytes(*t as f64)
                    ),
                    _ => format!("downloading {name}: {}", widgets::bytes(*done as f64)),
                },
                crate::sources::osv::Progress::Importing => "verifying and indexing…".into(),
            });
        }
        if ui
            .add_enabled(!updating && state.mode == crate::ui::state::Mode::Live, egui::Button::new("Update"))
            .on_hover_text(
                "Download the OSV data for Debian, Ubuntu and Alpine from osv-vulnerabilities.\
                 storage.googleapis.com (a few hundred MB) and replace the local database. \
                 shipshape never downloads anything unless you press this (or run `shipshape db update`).",
            )
            .clicked()
        {
            action = Some(Action::UpdateVulnDb);
        }
    });
    action
}

/// How many "fix first" rows are shown.
const FIX_FIRST_SHOWN: usize = 5;

/// "Fix first": the known vulnerabilities that matter most, each in the
/// container that carries it, with the reasons (known exploited, in use,
/// running, reachable); a click opens the container.
fn fix_first(ui: &mut Ui, state: &mut State) {
    let rows = &state.images.fix_first;
    if rows.is_empty() {
        return;
    }
    let mut open: Option<(String, String)> = None;
    let critical = theme::severity_color(Severity::Critical, ui.visuals().dark_mode);
    let fleet = state.is_fleet();
    egui::CollapsingHeader::new(RichText::new("Fix first").strong())
        .id_salt("fix_first")
        .default_open(true)
        .show(ui, |ui| {
            egui::Grid::new("fix_first_grid")
                .striped(true)
                .num_columns(4)
                .spacing([10.0, 3.0])
                .show(ui, |ui| {
                    for (engine, r) in rows.iter().take(FIX_FIRST_SHOWN) {
                        widgets::severity_badge(ui, r.severity);
                        ui.label(RichText::new(visible(&r.id)).monospace());
                        let who = if fleet {
                            format!(
                                "{} {} in {} ({engine})",
                                r.package, r.installed, r.container
                            )
                        } else {
                            format!("{} {} in {}", r.package, r.installed, r.container)
                        };
                        if ui
                            .link(visible(&who))
                            .on_hover_text("Open the container")
                            .clicked()
                        {
                            open = Some((engine.clone(), r.container_id.clone()));
                        }
                        let text = visible(&r.reasons.join(" · ")).into_owned();
                        let kev = r
                            .reasons
                            .first()
                            .is_some_and(|x| x.starts_with("known exploited"));
                        let rich = if kev {
                            RichText::new(text.clone()).color(critical)
                        } else {
                            RichText::new(text.clone())
                        };
                        ui.add(egui::Label::new(rich).truncate())
                            .on_hover_text(text);
                        ui.end_row();
                    }
                });
            if rows.len() > FIX_FIRST_SHOWN {
                ui.label(
                    RichText::new(format!(
                        "and {} more ranked below them (the JSON report lists the first {})",
                        rows.len() - FIX_FIRST_SHOWN,
                        crate::report::PRIORITIES_SHOWN
                    ))
                    .weak(),
                );
            }
        });
    if let Some((_, id)) = open {
        state.show_container(&id);
    }
}

/// How a signature cell is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    /// Verified.
    Good,
    /// Unsigned, another key, another digest, invalid.
    Bad,
    /// Not checked (never shown as a pass).
    Unknown,
    /// No requirement covers the image.
    None,
}

/// The Signature column: (text, tone, hover text).
fn signature_cell(
    integrity: Option<&crate::model::integrity::ImageIntegrity>,
) -> (String, Tone, String) {
    use crate::model::integrity::{Integrity, short_key};
    let Some(i) = integrity else {
        return (
            "—".into(),
            Tone::None,
            "No signature requirement of the policy covers this image ([integrity] in the \
             policy, docs/integrity.md)."
                .into(),
        );
    };
    let mut hover = i.outcome.describe();
    if let Some(t) = i.fetched {
        hover.push_str(&format!(
            " (signatures fetched {})",
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    let (text, tone) = match &i.outcome {
        Integrity::Verified { key } => (
            format!(
                "✔ {}",
                i.signer
                    .clone()
                    .unwrap_or_else(|| short_key(key).to_string())
            ),
            Tone::Good,
        ),
        Integrity::Unsigned => ("unsigned".into(), Tone::Bad),
        Integrity::SignedByOtherKey { .. } => ("other key".into(), Tone::Bad),
        Integrity::WrongDigest { .. } => ("another digest's".into(), Tone::Bad),
        Integrity::Invalid { .. } => ("invalid".into(), Tone::Bad),
        Integrity::NotChecked { .. } => ("not checked".into(), Tone::Unknown),
    };
    (text, tone, hover)
}

/// Worst vulnerability severity, for the column's icon.
fn worst(v: &VulnState) -> Option<Severity> {
    v.vulnerabilities()
        .iter()
        .filter(|v| v.state != FixState::Unimportant)
        .map(|v| v.severity)
        .max()
}

/// Draws the Images view.
pub fn show(ui: &mut Ui, state: &mut State) -> Option<Action> {
    let fleet = state.is_fleet();
    let engines = state.labelled_snapshots();
    if engines.is_empty() {
        ui.label(RichText::new("Waiting for the first scan…").weak());
        return None;
    }
    let mut action = database(ui, state);
    fix_first(ui, state);
    ui.horizontal(|ui| {
        let search_label = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut state.images.search)
                .hint_text("CVE id, package or image")
                .desired_width(260.0),
        )
        .labelled_by(search_label.id);
        if fleet {
            // Each engine holds its own images; all of them by default.
            let engine_label = ui.label("Engine");
            let shown = state
                .images
                .engine
                .as_deref()
                .map_or("every engine".into(), |e| visible(e).into_owned());
            egui::ComboBox::from_id_salt("images_engine")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut state.images.engine, None, "every engine");
                    for (label, _) in &engines {
                        ui.selectable_value(
                            &mut state.images.engine,
                            Some(label.clone()),
                            visible(label).into_owned(),
                        );
                    }
                })
                .response
                .labelled_by(engine_label.id);
        }
    });
    let q = state.images.search.trim().to_lowercase();
    // (engine, image) pairs that pass the engine filter and the search.
    let shown: Vec<(usize, usize)> = engines
        .iter()
        .enumerate()
        .filter(|(_, (label, _))| state.images.engine.as_ref().is_none_or(|e| e == label))
        .flat_map(|(e, (_, snap))| {
            let inv = &snap.inventory;
            (0..inv.images.len())
                .filter(|&i| matches(inv, &inv.images[i], &q))
                .map(move |i| (e, i))
        })
        .collect();
    if !q.is_empty() {
        let users: usize = shown
            .iter()
            .map(|&(e, i)| {
                let inv = &engines[e].1.inventory;
                inv.containers_using(&inv.images[i].id).count()
            })
            .sum();
        let unassessed = engines
            .iter()
            .flat_map(|(_, s)| s.inventory.images.iter())
            .filter(|i| {
                matches!(
                    *i.vulns,
                    VulnState::NotAssessed { .. } | VulnState::NotScanned
                )
            })
            .count();
        let text = if shown.is_empty() {
            format!(
                "“{}” is in none of the images shipshape could assess ({unassessed} could not be assessed).",
                state.images.search.trim()
            )
        } else {
            format!(
                "“{}”: {} image(s), used by {users} container(s).",
                state.images.search.trim(),
                shown.len()
            )
        };
        ui.label(RichText::new(visible(&text)).strong());
    }
    let now = chrono::Utc::now();
    let mut clicked = None;
    let selected = state.images.selected.clone();
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
            .columns(Column::initial(150.0).clip(true), usize::from(fleet))
            .column(Column::initial(260.0).clip(true))
            .column(Column::initial(110.0))
            .column(Column::initial(80.0))
            .column(Column::initial(90.0))
            .column(Column::initial(90.0))
            .column(Column::initial(100.0))
            .column(Column::initial(120.0))
            .column(Column::initial(210.0).clip(true))
            .column(Column::initial(130.0).clip(true))
            .column(Column::remainder().clip(true))
            .header(22.0, |mut h| {
                if fleet {
                    h.col(|ui| {
                        ui.label(RichText::new("Engine").strong());
                    });
                }
                for t in [
                    "Image",
                    "Id",
                    "Age",
                    "Size",
                    "User",
                    "Healthcheck",
                    "Findings",
                    "Vulnerabilities",
                    "Signature",
                    "Used by",
                ] {
                    h.col(|ui| {
                        ui.label(RichText::new(t).strong());
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, shown.len(), |mut row| {
                    let (e, i) = shown[row.index()];
                    let (label, snapshot) = &engines[e];
                    let inv = &snapshot.inventory;
                    let img = &inv.images[i];
                    let findings = snapshot.assessment.image(&img.id);
                    row.set_selected(
                        selected
                            .as_ref()
                            .is_some_and(|(l, id)| l == label && *id == img.id),
                    );
                    if fleet {
                        row.col(|ui| {
                            ui.label(visible(label));
                        });
                    }
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
                        if let Some(w) = worst(&img.vulns) {
                            widgets::severity_icon(ui, w);
                        }
                        let text = img.vulns.summary();
                        let r = ui.label(match img.vulns.as_ref() {
                            VulnState::NotAssessed { .. } => RichText::new(text).weak(),
                            _ => RichText::new(text),
                        });
                        if let VulnState::NotAssessed { reason } = img.vulns.as_ref() {
                            r.on_hover_text(visible(reason));
                        }
                    });
                    row.col(|ui| {
                        let (text, tone, hover) = signature_cell(img.integrity.as_ref());
                        let text = RichText::new(visible(&text));
                        let text = match tone {
                            Tone::Good => text.color(theme::OK_GREEN),
                            Tone::Bad => text.color(theme::severity_color(
                                Severity::High,
                                ui.visuals().dark_mode,
                            )),
                            Tone::Unknown => text.color(theme::STALE_AMBER),
                            Tone::None => text.weak(),
                        };
                        ui.label(text).on_hover_text(visible(&hover));
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
                        clicked = Some((label.clone(), img.id.clone()));
                    }
                });
            });
    });
    if let Some(id) = clicked {
        state.images.selected = if state.images.selected.as_ref() == Some(&id) {
            None
        } else {
            Some(id)
        };
    }
    if let Some((label, id)) = state.images.selected.clone()
        && let Some((_, snapshot)) = engines.iter().find(|(l, _)| *l == label)
        && let Some(img) = snapshot.inventory.image_by_id(&id)
    {
        let inv = &snapshot.inventory;
        ui.separator();
        ui.horizontal(|ui| {
            ui.heading(visible(&img.display_name()));
            ui.add_space(12.0);
            if let Some(a) = bill_buttons(ui, state, &label, img) {
                action = Some(a);
            }
        });
        egui::ScrollArea::vertical()
            .id_salt("image_findings")
            .show(ui, |ui| {
                vulnerabilities(ui, state, inv, img);
                special_files(ui, &img.special_files);
                ui.add_space(6.0);
                ui.label(RichText::new("Other findings").strong());
                let others: Vec<crate::model::Finding> = snapshot
                    .assessment
                    .image(&img.id)
                    .iter()
                    .filter(|f| f.rule_id != crate::rules::vulns::KNOWN_VULNERABILITIES.id)
                    .cloned()
                    .collect();
                container_panel::findings(ui, &others);
                ui.add_space(6.0);
                ui.label(RichText::new("Build history (newest first)").strong());
                for h in &img.history {
                    ui.label(
                        // A build step may carry a secret (`ENV API_TOKEN=…`,
                        // a build argument): shown with its value hidden.
                        RichText::new(visible(&crate::model::redact::hide(h.created_by.trim())))
                            .monospace()
                            .small(),
                    );
                }
            });
    }
    action
}

/// "Bill of materials: CycloneDX… SPDX…": save what was read of the image
/// (its OS and application packages, their vulnerabilities) as the
/// `sbom` command does. Not offered before its packages were read.
fn bill_buttons(ui: &mut Ui, state: &State, engine: &str, img: &Image) -> Option<Action> {
    use crate::report::sbom::SbomFormat;
    let read = img.packages.is_some();
    let busy = state.dialogs.export_running;
    let mut chosen = None;
    ui.label(RichText::new("Bill of materials").weak());
    for format in SbomFormat::ALL {
        let label = match format {
            SbomFormat::CycloneDx => "CycloneDX…",
            SbomFormat::Spdx => "SPDX…",
        };
        let r = ui.add_enabled(read && !busy, egui::Button::new(label).small());
        let r = if !read {
            r.on_disabled_hover_text(
                "Its packages are not read (yet): see why under Vulnerabilities — an image \
                 whose layers only the engine's export gives needs SHIPSHAPE_EXPORT_IMAGES=1.",
            )
        } else if busy {
            r.on_disabled_hover_text("An export is running.")
        } else {
            r.on_hover_text(format!(
                "Save its packages (OS and application), with package URLs, licences, where each \
                 was found and their known vulnerabilities, as {} JSON",
                format.name()
            ))
        };
        if r.clicked() {
            chosen = Some(Action::ExportSbom {
                engine: engine.to_string(),
                image: img.id.clone(),
                format,
            });
        }
    }
    chosen
}

/// The image's known vulnerabilities: severity, id, binary ← source,
/// installed, fixed or "no fix", and the containers that run it.
fn vulnerabilities(ui: &mut Ui, state: &mut State, inv: &Inventory, img: &Image) {
    ui.horizontal(|ui| {
        ui.label(RichText::new("Known vulnerabilities").strong());
        ui.checkbox(&mut state.images.only_fixable, "only fixable");
        ui.checkbox(&mut state.images.show_unimportant, "show unimportant");
        let sort_label = ui.label("Sort by");
        egui::ComboBox::from_id_salt("vuln_sort")
            .selected_text(state.images.sort.label())
            .show_ui(ui, |ui| {
                for s in crate::ui::state::VulnSort::ALL {
                    ui.selectable_value(&mut state.images.sort, s, s.label());
                }
            })
            .response
            .labelled_by(sort_label.id);
    });
    match img.vulns.as_ref() {
        VulnState::NotScanned => {
            ui.label(RichText::new("Not read yet.").weak());
            return;
        }
        VulnState::NotAssessed { reason } => {
            ui.horizontal_wrapped(|ui| {
                widgets::severity_icon(ui, Severity::Low);
                ui.label(
                    RichText::new(format!("Not assessed: {}", visible(reason)))
                        .color(theme::STALE_AMBER),
                );
            });
            return;
        }
        VulnState::Assessed {
            ecosystem,
            packages,
            not_assessed,
            ..
        } => {
            for why in not_assessed {
                ui.horizontal_wrapped(|ui| {
                    widgets::severity_icon(ui, Severity::Low);
                    ui.label(
                        RichText::new(format!("Not assessed: {}", visible(why)))
                            .color(theme::STALE_AMBER),
                    );
                });
            }
            let (os, from, by) = img.packages.as_ref().map_or_else(Default::default, |p| {
                (p.os.display(), p.sources.join(", "), p.read_by.clone())
            });
            let os = if os.is_empty() {
                String::new()
            } else {
                format!("{os} ")
            };
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(" — through {by}")
            };
            ui.label(
                RichText::new(visible(&format!(
                    "{os}({ecosystem}): {packages} packages, read from {from}{by}"
                )))
                .weak(),
            );
        }
    }
    let mut list: Vec<&Vulnerability> = img
        .vulns
        .vulnerabilities()
        .iter()
        .filter(|v| state.images.show_unimportant || v.state != FixState::Unimportant)
        .filter(|v| !state.images.only_fixable || v.state == FixState::Fixed)
        .collect();
    let epss = |v: &Vulnerability| v.epss.map_or(-1.0, |e| e.score);
    match state.images.sort {
        crate::ui::state::VulnSort::Severity => {}
        crate::ui::state::VulnSort::Exploited => list.sort_by(|a, b| {
            b.kev
                .is_some()
                .cmp(&a.kev.is_some())
                .then(epss(b).total_cmp(&epss(a)))
                .then(b.severity.cmp(&a.severity))
        }),
        crate::ui::state::VulnSort::Epss => list.sort_by(|a, b| {
            epss(b)
                .total_cmp(&epss(a))
                .then(b.severity.cmp(&a.severity))
        }),
    }
    let layers = img.packages.as_ref().map_or(0, |p| p.layer_count);
    // Where each language package was found, and the build step of its layer.
    let found_in = |v: &Vulnerability| -> Option<String> {
        let pkgs = img.packages.as_ref()?;
        let p = pkgs
            .packages
            .iter()
            .find(|p| p.ecosystem == v.ecosystem && v.binaries.contains(&p.path))?;
        let step = p
            .layer
            .and_then(|l| Some((l, img.layer_step(l, layers)?)))
            .map(|(l, h)| {
                format!(
                    "layer {} of {layers}: {}",
                    l + 1,
                    crate::model::redact::hide(h.created_by.trim())
                )
            });
        Some(match step {
            Some(s) => format!("{}\n{s}", p.path),
            None => p.path.clone(),
        })
    };
    let hidden = img.vulns.vulnerabilities().len() - list.len();
    if list.is_empty() {
        ui.label(RichText::new("None known.").color(theme::OK_GREEN));
    }
    let users: Vec<String> = inv
        .containers_using(&img.id)
        .map(|c| c.name.clone())
        .collect();
    egui::Grid::new("vulns")
        .striped(true)
        .num_columns(8)
        .spacing([10.0, 3.0])
        .show(ui, |ui| {
            for t in [
                "Severity",
                "Vulnerability",
                "Exploited",
                "Ecosystem",
                "Package",
                "Installed",
                "Fixed in",
                "Found in",
            ] {
                ui.label(RichText::new(t).strong());
            }
            ui.end_row();
            for v in &list {
                widgets::severity_badge(ui, v.severity).on_hover_text(visible(&v.rated_by));
                ui.label(RichText::new(visible(&v.id)).monospace())
                    .on_hover_text(visible(&format!(
                        "{}\n{}",
                        v.advisories.join(", "),
                        v.summary
                    )));
                match (&v.kev, v.epss) {
                    (Some(k), e) => {
                        let text = if k.ransomware {
                            "KEV · ransomware"
                        } else {
                            "KEV"
                        };
                        ui.label(RichText::new(text).strong().color(theme::severity_color(
                            Severity::Critical,
                            ui.visuals().dark_mode,
                        )))
                        .on_hover_text(visible(&format!(
                            "In CISA's Known Exploited Vulnerabilities catalogue since {}: {}{}",
                            k.added,
                            k.name,
                            e.map_or(String::new(), |e| format!(
                                "\nEPSS {:.1}% (percentile {:.0})",
                                e.score * 100.0,
                                e.percentile * 100.0
                            ))
                        )));
                    }
                    (None, Some(e)) => {
                        ui.label(format!("EPSS {:.1}%", e.score * 100.0)).on_hover_text(format!(
                            "FIRST's EPSS: a {:.1}% chance of exploitation activity in the next 30 \
                             days (percentile {:.0})",
                            e.score * 100.0,
                            e.percentile * 100.0
                        ));
                    }
                    (None, None) => {
                        ui.label(RichText::new("—").weak());
                    }
                }
                ui.label(v.ecosystem.label());
                if v.ecosystem == crate::model::packages::Ecosystem::Os {
                    let bins = v
                        .binaries
                        .iter()
                        .filter(|b| **b != v.package)
                        .cloned()
                        .collect::<Vec<_>>();
                    ui.label(visible(&if bins.is_empty() {
                        v.package.clone()
                    } else {
                        format!("{} ← {}", bins.join(", "), v.package)
                    }));
                } else {
                    // A language package: where each copy was found.
                    ui.label(visible(&v.package))
                        .on_hover_text(visible(&format!("Found at:\n{}", v.binaries.join("\n"))));
                }
                ui.label(RichText::new(visible(&v.installed)).monospace());
                match (v.state, &v.fixed) {
                    (FixState::Fixed, Some(f)) => {
                        ui.label(RichText::new(visible(f)).monospace().color(theme::OK_GREEN));
                    }
                    (FixState::Unimportant, _) => {
                        ui.label(RichText::new("unimportant (vendor)").weak());
                    }
                    _ => {
                        ui.label(RichText::new("no fix yet").color(theme::STALE_AMBER));
                    }
                }
                match found_in(v) {
                    Some(at) => {
                        let first = at.lines().next().unwrap_or("").to_string();
                        let step = at.lines().nth(1).map(str::to_string);
                        let shown = match &step {
                            Some(s) => format!("{first}  ({})", s.split(':').next().unwrap_or("")),
                            None => first,
                        };
                        ui.label(RichText::new(visible(&shown)).small())
                            .on_hover_text(visible(&at));
                    }
                    None => {
                        ui.label(
                            RichText::new(
                                if v.ecosystem == crate::model::packages::Ecosystem::Os {
                                    "package database"
                                } else {
                                    ""
                                },
                            )
                            .weak()
                            .small(),
                        );
                    }
                }
                ui.end_row();
            }
        });
    if hidden > 0 {
        ui.label(RichText::new(format!("{hidden} hidden by the toggles above")).weak());
    }
    if !users.is_empty() {
        ui.label(RichText::new(visible(&format!("Run by: {}", users.join(", ")))).weak());
    }
}

fn special_files(ui: &mut Ui, s: &SpecialFiles) {
    match s {
        SpecialFiles::Read {
            files,
            dirs,
            writable,
        } => {
            ui.add_space(6.0);
            ui.label(RichText::new("Setuid and setgid files").strong());
            if files.is_empty() {
                ui.label(
                    RichText::new(format!("None in {}.", dirs.join(", "))).color(theme::OK_GREEN),
                );
            }
            for f in files {
                ui.label(RichText::new(visible(&format!("{:o}  {}", f.mode, f.path))).monospace());
            }
            if !writable.is_empty() {
                ui.add_space(6.0);
                ui.label(RichText::new("World-writable where root's programs come from").strong());
                for f in writable {
                    ui.label(
                        RichText::new(visible(&format!("{:o}  {}", f.mode, f.path))).monospace(),
                    );
                }
            }
        }
        SpecialFiles::Failed { reason } => {
            ui.label(RichText::new(visible(&format!("Setuid files not read: {reason}"))).weak());
        }
        SpecialFiles::NotRead => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::integrity::{ImageIntegrity, Integrity};

    fn with(outcome: Integrity, signer: Option<&str>) -> ImageIntegrity {
        ImageIntegrity {
            digest: Some("r.io/a@sha256:00".into()),
            outcome,
            signer: signer.map(str::to_string),
            fetched: None,
        }
    }

    #[test]
    fn signature_cells() {
        assert_eq!(signature_cell(None).1, Tone::None);
        let key = "sha256:0123456789abcdef0123456789abcdef";
        let (text, tone, _) = signature_cell(Some(&with(
            Integrity::Verified { key: key.into() },
            Some("release"),
        )));
        assert_eq!((text.as_str(), tone), ("✔ release", Tone::Good));
        let (text, _, _) =
            signature_cell(Some(&with(Integrity::Verified { key: key.into() }, None)));
        assert_eq!(text, "✔ sha256:0123456789abcdef");
        for o in [
            Integrity::Unsigned,
            Integrity::SignedByOtherKey { signatures: 1 },
            Integrity::WrongDigest {
                signed: "sha256:11".into(),
            },
            Integrity::Invalid { reason: "x".into() },
        ] {
            assert_eq!(signature_cell(Some(&with(o, None))).1, Tone::Bad);
        }
        // Not checked is never shown as a pass.
        let (text, tone, hover) = signature_cell(Some(&with(
            Integrity::NotChecked {
                reason: "offline".into(),
            },
            None,
        )));
        assert_eq!((text.as_str(), tone), ("not checked", Tone::Unknown));
        assert!(hover.contains("offline"));
    }
}
