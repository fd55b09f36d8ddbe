//! Reports: one serialisable report model built from an inventory, its
//! assessment and the rule metadata, and exporters over it.
//!
//! The JSON form of [`Report`] is a documented contract (`docs/report-json.md`);
//! bump [`SCHEMA_VERSION`] on any incompatible change.

pub mod baseline;
pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod overview;
pub mod priorities;
pub mod sarif;
pub mod sbom;
pub mod write;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assess::Assessment;
use crate::model::compose::ComposeFile;
use crate::model::{Finding, Inventory, Severity};
use crate::policy::Policy;
use crate::rules;

/// The version of the JSON report's schema; raised on every incompatible change.
pub const SCHEMA_VERSION: u32 = 3;

/// Older versions a baseline may still be (their missing fields default).
pub const READABLE_SCHEMA_VERSIONS: &[u32] = &[2, 3];

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON, the full report.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// A self-contained HTML page.
    Html,
    /// CSV, one row per finding.
    Csv,
    /// Markdown.
    Markdown,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 5] = [
        Self::Json,
        Self::Sarif,
        Self::Html,
        Self::Csv,
        Self::Markdown,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Sarif => "SARIF",
            Self::Html => "HTML",
            Self::Csv => "CSV",
            Self::Markdown => "Markdown",
        }
    }

    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Sarif => "sarif",
            Self::Html => "html",
            Self::Csv => "csv",
            Self::Markdown => "md",
        }
    }

    /// Renders the report in this format.
    pub fn render(self, report: &Report) -> String {
        match self {
            Self::Json => json::render(report),
            Self::Sarif => sarif::render(report),
            Self::Html => html::render(report),
            Self::Csv => csv::render(report),
            Self::Markdown => markdown::render(report),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "sarif" => Ok(Self::Sarif),
            "html" => Ok(Self::Html),
            "csv" => Ok(Self::Csv),
            "md" | "markdown" => Ok(Self::Markdown),
            other => Err(format!(
                "unknown format '{other}' (expected json, sarif, html, csv or md)"
            )),
        }
    }
}

/// Read an earlier JSON report to compare against.
pub fn load_baseline(path: &std::path::Path) -> Result<Report, String> {
    let text = crate::file::read_to_string(path, baseline::FILE)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let report: Report = json::parse(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a shipshape JSON report: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if !READABLE_SCHEMA_VERSIONS.contains(&report.schema_version) {
        return Err(format!(
            "{}: report schema version {} is not {SCHEMA_VERSION}, the version this shipshape reads",
            path.display(),
            report.schema_version
        ));
    }
    Ok(report)
}

/// How many "fix first" rows a report keeps.
pub const PRIORITIES_SHOWN: usize = 50;

/// A complete scan report: what `scan` writes and the window exports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// When the scan ran.
    pub generated_at: DateTime<Utc>,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The first engine reached (the only one, for a one-engine scan).
    /// Every engine is in `engines`.
    pub engine: EngineReport,
    /// Every engine scanned, reached or not, in the order given.
    #[serde(default)]
    pub engines: Vec<EngineSection>,
    /// The policy the scan applied.
    pub policy: PolicyReport,
    /// Totals over every engine.
    pub summary: Summary,
    /// The findings of `engine` (each engine's own are in `engines`).
    pub engine_findings: Vec<FindingReport>,
    /// Findings about the policy itself.
    pub policy_findings: Vec<FindingReport>,
    /// Every container, on every engine.
    pub containers: Vec<ContainerReport>,
    /// Every image, on every engine.
    pub images: Vec<ImageReport>,
    /// "Fix first": the known vulnerabilities that matter most, each in
    /// the container that carries it, with the reasons (the first
    /// [`PRIORITIES_SHOWN`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<priorities::PriorityRow>,
    /// Non-fatal problems during the scan (objects that vanished, …).
    pub warnings: Vec<String>,
    /// Comparison with an earlier report, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineReport>,
}

