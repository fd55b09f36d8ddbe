//! Monitoring: does the engine know whether the container is healthy?

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{SeedRule, Severity};

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
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/reference/dockerfile/#healthcheck",
    ],
    check: Check::Container(|_, c| match &c.healthcheck {
        None => vec![Hit::new("no healthcheck in the container or its image")],
        Some(h) if h.is_disabled() => vec![Hit::new("healthcheck disabled (NONE)")],
        Some(_) => vec![],
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
}
