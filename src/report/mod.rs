//! Reports: one serialisable report model built from an inventory, its
//! assessment and the rule metadata, and exporters over it.
//!
//! The JSON form of [`Report`] is a documented contract (`docs/report-json.md`);
//! bump [`SCHEMA_VERSION`] on any incompatible change.

pub mod json;
pub mod write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assess::Assessment;
use crate::model::{Finding, Inventory, Severity};
use crate::policy::Policy;
use crate::rules;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub generated_at: DateTime<Utc>,
    pub tool: Tool,
    pub engine: EngineReport,
    pub policy: PolicyReport,
    pub summary: Summary,
    pub engine_findings: Vec<FindingReport>,
    pub policy_findings: Vec<FindingReport>,
    pub containers: Vec<ContainerReport>,
    pub images: Vec<ImageReport>,
    /// Non-fatal problems during the scan (objects that vanished, …).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EngineReport {
    pub found_by: String,
    pub endpoint: String,
    pub product: String,
    pub version: String,
    pub api_version: String,
    pub os: String,
    pub kernel: String,
    pub architecture: String,
    pub security_options: Vec<String>,
    pub rootless: bool,
    pub userns: bool,
    pub apparmor: bool,
    pub selinux: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolicyReport {
    pub source: String,
    pub approved_images: Vec<String>,
    pub max_image_age_days: u32,
    pub waivers: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
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
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub containers: usize,
    pub images: usize,
    /// Active (not waived) findings by severity.
    pub findings: SeverityCounts,
    pub waived: usize,
    /// Worst active finding, `null` when there is none.
    pub highest_severity: Option<Severity>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Remediation {
    pub summary: String,
    /// The `docker run` flag(s); empty when not applicable.
    pub docker_run: String,
    /// The compose-file key(s); empty when not applicable.
    pub compose: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverReport {
    pub reason: String,
    pub target: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingReport {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub cis: Option<String>,
    pub seed_rule: u8,
    pub evidence: String,
    pub remediation: Remediation,
    pub waived: bool,
    pub waiver: Option<WaiverReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerReport {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub state: String,
    pub created: Option<DateTime<Utc>>,
    pub risk_score: u8,
    pub highest_severity: Option<Severity>,
    pub findings: Vec<FindingReport>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageReport {
    pub id: String,
    pub tags: Vec<String>,
    pub created: Option<DateTime<Utc>>,
    pub size: i64,
    /// Names of the containers created from this image.
    pub used_by: Vec<String>,
    pub findings: Vec<FindingReport>,
}

fn finding(f: &Finding) -> FindingReport {
    let rule = rules::by_id(f.rule_id);
    FindingReport {
        rule_id: f.rule_id.to_string(),
        title: rule.map_or_else(|| f.rule_id.to_string(), |r| r.title.to_string()),
        severity: f.severity,
        cis: rule.and_then(|r| r.cis).map(str::to_string),
        seed_rule: rule.map_or(0, |r| r.seed.number()),
        evidence: f.evidence.clone(),
        remediation: Remediation {
            summary: rule.map(|r| r.fix.summary.to_string()).unwrap_or_default(),
            docker_run: rule.map(|r| r.fix.run.to_string()).unwrap_or_default(),
            compose: rule.map(|r| r.fix.compose.to_string()).unwrap_or_default(),
        },
        waived: f.is_waived(),
        waiver: f.waiver.as_ref().map(|w| WaiverReport {
            reason: w.reason.clone(),
            target: w.target.clone(),
            expires: w.expires.clone(),
        }),
    }
}

fn highest(findings: &[Finding]) -> Option<Severity> {
    findings
        .iter()
        .filter(|f| !f.is_waived())
        .map(|f| f.severity)
        .max()
}

impl Report {
    pub fn build(
        inv: &Inventory,
        a: &Assessment,
        policy: &Policy,
        generated_at: DateTime<Utc>,
    ) -> Self {
        let e = &inv.engine;
        let mut containers: Vec<ContainerReport> = inv
            .containers
            .iter()
            .map(|c| {
                let ca = a.container(&c.id).cloned().unwrap_or_default();
                ContainerReport {
                    id: c.id.clone(),
                    name: c.name.clone(),
                    image: c.image.clone(),
                    image_id: c.image_id.clone(),
                    state: c.state.as_str().to_string(),
                    created: c.created,
                    risk_score: ca.score,
                    highest_severity: highest(&ca.findings),
                    findings: ca.findings.iter().map(finding).collect(),
                }
            })
            .collect();
        containers.sort_by(|x, y| x.name.cmp(&y.name).then_with(|| x.id.cmp(&y.id)));

        let mut images: Vec<ImageReport> = inv
            .images
            .iter()
            .map(|img| {
                let mut used_by: Vec<String> = inv
                    .containers_using(&img.id)
                    .map(|c| c.name.clone())
                    .collect();
                used_by.sort();
                let mut tags = img.tags.clone();
                tags.sort();
                ImageReport {
                    id: img.id.clone(),
                    tags,
                    created: img.created,
                    size: img.size,
                    used_by,
                    findings: a.image(&img.id).iter().map(finding).collect(),
                }
            })
            .collect();
        images.sort_by(|x, y| {
            x.tags
                .first()
                .cmp(&y.tags.first())
                .then_with(|| x.id.cmp(&y.id))
        });

        let mut counts = SeverityCounts::default();
        let mut waived = 0;
        for f in a.all() {
            if f.is_waived() {
                waived += 1;
            } else {
                counts.add(f.severity);
            }
        }

        Report {
            schema_version: SCHEMA_VERSION,
            generated_at,
            tool: Tool {
                name: "shipshape".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            engine: EngineReport {
                found_by: e.found_by.clone(),
                endpoint: e.endpoint.clone(),
                product: e.product.as_str().into(),
                version: e.version.clone(),
                api_version: e.api_version.clone(),
                os: e.os.clone(),
                kernel: e.kernel.clone(),
                architecture: e.architecture.clone(),
                security_options: e.security.raw.clone(),
                rootless: e.security.rootless,
                userns: e.security.userns,
                apparmor: e.security.apparmor,
                selinux: e.security.selinux,
            },
            policy: PolicyReport {
                source: policy.describe_source(),
                approved_images: policy.approved.iter().map(|p| p.pattern.clone()).collect(),
                max_image_age_days: policy.max_image_age_days,
                waivers: policy.waivers.len(),
            },
            summary: Summary {
                containers: inv.containers.len(),
                images: inv.images.len(),
                findings: counts,
                waived,
                highest_severity: a.max_active_severity(),
            },
            engine_findings: a.engine.iter().map(finding).collect(),
            policy_findings: a.policy.iter().map(finding).collect(),
            containers,
            images,
            warnings: inv.warnings.clone(),
        }
    }

    /// Every finding in the report.
    pub fn all_findings(&self) -> impl Iterator<Item = &FindingReport> {
        self.engine_findings
            .iter()
            .chain(&self.policy_findings)
            .chain(self.containers.iter().flat_map(|c| &c.findings))
            .chain(self.images.iter().flat_map(|i| &i.findings))
    }

    /// Any active finding at or above `threshold`?
    pub fn has_active_at_least(&self, threshold: Severity) -> bool {
        self.all_findings()
            .any(|f| !f.waived && f.severity >= threshold)
    }

    /// A few lines for people, for the terminal.
    pub fn human_summary(&self) -> String {
        let s = &self.summary;
        let c = &s.findings;
        let mut out = format!(
            "shipshape: {} {} via {} ({}), API {}\n  {} containers, {} images — findings: {} critical, {} high, {} medium, {} low, {} info{}\n",
            self.engine.product,
            self.engine.version,
            self.engine.found_by,
            self.engine.endpoint,
            self.engine.api_version,
            s.containers,
            s.images,
            c.critical,
            c.high,
            c.medium,
            c.low,
            c.info,
            if s.waived > 0 {
                format!(" ({} waived)", s.waived)
            } else {
                String::new()
            }
        );
        let mut risky: Vec<&ContainerReport> = self
            .containers
            .iter()
            .filter(|c| c.risk_score > 0)
            .collect();
        risky.sort_by(|a, b| {
            b.risk_score
                .cmp(&a.risk_score)
                .then_with(|| a.name.cmp(&b.name))
        });
        for c in risky.iter().take(5) {
            out.push_str(&format!(
                "  {:>3}  {} ({}, {})\n",
                c.risk_score,
                c.name,
                c.state,
                c.highest_severity.map_or("-", |s| s.as_str())
            ));
        }
        for w in &self.warnings {
            out.push_str(&format!("  warning: {w}\n"));
        }
        out
    }
}