/// One engine of a scan: who it is, whether it answered, its own findings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EngineSection {
    /// Its name in this report (the context's name, the kind of socket, or
    /// the address): what each container's and image's `engine` says, and
    /// what a waiver's `engine` matches.
    pub name: String,
    /// How it was reached (`unix:///var/run/docker.sock`, …).
    pub endpoint: String,
    /// Whether it answered.
    pub reachable: bool,
    /// Why it could not be scanned, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its `/info` ID (empty when unreachable).
    #[serde(default)]
    pub id: String,
    /// Its data root (`/info` `DockerRootDir`): with the ID, who it is
    /// (two engines may share an ID; see [`crate::model::EngineIdentity`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data_root: String,
    /// Other endpoints that led to this same engine (same ID and data root).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_reached_as: Vec<String>,
    /// What the engine reported about itself, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<EngineReport>,
    /// Totals for this engine.
    pub summary: Summary,
    /// Findings about the engine itself.
    pub engine_findings: Vec<FindingReport>,
}

/// The tool that wrote the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    /// `shipshape`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// What an engine said about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EngineReport {
    /// How its address was found (flag, `DOCKER_HOST`, context, socket).
    pub found_by: String,
    /// The address it was reached at.
    pub endpoint: String,
    /// Docker or Podman.
    pub product: String,
    /// Its version.
    pub version: String,
    /// The API version it speaks.
    pub api_version: String,
    /// The host's operating system.
    pub os: String,
    /// The host's kernel.
    pub kernel: String,
    /// The host's CPU architecture.
    pub architecture: String,
    /// Its `SecurityOptions`, as reported.
    pub security_options: Vec<String>,
    /// It runs without root.
    pub rootless: bool,
    /// User-namespace remapping is on.
    pub userns: bool,
    /// AppArmor is on.
    pub apparmor: bool,
    /// SELinux is on.
    pub selinux: bool,
}

/// The policy a report applied.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PolicyReport {
    /// Its file, or the built-in default.
    pub source: String,
    /// The approved image patterns.
    pub approved_images: Vec<String>,
    /// The image age limit in days.
    pub max_image_age_days: u32,
    /// How many waivers it has.
    pub waivers: usize,
}

/// Findings by severity: the one count type, from `model`.
pub use crate::model::SeverityCounts;

/// Counts over a report or one engine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Containers assessed.
    pub containers: usize,
    /// Images assessed.
    pub images: usize,
    /// Active (not waived) findings by severity.
    pub findings: SeverityCounts,
    /// Findings a waiver covers.
    pub waived: usize,
    /// Worst active finding, `null` when there is none.
    pub highest_severity: Option<Severity>,
}

/// How to fix a finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Remediation {
    /// The fix in one sentence.
    pub summary: String,
    /// The `docker run` flag(s); empty when not applicable.
    pub docker_run: String,
    /// The compose-file key(s); empty when not applicable.
    pub compose: String,
    /// On a Kubernetes workload: the pod-spec YAML to set (then the
    /// `docker run` flag and compose key are empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kubernetes: String,
}

impl Remediation {
    /// The fix of `rule` for where it was found ([`rules::explain::fixes`]).
    pub fn of(rule: Option<&rules::Rule>, kube: bool) -> Self {
        use rules::explain::{FixFor, FixKind, fixes};
        let mut r = Self {
            summary: rule.map(|r| r.fix.summary.to_string()).unwrap_or_default(),
            docker_run: String::new(),
            compose: String::new(),
            kubernetes: String::new(),
        };
        let at = if kube {
            FixFor::Kubernetes
        } else {
            FixFor::Engine
        };
        for fix in rule.map(|rule| fixes(rule, at)).unwrap_or_default() {
            let slot = match fix.kind {
                FixKind::Run => &mut r.docker_run,
                FixKind::Compose => &mut r.compose,
                FixKind::Kubernetes => &mut r.kubernetes,
            };
            *slot = fix.code.to_string();
        }
        r
    }
}

/// The waiver that covers a finding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WaiverReport {
    /// Its reason.
    pub reason: String,
    /// The target glob it names.
    pub target: String,
    /// Its expiry day (`YYYY-MM-DD`), if any.
    pub expires: Option<String>,
}

