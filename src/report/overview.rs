//! How the containers, images and engines stand on the eight rules and the
//! seven threats: one computation, used by the window's Overview and by the
//! HTML report's first section. Pure: it reads findings, nothing else.

use std::collections::BTreeMap;

use crate::model::{SeedRule, Severity, SeverityCounts, Threat};

/// What a finding is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A container.
    Container,
    /// An image.
    Image,
    /// An engine.
    Engine,
}

/// One container, image or engine with its active (not waived) findings.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Container, image or engine.
    pub kind: Kind,
    /// Its engine's name (empty with a single engine).
    pub engine: &'a str,
    /// Container or image id (the engine's name for an engine).
    pub id: &'a str,
    /// Its name, as shown.
    pub name: &'a str,
    /// Risk score (containers; 0 otherwise).
    pub score: u8,
    /// `(rule id, severity)` of each active finding.
    pub findings: Vec<(&'a str, Severity)>,
    /// Everything its findings depend on has been read: an image's packages
    /// (and so a container's image findings). Reports are always complete.
    pub complete: bool,
    /// A container's Compose project and service (`shop/api`).
    pub project: Option<String>,
}

/// A subject that breaks a rule, for the "top offenders" lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offender {
    /// Container, image or engine.
    pub kind: Kind,
    /// Its engine's name (empty with a single engine).
    pub engine: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its risk score.
    pub score: u8,
    /// Its worst finding under this rule.
    pub worst: Severity,
    /// A container's Compose project and service (`shop/api`).
    pub project: Option<String>,
}

impl Offender {
    /// `api-1 (87) · shop/api`, `image shop/api:1.4`, `engine local`
    /// (names made visible; the engine is added by the caller).
    pub fn label(&self) -> String {
        let name = crate::model::visible(&self.name);
        match self.kind {
            Kind::Container => match &self.project {
                Some(p) => format!("{name} ({}) · {}", self.score, crate::model::visible(p)),
                None => format!("{name} ({})", self.score),
            },
            Kind::Image => format!("image {name}"),
            Kind::Engine => format!("engine {name}"),
        }
    }
}

/// One of the eight rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCard {
    /// Which rule.
    pub seed: SeedRule,
    /// Containers, images and engines with an active finding of this rule.
    pub containers: usize,
    /// Images with an active finding of this rule.
    pub images: usize,
    /// Engines with an active finding of this rule.
    pub engines: usize,
    /// Findings of this rule, by severity.
    pub counts: SeverityCounts,
    /// Worst first, then by score: at most [`TOP`].
    pub top: Vec<Offender>,
}

impl RuleCard {
    /// The worst severity among its findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.counts.highest()
    }

    /// Subjects breaking the rule, of every kind.
    pub fn breaking(&self) -> usize {
        self.containers + self.images + self.engines
    }
}

/// One of the seven threats, with the findings that feed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatRow {
    /// Which threat.
    pub threat: Threat,
    /// Findings that serve it, by severity.
    pub counts: SeverityCounts,
    /// Containers with a finding that feeds it.
    pub containers: usize,
    /// `(rule id, findings)` of the rules that feed it, most first.
    pub rules: Vec<(&'static str, usize)>,
}

/// The eight rules and seven threats over a set of subjects: what the Overview and the reports show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// In rule order, 1 to 8.
    pub rules: Vec<RuleCard>,
    /// In the order of [`Threat::ALL`].
    pub threats: Vec<ThreatRow>,
}

/// Offenders shown per rule.
pub const TOP: usize = 3;

impl Overview {
    /// The card of one rule.
    pub fn rule(&self, seed: SeedRule) -> &RuleCard {
        // `build` makes one card per seed rule, in order.
        &self.rules[usize::from(seed.number() - 1)]
    }
}

/// The seed rule of a rule id (`None` for an unknown id).
pub fn seed_of(rule_id: &str) -> Option<SeedRule> {
    crate::rules::by_id(rule_id).map(|r| r.seed)
}

