//! Monitoring: does the engine know whether the container is healthy?

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

/// The `container.no-healthcheck` rule: No healthcheck.
pub const NO_HEALTHCHECK: Rule = Rule {
    id: "container.no-healthcheck",
    title: "No healthcheck",
    severity: Severity::Low,
    family: Family::Health,
    cis: Some("5.27"),
    seed: SeedRule::MonitorActivity,
    why: "Without a healthcheck the engine (and this dashboard) only knows that the process \
          exists, not that it works; a hung or hijacked service looks healthy.",
    attack: "A service taken over and stopped from answering properly keeps running unnoticed, \
             since nothing probes it.",
    fix: Fix {
        summary: "Add a HEALTHCHECK to the image, or one at run time.",
        run: "--health-cmd 'wget -qO- http://localhost:8080/health || exit 1' --health-interval 30s",
        compose: "healthcheck: { test: [\"CMD\", \"wget\", \"-qO-\", \"http://localhost:8080/health\"], interval: 30s }",
        kube: "livenessProbe:\n  httpGet: { path: /healthz, port: 8080 }\n  periodSeconds: 30",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/reference/dockerfile/#healthcheck",
    ],
    check: Check::Container(|_, c| match &c.healthcheck {
        None => match c.kube.as_deref() {
            Some(w) => probe(w),
            None => vec![Hit::new("no healthcheck in the container or its image")],
        },
        Some(h) if h.is_disabled() => vec![Hit::new("healthcheck disabled (NONE)")],
        Some(_) => vec![],
    }),
};

/// A workload container without a liveness probe. Jobs run to completion,
/// and init and ephemeral containers are never probed: nothing to fix.
fn probe(w: &crate::model::kube::Workload) -> Vec<Hit> {
    use crate::model::kube::ContainerRole;
    if w.kind.runs_to_completion() || w.role != ContainerRole::Container {
        return vec![];
    }
    let readiness = if w.readiness_probe {
        "; it has a readinessProbe, which takes it out of Services but never restarts it"
    } else {
        ""
    };
    vec![Hit::new(format!("no livenessProbe{readiness}"))]
}

/// The `container.logging-disabled` rule: Container output is not logged.
pub const LOGGING_DISABLED: Rule = Rule {
    id: "container.logging-disabled",
    title: "Container output is not logged",
    severity: Severity::Medium,
    family: Family::Health,
    cis: None,
    seed: SeedRule::MonitorActivity,
    why: "With the `none` logging driver nothing the container prints is kept: no trail for an \
          incident, no `docker logs`, nothing for a log collector.",
    attack: "An attacker's commands, errors and crashes leave no trace outside the container; \
             the evidence is gone with it.",
    fix: Fix {
        summary: "Use a logging driver that keeps output (local, json-file with rotation, journald, or a collector).",
        run: "--log-driver local",
        compose: "logging: { driver: local }",
        kube: "",
    },
    references: &["https://docs.docker.com/engine/logging/configure/"],
    check: Check::Container(|_, c| {
        if c.log.driver == "none" {
            vec![Hit::new("HostConfig.LogConfig.Type is none")]
        } else {
            vec![]
        }
    }),
};

/// The `container.log-unbounded` rule: Container log grows without bound.
pub const LOG_UNBOUNDED: Rule = Rule {
    id: "container.log-unbounded",
    title: "Container log grows without bound",
    severity: Severity::Low,
    family: Family::Health,
    cis: None,
    seed: SeedRule::MonitorActivity,
    why: "The json-file driver keeps everything the container prints, forever, unless max-size \
          is set (for the container or daemon-wide in daemon.json, which the engine copies into \
          each container). A chatty or hostile container fills the host's disk, and with it the \
          engine's.",
    attack: "Print in a loop until /var/lib/docker is full: other containers and the engine fail \
             to write, a denial of service from inside.",
    fix: Fix {
        summary: "Rotate logs: set max-size and max-file, or use the local driver, which rotates by default.",
        run: "--log-opt max-size=10m --log-opt max-file=3",
        compose: "logging: { driver: json-file, options: { max-size: 10m, max-file: \"3\" } }",
        kube: "",
    },
    references: &["https://docs.docker.com/engine/logging/drivers/json-file/"],
    check: Check::Container(|_, c| {
        let json = c.log.driver == "json-file";
        let bounded = c
            .log
            .options
            .get("max-size")
            .is_some_and(|v| !matches!(v.expose_for_analysis(), "" | "-1"));
        if json && !bounded {
            vec![Hit::new("json-file logging without max-size")]
        } else {
            vec![]
        }
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::Healthcheck;

    #[test]
    fn healthcheck() {
        let mut c = hardened();
        c.healthcheck = None;
        assert_eq!(run_container(&NO_HEALTHCHECK, &c).len(), 1);
        c.healthcheck = Some(Healthcheck {
            test: vec!["NONE".into()],
        });
        assert!(
            run_container(&NO_HEALTHCHECK, &c)[0]
                .evidence
                .contains("disabled")
        );
    }

    #[test]
    fn logging() {
        use crate::model::Sensitive;
        let mut c = hardened();
        assert!(run_container(&LOGGING_DISABLED, &c).is_empty());
        assert!(run_container(&LOG_UNBOUNDED, &c).is_empty());
        c.log.driver = "none".into();
        assert_eq!(run_container(&LOGGING_DISABLED, &c).len(), 1);
        c.log.driver = "json-file".into();
        assert!(run_container(&LOGGING_DISABLED, &c).is_empty());
        assert_eq!(run_container(&LOG_UNBOUNDED, &c).len(), 1);
        c.log
            .options
            .insert("max-size".into(), Sensitive::new("10m"));
        assert!(run_container(&LOG_UNBOUNDED, &c).is_empty());
        c.log
            .options
            .insert("max-size".into(), Sensitive::new("-1"));
        assert_eq!(run_container(&LOG_UNBOUNDED, &c).len(), 1);
        c.log.driver = "local".into();
        assert!(
            run_container(&LOG_UNBOUNDED, &c).is_empty(),
            "local rotates"
        );
    }
}
