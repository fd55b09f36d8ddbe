//! Run every rule over an inventory and apply the policy: severity
//! overrides, waivers, expired waivers. Pure: no I/O.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::{
    AppliedWaiver, Container, Finding, Image, ImageRef, Inventory, Severity, SeverityCounts,
    Subject,
};
use crate::policy::Policy;
use crate::rules::{self, Check, Ctx, Hit, Rule};

/// The findings of one container and the risk score they add up to.
#[derive(Debug, Clone, Default)]
pub struct ContainerAssessment {
    /// Every finding on the container, waived ones included (marked).
    pub findings: Vec<Finding>,
    /// The risk score, 0 (nothing found) to 100.
    pub score: u8,
    /// The image finding counted in the score (its worst known
    /// vulnerability, or why it cannot be assessed), when there is one.
    pub from_image: Option<Finding>,
}

impl ContainerAssessment {
    /// The worst active severity, its image's counted finding included.
    pub fn highest(&self) -> Option<Severity> {
        self.findings
            .iter()
            .chain(&self.from_image)
            .filter(|f| !f.is_waived())
            .map(|f| f.severity)
            .max()
    }
}

/// Everything the rules found in one snapshot, by subject.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// Findings about the engine itself.
    pub engine: Vec<Finding>,
    /// Findings about the policy file (expired waivers, unknown rule ids).
    pub policy: Vec<Finding>,
    /// By container id.
    pub containers: HashMap<String, ContainerAssessment>,
    /// By image id.
    pub images: HashMap<String, Vec<Finding>>,
}

impl Assessment {
    /// The assessment of the container with this id, if it was assessed.
    pub fn container(&self, id: &str) -> Option<&ContainerAssessment> {
        self.containers.get(id)
    }

    /// The findings of the image with this id (empty when none or not assessed).
    pub fn image(&self, id: &str) -> &[Finding] {
        self.images.get(id).map_or(&[], Vec::as_slice)
    }

    /// Every finding, in no particular order.
    pub fn all(&self) -> impl Iterator<Item = &Finding> {
        self.engine
            .iter()
            .chain(&self.policy)
            .chain(self.containers.values().flat_map(|c| &c.findings))
            .chain(self.images.values().flatten())
    }

    /// The total risk: every container's score, added (the posture chart's
    /// second line).
    pub fn total_risk(&self) -> u64 {
        self.containers.values().map(|c| u64::from(c.score)).sum()
    }

    /// Active (not waived) findings by severity.
    pub fn counts(&self) -> SeverityCounts {
        SeverityCounts::active(self.all())
    }

    /// The worst severity among findings that are not waived, if any.
    pub fn max_active_severity(&self) -> Option<Severity> {
        self.counts().highest()
    }
}

