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
use crate::ui::state::State;

/// Draws the Engine view.
pub fn show(ui: &mut Ui, state: &mut State) {
    if state.is_fleet() {
        engines(ui, state);
        ui.separator();
    }
    let Some(snapshot) = state.shown_snapshot() else {
        ui.label(RichText::new("Waiting for the first scan…").weak());
        return;
    };
    let e = &snapshot.inventory.engine;
    if let Some(cluster) = &snapshot.inventory.cluster {
        egui::ScrollArea::vertical().show(ui, |ui| cluster_facts(ui, e, cluster));
        return;
    }
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
            match &state.charts.host_info {
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
                        RichText::new(if state.mode == crate::ui::state::Mode::Demo {
                            "Not shown in the demo."
                        } else {
                            "Reading host information…"
                        })
                        .weak(),
                    );
                }
            }
            if let Some(h) = state.charts.host.latest() {
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

/// A Kubernetes cluster: who answered, its namespaces' Pod Security labels,
/// and what it would not let shipshape read.
fn cluster_facts(ui: &mut Ui, e: &crate::model::EngineInfo, cluster: &crate::model::kube::Cluster) {
    ui.heading("Kubernetes cluster");
    facts(
        ui,
        "cluster_facts",
        &[
            ("Context", cluster.context.clone()),
            ("API server", cluster.server.clone()),
            ("Version", format!("{} ({})", e.version, e.os)),
            ("Namespaces", cluster.namespaces.len().to_string()),
        ],
    );
    if !cluster.notes.is_empty() {
        ui.add_space(8.0);
        ui.heading("Not read");
        for n in &cluster.notes {
            ui.label(
                RichText::new(crate::model::visible(&format!("• {n}")))
                    .color(super::theme::STALE_AMBER),
            );
        }
    }
    ui.add_space(8.0);
    ui.heading("Pod Security admission, by namespace");
    egui::Grid::new("pss_labels")
        .num_columns(2)
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            for ns in &cluster.namespaces {
                ui.label(RichText::new(crate::model::visible(&ns.name)).strong());
                ui.label(crate::model::visible(&ns.describe()));
                ui.end_row();
            }
        });
    ui.label(
        RichText::new(
            "Engine rules judge a Docker or Podman daemon; a cluster's nodes are not seen through its API.",
        )
        .weak()
        .small(),
    );
}

/// Every engine watched: its state, version, how it was found, its
/// containers and findings. Click one to show its details below.
fn engines(ui: &mut Ui, state: &mut State) {
    use crate::ui::state::Conn;
    ui.heading("Engines");
    let mut clicked = None;
    egui::Grid::new("engines")
        .num_columns(6)
        .striped(true)
        .spacing([14.0, 4.0])
        .show(ui, |ui| {
            for h in [
                "Engine",
                "State",
                "Version",
                "Found by",
                "Containers",
                "Findings",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for (i, e) in state.engines.iter().enumerate() {
                let name = crate::model::visible(&e.label).into_owned();
                let duplicate = &e.duplicate_of;
                if ui
                    .selectable_label(state.engine_shown == i, name)
                    .on_hover_text("Show this engine's details and findings")
                    .clicked()
                {
                    clicked = Some(i);
                }
                let now = std::time::Instant::now();
                let (text, bad) = match &e.conn {
                    Conn::Connected { .. } if duplicate.is_some() => (
                        format!(
                            "same engine as {} (shown there)",
                            crate::model::visible(duplicate.as_deref().unwrap_or(""))
                        ),
                        false,
                    ),
                    Conn::Connected { .. } if e.stale => ("stale".to_string(), true),
                    Conn::Connected { .. } => ("connected".to_string(), false),
                    Conn::Connecting { attempt } => (format!("connecting (try {attempt})"), false),
                    Conn::Down { reason, retry_at } => (
                        format!(
                            "down: {} — retry in {} s",
                            crate::model::visible(reason),
                            retry_at.saturating_duration_since(now).as_secs()
                        ),
                        true,
                    ),
                    Conn::Demo => ("demo".to_string(), false),
                };
                if bad {
                    ui.label(RichText::new(text).color(super::theme::DOWN_RED));
                } else {
                    ui.label(text);
                }
                match &e.snapshot {
                    Some(s) => {
                        let info = &s.inventory.engine;
                        ui.label(crate::model::visible(&format!(
                            "{} {}",
                            info.product.as_str(),
                            info.version
                        )));
                        ui.label(crate::model::visible(&info.found_by));
                        ui.label(s.inventory.containers.len().to_string());
                        ui.label(
                            crate::model::SeverityCounts::active(s.assessment.all()).summary(),
                        );
                    }
                    None => {
                        for _ in 0..4 {
                            ui.label(RichText::new("—").weak());
                        }
                    }
                }
                ui.end_row();
            }
        });
    if let Some(i) = clicked {
        state.engine_shown = i;
    }
}
