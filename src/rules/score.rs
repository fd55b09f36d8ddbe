//! The per-container risk score, 0–100.
//!
//! Each active (not waived) finding is treated as an independent chance that
//! the container is the way in, weighted by severity:
//!
//! | severity | weight |
//! |---|---|
//! | critical | 0.60 |
//! | high     | 0.30 |
//! | medium   | 0.12 |
//! | low      | 0.04 |
//! | info     | 0    |
//!
//! `score = round(100 × (1 − Π(1 − weight)))`
//!
//! So one critical finding alone scores 60, two score 84; a container with
//! only a few low findings stays under 15; the score never exceeds 100 and
//! every extra finding raises it a little. Waived findings do not count.

use crate::model::{Finding, Severity};

pub fn weight(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 0.60,
        Severity::High => 0.30,
        Severity::Medium => 0.12,
        Severity::Low => 0.04,
        Severity::Info => 0.0,
    }
}

pub fn risk_score<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> u8 {
    let safe: f64 = findings
        .into_iter()
        .filter(|f| !f.is_waived())
        .map(|f| 1.0 - weight(f.severity))
        .product();
    (100.0 * (1.0 - safe)).round().clamp(0.0, 100.0) as u8
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
        assert_eq!(risk_score(&[f(Severity::Critical)]), 60);
        assert_eq!(
            risk_score(&[f(Severity::Critical), f(Severity::Critical)]),
            84
        );
        assert_eq!(risk_score(&vec![f(Severity::Low); 3]), 12);
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
        }
    }
}
