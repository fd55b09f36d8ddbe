//! The engine worker against a real engine: events bring new containers in
//! without waiting for a poll, running containers stream stats, and an
//! engine that goes away and comes back is survived.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use shipshape::engine::EnvSnapshot;
use shipshape::engine::messages::{Command, Event};
use shipshape::engine::worker::{self, WorkerConfig};
use shipshape::policy::Policy;

fn config(host: &str) -> WorkerConfig {
    WorkerConfig {
        host: Some(host.to_string()),
        env: EnvSnapshot::from_process(),
        policy: Arc::new(Policy::default()),
        // Long enough that only engine events can explain a quick update.
        poll_interval: Duration::from_secs(60),
        host_stats: false,
        container_stats: true,
        audit: None,
        drift: false,
        mode: "test",
        history: false,
        vulns: None,
        fleet: None,
    }
}

/// Wait for the first event matching `pred`.
fn wait_for(
    rt: &tokio::runtime::Runtime,
    rx: &mut shipshape::engine::messages::Events,
    within: Duration,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + within;
    rt.block_on(async {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(ev)) if pred(&ev) => return ev,
                Ok(Some(_)) => continue,
                Ok(None) => panic!("worker stopped while waiting for {what}"),
                Err(_) => panic!("no {what} within {within:?}"),
            }
        }
    })
}

fn has_container(ev: &Event, name: &str) -> bool {
    matches!(ev, Event::Snapshot(s) if s.inventory.containers.iter().any(|c| c.name == name))
}

#[test]
fn events_bring_new_containers_in_and_running_ones_stream_stats() {
    let _serial = serial();
    let mut fx = Fixture::new("worker");
    let rt = runtime();
    let (cmd, mut rx) = worker::spawn(
        rt.handle(),
        config("unix:///var/run/docker.sock"),
        Arc::new(|_| {}),
    );
    wait_for(&rt, &mut rx, Duration::from_secs(10), "Connected", |e| {
        matches!(e, Event::Connected { .. })
    });
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "first snapshot",
        |e| matches!(e, Event::Snapshot(_)),
    );

    let started = Instant::now();
    let name = fx.run("late", &[BASE]);
    let ev = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "snapshot with the new container",
        |e| has_container(e, &name),
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "arrived by event, not by the 60 s poll"
    );
    let Event::Snapshot(s) = ev else {
        unreachable!()
    };
    let c = s
        .inventory
        .containers
        .iter()
        .find(|c| c.name == name)
        .unwrap();
    let findings = s.assessment.container(&c.id).unwrap();
    assert!(
        findings
            .findings
            .iter()
            .any(|f| f.rule_id == "container.root-user"),
        "assessed in the background"
    );

    let id = c.id.clone();
    let ev = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(15),
        "stats for the running container",
        |e| matches!(e, Event::Stats { id: i, .. } if *i == id),
    );
    let Event::Stats { point, .. } = ev else {
        unreachable!()
    };
    assert!(point.mem_bytes > 0.0 && point.pids >= 1.0, "{point:?}");

    // Removing it ends its stream; it stays, marked gone, with its
    // findings, until dismissed.
    docker(&["rm", "-f", &name]);
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "stream end",
        |e| matches!(e, Event::StatsEnded { id: i } if *i == id),
    );
    let ev = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "snapshot with it gone",
        |e| matches!(e, Event::Snapshot(s) if s.inventory.containers.iter().any(|c| c.name == name && c.gone.is_some())),
    );
    let Event::Snapshot(s) = ev else {
        unreachable!()
    };
    assert!(
        s.assessment
            .container(&id)
            .is_some_and(|a| !a.findings.is_empty()),
        "a gone container keeps its findings"
    );
    cmd.send(Command::Dismiss(vec![id.clone()])).unwrap();
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "snapshot without it",
        |e| matches!(e, Event::Snapshot(s) if !s.inventory.containers.iter().any(|c| c.name == name)),
    );
    cmd.send(Command::Shutdown).unwrap();
}

/// A unix-socket proxy to the real engine that the test can kill.
struct Proxy {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

fn start_proxy(rt: &tokio::runtime::Runtime, path: &Path) -> Proxy {
    let _ = std::fs::remove_file(path);
    let listener = rt.block_on(async { tokio::net::UnixListener::bind(path).unwrap() });
    let task = rt.spawn(async move {
        // Dropping the set (when this task is aborted) cuts every open
        // connection, like an engine that dies.
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            conns.spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::UnixStream::connect("/var/run/docker.sock").await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
            while conns.try_join_next().is_some() {}
        }
    });
    Proxy {
        path: path.to_path_buf(),
        task,
    }
}

