//! Compare a report with an earlier one: each finding becomes `new` or
//! `unchanged`, and findings that disappeared are listed as fixed.
//!
//! Findings are matched by subject (container name, image tag — names
//! survive a container being recreated, ids do not), rule id and evidence;
//! what is left is matched by subject and rule id alone, so a finding whose
//! evidence changed a little (an image a day older) is not both new and fixed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Report;
use crate::model::Severity;

/// What a baseline may be (read as [`crate::file`] reads: a
/// regular file only, within a size and a time). A finding is about 750
/// bytes of JSON; a machine of fifty old images with a thousand known
/// vulnerabilities each writes a report of some 40 MiB.
pub const FILE: crate::file::Limit = crate::file::Limit {
    what: "a baseline report",
    bytes: 256 << 20,
};

/// Whether a finding was already in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not in the baseline.
    New,
    /// In the baseline too.
    Unchanged,
}

/// A finding of the baseline that the current scan no longer has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixedFinding {
    /// `container`, `image`, `engine` or `policy`.
    pub subject_type: String,
    /// Its name or id.
    pub subject: String,
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// Its severity in the baseline.
    pub severity: Severity,
    /// Its evidence in the baseline.
    pub evidence: String,
}

/// How a scan compares with a baseline report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineReport {
    /// Where the baseline came from (a path, for people).
    pub source: String,
    /// When the baseline was generated.
    pub baseline_generated_at: DateTime<Utc>,
    /// Findings that are not in the baseline.
    pub new: usize,
    /// Findings that are in the baseline too.
    pub unchanged: usize,
    /// Findings of the baseline that are gone.
    pub fixed: Vec<FixedFinding>,
}

/// A finding's identity across scans: (subject key, rule id, evidence).
pub type Key = (String, String, String);

/// Match `new` findings against `old` ones: exact evidence first, then any
/// evidence of the same subject and rule. Returns each new finding's status
/// and the indices of old findings left unmatched (fixed).
pub fn classify(old: &[Key], new: &[Key]) -> (Vec<Status>, Vec<usize>) {
    let mut pool: HashMap<(&str, &str), Vec<(&str, usize)>> = HashMap::new();
    for (i, (subject, rule, evidence)) in old.iter().enumerate() {
        pool.entry((subject.as_str(), rule.as_str()))
            .or_default()
            .push((evidence.as_str(), i));
    }
    let mut status = vec![None; new.len()];
    for exact in [true, false] {
        for (n, (subject, rule, evidence)) in new.iter().enumerate() {
            if status[n].is_some() {
                continue;
            }
            if let Some(list) = pool.get_mut(&(subject.as_str(), rule.as_str()))
                && let Some(pos) = list
                    .iter()
                    .position(|(e, _)| !exact || *e == evidence.as_str())
            {
                list.remove(pos);
                status[n] = Some(Status::Unchanged);
            }
        }
    }
    let mut fixed: Vec<usize> = pool.into_values().flatten().map(|(_, i)| i).collect();
    fixed.sort_unstable();
    (
        status
            .into_iter()
            .map(|s| s.unwrap_or(Status::New))
            .collect(),
        fixed,
    )
}

/// Each finding's key. With `by_engine`, the subject includes its engine
/// (`web` on two engines is two subjects); a schema 2 baseline has no
/// engines, so then only names are compared.
pub fn keys(report: &Report, by_engine: bool) -> Vec<Key> {
    report
        .subjects()
        .iter()
        .map(|(s, f)| {
            let subject = match s {
                _ if by_engine => format!("{}@{}", s.key(), s.engine()),
                // A schema 2 report names its engine "engine"; ours by name.
                super::Subject::Engine(_) => "engine:".to_string(),
                _ => s.key(),
            };
            (subject, f.rule_id.clone(), f.evidence.clone())
        })
        .collect()
}

