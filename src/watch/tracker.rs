//! What the worker remembers between scans: containers seen only through
//! events, containers that are gone, exec sessions, drift results, and the
//! findings of the last assessment (to tell which ones are new).
//!
//! No I/O: the worker feeds it scans, inspects and events, and asks it for
//! the merged inventory to assess.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::assess::Assessment;
use crate::model::activity::{Activity, ExecSession, FindingNote, Gone};
use crate::model::{Container, Drift, Inventory, Severity};

/// Gone containers kept at most (the oldest are forgotten first).
pub const MAX_GONE: usize = 500;
/// Exec sessions kept per container (the oldest are forgotten first).
pub const MAX_EXECS: usize = 100;

/// Identity of a finding for "is it new?": container, rule, and — for
/// runtime rules, whose evidence is the news — the evidence. Kept as a
/// 64-bit hash of those: a thousand containers' findings, remembered
/// between every pass, take 8 bytes each instead of three owned strings.
type FindingKey = u64;

fn finding_key(container: &str, rule: &str, evidence: &str) -> FindingKey {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (container, rule, evidence).hash(&mut h);
    h.finish()
}

/// What one source's worker remembers across scans: gone containers,
/// exec sessions, drift, and which findings it has already reported.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The last full scan, without gone containers.
    base: Option<Inventory>,
    /// Inspected from events and not yet in a scan.
    extra: BTreeMap<String, Container>,
    gone: BTreeMap<String, Container>,
    destroyed_at: HashMap<String, DateTime<Utc>>,
    execs: HashMap<String, Vec<ExecSession>>,
    drift: HashMap<String, Drift>,
    findings: Option<HashSet<FindingKey>>,
    /// Containers the last assessment covered.
    known: HashSet<String>,
    /// (container, CVE) of known-exploited vulnerabilities in running
    /// containers at the last assessment.
    kev_hits: HashSet<(String, String)>,
}

impl Tracker {
    /// A scan has been merged in.
    pub fn has_scan(&self) -> bool {
        self.base.is_some()
    }

    /// The last scan, without gone containers and without exec sessions
    /// (those are kept here): what a light pass starts from.
    pub fn base(&self) -> Option<&Inventory> {
        self.base.as_ref()
    }

    /// The container as last seen (scan, event inspect, or gone).
    pub fn container(&self, id: &str) -> Option<&Container> {
        self.live()
            .find(|c| c.id == id)
            .or_else(|| self.gone.get(id))
    }

    /// Containers the engine still has: the last scan and those seen since
    /// only through events.
    fn live(&self) -> impl Iterator<Item = &Container> {
        self.base
            .iter()
            .flat_map(|b| b.containers.iter())
            .chain(self.extra.values())
    }

    fn running(&self) -> impl Iterator<Item = &Container> {
        self.live()
            .filter(|c| c.state == crate::model::ContainerState::Running)
    }

    /// Gone containers kept (until dismissed).
    pub fn gone_count(&self) -> usize {
        self.gone.len()
    }

    /// A full scan arrived. Containers known before and missing now are
    /// gone; exec sessions the scan found are merged in.
    pub fn apply_scan(&mut self, mut inv: Inventory, now: DateTime<Utc>) {
        let live: HashSet<String> = inv.containers.iter().map(|c| c.id.clone()).collect();
        let vanished: Vec<Container> = self
            .live()
            .filter(|c| !live.contains(&c.id))
            .cloned()
            .collect();
        for c in vanished {
            self.make_gone(c, now);
        }
        self.extra.clear();
        // Removals of containers never seen (gone before an inspect could
        // answer) are not kept forever.
        self.destroyed_at
            .retain(|_, t| now.signed_duration_since(*t) < chrono::Duration::hours(1));
        for c in &mut inv.containers {
            for e in std::mem::take(&mut c.execs) {
                self.add_exec(e);
            }
        }
        self.base = Some(inv);
    }

    fn make_gone(&mut self, mut c: Container, now: DateTime<Utc>) {
        if self.gone.contains_key(&c.id) {
            return;
        }
        let at = self.destroyed_at.remove(&c.id).unwrap_or(now);
        c.gone = Some(Gone { at });
        c.processes = None;
        self.gone.insert(c.id.clone(), c);
        while self.gone.len() > MAX_GONE {
            let oldest = self
                .gone
                .values()
                .min_by_key(|c| c.gone.map(|g| g.at))
                .map(|c| c.id.clone());
            match oldest {
                Some(id) => self.forget(&id),
                None => break,
            }
        }
    }

