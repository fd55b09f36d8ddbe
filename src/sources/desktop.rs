//! Desktop notifications: the freedesktop notification service
//! (`org.freedesktop.Notifications`) on the session bus, through zbus — the
//! same zbus, with the same features, that eframe's AccessKit already
//! builds.
//!
//! One task owns the connection. Alerts go in ([`Alerts::send`]); the task
//! groups them ([`crate::alerts::Grouper`]) and shows one notification per
//! burst and kind; a streak of the same kind updates its notification
//! instead of stacking new ones. Clicks come back as [`Feedback::Clicked`].
//! No service, no bus: [`Feedback::Unavailable`] once, and nothing fails.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::alerts::{Alert, AlertKind, Grouper, Notice, Target, Urgency};

const DESTINATION: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// Notifications remembered for their clicks (the oldest are forgotten).
const REMEMBERED: usize = 256;

/// Which bus to reach the service on.
#[derive(Debug, Clone)]
pub enum Bus {
    /// The user's session bus (`DBUS_SESSION_BUS_ADDRESS`).
    Session,
    /// A bus at this address (tests run a private one).
    Address(String),
}

/// What the notification task tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feedback {
    /// Notifications cannot be shown, and why. Said once; the task keeps
    /// trying quietly at each later notification.
    Unavailable(String),
    /// The service answered (its name and version): notifications work.
    Available(String),
    /// A notification was clicked: open this container.
    Clicked(Target),
}

enum Msg {
    Alert(Alert),
    Pause(bool),
}

/// The sending end. Cheap to clone; dropping every clone ends the task.
#[derive(Clone)]
pub struct Alerts {
    tx: mpsc::UnboundedSender<Msg>,
}

impl Alerts {
    /// Start the task on `rt`. `feedback` runs on the runtime: it must not
    /// block (send on a channel, ask for a repaint).
    pub fn spawn(
        rt: &tokio::runtime::Handle,
        bus: Bus,
        feedback: impl Fn(Feedback) + Send + Sync + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        rt.spawn(run(bus, rx, Arc::new(feedback)));
        Self { tx }
    }

    /// Shows the alert as a desktop notification (in the background).
    pub fn send(&self, alert: Alert) {
        let _ = self.tx.send(Msg::Alert(alert));
    }

    /// While paused, alerts are dropped (not kept for later).
    pub fn pause(&self, paused: bool) {
        let _ = self.tx.send(Msg::Pause(paused));
    }
}

type Sink = Arc<dyn Fn(Feedback) + Send + Sync>;

