//! The demo lab: a bundled snapshot of real engine output (captured by
//! `scripts/capture-demo.sh` from a lab of risky containers), converted by
//! the same code as a live scan. Lets people explore risky settings and
//! their explanations without any engine.

use std::collections::HashMap;

use bollard::models::{
    ContainerInspectResponse, ContainerTopResponse, ImageHistoryResponseItem, ImageInspect,
    NetworkInspect, SystemInfo, SystemVersion,
};
use serde::Deserialize;

use super::connect::{Endpoint, EnvSnapshot, FoundBy, Target};
use super::convert;
use crate::model::stats::StatsPoint;
use crate::model::{ContainerState, Inventory};

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
}

#[derive(Deserialize)]
struct LabImage {
    inspect: ImageInspect,
    history: Vec<ImageHistoryResponseItem>,
}

/// The demo inventory. The bundled file is part of the binary and tested,
/// so failing to parse it is a build defect, reported as an error all the same.
pub fn inventory() -> Result<Inventory, String> {
    let lab: Lab =
        serde_json::from_str(LAB).map_err(|e| format!("the bundled demo lab is damaged: {e}"))?;
    let target = Target {
        endpoint: Endpoint::Unix("demo".into()),
        found_by: FoundBy::Socket("demo"),
    };
    let mut engine = convert::engine(
        lab.info,
        lab.version,
        Some(lab.bridge),
        &target,
        &EnvSnapshot::default(),
        "1.41",
    );
    engine.found_by = DEMO_SOURCE.into();
    engine.endpoint = "demo://lab".into();
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
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    let images = lab
        .images
        .into_iter()
        .map(|i| convert::image(i.inspect, i.history))
        .collect();
    Ok(Inventory {
        engine,
        containers,
        images,
        taken_at: Some(chrono::Utc::now()),
        warnings: vec![],
    })
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
    }

    #[test]
    fn demo_stats_are_deterministic_and_plausible() {
        let a = stats_point(3, 1000.0, 0.0);
        assert_eq!(a, stats_point(3, 1000.0, 0.0));
        assert!(a.cpu_pct >= 0.0 && a.cpu_pct <= 100.0 && a.mem_bytes > 0.0);
    }
}
