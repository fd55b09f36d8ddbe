//! Growth of the pure parts with their input (issue 17):
//!
//! * `assess` with N containers on N images (each container on its own
//!   tagged image, so every image lookup by reference is exercised):
//!   linear, was quadratic (4,000 took 4.4 s);
//! * the CSV of one container with K secret-named env keys and K labels
//!   (an image can carry both): linear, was K² (2,000 + 2,000 gave 210 MB).
//!
//! `cargo bench --bench scale`; figures in bench/scale-results.md.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use shipshape::model::{EnvVar, Inventory, Sensitive};
use shipshape::policy::Policy;

/// N containers, each created from its own tagged image.
fn inventory(n: usize) -> Inventory {
    let mut inv = shipshape::watch::demo::inventory().expect("the demo lab loads");
    let c0 = inv.containers[0].clone();
    let i0 = inv.images[0].clone();
    inv.images = (0..n)
        .map(|i| {
            let mut img = i0.clone();
            img.id = format!("sha256:{i:064x}");
            img.tags = vec![format!("registry.example/team/app-{i}:1.{i}")];
            img
        })
        .collect();
    inv.containers = (0..n)
        .map(|i| {
            let mut c = c0.clone();
            c.id = format!("{:064x}", i + 1_000_000);
            c.name = format!("app-{i}");
            c.image = format!("registry.example/team/app-{i}:1.{i}");
            c.image_id = format!("sha256:{i:064x}");
            c
        })
        .collect();
    inv
}

/// One container with `k` secret-named env keys and `k` labels.
fn labelled(k: usize) -> Inventory {
    let mut inv = shipshape::watch::demo::inventory().expect("the demo lab loads");
    inv.containers.truncate(1);
    let c = &mut inv.containers[0];
    c.env = (0..k)
        .map(|i| EnvVar {
            key: format!("SERVICE_{i}_API_TOKEN"),
            value: Sensitive::new(format!("value-{i}")),
        })
        .collect();
    c.labels = (0..k)
        .map(|i| (format!("com.example.label-{i}"), format!("some value {i}")))
        .collect();
    inv
}

fn assess(c: &mut Criterion) {
    let now = chrono::Utc::now();
    let policy = Policy::default();
    let mut g = c.benchmark_group("assess");
    g.sample_size(10);
    for n in [500, 1000, 2000, 4000] {
        let inv = inventory(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &inv, |b, inv| {
            b.iter(|| shipshape::assess::assess(inv, &policy, now));
        });
    }
    // Every container a sidecar in the network and PID namespaces of the
    // one before it: each join is looked up, so this stays linear.
    for n in [1000, 4000] {
        let mut inv = inventory(n);
        for i in 1..n {
            let prev = inv.containers[i - 1].id.clone();
            inv.containers[i].network_mode = format!("container:{prev}");
            inv.containers[i].pid_mode = format!("container:{prev}");
        }
        g.bench_with_input(BenchmarkId::new("joined", n), &inv, |b, inv| {
            b.iter(|| shipshape::assess::assess(inv, &policy, now));
        });
    }
    g.finish();
}

fn csv(c: &mut Criterion) {
    let now = chrono::Utc::now();
    let policy = Policy::default();
    let mut g = c.benchmark_group("csv");
    g.sample_size(10);
    for k in [1000, 2000, 4000] {
        let inv = labelled(k);
        let a = shipshape::assess::assess(&inv, &policy, now);
        let report = shipshape::report::Report::build(&inv, &a, &policy, now);
        let size = shipshape::report::csv::render(&report).len();
        eprintln!(
            "csv: {k} secret-named env keys + {k} labels -> {} findings, {:.2} MB",
            report.all_findings().count(),
            size as f64 / 1e6
        );
        g.bench_with_input(BenchmarkId::from_parameter(k), &report, |b, r| {
            b.iter(|| shipshape::report::csv::render(r).len());
        });
    }
    g.finish();
}

criterion_group!(benches, assess, csv);
criterion_main!(benches);