/// Evaluate the whole catalogue.
pub fn assess(inv: &Inventory, policy: &Policy, now: DateTime<Utc>) -> Assessment {
    let index = crate::model::InventoryIndex::new(inv);
    let ctx = Ctx {
        inventory: inv,
        index: &index,
        policy,
        now,
    };
    let today = now.date_naive();
    let mut out = Assessment::default();
    // Waivers may name the engine (by its label).
    let by = (policy, inv.engine.label.as_str());

    for img in &inv.images {
        let subject = Subject::Image {
            id: img.id.as_str().into(),
        };
        let names = Names::new(|| image_names(img));
        let mut findings = Vec::new();
        for rule in rules::ALL {
            if let Check::Image(check) = rule.check {
                findings.extend(finish(rule, check(&ctx, img), &subject, &names, by, today));
            }
        }
        sort(&mut findings);
        out.images.insert(img.id.clone(), findings);
    }

    for c in &inv.containers {
        let subject = Subject::Container {
            id: c.id.as_str().into(),
            name: c.name.as_str().into(),
        };
        let names = Names::new(|| container_names(c));
        let mut findings = Vec::new();
        // Every source's container facts meet the same rules; a workload
        // container's findings say how many pods they cover.
        let pods = c.kube.as_ref().map(|w| w.pods_phrase());
        for rule in rules::ALL {
            let Some(mut hits) = rule.check_container(&ctx, c) else {
                continue;
            };
            if let Some(pods) = &pods {
                for h in &mut hits {
                    h.evidence = format!("{} ({pods})", h.evidence);
                }
            }
            findings.extend(finish(rule, hits, &subject, &names, by, today));
        }
        sort(&mut findings);
        // Known vulnerabilities count by the worst one only — its own
        // (packages installed after start) or else its image's: one
        // exploitable package is the way in; fifty do not make fifty ways
        // more likely.
        let is_vuln = |f: &&Finding| {
            (f.rule_id == rules::vulns::CONTAINER_VULNERABILITIES.id
                || f.rule_id == rules::vulns::KNOWN_VULNERABILITIES.id)
                && !f.is_waived()
        };
        let own_worst = findings.iter().filter(is_vuln).max_by_key(|f| f.severity);
        // An image whose vulnerabilities cannot be assessed is not clean
        // (RPM, no data, …), nor is a release that gets no more fixes:
        // those findings count the same way.
        let unknown = |f: &&Finding| {
            (f.rule_id == rules::vulns::NOT_ASSESSED.id
                || f.rule_id == rules::vulns::END_OF_LIFE.id)
                && !f.is_waived()
        };
        let worst_vuln = own_worst.or_else(|| {
            out.images
                .get(&c.image_id)
                .into_iter()
                .flatten()
                .filter(|f| is_vuln(f) || unknown(f))
                .max_by_key(|f| f.severity)
        });
        let score = rules::score::risk_score(
            findings
                .iter()
                .filter(|f| f.rule_id != rules::vulns::CONTAINER_VULNERABILITIES.id)
                .chain(worst_vuln),
        );
        let from_image = own_worst.is_none().then(|| worst_vuln.cloned()).flatten();
        out.containers.insert(
            c.id.clone(),
            ContainerAssessment {
                findings,
                score,
                from_image,
            },
        );
    }

    let engine_names = Names::new(|| vec!["engine".to_string()]);
    // The engine rules judge a Docker or Podman daemon; a cluster's nodes
    // are not seen through its API.
    let is_cluster = inv.engine.product == crate::model::EngineProduct::Kubernetes;
    for rule in rules::ALL.iter().filter(|_| !is_cluster) {
        if let Check::Engine(check) = rule.check {
            let hits = check(&ctx, &inv.engine);
            out.engine.extend(finish(
                rule,
                hits,
                &Subject::Engine,
                &engine_names,
                by,
                today,
            ));
        }
    }
    sort(&mut out.engine);

    for w in policy.waivers.iter().filter(|w| w.is_expired(today)) {
        let rule = &rules::policy::WAIVER_EXPIRED;
        let hit = Hit::new(format!(
            "waiver for {} on '{}' (policy line {}) expired {}; reason was: {}",
            w.rule,
            w.target,
            w.line,
            w.expires.map(|d| d.to_string()).unwrap_or_default(),
            w.reason
        ));
        out.policy.extend(finish(
            rule,
            vec![hit],
            &Subject::Policy,
            &Names::new(Vec::new),
            by,
            today,
        ));
    }
    sort(&mut out.policy);
    out
}

/// The names a waiver's target may match, made the first time a waiver
/// asks (most policies have none: nothing is made).
struct Names<'a> {
    made: std::cell::OnceCell<Vec<String>>,
    make: Box<dyn Fn() -> Vec<String> + 'a>,
}

impl<'a> Names<'a> {
    fn new(make: impl Fn() -> Vec<String> + 'a) -> Self {
        Self {
            made: std::cell::OnceCell::new(),
            make: Box::new(make),
        }
    }

    fn get(&self) -> &[String] {
        self.made.get_or_init(|| (self.make)())
    }
}

/// The names a container waiver target may match.
fn container_names(c: &Container) -> Vec<String> {
    let mut names = vec![
        c.name.clone(),
        c.id.clone(),
        c.short_id().to_string(),
        c.image.clone(),
    ];
    if let Some(r) = ImageRef::parse(&c.image) {
        names.push(r.canonical());
        names.push(r.name());
    }
    if let Some(w) = &c.kube {
        names.extend(w.waiver_names());
    }
    names
}