async fn run(bus: Bus, mut rx: mpsc::UnboundedReceiver<Msg>, feedback: Sink) {
    let mut grouper = Grouper::default();
    let mut paused = false;
    let mut service = match Service::connect(&bus, feedback.clone()).await {
        Ok(s) => {
            feedback(Feedback::Available(s.server.clone()));
            Some(s)
        }
        Err(e) => {
            feedback(Feedback::Unavailable(e));
            None
        }
    };
    let mut said = service.is_none();
    loop {
        let due = grouper.next_due();
        let wait = async {
            match due {
                Some(t) => tokio::time::sleep_until(t.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = rx.recv() => match msg {
                None => return,
                Some(Msg::Pause(p)) => paused = p,
                Some(Msg::Alert(_)) if paused => {}
                Some(Msg::Alert(a)) => grouper.push(a, Instant::now()),
            },
            () = wait => {
                for n in grouper.due(Instant::now()) {
                    if service.is_none() {
                        service = Service::connect(&bus, feedback.clone()).await.ok();
                    }
                    let Some(s) = service.as_mut() else { continue };
                    if let Err(e) = s.show(&n).await {
                        tracing::warn!("notification not shown: {e}");
                        service = None;
                        if !said {
                            said = true;
                            feedback(Feedback::Unavailable(e));
                        }
                    }
                }
            }
        }
    }
}

struct Service {
    proxy: zbus::Proxy<'static>,
    /// The service's name and version, for the Settings.
    server: String,
    /// Notification id → what its click opens.
    shown: Arc<Mutex<Clicks>>,
    /// The last notification of each kind (a streak replaces it).
    last: HashMap<AlertKind, u32>,
    /// The body may carry markup: escape it.
    markup: bool,
}

#[derive(Default)]
struct Clicks {
    targets: HashMap<u32, Target>,
    order: VecDeque<u32>,
}

impl Clicks {
    fn remember(&mut self, id: u32, t: Target) {
        if self.targets.insert(id, t).is_none() {
            self.order.push_back(id);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.targets.remove(&old);
            }
        }
    }
}

impl Service {
    async fn connect(bus: &Bus, feedback: Sink) -> Result<Self, String> {
        let conn = match bus {
            Bus::Session => zbus::Connection::session().await,
            Bus::Address(a) => match zbus::connection::Builder::address(a.as_str()) {
                Ok(b) => b.build().await,
                Err(e) => Err(e),
            },
        }
        .map_err(|e| format!("no session bus ({e})"))?;
        let proxy = zbus::Proxy::new_owned(conn, DESTINATION, PATH, INTERFACE)
            .await
            .map_err(|e| e.to_string())?;
        // Somebody must own the name; asking who also tells the user.
        let (name, vendor, version, _spec): (String, String, String, String) = proxy
            .call("GetServerInformation", &())
            .await
            .map_err(|e| format!("no notification service on the session bus ({e})"))?;
        let caps: Vec<String> = proxy.call("GetCapabilities", &()).await.unwrap_or_default();
        let shown = Arc::new(Mutex::new(Clicks::default()));
        let mut clicks = proxy
            .receive_signal("ActionInvoked")
            .await
            .map_err(|e| e.to_string())?;
        let remembered = shown.clone();
        tokio::spawn(async move {
            while let Some(msg) = clicks.next().await {
                let Ok((id, _action)) = msg.body().deserialize::<(u32, String)>() else {
                    continue;
                };
                let target = remembered
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .targets
                    .get(&id)
                    .cloned();
                if let Some(t) = target {
                    feedback(Feedback::Clicked(t));
                }
            }
        });
        Ok(Self {
            proxy,
            server: format!("{name} {version} ({vendor})"),
            shown,
            last: HashMap::new(),
            markup: caps.iter().any(|c| c == "body-markup"),
        })
    }

    async fn show(&mut self, n: &Notice) -> Result<u32, String> {
        let replaces = if n.continues {
            self.last.get(&n.kind).copied().unwrap_or(0)
        } else {
            0
        };
        let actions: Vec<&str> = if n.target.is_some() {
            vec!["default", "Show container"]
        } else {
            vec!["default", "Open shipshape"]
        };
        let mut hints: HashMap<&str, zbus::zvariant::Value<'_>> = HashMap::new();
        hints.insert(
            "urgency",
            zbus::zvariant::Value::U8(urgency_byte(n.urgency)),
        );
        hints.insert("desktop-entry", zbus::zvariant::Value::from("shipshape"));
        // Services with `body-markup` read `<b>` and `&amp;`: a container
        // named `<b>` must show as itself.
        let body = if self.markup {
            crate::model::text::escape_markup(&n.body)
        } else {
            crate::model::text::visible_multiline(&n.body).into_owned()
        };
        let summary = crate::model::visible(&n.summary).into_owned();
        let id: u32 = self
            .proxy
            .call(
                "Notify",
                &(
                    "shipshape",
                    replaces,
                    "shipshape",
                    summary.as_str(),
                    body.as_str(),
                    actions,
                    hints,
                    -1i32,
                ),
            )
            .await
            .map_err(|e| e.to_string())?;
        self.last.insert(n.kind, id);
        let target = n.target.clone().unwrap_or(Target {
            engine: String::new(),
            container_id: String::new(),
        });
        self.shown
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remember(id, target);
        Ok(id)
    }
}

fn urgency_byte(u: Urgency) -> u8 {
    match u {
        Urgency::Low => 0,
        Urgency::Normal => 1,
        Urgency::Critical => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_are_remembered_within_a_bound() {
        let mut c = Clicks::default();
        for id in 0..(REMEMBERED as u32 + 10) {
            c.remember(
                id,
                Target {
                    engine: String::new(),
                    container_id: format!("c{id}"),
                },
            );
        }
        assert_eq!(c.targets.len(), REMEMBERED);
        assert!(!c.targets.contains_key(&0), "the oldest are forgotten");
        assert!(c.targets.contains_key(&(REMEMBERED as u32 + 9)));
    }
}
