//! Desktop notifications against a fake notification service on a private
//! D-Bus session bus (a `dbus-daemon` the test starts; the user's session is
//! never touched). The fake records every `Notify` call and can "click" a
//! notification by emitting `ActionInvoked`.
//!
//! 1. thirty alerts at once make one notification that says 30; a click
//!    comes back as the container to open;
//! 2. no bus, or a bus without a notification service: said once, nothing
//!    fails;
//! 3. the window: an activity becomes a notification, and clicking it opens
//!    the Containers view on that container;
//! 4. `shipshape watch --notify` against the real engine: privileged
//!    containers created together make one notification (updated, not
//!    stacked); an exec as root makes one; a click reaches the running
//!    window (a fake one, listening on the instance socket).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shipshape::alerts::{Alert, AlertKind, Target};
use shipshape::model::Severity;
use shipshape::model::activity::Activity;
use shipshape::sources::desktop::{Alerts, Bus, Feedback};

use common::dbus::PrivateBus;

/// One `Notify` call as the service received it.
#[derive(Debug, Clone)]
struct Shown {
    id: u32,
    app: String,
    replaces: u32,
    summary: String,
    body: String,
    actions: Vec<String>,
    urgency: Option<u8>,
    desktop_entry: Option<String>,
}

#[derive(Default)]
struct Fake {
    log: Arc<Mutex<Vec<Shown>>>,
    next: u32,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Fake {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &mut self,
        app_name: String,
        replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let id = if replaces_id != 0 {
            replaces_id
        } else {
            self.next += 1;
            self.next
        };
        self.log.lock().unwrap().push(Shown {
            id,
            app: app_name,
            replaces: replaces_id,
            summary,
            body,
            actions,
            urgency: hints
                .get("urgency")
                .and_then(|v| v.downcast_ref::<u8>().ok()),
            desktop_entry: hints
                .get("desktop-entry")
                .and_then(|v| v.downcast_ref::<String>().ok()),
        });
        id
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "fake-notifyd".into(),
            "shipshape tests".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn close_notification(&self, _id: u32) {}

    #[zbus(signal)]
    async fn action_invoked(
        emitter: &zbus::object_server::SignalEmitter<'_>,
        id: u32,
        action_key: &str,
    ) -> zbus::Result<()>;
}

/// The fake service on `bus`: what it was sent, and a way to click.
struct Service {
    conn: zbus::Connection,
    log: Arc<Mutex<Vec<Shown>>>,
}

impl Service {
    async fn start(bus: &PrivateBus) -> Self {
        let fake = Fake::default();
        let log = fake.log.clone();
        let conn = zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .name("org.freedesktop.Notifications")
            .unwrap()
            .serve_at("/org/freedesktop/Notifications", fake)
            .unwrap()
            .build()
            .await
            .unwrap();
        Self { conn, log }
    }

    fn shown(&self) -> Vec<Shown> {
        self.log.lock().unwrap().clone()
    }

    async fn click(&self, id: u32) {
        let iface = self
            .conn
            .object_server()
            .interface::<_, Fake>("/org/freedesktop/Notifications")
            .await
            .unwrap();
        Fake::action_invoked(iface.signal_emitter(), id, "default")
            .await
            .unwrap();
    }

