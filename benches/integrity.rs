//! Signature checks of 100 images (issue 43, "verification of 100 images
//! cold and cached"), without a network: the registry part of a cold check
//! is the registry's latency (tests/integrity.rs runs it for real).
//!
//! * judge: 100 images' fetched signatures (one ECDSA P-256 signature
//!   each, the usual cosign case) verified against a key;
//! * cached: the same read back from the signature cache (100 small files)
//!   and judged, as an offline check or the window does;
//! * keys: reading a PEM public key (once per check).
//!
//! `cargo bench --bench integrity`; figures in bench/integrity-results.md.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use sha2::Digest as _;
use shipshape::integrity::{self, keys};
use shipshape::model::integrity::{Evidence, FetchedSignature, SignatureSource};
use shipshape::sources::registry::cache::Cache;

const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/integrity/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn evidence() -> Evidence {
    let payload = fixture("payload.json");
    Evidence {
        signatures: vec![FetchedSignature {
            source: SignatureSource::Tag,
            layer_digest: format!("sha256:{:x}", sha2::Sha256::digest(payload.as_bytes())),
            payload: base64::engine::general_purpose::STANDARD.encode(payload.as_bytes()),
            signature: fixture("a.sig"),
        }],
        ..Evidence::default()
    }
}

fn bench(c: &mut Criterion) {
    let pem = fixture("a.pub");
    let key = keys::from_pem(&pem).unwrap();
    let ev = evidence();
    assert!(integrity::verify(&ev, D, std::slice::from_ref(&key)).is_verified());
    c.bench_function("keys: one PEM public key", |b| {
        b.iter(|| keys::from_pem(&pem).unwrap())
    });
    c.bench_function("judge: 100 images", |b| {
        b.iter(|| {
            for _ in 0..100 {
                assert!(integrity::verify(&ev, D, std::slice::from_ref(&key)).is_verified());
            }
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path());
    let names: Vec<String> = (0..100)
        .map(|i| format!("127.0.0.1:5000/integ-x/app{i}@{D}"))
        .collect();
    for n in &names {
        cache.put(n, &ev, chrono::Utc::now()).unwrap();
    }
    c.bench_function("cached: 100 images read back and judged", |b| {
        b.iter(|| {
            for n in &names {
                let e = cache.get(n).unwrap();
                assert!(
                    integrity::verify(&e.evidence, D, std::slice::from_ref(&key)).is_verified()
                );
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
