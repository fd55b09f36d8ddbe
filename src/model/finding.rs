use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered: `Info < Low < … < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; no risk by itself.
    Info,
    /// A small risk, or a hardening step.
    Low,
    /// A real weakness an attacker can use with other steps.
    Medium,
    /// A direct path to more privilege or to data.
    High,
    /// Host compromise or equivalent.
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Self::Critical,
        Self::High,
        Self::Medium,
        Self::Low,
        Self::Info,
    ];

    /// The lowercase name (`critical`, …), as in reports and the policy.
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
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Medium findings.
    pub medium: usize,
    /// Low findings.
    pub low: usize,
    /// Informational findings.
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

    /// Counts one finding of severity `s`.
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

    /// How many of severity `s` were counted.
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

    /// How many were counted in all.
    pub fn total(&self) -> usize {
        Severity::ALL.into_iter().map(|s| self.get(s)).sum()
    }

    /// Whether nothing was counted.
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
    /// Rule 1: vulnerability management.
    VulnerabilityManagement = 1,
    /// Rule 2: approved images only.
    ApprovedImages = 2,
    /// Rule 3: integrity.
    Integrity = 3,
    /// Rule 4: least privilege.
    LeastPrivilege = 4,
    /// Rule 5: whitelisted files and executables.
    Whitelisting = 5,
    /// Rule 6: network isolation.
    NetworkIsolation = 6,
    /// Rule 7: monitored activity.
    MonitorActivity = 7,
    /// Rule 8: audited admin access.
    AuditAdminAccess = 8,
}

impl SeedRule {
    /// The eight rules, in order.
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

    /// The rule's number, 1 to 8.
    pub fn number(self) -> u8 {
        self as u8
    }

    /// The rule's title, as the Overview shows it.
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

impl SeedRule {
    /// What the rule asks of a container setup, in one sentence (the
    /// Overview's explanation, for trainees).
    pub fn asks(self) -> &'static str {
        match self {
            Self::VulnerabilityManagement => {
                "Know which known vulnerabilities ship in every image you run, and replace images \
                 whose packages have fixes available; keep the engine itself current."
            }
            Self::ApprovedImages => {
                "Run only images from sources you trust and have approved, and keep secrets out \
                 of images and container settings, where anyone who can inspect them reads them."
            }
            Self::Integrity => {
                "Know exactly which image a container runs: pinned references, content trust, \
                 registries reached over TLS, builds that copy only what they mean to."
            }
            Self::LeastPrivilege => {
                "Give a container only the privileges its workload needs: a non-root user, no \
                 extra capabilities, the engine's confinement (seccomp, AppArmor/SELinux, \
                 namespaces) left on, and limits on what it may consume."
            }
            Self::Whitelisting => {
                "Let a container see and change only the files it needs: no host system paths, a \
                 read-only root filesystem, and no programs added after it started."
            }
            Self::NetworkIsolation => {
                "Reach only what a service must: its own network namespace, user-defined \
                 networks instead of the default bridge, ports published on the interfaces that \
                 need them."
            }
            Self::MonitorActivity => {
                "Record what containers do and whether they are healthy, kept long enough and off \
                 the machine, so an incident can be seen and reconstructed."
            }
            Self::AuditAdminAccess => {
                "Every administrative action on the engine — exec sessions, API access, waivers — \
                 is authorised, attributable and audited."
            }
        }
    }

    /// How an attacker exploits the rule's absence.
    pub fn exploited(self) -> &'static str {
        match self {
            Self::VulnerabilityManagement => {
                "A published exploit for a package in the image is the cheapest way in: no \
                 misconfiguration needed, just a version nobody updated."
            }
            Self::ApprovedImages => {
                "A typo-squatted or compromised image runs the attacker's code from the first \
                 second; a token in an environment variable is read by anyone with `docker \
                 inspect` or a foothold in the container."
            }
            Self::Integrity => {
                "A moved tag or a registry reached without TLS swaps the image under you: the \
                 next start runs something you never reviewed."
            }
            Self::LeastPrivilege => {
                "Code execution in a privileged or root container with capabilities and no \
                 seccomp is one step from the host: mount its disk, load a module, escape."
            }
            Self::Whitelisting => {
                "A writable host path or root filesystem lets an intruder persist: drop a binary, \
                 add an SSH key or a cron job, or change the host's own files."
            }
            Self::NetworkIsolation => {
                "From one compromised container on the host network or the default bridge, an \
                 attacker reaches every other service: databases, the engine API, the cloud \
                 metadata endpoint."
            }
            Self::MonitorActivity => {
                "Without logs or health signals an intrusion, a crypto miner or a one-second \
                 container that did its job and left is never noticed."
            }
            Self::AuditAdminAccess => {
                "Whoever reaches the engine API is root on the host; an exec as root or an \
                 unauthenticated TCP socket leaves no trail of who did what."
            }
        }
    }
}

/// The seven threats the checks defend against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Threat {
    /// Known vulnerabilities in the image's packages.
    VulnerableImages,
    /// More exposed than the workload needs.
    AttackSurface,
    /// What happens inside cannot be seen or traced.
    Observability,
    /// Containers that live too briefly to be watched.
    ShortLived,
    /// One container starving the host or its neighbours.
    ContainerDos,
    /// Escape to the host through root or privileges.
    BreakoutViaRoot,
    /// Attacks from one container to another over the network.
    LateralNetwork,
}

impl Threat {
    /// The seven threats, in order.
    pub const ALL: [Threat; 7] = [
        Self::VulnerableImages,
        Self::AttackSurface,
        Self::Observability,
        Self::ShortLived,
        Self::ContainerDos,
        Self::BreakoutViaRoot,
        Self::LateralNetwork,
    ];

    /// Its place in [`Threat::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The threat's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::VulnerableImages => "Vulnerable images",
            Self::AttackSurface => "Attack surface",
            Self::Observability => "Observability",
            Self::ShortLived => "Short-lived containers",
            Self::ContainerDos => "Container denial of service",
            Self::BreakoutViaRoot => "Breakout via root",
            Self::LateralNetwork => "Lateral network attacks",
        }
    }

    /// One sentence on what the threat is.
    pub fn about(self) -> &'static str {
        match self {
            Self::VulnerableImages => "known vulnerabilities, old, unpinned or unapproved images",
            Self::AttackSurface => {
                "what an intruder can reach or use once inside: services, ports, secrets, tools"
            }
            Self::Observability => "what would go unseen: no logs, no health, no audit",
            Self::ShortLived => "containers and execs that come and go between two looks",
            Self::ContainerDos => "one container starving the host or its neighbours",
            Self::BreakoutViaRoot => "root in the container becoming root on the host",
            Self::LateralNetwork => "one container reaching the others and the host's network",
        }
    }
}