    /// A fresh inspect from an event (create, start, die, …).
    pub fn observe(&mut self, c: Container) {
        if self.gone.contains_key(&c.id) {
            return;
        }
        if let Some(known) = self
            .base
            .as_mut()
            .and_then(|b| b.containers.iter_mut().find(|k| k.id == c.id))
        {
            // Keep what only a scan knows (processes); take the new state.
            known.state = c.state;
            known.started_at = c.started_at;
            known.finished_at = c.finished_at;
            known.exit_code = c.exit_code;
            known.health = c.health;
            return;
        }
        self.extra.insert(c.id.clone(), c);
    }

    /// The engine removed a container: it is gone from now on.
    pub fn destroyed(&mut self, id: &str, at: DateTime<Utc>) {
        self.destroyed_at.insert(id.to_string(), at);
        let known = self.extra.remove(id).or_else(|| {
            let base = self.base.as_mut()?;
            let i = base.containers.iter().position(|c| c.id == id)?;
            Some(base.containers.remove(i))
        });
        if let Some(c) = known {
            self.make_gone(c, at);
        }
    }

    /// Record an exec session (replacing an earlier record of the same exec).
    pub fn add_exec(&mut self, e: ExecSession) {
        let list = self.execs.entry(e.container_id.clone()).or_default();
        match list.iter_mut().find(|x| x.id == e.id) {
            Some(x) => {
                // A later inspect knows the exit; the first one knew the start.
                let started = x.started.min(e.started);
                let ended = x.ended.or(e.ended);
                let exit_code = e.exit_code.or(x.exit_code);
                *x = e;
                x.started = started;
                x.ended = ended;
                x.exit_code = exit_code;
            }
            None => list.push(e),
        }
        if list.len() > MAX_EXECS {
            let extra = list.len() - MAX_EXECS;
            list.drain(..extra);
        }
    }

    /// An exec ended (from its `exec_die` event).
    pub fn exec_ended(
        &mut self,
        container_id: &str,
        exec_id: &str,
        at: DateTime<Utc>,
        code: Option<i64>,
    ) {
        if let Some(e) = self
            .execs
            .get_mut(container_id)
            .and_then(|l| l.iter_mut().find(|e| e.id == exec_id))
        {
            e.ended = Some(at);
            e.exit_code = code.or(e.exit_code);
        }
    }

    /// Store a drift result; says whether it differs from the last one.
    pub fn set_drift(&mut self, id: &str, d: Drift) -> bool {
        let changed = self
            .drift
            .get(id)
            .is_none_or(|old| old.items != d.items || old.protected != d.protected);
        self.drift.insert(id.to_string(), d);
        changed
    }

    /// Stop showing gone containers (`ids` empty: all of them). Returns
    /// how many were dismissed.
    pub fn dismiss(&mut self, ids: &[String]) -> usize {
        let targets: Vec<String> = if ids.is_empty() {
            self.gone.keys().cloned().collect()
        } else {
            ids.iter()
                .filter(|i| self.gone.contains_key(*i))
                .cloned()
                .collect()
        };
        for id in &targets {
            self.forget(id);
        }
        targets.len()
    }

    fn forget(&mut self, id: &str) {
        self.gone.remove(id);
        self.execs.remove(id);
        self.drift.remove(id);
    }

    /// Running containers to check for drift.
    pub fn drift_targets(&self) -> Vec<crate::sources::docker::drift::Target> {
        let root = self
            .base
            .as_ref()
            .map_or("", |b| b.engine.docker_root_dir.as_str());
        self.running()
            .map(|c| crate::sources::docker::drift::Target::of(c, root))
            .collect()
    }

    /// Running containers (not gone): `(id, has a memory limit)`.
    pub fn merged_running(&self) -> Vec<(String, bool)> {
        self.running()
            .map(|c| (c.id.clone(), c.limits.memory_bytes > 0))
            .collect()
    }

    /// The inventory to assess: the last scan, containers seen only through
    /// events, and gone ones, each with its exec sessions and drift.
    pub fn merged(&self) -> Inventory {
        let mut inv = self.base.clone().unwrap_or_default();
        inv.containers.extend(self.extra.values().cloned());
        inv.containers.extend(self.gone.values().cloned());
        for c in &mut inv.containers {
            if let Some(e) = self.execs.get(&c.id) {
                c.execs = e.clone();
            }
            if let Some(d) = self.drift.get(&c.id) {
                c.drift = Some(d.clone());
            }
        }
        inv.containers
            .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        inv
    }