/// Builds the overview of these subjects.
pub fn build<'a>(subjects: impl IntoIterator<Item = Subject<'a>>) -> Overview {
    let mut rules: Vec<RuleCard> = SeedRule::ALL
        .iter()
        .map(|&seed| RuleCard {
            seed,
            containers: 0,
            images: 0,
            engines: 0,
            counts: SeverityCounts::default(),
            top: Vec::new(),
        })
        .collect();
    let mut offenders: Vec<Vec<Offender>> = vec![Vec::new(); rules.len()];
    let mut threats: Vec<(SeverityCounts, usize, BTreeMap<&'static str, usize>)> =
        vec![Default::default(); Threat::ALL.len()];
    for s in subjects {
        let mut worst: [Option<Severity>; 8] = [None; 8];
        let mut hit_threat = [false; 7];
        for &(rule_id, sev) in &s.findings {
            let Some(rule) = crate::rules::by_id(rule_id) else {
                continue;
            };
            let i = usize::from(rule.seed.number() - 1);
            rules[i].counts.add(sev);
            worst[i] = worst[i].max(Some(sev));
            for t in crate::rules::threats::of(rule.id) {
                let j = t.index();
                threats[j].0.add(sev);
                *threats[j].2.entry(rule.id).or_default() += 1;
                hit_threat[j] = true;
            }
        }
        for (i, w) in worst.iter().enumerate() {
            let Some(w) = *w else { continue };
            match s.kind {
                Kind::Container => rules[i].containers += 1,
                Kind::Image => rules[i].images += 1,
                Kind::Engine => rules[i].engines += 1,
            }
            offenders[i].push(Offender {
                kind: s.kind,
                engine: s.engine.to_string(),
                id: s.id.to_string(),
                name: s.name.to_string(),
                score: s.score,
                worst: w,
                project: s.project.clone(),
            });
        }
        if s.kind == Kind::Container {
            for (j, hit) in hit_threat.iter().enumerate() {
                if *hit {
                    threats[j].1 += 1;
                }
            }
        }
    }
    for (card, mut list) in rules.iter_mut().zip(offenders) {
        list.sort_by(|a, b| {
            b.worst
                .cmp(&a.worst)
                .then(b.score.cmp(&a.score))
                .then_with(|| a.name.cmp(&b.name))
        });
        list.truncate(TOP);
        card.top = list;
    }
    let threats = Threat::ALL
        .iter()
        .zip(threats)
        .map(|(&threat, (counts, containers, by_rule))| {
            let mut rules: Vec<(&'static str, usize)> = by_rule.into_iter().collect();
            rules.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            ThreatRow {
                threat,
                counts,
                containers,
                rules,
            }
        })
        .collect();
    Overview { rules, threats }
}

/// The subjects of one engine's assessment (what the window shows): its
/// containers (their image's counted finding included), images, and the
/// engine with the policy file's findings. `engine`: its name, or empty.
pub fn subjects<'a>(
    inv: &'a crate::model::Inventory,
    a: &'a crate::assess::Assessment,
    engine: &'a str,
) -> Vec<Subject<'a>> {
    fn active(f: &[crate::model::Finding]) -> Vec<(&'static str, Severity)> {
        f.iter()
            .filter(|f| !f.is_waived())
            .map(|f| (f.rule_id, f.severity))
            .collect()
    }
    // An image whose packages are still being read has findings to come.
    let read = |image_id: &str| {
        inv.images
            .iter()
            .find(|i| i.id == image_id)
            .is_none_or(|i| {
                !matches!(
                    i.vulns.as_ref(),
                    crate::model::packages::VulnState::NotScanned
                )
            })
    };
    let mut out = Vec::with_capacity(inv.containers.len() + inv.images.len() + 1);
    for c in &inv.containers {
        let Some(ca) = a.container(&c.id) else {
            continue;
        };
        let mut findings = active(&ca.findings);
        findings.extend(active(ca.from_image.as_slice()));
        out.push(Subject {
            kind: Kind::Container,
            engine,
            id: &c.id,
            name: &c.name,
            score: ca.score,
            findings,
            complete: read(&c.image_id),
            project: c.compose().map(|r| r.label()),
        });
    }
    for i in &inv.images {
        out.push(Subject {
            kind: Kind::Image,
            engine,
            id: &i.id,
            name: i.tags.first().map_or(i.short_id(), String::as_str),
            score: 0,
            findings: active(a.image(&i.id)),
            complete: read(&i.id),
            project: None,
        });
    }
    let mut own = active(&a.engine);
    own.extend(active(&a.policy));
    out.push(Subject {
        kind: Kind::Engine,
        engine,
        id: &inv.engine.label,
        name: &inv.engine.label,
        score: 0,
        findings: own,
        complete: true,
        project: None,
    });
    out
}

