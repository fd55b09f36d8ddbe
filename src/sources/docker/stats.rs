//! Streaming stats: `GET /containers/{id}/stats?stream=1` → readings.
//! One stream per running container; the worker starts and cancels them.

use bollard::models::ContainerStatsResponse;

use crate::model::stats::StatsReading;

/// Engine stats JSON → raw counters.
pub fn reading(s: &ContainerStatsResponse) -> StatsReading {
    let cpu = s.cpu_stats.clone().unwrap_or_default();
    let pre = s.precpu_stats.clone().unwrap_or_default();
    let mem = s.memory_stats.clone().unwrap_or_default();
    let stats = mem.stats.unwrap_or_default();
    // cgroup v2 and newer v1 kernels: inactive_file; older v1: cache.
    let cache = stats
        .get("inactive_file")
        .or_else(|| stats.get("total_inactive_file"))
        .or_else(|| stats.get("cache"))
        .copied()
        .unwrap_or(0);
    let (mut rx, mut tx) = (0u64, 0u64);
    for n in s.networks.clone().unwrap_or_default().values() {
        rx = rx.saturating_add(n.rx_bytes.unwrap_or(0));
        tx = tx.saturating_add(n.tx_bytes.unwrap_or(0));
    }
    let (mut br, mut bw) = (0u64, 0u64);
    for e in s
        .blkio_stats
        .clone()
        .and_then(|b| b.io_service_bytes_recursive)
        .unwrap_or_default()
    {
        match e.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => br = br.saturating_add(e.value.unwrap_or(0)),
            Some("write") => bw = bw.saturating_add(e.value.unwrap_or(0)),
            _ => {}
        }
    }
    let online = cpu
        .online_cpus
        .or_else(|| {
            cpu.cpu_usage
                .as_ref()
                .and_then(|u| u.percpu_usage.as_ref())
                .map(|v| v.len() as u32)
        })
        .unwrap_or(1);
    StatsReading {
        t: s.read.map_or(0.0, |d| d.timestamp_micros() as f64 / 1e6),
        cpu_total_ns: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
        precpu_total_ns: pre.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
        system_ns: cpu.system_cpu_usage.unwrap_or(0),
        presystem_ns: pre.system_cpu_usage.unwrap_or(0),
        online_cpus: online,
        mem_usage: mem.usage.unwrap_or(0),
        mem_cache: cache,
        mem_limit: mem.limit.unwrap_or(0),
        net_rx: rx,
        net_tx: tx,
        blk_read: br,
        blk_write: bw,
        pids: s.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stats::{cpu_percent, memory_used};

    #[test]
    fn busy_container_fixture() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/stats-busy.json"
        ))
        .unwrap();
        let s: ContainerStatsResponse = serde_json::from_str(&text).unwrap();
        let r = reading(&s);
        // A shell spinning in a loop: one core busy.
        let cpu = cpu_percent(&r).unwrap();
        assert!((80.0..=105.0).contains(&cpu), "cpu {cpu}");
        assert_eq!(r.online_cpus, 2);
        assert_eq!(r.mem_limit, 128 << 20);
        assert!(memory_used(&r) <= r.mem_usage);
        assert_eq!(r.net_rx, 736);
        assert_eq!(r.pids, 1);
        assert!(r.t > 1.7e9);
    }

    /// Issue 17: two networks whose counters sum past `u64::MAX` panicked
    /// in debug builds (and wrapped in release).
    #[test]
    fn counters_that_overflow_saturate() {
        let s: ContainerStatsResponse = serde_json::from_value(serde_json::json!({
            "networks": {
                "a": { "rx_bytes": u64::MAX, "tx_bytes": u64::MAX - 1 },
                "b": { "rx_bytes": 5, "tx_bytes": 5 }
            },
            "blkio_stats": { "io_service_bytes_recursive": [
                { "op": "read", "value": u64::MAX },
                { "op": "read", "value": 1 },
                { "op": "write", "value": u64::MAX },
                { "op": "write", "value": 9 }
            ]}
        }))
        .unwrap();
        let r = reading(&s);
        assert_eq!((r.net_rx, r.net_tx), (u64::MAX, u64::MAX));
        assert_eq!((r.blk_read, r.blk_write), (u64::MAX, u64::MAX));
    }
}