    /// Wait until `n` notifications were shown, then a little longer to
    /// see that no more come.
    async fn wait_for(&self, n: usize, within: Duration) -> Vec<Shown> {
        let start = Instant::now();
        while self.shown().len() < n {
            assert!(
                start.elapsed() < within,
                "{n} notification(s) expected within {within:?}; got {:#?}",
                self.shown()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.shown()
    }
}

fn finding(name: &str, severity: Severity) -> Activity {
    let mut a = Activity::own(
        "finding",
        format!("Privileged container: {name} runs with --privileged"),
        Some(severity),
    );
    a.container_id = Some(format!("{name}-id"));
    a.name = name.into();
    a.rule = Some("container.privileged".into());
    a
}

fn alert(name: &str, severity: Severity) -> Alert {
    shipshape::alerts::alert_of(&finding(name, severity), Severity::High).unwrap()
}

fn feedback() -> (
    impl Fn(Feedback) + Send + Sync + 'static,
    std::sync::mpsc::Receiver<Feedback>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    (move |f| tx.lock().unwrap().send(f).unwrap(), rx)
}

fn next(rx: &std::sync::mpsc::Receiver<Feedback>) -> Feedback {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("feedback from the notification task")
}

#[test]
fn thirty_alerts_at_once_make_one_notification_and_its_click_comes_back() {
    let rt = common::runtime();
    let bus = PrivateBus::start();
    let service = rt.block_on(Service::start(&bus));
    let (sink, rx) = feedback();
    let alerts = Alerts::spawn(rt.handle(), Bus::Address(bus.address.clone()), sink);
    assert_eq!(
        next(&rx),
        Feedback::Available("fake-notifyd 1.0 (shipshape tests)".into())
    );
    for i in 0..30 {
        let severity = if i == 12 {
            Severity::Critical
        } else {
            Severity::High
        };
        alerts.send(alert(&format!("burst-{i:02}"), severity));
    }
    let shown = rt.block_on(async {
        let shown = service.wait_for(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(service.shown().len(), 1, "{:#?}", service.shown());
        shown
    });
    let n = &shown[0];
    assert_eq!(n.app, "shipshape");
    assert!(n.summary.starts_with("30 new high+ findings"), "{n:?}");
    assert!(n.body.starts_with("worst: burst-12"), "{n:?}");
    assert!(n.body.contains("and 26 more"), "{n:?}");
    assert_eq!(n.urgency, Some(2), "a critical among them");
    assert_eq!(n.desktop_entry.as_deref(), Some("shipshape"));
    assert!(n.actions.iter().any(|a| a == "default"), "{n:?}");
    assert_eq!(n.replaces, 0);
    // Clicking it: its worst container.
    rt.block_on(service.click(n.id));
    assert_eq!(
        next(&rx),
        Feedback::Clicked(Target {
            engine: String::new(),
            container_id: "burst-12-id".into()
        })
    );

    // Five more moments later: the same notification, now saying 35.
    for i in 0..5 {
        alerts.send(alert(&format!("late-{i}"), Severity::High));
    }
    let shown = rt.block_on(service.wait_for(2, Duration::from_secs(10)));
    assert_eq!(shown[1].replaces, n.id, "updated, not stacked: {shown:#?}");
    assert!(shown[1].summary.starts_with("35 new"), "{shown:#?}");

    // An exec alert is its own notification.
    let mut exec = Activity::own("exec_start", "sh -c id", Some(Severity::Medium));
    exec.source = shipshape::model::activity::Source::Container;
    exec.container_id = Some("web-id".into());
    exec.name = "web".into();
    exec.exec = Some(shipshape::model::activity::ExecSession {
        id: "e1".into(),
        container_id: "web-id".into(),
        container_name: "web".into(),
        user: Some("root".into()),
        effective_user: "root".into(),
        command: vec!["sh".into()],
        privileged: true,
        tty: false,
        started: chrono::Utc::now(),
        ended: None,
        exit_code: None,
    });
    let a = shipshape::alerts::alert_of(&exec, Severity::High).unwrap();
    assert_eq!(a.kind, AlertKind::Exec);
    alerts.send(a);
    let shown = rt.block_on(service.wait_for(3, Duration::from_secs(10)));
    assert_eq!(shown[2].replaces, 0);
    assert!(
        shown[2].summary.contains("privileged exec as root"),
        "{shown:#?}"
    );

    // Clicking the updated notification: the worst of what it says now.
    rt.block_on(service.click(n.id));
    assert_eq!(
        next(&rx),
        Feedback::Clicked(Target {
            engine: String::new(),
            container_id: "late-0-id".into()
        })
    );
    // A click on a notification shipshape did not send is ignored.
    rt.block_on(service.click(999));
    assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
}

#[test]
fn without_a_service_it_says_so_once_and_goes_on() {
    let rt = common::runtime();
    // No bus at all.
    let (sink, rx) = feedback();
    let alerts = Alerts::spawn(
        rt.handle(),
        Bus::Address("unix:path=/nonexistent/shipshape-test-bus".into()),
        sink,
    );
    match next(&rx) {
        Feedback::Unavailable(why) => assert!(why.contains("no session bus"), "{why}"),
        other => panic!("{other:?}"),
    }
    for i in 0..3 {
        alerts.send(alert(&format!("c{i}"), Severity::Critical));
    }
    std::thread::sleep(Duration::from_secs(3));
    assert!(rx.try_recv().is_err(), "said once");

    // A bus, but nobody owns the notification name.
    let bus = PrivateBus::start();
    let (sink, rx) = feedback();
    let _alerts = Alerts::spawn(rt.handle(), Bus::Address(bus.address.clone()), sink);
    match next(&rx) {
        Feedback::Unavailable(why) => {
            assert!(why.contains("no notification service"), "{why}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_window_notifies_and_a_click_opens_the_container() {
    use egui_kittest::Harness;
    use shipshape::app::{App, Mode};
    let rt = common::runtime();
    let bus = PrivateBus::start();
    let service = rt.block_on(Service::start(&bus));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let picker: shipshape::app::Picker = Arc::new(|_, _, _| Box::pin(async { None }));
    let app = App::from_channel_with(
        Mode::Live,
        rx,
        shipshape::settings::Settings::default(),
        rt.handle().clone(),
        picker,
    )
    .with_alerts(Bus::Address(bus.address.clone()));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(shipshape::app::setup_fonts)
        .build_ui_state(
            |ui, app: &mut App| {
                app.pump();
                app.show(ui);
            },
            app,
        );
    let inventory = shipshape::watch::demo::inventory().unwrap();
    let target = inventory
        .containers
        .iter()
        .find(|c| c.name.contains("privileged"))
        .or(inventory.containers.first())
        .unwrap()
        .clone();
    let assessment = shipshape::assess::assess(
        &inventory,
        &shipshape::policy::Policy::default(),
        chrono::Utc::now(),
    );
    tx.send(shipshape::watch::messages::Event::Snapshot(Arc::new(
        shipshape::watch::messages::Snapshot {
            inventory,
            assessment,
            taken_at: Some(chrono::Utc::now()),
        },
    )))
    .unwrap();
    let mut a =
        Activity::own("finding", "Privileged container", Some(Severity::Critical)).about(&target);
    a.rule = Some("container.privileged".into());
    tx.send(shipshape::watch::messages::Event::Activity(Arc::new(a)))
        .unwrap();
    // History from the audit log (older than the window) does not notify.
    let mut old = Activity::own("finding", "old news", Some(Severity::Critical)).about(&target);
    old.time -= chrono::Duration::hours(1);
    tx.send(shipshape::watch::messages::Event::Activity(Arc::new(old)))
        .unwrap();
    h.run_steps(2);
    assert_eq!(h.state().state.view, shipshape::app::View::Overview);
    let shown = rt.block_on(async {
        let s = service.wait_for(1, Duration::from_secs(10)).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        s
    });
    assert_eq!(service.shown().len(), 1, "{:#?}", service.shown());
    assert!(
        shown[0]
            .summary
            .starts_with(&format!("{}: critical finding", target.name)),
        "{shown:#?}"
    );
    h.run_steps(2);
    assert_eq!(
        h.state().state.alerts_service,
        Some(Ok("fake-notifyd 1.0 (shipshape tests)".into()))
    );
    rt.block_on(service.click(shown[0].id));
    let start = Instant::now();
    while h
        .state()
        .state
        .inventory
        .selected
        .as_ref()
        .map(|k| k.id.as_str())
        != Some(target.id.as_str())
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the click opened nothing"
        );
        std::thread::sleep(Duration::from_millis(50));
        h.run_steps(1);
    }
    assert_eq!(h.state().state.view, shipshape::app::View::Containers);
}

/// `shipshape watch --notify` on the real engine, clicks and all.
#[test]
fn watch_notify_groups_a_burst_of_privileged_containers_and_a_click_reaches_the_window() {
    common::engine();
    let _serial = common::serial();
    let mut fx = common::Fixture::new("notify");
    let rt = common::runtime();
    let bus = PrivateBus::start();
    let service = rt.block_on(Service::start(&bus));
    // The running window, as far as `watch` can tell: the instance socket
    // in its runtime dir.
    let runtime_dir = tempfile::tempdir().unwrap();
    let sock = runtime_dir.path().join("shipshape/window.sock");
    let (req_tx, req_rx) = std::sync::mpsc::channel();
    shipshape::instance::listen(&sock, move |r| req_tx.send(r).unwrap()).unwrap();
    let work = tempfile::tempdir().unwrap();
    let err = work.path().join("watch.err");
    let mut child = Command::new(PathBuf::from(env!("CARGO_BIN_EXE_shipshape")))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("XDG_RUNTIME_DIR", runtime_dir.path())
        .args(["watch", "--poll", "30", "--no-drift", "--notify"])
        .arg("--audit-log")
        .arg(work.path().join("audit.jsonl"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    struct Kill<'a>(&'a mut Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = Kill(&mut child);
    let stderr = || std::fs::read_to_string(&err).unwrap_or_default();
    let start = Instant::now();
    while !stderr().contains("notifications via fake-notifyd") {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let the first scan be taken: what exists before is not news.
    while !stderr().contains("findings:") {
        assert!(start.elapsed() < Duration::from_secs(30), "{}", stderr());
        std::thread::sleep(Duration::from_millis(100));
    }
    // Twelve privileged containers, created together.
    let names: Vec<String> = (0..12).map(|i| fx.name(&format!("priv{i}"))).collect();
    std::thread::scope(|s| {
        for name in &names {
            s.spawn(|| {
                common::docker_quiet(&[
                    "create",
                    "--name",
                    name,
                    "--privileged",
                    common::BASE,
                    "sleep",
                    "600",
                ]);
            });
        }
    });
    let shown = rt.block_on(async {
        let start = Instant::now();
        loop {
            let shown = service.shown();
            if let Some(last) = shown.last()
                && last.summary.starts_with("12 ")
            {
                return shown;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "no notification saying 12: {shown:#?}\n{}",
                stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    // One notification, perhaps updated while the burst came in.
    let first = shown[0].id;
    assert!(
        shown.iter().all(|s| s.id == first),
        "one notification, updated: {shown:#?}"
    );
    let last = shown.last().unwrap();
    assert_eq!(last.urgency, Some(2), "privileged is critical: {last:?}");
    assert!(last.body.starts_with("worst: "), "{last:?}");

    // An exec as root in a running container.
    let runner = fx.run("runner", &[common::BASE, "sleep", "600"]);
    fx.docker(&["exec", "-u", "root", &runner, "id"]);
    let exec = rt.block_on(async {
        let start = Instant::now();
        loop {
            if let Some(s) = service
                .shown()
                .into_iter()
                .find(|s| s.summary.contains("exec as root"))
            {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no exec notification: {:#?}\n{}",
                service.shown(),
                stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert!(exec.summary.starts_with(&runner), "{exec:?}");

    // A click: the window is asked to show that container.
    rt.block_on(service.click(exec.id));
    let req = req_rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| {
            panic!("the window was not asked\n{}", stderr());
        });
    let id = common::docker(&["inspect", "-f", "{{.Id}}", &runner]);
    assert_eq!(
        req,
        shipshape::instance::Request::Show(id.trim().to_string())
    );
    drop(child);
    let _ = std::io::stderr().flush();
}