/// What a finding is about. Every finding on a subject shares its names
/// (a container has a dozen findings; each holds a reference, not a copy).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The engine itself.
    Engine,
    /// The policy file.
    Policy,
    /// A container (or a Kubernetes workload's container).
    Container {
        /// Its id, unique within its source.
        id: std::sync::Arc<str>,
        /// Its name, as shown.
        name: std::sync::Arc<str>,
    },
    /// An image.
    Image {
        /// Its id (`sha256:…`).
        id: std::sync::Arc<str>,
    },
}

impl Subject {
    /// A Kubernetes workload container (its fix is pod-spec YAML).
    pub fn is_kube(&self) -> bool {
        matches!(self, Self::Container { id, .. } if super::kube::is_workload_id(id))
    }
}

/// A waiver from the policy file that matched a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedWaiver {
    /// The reason the waiver gives.
    pub reason: String,
    /// The waiver's target glob, or `*`.
    pub target: String,
    /// `YYYY-MM-DD`, when the waiver has an expiry.
    pub expires: Option<String>,
}

/// One rule firing on one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The id of the rule that found it (`privileged`, …).
    pub rule_id: &'static str,
    /// Effective severity, after policy overrides.
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject,
    /// What was seen, in words. Never contains a secret value.
    pub evidence: String,
    /// The policy waiver that covers it, if one does.
    pub waiver: Option<AppliedWaiver>,
}

impl Finding {
    /// Whether a waiver covers it (it is still shown and exported, but not counted).
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
