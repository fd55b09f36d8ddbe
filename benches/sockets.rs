//! One pass of the runtime source over running containers' sockets: the
//! four `/proc/PID/net` tables of each network namespace read and parsed,
//! socket owners found in `/proc/PID/fd`, every peer named — what `scan`
//! and each inventory refresh do. Driven by `scripts/bench-sockets.sh`,
//! which passes the containers as `PID:ID` arguments and compares with
//! `ss` run in each namespace; figures in bench/sockets-results.md.
//!
//! Prints the median and fastest of `RUNS` passes (default 10), the number
//! of sockets, and the process's peak resident memory.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use std::time::{Duration, Instant};

use shipshape::model::{Container, ContainerState};
use shipshape::sources::runtime::{peers, sockets};

fn main() {
    let asks: Vec<sockets::Ask> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| {
            let (pid, id) = a.split_once(':')?;
            Some(sockets::Ask {
                id: id.to_string(),
                pid: pid.parse().ok()?,
                network_mode: "bridge".into(),
                pids: Vec::new(),
            })
        })
        .collect();
    if asks.is_empty() {
        eprintln!("usage: sockets PID:ID …");
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let stubs: Vec<Container> = asks
        .iter()
        .map(|a| Container {
            id: a.id.clone(),
            name: format!("/{}", &a.id[..12.min(a.id.len())]),
            state: ContainerState::Running,
            pid: a.pid,
            network_mode: "bridge".into(),
            ..Container::default()
        })
        .collect();
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut count = (0, 0, 0);
    for _ in 0..runs {
        let t = Instant::now();
        let reads = sockets::read_all(std::path::Path::new("/proc"), &asks);
        let mut cs = stubs.clone();
        let reads: Vec<(usize, peers::Read)> = reads.into_iter().enumerate().collect();
        peers::fill(&mut cs, reads);
        times.push(t.elapsed());
        count = cs
            .iter()
            .fold((0, 0, 0), |(l, c, na), x| match x.sockets.own() {
                Some(o) => (l + o.listeners.len(), c + o.connections.len(), na),
                None => (l, c, na + 1),
            });
    }
    times.sort();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        .unwrap_or_default();
    println!(
        "containers={} median_ms={:.2} min_ms={:.2} listeners={} connections={} not_available={} peak_rss={}",
        asks.len(),
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        count.0,
        count.1,
        count.2,
        hwm
    );
}
