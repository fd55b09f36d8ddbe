//! Background jobs the UI starts and their results: export, baseline
//! loading, saving settings. Each runs on the runtime and reports back as
//! a [`Side`] message.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::App;
use crate::policy::Policy;
use crate::report::baseline;
use crate::report::sbom::{self, BomImage, BomMeta, Completeness, SbomFormat};
use crate::report::{Format, Report};
use crate::watch::messages::{Command, Snapshot};

/// Results of background jobs the UI started.
pub(super) enum Side {
    Notice(String, bool),
    /// From the desktop notification task.
    Alerts(crate::sources::desktop::Feedback),
    /// The tray started, or why it did not.
    Tray(Result<Arc<crate::sources::tray::TrayHandle>, String>),
    /// The tray's menu or icon was used.
    TrayAction(crate::sources::tray::TrayAction),
    Exported(Result<PathBuf, String>),
    ExportCancelled,
    /// A bill of materials written (with what it lacks), or why not.
    SbomExported {
        result: Result<(PathBuf, Completeness), String>,
        format: SbomFormat,
        image: String,
    },
    Baseline(Result<(PathBuf, Arc<Report>), String>),
    /// The hardening diff of a container's compose file (with notes).
    HardenDiff {
        id: String,
        result: Result<(String, Vec<String>), String>,
    },
}

/// What kind of file a dialog asks for: its name for people and the file
/// name ending its filter shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileKind {
    /// `HTML`, `CycloneDX 1.6`.
    pub name: &'static str,
    /// `html`, `cdx.json`.
    pub extension: &'static str,
}

impl From<Format> for FileKind {
    fn from(f: Format) -> Self {
        Self {
            name: f.name(),
            extension: f.extension(),
        }
    }
}

impl From<SbomFormat> for FileKind {
    fn from(f: SbomFormat) -> Self {
        Self {
            name: f.name(),
            extension: f.extension(),
        }
    }
}