    /// Compare an assessment with the previous one. The first call only
    /// remembers (everything would be "new"). Later calls return, for each
    /// container seen for the first time, one `assessed` activity listing
    /// all its findings; and for known containers, one `finding` activity
    /// per rule that newly fired.
    pub fn new_findings(&mut self, inv: &Inventory, a: &Assessment) -> Option<Vec<Activity>> {
        let first = self.findings.is_none();
        let old = self.findings.take().unwrap_or_default();
        let mut keys = HashSet::with_capacity(old.len());
        let mut out = Vec::new();
        for c in &inv.containers {
            let Some(ca) = a.container(&c.id) else {
                continue;
            };
            let is_new_container = !self.known.contains(&c.id);
            let mut fresh: BTreeMap<&str, (Severity, Vec<&str>)> = BTreeMap::new();
            for f in &ca.findings {
                let evidence = if is_runtime_rule(f.rule_id) {
                    f.evidence.as_str()
                } else {
                    ""
                };
                let key = finding_key(&c.id, f.rule_id, evidence);
                if !is_new_container && !old.contains(&key) && f.waiver.is_none() {
                    let e = fresh.entry(f.rule_id).or_insert((f.severity, Vec::new()));
                    e.0 = e.0.max(f.severity);
                    e.1.push(&f.evidence);
                }
                keys.insert(key);
            }
            if first {
                continue;
            }
            if is_new_container {
                out.push(assessed(c, ca));
                continue;
            }
            for (rule, (severity, evidence)) in fresh {
                out.push(finding_activity(c, rule, severity, &evidence.join("; ")));
            }
        }
        // Known-exploited vulnerabilities newly seen in running containers
        // (an imported KEV catalogue, a container started on such an
        // image): each one is news, whatever the severity threshold.
        let mut hits = HashSet::new();
        for c in inv
            .containers
            .iter()
            .filter(|c| c.gone.is_none() && c.state == crate::model::ContainerState::Running)
        {
            let vulns = match &c.packages {
                Some(_) => c.vulns.clone(),
                None => match inv.images.iter().find(|i| i.id == c.image_id) {
                    Some(i) => i.vulns.clone(),
                    None => continue,
                },
            };
            for v in vulns.vulnerabilities().iter().filter(|v| v.kev.is_some()) {
                let key = (c.id.clone(), v.id.clone());
                if !first && !self.kev_hits.contains(&key) && self.known.contains(&c.id) {
                    out.push(kev_activity(c, v));
                }
                hits.insert(key);
            }
        }
        self.kev_hits = hits;
        self.known = inv.containers.iter().map(|c| c.id.clone()).collect();
        self.findings = Some(keys);
        (!first).then_some(out)
    }
}

/// A known-exploited vulnerability found in a running container, as a
/// timeline entry (an alert follows: it is rated critical).
pub fn kev_activity(c: &Container, v: &crate::model::packages::Vulnerability) -> Activity {
    let kev = v.kev.as_ref();
    let mut act = Activity::own(
        "finding",
        format!(
            "Known exploited vulnerability in a running container: {} in {} {} — in CISA's \
             catalogue since {}{}",
            v.id,
            v.package,
            v.installed,
            kev.map_or("", |k| k.added.as_str()),
            if kev.is_some_and(|k| k.ransomware) {
                ", used by ransomware"
            } else {
                ""
            }
        ),
        Some(Severity::Critical),
    )
    .about(c);
    act.rule = Some(crate::rules::vulns::KNOWN_VULNERABILITIES.id.to_string());
    act
}

/// Rules whose evidence is the news (exec sessions, drift): a new piece of
/// evidence is a new finding.
pub fn is_runtime_rule(rule_id: &str) -> bool {
    crate::rules::by_id(rule_id).is_some_and(|r| r.family == crate::rules::Family::Runtime)
}

/// A finding that appeared on a container, as a timeline entry.
pub fn finding_activity(c: &Container, rule: &str, severity: Severity, evidence: &str) -> Activity {
    let title = crate::rules::by_id(rule).map_or("", |r| r.title);
    let mut act = Activity::own("finding", format!("{title}: {evidence}"), Some(severity)).about(c);
    act.rule = Some(rule.to_string());
    act
}

