//! The engine's `/events` stream → [`Activity`]: conversion, filtering of
//! the events shipshape's own calls cause, and resuming without repeats.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bollard::models::EventMessage;
use chrono::{TimeZone, Utc};

use crate::model::activity::{Activity, KEPT_ATTRIBUTES, Source};

/// Convert one engine event. Labels, which the engine mixes into the
/// attributes, are dropped: they may hold secrets.
pub fn activity(msg: &EventMessage) -> Activity {
    let source = msg
        .typ
        .map(|t| Source::parse(t.as_ref()))
        .unwrap_or(Source::Other);
    let raw_action = msg.action.clone().unwrap_or_default();
    // `exec_create: sh -c id`, `health_status: healthy`.
    let (action, detail) = match raw_action.split_once(':') {
        Some((a, d)) => (a.trim().to_string(), d.trim().to_string()),
        None => (raw_action.trim().to_string(), String::new()),
    };
    let actor = msg.actor.as_ref();
    let actor_id = actor.and_then(|a| a.id.clone()).unwrap_or_default();
    let all = actor.and_then(|a| a.attributes.clone()).unwrap_or_default();
    let attributes: BTreeMap<String, String> = all
        .iter()
        .filter(|(k, _)| KEPT_ATTRIBUTES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), super::convert::bounded(v.clone())))
        .collect();
    let time_nano = msg
        .time_nano
        .or(msg.time.map(|t| t.saturating_mul(1_000_000_000)))
        .unwrap_or(0);
    let time = if time_nano > 0 {
        Utc.timestamp_nanos(time_nano)
    } else {
        Utc::now()
    };
    let (container_id, name) = match source {
        Source::Container => (
            Some(actor_id.clone()).filter(|s| !s.is_empty()),
            all.get("name").cloned().unwrap_or_default(),
        ),
        // Network connect/disconnect and volume mount/unmount name the
        // container in an attribute.
        Source::Network | Source::Volume => (
            all.get("container").cloned(),
            all.get("name").cloned().unwrap_or_default(),
        ),
        Source::Image => (
            None,
            all.get("name").cloned().unwrap_or_else(|| actor_id.clone()),
        ),
        _ => (None, all.get("name").cloned().unwrap_or_default()),
    };
    let mut detail = super::convert::bounded(detail);
    // The command of an exec, as the engine logs it, may carry a password.
    if source == Source::Container && action.starts_with("exec_") {
        detail = crate::rules::secrets::redact_command(&detail);
    }
    if detail.is_empty() {
        if let Some(code) = all.get("exitCode") {
            detail = format!("exit code {code}");
        } else if let Some(sig) = all.get("signal") {
            detail = format!("signal {sig}");
        }
    }
    let mut a = Activity {
        time,
        time_nano,
        source,
        action,
        detail,
        actor: actor_id,
        container_id,
        name,
        attributes,
        severity: None,
        exec: None,
        rule: None,
        findings: Vec::new(),
        engine: String::new(),
    };
    a.grade();
    a
}

/// What stands for an event the engine sent that was larger than one
/// event may be (`bounded::limits::EVENT`: it carries the container's
/// labels). It was not read, and the timeline says so; the stream goes on.
pub fn not_read(limit: usize) -> EventMessage {
    EventMessage {
        action: Some(format!(
            "event_not_read: the engine sent an event larger than {} MiB; it was skipped",
            limit >> 20
        )),
        ..EventMessage::default()
    }
}

/// `seconds.nanoseconds`, the form `/events?since=` takes.
pub fn since_param(time_nano: i64) -> String {
    format!(
        "{}.{:09}",
        time_nano.div_euclid(1_000_000_000),
        time_nano.rem_euclid(1_000_000_000)
    )
}

/// Remembers the recent events seen, so a resumed stream (`since=`) can
/// skip the ones already recorded.
///
/// Keyed by (time, event), not by "older than the newest": under load the
/// engine delivers events slightly out of time order (found by the flood
/// benchmark: 4 % of 1,000 concurrent execs' events were taken for repeats
/// and lost). A replay from `since=` only holds events at or after the
/// newest seen, all of them among the recent ones.
#[derive(Debug, Default)]
pub struct Resume {
    last_nano: i64,
    recent: VecDeque<(i64, String)>,
    seen: std::collections::HashSet<(i64, String)>,
}