/// One finding in a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FindingReport {
    /// The rule's id.
    pub rule_id: String,
    /// The rule's title.
    pub title: String,
    /// Its severity, after the policy's overrides.
    pub severity: Severity,
    /// The CIS Docker Benchmark section, where there is one.
    pub cis: Option<String>,
    /// The number of the seed rule it serves (1 to 8).
    pub seed_rule: u8,
    /// What was seen (never a secret's value).
    pub evidence: String,
    /// How to fix it.
    pub remediation: Remediation,
    /// Whether a waiver covers it.
    pub waived: bool,
    /// The waiver, when one covers it.
    pub waiver: Option<WaiverReport>,
    /// `new` or `unchanged` against a baseline report; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::Status>,
    /// The file and line that causes it (a compose file's key, or the
    /// service when the key is missing), when the container came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<FileLocation>,
}

pub use crate::model::compose::FileLocation;

/// One container in a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerReport {
    /// The engine it runs on (`engines[].name`).
    #[serde(default)]
    pub engine: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The image reference it was created from.
    pub image: String,
    /// The image id it runs.
    pub image_id: String,
    /// Its state (`running`, `exited`, …).
    pub state: String,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
    /// Its risk score, 0 to 100.
    pub risk_score: u8,
    /// Its worst active finding, `null` when there is none.
    pub highest_severity: Option<Severity>,
    /// Container labels; values that look like secrets are replaced by
    /// `<hidden>`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its findings, its image's counted finding included.
    pub findings: Vec<FindingReport>,
    /// Removed from the engine at this time (the state is then `gone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_at: Option<DateTime<Utc>>,
    /// `docker exec` sessions seen: user, command, privileged, tty, times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec_sessions: Vec<crate::model::ExecSession>,
    /// Filesystem drift, when it was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<crate::model::Drift>,
    /// Its own packages' vulnerabilities, when its package database changed
    /// after it started (otherwise its image's apply).
    #[serde(default, skip_serializing_if = "is_not_scanned")]
    pub vulnerabilities: crate::model::packages::VulnState,
    /// On a Kubernetes cluster: the workload this row stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubeReport>,
    /// Created by Compose: its project, service and compose files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compose: Option<crate::model::compose::ComposeRef>,
    /// Its processes as the runtime source read them (a running container
    /// of a local engine), or why they could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<crate::model::runtime::Observed>,
    /// Its sockets as observed (listeners, connections with both ends
    /// named), or why they could not be read; absent when not read.
    #[serde(default, skip_serializing_if = "is_not_read")]
    pub network: crate::model::flows::NetObserved,
}

/// A workload container of a Kubernetes cluster, in a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KubeReport {
    /// The workload's namespace.
    pub namespace: String,
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `Job`, `CronJob`, `Pod`, …
    pub kind: String,
    /// The workload's name.
    pub workload: String,
    /// The container's name in the pod spec.
    pub container: String,
    /// `container`, `init container` or `ephemeral container`.
    pub role: String,
    /// The pods of the workload that run this container.
    pub pods: Vec<String>,
    /// How many of those pods are running.
    pub running: usize,
    /// The pod's Pod Security Standards level.
    pub pod_security_level: String,
    /// What keeps it from the next level.
    pub pod_security_blockers: Vec<String>,
    /// The namespace's Pod Security admission labels (`enforce`, `warn`, …).
    pub namespace_pod_security: BTreeMap<String, String>,
}

impl KubeReport {
    fn of(w: &crate::model::kube::Workload, inv: &Inventory) -> Self {
        Self {
            namespace: w.namespace.clone(),
            kind: w.kind.as_str().into(),
            workload: w.name.clone(),
            container: w.container.clone(),
            role: w.role.as_str().into(),
            pods: w.pods.clone(),
            running: w.running,
            pod_security_level: w.pss.level.as_str().into(),
            pod_security_blockers: w.pss.blockers.clone(),
            namespace_pod_security: inv
                .cluster
                .as_ref()
                .and_then(|c| c.namespace(&w.namespace))
                .map(|n| n.pod_security.clone())
                .unwrap_or_default(),
        }
    }
}

fn is_not_read(v: &crate::model::flows::NetObserved) -> bool {
    matches!(v, crate::model::flows::NetObserved::NotRead)
}

fn is_not_scanned(v: &crate::model::packages::VulnState) -> bool {
    matches!(v, crate::model::packages::VulnState::NotScanned)
}

