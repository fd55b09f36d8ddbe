//! Frame CPU time of the dashboard with 1,000 containers in the table
//! (egui layout and tessellation through egui_kittest; no GPU).
//! Target: ≤ 2 ms median on the 2-core reference machine.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use egui_kittest::Harness;
use shipshape::app::{App, Mode};
use shipshape::settings::Settings;
use shipshape::watch::messages::{Event, Snapshot};

/// The demo lab's containers, multiplied to `n` with fresh ids and names.
pub fn big_snapshot(n: usize) -> Arc<Snapshot> {
    let mut inventory = shipshape::watch::demo::inventory().unwrap();
    let base = inventory.containers.clone();
    inventory.containers = (0..n)
        .map(|i| {
            let mut c = base[i % base.len()].clone();
            c.id = format!("{i:064x}");
            c.name = format!("{}-{i:04}", c.name);
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

fn frame(c: &mut Criterion) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = App::from_channel(Mode::Live, rx, Settings::default());
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(shipshape::app::setup_fonts)
        .build_ui_state(
            |ui, app: &mut App| {
                app.pump();
                app.show(ui);
            },
            app,
        );
    tx.send(Event::Snapshot(big_snapshot(1000))).unwrap();
    h.run_steps(3);
    assert_eq!(h.state().state.inventory.rows.len(), 1000);
    // The window opens on the Overview of all 1,000.
    assert_eq!(h.state().state.view, shipshape::app::View::Overview);
    c.bench_function("frame_overview_1000_containers", |b| b.iter(|| h.step()));
    h.state_mut().state.view = shipshape::app::View::Containers;
    h.run_steps(2);
    c.bench_function("frame_1000_containers", |b| b.iter(|| h.step()));

    // With a container selected (risk panel open) as well.
    let first = h.state().state.inventory.rows[0].key();
    h.state_mut().state.inventory.selected = Some(first);
    h.run_steps(2);
    c.bench_function("frame_1000_containers_with_risk_panel", |b| {
        b.iter(|| h.step())
    });

    // The Activity view full: 20,000 timeline entries (the window's cap),
    // the newest arriving one per frame (the filter re-runs each time).
    h.state_mut().state.inventory.selected = None;
    h.state_mut().state.view = shipshape::app::View::Activity;
    let (lab, events) = shipshape::watch::demo::lab().unwrap();
    let a = shipshape::assess::assess(
        &lab,
        &shipshape::policy::Policy::default(),
        chrono::Utc::now(),
    );
    let timeline = shipshape::watch::demo::timeline(&lab, &a, events);
    let start = chrono::Utc::now() - chrono::Duration::hours(6);
    for i in 0..shipshape::app::ACTIVITY_CAP {
        let mut e = timeline[i % timeline.len()].clone();
        e.time = start + chrono::Duration::milliseconds(i as i64 * 100);
        tx.send(Event::Activity(Arc::new(e))).unwrap();
    }
    h.run_steps(20);
    assert_eq!(
        h.state().state.timeline.entries.len(),
        shipshape::app::ACTIVITY_CAP
    );
    let mut i = 0;
    c.bench_function("frame_activity_20000_entries_one_new_per_frame", |b| {
        b.iter(|| {
            i += 1;
            let mut e = timeline[i % timeline.len()].clone();
            e.time = chrono::Utc::now();
            tx.send(Event::Activity(Arc::new(e))).unwrap();
            h.step()
        })
    });

    // A flood (issue 15): 10,000 engine events a minute is ~3 per frame at
    // 60 frames a second; here 50 per frame, with the timeline full, while
    // the Activity view is open — the window must stay responsive (≤ 4 ms).
    let mut j = 0;
    c.bench_function("frame_activity_flood_50_new_per_frame", |b| {
        b.iter(|| {
            for _ in 0..50 {
                j += 1;
                let mut e = timeline[j % timeline.len()].clone();
                e.time = chrono::Utc::now();
                tx.send(Event::Activity(Arc::new(e))).unwrap();
            }
            h.step()
        })
    });
}

criterion_group!(benches, frame);
criterion_main!(benches);
