//! "Fix first": every known vulnerability of every container's image,
//! ranked in that container by [`crate::model::priority`] — the few that
//! matter first, with the reason. One query for the window's Images view,
//! the JSON report and the terminal summary.

use serde::{Deserialize, Serialize};

use crate::assess::Assessment;
use crate::model::packages::FixState;
use crate::model::priority::{self, Exposure, InUse};
use crate::model::{ContainerState, Inventory, Severity};

/// Findings that give a compromise a way out of its container.
const BREAKOUT: [&str; 5] = [
    "container.privileged",
    "container.host-takeover",
    "container.engine-socket",
    "container.sensitive-mount",
    "container.host-pid",
];

/// One vulnerability in one container, ranked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRow {
    /// The container's id.
    pub container_id: String,
    /// Its name.
    pub container: String,
    /// The CVE (or advisory) id.
    pub id: String,
    /// The package (`openssl`, `golang.org/x/net`) and its ecosystem label.
    pub package: String,
    /// The installed version.
    pub installed: String,
    /// The advisory's severity.
    pub severity: Severity,
    /// Higher first.
    pub score: u32,
    /// Whether its package is in use in this container.
    pub in_use: InUse,
    /// Why, most important first.
    pub reasons: Vec<String>,
}

impl PriorityRow {
    /// `CVE-2024-1 in openssl 3.0.11 (web): known exploited (CISA KEV), in
    /// use: …, running`.
    pub fn line(&self) -> String {
        format!(
            "{} in {} {} ({}): {}",
            self.id,
            self.package,
            self.installed,
            self.container,
            self.reasons.join(", ")
        )
    }
}

/// What `c` does, for the ranking.
fn exposure(c: &crate::model::Container, a: &Assessment) -> Exposure {
    let published = c
        .ports
        .iter()
        .filter(|p| {
            p.host_port.is_some()
                && !crate::model::is_loopback_host(p.host_ip.trim_matches(['[', ']']))
        })
        .map(|p| {
            let ip = match p.host_ip.as_str() {
                "" => "0.0.0.0".to_string(),
                v6 if v6.contains(':') && !v6.starts_with('[') => format!("[{v6}]"),
                other => other.to_string(),
            };
            format!(
                "{ip}:{}→{}/{}",
                p.host_port.unwrap_or(0),
                p.container_port,
                p.protocol
            )
        })
        .collect();
    let breakout = a
        .container(&c.id)
        .map(|ca| {
            let mut b: Vec<String> = ca
                .findings
                .iter()
                .filter(|f| !f.is_waived() && BREAKOUT.contains(&f.rule_id))
                .map(|f| {
                    crate::rules::by_id(f.rule_id)
                        .map_or(f.rule_id.to_string(), |r| r.title.to_ascii_lowercase())
                })
                .collect();
            b.sort();
            b.dedup();
            b
        })
        .unwrap_or_default();
    Exposure {
        running: c.state == ContainerState::Running,
        published,
        breakout,
    }
}

/// Every (container, vulnerability) of the inventory, highest priority
/// first; vulnerabilities the distribution rates unimportant are left out.
pub fn rank(inv: &Inventory, a: &Assessment) -> Vec<PriorityRow> {
    let mut out = Vec::new();
    for c in inv.containers.iter().filter(|c| c.gone.is_none()) {
        // A container whose packages diverged carries its own list.
        let (vulns, scan) = match (&c.packages, inv.images.iter().find(|i| i.id == c.image_id)) {
            (Some(own), _) => (c.vulns.clone(), Some(own.clone())),
            (None, Some(img)) => (img.vulns.clone(), img.packages.clone()),
            (None, None) => continue,
        };
        let vs = vulns.vulnerabilities();
        if vs.is_empty() {
            continue;
        }
        let e = exposure(c, a);
        let empty = Default::default();
        let owners = scan.as_deref().map_or(&empty, |s| &s.owners);
        for v in vs.iter().filter(|v| v.state != FixState::Unimportant) {
            let used = priority::in_use(v, c.files_in_use.as_deref(), e.running, owners);
            let p = priority::rank(v, &e, used);
            let package = match v.ecosystem {
                crate::model::packages::Ecosystem::Os => v.package.clone(),
                eco => format!("{} {}", eco.label(), v.package),
            };
            out.push(PriorityRow {
                container_id: c.id.clone(),
                container: c.name.clone(),
                id: v.id.clone(),
                package,
                installed: v.installed.clone(),
                severity: v.severity,
                score: p.score,
                in_use: p.in_use,
                reasons: p.reasons,
            });
        }
    }
    out.sort_by(|x, y| {
        y.score
            .cmp(&x.score)
            .then_with(|| y.severity.cmp(&x.severity))
            .then_with(|| x.container.cmp(&y.container))
            .then_with(|| x.id.cmp(&y.id))
    });
    out
}