/// Recent events remembered for de-duplication.
const RESUME_MEMORY: usize = 8192;

impl Resume {
    fn key(a: &Activity) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            a.source.as_str(),
            a.action,
            a.actor,
            a.detail,
            a.attributes.get("execID").map_or("", String::as_str)
        )
    }

    /// Seen before? Records it if not.
    pub fn is_repeat(&mut self, a: &Activity) -> bool {
        if a.time_nano == 0 {
            return false;
        }
        let k = (a.time_nano, Self::key(a));
        if self.seen.contains(&k) {
            return true;
        }
        self.seen.insert(k.clone());
        self.recent.push_back(k);
        if self.recent.len() > RESUME_MEMORY
            && let Some(old) = self.recent.pop_front()
        {
            self.seen.remove(&old);
        }
        self.last_nano = self.last_nano.max(a.time_nano);
        false
    }

    /// Where to resume from, if anything was seen.
    pub fn since(&self) -> Option<String> {
        (self.last_nano > 0).then(|| since_param(self.last_nano))
    }
}

/// Calls shipshape makes that the engine reports as events (today only
/// `GET /containers/{id}/top`, which logs a `top` event). Each call is
/// noted before it is made; the matching event is swallowed once. A `top`
/// that nobody here asked for — someone running `docker top` — is shown.
#[derive(Debug, Clone, Default)]
pub struct OwnCalls {
    inner: Arc<Mutex<HashMap<CallKey, VecDeque<Instant>>>>,
}

/// (container id, event action).
type CallKey = (String, String);

/// How long a noted call waits for its event.
const OWN_CALL_WINDOW: Duration = Duration::from_secs(30);

impl OwnCalls {
    /// Records a call shipshape itself makes, so the event it causes is not reported as the user's.
    pub fn note(&self, container_id: &str, action: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        m.entry((container_id.to_string(), action.to_string()))
            .or_default()
            .push_back(Instant::now());
    }

    /// Is this event one of ours? Consumes the note.
    ///
    /// Volume events are keyed by the container they name, as
    /// `volume-<action>`: reading a container's files through the archive
    /// endpoint mounts and unmounts each of its volumes.
    pub fn claim(&self, a: &Activity) -> bool {
        let key = match a.source {
            Source::Container => (a.actor.clone(), a.action.clone()),
            Source::Volume => match &a.container_id {
                Some(c) => (c.clone(), format!("volume-{}", a.action)),
                None => return false,
            },
            // An image export (`image save`), keyed by the image id.
            Source::Image => (a.actor.clone(), a.action.clone()),
            _ => return false,
        };
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(q) = m.get_mut(&key) else {
            return false;
        };
        while q.front().is_some_and(|t| t.elapsed() > OWN_CALL_WINDOW) {
            q.pop_front();
        }
        let ours = q.pop_front().is_some();
        if q.is_empty() {
            m.remove(&key);
        }
        ours
    }

    /// Every archive call on a container (`GET` or `HEAD`, whether the path
    /// is found or not: measured on Docker 26) mounts and unmounts each of
    /// its volumes, and the engine logs both.
    pub fn note_volume_mounts(&self, container_id: &str, volumes: usize) {
        for _ in 0..volumes {
            self.note(container_id, "volume-mount");
            self.note(container_id, "volume-unmount");
        }
    }