/// What an image was found to hold (its package list itself is not
/// repeated in the report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PackagesReport {
    /// `PRETTY_NAME` of its os-release.
    pub os: String,
    /// The OSV ecosystem matched (`Debian:12`), when there is one.
    pub ecosystem: Option<String>,
    /// How many packages were read.
    pub count: usize,
    /// How many of each kind (`os`, `PyPI`, `npm`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_ecosystem: BTreeMap<String, usize>,
    /// The application's packages (PyPI, npm) with the path each was found
    /// at; the OS's are listed by their package database.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<crate::model::packages::Package>,
    /// The files read (`/var/lib/dpkg/status`, …).
    pub sources: Vec<String>,
    /// The container the files were read through.
    pub read_from: String,
    /// How the application's packages were read (the image's layer
    /// directories, or the engine's archive API).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub read_by: String,
    /// What of the image's files was not read, and why (a ceiling, a
    /// broken file): what these held is not assessed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
    /// Files looked at for credentials (`None`: not looked at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_files_read: Option<usize>,
}

/// One image in a report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageReport {
    /// The engine that holds it (`engines[].name`).
    #[serde(default)]
    pub engine: String,
    /// Its id.
    pub id: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// When it was built.
    pub created: Option<DateTime<Utc>>,
    /// Its size in bytes.
    pub size: i64,
    /// Names of the containers created from this image.
    pub used_by: Vec<String>,
    /// Its findings.
    pub findings: Vec<FindingReport>,
    /// Its packages, when they were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackagesReport>,
    /// Its known vulnerabilities: `not_scanned`, `not_assessed` (with the
    /// reason) or `assessed` (with the list).
    #[serde(default)]
    pub vulnerabilities: crate::model::packages::VulnState,
    /// Setuid and setgid files (CIS 4.8), when read.
    #[serde(default)]
    pub special_files: crate::model::packages::SpecialFiles,
    /// Its signature check: `state` (`verified`, `unsigned`,
    /// `signed_by_other_key`, `wrong_digest`, `invalid`, `not_checked`)
    /// with its details (docs/integrity.md).
    #[serde(default)]
    pub integrity: crate::model::integrity::ImageIntegrity,
}

impl ImageReport {
    /// The first tag, or the short id of an untagged image.
    pub fn display_name(&self) -> String {
        self.tags
            .first()
            .cloned()
            .unwrap_or_else(|| short_id(&self.id).to_string())
    }
}

fn finding(f: &Finding) -> FindingReport {
    remediated(f, false)
}

/// A finding, with the fix for where it was found: a Docker container's
/// run flag and compose key, or a Kubernetes workload's YAML.
fn remediated(f: &Finding, kube: bool) -> FindingReport {
    let rule = rules::by_id(f.rule_id);
    FindingReport {
        rule_id: f.rule_id.to_string(),
        title: rule.map_or_else(|| f.rule_id.to_string(), |r| r.title.to_string()),
        severity: f.severity,
        cis: rule.and_then(|r| r.cis).map(str::to_string),
        seed_rule: rule.map_or(0, |r| r.seed.number()),
        evidence: f.evidence.clone(),
        remediation: Remediation::of(rule, kube),
        waived: f.is_waived(),
        waiver: f.waiver.as_ref().map(|w| WaiverReport {
            reason: w.reason.clone(),
            target: w.target.clone(),
            expires: w.expires.clone(),
        }),
        baseline: None,
        location: None,
    }
}

/// Author-written text as a report keeps it: each secret in it hidden by
/// its shape ([`crate::model::redact`]). Every string of the report that
/// whoever built an image or started a container chose — names, image
/// references, labels, compose settings, package metadata, warnings that
/// quote them — passes here once, as the report is built, so every format
/// and the terminal summary show the same redacted text. (Findings'
/// evidence passed the same redaction when the finding was made:
/// `assess`; exec commands when they were read.)
fn shown(s: &str) -> String {
    crate::model::redact::hide(s).into_owned()
}

/// Labels for reports: all of a value whose key names a secret is hidden,
/// and the secrets inside any other value.
fn safe_labels(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|(k, v)| {
            (
                shown(k),
                crate::model::redact::label_value(k, v).into_owned(),
            )
        })
        .collect()
}

