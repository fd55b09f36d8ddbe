//! The audit log's cost: one durable append, a batch of 100 (what the
//! writer thread does when events arrive together), verifying 10 000
//! records, and turning one engine event into a timeline entry.
//!
//! `cargo bench --bench audit`; results in bench/audit-results.md.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use shipshape::audit::{AuditLog, verify};

fn event() -> serde_json::Value {
    json!({
        "time": "2026-11-28T15:04:41.505Z", "time_nano": 1_795_878_281_505_000_000_i64,
        "source": "container", "action": "exec_create",
        "detail": "root: sh -c echo x > /tmp/dropper; chmod +x /tmp/dropper",
        "actor": "2c5b3d3f7b3210854ce9d2b7a29d22fda412d49a7ae32478b88efd1192962cc2",
        "name": "web", "attributes": { "execID": "714beff570f4", "image": "nginx:1.27" },
        "severity": "medium"
    })
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("single.jsonl"), 64 << 20).unwrap();
    c.bench_function("audit append 1 record (synced)", |b| {
        b.iter(|| log.append("event", event()).unwrap())
    });
    let mut log = AuditLog::open(&dir.path().join("batch.jsonl"), 64 << 20).unwrap();
    c.bench_function("audit append batch of 100 (one sync)", |b| {
        b.iter(|| {
            log.append_many((0..100).map(|_| ("event".to_string(), event())))
                .unwrap()
        })
    });

    let path = dir.path().join("verify.jsonl");
    let mut log = AuditLog::open(&path, 64 << 20).unwrap();
    for _ in 0..100 {
        log.append_many((0..100).map(|_| ("event".to_string(), event())))
            .unwrap();
    }
    drop(log);
    c.bench_function("audit verify 10000 records", |b| {
        b.iter(|| assert_eq!(verify(&path).unwrap().unwrap().records, 10_000))
    });

    let raw: bollard::models::EventMessage = serde_json::from_str(
        r#"{"Type":"container","Action":"exec_create: sh -c id","Actor":{"ID":"2c5b3d3f7b3210854ce9d2b7a29d22fda412d49a7ae32478b88efd1192962cc2","Attributes":{"execID":"714beff570f4","image":"nginx","name":"web","com.example.team":"platform"}},"scope":"local","time":1795876434,"timeNano":1795876434709841014}"#,
    )
    .unwrap();
    c.bench_function("engine event -> activity", |b| {
        b.iter(|| shipshape::sources::docker::events::activity(std::hint::black_box(&raw)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
