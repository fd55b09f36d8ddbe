//! The tray icon against a fake tray host on a private session bus: a
//! `org.kde.StatusNotifierWatcher` that says a host is there. The tray
//! registers with it; its icon, tooltip and menu are read back over D-Bus
//! the way a panel reads them; its menu items are clicked the way a panel
//! clicks them (`com.canonical.dbusmenu` `Event`). Without a watcher,
//! starting it says there is no tray host.
//!
//! ksni reaches the bus that `DBUS_SESSION_BUS_ADDRESS` names, and a test
//! cannot safely set its own environment; so the tray side runs in a child
//! process — this same test binary, running only `tray_side` — with the
//! variable set, and tells the parent what it sees on stdout.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::dbus::PrivateBus;
use shipshape::model::Severity;
use shipshape::sources::tray::{Tray, TrayAction, TrayHandle};
use zbus::zvariant::{OwnedValue, Value};

const CRITICAL_DOT: [u8; 3] = [0xe6, 0x4b, 0x8c];

/// An icon as StatusNotifierItem sends it: width, height, ARGB32 bytes.
type Pixmap = (i32, i32, Vec<u8>);
/// A dbusmenu layout node: id, properties, children.
type Node = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// The tray side, in the child process only (an ignored test, run by the
/// parent with `--ignored --exact`).
#[test]
#[ignore = "the tray side of the_tray_registers_shows_its_severity_and_its_menu_works"]
fn tray_side() {
    if std::env::var_os("SHIPSHAPE_TRAY_SIDE").is_none() {
        return;
    }
    let rt = common::runtime();
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = Mutex::new(tx);
    let tray = Tray::new(move |a| tx.lock().unwrap().send(a).unwrap());
    match rt.block_on(TrayHandle::start(tray)) {
        Err(e) => println!("TRAY-ERR {e}"),
        Ok(handle) => {
            println!("TRAY-UP");
            rt.block_on(handle.set_worst(Some(Severity::Critical), CRITICAL_DOT));
            println!("TRAY-WORST");
            while let Ok(a) = rx.recv_timeout(Duration::from_secs(30)) {
                println!("TRAY-ACTION {a:?}");
                if a == TrayAction::Quit {
                    break;
                }
            }
        }
    }
}

#[derive(Default)]
struct Watcher {
    items: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: String) {
        self.items.lock().unwrap().push(service);
    }

    fn register_status_notifier_host(&self, _service: String) {}

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().unwrap().clone()
    }

    #[zbus(signal)]
    async fn status_notifier_host_registered(
        emitter: &zbus::object_server::SignalEmitter<'_>,
    ) -> zbus::Result<()>;
}

/// The child, reporting line by line.
struct Side {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Side {
    fn start(bus: &PrivateBus) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "tray_side",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("SHIPSHAPE_TRAY_SIDE", "1")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next `TRAY-` report (libtest may print `test tray_side ... `
    /// before it on the same line).
    fn next(&self) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the tray side said nothing");
            if let Some(at) = line.find("TRAY-") {
                return line[at..].to_string();
            }
        }
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(id, properties, children)` of a dbusmenu layout node.
fn node(v: &Value<'_>) -> Node {
    let v = match v {
        Value::Value(inner) => inner.as_ref(),
        v => v,
    };
    let Value::Structure(s) = v else {
        panic!("a layout node, not {v:?}")
    };
    let f = s.fields();
    let id = i32::try_from(&f[0]).unwrap();
    let props: HashMap<String, OwnedValue> = f[1].try_clone().unwrap().try_into().unwrap();
    let children: Vec<OwnedValue> = f[2].try_clone().unwrap().try_into().unwrap();
    (id, props, children)
}

#[test]
fn the_tray_registers_shows_its_severity_and_its_menu_works() {
    let bus = PrivateBus::start();
    let rt = common::runtime();
    let watcher = Watcher::default();
    let items = watcher.items.clone();
    let _host = rt.block_on(async {
        zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .name("org.kde.StatusNotifierWatcher")
            .unwrap()
            .serve_at("/StatusNotifierWatcher", watcher)
            .unwrap()
            .build()
            .await
            .unwrap()
    });
    let side = Side::start(&bus);
    assert_eq!(side.next(), "TRAY-UP");
    assert_eq!(side.next(), "TRAY-WORST");
    let start = Instant::now();
    let service = loop {
        if let Some(s) = items.lock().unwrap().first().cloned() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never registered"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        service.starts_with("org.kde.StatusNotifierItem-"),
        "{service}"
    );

    rt.block_on(async {
        let conn = zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .build()
            .await
            .unwrap();
        let item = zbus::Proxy::new(
            &conn,
            service.clone(),
            "/StatusNotifierItem",
            "org.kde.StatusNotifierItem",
        )
        .await
        .unwrap();
        let id: String = item.get_property("Id").await.unwrap();
        assert_eq!(id, "shipshape");
        // The icon: the app's, with a dot of the worst severity's colour.
        let pixmaps: Vec<Pixmap> = item.get_property("IconPixmap").await.unwrap();
        let (w, h, data) = &pixmaps[0];
        assert_eq!((*w, *h), (64, 64));
        let at = |x: usize, y: usize| data[(y * 64 + x) * 4..][..4].to_vec();
        assert_eq!(
            at(47, 47),
            vec![0xff, CRITICAL_DOT[0], CRITICAL_DOT[1], CRITICAL_DOT[2]]
        );
        let tip: (String, Vec<Pixmap>, String, String) =
            item.get_property("ToolTip").await.unwrap();
        assert_eq!(tip.3, "worst active finding: critical");

        // The menu, as a panel reads it.
        let path: zbus::zvariant::OwnedObjectPath = item.get_property("Menu").await.unwrap();
        let menu = zbus::Proxy::new(&conn, service.clone(), path, "com.canonical.dbusmenu")
            .await
            .unwrap();
        let (_rev, root): (u32, Node) = menu
            .call("GetLayout", &(0i32, -1i32, Vec::<&str>::new()))
            .await
            .unwrap();
        let entries: Vec<(i32, String)> = root
            .2
            .iter()
            .map(|c| {
                let (id, props, _) = node(c);
                let label = props
                    .get("label")
                    .and_then(|v| String::try_from(v.try_clone().unwrap()).ok())
                    .unwrap_or_default();
                (id, label)
            })
            .collect();
        let labels: Vec<&str> = entries.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            ["Open shipshape", "Pause alerts", "", "Quit"],
            "{entries:?}"
        );
        let id_of = |label: &str| entries.iter().find(|(_, l)| l == label).unwrap().0;
        for label in ["Open shipshape", "Pause alerts"] {
            let () = menu
                .call("Event", &(id_of(label), "clicked", Value::from(0i32), 0u32))
                .await
                .unwrap();
        }
        // Quit: the side ends on it, perhaps before it answers.
        let _: zbus::Result<()> = menu
            .call(
                "Event",
                &(id_of("Quit"), "clicked", Value::from(0i32), 0u32),
            )
            .await;
    });
    assert_eq!(side.next(), "TRAY-ACTION Open");
    assert_eq!(side.next(), "TRAY-ACTION PauseAlerts(true)");
    assert_eq!(side.next(), "TRAY-ACTION Quit");
}

#[test]
fn without_a_tray_host_starting_says_so() {
    let bus = PrivateBus::start();
    let side = Side::start(&bus);
    let line = side.next();
    assert!(line.starts_with("TRAY-ERR no tray host"), "{line}");
}