/// A compose reference (read from labels), its secrets hidden.
fn safe_compose(
    c: Option<crate::model::compose::ComposeRef>,
) -> Option<crate::model::compose::ComposeRef> {
    c.map(|c| crate::model::compose::ComposeRef {
        project: shown(&c.project),
        service: shown(&c.service),
        working_dir: shown(&c.working_dir),
        config_files: c.config_files.iter().map(|f| shown(f)).collect(),
        ..c
    })
}

/// An application package's metadata (its name, version, licence, path are
/// what its author wrote), its secrets hidden.
fn safe_package(p: &crate::model::packages::Package) -> crate::model::packages::Package {
    crate::model::packages::Package {
        name: shown(&p.name),
        version: shown(&p.version),
        source: shown(&p.source),
        source_version: shown(&p.source_version),
        path: shown(&p.path),
        license: shown(&p.license),
        ..p.clone()
    }
}

impl Report {
    /// Builds the report of one or more engines' snapshots under a policy.
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
                    engine: String::new(),
                    id: c.id.clone(),
                    name: shown(&c.name),
                    image: shown(&c.image),
                    image_id: c.image_id.clone(),
                    state: c.state_label().to_string(),
                    created: c.created,
                    risk_score: ca.score,
                    highest_severity: ca.highest(),
                    labels: safe_labels(&c.labels),
                    findings: ca
                        .findings
                        .iter()
                        .map(|f| {
                            let mut r = remediated(f, c.kube.is_some());
                            r.location = c
                                .compose_file
                                .as_deref()
                                .and_then(ComposeFile::lines)
                                .and_then(|l| l.locate(f.rule_id));
                            r
                        })
                        .collect(),
                    kubernetes: c.kube.as_deref().map(|w| KubeReport::of(w, inv)),
                    compose: safe_compose(c.compose()),
                    gone_at: c.gone.map(|g| g.at),
                    exec_sessions: c.execs.clone(),
                    drift: c.drift.clone(),
                    vulnerabilities: (*c.vulns).clone(),
                    processes: c.observed.as_deref().cloned(),
                    network: c.sockets.clone(),
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
                    .map(|c| shown(&c.name))
                    .collect();
                used_by.sort();
                let mut tags: Vec<String> = img.tags.iter().map(|t| shown(t)).collect();
                tags.sort();
                ImageReport {
                    engine: String::new(),
                    id: img.id.clone(),
                    tags,
                    created: img.created,
                    size: img.size,
                    used_by,
                    findings: a.image(&img.id).iter().map(finding).collect(),
                    packages: img.packages.as_ref().map(|p| PackagesReport {
                        os: shown(&p.os.pretty_name),
                        ecosystem: p.ecosystem.clone(),
                        count: p.packages.len(),
                        by_ecosystem: p.packages.iter().fold(BTreeMap::new(), |mut m, pk| {
                            *m.entry(pk.ecosystem.label().to_string()).or_insert(0) += 1;
                            m
                        }),
                        applications: p
                            .packages
                            .iter()
                            .filter(|pk| pk.ecosystem != crate::model::packages::Ecosystem::Os)
                            .map(safe_package)
                            .collect(),
                        sources: p.sources.clone(),
                        read_from: p.read_from.clone(),
                        read_by: p.read_by.clone(),
                        unread: p.unread.iter().map(|u| shown(u)).collect(),
                        secret_files_read: p.secrets.as_ref().map(|s| s.files),
                    }),
                    vulnerabilities: (*img.vulns).clone(),
                    special_files: img.special_files.clone(),
                    integrity: img.integrity.clone().unwrap_or_default(),
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

        let engine_findings: Vec<FindingReport> = a.engine.iter().map(finding).collect();
        let summary = Summary {
            containers: inv.containers.len(),
            images: inv.images.len(),
            findings: counts,
            waived,
            highest_severity: a.max_active_severity(),
        };
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            generated_at,
            tool: Tool {
                name: "shipshape".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            engines: Vec::new(),
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
            summary: summary.clone(),
            engine_findings: engine_findings.clone(),
            policy_findings: a.policy.iter().map(finding).collect(),
            containers,
            images,
            priorities: {
                let mut p = priorities::rank(inv, a);
                p.truncate(PRIORITIES_SHOWN);
                for row in &mut p {
                    row.container = shown(&row.container);
                    row.package = shown(&row.package);
                    row.installed = shown(&row.installed);
                }
                p
            },
            warnings: inv.warnings.iter().map(|w| shown(&w.text)).collect(),
            baseline: None,
        };
        let section = EngineSection {
            name: inv.engine.label.clone(),
            endpoint: e.endpoint.clone(),
            reachable: true,
            error: None,
            id: e.id.clone(),
            data_root: e.docker_root_dir.clone(),
            also_reached_as: Vec::new(),
            details: Some(report.engine.clone()),
            summary,
            engine_findings,
        };
        report.set_engine_name(&section.name);
        report.engines.push(section);
        report
    }

