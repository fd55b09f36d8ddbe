//! A watcher stays on the engine it watches.
//!
//! Two real engines: a private one (started by the test, in its own network
//! and mount namespaces) at the Docker system socket of a temporary root,
//! and the system engine standing in for the Podman socket that discovery
//! would try next. The watched engine goes away: the worker waits for it
//! and never moves to the other one. It comes back: same engine, gap
//! recorded. Then a different engine appears at the watched address: the
//! worker says so loudly (event and high-severity audit record) and drops
//! what it knew. Only the user's "look again" runs discovery again.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use shipshape::policy::Policy;
use shipshape::sources::docker::EnvSnapshot;
use shipshape::watch::docker::{self, WorkerConfig};
use shipshape::watch::messages::{Command, Event};

/// Wait for the first event matching `pred`; hand every event seen on the
/// way to `seen` too.
fn wait_for(
    rt: &tokio::runtime::Runtime,
    rx: &mut shipshape::watch::messages::Events,
    within: Duration,
    what: &str,
    seen: &mut Vec<Event>,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    rt.block_on(async {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(ev)) if pred(&ev) => return ev,
                Ok(Some(ev)) => seen.push(ev),
                Ok(None) => panic!("worker stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {within:?}; saw {seen:#?}"),
            }
        }
    })
}

fn symlink(target: &Path, link: &Path) {
    let _ = std::fs::remove_file(link);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn records(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn connected_to(ev: &Event) -> Option<(&str, &str)> {
    match ev {
        Event::Connected {
            endpoint, engine, ..
        } => Some((endpoint.as_str(), engine.id.as_str())),
        _ => None,
    }
}

#[test]
fn a_lost_engine_is_waited_for_never_replaced_and_a_different_one_is_announced() {
    let mut a = private_engine_or_skip!("pin");
    let _serial = serial();
    a.load(BASE);
    let mut fx_a = Fixture::on(a.host(), "pin");
    let only_on_a = fx_a.create("a-only", &[BASE]);
    let a_id = a.id();
    let system_id = docker(&["info", "--format", "{{.ID}}"]);

    // A machine root where discovery finds engine A at the Docker system
    // socket, and another engine next in line at Podman's.
    let root = tempfile::tempdir().unwrap();
    let docker_sock = root.path().join("var/run/docker.sock");
    let podman_sock = root.path().join("run/podman/podman.sock");
    symlink(&a.sock, &docker_sock);
    symlink(Path::new("/var/run/docker.sock"), &podman_sock);
    let log: PathBuf = root.path().join("audit.jsonl");

    let rt = runtime();
    let cfg = WorkerConfig {
        host: None,
        env: EnvSnapshot {
            root: root.path().to_path_buf(),
            ..EnvSnapshot::default()
        },
        policy: Arc::new(Policy::default()),
        poll_interval: Duration::from_secs(60),
        host_stats: false,
        container_stats: false,
        max_streams: shipshape::watch::docker::MAX_STREAMS,
        audit: Some(log.clone()),
        audit_retention: Default::default(),
        drift: false,
        mode: "test",
        history: false,
        vulns: None,
        fleet: None,
    };
    let (cmd, mut rx) = docker::spawn(rt.handle(), cfg, Arc::new(|_| {}));
    let mut seen = Vec::new();
    let docker_endpoint = format!("unix://{}", docker_sock.display());
    let podman_endpoint = format!("unix://{}", podman_sock.display());

    let first = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "Connected",
        &mut seen,
        |e| connected_to(e).is_some(),
    );
    assert_eq!(
        connected_to(&first),
        Some((docker_endpoint.as_str(), a_id.as_str()))
    );
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "A's containers",
        &mut seen,
        |e| matches!(e, Event::Snapshot(s) if s.inventory.containers.iter().any(|c| c.name == only_on_a)),
    );

    // 1. A goes away (its socket with it). The worker keeps trying A's
    //    address; it never connects to the engine at Podman's socket.
    a.stop();
    assert!(!a.sock.exists(), "dockerd removes its socket on exit");
    seen.clear();
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "Disconnected",
        &mut seen,
        |e| matches!(e, Event::Disconnected { .. }),
    );
    let mut down = Vec::new();
    let until = Instant::now() + Duration::from_secs(8);
    rt.block_on(async {
        while let Ok(Some(ev)) = tokio::time::timeout_at(until.into(), rx.recv()).await {
            down.push(ev);
        }
    });
    let retries: Vec<&str> = down
        .iter()
        .filter_map(|e| match e {
            Event::Disconnected { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert!(retries.len() >= 2, "it kept retrying: {down:#?}");
    for r in &retries {
        assert!(
            r.contains(&docker_sock.display().to_string()),
            "every retry is to the watched address: {r}"
        );
    }
    assert!(
        !down.iter().any(|e| connected_to(e).is_some()),
        "it must not attach to another engine: {down:#?}"
    );

    // 2. A comes back: the same engine, with the gap recorded.
    a.up().unwrap();
    seen.clear();
    let again = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(40),
        "Connected again",
        &mut seen,
        |e| connected_to(e).is_some(),
    );
    assert_eq!(
        connected_to(&again),
        Some((docker_endpoint.as_str(), a_id.as_str()))
    );
    let gap = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "the gap",
        &mut seen,
        |e| matches!(e, Event::Activity(a) if a.action == "gap"),
    );
    let Event::Activity(gap) = gap else {
        unreachable!()
    };
    assert_eq!(gap.severity, Some(shipshape::model::Severity::High));
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::EngineChanged { .. })),
        "the same engine coming back is not a change"
    );

    // 3. A different engine now answers at the watched address.
    a.stop();
    symlink(Path::new("/var/run/docker.sock"), &docker_sock);
    seen.clear();
    let changed = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(40),
        "EngineChanged",
        &mut seen,
        |e| matches!(e, Event::EngineChanged { .. }),
    );
    let Event::EngineChanged {
        endpoint, was, now, ..
    } = changed
    else {
        unreachable!()
    };
    assert_eq!(endpoint, docker_endpoint);
    assert_eq!(was, a_id);
    assert_eq!(now, system_id);
    let snap = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "the new engine's snapshot",
        &mut seen,
        |e| matches!(e, Event::Snapshot(_)),
    );
    let Event::Snapshot(s) = snap else {
        unreachable!()
    };
    assert!(
        !s.inventory.containers.iter().any(|c| c.name == only_on_a),
        "nothing of the old engine is carried over (not even as gone)"
    );
    let recs = records(&log);
    let rec = recs
        .iter()
        .find(|r| r["kind"] == "engine_changed")
        .unwrap_or_else(|| panic!("an engine_changed audit record: {recs:#?}"));
    assert_eq!(rec["data"]["severity"], "high");
    assert_eq!(rec["data"]["attributes"]["was_id"], a_id.as_str());
    assert_eq!(rec["data"]["attributes"]["now_id"], system_id.as_str());

    // 4. Only the user runs discovery again: with the Docker socket gone,
    //    it finds the engine at Podman's.
    std::fs::remove_file(&docker_sock).unwrap();
    cmd.send(Command::Rediscover).unwrap();
    seen.clear();
    let found = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "Connected after rediscovery",
        &mut seen,
        |e| connected_to(e).is_some(),
    );
    assert_eq!(
        connected_to(&found),
        Some((podman_endpoint.as_str(), system_id.as_str()))
    );
    let _ = cmd.send(Command::Shutdown);
    drop(fx_a);
}
