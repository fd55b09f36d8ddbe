//! Folding repeated engine events into summaries, before they reach the
//! audit log and the timeline (issue 39, D10: anyone allowed to loop
//! `docker exec` could fill the disk with one record per event).
//!
//! Pure: activities in, activities out, the clock passed in. The recorder
//! (`watch::trail::Recorder`) feeds every activity of a worker through one
//! [`Folder`], so the timeline and the audit log fold the same way.
//!
//! How events fold:
//! - Events group by engine, source, action, the container (or object) they
//!   are about, and what makes them matter: severity, and for an exec
//!   whether it is privileged or runs as root. A privileged exec never
//!   folds into a count of ordinary ones.
//! - In a group's window ([`WINDOW`], from its first event), the first
//!   [`FOLD_AFTER`] events pass one by one; the rest are counted. When the
//!   window ends, the count goes out as one summary activity (audit kind
//!   `summary`) saying exactly what was folded: how many, of what, where,
//!   between which engine times, the first and the last of them, and
//!   whether they were privileged or as root.
//! - A group that folded keeps folding (a streak): its next window is twice
//!   as long (up to [`MAX_WINDOW`]) and lets nothing through one by one; a
//!   window with nothing in it ends the streak. A sustained flood then costs
//!   one record per [`MAX_WINDOW`].
//! - A new finding of the same rule on the same container, again and again
//!   (a loop of root execs makes one per assessment), folds the same way:
//!   its first ones are recorded whole. shipshape's other activities — gaps,
//!   dropped events, engine changes, a new container's assessment — never
//!   fold.
//! - A window that folded a single event gives that event back as it was:
//!   a summary is written only when it stands for two or more.
//! - Memory is bounded: past [`MAX_GROUPS`] groups (a flood spread over many
//!   containers), or while the audit writer is falling behind
//!   ([`Folder::set_pressure`]), new engine events group across containers
//!   (the summary counts the containers) and only the first of each group
//!   passes. Even then the first instance of each kind and privilege is
//!   recorded. A finding is never grouped across containers: without room
//!   for its own group it is recorded as it is.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::model::Severity;
use crate::model::activity::{Activity, Source};

/// A group's first window: the same burst window as alerts
/// ([`crate::alerts::GROUP_WINDOW`]).
pub const WINDOW: Duration = crate::alerts::GROUP_WINDOW;
/// The longest window of a streak: the alerts' streak
/// ([`crate::alerts::STREAK`]).
pub const MAX_WINDOW: Duration = crate::alerts::STREAK;
/// Events of one group that pass one by one in a window.
pub const FOLD_AFTER: u32 = 5;
/// Groups kept at once; further events group across containers.
pub const MAX_GROUPS: usize = 512;
/// Groups across containers kept at once; further events share one group.
const MAX_COARSE: usize = 64;
/// Distinct containers counted in a group across containers.
const MAX_DISTINCT: usize = 1000;
/// Characters of a folded event's detail kept in its summary.
const DETAIL: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    engine: String,
    source: Source,
    /// Empty for the one group everything shares when all else is full.
    action: String,
    /// The container (or object); `None` for a group across containers.
    subject: Option<String>,
    /// For findings: the rule.
    rule: Option<String>,
    severity: Option<Severity>,
    privileged: bool,
    root: bool,
}

#[derive(Debug)]
struct Group {
    started: Instant,
    window: Duration,
    /// Passed one by one in this window.
    passed: u32,
    folded: Option<Folded>,
}

impl Group {
    fn ends(&self) -> Instant {
        self.started + self.window
    }
}

/// What a window folded so far.
#[derive(Debug)]
struct Folded {
    count: u64,
    /// The first folded event, whole (its names and ids describe the
    /// summary).
    first: Activity,
    last_time: DateTime<Utc>,
    last_detail: String,
    severity: Option<Severity>,
    /// Distinct subjects (groups across containers), up to [`MAX_DISTINCT`].
    subjects: HashSet<u64>,
    kinds: HashSet<String>,
}

/// Folds one worker's activities (see the module's header).
#[derive(Debug, Default)]
pub struct Folder {
    groups: HashMap<Key, Group>,
    coarse: usize,
    pressure: bool,
    /// No group's window ends before this.
    next: Option<Instant>,
}

