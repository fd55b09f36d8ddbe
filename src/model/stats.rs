//! Resource statistics: raw counters from the engine, the derived per-second
//! point the charts draw, and bounded history with gaps.

use std::collections::VecDeque;

/// One raw stats reading (cumulative counters), as the engine reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsReading {
    /// Unix seconds when the engine took the reading.
    pub t: f64,
    /// CPU time the container used, in nanoseconds (cumulative).
    pub cpu_total_ns: u64,
    /// The same counter at the engine's previous reading.
    pub precpu_total_ns: u64,
    /// CPU time of the whole system, in nanoseconds.
    pub system_ns: u64,
    /// The same counter at the engine's previous reading.
    pub presystem_ns: u64,
    /// CPUs available to the container.
    pub online_cpus: u32,
    /// Memory in use, in bytes, page cache included.
    pub mem_usage: u64,
    /// Page cache that the kernel can drop (`inactive_file`, or `cache` on
    /// old cgroup v1 kernels); subtracted like `docker stats` does.
    pub mem_cache: u64,
    /// The memory limit in bytes (the host's memory when unlimited).
    pub mem_limit: u64,
    /// Bytes received over all interfaces.
    pub net_rx: u64,
    /// Bytes sent over all interfaces.
    pub net_tx: u64,
    /// Bytes read from block devices.
    pub blk_read: u64,
    /// Bytes written to block devices.
    pub blk_write: u64,
    /// Processes and threads in the container.
    pub pids: u64,
}

/// CPU use in percent of one core (200 % = two cores busy), from the
/// engine's own previous sample (`precpu_stats`). `None` when there is no
/// usable previous sample (the first reading of a stream).
pub fn cpu_percent(r: &StatsReading) -> Option<f64> {
    if r.presystem_ns == 0 || r.precpu_total_ns == 0 {
        return None;
    }
    let cpu = r.cpu_total_ns.checked_sub(r.precpu_total_ns)? as f64;
    let sys = r.system_ns.checked_sub(r.presystem_ns)? as f64;
    if sys <= 0.0 {
        return None;
    }
    Some(cpu / sys * f64::from(r.online_cpus.max(1)) * 100.0)
}

/// Memory in use, without reclaimable page cache.
pub fn memory_used(r: &StatsReading) -> u64 {
    r.mem_usage.saturating_sub(r.mem_cache)
}

/// Bytes per second between two counter values; a counter that went
/// backwards (container restarted) gives 0, not a huge number.
pub fn rate(prev: u64, cur: u64, dt: f64) -> f64 {
    if dt <= 0.0 || cur < prev {
        0.0
    } else {
        (cur - prev) as f64 / dt
    }
}

/// One chart point: everything per second already.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsPoint {
    /// Unix seconds of the reading.
    pub t: f64,
    /// CPU use in percent of one CPU (so up to 100 × CPUs).
    pub cpu_pct: f32,
    /// Memory in use in bytes, page cache excluded.
    pub mem_bytes: f32,
    /// 0 when unlimited (the engine then reports the host's memory).
    pub mem_limit: f32,
    /// Bytes received per second.
    pub net_rx_bps: f32,
    /// Bytes sent per second.
    pub net_tx_bps: f32,
    /// Bytes read per second.
    pub blk_read_bps: f32,
    /// Bytes written per second.
    pub blk_write_bps: f32,
    /// Processes and threads.
    pub pids: f32,
}

/// Turn a reading into a point, using the previous reading of the same
/// stream for the byte rates.
pub fn derive(prev: Option<&StatsReading>, cur: &StatsReading, limited: bool) -> StatsPoint {
    let (rx, tx, br, bw) = match prev {
        Some(p) if cur.t > p.t => {
            let dt = cur.t - p.t;
            (
                rate(p.net_rx, cur.net_rx, dt),
                rate(p.net_tx, cur.net_tx, dt),
                rate(p.blk_read, cur.blk_read, dt),
                rate(p.blk_write, cur.blk_write, dt),
            )
        }
        _ => (0.0, 0.0, 0.0, 0.0),
    };
    StatsPoint {
        t: cur.t,
        cpu_pct: cpu_percent(cur).unwrap_or(0.0) as f32,
        mem_bytes: memory_used(cur) as f32,
        mem_limit: if limited { cur.mem_limit as f32 } else { 0.0 },
        net_rx_bps: rx as f32,
        net_tx_bps: tx as f32,
        blk_read_bps: br as f32,
        blk_write_bps: bw as f32,
        pids: cur.pids as f32,
    }
}

/// Anything with a time stamp (unix seconds).
pub trait Timed {
    /// The point's time in Unix seconds.
    fn t(&self) -> f64;
}

impl Timed for StatsPoint {
    fn t(&self) -> f64 {
        self.t
    }
}

/// A bounded history. `None` entries are gaps (the container was stopped,
/// the engine was unreachable): charts break the line there.
#[derive(Debug, Clone)]
pub struct Ring<T> {
    cap: usize,
    buf: VecDeque<Option<T>>,
}