/// Asks the user for a file: (suggested name, kind, save?) → path.
/// The default uses the native dialog (rfd, async); tests inject their own.
pub type Picker = Arc<
    dyn Fn(
            String,
            FileKind,
            bool,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<PathBuf>> + Send>>
        + Send
        + Sync,
>;

/// The system's file dialog (xdg portal), asked asynchronously.
pub fn native_picker() -> Picker {
    Arc::new(|name, kind, save| {
        Box::pin(async move {
            // A filter matches the last part of a name: `cdx.json` files
            // are offered under `json`.
            let ext = kind.extension.rsplit('.').next().unwrap_or(kind.extension);
            let dialog = rfd::AsyncFileDialog::new().add_filter(kind.name, &[ext]);
            let handle = if save {
                dialog.set_file_name(name).save_file().await
            } else {
                dialog.pick_file().await
            };
            handle.map(|h| h.path().to_path_buf())
        })
    })
}

/// Where exports go when no file dialog can be shown.
pub(super) fn fallback_dir() -> Option<PathBuf> {
    let dirs = directories::UserDirs::new()?;
    Some(
        dirs.download_dir()
            .map_or_else(|| dirs.home_dir().to_path_buf(), |d| d.to_path_buf()),
    )
}

/// Ask where to save `name`: the chosen path; `None` when the user
/// cancelled (said to the window); an error when there is nowhere to save.
async fn save_path(
    picker: &Picker,
    name: String,
    kind: FileKind,
    tx: &std::sync::mpsc::Sender<Side>,
    ctx: Option<&egui::Context>,
) -> Result<Option<PathBuf>, String> {
    let started = Instant::now();
    match picker(name.clone(), kind, true).await {
        Some(p) => Ok(Some(p)),
        // A dialog that closes at once never opened (no portal, no zenity):
        // save next to the user's files instead of silently doing nothing.
        None if started.elapsed() < Duration::from_millis(250) => match fallback_dir() {
            Some(dir) => {
                let _ = tx.send(Side::Notice(
                    "No file dialog is available here; saving into your Downloads (or home) folder."
                        .into(),
                    false,
                ));
                Ok(Some(dir.join(&name)))
            }
            None => Err("no file dialog is available and no home folder is known".into()),
        },
        None => {
            let _ = tx.send(Side::ExportCancelled);
            if let Some(c) = ctx {
                c.request_repaint();
            }
            Ok(None)
        }
    }
}

impl App {
    /// Persist settings when they changed, on the runtime.
    pub(super) fn save_settings_if_changed(&mut self) {
        if self.state.settings == self.saved_settings {
            return;
        }
        if self.state.settings.refresh_secs != self.saved_settings.refresh_secs {
            self.command(Command::SetPollInterval(Duration::from_secs(
                self.state.settings.refresh_secs,
            )));
        }
        self.saved_settings = self.state.settings.clone();
        let (Some(rt), Some(path)) = (
            &self.runtime,
            self.launch.as_ref().and_then(|l| l.settings_path.clone()),
        ) else {
            return;
        };
        let text = self.state.settings.to_toml();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn_blocking(move || {
            let result = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    crate::report::write::write_atomic(&path, text.as_bytes())
                        .map_err(|e| e.to_string())
                });
            if let Err(e) = result {
                let _ = tx.send(Side::Notice(format!("settings not saved: {e}"), true));
                if let Some(c) = ctx {
                    c.request_repaint();
                }
            }
        });
    }

    /// Write a report of what is on screen, on the runtime.
    pub fn start_export(&mut self) {
        if self.state.dialogs.export_running {
            self.state.notify(
                "An export is already running; wait for it to finish.".into(),
                false,
            );
            return;
        }
        let snapshots: Vec<Arc<Snapshot>> = self.state.snapshots().cloned().collect();
        let (Some(rt), false) = (self.runtime.clone(), snapshots.is_empty()) else {
            self.state.notify("Nothing to export yet.".into(), true);
            return;
        };
        let choice = self.state.dialogs.export;
        let visible: Option<std::collections::HashSet<String>> = choice.filtered.then(|| {
            self.state
                .inventory
                .order
                .iter()
                .map(|&i| self.state.inventory.rows[i].id.clone())
                .collect()
        });
        let policy = self
            .launch
            .as_ref()
            .map_or_else(|| Arc::new(Policy::default()), |l| l.policy.clone());
        let baseline = self.state.baseline.view.clone();
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        let name = format!(
            "shipshape-report-{}.{}",
            Utc::now().format("%Y%m%d-%H%M%S"),
            choice.format.extension()
        );
        self.state.dialogs.export_running = true;
        self.state.dialogs.show_export = false;
        rt.spawn(async move {
            let path = match save_path(&picker, name, choice.format.into(), &tx, ctx.as_ref()).await
            {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Side::Exported(Err(e)));
                    return;
                }
            };
            let result = tokio::task::spawn_blocking(move || {
                let now = Utc::now();
                // Every engine on screen, each tied to its engine.
                let parts = snapshots
                    .iter()
                    .map(|s| Ok(Report::build(&s.inventory, &s.assessment, &policy, now)))
                    .collect();
                let Some(mut report) = Report::merge(parts) else {
                    return Err("nothing to export".to_string());
                };
                if let Some(ids) = visible {
                    report.retain_containers(|c| ids.contains(&c.id));
                }
                if let Some(b) = baseline {
                    baseline::apply(&mut report, &b.report, &b.source);
                }
                let text = choice.format.render(&report);
                crate::report::write::write_atomic(&path, text.as_bytes())
                    .map(|()| path)
                    .map_err(|e| e.to_string())
            })
            .await
            .unwrap_or_else(|e| Err(format!("the export task failed: {e}")));
            let _ = tx.send(Side::Exported(result));
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    /// Ask for an earlier JSON report and compare with it.
    pub fn load_baseline(&mut self) {
        let Some(rt) = self.runtime.clone() else {
            return;
        };
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn(async move {
            let Some(path) = picker(String::new(), Format::Json.into(), false).await else {
                return;
            };
            let p = path.clone();
            let loaded = tokio::task::spawn_blocking(move || crate::report::load_baseline(&p))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            let _ = tx.send(Side::Baseline(loaded.map(|r| (path, Arc::new(r)))));
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    /// The diff of a container's compose file that hardens it: the file is
    /// read on a blocking thread; the answer comes back as a side message.
    pub fn start_harden_diff(
        &mut self,
        key: crate::ui::state::RowKey,
        seen: crate::harden::Observed,
    ) {
        let (Some(rt), Some(snapshot)) =
            (self.runtime.clone(), self.state.snapshot_of(&key).cloned())
        else {
            self.state
                .notify("That container is no longer on screen.".into(), true);
            return;
        };
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn_blocking(move || {
            let result = harden_diff(&snapshot.inventory, &key.id, &seen);
            let _ = tx.send(Side::HardenDiff { id: key.id, result });
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    /// Save a patch where the user chooses.
    pub fn start_save_patch(&mut self, name: String, text: String) {
        let Some(rt) = self.runtime.clone() else {
            return;
        };
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        rt.spawn(async move {
            let kind = FileKind {
                name: "Patch",
                extension: "patch",
            };
            let notice = match save_path(&picker, name, kind, &tx, ctx.as_ref()).await {
                Ok(Some(p)) => match tokio::fs::write(&p, text).await {
                    Ok(()) => Some((
                        format!(
                            "Patch saved to {} (apply with `patch -p1` in the project folder)",
                            p.display()
                        ),
                        false,
                    )),
                    Err(e) => Some((format!("Patch not saved to {}: {e}", p.display()), true)),
                },
                Ok(None) => None,
                Err(e) => Some((format!("Patch not saved: {e}"), true)),
            };
            if let Some((text, error)) = notice {
                let _ = tx.send(Side::Notice(text, error));
            }
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }

    /// Write the bill of materials of one image of one engine on screen,
    /// as `shipshape sbom` writes it.
    pub fn start_sbom_export(&mut self, engine: &str, image: &str, format: SbomFormat) {
        if self.state.dialogs.export_running {
            self.state.notify(
                "An export is already running; wait for it to finish.".into(),
                false,
            );
            return;
        }
        let found = self
            .state
            .labelled_snapshots()
            .into_iter()
            .find(|(label, s)| label == engine && s.inventory.image_by_id(image).is_some());
        let (Some(rt), Some((label, snapshot))) = (self.runtime.clone(), found) else {
            self.state
                .notify("That image is no longer on screen.".into(), true);
            return;
        };
        let picker = self.picker.clone();
        let (tx, ctx) = (self.side_tx.clone(), self.ctx.clone());
        let image = image.to_string();
        let shown = snapshot
            .inventory
            .image_by_id(&image)
            .map_or_else(|| image.clone(), |i| i.display_name());
        let file_stem: String = shown
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let name = format!("{file_stem}.{}", format.extension());
        self.state.dialogs.export_running = true;
        rt.spawn(async move {
            let path = match save_path(&picker, name, format.into(), &tx, ctx.as_ref()).await {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Side::SbomExported {
                        result: Err(e),
                        format,
                        image: shown,
                    });
                    return;
                }
            };
            let id = image.clone();
            let result = tokio::task::spawn_blocking(move || {
                let img = snapshot
                    .inventory
                    .image_by_id(&id)
                    .ok_or_else(|| "the image is gone".to_string())?;
                let text = sbom::render(
                    format,
                    &[BomImage {
                        image: img,
                        engine: &label,
                    }],
                    &BomMeta::fresh(),
                );
                crate::report::write::write_atomic(&path, text.as_bytes())
                    .map_err(|e| e.to_string())?;
                Ok((path, sbom::completeness(img)))
            })
            .await
            .unwrap_or_else(|e| Err(format!("the export task failed: {e}")));
            let _ = tx.send(Side::SbomExported {
                result,
                format,
                image: shown,
            });
            if let Some(c) = ctx {
                c.request_repaint();
            }
        });
    }
}

/// The hardening diff of container `id`'s compose file (blocking: reads it).
fn harden_diff(
    inv: &crate::model::Inventory,
    id: &str,
    seen: &crate::harden::Observed,
) -> Result<(String, Vec<String>), String> {
    let policy = crate::model::policy::Policy::default();
    let plan = crate::harden::plan(inv, id, &policy, seen, chrono::Utc::now())
        .ok_or("the container is gone")?;
    crate::sources::compose::read::harden_diff(&plan)
}
