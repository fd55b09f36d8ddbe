//! Resource limits and restart behaviour: denial of service between
//! containers and against the host. CHECKS.md files these under "DoS"; they
//! serve seed rule 4 (least privilege), applied to resources.

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";
const RES_DOC: &str = "https://docs.docker.com/engine/containers/resource_constraints/";

/// The `container.no-memory-limit` rule: No memory limit.
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
        kube: "resources:\n  limits:\n    memory: 256Mi",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|ctx, c| {
        let l = &c.limits;
        let host = ctx.inventory.engine.mem_total;
        if l.memory_bytes <= 0 {
            limit_unset(c, crate::model::Setting::MemoryLimit, "is 0 (unlimited)")
        } else if l.memory_swap < 0 {
            // A limit that another setting cancels is no limit: past the
            // memory limit the container goes on in swap, as far as the
            // host has it.
            vec![Hit::new(format!(
                "HostConfig.Memory is {} but HostConfig.MemorySwap is -1: swap is unlimited, so \
                 the limit does not bound what it takes",
                crate::model::text::bytes(l.memory_bytes as f64)
            ))]
        } else if host > 0 && l.memory_bytes >= host {
            vec![Hit::new(format!(
                "HostConfig.Memory is {}, at least the host's {}: no limit in effect",
                crate::model::text::bytes(l.memory_bytes as f64),
                crate::model::text::bytes(host as f64)
            ))]
        } else {
            vec![]
        }
    }),
};

/// The hit for a limit that is not set: `HostConfig.Memory is 0
/// (unlimited)`, `resources.limits.memory is not set`. An ephemeral
/// container of a pod may not set resources, so there is nothing to fix.
fn limit_unset(c: &crate::model::Container, what: crate::model::Setting, engine: &str) -> Vec<Hit> {
    let field = c.source.field(what);
    match &c.kube {
        Some(w) if w.role == crate::model::kube::ContainerRole::Ephemeral => vec![],
        Some(_) => vec![Hit::new(format!("{field} is not set"))],
        None => vec![Hit::new(format!("{field} {engine}"))],
    }
}

/// The `container.no-cpu-limit` rule: No CPU limit or shares.
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
        kube: "resources:\n  limits:\n    cpu: 500m",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|_, c| {
        let l = &c.limits;
        if l.nano_cpus <= 0 && l.cpu_quota <= 0 && l.cpu_shares <= 0 {
            limit_unset(c, crate::model::Setting::CpuLimit, "are all 0")
        } else {
            vec![]
        }
    }),
};

/// The `container.no-pids-limit` rule: No PIDs limit.
pub const NO_PIDS_LIMIT: Rule = Rule {
    id: "container.no-pids-limit",
    title: "No PIDs limit",
    severity: Severity::Medium,
    family: Family::Resources,
    cis: Some("5.29"),
    seed: SeedRule::LeastPrivilege,
    why: "Without a PIDs limit a fork bomb inside the container exhausts the host's process table.",
    attack: "`:(){ :|:& };:` in one container and nothing on the host can start a process.",
    fix: Fix {
        summary: "Limit the number of processes.",
        run: "--pids-limit 200",
        compose: "pids_limit: 200",
        kube: "",
    },
    references: &[CIS, RES_DOC],
    check: Check::Container(|_, c| match c.limits.pids {
        Some(n) if n > 0 => vec![],
        Some(n) => vec![Hit::new(format!("HostConfig.PidsLimit is {n} (unlimited)"))],
        None => vec![Hit::new("HostConfig.PidsLimit is not set")],
    }),
};

/// The `container.restart-policy` rule: Restart policy retries without bound.
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
        kube: "",
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

/// The `container.cgroup-parent` rule: Custom cgroup parent.
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
        kube: "",
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