    /// Tie every container and image to this engine name.
    fn set_engine_name(&mut self, name: &str) {
        for c in &mut self.containers {
            c.engine = name.to_string();
        }
        for i in &mut self.images {
            i.engine = name.to_string();
        }
    }

    /// One report of several engines' reports (each from [`Report::build`]),
    /// with the engines that could not be scanned and why. The top-level
    /// `engine` is the first one reached; the summary counts every engine.
    /// `None` when no engine was reached.
    pub fn merge(parts: Vec<Result<Report, Box<EngineSection>>>) -> Option<Report> {
        let mut engines = Vec::new();
        let mut merged: Option<Report> = None;
        for part in parts {
            match part {
                Ok(mut r) => {
                    engines.append(&mut r.engines);
                    match &mut merged {
                        None => merged = Some(r),
                        Some(m) => {
                            m.containers.append(&mut r.containers);
                            m.images.append(&mut r.images);
                            m.priorities.append(&mut r.priorities);
                            m.warnings.extend(
                                r.warnings
                                    .into_iter()
                                    .map(|w| format!("{}: {w}", r.engine.endpoint)),
                            );
                            let s = &mut m.summary;
                            s.containers += r.summary.containers;
                            s.images += r.summary.images;
                            s.findings.merge(&r.summary.findings);
                            s.waived += r.summary.waived;
                            s.highest_severity = s.highest_severity.max(r.summary.highest_severity);
                        }
                    }
                }
                Err(section) => engines.push(*section),
            }
        }
        let mut m = merged?;
        for e in engines.iter().filter(|e| !e.reachable) {
            m.warnings.push(format!(
                "engine {} ({}) not scanned: {}",
                e.name,
                e.endpoint,
                e.error.as_deref().unwrap_or("unreachable")
            ));
        }
        m.engines = engines;
        m.containers
            .sort_by(|x, y| (&x.engine, &x.name, &x.id).cmp(&(&y.engine, &y.name, &y.id)));
        m.priorities.sort_by(|x, y| {
            y.score
                .cmp(&x.score)
                .then_with(|| (&x.container, &x.id).cmp(&(&y.container, &y.id)))
        });
        m.priorities.truncate(PRIORITIES_SHOWN);
        Some(m)
    }

    /// The section of an unreachable engine.
    pub fn unreachable(name: String, endpoint: String, error: String) -> Box<EngineSection> {
        Box::new(EngineSection {
            name,
            endpoint,
            reachable: false,
            error: Some(error),
            id: String::new(),
            data_root: String::new(),
            also_reached_as: Vec::new(),
            details: None,
            summary: Summary::default(),
            engine_findings: Vec::new(),
        })
    }

    /// Keep only these containers (the GUI exports what the user sees).
    /// Summary counts are recomputed; engine, policy and image findings stay.
    pub fn retain_containers(&mut self, keep: impl Fn(&ContainerReport) -> bool) {
        self.containers.retain(|c| keep(c));
        let mut counts = SeverityCounts::default();
        let mut waived = 0;
        for f in self.all_findings() {
            if f.waived {
                waived += 1;
            } else {
                counts.add(f.severity);
            }
        }
        self.summary.containers = self.containers.len();
        self.summary.findings = counts;
        self.summary.waived = waived;
        self.summary.highest_severity = self
            .all_findings()
            .filter(|f| !f.waived)
            .map(|f| f.severity)
            .max();
    }

    /// Every finding with a label for its subject, in report order.
    pub fn subjects(&self) -> Vec<(Subject<'_>, &FindingReport)> {
        let mut out = Vec::new();
        for (engine, f) in self.engine_findings_by_engine() {
            out.push((Subject::Engine(engine), f));
        }
        for f in &self.policy_findings {
            out.push((Subject::Policy, f));
        }
        for c in &self.containers {
            for f in &c.findings {
                out.push((Subject::Container(c), f));
            }
        }
        for i in &self.images {
            for f in &i.findings {
                out.push((Subject::Image(i), f));
            }
        }
        out
    }

