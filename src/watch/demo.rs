//! The demo lab: a bundled snapshot of real engine output (captured by
//! `scripts/capture-demo.sh` from a lab of risky containers), converted by
//! the same code as a live scan. Lets people explore risky settings and
//! their explanations without any engine.

use std::collections::HashMap;

use bollard::models::{
    ContainerInspectResponse, ContainerTopResponse, EventMessage, ExecInspectResponse,
    ImageHistoryResponseItem, ImageInspect, NetworkInspect, SystemInfo, SystemVersion,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::tracker;
use crate::model::activity::{Activity, Drift, ExecSession, Gone};
use crate::model::stats::StatsPoint;
use crate::model::{ContainerState, Inventory};
use crate::sources::docker::connect::{Endpoint, EnvSnapshot, FoundBy, Target};
use crate::sources::docker::{EngineError, convert, drift, events};

const LAB: &str = include_str!("../../assets/demo/lab.json");

/// Shown wherever the demo's data appears.
pub const DEMO_SOURCE: &str = "DEMO lab (bundled snapshot, no engine)";

#[derive(Deserialize)]
struct Lab {
    info: SystemInfo,
    version: SystemVersion,
    bridge: NetworkInspect,
    containers: Vec<ContainerInspectResponse>,
    top: HashMap<String, ContainerTopResponse>,
    images: Vec<LabImage>,
    /// The engine's events during the lab's activity phase.
    #[serde(default)]
    events: Vec<EventMessage>,
    /// Exec inspects, by exec id.
    #[serde(default)]
    execs: HashMap<String, ExecInspectResponse>,
    /// Containers removed during the activity phase (as inspected before).
    #[serde(default)]
    gone: Vec<ContainerInspectResponse>,
    /// `/changes` of running containers, by container id.
    #[serde(default)]
    changes: HashMap<String, Vec<LabChange>>,
    /// File modes of changed paths, by container id and path.
    #[serde(default)]
    modes: HashMap<String, HashMap<String, u32>>,
    /// Package databases of the lab's images, by image id (the lab's images
    /// are busybox-based: these are the Debian 12 / Debian 11 / Alpine 3.22
    /// fixture databases of tests/fixtures/packages).
    #[serde(default)]
    packages: HashMap<String, LabPackages>,
    /// The vulnerability data bundled with the demo: the OSV fixture records
    /// of tests/fixtures/osv (real advisories and invented edge cases).
    #[serde(default)]
    osv: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct LabPackages {
    #[serde(flatten)]
    files: crate::vulndb::installed::Files,
    #[serde(default)]
    setuid: Vec<crate::model::packages::SpecialFile>,
    /// The application's packages (PyPI, npm) as a read of the image's
    /// `site-packages` and `node_modules` finds them: the lab's images are
    /// busybox-based, so these are listed rather than installed.
    #[serde(default)]
    apps: Vec<crate::model::packages::Package>,
}

/// When an exec started and ended.
type StartEnd = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

#[derive(Deserialize)]
struct LabChange {
    #[serde(rename = "Path")]
    path: String,
    #[serde(rename = "Kind")]
    kind: i64,
}

#[derive(Deserialize)]
struct LabImage {
    inspect: ImageInspect,
    history: Vec<ImageHistoryResponseItem>,
}

/// The demo lab's second engine: a rootless Podman holding a few of the
/// lab's containers (other ids, the same names), so the window shows two
/// engines side by side, and how a rootless engine grades the same
/// settings lower.
pub fn second_engine(lab: &Inventory) -> Inventory {
    let mut inv = lab.clone();
    let e = &mut inv.engine;
    e.label = "lab-podman".into();
    e.id = "DEMO:PODMAN:ROOTLESS".into();
    e.product = crate::model::EngineProduct::Podman;
    e.version = "4.3.1".into();
    e.endpoint = "demo://podman".into();
    e.found_by = format!("{DEMO_SOURCE}, second engine");
    e.security.rootless = true;
    e.security.raw.push("name=rootless".into());
    let keep = [
        "lab-ci-runner",
        "lab-web-frontend",
        "lab-postgres",
        "lab-hardened-worker",
    ];
    inv.containers
        .retain(|c| keep.contains(&c.name.as_str()) && c.gone.is_none());
    for c in &mut inv.containers {
        // Another engine: other ids.
        c.id = format!("0dd{}", &c.id[3..]);
        c.execs.clear();
        c.drift = None;
    }
    let used: Vec<String> = inv.containers.iter().map(|c| c.image_id.clone()).collect();
    inv.images.retain(|i| used.contains(&i.id));
    inv.warnings.clear();
    inv
}

/// The demo inventory. The bundled file is part of the binary and tested,
/// so failing to parse it is a build defect, reported as an error all the same.
pub fn inventory() -> Result<Inventory, String> {
    lab().map(|(inv, _)| inv)
}

/// The demo inventory (with exec sessions, drift and a gone container) and
/// its activity timeline, from the captured events.
pub fn lab() -> Result<(Inventory, Vec<Activity>), String> {
    let mut lab: Lab =
        serde_json::from_str(LAB).map_err(|e| format!("the bundled demo lab is damaged: {e}"))?;
    let target = Target {
        endpoint: Endpoint::Unix("demo".into()),
        found_by: FoundBy::Socket("demo"),
    };
    // The capture speaks the API version shipshape negotiates with that
    // engine (its own, up to bollard's default): show that one.
    let api = lab
        .version
        .api_version
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "1.41".into());
    let mut engine = convert::engine(
        lab.info,
        lab.version,
        Some(lab.bridge),
        &target,
        &EnvSnapshot::default(),
        &api,
    );
    engine.found_by = DEMO_SOURCE.into();
    engine.endpoint = "demo://lab".into();
    engine.label = "lab-docker".into();
    let mut top = lab.top;
    let mut containers: Vec<_> = lab
        .containers
        .into_iter()
        .map(|raw| {
            let id = raw.id.clone().unwrap_or_default();
            let mut c = convert::container(raw);
            c.processes = top.remove(&id).map(convert::processes);
            c
        })
        .collect();
    // When each exec started and ended, from its events.
    let mut exec_times: HashMap<String, StartEnd> = HashMap::new();
    let mut destroyed: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut activities: Vec<Activity> = lab.events.iter().map(events::activity).collect();
    for a in &activities {
        let exec_id = a.attributes.get("execID").cloned().unwrap_or_default();
        match a.action.as_str() {
            "exec_create" => exec_times.entry(exec_id).or_default().0 = Some(a.time),
            "exec_die" => exec_times.entry(exec_id).or_default().1 = Some(a.time),
            "destroy" => {
                destroyed.insert(a.actor.clone(), a.time);
            }
            _ => {}
        }
    }
    for raw in lab.gone {
        let mut c = convert::container(raw);
        let at = destroyed
            .get(&c.id)
            .copied()
            .or(c.finished_at)
            .unwrap_or_else(Utc::now);
        c.gone = Some(Gone { at });
        containers.push(c);
    }
    let mut sessions: HashMap<String, ExecSession> = HashMap::new();
    for (exec_id, raw) in lab.execs {
        let cid = raw.container_id.clone().unwrap_or_default();
        let Some(c) = containers.iter_mut().find(|c| c.id == cid) else {
            continue;
        };
        let (started, ended) = exec_times.get(&exec_id).copied().unwrap_or_default();
        let mut e = convert::exec_session(raw, Some(c), started.unwrap_or_else(Utc::now));
        e.ended = ended;
        if !e.is_healthcheck(c, crate::rules::secrets::redact_command) {
            sessions.insert(exec_id, e.clone());
            c.execs.push(e);
        }
    }
    // Drift as it was when the lab was captured (the end of its events).
    let captured = activities.iter().map(|a| a.time).max();
    for c in &mut containers {
        c.execs.sort_by_key(|e| e.started);
        if c.state != ContainerState::Running || c.gone.is_some() {
            continue;
        }
        if c.readonly_rootfs {
            c.drift = Some(Drift {
                checked_at: captured,
                ..drift::protected()
            });
            continue;
        }
        let Some(changes) = lab.changes.remove(&c.id) else {
            continue;
        };
        let target = drift::Target::of(c, "");
        let plan = drift::plan(
            changes.into_iter().map(|ch| (ch.path, ch.kind)).collect(),
            &target.mount_points,
        );
        let modes = lab.modes.remove(&c.id).unwrap_or_default();
        let stats = plan
            .to_stat
            .iter()
            .map(|(path, kind)| {
                let mode = modes
                    .get(path)
                    .copied()
                    .ok_or_else(|| EngineError::NotFound { what: path.clone() });
                (path.clone(), *kind, mode)
            })
            .collect();
        c.drift = drift::finish(plan, stats).ok().map(|d| Drift {
            checked_at: captured,
            ..d
        });
    }
    for a in &mut activities {
        if a.action == "exec_create"
            && let Some(e) = a.attributes.get("execID").and_then(|x| sessions.get(x))
        {
            a.detail = e.describe();
            a.exec = Some(e.clone());
            a.grade();
        }
        if a.source == crate::model::activity::Source::Network
            && let Some(c) = containers
                .iter()
                .find(|c| Some(&c.id) == a.container_id.as_ref())
        {
            a.detail = format!("container {}", c.name);
        }
    }
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    let images = lab
        .images
        .into_iter()
        .map(|i| convert::image(i.inspect, i.history))
        .collect();
    let mut inventory = Inventory {
        engine,
        containers,
        images,
        taken_at: Some(chrono::Utc::now()),
        warnings: vec![],
        cluster: None,
    };
    // Vulnerabilities: the bundled files and records, through the same
    // parsers and matcher as a live scan.
    let mut builder = crate::vulndb::Builder::default();
    for r in lab.osv {
        if let Ok(r) = serde_json::from_value(r) {
            builder.add(r);
        }
    }
    builder.source(crate::vulndb::SourceMeta {
        name: "demo".into(),
        origin: "bundled fixture records (tests/fixtures/osv, tests/fixtures/apps/osv)".into(),
        records: builder.records(),
    });
    let db = builder.finish(captured.unwrap_or_else(Utc::now));
    let today = captured.unwrap_or_else(Utc::now).date_naive();
    let mut readings = crate::vulndb::Readings::default();
    for (id, p) in lab.packages {
        let mut scan = crate::vulndb::installed::scan(&p.files, today);
        scan.read_from = "demo".into();
        scan.packages.extend(p.apps);
        let special = crate::model::packages::SpecialFiles::Read {
            files: p.setuid,
            dirs: crate::sources::docker::packages::exec_dirs()
                .map(str::to_string)
                .collect(),
            writable: Vec::new(),
        };
        readings.images.insert(id, (scan.into(), special));
    }
    crate::vulndb::annotate(&mut inventory, &readings, Ok(&db));
    Ok((inventory, activities))
}

/// The demo's timeline: the captured events, plus what shipshape said about
/// them (the short-lived container's assessment, exec and drift findings).
pub fn timeline(
    inv: &Inventory,
    assessment: &crate::assess::Assessment,
    mut events: Vec<Activity>,
) -> Vec<Activity> {
    let last = events.iter().map(|a| a.time).max().unwrap_or_else(Utc::now);
    for c in &inv.containers {
        let Some(ca) = assessment.container(&c.id) else {
            continue;
        };
        if let Some(g) = c.gone {
            let mut a = tracker::assessed(c, ca);
            a.time = c.started_at.unwrap_or(g.at) + chrono::Duration::milliseconds(150);
            events.push(a);
        }
        for f in ca
            .findings
            .iter()
            .filter(|f| tracker::is_runtime_rule(f.rule_id))
        {
            let mut a = tracker::finding_activity(c, f.rule_id, f.severity, &f.evidence);
            a.time = last + chrono::Duration::seconds(1);
            events.push(a);
        }
    }
    events.sort_by_key(|a| a.time);
    events
}

/// Synthetic but plausible stats for a running demo container, so the
/// charts can be explored too. Deterministic in (`seed`, `t`).
pub fn stats_point(seed: usize, t: f64, mem_limit: f32) -> StatsPoint {
    let s = seed as f64;
    let wave = |period: f64, phase: f64| ((t / period + phase + s).sin() + 1.0) / 2.0;
    let jitter = ((t * 7.3 + s * 13.7).sin() * 43_758.545).fract().abs();
    let base_mem = 40.0e6 + s * 15.0e6;
    StatsPoint {
        t,
        cpu_pct: (5.0 + 30.0 * wave(40.0, 0.0) + 10.0 * jitter) as f32,
        mem_bytes: (base_mem * (1.0 + 0.3 * wave(120.0, 1.0))) as f32,
        mem_limit,
        net_rx_bps: (20_000.0 * wave(25.0, 2.0) + 5_000.0 * jitter) as f32,
        net_tx_bps: (8_000.0 * wave(30.0, 3.0)) as f32,
        blk_read_bps: (50_000.0 * wave(60.0, 4.0) * jitter) as f32,
        blk_write_bps: (30_000.0 * wave(45.0, 5.0)) as f32,
        pids: (3.0 + 2.0 * wave(90.0, 6.0)).round() as f32,
    }
}

/// Running demo containers and their memory limits, for the stats ticker.
pub fn running(inv: &Inventory) -> Vec<(String, f32)> {
    inv.containers
        .iter()
        .filter(|c| c.state == ContainerState::Running)
        .map(|c| (c.id.clone(), c.limits.memory_bytes as f32))
        .collect()
}

/// The demo lab as a source: the lab snapshot once, then synthetic stats
/// every second; and the lab's second engine (its own event channel, as a
/// real one has). Both go through the publish step every worker uses
/// ([`super::publish`]), without an audit log: nothing here happened.
/// The handle ends when the window stops listening.
pub fn spawn(
    rt: &tokio::runtime::Handle,
    policy: std::sync::Arc<crate::policy::Policy>,
    notify: super::trail::Notify,
) -> ([super::messages::Events; 2], tokio::task::JoinHandle<()>) {
    use super::messages::{Event, Events};
    use super::publish::{Publisher, Trigger, snapshot};
    use super::trail::{Recorder, Sink};
    use std::sync::Arc;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (tx2, rx2) = tokio::sync::mpsc::unbounded_channel();
    let sinks = [Sink::new(tx, notify.clone()), Sink::new(tx2, notify)];
    let events = [
        Events::new(rx, sinks[0].queued.clone()),
        Events::new(rx2, sinks[1].queued.clone()),
    ];
    let [first, second] = sinks;
    let recorder = |sink: Sink, label: &str| Recorder::new(sink, None, Some(label.into()));
    let (rec, rec2) = (
        recorder(first, "lab-docker"),
        recorder(second, "lab-podman"),
    );
    let task = rt.spawn(async move {
        let built = tokio::task::spawn_blocking(move || {
            lab().map(|(inventory, events)| {
                let now = Utc::now();
                let second = snapshot(second_engine(&inventory), None, &policy, now);
                let first = snapshot(inventory, None, &policy, now);
                let timeline = timeline(&first.inventory, &first.assessment, events);
                (first, second, timeline)
            })
        })
        .await
        .unwrap_or_else(|e| Err(format!("demo lab failed to load: {e}")));
        let (first, second, timeline) = match built {
            Ok(s) => s,
            Err(e) => {
                rec.sink.send(Event::Warning(e));
                return;
            }
        };
        let running = running(&first.inventory);
        for (rec, s) in [(&rec2, second), (&rec, first)] {
            Publisher::default().publish(
                rec,
                &mut tracker::Tracker::default(),
                s,
                Trigger::Scan { user: false },
            );
        }
        for a in timeline {
            rec.sink.send(Event::Activity(Arc::new(a)));
        }
        // Pre-fill a few minutes so the charts have a history to explore.
        let now = Utc::now().timestamp() as f64;
        for back in (1..=180).rev() {
            for (i, (id, limit)) in running.iter().enumerate() {
                let point = stats_point(i, now - f64::from(back), *limit);
                rec.sink.send_soon(Event::Stats {
                    id: id.clone(),
                    point,
                });
            }
        }
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let t = Utc::now().timestamp_micros() as f64 / 1e6;
            for (i, (id, limit)) in running.iter().enumerate() {
                let point = stats_point(i, t, *limit);
                if !rec.sink.send_soon(Event::Stats {
                    id: id.clone(),
                    point,
                }) {
                    return;
                }
            }
        }
    });
    (events, task)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::policy::Policy;
    use crate::rules::{ALL, Check, Family};

    #[test]
    fn the_lab_loads_and_every_family_of_checks_is_represented() {
        let inv = inventory().unwrap();
        assert!(inv.containers.len() >= 12);
        let states: BTreeSet<&str> = inv.containers.iter().map(|c| c.state.as_str()).collect();
        assert!(
            states.contains("created") && states.contains("running") && states.contains("exited")
        );
        let a = crate::assess::assess(&inv, &Policy::default(), chrono::Utc::now());
        let fired: BTreeSet<&str> = a.all().map(|f| f.rule_id).collect();
        let families: BTreeSet<Family> = ALL
            .iter()
            .filter(|r| fired.contains(r.id))
            .map(|r| r.family)
            .collect();
        for fam in ALL
            .iter()
            .filter(|r| !matches!(r.check, Check::Policy))
            .map(|r| r.family)
        {
            assert!(
                families.contains(&fam),
                "no demo container shows a {fam:?} finding"
            );
        }
        for must in [
            "container.privileged",
            "container.engine-socket",
            "container.secret-env",
            "container.sshd",
            "container.stale-image",
            "image.secret-env",
        ] {
            assert!(fired.contains(must), "{must} missing from the demo");
        }
        assert_eq!(inv.engine.found_by, DEMO_SOURCE);
        for must in [
            "container.exec-root",
            "container.exec-privileged",
            "container.drift-program",
            "container.drift-sensitive",
        ] {
            assert!(fired.contains(must), "{must} missing from the demo");
        }
    }

    #[test]
    fn the_lab_has_a_timeline_a_gone_container_and_protected_ones() {
        let (inv, events) = lab().unwrap();
        let a = crate::assess::assess(&inv, &Policy::default(), chrono::Utc::now());
        let gone: Vec<&str> = inv
            .containers
            .iter()
            .filter(|c| c.gone.is_some())
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(gone, ["lab-oneshot-migrate"]);
        let oneshot = inv.containers.iter().find(|c| c.gone.is_some()).unwrap();
        assert!(oneshot.lifetime().unwrap() < chrono::Duration::seconds(5));
        assert!(
            inv.containers
                .iter()
                .any(|c| c.drift.as_ref().is_some_and(|d| d.protected))
        );
        let t = timeline(&inv, &a, events);
        assert!(
            t.windows(2).all(|w| w[0].time <= w[1].time),
            "in time order"
        );
        assert!(
            t.iter()
                .any(|x| x.action == "assessed" && x.name == "lab-oneshot-migrate")
        );
        let privileged = t
            .iter()
            .find(|x| x.exec.as_ref().is_some_and(|e| e.privileged))
            .expect("the privileged exec");
        assert_eq!(privileged.severity, Some(crate::model::Severity::High));
        assert!(
            !t.iter().any(|x| x.action == "top"),
            "the capture's own calls are not shown"
        );
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            !json.contains("demo-not-real"),
            "no secret values in the timeline"
        );
    }

    #[test]
    fn demo_stats_are_deterministic_and_plausible() {
        let a = stats_point(3, 1000.0, 0.0);
        assert_eq!(a, stats_point(3, 1000.0, 0.0));
        assert!(a.cpu_pct >= 0.0 && a.cpu_pct <= 100.0 && a.mem_bytes > 0.0);
    }

    /// The lab is a source like any other: each of its engines publishes
    /// through the one publish step (a snapshot and a posture point named
    /// by its engine), then the timeline and live stats follow.
    #[test]
    fn the_lab_publishes_its_two_engines_through_the_publish_step() {
        use crate::watch::messages::Event;
        let rt = tokio::runtime::Runtime::new().expect("a runtime");
        let ([mut first, mut second], task) = super::spawn(
            rt.handle(),
            std::sync::Arc::new(Policy::default()),
            std::sync::Arc::new(|_| {}),
        );
        let (mut snaps, mut posture, mut activities, mut stats) = (0, Vec::new(), 0, 0);
        rt.block_on(async {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
            while stats < 10 && tokio::time::Instant::now() < deadline {
                let ev = tokio::select! {
                    Some(e) = first.recv() => e,
                    Some(e) = second.recv() => e,
                };
                match ev {
                    Event::Snapshot(s) => {
                        snaps += 1;
                        assert!(s.assessment.all().next().is_some(), "the lab is risky");
                    }
                    Event::Posture(p) => posture.extend(p.into_iter().map(|p| p.engine)),
                    Event::Activity(_) => activities += 1,
                    Event::Stats { .. } => stats += 1,
                    Event::Warning(w) => panic!("{w}"),
                    _ => {}
                }
            }
        });
        task.abort();
        assert_eq!(snaps, 2, "one snapshot per engine");
        posture.sort();
        assert_eq!(posture, ["lab-docker", "lab-podman"]);
        assert!(activities > 0, "the lab's timeline");
        assert_eq!(stats, 10);
    }
}
