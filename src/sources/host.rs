//! Host load from sysinfo. Refreshing blocks briefly, so it runs in
//! `spawn_blocking`, never on the UI thread.

use sysinfo::System;

use crate::model::stats::HostPoint;

/// Keeps the `System` between samples: CPU use is a delta between refreshes.
pub struct HostSampler {
    sys: System,
}

impl HostSampler {
    /// A sampler of this machine's CPU and memory; an error when the platform cannot be read.
    pub fn new() -> Result<Self, String> {
        let mut sys = System::new().map_err(|e| format!("host statistics unavailable: {e}"))?;
        sys.refresh_cpu_usage();
        sys.refresh_memory();
        Ok(Self { sys })
    }

    /// Take a sample; call at least ~200 ms after the previous one.
    pub fn sample(&mut self) -> HostPoint {
        self.sys.refresh_cpu_usage();
        self.sys.refresh_memory();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        HostPoint {
            t: now,
            cpu_pct: self.sys.global_cpu_usage(),
            mem_used: self.sys.used_memory() as f32,
            mem_total: self.sys.total_memory() as f32,
            load1: System::load_average().map_or(0.0, |l| l.one as f32),
        }
    }

    /// What does not change: name, OS, kernel, CPUs, memory.
    pub fn static_info() -> HostInfo {
        let mem_total = System::new_with_specifics(
            sysinfo::RefreshKind::nothing().with_memory(sysinfo::MemoryRefreshKind::everything()),
        )
        .map_or(0, |s| s.total_memory());
        HostInfo {
            hostname: System::host_name().unwrap_or_default(),
            os: System::long_os_version().unwrap_or_default(),
            kernel: System::kernel_version().unwrap_or_default(),
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            mem_total,
        }
    }
}

/// What does not change while shipshape runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInfo {
    /// The machine's name.
    pub hostname: String,
    /// Its operating system.
    pub os: String,
    /// Its kernel version.
    pub kernel: String,
    /// Its number of CPUs.
    pub cpus: usize,
    /// Its memory in bytes.
    pub mem_total: u64,
}
