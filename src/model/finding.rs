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
    fn severity_order_and_parse() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }
}