    /// Forget a call that failed before reaching the engine's event log.
    pub fn forget(&self, container_id: &str, action: &str) {
        let mut m = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (container_id.to_string(), action.to_string());
        if let Some(q) = m.get_mut(&key) {
            q.pop_back();
            if q.is_empty() {
                m.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use crate::model::activity::Category;

    fn event(json: &str) -> EventMessage {
        serde_json::from_str(json).expect("event json")
    }

    /// Captured from Docker 26 (`curl --unix-socket … /events`).
    const EXEC_CREATE: &str = r#"{"status":"exec_create: sh -c echo hi > /tmp/x; chmod +x /tmp/x","id":"2c5b3d3f7b32","from":"shipshape-test/base:1","Type":"container","Action":"exec_create: sh -c echo hi > /tmp/x; chmod +x /tmp/x","Actor":{"ID":"2c5b3d3f7b3210854ce9d2b7a29d22fda412d49a7ae32478b88efd1192962cc2","Attributes":{"execID":"714beff570f4","image":"shipshape-test/base:1","name":"probe1","shipshape.fixture":"3","api.token":"ghp_secretsecretsecret"}},"scope":"local","time":1795876434,"timeNano":1795876434709841014}"#;

    #[test]
    fn exec_event_keeps_command_and_drops_labels() {
        let a = activity(&event(EXEC_CREATE));
        assert_eq!(a.source, Source::Container);
        assert_eq!(a.action, "exec_create");
        assert_eq!(a.detail, "sh -c echo hi > /tmp/x; chmod +x /tmp/x");
        assert_eq!(a.name, "probe1");
        assert_eq!(
            a.container_id.as_deref(),
            Some("2c5b3d3f7b3210854ce9d2b7a29d22fda412d49a7ae32478b88efd1192962cc2")
        );
        assert_eq!(
            a.attributes.get("execID").map(String::as_str),
            Some("714beff570f4")
        );
        assert!(!a.attributes.contains_key("shipshape.fixture"));
        let json = serde_json::to_string(&a).unwrap();
        assert!(!json.contains("ghp_secret"), "label values never copied");
        assert_eq!(a.time_nano, 1795876434709841014);
        assert_eq!(a.category(), Category::Exec);
        assert_eq!(
            a.severity,
            Some(Severity::Low),
            "until the exec is inspected"
        );
    }

    #[test]
    fn die_and_network_events() {
        let die = activity(&event(
            r#"{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"137","name":"web","image":"nginx"}},"time":1,"timeNano":1000000001}"#,
        ));
        assert_eq!(die.detail, "exit code 137");
        assert_eq!(die.severity, Some(Severity::Low));
        let net = activity(&event(
            r#"{"Type":"network","Action":"connect","Actor":{"ID":"net1","Attributes":{"container":"abc","name":"bridge","type":"bridge"}},"time":1,"timeNano":1000000002}"#,
        ));
        assert_eq!(net.container_id.as_deref(), Some("abc"));
        assert_eq!(net.name, "bridge");
        assert_eq!(net.category(), Category::Network);
    }

    #[test]
    fn an_event_past_its_ceiling_is_said_in_the_timeline() {
        let a = activity(&not_read(16 << 20));
        assert_eq!(a.action, "event_not_read");
        assert_eq!(
            a.detail,
            "the engine sent an event larger than 16 MiB; it was skipped"
        );
        assert_eq!(a.source, Source::Other);
        assert!(a.container_id.is_none());
    }

    #[test]
    fn resume_skips_repeats_only() {
        let mut r = Resume::default();
        let mut a = activity(&event(EXEC_CREATE));
        assert!(!r.is_repeat(&a));
        assert!(r.is_repeat(&a), "same event replayed");
        a.action = "exec_start".into();
        assert!(!r.is_repeat(&a), "same stamp, different event");
        // Arriving late (out of time order) is not a repeat.
        a.time_nano -= 1;
        assert!(!r.is_repeat(&a), "older than the newest seen, but new");
        assert!(r.is_repeat(&a), "and then a repeat");
        assert_eq!(r.since().as_deref(), Some("1795876434.709841014"));
        assert_eq!(since_param(1_000_000_005), "1.000000005");
    }

    #[test]
    fn own_top_calls_are_claimed_once() {
        let own = OwnCalls::default();
        let mut top = activity(&event(
            r#"{"Type":"container","Action":"top","Actor":{"ID":"abc","Attributes":{"name":"web"}},"time":1,"timeNano":1000000001}"#,
        ));
        assert!(
            !own.claim(&top),
            "nobody here asked: someone ran docker top"
        );
        own.note("abc", "top");
        assert!(own.claim(&top));
        assert!(!own.claim(&top), "claimed only once");
        own.note("abc", "top");
        own.forget("abc", "top");
        assert!(!own.claim(&top));
        top.actor = "other".into();
        own.note("abc", "top");
        assert!(!own.claim(&top), "another container's top is not ours");
    }
}
