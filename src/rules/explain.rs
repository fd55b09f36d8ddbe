//! A rule's explanation, as every renderer shows it: the risk panel, the
//! HTML and Markdown reports, SARIF's rule help and the rule docs. The
//! headings, their order and which fixes apply to a finding's source are
//! decided here once; each renderer only formats them.

use super::Rule;

/// The headings of an explanation.
pub const WHY: &str = "Why it matters";
/// The heading of the attacker section.
pub const ATTACK: &str = "How an attacker uses it";
/// The heading of the fix section.
pub const FIX: &str = "Fix";

/// A rule's explanation as `(heading, text)`, in the order every renderer
/// shows it.
pub fn sections(r: &Rule) -> [(&'static str, &'static str); 3] {
    [(WHY, r.why), (ATTACK, r.attack), (FIX, r.fix.summary)]
}

/// Which configuration a fix is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixFor {
    /// A container of an engine: the `docker run` flag and the compose key.
    Engine,
    /// A Kubernetes workload: the pod-spec YAML.
    Kubernetes,
    /// The catalogue (docs, SARIF rule help): every spelling.
    Any,
}

impl FixFor {
    /// Where a finding on this subject is fixed.
    pub fn of(subject: &crate::model::Subject) -> Self {
        if subject.is_kube() {
            Self::Kubernetes
        } else {
            Self::Engine
        }
    }
}

/// The configuration a fix is spelled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixKind {
    /// A `docker run` flag.
    Run,
    /// A compose file key.
    Compose,
    /// A pod spec field.
    Kubernetes,
}

/// One spelling of a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixCode {
    /// Where the fix is written.
    pub kind: FixKind,
    /// `docker run`, `compose`, `Kubernetes`.
    pub label: &'static str,
    /// The fix's text.
    pub code: &'static str,
    /// Several lines of YAML (shown as a block, not inline).
    pub yaml: bool,
}

/// The label of `docker run` fixes.
pub const RUN: &str = "docker run";
/// The label of compose fixes.
pub const COMPOSE: &str = "compose";
/// The label of Kubernetes fixes.
pub const KUBERNETES: &str = "Kubernetes";

/// The fixes of a rule that apply where it is fixed, in order; those the
/// rule has no spelling for are left out.
pub fn fixes(r: &Rule, at: FixFor) -> Vec<FixCode> {
    let engine = at != FixFor::Kubernetes;
    let kube = at != FixFor::Engine;
    [
        (engine, FixKind::Run, RUN, r.fix.run, false),
        (engine, FixKind::Compose, COMPOSE, r.fix.compose, true),
        (kube, FixKind::Kubernetes, KUBERNETES, r.fix.kube, true),
    ]
    .into_iter()
    .filter(|(wanted, _, _, code, _)| *wanted && !code.is_empty())
    .map(|(_, kind, label, code, yaml)| FixCode {
        kind,
        label,
        code,
        yaml,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_explains_itself_in_order_with_a_fix_for_where_it_applies() {
        for r in super::super::ALL {
            let s = sections(r);
            assert_eq!(s.map(|(h, _)| h), [WHY, ATTACK, FIX]);
            assert!(s.iter().all(|(_, t)| !t.is_empty()), "{}", r.id);
            let any = fixes(r, FixFor::Any);
            assert_eq!(
                any.len(),
                fixes(r, FixFor::Engine).len() + fixes(r, FixFor::Kubernetes).len(),
                "{}: every spelling is for one source",
                r.id
            );
            if !r.fix.kube.is_empty() {
                assert_eq!(fixes(r, FixFor::Kubernetes)[0].code, r.fix.kube);
            }
        }
        let p = &super::super::privileges::PRIVILEGED;
        let labels = |at| fixes(p, at).iter().map(|f| f.label).collect::<Vec<_>>();
        assert_eq!(labels(FixFor::Engine), [RUN, COMPOSE]);
        assert_eq!(labels(FixFor::Kubernetes), [KUBERNETES]);
        assert_eq!(labels(FixFor::Any), [RUN, COMPOSE, KUBERNETES]);
    }
}