fn image_names(img: &Image) -> Vec<String> {
    let mut names = vec![img.id.clone(), img.short_id().to_string()];
    for t in &img.tags {
        names.push(t.clone());
        if let Some(r) = ImageRef::parse(t) {
            names.push(r.canonical());
            names.push(r.name());
        }
    }
    names
}

fn finish(
    rule: &'static Rule,
    hits: Vec<Hit>,
    subject: &Subject,
    names: &Names<'_>,
    (policy, engine): (&Policy, &str),
    today: chrono::NaiveDate,
) -> Vec<Finding> {
    if hits.is_empty() {
        return Vec::new();
    }
    let override_sev = policy.severity_overrides.get(rule.id).copied();
    let waiver = policy
        .waivers
        .iter()
        .filter(|w| w.rule == rule.id && !w.is_expired(today) && w.covers_engine(engine))
        .find(|w| w.matches_any(names.get().iter().map(String::as_str)))
        .map(|w| AppliedWaiver {
            reason: w.reason.clone(),
            target: w.target.clone(),
            expires: w.expires.map(|d| d.to_string()),
        });
    hits.into_iter()
        .map(|h| Finding {
            rule_id: rule.id,
            severity: override_sev.or(h.severity).unwrap_or(rule.severity),
            subject: subject.clone(),
            // Evidence quotes what an author wrote (a path, a label, a
            // build step): whatever a rule quoted passes the one redaction
            // every output uses, so no finding can carry a secret's value.
            evidence: crate::model::redact::hide(&h.evidence).into_owned(),
            waiver: waiver.clone(),
        })
        .collect()
}

