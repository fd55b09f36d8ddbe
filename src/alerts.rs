//! Alerts: which activities deserve a desktop notification, and how a burst
//! of them becomes one notification.
//!
//! Pure: activities in, [`Notice`]s out, the clock passed in. The window and
//! `shipshape watch --notify` feed the same activities through the same
//! [`Grouper`]; `sources::desktop` sends what comes out.
//!
//! What alerts:
//! - a new finding at or above the threshold (Settings, default high) — on
//!   a container seen for the first time too, however short its life;
//! - an exec that is privileged or runs as root;
//! - a gap in monitoring (the event stream lost, events dropped, another
//!   engine at the watched address);
//! - a container using an image the policy does not allow (always, whatever
//!   the threshold: the policy is the user's own word).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::Severity;
use crate::model::activity::{Activity, Category};

/// The rule behind "a container using a forbidden image".
pub const FORBIDDEN_IMAGE_RULE: &str = "container.unapproved-image";

/// Alerts in the settings file (`[alerts]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertSettings {
    /// Desktop notifications on or off.
    pub enabled: bool,
    /// New findings at or above this severity alert.
    pub min_severity: Severity,
}

impl Default for AlertSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            min_severity: Severity::High,
        }
    }
}

/// What an alert is about; alerts of one kind group together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AlertKind {
    /// A new finding at or above the alert threshold.
    Finding,
    /// A container started from an image the policy forbids.
    ForbiddenImage,
    /// A command run inside a container (exec), when it is privileged or as root.
    Exec,
    /// Watching was interrupted: what happened meanwhile was not seen.
    Gap,
}

/// Where clicking a notification leads: a container on an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The engine's name (`""` with one engine).
    pub engine: String,
    /// The container's id on that engine.
    pub container_id: String,
}

/// One thing worth telling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// What the alert is about.
    pub kind: AlertKind,
    /// How bad it is; decides the notification's urgency.
    pub severity: Severity,
    /// The container's name, or the engine's for a gap.
    pub name: String,
    /// In words: the finding, the exec, the reason of the gap.
    pub what: String,
    /// The container a click on the notification opens, when there is one.
    pub target: Option<Target>,
}

/// What a watcher alerts on: its settings, and only what happens from its
/// start on (the timeline history replayed from the audit log is not news).
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    /// Activities older than this (replayed history) never alert.
    pub since: chrono::DateTime<chrono::Utc>,
    /// The user's alert settings (on or off, lowest severity).
    pub settings: AlertSettings,
}

impl Gate {
    /// From now on.
    pub fn new(settings: AlertSettings) -> Self {
        Self {
            since: chrono::Utc::now() - chrono::Duration::seconds(1),
            settings,
        }
    }

    /// The alert an activity raises, or `None` when it raises none under the settings.
    pub fn alert(&self, a: &Activity) -> Option<Alert> {
        if !self.settings.enabled || a.time < self.since {
            return None;
        }
        alert_of(a, self.settings.min_severity)
    }
}

