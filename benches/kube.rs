//! A cluster's read, converted and assessed: N pods (Deployments of 10
//! replicas, from the kubectl fixture `web` and the hardened `api`) →
//! workload rows → findings. The worker does this after each settled batch
//! of watch events. `cargo bench --bench kube`; figures in docs/kubernetes.md.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use shipshape::policy::Policy;
use shipshape::sources::kube::{ClusterId, Lists, convert};

#[path = "../tests/common/kube.rs"]
#[allow(dead_code)]
mod fake;

fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `pods` pods in Deployments of 10, every other one hardened.
fn lists(pods: usize) -> Lists {
    let mut objects = fake::Objects::default();
    for i in 0..pods / 10 {
        let mut d = fake::fixture(if i % 2 == 0 { "web" } else { "api" });
        d["metadata"]["name"] = serde_json::json!(format!("app-{i}"));
        d["metadata"]["namespace"] = serde_json::json!(format!("team-{}", i % 20));
        d["spec"]["replicas"] = serde_json::json!(10);
        fake::expand(&d, &mut objects);
    }
    fn v<T: serde::de::DeserializeOwned>(x: Vec<serde_json::Value>) -> Vec<T> {
        x.into_iter()
            .map(|o| serde_json::from_value(o).unwrap())
            .collect()
    }
    Lists {
        pods: v(objects.pods),
        replica_sets: objects
            .replica_sets
            .into_iter()
            .map(|o| serde_json::from_value(o["metadata"].clone()).unwrap())
            .collect(),
        ..Lists::default()
    }
}

fn bench(c: &mut Criterion) {
    let id = ClusterId {
        context: "bench".into(),
        ..ClusterId::default()
    };
    let policy = Policy::default();
    let mut g = c.benchmark_group("kube_convert_assess");
    for n in [100, 1000, 5000] {
        let l = lists(n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &l, |b, l| {
            b.iter(|| {
                let inv = convert::inventory(&id, l, chrono::Utc::now());
                shipshape::assess::assess(&inv, &policy, chrono::Utc::now())
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