/// The `container.oom-kill-disabled` rule: OOM killer disabled.
pub const OOM_KILL_DISABLED: Rule = Rule {
    id: "container.oom-kill-disabled",
    title: "OOM killer disabled",
    severity: Severity::Medium,
    family: Family::Resources,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "--oom-kill-disable keeps the kernel from killing the container's processes when \
          memory runs out. Without a memory limit the host runs out instead: the kernel kills \
          other processes, or the machine stalls. With a limit the container hangs at it \
          rather than restarting.",
    attack: "Allocate memory until the host swaps to a halt or the kernel kills the services \
             around it: a denial of service of the whole machine from one container.",
    fix: Fix {
        summary: "Leave the OOM killer on, and set a memory limit.",
        run: "remove --oom-kill-disable; add --memory 512m",
        compose: "remove oom_kill_disable:; add mem_limit: 512m",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/engine/containers/resource_constraints/#understand-the-risks-of-running-out-of-memory",
    ],
    check: Check::Container(|_, c| {
        if !c.oom_kill_disable {
            vec![]
        } else if c.limits.memory_bytes == 0 {
            vec![Hit::new(
                "HostConfig.OomKillDisable is true and there is no memory limit",
            )]
        } else {
            vec![Hit::graded(
                Severity::Low,
                "HostConfig.OomKillDisable is true (a memory limit is set)",
            )]
        }
    }),
};

/// The `container.oom-score-adj` rule: Protected from the OOM killer at the host's expense.
pub const OOM_SCORE_ADJ: Rule = Rule {
    id: "container.oom-score-adj",
    title: "Protected from the OOM killer at the host's expense",
    severity: Severity::Low,
    family: Family::Resources,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "A negative --oom-score-adj tells the kernel to kill other processes first when the \
          host runs out of memory: the host's own services go before this container.",
    attack: "A leaking or hostile container keeps growing while the kernel kills the host's \
             sshd, databases or the engine.",
    fix: Fix {
        summary: "Leave OomScoreAdj at 0 (or raise it) and rely on a memory limit.",
        run: "remove --oom-score-adj",
        compose: "remove oom_score_adj:",
        kube: "",
    },
    references: &["https://docs.docker.com/reference/cli/docker/container/run/"],
    check: Check::Container(|_, c| {
        if c.oom_score_adj >= 0 {
            return vec![];
        }
        let sev = if c.oom_score_adj <= -500 {
            Severity::Medium
        } else {
            Severity::Low
        };
        vec![Hit::graded(
            sev,
            format!("HostConfig.OomScoreAdj is {}", c.oom_score_adj),
        )]
    }),
};

/// Limits whose raise matters for the host: open files, processes, locked
/// memory, core dumps (which copy process memory to disk).
pub fn ulimit_grade(u: &crate::model::Ulimit) -> Option<Severity> {
    let unlimited = u.hard < 0 || u.soft < 0;
    match u.name.as_str() {
        "nproc" | "memlock" | "nofile" if unlimited => Some(Severity::Medium),
        "core" if u.hard != 0 => Some(Severity::Low),
        "nproc" | "memlock" | "nofile" | "rtprio" | "sigpending" | "msgqueue" | "stack" => {
            Some(Severity::Low)
        }
        _ => None,
    }
}

