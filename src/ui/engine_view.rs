//! The engine: daemon-level findings, version and security options, and the
//! host (from sysinfo).

use egui::{RichText, Ui};

use super::{container_panel, widgets};
use crate::app::State;

pub fn show(ui: &mut Ui, state: &mut State) {
    let Some(snapshot) = state.snapshot.clone() else {
        ui.label(RichText::new("Waiting for the first scan…").weak());
        return;
    };
    let e = &snapshot.inventory.engine;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.columns(2, |cols| {
            let ui = &mut cols[0];
            ui.heading("Engine");
            egui::Grid::new("engine_facts")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    let mut row = |k: &str, v: String| {
                        ui.label(RichText::new(k).strong());
                        ui.label(v);
                        ui.end_row();
                    };
                    row("Product", format!("{} {}", e.product.as_str(), e.version));
                    row("API version", e.api_version.clone());
                    row("Found by", e.found_by.clone());
                    row("Endpoint", e.endpoint.clone());
                    row("Host OS", e.os.clone());
                    row("Kernel", e.kernel.clone());
                    row(
                        "Rootless",
                        if e.security.rootless {
                            "yes".into()
                        } else {
                            "no".into()
                        },
                    );
                    row(
                        "User namespaces",
                        if e.security.userns {
                            "remapped".into()
                        } else {
                            "not remapped".into()
                        },
                    );
                    row(
                        "AppArmor / SELinux",
                        format!(
                            "{} / {}",
                            if e.security.apparmor { "on" } else { "off" },
                            if e.security.selinux { "on" } else { "off" }
                        ),
                    );
                    row(
                        "Seccomp",
                        e.security.seccomp.clone().unwrap_or_else(|| "off".into()),
                    );
                    row("Security options", e.security.raw.join("\n"));
                    row("Logging driver", e.logging_driver.clone());
                    row(
                        "Live restore",
                        if e.live_restore {
                            "on".into()
                        } else {
                            "off".into()
                        },
                    );
                    row("Data directory", e.docker_root_dir.clone());
                    row(
                        "CPUs / memory",
                        format!("{} / {}", e.ncpu, widgets::bytes(e.mem_total as f64)),
                    );
                });
            let ui = &mut cols[1];
            ui.heading("This machine");
            match &state.host_info {
                Some(h) => {
                    egui::Grid::new("host_facts")
                        .num_columns(2)
                        .striped(true)
                        .show(ui, |ui| {
                            let mut row = |k: &str, v: String| {
                                ui.label(RichText::new(k).strong());
                                ui.label(v);
                                ui.end_row();
                            };
                            row("Host name", h.hostname.clone());
                            row("OS", h.os.clone());
                            row("Kernel", h.kernel.clone());
                            row("CPUs", h.cpus.to_string());
                            row("Memory", widgets::bytes(h.mem_total as f64));
                        });
                }
                None => {
                    ui.label(
                        RichText::new(if state.mode == crate::app::Mode::Demo {
                            "Not shown in the demo."
                        } else {
                            "Reading host information…"
                        })
                        .weak(),
                    );
                }
            }
            if let Some(h) = state.host.latest() {
                ui.label(format!(
                    "CPU {:.0}% · memory {} used · load {:.2}",
                    h.cpu_pct,
                    widgets::bytes(f64::from(h.mem_used)),
                    h.load1
                ));
            }
        });
        ui.add_space(8.0);
        ui.heading("Engine findings");
        container_panel::findings(ui, &snapshot.assessment.engine);
        if !snapshot.assessment.policy.is_empty() {
            ui.add_space(8.0);
            ui.heading("Policy findings");
            container_panel::findings(ui, &snapshot.assessment.policy);
        }
    });
}