/// Worst first, then by rule id and evidence: deterministic.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule_id.cmp(b.rule_id))
            .then_with(|| a.evidence.cmp(&b.evidence))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    fn policy(text: &str) -> Policy {
        Policy::from_toml_str(text, None).unwrap()
    }

    fn risky() -> Container {
        let mut c = hardened();
        c.name = "legacy-db".into();
        c.privileged = true;
        c.user = "root".into();
        c
    }

    #[test]
    fn hardened_container_is_clean_and_scores_zero() {
        let inv = inventory_with(vec![hardened()], vec![clean_image()]);
        let a = assess(&inv, &Policy::default(), now());
        let c = a.container(&hardened().id).unwrap();
        assert!(c.findings.is_empty(), "{:?}", c.findings);
        assert_eq!(c.score, 0);
        assert!(a.engine.is_empty());
    }

    #[test]
    fn findings_are_sorted_and_scored() {
        let c = risky();
        let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        let a = assess(&inv, &Policy::default(), now());
        let got = &a.container(&c.id).unwrap();
        let ids: Vec<_> = got.findings.iter().map(|f| f.rule_id).collect();
        assert_eq!(ids, vec!["container.privileged", "container.root-user"]);
        // The test engine is rootless: privileged is high, root low.
        // 50 + round(24 × (1 − 0.70 × 0.96)) = 50 + round(7.87)
        assert_eq!(got.findings[0].severity, Severity::High);
        assert_eq!(got.findings[1].severity, Severity::Low);
        assert_eq!(got.score, 58);
    }

    #[test]
    fn overrides_and_waivers() {
        let c = risky();
        let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        let p = policy(
            "[severity]\n\"container.root-user\" = \"critical\"\n\
             [[waiver]]\nrule = \"container.privileged\"\ntarget = \"legacy-*\"\nreason = \"SEC-1\"\nexpires = 2027-01-01\n",
        );
        let a = assess(&inv, &p, now());
        let f = &a.container(&c.id).unwrap().findings;
        let root = f
            .iter()
            .find(|f| f.rule_id == "container.root-user")
            .unwrap();
        assert_eq!(root.severity, Severity::Critical);
        let privileged = f
            .iter()
            .find(|f| f.rule_id == "container.privileged")
            .unwrap();
        assert_eq!(privileged.waiver.as_ref().unwrap().reason, "SEC-1");
        // Only the unwaived (overridden) critical counts: 75 + round(25 × 0.6).
        assert_eq!(a.container(&c.id).unwrap().score, 90);
        assert!(a.policy.is_empty());
    }

    #[test]
    fn expired_waiver_no_longer_applies_and_is_reported() {
        let c = risky();
        let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        let p = policy(
            "[[waiver]]\nrule = \"container.privileged\"\ntarget = \"legacy-*\"\nreason = \"SEC-1\"\nexpires = 2026-01-01\n",
        );
        let a = assess(&inv, &p, now());
        let f = &a.container(&c.id).unwrap().findings;
        assert!(f.iter().all(|f| !f.is_waived()));
        assert_eq!(a.policy.len(), 1);
        assert_eq!(a.policy[0].rule_id, "policy.waiver-expired");
        assert!(
            a.policy[0].evidence.contains("expired 2026-01-01"),
            "{}",
            a.policy[0].evidence
        );
    }

    /// Known vulnerabilities are findings like any other: a waiver on the
    /// rule and the image applies, and takes them out of the container's
    /// score; a baseline keys them by their (stable) evidence.
    #[test]
    fn vulnerability_findings_take_waivers_and_baselines() {
        let inv = crate::watch::demo::inventory().unwrap();
        let base = inv
            .images
            .iter()
            .find(|i| i.tags.iter().any(|t| t == "shipshape-test/base:1"))
            .unwrap()
            .id
            .clone();
        let a = assess(&inv, &Policy::default(), now());
        let vulns: Vec<&Finding> = a
            .image(&base)
            .iter()
            .filter(|f| f.rule_id == "image.known-vulnerabilities")
            .collect();
        // Its 8 OS ones, and 3 of the Python packages it carries.
        assert_eq!(vulns.len(), 11, "the lab's Debian 12 base: {vulns:?}");
        assert!(vulns.iter().all(|f| !f.is_waived()));
        let ci = inv
            .containers
            .iter()
            .find(|c| c.name == "lab-hardened-worker")
            .unwrap();
        let before = a.container(&ci.id).unwrap().score;

        let p = policy(
            "[[waiver]]\nrule = \"image.known-vulnerabilities\"\ntarget = \"shipshape-test/base:1\"\nreason = \"VULN-7: accepted until the rebuild\"\n",
        );
        let w = assess(&inv, &p, now());
        assert!(
            w.image(&base)
                .iter()
                .filter(|f| f.rule_id == "image.known-vulnerabilities")
                .all(|f| f
                    .waiver
                    .as_ref()
                    .is_some_and(|w| w.reason.starts_with("VULN-7")))
        );
        let base_user = inv.containers.iter().find(|c| c.image_id == base).unwrap();
        assert!(
            w.container(&base_user.id)
                .unwrap()
                .from_image
                .as_ref()
                .is_none_or(|f| f.rule_id != "image.known-vulnerabilities"),
            "a waived vulnerability no longer counts in its containers' score"
        );
        // Another image's score is untouched.
        assert_eq!(w.container(&ci.id).unwrap().score, before);

        // Baselines: the same scan twice gives every vulnerability as unchanged.
        let r1 = crate::report::Report::build(&inv, &a, &Policy::default(), now());
        let mut r2 = crate::report::Report::build(&inv, &a, &Policy::default(), now());
        crate::report::baseline::apply(&mut r2, &r1, "yesterday.json");
        let img = r2.images.iter().find(|i| i.id == base).unwrap();
        assert!(
            img.findings
                .iter()
                .filter(|f| f.rule_id == "image.known-vulnerabilities")
                .all(|f| f.baseline == Some(crate::report::baseline::Status::Unchanged))
        );
    }

    #[test]
    fn waiver_target_must_match() {
        let c = risky();
        let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        let p = policy(
            "[[waiver]]\nrule = \"container.privileged\"\ntarget = \"web-*\"\nreason = \"x\"\n",
        );
        let a = assess(&inv, &p, now());
        assert!(
            a.container(&c.id)
                .unwrap()
                .findings
                .iter()
                .all(|f| !f.is_waived())
        );
    }
}
