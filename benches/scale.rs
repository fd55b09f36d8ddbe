//! Growth of the pure parts with their input (issue 17):
//!
//! * `assess` with N containers on N images (each container on its own
//!   tagged image, so every image lookup by reference is exercised):
//!   linear, was quadratic (4,000 took 4.4 s);
//! * the CSV of one container with K secret-named env keys and K labels
//!   (an image can carry both): linear, was K² (2,000 + 2,000 gave 210 MB).
//!
//! * a Compose project of 50 services over three files (an override, an
//!   `extends` base, interpolation from `.env`): read from disk, loaded,
//!   every service judged and located — what `shipshape compose check`
//!   does (target ≤ 50 ms); and the scan's cost for 50 containers of an
//!   unchanged project (the files' stamps checked, nothing parsed).
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

/// The same, with the demo image's application packages (PyPI, npm: the
/// lab gained them with issue 24) taken out: the input the assess figures
/// before issue 24 were measured on, for comparing code with code.
fn inventory_os_only(n: usize) -> Inventory {
    use shipshape::model::packages::VulnState;
    let mut inv = inventory(n);
    let app = |label: &str| matches!(label, "PyPI" | "npm");
    for img in &mut inv.images {
        if let VulnState::Assessed {
            vulnerabilities, ..
        } = std::sync::Arc::make_mut(&mut img.vulns)
        {
            vulnerabilities.retain(|v| !app(v.ecosystem.label()));
        }
        if let Some(p) = &mut img.packages {
            std::sync::Arc::make_mut(p)
                .packages
                .retain(|p| !app(p.ecosystem.label()));
        }
    }
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
    for n in [1000, 4000] {
        let inv = inventory_os_only(n);
        g.bench_with_input(BenchmarkId::new("os-only", n), &inv, |b, inv| {
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

/// A 50-service project in `dir`: compose.yaml, compose.override.yaml,
/// common.yaml (extended), .env. Returns the files in merge order.
fn compose_project(dir: &std::path::Path, services: usize) -> Vec<std::path::PathBuf> {
    let mut base = String::from(
        "name: bench\nx-hard: &hard\n  read_only: true\n  cap_drop: [ALL]\nservices:\n",
    );
    let mut over = String::from("services:\n");
    for i in 0..services {
        base.push_str(&format!(
            "  svc{i}:\n    <<: *hard\n    image: team/svc{i}:${{TAG:-1.{i}}}\n    extends:\n      file: common.yaml\n      service: base\n    ports:\n      - \"{}:80\"\n    volumes:\n      - ./data/{i}:/data\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n    environment:\n      LOG_LEVEL: info\n      API_TOKEN: ${{API_TOKEN}}\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n",
            8000 + i
        ));
        over.push_str(&format!(
            "  svc{i}:\n    mem_limit: 256m\n    labels:\n      team: t{}\n",
            i % 7
        ));
    }
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    write(
        "common.yaml",
        "services:\n  base:\n    cap_add: [NET_BIND_SERVICE]\n    restart: unless-stopped\n    logging:\n      driver: json-file\n      options: {max-size: 10m}\n",
    );
    write(".env", "TAG=2.0\nAPI_TOKEN=not-a-real-token\n");
    vec![
        write("compose.yaml", &base),
        write("compose.override.yaml", &over),
    ]
}

fn compose(c: &mut Criterion) {
    use shipshape::sources::compose;
    let dir = tempfile::tempdir().unwrap();
    let files = compose_project(dir.path(), 50);
    let policy = Policy::default();
    let now = chrono::Utc::now();
    let mut g = c.benchmark_group("compose");
    g.bench_function("check/50-services", |b| {
        b.iter(|| {
            let l = compose::read::project_of(&files, &[]).unwrap();
            let checked = compose::check(&l.project, &l.dir, &l.env_files, &policy, now);
            assert_eq!(checked.inventory.containers.len(), 50);
            shipshape::report::Report::build(&checked.inventory, &checked.assessment, &policy, now)
        });
    });
    // A scan of 50 containers of the project, files unchanged.
    let config_files: Vec<String> = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let asks: Vec<compose::live::Ask> = (0..50)
        .map(|i| {
            Some((
                shipshape::model::compose::ComposeRef {
                    project: "bench".into(),
                    service: format!("svc{i}"),
                    working_dir: String::new(),
                    config_files: config_files.clone(),
                    number: Some(1),
                    oneoff: false,
                },
                Some(now),
            ))
        })
        .collect();
    let (found, _) = compose::live::located(&asks);
    assert!(
        found
            .iter()
            .all(|f| f.as_deref().and_then(|f| f.lines()).is_some())
    );
    g.bench_function("scan-unchanged/50-containers", |b| {
        b.iter(|| compose::live::located(&asks));
    });
    g.finish();
}

criterion_group!(benches, assess, csv, compose);
criterion_main!(benches);