/// The alert an activity makes, if it makes one.
pub fn alert_of(a: &Activity, min: Severity) -> Option<Alert> {
    let target = a.container_id.as_ref().map(|id| Target {
        engine: a.engine.clone(),
        container_id: id.clone(),
    });
    let alert = |kind, severity, what: String| {
        Some(Alert {
            kind,
            severity,
            name: if a.name.is_empty() {
                a.engine.clone()
            } else {
                a.name.clone()
            },
            what,
            target: target.clone(),
        })
    };
    match a.category() {
        Category::Gap => alert(
            AlertKind::Gap,
            a.severity.unwrap_or(Severity::High),
            first_line(&a.detail),
        ),
        Category::Exec => {
            let e = a.exec.as_ref()?;
            if !(e.privileged || e.as_root()) {
                return None;
            }
            let how = match (e.privileged, e.as_root()) {
                (true, true) => "privileged exec as root",
                (true, false) => "privileged exec",
                _ => "exec as root",
            };
            alert(
                AlertKind::Exec,
                a.severity.unwrap_or(Severity::Medium),
                format!("{how}: {}", first_line(&a.detail)),
            )
        }
        Category::Finding if a.action == "assessed" => {
            let active = || a.findings.iter().filter(|f| !f.waived);
            if let Some(f) = active().find(|f| f.rule == FORBIDDEN_IMAGE_RULE) {
                return alert(
                    AlertKind::ForbiddenImage,
                    f.severity,
                    first_line(&f.evidence),
                );
            }
            let worst = active().max_by_key(|f| f.severity)?;
            if worst.severity < min {
                return None;
            }
            let over = active().filter(|f| f.severity >= min).count();
            let title = rule_title(&worst.rule);
            alert(
                AlertKind::Finding,
                worst.severity,
                if over > 1 {
                    format!("{title} and {} more", over - 1)
                } else {
                    title.to_string()
                },
            )
        }
        Category::Finding if a.action == "finding" => {
            let severity = a.severity?;
            let rule = a.rule.as_deref().unwrap_or_default();
            if rule == FORBIDDEN_IMAGE_RULE {
                return alert(AlertKind::ForbiddenImage, severity, first_line(&a.detail));
            }
            if severity < min {
                return None;
            }
            alert(AlertKind::Finding, severity, first_line(&a.detail))
        }
        _ => None,
    }
}

fn rule_title(id: &str) -> &str {
    crate::rules::by_id(id).map_or(id, |r| r.title)
}

/// The first line, at most 160 characters: a notification is a glance.
fn first_line(s: &str) -> String {
    const MAX: usize = 160;
    let line = s.lines().next().unwrap_or_default();
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// How urgent a notification is (the freedesktop urgency levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// Informational; the desktop may show it quietly.
    Low,
    /// The default urgency.
    Normal,
    /// Critical findings; the desktop keeps it until dismissed.
    Critical,
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What the notification is about.
    pub kind: AlertKind,
    /// The one-line title.
    pub summary: String,
    /// The text under the title.
    pub body: String,
    /// How urgent the desktop should treat it.
    pub urgency: Urgency,
    /// What a click opens: the one container, or the worst of a group.
    pub target: Option<Target>,
    /// Alerts it tells of, this burst and the ones before it in the streak.
    pub count: usize,
    /// It continues the notification of the same kind shown moments ago:
    /// update that one rather than stack another.
    pub continues: bool,
}

/// Alerts arriving within this long of the first of a burst make one
/// notification.
pub const GROUP_WINDOW: Duration = Duration::from_secs(2);
/// A burst within this long of the last notification of its kind updates
/// it (the count grows) instead of adding one more.
pub const STREAK: Duration = Duration::from_secs(30);
/// Containers named in a grouped notification; the rest are counted.
const NAMED: usize = 4;

#[derive(Debug)]
struct Streak {
    last: Instant,
    count: usize,
}

/// Collects alerts for [`GROUP_WINDOW`], then turns them into at most one
/// notice per kind.
#[derive(Debug, Default)]
pub struct Grouper {
    pending: Vec<Alert>,
    since: Option<Instant>,
    streaks: BTreeMap<AlertKind, Streak>,
}

impl Grouper {
    /// Adds an alert arriving at `now`; alerts of one kind within the grouping window become one notice.
    pub fn push(&mut self, alert: Alert, now: Instant) {
        self.since.get_or_insert(now);
        self.pending.push(alert);
    }

    /// When [`Self::due`] has something, if anything waits.
    pub fn next_due(&self) -> Option<Instant> {
        self.since.map(|t| t + GROUP_WINDOW)
    }