fn short(s: &str) -> String {
    match s.char_indices().nth(DETAIL) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

fn hash(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Whether an activity may fold at all: engine events, and new findings
/// (of one rule on one container, repeated).
pub fn foldable(a: &Activity) -> bool {
    a.source != Source::Shipshape || a.action == "finding"
}

/// The container or object an activity is about.
fn subject(a: &Activity) -> String {
    a.container_id.clone().unwrap_or_else(|| a.actor.clone())
}

impl Folder {
    /// The audit writer is falling behind (or caught up again): fold more.
    pub fn set_pressure(&mut self, on: bool) {
        self.pressure = on;
    }

    /// Events that have not gone out yet (counted in a window).
    pub fn pending(&self) -> u64 {
        self.groups
            .values()
            .filter_map(|g| g.folded.as_ref())
            .map(|f| f.count)
            .sum()
    }

    /// When [`Self::due`] will have a summary to give (or a group to
    /// forget), if any group is open.
    pub fn next_due(&self) -> Option<Instant> {
        self.next
    }

    fn key(&self, a: &Activity) -> Key {
        let exec = a.exec.as_ref();
        let mut key = Key {
            engine: a.engine.clone(),
            source: a.source,
            action: a.action.clone(),
            subject: Some(subject(a)),
            rule: a.rule.clone(),
            severity: a.severity,
            privileged: exec.is_some_and(|e| e.privileged),
            root: exec.is_some_and(|e| e.as_root()),
        };
        if self.groups.contains_key(&key) {
            return key;
        }
        if self.pressure || self.groups.len() >= MAX_GROUPS {
            key.subject = None;
            if !self.groups.contains_key(&key) && self.coarse >= MAX_COARSE {
                key.action.clear();
                key.rule = None;
                key.source = Source::Other;
                key.severity = None;
                key.privileged = false;
                key.root = false;
            }
        }
        key
    }

    /// One activity at `now`: `Some` when it goes out as it is, `None`
    /// when it was folded into its group's count (a summary follows from
    /// [`Self::due`] or [`Self::flush`]).
    pub fn push(&mut self, a: Activity, now: Instant) -> Option<Activity> {
        if !foldable(&a) {
            return Some(a);
        }
        let key = self.key(&a);
        let across = key.subject.is_none();
        if across && a.source == Source::Shipshape {
            // A new finding is never counted across containers: with no
            // room for its own group, it is recorded as it is.
            return Some(a);
        }
        let limit = if self.pressure || across {
            1
        } else {
            FOLD_AFTER
        };
        if across && !self.groups.contains_key(&key) {
            self.coarse += 1;
        }
        let group = self.groups.entry(key).or_insert_with(|| Group {
            started: now,
            window: WINDOW,
            passed: 0,
            folded: None,
        });
        let ends = group.ends();
        self.next = Some(self.next.map_or(ends, |n| n.min(ends)));
        if group.passed < limit {
            group.passed += 1;
            return Some(a);
        }
        match &mut group.folded {
            None => {
                let mut f = Folded {
                    count: 1,
                    last_time: a.time,
                    last_detail: short(&a.detail),
                    severity: a.severity,
                    subjects: HashSet::new(),
                    kinds: HashSet::new(),
                    first: a,
                };
                if across {
                    f.subjects.insert(hash(&subject(&f.first)));
                    f.kinds.insert(f.first.action.clone());
                }
                group.folded = Some(f);
            }
            Some(f) => {
                f.count += 1;
                f.last_time = a.time;
                f.last_detail = short(&a.detail);
                f.severity = f.severity.max(a.severity);
                if across {
                    if f.subjects.len() < MAX_DISTINCT {
                        f.subjects.insert(hash(&subject(&a)));
                    }
                    if f.kinds.len() < 16 {
                        f.kinds.insert(a.action.clone());
                    }
                }
            }
        }
        None
    }

    /// Summaries of the windows that have ended by `now`, oldest first.
    pub fn due(&mut self, now: Instant) -> Vec<Activity> {
        if self.next.is_none_or(|n| now < n) {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut next: Option<Instant> = None;
        let mut ended = Vec::new();
        for (key, g) in &mut self.groups {
            if now < g.ends() {
                next = Some(next.map_or(g.ends(), |n| n.min(g.ends())));
                continue;
            }
            match g.folded.take() {
                // One over the limit: the event itself, as it was.
                Some(f) if f.count == 1 => {
                    out.push(f.first);
                    ended.push(key.clone());
                }
                Some(f) => {
                    out.push(summary(key, f, g.window));
                    // A streak: the next window is longer, and folds from
                    // its first event.
                    g.started = now;
                    g.window = (g.window * 2).min(MAX_WINDOW);
                    g.passed = u32::MAX;
                    next = Some(next.map_or(g.ends(), |n| n.min(g.ends())));
                }
                None => ended.push(key.clone()),
            }
        }
        for key in ended {
            if key.subject.is_none() {
                self.coarse = self.coarse.saturating_sub(1);
            }
            self.groups.remove(&key);
        }
        self.next = next;
        out.sort_by_key(|a| a.time);
        out
    }

    /// Every summary still open (the worker is stopping), oldest first.
    pub fn flush(&mut self) -> Vec<Activity> {
        let mut out: Vec<Activity> = self
            .groups
            .drain()
            .filter_map(|(key, g)| {
                g.folded.map(|f| match f.count {
                    1 => f.first,
                    _ => summary(&key, f, g.window),
                })
            })
            .collect();
        self.coarse = 0;
        self.next = None;
        out.sort_by_key(|a| a.time);
        out
    }
}

/// The summary activity of one window: what was folded, exactly.
fn summary(key: &Key, f: Folded, window: Duration) -> Activity {
    let Folded {
        count,
        first,
        last_time,
        last_detail,
        severity,
        subjects,
        kinds,
    } = f;
    let from = first.time;
    let first_detail = short(&first.detail);
    let mut a = first;
    a.time = last_time;
    a.time_nano = 0;
    a.exec = None;
    a.rule = key.rule.clone();
    a.findings = Vec::new();
    a.severity = severity;
    a.attributes.clear();
    let what = if let Some(rule) = &key.rule {
        format!("new findings of {rule}")
    } else if key.action.is_empty() {
        let mut k: Vec<&str> = kinds.iter().map(String::as_str).collect();
        k.sort_unstable();
        format!("events ({})", k.join(", "))
    } else {
        key.action.clone()
    };
    let how = match (key.privileged, key.root) {
        (true, true) => " privileged, as root,",
        (true, false) => " privileged",
        (false, true) => " as root",
        (false, false) => "",
    };
    let place = match &key.subject {
        Some(_) if !a.name.is_empty() => format!(" in {}", a.name),
        Some(s) if !s.is_empty() => format!(" on {}", crate::model::short_id(s)),
        Some(_) => String::new(),
        None => {
            a.actor.clear();
            a.container_id = None;
            a.name.clear();
            let n = subjects.len();
            let more = if n >= MAX_DISTINCT { "+" } else { "" };
            a.attributes.insert("objects".into(), format!("{n}{more}"));
            format!(" across {n}{more} containers or objects")
        }
    };
    let when = |t: DateTime<Utc>| t.format("%H:%M:%S%.3f").to_string();
    a.detail = format!(
        "{count} more {what}{how}{place} between {} and {} UTC, summarised instead of recorded \
         one by one (first: {}; last: {})",
        when(from),
        when(last_time),
        if first_detail.is_empty() {
            "—"
        } else {
            &first_detail
        },
        if last_detail.is_empty() {
            "—"
        } else {
            &last_detail
        },
    );
    a.attributes.insert("summarised".into(), count.to_string());
    a.attributes.insert("from".into(), from.to_rfc3339());
    a.attributes.insert("to".into(), last_time.to_rfc3339());
    a.attributes.insert("first".into(), first_detail);
    a.attributes.insert("last".into(), last_detail);
    a.attributes
        .insert("window_s".into(), window.as_secs().to_string());
    if key.privileged {
        a.attributes.insert("privileged".into(), "true".into());
    }
    if key.root {
        a.attributes.insert("as_root".into(), "true".into());
    }
    a
}

/// Whether an activity is a summary made here (no engine attribute and no
/// other entry of shipshape's uses that key).
pub fn is_summary(a: &Activity) -> bool {
    a.attributes.contains_key("summarised")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activity::ExecSession;

    fn exec_start(cid: &str, n: u32) -> Activity {
        let mut a = Activity::own("exec_start", format!("sh -c 'echo {n}'"), None);
        a.source = Source::Container;
        a.container_id = Some(cid.into());
        a.actor = cid.into();
        a.name = format!("name-{cid}");
        a
    }

    fn exec_record(cid: &str, user: &str, privileged: bool) -> Activity {
        let mut a = Activity::own("exec_create", "sh", None);
        a.source = Source::Container;
        a.container_id = Some(cid.into());
        a.name = format!("name-{cid}");
        a.exec = Some(ExecSession {
            id: "e".into(),
            container_id: cid.into(),
            container_name: a.name.clone(),
            user: Some(user.into()),
            effective_user: user.into(),
            command: vec!["sh".into()],
            privileged,
            tty: false,
            started: Utc::now(),
            ended: None,
            exit_code: None,
        });
        a.grade();
        a
    }

    /// The flood of D10: one container, exec_start as fast as it comes.
    /// The first few pass; the rest become one summary that says exactly
    /// what it stands for; the streak then folds everything.
    #[test]
    fn a_flood_in_one_container_becomes_one_summary_per_window() {
        let mut f = Folder::default();
        let t0 = Instant::now();
        let passed = (0..10_000)
            .filter(|&i| f.push(exec_start("c1", i), t0).is_some())
            .count();
        assert_eq!(passed, FOLD_AFTER as usize);
        assert_eq!(f.pending(), 10_000 - u64::from(FOLD_AFTER));
        assert!(
            f.due(t0 + WINDOW / 2).is_empty(),
            "not before the window ends"
        );
        let s = f.due(t0 + WINDOW);
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert!(is_summary(s));
        assert_eq!(s.attributes["summarised"], "9995");
        assert_eq!(s.action, "exec_start");
        assert_eq!(s.container_id.as_deref(), Some("c1"));
        assert!(
            s.detail
                .starts_with("9995 more exec_start in name-c1 between"),
            "{}",
            s.detail
        );
        assert!(s.detail.contains("first: sh -c 'echo 5'"), "{}", s.detail);
        assert!(s.detail.contains("last: sh -c 'echo 9999'"), "{}", s.detail);
        // The streak: nothing passes one by one in the next window, which
        // is twice as long.
        let t1 = t0 + WINDOW;
        assert!(f.push(exec_start("c1", 1), t1).is_none());
        assert!(f.push(exec_start("c1", 2), t1).is_none());
        assert!(f.due(t1 + WINDOW).is_empty());
        let s = f.due(t1 + WINDOW * 2);
        assert_eq!(s[0].attributes["summarised"], "2");
        // A quiet window ends the streak: events pass again.
        let t2 = t1 + WINDOW * 2;
        assert!(f.due(t2 + WINDOW * 4).is_empty());
        assert_eq!(f.next_due(), None, "nothing open");
        assert!(f.push(exec_start("c1", 2), t2 + WINDOW * 5).is_some());
    }

    /// Security-relevant events are never folded into a count without their
    /// first instance: a root or privileged exec is its own group (its
    /// first ones pass even amid a flood of ordinary ones), and gaps and
    /// findings never fold.
    #[test]
    fn privileged_and_root_execs_gaps_and_findings_keep_their_first_instance() {
        let mut f = Folder::default();
        let t0 = Instant::now();
        for _ in 0..100 {
            f.push(exec_record("c1", "1000", false), t0);
        }
        let root = f.push(exec_record("c1", "root", false), t0);
        assert!(root.is_some(), "the first root exec is recorded");
        let privileged = f.push(exec_record("c1", "1000", true), t0);
        assert!(
            privileged.is_some(),
            "the first privileged exec is recorded"
        );
        for _ in 0..50 {
            f.push(exec_record("c1", "root", false), t0);
        }
        let gap = Activity::own("gap", "no events", Some(Severity::High));
        let assessed = Activity::own("assessed", "risk 80", Some(Severity::Critical));
        for _ in 0..100 {
            assert!(f.push(gap.clone(), t0).is_some());
            assert!(f.push(assessed.clone(), t0).is_some());
        }
        // A new finding of one rule on one container, again and again: its
        // first ones are recorded, the rest summarised, naming the rule;
        // another rule's first ones are recorded all the same.
        let finding = |rule: &str| {
            let mut a = Activity::own("finding", "docker exec as root: …", Some(Severity::Medium));
            a.container_id = Some("c1".into());
            a.rule = Some(rule.into());
            a
        };
        let passed = (0..30)
            .filter(|_| f.push(finding("container.exec-root"), t0).is_some())
            .count();
        assert_eq!(passed, FOLD_AFTER as usize);
        assert!(f.push(finding("container.drift"), t0).is_some());
        let s = f.due(t0 + WINDOW);
        assert_eq!(s.len(), 3, "one per group: {s:#?}");
        let findings = s.iter().find(|a| a.action == "finding").unwrap();
        assert_eq!(findings.rule.as_deref(), Some("container.exec-root"));
        assert!(
            findings
                .detail
                .starts_with("25 more new findings of container.exec-root"),
            "{}",
            findings.detail
        );
        let root_summary = s
            .iter()
            .find(|a| a.attributes.contains_key("as_root"))
            .expect("the root execs say they were root");
        assert_eq!(root_summary.attributes["summarised"], "46");
        assert!(
            root_summary.detail.contains("as root"),
            "{}",
            root_summary.detail
        );
        assert!(
            root_summary.exec.is_none(),
            "a summary is not an exec record"
        );
    }

    /// Memory stays bounded when the flood is spread over many containers:
    /// past MAX_GROUPS, events group across containers, the first of each
    /// kind still passes, and the summary counts the containers.
    #[test]
    fn a_flood_over_many_containers_is_bounded_and_counted() {
        let mut f = Folder::default();
        let t0 = Instant::now();
        let mut passed = 0;
        for i in 0..20_000 {
            if f.push(exec_start(&format!("c{i}"), 0), t0).is_some() {
                passed += 1;
            }
        }
        assert!(f.groups.len() <= MAX_GROUPS + 1, "{}", f.groups.len());
        assert_eq!(passed, MAX_GROUPS + 1, "one per container, then one across");
        let s = f.due(t0 + WINDOW);
        assert_eq!(s.len(), 1);
        assert_eq!(
            s[0].attributes["summarised"],
            (20_000 - MAX_GROUPS - 1).to_string()
        );
        assert_eq!(s[0].attributes["objects"], "1000+");
        assert_eq!(s[0].container_id, None);
        assert!(
            s[0].detail.contains("across 1000+ containers"),
            "{}",
            s[0].detail
        );
        // Hostile action names cannot grow the map either.
        let mut f = Folder::default();
        for i in 0..5_000 {
            let mut a = exec_start(&format!("c{i}"), 0);
            a.action = format!("weird{i}");
            f.push(a, t0);
        }
        assert!(
            f.groups.len() <= MAX_GROUPS + MAX_COARSE + 1,
            "{}",
            f.groups.len()
        );
        let s = f.flush();
        assert!(
            s.iter().any(|a| a.detail.contains("more events (")),
            "{s:#?}"
        );
        assert_eq!(f.pending(), 0);
    }

    /// A single event over the limit is given back as it was, not as a
    /// "1 more" summary.
    #[test]
    fn one_event_over_the_limit_is_not_a_summary() {
        let mut f = Folder::default();
        let t0 = Instant::now();
        for i in 0..=FOLD_AFTER {
            f.push(
                exec_record("c1", "root", false),
                t0 + Duration::from_millis(u64::from(i)),
            );
        }
        let s = f.due(t0 + WINDOW);
        assert_eq!(s.len(), 1);
        assert!(!is_summary(&s[0]));
        assert!(s[0].exec.is_some(), "the exec record, whole");
        assert_eq!(f.next_due(), None, "no streak");
    }

    /// The writer falling behind: only the first of each group passes, and
    /// new groups form across containers.
    #[test]
    fn pressure_folds_more() {
        let mut f = Folder::default();
        f.set_pressure(true);
        let t0 = Instant::now();
        let passed = (0..100)
            .filter(|&i| f.push(exec_start(&format!("c{}", i % 10), i), t0).is_some())
            .count();
        assert_eq!(passed, 1);
        // A finding on a container without a group of its own is not
        // counted across containers: recorded as it is.
        let mut finding = Activity::own("finding", "x", Some(Severity::High));
        finding.container_id = Some("c9".into());
        finding.rule = Some("container.privileged".into());
        assert!(f.push(finding, t0).is_some());
        let s = f.flush();
        assert_eq!(s[0].attributes["summarised"], "99");
        assert_eq!(s[0].attributes["objects"], "10");
    }
}