/// "Since the session started": each container, image and engine as it was
/// in the first assessment that had it complete. The session starts with
/// the first assessment of every engine; a subject known then whose
/// packages were still being read is taken as it is once they are, so the
/// image reads that finish after the first picture are not counted as
/// changes (they were there all along). Subjects that appear later are
/// changes, and so are subjects that go away.
#[derive(Debug, Default)]
pub struct SessionStart {
    started: bool,
    subjects: BTreeMap<(Kind, String, String), Kept>,
}

#[derive(Debug)]
struct Kept {
    name: String,
    score: u8,
    findings: Vec<(String, Severity)>,
    /// Taken complete: never updated again.
    frozen: bool,
}

impl SessionStart {
    /// Take in the latest subjects; `every_engine`: every engine has been
    /// assessed once. Returns the reference overview when it changed.
    pub fn observe(&mut self, subjects: &[Subject<'_>], every_engine: bool) -> Option<Overview> {
        if !self.started && !every_engine {
            return None;
        }
        let first = !self.started;
        self.started = true;
        let mut changed = first;
        for s in subjects {
            let key = (s.kind, s.engine.to_string(), s.id.to_string());
            let kept = || Kept {
                name: s.name.to_string(),
                score: s.score,
                findings: s
                    .findings
                    .iter()
                    .map(|(r, v)| (r.to_string(), *v))
                    .collect(),
                frozen: s.complete,
            };
            match self.subjects.get_mut(&key) {
                None if first => {
                    self.subjects.insert(key, kept());
                }
                Some(k) if !k.frozen => {
                    *k = kept();
                    changed = true;
                }
                _ => {}
            }
        }
        changed.then(|| self.overview())
    }

    fn overview(&self) -> Overview {
        build(self.subjects.iter().map(|((kind, engine, id), k)| Subject {
            kind: *kind,
            engine,
            id,
            name: &k.name,
            score: k.score,
            findings: k.findings.iter().map(|(r, v)| (r.as_str(), *v)).collect(),
            complete: k.frozen,
            project: None,
        }))
    }
}

/// The subjects of a JSON report (what the HTML report shows).
pub fn of_report(r: &crate::report::Report) -> Overview {
    fn active(f: &[crate::report::FindingReport]) -> Vec<(&str, Severity)> {
        f.iter()
            .filter(|f| !f.waived)
            .map(|f| (f.rule_id.as_str(), f.severity))
            .collect()
    }
    let containers = r.containers.iter().map(|c| Subject {
        kind: Kind::Container,
        engine: &c.engine,
        id: &c.id,
        name: &c.name,
        score: c.risk_score,
        findings: active(&c.findings),
        complete: true,
        project: c
            .compose
            .as_ref()
            .map(crate::model::compose::ComposeRef::label),
    });
    let images = r.images.iter().map(|i| Subject {
        kind: Kind::Image,
        engine: &i.engine,
        id: &i.id,
        name: i
            .tags
            .first()
            .map_or(crate::model::short_id(&i.id), String::as_str),
        score: 0,
        findings: active(&i.findings),
        complete: true,
        project: None,
    });
    let engines: Vec<Subject> = if r.engines.is_empty() {
        vec![Subject {
            kind: Kind::Engine,
            engine: "",
            id: "engine",
            name: "engine",
            score: 0,
            findings: active(&r.engine_findings),
            complete: true,
            project: None,
        }]
    } else {
        r.engines
            .iter()
            .map(|e| Subject {
                kind: Kind::Engine,
                engine: &e.name,
                id: &e.name,
                name: &e.name,
                score: 0,
                findings: active(&e.engine_findings),
                complete: true,
                project: None,
            })
            .collect()
    };
    let policy = Subject {
        kind: Kind::Engine,
        engine: "",
        id: "policy",
        name: "policy file",
        score: 0,
        findings: active(&r.policy_findings),
        complete: true,
        project: None,
    };
    build(
        containers
            .chain(images)
            .chain(engines)
            .chain(std::iter::once(policy)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 26: at launch the image reads finish after the first
    /// assessment; their findings were there all along and are not "+63
    /// since the session started". What changes after a subject is complete,
    /// and what arrives later, still counts.
    #[test]
    fn the_session_starts_when_each_subject_is_complete() {
        let vuln = ("image.known-vulnerabilities", Severity::High);
        let image = |complete: bool, n: usize| Subject {
            kind: Kind::Image,
            engine: "",
            id: "sha256:1",
            name: "app:1",
            score: 0,
            findings: vec![vuln; n],
            complete,
            project: None,
        };
        let mut web = container("web", 40, vec![("container.root-user", Severity::Medium)]);
        web.complete = false;
        let rule1 = |o: &Overview| o.rule(SeedRule::VulnerabilityManagement).counts.high;
        let mut s = SessionStart::default();
        // No engine has answered yet: nothing starts.
        assert!(s.observe(&[image(false, 0)], false).is_none());
        let first = s.observe(&[image(false, 0), web.clone()], true).unwrap();
        assert_eq!(rule1(&first), 0);
        // The reads finish: 63 known vulnerabilities, on the image and on
        // the container that uses it. The reference takes them in.
        web.complete = true;
        web.findings.extend(vec![vuln; 63]);
        let r = s.observe(&[image(true, 63), web.clone()], true).unwrap();
        assert_eq!(rule1(&r), 126);
        assert_eq!(
            build([image(true, 63), web.clone()])
                .rule(SeedRule::VulnerabilityManagement)
                .counts
                .high
                - rule1(&r),
            0
        );
        // From now on the picture is frozen: a new finding, or a container
        // that came later, is a change since the session started.
        web.findings.push(vuln);
        let late = container("late", 10, vec![vuln]);
        assert!(
            s.observe(&[image(true, 63), web.clone(), late.clone()], true)
                .is_none()
        );
        let now = build([image(true, 63), web, late]);
        assert_eq!(
            now.rule(SeedRule::VulnerabilityManagement).counts.high - rule1(&r),
            2
        );
    }

    fn container<'a>(name: &'a str, score: u8, f: Vec<(&'a str, Severity)>) -> Subject<'a> {
        Subject {
            kind: Kind::Container,
            engine: "",
            id: name,
            name,
            score,
            findings: f,
            complete: true,
            project: None,
        }
    }

    #[test]
    fn cards_count_subjects_per_rule_and_rank_offenders() {
        let o = build([
            container(
                "web",
                95,
                vec![
                    ("container.privileged", Severity::Critical),
                    ("container.root-user", Severity::Medium),
                    ("container.no-healthcheck", Severity::Low),
                ],
            ),
            container("db", 40, vec![("container.root-user", Severity::Medium)]),
            container("ok", 0, vec![]),
            Subject {
                kind: Kind::Image,
                engine: "",
                id: "sha256:1",
                name: "app:1",
                score: 0,
                findings: vec![("image.known-vulnerabilities", Severity::High)],
                complete: true,
                project: None,
            },
        ]);
        let lp = o.rule(SeedRule::LeastPrivilege);
        assert_eq!((lp.containers, lp.images), (2, 0), "web once, db once");
        assert_eq!(lp.counts.get(Severity::Medium), 2);
        assert_eq!(lp.worst(), Some(Severity::Critical));
        let names: Vec<&str> = lp.top.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["web", "db"], "worst first");
        assert_eq!(lp.top[0].worst, Severity::Critical);
        let vm = o.rule(SeedRule::VulnerabilityManagement);
        assert_eq!((vm.containers, vm.images), (0, 1));
        assert_eq!(o.rule(SeedRule::NetworkIsolation).breaking(), 0);
        // Threats: the privileged container feeds breakout and attack
        // surface; root-user twice feeds breakout.
        let breakout = &o.threats[5];
        assert_eq!(breakout.threat, Threat::BreakoutViaRoot);
        assert_eq!(breakout.containers, 2);
        assert_eq!(breakout.rules[0], ("container.root-user", 2));
        assert_eq!(o.threats.len(), 7);
        assert_eq!(o.rules.len(), 8);
    }

    #[test]
    fn the_report_and_the_window_see_the_same_overview() {
        let inv = crate::watch::demo::inventory().unwrap();
        let a = crate::assess::assess(&inv, &crate::policy::Policy::default(), chrono::Utc::now());
        let report = crate::report::Report::build(
            &inv,
            &a,
            &crate::policy::Policy::default(),
            chrono::Utc::now(),
        );
        let from_report = of_report(&report);
        let lab = from_report.rule(SeedRule::LeastPrivilege);
        assert!(
            lab.containers > 5,
            "the lab breaks least privilege: {lab:?}"
        );
        let every: usize = from_report.rules.iter().map(RuleCard::breaking).sum();
        assert!(every > 0);
    }
}