    /// The notices of the burst, once its window has passed.
    pub fn due(&mut self, now: Instant) -> Vec<Notice> {
        match self.since {
            Some(t) if now >= t + GROUP_WINDOW => {}
            _ => return Vec::new(),
        }
        self.since = None;
        let mut by_kind: BTreeMap<AlertKind, Vec<Alert>> = BTreeMap::new();
        for a in self.pending.drain(..) {
            by_kind.entry(a.kind).or_default().push(a);
        }
        let mut out = Vec::new();
        for (kind, mut alerts) in by_kind {
            let continues = self
                .streaks
                .get(&kind)
                .is_some_and(|s| now.duration_since(s.last) < STREAK);
            let before = if continues {
                self.streaks.get(&kind).map_or(0, |s| s.count)
            } else {
                0
            };
            let count = before + alerts.len();
            self.streaks.insert(kind, Streak { last: now, count });
            // Worst first; among equals, as they came.
            alerts.sort_by_key(|a| std::cmp::Reverse(a.severity));
            out.push(notice(kind, &alerts, count, continues));
        }
        out
    }
}

fn notice(kind: AlertKind, alerts: &[Alert], count: usize, continues: bool) -> Notice {
    let worst = &alerts[0];
    let severity = worst.severity;
    let urgency = match severity {
        Severity::Critical => Urgency::Critical,
        Severity::High | Severity::Medium => Urgency::Normal,
        Severity::Low | Severity::Info => Urgency::Low,
    };
    let summary = match (kind, count) {
        (AlertKind::Finding, 1) => format!("{}: {severity} finding", worst.name),
        (AlertKind::Finding, n) => match severity_floor(alerts) {
            floor if floor == severity => format!("{n} new {severity} findings"),
            floor => format!("{n} new {floor}+ findings"),
        },
        (AlertKind::ForbiddenImage, 1) => format!("{}: image not allowed", worst.name),
        (AlertKind::ForbiddenImage, n) => format!("{n} containers on images not allowed"),
        (AlertKind::Exec, 1) => format!("{}: {}", worst.name, exec_how(&worst.what)),
        (AlertKind::Exec, n) => format!("{n} privileged or root execs"),
        (AlertKind::Gap, 1) => "Monitoring interrupted".to_string(),
        (AlertKind::Gap, n) => format!("Monitoring interrupted {n} times"),
    };
    let body = if alerts.len() == 1 {
        let a = worst;
        if count == 1 {
            a.what.clone()
        } else {
            format!("latest: {} — {}", a.name, a.what)
        }
    } else {
        let mut names: Vec<&str> = Vec::new();
        for a in alerts {
            if !names.contains(&a.name.as_str()) {
                names.push(&a.name);
            }
        }
        let shown = names.len().min(NAMED);
        let mut body = format!(
            "worst: {} — {}\n{}",
            worst.name,
            worst.what,
            names[..shown].join(", ")
        );
        if names.len() > shown {
            body.push_str(&format!(" and {} more", names.len() - shown));
        }
        body
    };
    Notice {
        kind,
        summary,
        body,
        urgency,
        target: worst.target.clone(),
        count,
        continues,
    }
}

/// The lowest severity among a group: "3 new high+ findings".
fn severity_floor(alerts: &[Alert]) -> Severity {
    alerts
        .iter()
        .map(|a| a.severity)
        .min()
        .unwrap_or(Severity::High)
}