impl Proxy {
    fn kill(self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
fn an_engine_that_goes_away_and_comes_back_is_survived() {
    let _serial = serial();
    engine();
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("engine.sock");
    let proxy = start_proxy(&rt, &sock);
    let host = format!("unix://{}", sock.display());
    let (cmd, mut rx) = worker::spawn(rt.handle(), config(&host), Arc::new(|_| {}));
    wait_for(&rt, &mut rx, Duration::from_secs(10), "Connected", |e| {
        matches!(e, Event::Connected { .. })
    });
    wait_for(&rt, &mut rx, Duration::from_secs(10), "snapshot", |e| {
        matches!(e, Event::Snapshot(_))
    });
    // Something happens while it is watched (so it knows where it was).
    let mut fx = Fixture::new("gap");
    let before = fx.create("before", &[BASE]);
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "the create event",
        |e| matches!(e, Event::Activity(a) if a.action == "create" && a.name == before),
    );

    // The engine dies: the event stream breaks, the worker notices by
    // itself (no poll is due for a minute) and says so.
    proxy.kill();
    let ev = wait_for(&rt, &mut rx, Duration::from_secs(20), "Disconnected", |e| {
        matches!(e, Event::Disconnected { .. })
    });
    let Event::Disconnected { reason, .. } = ev else {
        unreachable!()
    };
    assert!(!reason.is_empty());

    // While it is down, attempts fail with a specific reason.
    let ev = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "a failed retry",
        |e| matches!(e, Event::Disconnected { reason, .. } if reason.contains("does not exist")),
    );
    drop(ev);
    // Meanwhile a container is created that the worker cannot see.
    let during = fx.create("during", &[BASE]);

    // It comes back: reconnect and a fresh snapshot, without anyone asking;
    // the gap is recorded, and the event missed during it is replayed.
    let proxy = start_proxy(&rt, &sock);
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(20),
        "Connected again",
        |e| matches!(e, Event::Connected { .. }),
    );
    let (mut gap, mut replayed, mut snapshot) = (None, false, false);
    let deadline = Instant::now() + Duration::from_secs(15);
    while (gap.is_none() || !replayed || !snapshot) && Instant::now() < deadline {
        let next = rt
            .block_on(async { tokio::time::timeout(Duration::from_millis(500), rx.recv()).await });
        match next {
            Ok(Some(Event::Activity(a))) if a.action == "gap" => gap = Some(a),
            Ok(Some(Event::Activity(a))) if a.action == "create" && a.name == during => {
                replayed = true;
            }
            Ok(Some(Event::Activity(a))) if a.action == "create" && a.name == before => {
                panic!("an event seen before the gap was repeated");
            }
            Ok(Some(Event::Snapshot(s))) => {
                snapshot = s.inventory.containers.iter().any(|c| c.name == during);
            }
            _ => {}
        }
    }
    let gap = gap.expect("the gap is recorded");
    assert_eq!(gap.severity, Some(shipshape::model::Severity::High));
    assert!(gap.detail.contains("replayed"), "{}", gap.detail);
    assert!(replayed, "the create during the gap was replayed");
    assert!(
        snapshot,
        "the re-list shows the container created during the gap"
    );
    cmd.send(Command::Shutdown).unwrap();
    proxy.kill();
}

/// The window starts its timeline with the end of the audit log — also when
/// another shipshape (a `watch`) holds the log and this one cannot write.
#[test]
fn the_timeline_starts_with_the_audit_logs_history_even_when_the_log_is_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut held = shipshape::audit::AuditLog::open(&path, 1 << 20).unwrap();
    for i in 0..3 {
        let mut a = shipshape::model::Activity::own("gap", format!("gap {i}"), None);
        a.time = chrono::Utc::now() - chrono::Duration::minutes(10 - i);
        held.append("gap", serde_json::to_value(&a).unwrap())
            .unwrap();
    }
    held.append("scan", serde_json::json!({ "containers": 1 }))
        .unwrap();
    let rt = runtime();
    let mut cfg = config("unix:///nonexistent/engine.sock");
    cfg.audit = Some(path.clone());
    cfg.history = true;
    let (cmd, mut rx) = worker::spawn(rt.handle(), cfg, Arc::new(|_| {}));
    let ev = wait_for(&rt, &mut rx, Duration::from_secs(10), "the busy log", |e| {
        matches!(e, Event::Audit(Err(_)))
    });
    let Event::Audit(Err(why)) = ev else {
        unreachable!()
    };
    assert!(why.contains("in use by another shipshape"), "{why}");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = wait_for(&rt, &mut rx, Duration::from_secs(5), "history", |e| {
            matches!(e, Event::Activity(_))
        });
        if let Event::Activity(a) = ev {
            seen.push(a.detail.clone());
        }
    }
    assert_eq!(
        seen,
        ["gap 0", "gap 1", "gap 2"],
        "oldest first, scans left out"
    );
    cmd.send(Command::Shutdown).unwrap();
    drop(held);
}