/// Mark `report`'s findings against `old` and record what was fixed.
pub fn apply(report: &mut Report, old: &Report, source: &str) {
    let old_subjects = old.subjects();
    let by_engine = !old.engines.is_empty() && !report.engines.is_empty();
    let (status, fixed_idx) = classify(&keys(old, by_engine), &keys(report, by_engine));
    let fixed: Vec<FixedFinding> = fixed_idx
        .into_iter()
        .map(|i| {
            let (subject, f) = &old_subjects[i];
            FixedFinding {
                subject_type: subject.kind().into(),
                subject: subject.name(),
                rule_id: f.rule_id.clone(),
                title: f.title.clone(),
                severity: f.severity,
                evidence: f.evidence.clone(),
            }
        })
        .collect();
    let mut new = 0;
    let mut unchanged = 0;
    let mut n = 0;
    let mut mark = |f: &mut super::FindingReport| {
        let s = status[n];
        match s {
            Status::New => new += 1,
            Status::Unchanged => unchanged += 1,
        }
        f.baseline = Some(s);
        n += 1;
    };
    // Same order as `subjects()`.
    if report.engines.is_empty() {
        report.engine_findings.iter_mut().for_each(&mut mark);
    } else {
        report
            .engines
            .iter_mut()
            .flat_map(|e| e.engine_findings.iter_mut())
            .for_each(&mut mark);
    }
    report.policy_findings.iter_mut().for_each(&mut mark);
    report
        .containers
        .iter_mut()
        .flat_map(|c| c.findings.iter_mut())
        .for_each(&mut mark);
    report
        .images
        .iter_mut()
        .flat_map(|i| i.findings.iter_mut())
        .for_each(&mut mark);
    // The top-level list is the first engine's: keep it in step.
    if let Some(first) = report.engines.first()
        && first.endpoint == report.engine.endpoint
    {
        report.engine_findings = first.engine_findings.clone();
    }
    report.baseline = Some(BaselineReport {
        source: source.to_string(),
        baseline_generated_at: old.generated_at,
        new,
        unchanged,
        fixed,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::demo_report;

    #[test]
    fn same_scan_is_all_unchanged() {
        let old = demo_report();
        let mut now = demo_report();
        apply(&mut now, &old, "old.json");
        let b = now.baseline.as_ref().unwrap();
        assert_eq!(b.new, 0);
        assert!(b.unchanged > 50);
        assert!(b.fixed.is_empty());
        assert!(
            now.all_findings()
                .all(|f| f.baseline == Some(Status::Unchanged))
        );
    }

    #[test]
    fn new_fixed_and_slightly_changed_evidence() {
        let mut old = demo_report();
        let mut now = demo_report();
        // Fixed since then: the privileged container is gone today.
        now.containers
            .retain(|c| c.name != "lab-legacy-admin-panel");
        // New today: a finding the old report did not have.
        let mut extra = now.containers[0].findings[0].clone();
        extra.rule_id = "container.sshd".into();
        extra.evidence = "process sshd".into();
        now.containers[0].findings.push(extra);
        // Same finding, evidence drifted (an image a day older).
        let f = &mut old
            .containers
            .iter_mut()
            .find(|c| c.name == "lab-postgres")
            .unwrap()
            .findings[0];
        f.evidence.push_str(" (yesterday)");
        apply(&mut now, &old, "old.json");
        let b = now.baseline.clone().unwrap();
        assert_eq!(b.new, 1);
        let removed = old
            .containers
            .iter()
            .find(|c| c.name == "lab-legacy-admin-panel")
            .unwrap()
            .findings
            .len();
        assert_eq!(b.fixed.len(), removed);
        assert!(
            b.fixed
                .iter()
                .all(|f| f.subject == "lab-legacy-admin-panel" && f.subject_type == "container")
        );
        let pg = now
            .containers
            .iter()
            .find(|c| c.name == "lab-postgres")
            .unwrap();
        assert_eq!(pg.findings[0].baseline, Some(Status::Unchanged));
        assert_eq!(
            now.containers[0].findings.last().unwrap().baseline,
            Some(Status::New)
        );
    }
}