fn exec_how(what: &str) -> &str {
    what.split(':').next().unwrap_or(what)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activity::{ExecSession, FindingNote, Source};

    fn engine_event(action: &str, detail: &str) -> Activity {
        let mut a = Activity::own(action, detail, None);
        a.source = Source::Container;
        a
    }

    fn finding(name: &str, rule: &str, severity: Severity) -> Activity {
        let mut a = Activity::own("finding", format!("{rule} on {name}"), Some(severity));
        a.container_id = Some(format!("id-{name}"));
        a.name = name.into();
        a.rule = Some(rule.into());
        a
    }

    fn assessed(name: &str, notes: &[(&str, Severity, bool)]) -> Activity {
        let mut a = Activity::own("assessed", "first seen", None);
        a.container_id = Some(format!("id-{name}"));
        a.name = name.into();
        a.findings = notes
            .iter()
            .map(|(rule, severity, waived)| FindingNote {
                rule: (*rule).into(),
                severity: *severity,
                evidence: format!("{rule} seen"),
                waived: *waived,
            })
            .collect();
        a
    }

    fn exec(user: Option<&str>, effective: &str, privileged: bool) -> Activity {
        let mut a = engine_event("exec_start", "sh -c id");
        a.container_id = Some("id-web".into());
        a.name = "web".into();
        a.exec = Some(ExecSession {
            id: "e1".into(),
            container_id: "id-web".into(),
            container_name: "web".into(),
            user: user.map(str::to_string),
            effective_user: effective.into(),
            command: vec!["sh".into(), "-c".into(), "id".into()],
            privileged,
            tty: false,
            started: chrono::Utc::now(),
            ended: None,
            exit_code: None,
        });
        a.severity = Some(Severity::Medium);
        a
    }

    #[test]
    fn findings_alert_at_or_above_the_threshold_only() {
        let high = finding("web", "container.privileged", Severity::High);
        let medium = finding("web", "container.no-healthcheck", Severity::Medium);
        assert_eq!(
            alert_of(&high, Severity::High).map(|a| a.kind),
            Some(AlertKind::Finding)
        );
        assert_eq!(alert_of(&medium, Severity::High), None);
        assert!(alert_of(&medium, Severity::Medium).is_some());
        let a = alert_of(&high, Severity::High).unwrap();
        assert_eq!(
            a.target,
            Some(Target {
                engine: String::new(),
                container_id: "id-web".into()
            })
        );
    }

    #[test]
    fn a_new_container_alerts_on_its_worst_active_finding() {
        let a = assessed(
            "blink",
            &[
                ("container.privileged", Severity::Critical, false),
                ("container.root-user", Severity::High, false),
                ("container.no-healthcheck", Severity::Low, false),
            ],
        );
        let alert = alert_of(&a, Severity::High).unwrap();
        assert_eq!(alert.severity, Severity::Critical);
        assert!(alert.what.ends_with("and 1 more"), "{}", alert.what);
        // Waived findings do not alert.
        let waived = assessed(
            "quiet",
            &[("container.privileged", Severity::Critical, true)],
        );
        assert_eq!(alert_of(&waived, Severity::Info), None);
        // Below the threshold: nothing.
        let low = assessed(
            "calm",
            &[("container.no-healthcheck", Severity::Low, false)],
        );
        assert_eq!(alert_of(&low, Severity::High), None);
    }

    #[test]
    fn a_forbidden_image_alerts_whatever_the_threshold() {
        let f = finding("web", FORBIDDEN_IMAGE_RULE, Severity::Medium);
        assert_eq!(
            alert_of(&f, Severity::Critical).map(|a| a.kind),
            Some(AlertKind::ForbiddenImage)
        );
        let a = assessed("new", &[(FORBIDDEN_IMAGE_RULE, Severity::Medium, false)]);
        assert_eq!(
            alert_of(&a, Severity::Critical).map(|a| a.kind),
            Some(AlertKind::ForbiddenImage)
        );
    }

    #[test]
    fn execs_alert_when_privileged_or_as_root() {
        assert_eq!(
            alert_of(&exec(Some("app"), "app", false), Severity::High),
            None
        );
        assert_eq!(
            alert_of(&exec(None, "root", false), Severity::High),
            None,
            "no user asked for: the container's own user, judged by its own rule"
        );
        let root = alert_of(&exec(Some("root"), "root", false), Severity::High).unwrap();
        assert_eq!(root.kind, AlertKind::Exec);
        assert!(root.what.starts_with("exec as root"), "{}", root.what);
        let p = alert_of(&exec(Some("app"), "app", true), Severity::High).unwrap();
        assert!(p.what.starts_with("privileged exec"), "{}", p.what);
    }

    #[test]
    fn history_and_disabled_alerts_do_not_pass_the_gate() {
        let gate = Gate::new(AlertSettings::default());
        let now = finding("web", "container.privileged", Severity::High);
        assert!(gate.alert(&now).is_some());
        let mut old = now.clone();
        old.time -= chrono::Duration::minutes(5);
        assert_eq!(gate.alert(&old), None, "replayed from the audit log");
        let off = Gate {
            settings: AlertSettings {
                enabled: false,
                ..AlertSettings::default()
            },
            ..gate
        };
        assert_eq!(off.alert(&now), None);
    }

    #[test]
    fn gaps_alert() {
        let mut a = Activity::own("gap", "the event stream was lost: connection reset", None);
        a.engine = "laptop".into();
        let alert = alert_of(&a, Severity::Critical).unwrap();
        assert_eq!(
            (alert.kind, alert.name.as_str()),
            (AlertKind::Gap, "laptop")
        );
        // Plain lifecycle events do not.
        assert_eq!(alert_of(&engine_event("start", ""), Severity::Info), None);
    }

    fn alerts(n: usize) -> Vec<Alert> {
        (0..n)
            .map(|i| {
                alert_of(
                    &finding(
                        &format!("c{i:02}"),
                        "container.privileged",
                        if i == 7 {
                            Severity::Critical
                        } else {
                            Severity::High
                        },
                    ),
                    Severity::High,
                )
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn thirty_at_once_make_one_notification_that_says_30() {
        let t0 = Instant::now();
        let mut g = Grouper::default();
        for (i, a) in alerts(30).into_iter().enumerate() {
            g.push(a, t0 + Duration::from_millis(i as u64 * 30));
        }
        assert!(
            g.due(t0 + Duration::from_millis(1900)).is_empty(),
            "the window is still open"
        );
        assert_eq!(g.next_due(), Some(t0 + GROUP_WINDOW));
        let out = g.due(t0 + GROUP_WINDOW);
        assert_eq!(out.len(), 1, "{out:?}");
        let n = &out[0];
        assert_eq!(n.count, 30);
        assert!(
            n.summary.starts_with("30 new high+ findings"),
            "{}",
            n.summary
        );
        assert!(n.body.starts_with("worst: c07"), "{}", n.body);
        assert!(n.body.ends_with("and 26 more"), "{}", n.body);
        assert_eq!(n.urgency, Urgency::Critical);
        assert_eq!(
            n.target.as_ref().map(|t| t.container_id.as_str()),
            Some("id-c07")
        );
        assert!(!n.continues);
        assert_eq!(g.next_due(), None);
        assert!(g.due(t0 + Duration::from_secs(10)).is_empty());
    }

    #[test]
    fn kinds_stay_apart_and_a_streak_updates_its_notification() {
        let t0 = Instant::now();
        let mut g = Grouper::default();
        let mut gap = Activity::own("gap", "lost", None);
        gap.engine = "e".into();
        g.push(alerts(1).remove(0), t0);
        g.push(alert_of(&gap, Severity::High).unwrap(), t0);
        let out = g.due(t0 + GROUP_WINDOW);
        assert_eq!(
            out.iter().map(|n| n.kind).collect::<Vec<_>>(),
            [AlertKind::Finding, AlertKind::Gap]
        );
        assert_eq!(out[0].summary, "c00: high finding");
        // Ten seconds later, five more findings: the same notification, 6.
        let t1 = t0 + Duration::from_secs(10);
        for a in alerts(5) {
            g.push(a, t1);
        }
        let out = g.due(t1 + GROUP_WINDOW);
        assert_eq!(out.len(), 1);
        assert!(out[0].continues);
        assert_eq!(out[0].count, 6);
        assert!(out[0].summary.starts_with("6 new"), "{}", out[0].summary);
        // After a quiet minute, a new streak.
        let t2 = t1 + Duration::from_secs(60);
        g.push(alerts(1).remove(0), t2);
        let out = g.due(t2 + GROUP_WINDOW);
        assert!(!out[0].continues);
        assert_eq!(out[0].count, 1);
    }
}
