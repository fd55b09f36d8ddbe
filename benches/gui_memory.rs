//! Resident memory of the dashboard state with 500 containers and a full
//! 15 minutes of 1 Hz stats history for each (plus host history), after
//! drawing frames. Target: ≤ 150 MiB. Run: `cargo bench --bench gui_memory`.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use std::sync::Arc;

use egui_kittest::Harness;
use shipshape::app::{App, Mode};
use shipshape::model::stats::{HostPoint, StatsPoint};
use shipshape::settings::Settings;
use shipshape::watch::messages::{Event, Snapshot};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

fn snapshot(n: usize) -> Arc<Snapshot> {
    let mut inventory = shipshape::watch::demo::inventory().unwrap();
    let base = inventory.containers.clone();
    inventory.containers = (0..n)
        .map(|i| {
            let mut c = base[i % base.len()].clone();
            c.id = format!("{i:064x}");
            c.name = format!("{}-{i:04}", c.name);
            c.state = shipshape::model::ContainerState::Running;
            c
        })
        .collect();
    let now = chrono::Utc::now();
    let assessment =
        shipshape::assess::assess(&inventory, &shipshape::policy::Policy::default(), now);
    Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })
}

fn main() {
    let before = rss_mib();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = App::from_channel(Mode::Live, rx, Settings::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(shipshape::app::setup_fonts)
        .build_ui_state(
            |ui, app: &mut App| {
                while app.pump() {}
                app.show(ui);
            },
            app,
        );
    let n = 500;
    let snap = snapshot(n);
    let ids: Vec<String> = snap
        .inventory
        .containers
        .iter()
        .map(|c| c.id.clone())
        .collect();
    tx.send(Event::Snapshot(snap)).unwrap();
    let samples = Settings::default().history_samples(); // 15 min at 1 Hz
    let t0 = 1.8e9;
    for s in 0..samples {
        let t = t0 + s as f64;
        for id in &ids {
            tx.send(Event::Stats {
                id: id.clone(),
                point: StatsPoint {
                    t,
                    cpu_pct: 3.0,
                    mem_bytes: 5e7,
                    pids: 4.0,
                    ..Default::default()
                },
            })
            .unwrap();
        }
        tx.send(Event::Host(HostPoint {
            t,
            cpu_pct: 10.0,
            mem_used: 1e9,
            mem_total: 8e9,
            load1: 0.5,
        }))
        .unwrap();
        if s % 60 == 0 {
            h.step();
        }
    }
    // Open a container's charts so plotting memory is included too.
    h.run_steps(2);
    let first = ids[0].clone();
    h.state_mut().state.inventory.selected = Some(shipshape::app::RowKey::new(0, first));
    h.state_mut().state.detail_tab = shipshape::app::DetailTab::Charts;
    h.run_steps(3);
    let points: usize = h.state().state.charts.stats.values().map(|r| r.len()).sum();
    let after = rss_mib();
    println!("containers: {n}, history samples per container: {samples}, points held: {points}");
    println!("resident memory: {after:.1} MiB (process start: {before:.1} MiB)");
}