/// The `container.ulimits` rule: Default ulimits overridden.
pub const ULIMITS: Rule = Rule {
    id: "container.ulimits",
    title: "Default ulimits overridden",
    severity: Severity::Low,
    family: Family::Resources,
    cis: Some("5.19"),
    seed: SeedRule::LeastPrivilege,
    why: "--ulimit replaces the engine's per-process limits. Raised or unlimited nofile, nproc \
          or memlock let one container exhaust kernel resources shared with the host; core \
          dumps write process memory, secrets included, to disk. Unlimited nofile, nproc or \
          memlock is medium, other raises low.",
    attack: "Open file descriptors or lock memory until the host's kernel tables are full; read \
             a crashed process's secrets from its core file.",
    fix: Fix {
        summary: "Keep the engine's default ulimits unless the workload needs a specific raise.",
        run: "remove --ulimit (or --ulimit nofile=1024:4096)",
        compose: "ulimits: { nofile: { soft: 1024, hard: 4096 } }",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/reference/cli/docker/container/run/#ulimit",
    ],
    check: Check::Container(|_, c| {
        c.ulimits
            .iter()
            .filter_map(|u| {
                let sev = ulimit_grade(u)?;
                let show = |n: i64| {
                    if n < 0 {
                        "unlimited".to_string()
                    } else {
                        n.to_string()
                    }
                };
                Some(Hit::graded(
                    sev,
                    format!(
                        "HostConfig.Ulimits sets {} to {}:{}",
                        u.name,
                        show(u.soft),
                        show(u.hard)
                    ),
                ))
            })
            .collect()
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

    #[test]
    fn oom_killer_and_score() {
        let mut c = hardened();
        assert!(run_container(&OOM_KILL_DISABLED, &c).is_empty());
        c.oom_kill_disable = true;
        assert_eq!(
            run_container(&OOM_KILL_DISABLED, &c)[0].severity,
            Some(Severity::Low)
        );
        c.limits.memory_bytes = 0;
        assert_eq!(run_container(&OOM_KILL_DISABLED, &c)[0].severity, None);

        assert!(run_container(&OOM_SCORE_ADJ, &c).is_empty());
        c.oom_score_adj = 500;
        assert!(
            run_container(&OOM_SCORE_ADJ, &c).is_empty(),
            "killed first: fine"
        );
        c.oom_score_adj = -100;
        assert_eq!(
            run_container(&OOM_SCORE_ADJ, &c)[0].severity,
            Some(Severity::Low)
        );
        c.oom_score_adj = -1000;
        let h = run_container(&OOM_SCORE_ADJ, &c);
        assert_eq!(h[0].severity, Some(Severity::Medium));
        assert_eq!(h[0].evidence, "HostConfig.OomScoreAdj is -1000");
    }

    #[test]
    fn ulimits() {
        use crate::model::Ulimit;
        let u = |name: &str, soft, hard| Ulimit {
            name: name.into(),
            soft,
            hard,
        };
        let mut c = hardened();
        c.ulimits = vec![
            u("nofile", -1, -1),
            u("nproc", 4096, 8192),
            u("core", 0, 0),
            u("core", -1, -1),
            u("cpu", 10, 10),
        ];
        let h = run_container(&ULIMITS, &c);
        let got: Vec<_> = h
            .iter()
            .map(|h| (h.severity, h.evidence.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(Severity::Medium),
                    "HostConfig.Ulimits sets nofile to unlimited:unlimited"
                ),
                (
                    Some(Severity::Low),
                    "HostConfig.Ulimits sets nproc to 4096:8192"
                ),
                (
                    Some(Severity::Low),
                    "HostConfig.Ulimits sets core to unlimited:unlimited"
                ),
            ]
        );
    }

    /// A limit that another setting cancels is no limit; a bounded one is.
    #[test]
    fn limits_that_are_cancelled() {
        let mut c = hardened();
        assert!(run_container(&NO_MEMORY_LIMIT, &c).is_empty());
        c.limits.memory_swap = c.limits.memory_bytes;
        assert!(
            run_container(&NO_MEMORY_LIMIT, &c).is_empty(),
            "swap equal to memory: no swap"
        );
        c.limits.memory_swap = -1;
        let h = run_container(&NO_MEMORY_LIMIT, &c);
        assert!(h[0].evidence.contains("MemorySwap is -1"), "{h:?}");
        let mut inv = inventory_with(vec![], vec![clean_image()]);
        inv.engine.mem_total = 32 << 20;
        inv.engine.ncpu = 2;
        c.limits.memory_swap = 0;
        inv.containers = vec![c.clone()];
        let p = crate::model::policy::Policy::default();
        assert!(
            run_container_in(&NO_MEMORY_LIMIT, &c, &inv, &p)[0]
                .evidence
                .contains("at least the host's")
        );
    }
}