    /// Containers, riskiest first (for summaries).
    pub fn riskiest(&self, n: usize) -> Vec<&ContainerReport> {
        let mut v: Vec<&ContainerReport> = self
            .containers
            .iter()
            .filter(|c| c.risk_score > 0)
            .collect();
        v.sort_by(|a, b| {
            b.risk_score
                .cmp(&a.risk_score)
                .then_with(|| a.name.cmp(&b.name))
        });
        v.truncate(n);
        v
    }

    /// Each engine's own findings with its name: from `engines` (a schema 2
    /// report has only the top-level list, with no name).
    pub fn engine_findings_by_engine(&self) -> Vec<(&str, &FindingReport)> {
        if self.engines.is_empty() {
            self.engine_findings.iter().map(|f| ("", f)).collect()
        } else {
            self.engines
                .iter()
                .flat_map(|e| e.engine_findings.iter().map(move |f| (e.name.as_str(), f)))
                .collect()
        }
    }

    /// Every finding in the report.
    pub fn all_findings(&self) -> impl Iterator<Item = &FindingReport> {
        self.engine_findings_by_engine()
            .into_iter()
            .map(|(_, f)| f)
            .chain(&self.policy_findings)
            .chain(self.containers.iter().flat_map(|c| &c.findings))
            .chain(self.images.iter().flat_map(|i| &i.findings))
    }

