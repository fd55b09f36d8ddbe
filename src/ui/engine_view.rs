//! The engine: daemon-level findings, version and security options, and the
//! host (from sysinfo).

use egui::{RichText, Ui};

use super::{container_panel, widgets};

/// A two-column facts grid.
fn facts(ui: &mut Ui, id: &str, rows: &[(&str, String)]) {
    egui::Grid::new(id)
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for (k, v) in rows {
                ui.label(RichText::new(*k).strong());
                ui.label(crate::model::visible_multiline(v));
                ui.end_row();
            }
        });
}

fn yes_no(b: bool, yes: &str, no: &str) -> String {
    if b { yes.into() } else { no.into() }
}
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
            let s = &e.security;
            facts(
                ui,
                "engine_facts",
                &[
                    ("Product", format!("{} {}", e.product.as_str(), e.version)),
                    ("API version", e.api_version.clone()),
                    ("Found by", e.found_by.clone()),
                    ("Endpoint", e.endpoint.clone()),
                    ("Host OS", e.os.clone()),
                    ("Kernel", e.kernel.clone()),
                    ("Rootless", yes_no(s.rootless, "yes", "no")),
                    (
                        "User namespaces",
                        yes_no(s.userns, "remapped", "not remapped"),
                    ),
                    (
                        "AppArmor / SELinux",
                        format!(
                            "{} / {}",
                            yes_no(s.apparmor, "on", "off"),
                            yes_no(s.selinux, "on", "off")
                        ),
                    ),
                    ("Seccomp", s.seccomp.clone().unwrap_or_else(|| "off".into())),
                    ("Security options", s.raw.join("\n")),
                    ("Logging driver", e.logging_driver.clone()),
                    ("Live restore", yes_no(e.live_restore, "on", "off")),
                    ("Data directory", e.docker_root_dir.clone()),
                    (
                        "CPUs / memory",
                        format!("{} / {}", e.ncpu, widgets::bytes(e.mem_total as f64)),
                    ),
                    (
                        "shipshape audit log",
                        match &state.audit {
                            Some(Ok(p)) => p.display().to_string(),
                            Some(Err(why)) => format!("not recording: {why}"),
                            None => "none".into(),
                        },
                    ),
                ],
            );
            let ui = &mut cols[1];
            ui.heading("This machine");
            match &state.host_info {
                Some(h) => {
                    facts(
                        ui,
                        "host_facts",
                        &[
                            ("Host name", h.hostname.clone()),
                            ("OS", h.os.clone()),
                            ("Kernel", h.kernel.clone()),
                            ("CPUs", h.cpus.to_string()),
                            ("Memory", widgets::bytes(h.mem_total as f64)),
                        ],
                    );
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
