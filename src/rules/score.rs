//! The per-container risk score, 0–100.
//!
//! The score's band is set by the worst active (not waived) finding, so the
//! number alone says how bad the worst thing is; where it sits inside the
//! band says how much else there is:
//!
//! | worst finding | band |
//! |---|---|
//! | critical | 75–100 |
//! | high     | 50–74 |
//! | medium   | 25–49 |
//! | low      | 1–24 |
//! | info or none | 0 |
//!
//! Inside the band every active finding counts as an independent chance
//! that the container is the way in, weighted by severity (critical 0.60,
//! high 0.30, medium 0.12, low 0.04, info 0):
//!
//! `score = low + round((high − low) × (1 − Π(1 − weight)))`
//!
//! So the score never exceeds 100, never falls when a finding is added, and
//! one critical finding always outranks any number of high ones. Waived
//! findings do not count.

use crate::model::{Finding, Severity};

/// How much one finding of this severity weighs in the risk score.
pub fn weight(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 0.60,
        Severity::High => 0.30,
        Severity::Medium => 0.12,
        Severity::Low => 0.04,
        Severity::Info => 0.0,
    }
}

/// The score range a worst finding of this severity puts a container in.
pub fn band(severity: Severity) -> (u8, u8) {
    match severity {
        Severity::Critical => (75, 100),
        Severity::High => (50, 74),
        Severity::Medium => (25, 49),
        Severity::Low => (1, 24),
        Severity::Info => (0, 0),
    }
}

/// The risk score of these findings, 0 to 100 (waived ones do not count).
pub fn risk_score<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> u8 {
    let mut worst: Option<Severity> = None;
    let mut safe = 1.0_f64;
    for f in findings.into_iter().filter(|f| !f.is_waived()) {
        safe *= 1.0 - weight(f.severity);
        worst = Some(worst.map_or(f.severity, |w| w.max(f.severity)));
    }
    let Some(worst) = worst else { return 0 };
    let (lo, hi) = band(worst);
    let within = (f64::from(hi - lo) * (1.0 - safe)).round();
    (f64::from(lo) + within).clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AppliedWaiver, Subject};

    fn f(severity: Severity) -> Finding {
        Finding {
            rule_id: "x",
            severity,
            subject: Subject::Engine,
            evidence: String::new(),
            waiver: None,
        }
    }

    #[test]
    fn documented_values() {
        assert_eq!(risk_score(&[]), 0);
        assert_eq!(risk_score(&[f(Severity::Info)]), 0);
        // 75 + round(25 × 0.60)
        assert_eq!(risk_score(&[f(Severity::Critical)]), 90);
        // 75 + round(25 × 0.84)
        assert_eq!(
            risk_score(&[f(Severity::Critical), f(Severity::Critical)]),
            96
        );
        // 1 + round(23 × (1 − 0.96³))
        assert_eq!(risk_score(&vec![f(Severity::Low); 3]), 4);
        // Any number of high findings stays below one critical.
        assert_eq!(risk_score(&vec![f(Severity::High); 50]), 74);
        assert_eq!(risk_score(&[f(Severity::Medium)]), 28);
    }

    #[test]
    fn waived_findings_do_not_count() {
        let mut w = f(Severity::Critical);
        w.waiver = Some(AppliedWaiver {
            reason: "r".into(),
            target: "*".into(),
            expires: None,
        });
        assert_eq!(risk_score(&[w]), 0);
    }

    proptest::proptest! {
        #[test]
        fn bounded_and_monotone(sevs in proptest::collection::vec(0u8..5, 0..40), extra in 0u8..5) {
            let to = |s: u8| f(match s { 0 => Severity::Info, 1 => Severity::Low, 2 => Severity::Medium, 3 => Severity::High, _ => Severity::Critical });
            let mut list: Vec<Finding> = sevs.into_iter().map(to).collect();
            let before = risk_score(&list);
            list.push(to(extra));
            let after = risk_score(&list);
            proptest::prop_assert!(after <= 100);
            proptest::prop_assert!(after >= before);
            // The band names the worst finding.
            let worst = list.iter().map(|f| f.severity).max().unwrap_or(Severity::Info);
            let (lo, hi) = band(worst);
            proptest::prop_assert!((lo..=hi).contains(&after));
        }
    }
}
