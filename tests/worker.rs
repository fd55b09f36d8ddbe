//! The engine worker against a real engine: events bring new containers in
//! without waiting for a poll, running containers stream stats, and an
//! engine that goes away and comes back is survived.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use shipshape::policy::Policy;
use shipshape::sources::docker::EnvSnapshot;
use shipshape::watch::docker::{self, WorkerConfig};
use shipshape::watch::messages::{Command, Event};

fn config(host: &str) -> WorkerConfig {
    WorkerConfig {
        host: Some(host.to_string()),
        env: EnvSnapshot::from_process(),
        policy: Arc::new(Policy::default()),
        // Long enough that only engine events can explain a quick update.
        poll_interval: Duration::from_secs(60),
        host_stats: false,
        container_stats: true,
        max_streams: shipshape::watch::docker::MAX_STREAMS,
        audit: None,
        audit_retention: Default::default(),
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
    rx: &mut shipshape::watch::messages::Events,
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
    let (cmd, mut rx) = docker::spawn(
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
    let (cmd, mut rx) = docker::spawn(rt.handle(), config(&host), Arc::new(|_| {}));
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
    let (cmd, mut rx) = docker::spawn(rt.handle(), cfg, Arc::new(|_| {}));
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

/// Issue 13: a light pass inspects only what is new, named by an event, or
/// listed in another state — and says the same as a full scan.
#[test]
fn a_light_pass_reads_only_what_changed_and_agrees_with_a_full_scan() {
    use shipshape::sources::docker::{Engine, scan};
    let _serial = serial();
    let mut fx = Fixture::new("light");
    let rt = runtime();
    let env = EnvSnapshot::from_process();
    let engine = rt
        .block_on(Engine::discover_and_connect(
            Some("unix:///var/run/docker.sock"),
            &env,
        ))
        .unwrap();
    let kept = fx.create("kept", &[BASE]);
    let runs = fx.run("runs", &[BASE]);
    let renamed = fx.create("renamed", &[BASE]);
    let started = fx.create("started", &[BASE]);
    let gone = fx.create("gone", &[BASE]);
    let prev = rt.block_on(scan::snapshot(&engine, &env)).unwrap();
    let id = |inv: &shipshape::model::Inventory, name: &str| {
        inv.containers
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.id.clone())
    };

    // Nothing changed: the two lists, and no inspect at all.
    let (same, reread) = rt
        .block_on(scan::refresh(
            &engine,
            &env,
            &prev,
            &scan::Changed::default(),
        ))
        .unwrap();
    assert_eq!(reread.containers, 0, "{reread:?}");
    assert_eq!(reread.images, 0, "{reread:?}");
    assert_eq!(reread.requests, 2, "local engine: processes from /proc");
    assert_eq!(same.containers.len(), prev.containers.len());

    // A rename (an event names it), a start whose event was missed (the list
    // shows another state), a new container, a removed one.
    let new_name = fx.name("renamed-now");
    docker(&["rename", &renamed, &new_name]);
    docker(&["start", &started]);
    let fresh = fx.create("fresh", &[BASE, "sleep", "1000"]);
    docker(&["rm", "-f", &gone]);
    let mut changed = scan::Changed::default();
    changed.containers.insert(id(&prev, &renamed).unwrap());
    let (light, reread) = rt
        .block_on(scan::refresh(&engine, &env, &prev, &changed))
        .unwrap();
    let full = rt.block_on(scan::snapshot(&engine, &env)).unwrap();
    // Others may be changing the system engine meanwhile: count ours.
    assert!(
        reread.containers >= 3,
        "renamed, started and fresh inspected: {reread:?}"
    );
    assert!(id(&light, &gone).is_none(), "a removed container is gone");
    assert!(id(&light, &renamed).is_none() && id(&light, &new_name).is_some());
    let policy = Policy::default();
    let now = chrono::Utc::now();
    let (la, fa) = (
        shipshape::assess::assess(&light, &policy, now),
        shipshape::assess::assess(&full, &policy, now),
    );
    for name in [&kept, &runs, &new_name, &started, &fresh] {
        let (l, f) = (
            light.containers.iter().find(|c| &c.name == name).unwrap(),
            full.containers.iter().find(|c| &c.name == name).unwrap(),
        );
        assert_eq!(l.state, f.state, "{name}");
        let procs = |c: &shipshape::model::Container| {
            c.processes
                .as_ref()
                .map(|p| p.iter().map(|p| p.command.clone()).collect::<Vec<_>>())
        };
        assert_eq!(procs(l), procs(f), "{name}: processes");
        let rules = |a: &shipshape::assess::Assessment, id: &str| {
            let mut r: Vec<String> = a
                .container(id)
                .unwrap()
                .findings
                .iter()
                .map(|f| format!("{} {}", f.rule_id, f.evidence))
                .collect();
            r.sort();
            r
        };
        assert_eq!(rules(&la, &l.id), rules(&fa, &f.id), "{name}: findings");
    }
    let ran = light.containers.iter().find(|c| c.name == started).unwrap();
    assert_eq!(ran.state, shipshape::model::ContainerState::Running);
    assert!(ran.processes.is_some(), "a started container's processes");
}

/// Issue 13: with a budget of one stream, one running container streams
/// and the other is sampled (a one-shot reading, with a CPU share from the
/// previous sample); the window's focus moves the stream.
#[test]
fn past_the_stream_budget_containers_are_sampled_and_focus_moves_the_stream() {
    let _serial = serial();
    let mut fx = Fixture::new("budget");
    let rt = runtime();
    let a = fx.run("a", &[BASE]);
    let b = fx.run("b", &[BASE]);
    let ida = docker(&["inspect", "-f", "{{.Id}}", &a]).trim().to_string();
    let idb = docker(&["inspect", "-f", "{{.Id}}", &b]).trim().to_string();
    let mut cfg = config("unix:///var/run/docker.sock");
    cfg.max_streams = 1;
    let (cmd, mut rx) = docker::spawn(rt.handle(), cfg, Arc::new(|_| {}));
    // Whatever else runs here, focus decides: a streams, b is sampled.
    cmd.send(Command::Focus(vec![ida.clone()])).unwrap();
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(10),
        "stats of a",
        |e| matches!(e, Event::Stats { id, .. } if *id == ida),
    );
    // The second sample of b has a CPU share (the first has none to
    // compare with): within two sampling rounds.
    let ev = wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(35),
        "a sample of b",
        |e| matches!(e, Event::Sampled { id, .. } if *id == idb),
    );
    let Event::Sampled { point, .. } = ev else {
        unreachable!()
    };
    assert!(point.mem_bytes > 0.0 && point.pids >= 1.0, "{point:?}");
    assert!(point.cpu_pct >= 0.0);
    // Focus on b: b streams now, a is sampled, and no stream "ended" for
    // a (its chart goes on without a gap).
    cmd.send(Command::Focus(vec![idb.clone()])).unwrap();
    let mut ended_a = false;
    wait_for(&rt, &mut rx, Duration::from_secs(10), "stats of b", |e| {
        ended_a |= matches!(e, Event::StatsEnded { id } if *id == ida);
        matches!(e, Event::Stats { id, .. } if *id == idb)
    });
    wait_for(
        &rt,
        &mut rx,
        Duration::from_secs(35),
        "a sample of a",
        |e| {
            ended_a |= matches!(e, Event::StatsEnded { id } if *id == ida);
            matches!(e, Event::Sampled { id, .. } if *id == ida)
        },
    );
    assert!(!ended_a, "moving a to sampling is not a stopped container");
    cmd.send(Command::Shutdown).unwrap();
}
