use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Low < … < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Self::Info),
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            "critical" => Ok(Self::Critical),
            other => Err(format!(
                "unknown severity '{other}' (expected critical, high, medium, low or info)"
            )),
        }
    }
}

/// How many findings there are of each severity. The one type for every
/// count of findings (views, reports, the audit log), keyed by name so it
/// cannot be read in the wrong order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    /// Count the active (not waived) findings among these.
    pub fn active<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Self {
        let mut out = Self::default();
        for f in findings.into_iter().filter(|f| !f.is_waived()) {
            out.add(f.severity);
        }
        out
    }

    pub fn add(&mut self, s: Severity) {
        *self.slot(s) += 1;
    }

    /// Add another set of counts to these.
    pub fn merge(&mut self, other: &SeverityCounts) {
        for (s, n) in other.iter() {
            *self.slot(s) += n;
        }
    }

    fn slot(&mut self, s: Severity) -> &mut usize {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    /// The worst severity with at least one finding.
    pub fn highest(&self) -> Option<Severity> {
        Severity::ALL.into_iter().find(|&s| self.get(s) > 0)
    }

    pub fn total(&self) -> usize {
        Severity::ALL.into_iter().map(|s| self.get(s)).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }

    /// `1 critical, 4 medium, 6 low`: the non-zero counts, worst first
    /// (`none` when empty).
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }

    /// `(severity, count)`, worst first.
    pub fn iter(&self) -> impl Iterator<Item = (Severity, usize)> + '_ {
        Severity::ALL.into_iter().map(|s| (s, self.get(s)))
    }
}

/// Worse counts sort higher: more criticals first, then more highs, …
impl Ord for SeverityCounts {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter()
            .map(|(_, n)| n)
            .cmp(other.iter().map(|(_, n)| n))
    }
}

impl PartialOrd for SeverityCounts {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The eight seed rules every check serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeedRule {
    VulnerabilityManagement = 1,
    ApprovedImages = 2,
    Integrity = 3,
    LeastPrivilege = 4,
    Whitelisting = 5,
    NetworkIsolation = 6,
    MonitorActivity = 7,
    AuditAdminAccess = 8,
}

impl SeedRule {
    pub const ALL: [SeedRule; 8] = [
        Self::VulnerabilityManagement,
        Self::ApprovedImages,
        Self::Integrity,
        Self::LeastPrivilege,
        Self::Whitelisting,
        Self::NetworkIsolation,
        Self::MonitorActivity,
        Self::AuditAdminAccess,
    ];

    pub fn number(self) -> u8 {
        self as u8
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::VulnerabilityManagement => "Vulnerability management",
            Self::ApprovedImages => "Approved images only",
            Self::Integrity => "Integrity",
            Self::LeastPrivilege => "Least privilege",
            Self::Whitelisting => "Whitelisted files and executables",
            Self::NetworkIsolation => "Network isolation",
            Self::MonitorActivity => "Monitor activity and access",
            Self::AuditAdminAccess => "Audit administrative access",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Engine,
    Policy,
    Container { id: String, name: String },
    Image { id: String },
}

/// A waiver from the policy file that matched a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedWaiver {
    pub reason: String,
    /// The waiver's target glob, or `*`.
    pub target: String,
    /// `YYYY-MM-DD`, when the waiver has an expiry.
    pub expires: Option<String>,
}

/// One rule firing on one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule_id: &'static str,
    /// Effective severity, after policy overrides.
    pub severity: Severity,
    pub subject: Subject,
    /// What was seen, in words. Never contains a secret value.
    pub evidence: String,
    pub waiver: Option<AppliedWaiver>,
}

impl Finding {
    pub fn is_waived(&self) -> bool {
        self.waiver.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_keyed_by_severity() {
        let mut c = SeverityCounts::default();
        assert_eq!(c.highest(), None);
        c.add(Severity::Info);
        c.add(Severity::Info);
        assert_eq!(c.highest(), Some(Severity::Info));
        c.add(Severity::Critical);
        assert_eq!((c.critical, c.info, c.total()), (1, 2, 3));
        assert_eq!(c.highest(), Some(Severity::Critical));
        let mut more_high = SeverityCounts::default();
        for _ in 0..9 {
            more_high.add(Severity::High);
        }
        assert!(c > more_high, "one critical outranks nine highs");
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["critical"], 1);
        assert_eq!(json["info"], 2);
    }

    #[test]
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }
}
