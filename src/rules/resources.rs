//! Resource limits and restart behaviour: denial of service between
//! containers and against the host. CHECKS.md files these under "DoS"; they
//! serve seed rule 4 (least privilege), applied to resources.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const RES_DOC: &str = "https://docs.docker.com/engine/containers/resource_constraints/";

pub const NO_MEMORY_LIMIT: Rule = Rule {
    id: "container.no-memory-limit",
    title: "No memory limit",
    severity: Severity::Medium,
    family: Family::Resources,
    cis: Some("5.11"),
    seed: SeedRule::LeastPrivilege,
    why: "Without a limit one container can use all of the host's memory, pushing everything \
          else into swap or out through the OOM killer.",
    attack: "A memory bomb or a leak exploited on purpose takes down the other containers and \
             the host's own services: denial of service from a single foothold.",
    fix: Fix {
        summary: "Set a memory limit sized for the workload.",
        run: "--memory 512m",
        compose: "mem_limit: 512m",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|_, c| {
        if c.limits.memory_bytes <= 0 {
            vec![Hit::new("HostConfig.Memory is 0 (unlimited)")]
        } else {
            vec![]
        }
    }),
};

pub const NO_CPU_LIMIT: Rule = Rule {
    id: "container.no-cpu-limit",
    title: "No CPU limit or shares",
    severity: Severity::Low,
    family: Family::Resources,
    cis: Some("5.12"),
    seed: SeedRule::LeastPrivilege,
    why: "Without a CPU quota or relative weight, one busy container can starve the others and \
          the host of CPU time.",
    attack: "A crypto-miner dropped into a compromised container uses every core, slowing every \
             other workload on the machine.",
    fix: Fix {
        summary: "Set a CPU limit (or at least a CPU weight).",
        run: "--cpus 1.5",
        compose: "cpus: 1.5",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|_, c| {
        let l = &c.limits;
        if l.nano_cpus <= 0 && l.cpu_quota <= 0 && l.cpu_shares <= 0 {
            vec![Hit::new(
                "HostConfig.NanoCpus, CpuQuota and CpuShares are all 0",
            )]
        } else {
            vec![]
        }
    }),
};

pub const NO_PIDS_LIMIT: Rule = Rule {
    id: "container.no-pids-limit",
    title: "No PIDs limit",
    severity: Severity::Low,
    family: Family::Resources,
    cis: Some("5.29"),
    seed: SeedRule::LeastPrivilege,
    why: "Without a PIDs limit a fork bomb inside the container exhausts the host's process table.",
    attack: "`:(){ :|:& };:` in one container and nothing on the host can start a process.",
    fix: Fix {
        summary: "Limit the number of processes.",
        run: "--pids-limit 200",
        compose: "pids_limit: 200",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|_, c| match c.limits.pids {
        Some(n) if n > 0 => vec![],
        Some(n) => vec![Hit::new(format!("HostConfig.PidsLimit is {n} (unlimited)"))],
        None => vec![Hit::new("HostConfig.PidsLimit is not set")],
    }),
};

pub const RESTART_POLICY: Rule = Rule {
    id: "container.restart-policy",
    title: "Restart policy retries without bound",
    severity: Severity::Low,
    family: Family::Resources,
    cis: Some("5.15"),
    seed: SeedRule::LeastPrivilege,
    why: "`always`, `unless-stopped` or on-failure with many (or unlimited) retries restarts a \
          crashing or compromised container forever, hiding the failure and burning resources.",
    attack: "Malware that crashes the process on purpose is brought back again and again; a \
             crash loop becomes a denial of service.",
    fix: Fix {
        summary: "Use on-failure with a small retry count (5 or fewer).",
        run: "--restart on-failure:5",
        compose: "restart: on-failure:5",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/containers/start-containers-automatically/",
    ],
    check: Check::Container(|_, c| {
        let r = &c.restart;
        match r.name.as_str() {
            "always" | "unless-stopped" => vec![Hit::new(format!("RestartPolicy is {}", r.name))],
            "on-failure" if r.max_retries == 0 => {
                vec![Hit::new("RestartPolicy is on-failure with no retry limit")]
            }
            "on-failure" if r.max_retries > 5 => {
                vec![Hit::new(format!(
                    "RestartPolicy is on-failure:{}",
                    r.max_retries
                ))]
            }
            _ => vec![],
        }
    }),
};

pub const CGROUP_PARENT: Rule = Rule {
    id: "container.cgroup-parent",
    title: "Custom cgroup parent",
    severity: Severity::Low,
    family: Family::Resources,
    cis: Some("5.25"),
    seed: SeedRule::LeastPrivilege,
    why: "A custom cgroup parent places the container outside the engine's cgroup hierarchy, so \
          the limits the engine applies may not hold.",
    attack: "Placed in a cgroup with looser limits (or the host's), a compromised container can \
             consume resources the operator believed were capped.",
    fix: Fix {
        summary: "Leave the cgroup parent at its default unless the host's cgroup layout is managed on purpose.",
        run: "remove --cgroup-parent",
        compose: "remove cgroup_parent:",
    },
    references: &[CIS],
    check: Check::Container(|_, c| {
        if c.cgroup_parent.is_empty() {
            vec![]
        } else {
            vec![Hit::new(format!(
                "HostConfig.CgroupParent is {}",
                c.cgroup_parent
            ))]
        }
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn limits() {
        let mut c = hardened();
        c.limits = Default::default();
        assert_eq!(run_container(&NO_MEMORY_LIMIT, &c).len(), 1);
        assert_eq!(run_container(&NO_CPU_LIMIT, &c).len(), 1);
        assert_eq!(run_container(&NO_PIDS_LIMIT, &c).len(), 1);
        c.limits.cpu_shares = 512;
        assert!(run_container(&NO_CPU_LIMIT, &c).is_empty());
        for n in [0, -1] {
            c.limits.pids = Some(n);
            assert_eq!(run_container(&NO_PIDS_LIMIT, &c).len(), 1, "pids {n}");
        }
    }

    #[test]
    fn restart_policies() {
        let mut c = hardened();
        for (name, n, fires) in [
            ("always", 0, true),
            ("unless-stopped", 0, true),
            ("on-failure", 0, true),
            ("on-failure", 6, true),
            ("on-failure", 5, false),
            ("no", 0, false),
            ("", 0, false),
        ] {
            c.restart.name = name.into();
            c.restart.max_retries = n;
            assert_eq!(
                !run_container(&RESTART_POLICY, &c).is_empty(),
                fires,
                "{name}:{n}"
            );
        }
    }

    #[test]
    fn cgroup_parent() {
        let mut c = hardened();
        c.cgroup_parent = "/custom".into();
        assert_eq!(
            run_container(&CGROUP_PARENT, &c)[0].evidence,
            "HostConfig.CgroupParent is /custom"
        );
    }
}