    /// Any active finding at or above `threshold`?
    /// The known-exploited (CISA KEV) CVEs among the images' active
    /// findings, once each.
    pub fn known_exploited_active(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .images
            .iter()
            .flat_map(|img| {
                let kev: std::collections::BTreeSet<&str> = img
                    .vulnerabilities
                    .vulnerabilities()
                    .iter()
                    .filter(|v| v.kev.is_some())
                    .map(|v| v.id.as_str())
                    .collect();
                img.findings
                    .iter()
                    .filter(move |f| {
                        !f.waived
                            && f.rule_id == crate::rules::vulns::KNOWN_VULNERABILITIES.id
                            && f.evidence
                                .split(' ')
                                .next()
                                .is_some_and(|id| kev.contains(id))
                    })
                    .map(|f| f.evidence.split(' ').next().unwrap_or("").to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Whether any active (not waived) finding is at or above `threshold`.
    pub fn has_active_at_least(&self, threshold: Severity) -> bool {
        self.all_findings()
            .any(|f| !f.waived && f.severity >= threshold)
    }

    /// A few lines for people, for the terminal.
    pub fn human_summary(&self) -> String {
        // Names, versions, errors and warnings come from the engine and from
        // files its containers name: each is one line here, its control
        // characters (a newline too: no faked `warning:` line) shown as
        // escapes.
        use crate::model::visible as v;
        let s = &self.summary;
        let c = &s.findings;
        let engines = if self.engines.len() > 1 {
            let mut text = format!("{} engines", self.engines.len());
            for e in &self.engines {
                text.push_str(&match &e.details {
                    Some(d) => format!(
                        "\n  engine {}: {} {} at {}, {} containers",
                        v(&e.name),
                        v(&d.product),
                        v(&d.version),
                        v(&e.endpoint),
                        e.summary.containers
                    ),
                    None => format!(
                        "\n  engine {}: NOT SCANNED ({}): {}",
                        v(&e.name),
                        v(&e.endpoint),
                        v(e.error.as_deref().unwrap_or("unreachable"))
                    ),
                });
            }
            text
        } else {
            format!(
                "{} {} via {} ({}), API {}",
                v(&self.engine.product),
                v(&self.engine.version),
                v(&self.engine.found_by),
                v(&self.engine.endpoint),
                v(&self.engine.api_version),
            )
        };
        let mut out = format!(
            "shipshape: {engines}\n  {} containers, {} images — findings: {} critical, {} high, {} medium, {} low, {} info{}\n",
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
        for c in self.riskiest(5) {
            out.push_str(&format!(
                "  {:>3}  {} ({}, {})\n",
                c.risk_score,
                v(&c.name),
                v(&c.state),
                c.highest_severity.map_or("-", |s| s.as_str())
            ));
        }
        out.push_str(&self.processes_summary());
        if !self.priorities.is_empty() {
            out.push_str("  fix first:\n");
            for p in self.priorities.iter().take(3) {
                out.push_str(&format!("    {}\n", v(&p.line())));
            }
        }
        for w in &self.warnings {
            out.push_str(&format!("  warning: {}\n", v(w)));
        }
        // And anything else on a line, as it is.
        out.lines()
            .map(|l| crate::model::visible(l) + "\n")
            .collect()
    }
}

impl Report {
    /// How running containers' processes were read (one line per way,
    /// with how many containers), and what the runtime rules saw in them
    /// (at most 10 lines): for the terminal.
    fn processes_summary(&self) -> String {
        let mut out = String::new();
        let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
        let mut limits: std::collections::BTreeSet<&str> = Default::default();
        for c in &self.containers {
            if let Some(o) = &c.processes {
                *sources.entry(o.source.as_str()).or_default() += 1;
                limits.extend(o.limits.iter().map(String::as_str));
            }
        }
        for (source, n) in &sources {
            out.push_str(&format!(
                "  processes of {n} running container{}: {source}\n",
                if *n == 1 { "" } else { "s" }
            ));
        }
        for l in limits {
            out.push_str(&format!("    {l}\n"));
        }
        let seen: Vec<String> = self
            .containers
            .iter()
            .flat_map(|c| {
                c.findings
                    .iter()
                    .filter(|f| crate::rules::procs::is_process_rule(&f.rule_id))
                    .map(move |f| {
                        format!(
                            "    {} {}: {}: {}",
                            f.severity.as_str(),
                            c.name,
                            f.rule_id,
                            f.evidence
                        )
                    })
            })
            .collect();
        if !seen.is_empty() {
            out.push_str("  seen running:\n");
            for line in seen.iter().take(10) {
                out.push_str(line);
                out.push('\n');
            }
            if seen.len() > 10 {
                out.push_str(&format!("    and {} more\n", seen.len() - 10));
            }
        }
        out
    }
}

/// What a finding in a report is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The engine of this name (`""` in a schema 2 report).
    Engine(&'a str),
    /// The policy file.
    Policy,
    /// A container.
    Container(&'a ContainerReport),
    /// An image.
    Image(&'a ImageReport),
}

impl Subject<'_> {
    /// `engine`, `policy`, `container` or `image`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Engine(_) => "engine",
            Self::Policy => "policy",
            Self::Container(_) => "container",
            Self::Image(_) => "image",
        }
    }

    /// A stable, human name: container name, first image tag (or short id).
    pub fn name(&self) -> String {
        match self {
            Self::Engine("") => "engine".into(),
            Self::Engine(name) => (*name).to_string(),
            Self::Policy => "policy".into(),
            Self::Container(c) => c.name.clone(),
            Self::Image(i) => i.display_name(),
        }
    }

    /// Its id (the engine's name for an engine, `policy` for the policy).
    pub fn id(&self) -> &str {
        match self {
            Self::Engine(_) | Self::Policy => "",
            Self::Container(c) => &c.id,
            Self::Image(i) => &i.id,
        }
    }

    /// Key used to match findings across reports (names survive a
    /// container being recreated; ids do not).
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind(), self.name())
    }

    /// The engine it belongs to (`""` for the policy, and in a schema 2
    /// report).
    pub fn engine(&self) -> &str {
        match self {
            Self::Engine(e) => e,
            Self::Policy => "",
            Self::Container(c) => &c.engine,
            Self::Image(i) => &i.engine,
        }
    }
}

pub use crate::model::short_id;

/// A report over the bundled demo lab with fixed clocks, for exporter tests.
#[cfg(test)]
pub(crate) mod testing {
    use chrono::TimeZone;

    pub fn demo_report() -> super::Report {
        let mut inv = crate::watch::demo::inventory().unwrap();
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
            .unwrap();
        inv.taken_at = Some(now);
        let policy = crate::policy::Policy::default();
        let a = crate::assess::assess(&inv, &policy, now);
        super::Report::build(&inv, &a, &policy, now)
    }
}