/// A container seen for the first time: its score and every finding.
pub fn assessed(c: &Container, ca: &crate::assess::ContainerAssessment) -> Activity {
    let active: Vec<&crate::model::Finding> =
        ca.findings.iter().filter(|f| !f.is_waived()).collect();
    let worst = active.iter().map(|f| f.severity).max();
    let detail = match active.iter().max_by_key(|f| f.severity) {
        None => format!("risk {} — no findings", ca.score),
        Some(top) => format!(
            "risk {} — {} finding(s), worst: {}",
            ca.score,
            active.len(),
            crate::rules::by_id(top.rule_id).map_or(top.rule_id, |r| r.title)
        ),
    };
    let mut act = Activity::own("assessed", detail, worst).about(c);
    act.findings = ca
        .findings
        .iter()
        .map(|f| FindingNote {
            rule: f.rule_id.to_string(),
            severity: f.severity,
            evidence: f.evidence.clone(),
            waived: f.is_waived(),
        })
        .collect();
    act
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerState;

    fn c(id: &str, name: &str) -> Container {
        Container {
            id: id.into(),
            name: name.into(),
            state: ContainerState::Running,
            ..Container::default()
        }
    }

    fn inv(cs: Vec<Container>) -> Inventory {
        Inventory {
            containers: cs,
            ..Inventory::default()
        }
    }

    #[test]
    fn a_container_seen_only_through_events_stays_as_gone() {
        let mut t = Tracker::default();
        let now = Utc::now();
        t.apply_scan(inv(vec![c("a", "web")]), now);
        // Lives one second between two scans: inspected on start, destroyed.
        t.observe(c("b", "blink"));
        assert_eq!(t.merged().containers.len(), 2);
        let died = now + chrono::Duration::seconds(1);
        t.destroyed("b", died);
        t.apply_scan(inv(vec![c("a", "web")]), now + chrono::Duration::seconds(5));
        let m = t.merged();
        let b = m.containers.iter().find(|x| x.id == "b").expect("kept");
        assert_eq!(
            b.gone.map(|g| g.at),
            Some(died),
            "gone at the destroy event"
        );
        assert_eq!(b.state_label(), "gone");
        assert_eq!(t.dismiss(&[]), 1);
        assert_eq!(t.merged().containers.len(), 1);
    }

    #[test]
    fn containers_missing_from_a_scan_become_gone_and_execs_merge() {
        let mut t = Tracker::default();
        let now = Utc::now();
        t.apply_scan(inv(vec![c("a", "web"), c("b", "db")]), now);
        let exec = ExecSession {
            id: "x1".into(),
            container_id: "b".into(),
            container_name: "db".into(),
            user: Some("root".into()),
            effective_user: "root".into(),
            command: vec!["sh".into()],
            privileged: false,
            tty: true,
            started: now,
            ended: None,
            exit_code: None,
        };
        t.add_exec(exec.clone());
        t.exec_ended("b", "x1", now, Some(0));
        t.apply_scan(inv(vec![c("a", "web")]), now);
        let m = t.merged();
        let b = m.containers.iter().find(|x| x.id == "b").unwrap();
        assert!(b.gone.is_some());
        assert_eq!(b.execs.len(), 1);
        assert_eq!(b.execs[0].exit_code, Some(0));
        // Re-inspecting the same exec keeps its end.
        t.add_exec(exec);
        let m = t.merged();
        let b = m.containers.iter().find(|x| x.id == "b").unwrap();
        assert_eq!(b.execs[0].exit_code, Some(0));
        assert_eq!(t.dismiss(&["b".into()]), 1);
        assert_eq!(t.gone_count(), 0);
    }

    #[test]
    fn only_new_findings_become_activities() {
        let policy = crate::policy::Policy::default();
        let mut t = Tracker::default();
        let now = Utc::now();
        let mut web = c("a", "web");
        web.user = "1000".into();
        t.apply_scan(inv(vec![web.clone()]), now);
        let m = t.merged();
        let a = crate::assess::assess(&m, &policy, now);
        assert!(
            t.new_findings(&m, &a).is_none(),
            "the first assessment is the baseline"
        );
        assert_eq!(t.new_findings(&m, &a).unwrap().len(), 0);
        web.privileged = true;
        t.apply_scan(inv(vec![web]), now);
        let m = t.merged();
        let a = crate::assess::assess(&m, &policy, now);
        let fresh = t.new_findings(&m, &a).unwrap();
        assert_eq!(fresh.len(), 1, "{fresh:?}");
        assert_eq!(fresh[0].action, "finding");
        assert_eq!(fresh[0].rule.as_deref(), Some("container.privileged"));
        assert_eq!(fresh[0].name, "web");
        assert_eq!(fresh[0].severity, Some(Severity::Critical));

        // A container seen for the first time: one entry with every finding.
        let mut blink = c("b", "blink");
        blink.cap_add = vec!["SYS_ADMIN".into()];
        t.observe(blink);
        let m = t.merged();
        let a = crate::assess::assess(&m, &policy, now);
        let fresh = t.new_findings(&m, &a).unwrap();
        assert_eq!(fresh.len(), 1, "{fresh:?}");
        assert_eq!(fresh[0].action, "assessed");
        assert_eq!(fresh[0].name, "blink");
        assert!(
            fresh[0]
                .findings
                .iter()
                .any(|f| f.rule == "container.cap-add")
        );
        assert_eq!(
            fresh[0].findings.len(),
            a.container("b").unwrap().findings.len()
        );
        assert!(fresh[0].detail.starts_with("risk "), "{}", fresh[0].detail);
    }
}