impl<T: Copy + Timed> Ring<T> {
    /// An empty ring holding at most `cap` points.
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(2),
            buf: VecDeque::new(),
        }
    }

    /// How many points it holds at most.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Changes how many points it holds, dropping the oldest when it shrinks.
    pub fn set_capacity(&mut self, cap: usize) {
        self.cap = cap.max(2);
        while self.buf.len() > self.cap {
            self.buf.pop_front();
        }
    }

    /// Adds a point, dropping the oldest when full.
    pub fn push(&mut self, v: T) {
        if self.buf.len() == self.cap {
            self.buf.pop_front();
        }
        self.buf.push_back(Some(v));
    }

    /// Mark a gap (only one in a row; none at the start).
    pub fn push_gap(&mut self) {
        if matches!(self.buf.back(), Some(Some(_))) {
            if self.buf.len() == self.cap {
                self.buf.pop_front();
            }
            self.buf.push_back(None);
        }
    }

    /// How many points it holds.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether it holds no point.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The newest point.
    pub fn latest(&self) -> Option<&T> {
        self.buf.iter().rev().flatten().next()
    }

    /// The points, oldest first.
    pub fn points(&self) -> impl Iterator<Item = &T> {
        self.buf.iter().flatten()
    }

    /// Runs of consecutive points up to time `until`, split at gaps,
    /// mapped to `[t, value]` pairs for a chart.
    pub fn segments(&self, until: f64, value: impl Fn(&T) -> f64) -> Vec<Vec<[f64; 2]>> {
        let mut out = vec![Vec::new()];
        for slot in &self.buf {
            match slot {
                Some(p) if p.t() <= until => {
                    out.last_mut().expect("never empty").push([p.t(), value(p)])
                }
                Some(_) => {}
                None => {
                    if !out.last().expect("never empty").is_empty() {
                        out.push(Vec::new());
                    }
                }
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }
}

/// Host load from sysinfo.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostPoint {
    /// Unix seconds of the sample.
    pub t: f64,
    /// CPU use of the whole host, in percent of all CPUs.
    pub cpu_pct: f32,
    /// Memory in use, in bytes.
    pub mem_used: f32,
    /// Memory installed, in bytes.
    pub mem_total: f32,
    /// The one-minute load average.
    pub load1: f32,
}

impl Timed for HostPoint {
    fn t(&self) -> f64 {
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(t: f64, cpu: u64, precpu: u64, sys: u64, presys: u64) -> StatsReading {
        StatsReading {
            t,
            cpu_total_ns: cpu,
            precpu_total_ns: precpu,
            system_ns: sys,
            presystem_ns: presys,
            online_cpus: 2,
            ..Default::default()
        }
    }

    #[test]
    fn cpu_percent_is_share_of_one_core() {
        // Half of the system time on a 2-CPU host = one full core = 100 %.
        let r = reading(1.0, 1_500, 1_000, 2_000, 1_000);
        assert_eq!(cpu_percent(&r), Some(100.0));
        // First reading: no previous sample.
        assert_eq!(cpu_percent(&reading(1.0, 1_500, 0, 2_000, 0)), None);
        // Counters that went backwards (restart) are not a number.
        assert_eq!(cpu_percent(&reading(1.0, 500, 1_000, 2_000, 1_000)), None);
    }

    #[test]
    fn memory_excludes_cache_and_rates_are_per_second() {
        let r = StatsReading {
            mem_usage: 100,
            mem_cache: 30,
            ..Default::default()
        };
        assert_eq!(memory_used(&r), 70);
        assert_eq!(rate(1_000, 3_000, 2.0), 1_000.0);
        assert_eq!(
            rate(3_000, 1_000, 2.0),
            0.0,
            "reset counters are not negative traffic"
        );
        let a = StatsReading {
            t: 10.0,
            net_rx: 0,
            blk_write: 100,
            ..Default::default()
        };
        let b = StatsReading {
            t: 11.0,
            net_rx: 2048,
            blk_write: 600,
            ..Default::default()
        };
        let p = derive(Some(&a), &b, false);
        assert_eq!(
            (p.net_rx_bps, p.blk_write_bps, p.mem_limit),
            (2048.0, 500.0, 0.0)
        );
        assert_eq!(derive(None, &b, true).net_rx_bps, 0.0);
    }

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct P(f64);
    impl Timed for P {
        fn t(&self) -> f64 {
            self.0
        }
    }

    #[test]
    fn ring_is_bounded_and_keeps_gaps() {
        let mut r = Ring::new(4);
        r.push_gap(); // no gap at the start
        assert!(r.is_empty());
        for i in 0..3 {
            r.push(P(f64::from(i)));
        }
        r.push_gap();
        r.push_gap(); // one gap is enough
        r.push(P(10.0));
        assert_eq!(r.len(), 4, "bounded: the oldest point fell out");
        let segs = r.segments(f64::MAX, |p| p.0);
        assert_eq!(segs, vec![vec![[1.0, 1.0], [2.0, 2.0]], vec![[10.0, 10.0]]]);
        // Frozen view: only what existed at t=1.5.
        assert_eq!(r.segments(1.5, |p| p.0), vec![vec![[1.0, 1.0]]]);
        assert_eq!(r.latest(), Some(&P(10.0)));
        r.set_capacity(2);
        assert_eq!(r.len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn ring_never_exceeds_capacity(cap in 2usize..50, ops in proptest::collection::vec(proptest::bool::ANY, 0..300)) {
            let mut r = Ring::new(cap);
            for (i, push) in ops.into_iter().enumerate() {
                if push { r.push(P(i as f64)) } else { r.push_gap() }
                proptest::prop_assert!(r.len() <= cap);
            }
        }
    }
}
