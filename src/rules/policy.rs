//! Findings about the policy file itself.

use super::{Check, Family, Fix, Rule};
use crate::model::{SeedRule, Severity};

/// The `policy.waiver-expired` rule: Policy waiver has expired.
pub const WAIVER_EXPIRED: Rule = Rule {
    id: "policy.waiver-expired",
    title: "Policy waiver has expired",
    severity: Severity::Low,
    family: Family::Policy,
    cis: None,
    seed: SeedRule::AuditAdminAccess,
    why: "A waiver is a time-boxed decision to accept a risk. Once it expires the finding it \
          covered is active again, and the decision needs to be made anew.",
    attack: "Forgotten, open-ended exceptions are how a temporary shortcut becomes a permanent \
             hole.",
    fix: Fix {
        summary: "Fix the underlying finding, or renew the waiver with a new expiry date and reason in the policy file.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &["docs/policy.md"],
    check: Check::Policy,
};
