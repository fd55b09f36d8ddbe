//! The tray icon (StatusNotifierItem, through ksni on the zbus eframe
//! already builds: no GTK). Optional and off by default (Settings → *Keep
//! watching in the tray*): with it, closing the window hides it and
//! shipshape keeps watching, recording and alerting; the icon shows the
//! worst active severity, and its menu has Open, Pause alerts and Quit.
//! Where no tray host runs (no `org.kde.StatusNotifierWatcher`), starting
//! it fails and closing the window quits, as without it.

use std::sync::Arc;

use ksni::TrayMethods;

use crate::model::Severity;

/// What the tray asks of the App.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// Show the window (the menu's Open, or a click on the icon).
    Open,
    /// Pause or resume desktop notifications.
    PauseAlerts(bool),
    /// Quit shipshape.
    Quit,
}

type Sink = Arc<dyn Fn(TrayAction) + Send + Sync>;

/// The tray's state: what the icon and the menu show.
pub struct Tray {
    worst: Option<Severity>,
    /// The dot's colour: the worst severity's, as the window draws it
    /// (the App passes it in; colours live in `ui::theme`).
    dot: [u8; 3],
    paused: bool,
    sink: Sink,
}

impl Tray {
    /// A tray icon whose menu sends its actions to `sink`.
    pub fn new(sink: impl Fn(TrayAction) + Send + Sync + 'static) -> Self {
        Self {
            worst: None,
            dot: [0x00, 0x9e, 0x73],
            paused: false,
            sink: Arc::new(sink),
        }
    }

    /// The menu's entries as (label, checked): what [`ksni::Tray::menu`]
    /// builds, for tests.
    pub fn entries(&self) -> Vec<(&'static str, Option<bool>)> {
        vec![
            ("Open shipshape", None),
            ("Pause alerts", Some(self.paused)),
            ("Quit", None),
        ]
    }

    /// The tool tip: the worst state, in words.
    pub fn tool_tip_text(&self) -> String {
        match self.worst {
            Some(s) => format!("worst active finding: {s}"),
            None => "no active findings".into(),
        }
    }
}

const ICON: &[u8] = include_bytes!("../../assets/icons/shipshape-64.rgba");
const SIZE: usize = 64;

/// The app icon (64 px) with a dot of colour `dot` in its lower right
/// corner, as ARGB32 in network byte order.
pub fn icon_pixels(dot: [u8; 3]) -> Vec<u8> {
    let [r, g, b] = dot;
    let mut out = Vec::with_capacity(SIZE * SIZE * 4);
    let (cx, cy, radius) = (47.0_f32, 47.0_f32, 15.0_f32);
    for (i, px) in ICON.chunks_exact(4).enumerate() {
        let (x, y) = ((i % SIZE) as f32 + 0.5, (i / SIZE) as f32 + 0.5);
        let d = ((x - cx).powi(2) + (y - cy).powi(2)).sqrt();
        if d <= radius {
            // A ring of white around the dot, so it reads on any panel.
            let ring = d > radius - 3.0;
            if ring {
                out.extend([0xff, 0xff, 0xff, 0xff]);
            } else {
                out.extend([0xff, r, g, b]);
            }
        } else {
            out.extend([px[3], px[0], px[1], px[2]]);
        }
    }
    out
}

impl ksni::Tray for Tray {
    fn id(&self) -> String {
        "shipshape".into()
    }

    fn title(&self) -> String {
        "shipshape".into()
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        vec![ksni::Icon {
            width: SIZE as i32,
            height: SIZE as i32,
            data: icon_pixels(self.dot),
        }]
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip {
            title: "shipshape".into(),
            description: self.tool_tip_text(),
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        (self.sink)(TrayAction::Open);
    }

    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        use ksni::menu::{CheckmarkItem, StandardItem};
        vec![
            StandardItem {
                label: "Open shipshape".into(),
                activate: Box::new(|t: &mut Self| (t.sink)(TrayAction::Open)),
                ..Default::default()
            }
            .into(),
            CheckmarkItem {
                label: "Pause alerts".into(),
                checked: self.paused,
                activate: Box::new(|t: &mut Self| {
                    t.paused = !t.paused;
                    (t.sink)(TrayAction::PauseAlerts(t.paused));
                }),
                ..Default::default()
            }
            .into(),
            ksni::MenuItem::Separator,
            StandardItem {
                label: "Quit".into(),
                icon_name: "application-exit".into(),
                activate: Box::new(|t: &mut Self| (t.sink)(TrayAction::Quit)),
                ..Default::default()
            }
            .into(),
        ]
    }

    fn watcher_offline(&self, _reason: ksni::OfflineReason) -> bool {
        // The tray host went away: keep the service, it may come back.
        true
    }
}

/// A running tray.
pub struct TrayHandle(ksni::Handle<Tray>);

impl TrayHandle {
    /// Register with the tray host on the session bus. `Err`: no tray host
    /// (or no bus), in words.
    pub async fn start(tray: Tray) -> Result<Self, String> {
        tray.spawn().await.map(Self).map_err(|e| match e {
            ksni::Error::Watcher(e) => format!("no tray host on the session bus ({e})"),
            ksni::Error::WontShow => "the tray host will not show the icon".into(),
            e => format!("no tray ({e})"),
        })
    }

    /// Show a new worst severity, with its colour.
    pub async fn set_worst(&self, worst: Option<Severity>, dot: [u8; 3]) {
        self.0
            .update(|t| {
                t.worst = worst;
                t.dot = dot;
            })
            .await;
    }

    /// Keep the menu's checkmark in step (pausing from the window).
    pub async fn set_paused(&self, paused: bool) {
        self.0.update(|t| t.paused = paused).await;
    }

    /// Removes the tray icon.
    pub async fn shutdown(&self) {
        self.0.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_icon_shows_the_worst_severity() {
        let none = icon_pixels([0x00, 0x9e, 0x73]);
        let critical = icon_pixels([0xe6, 0x4b, 0x8c]);
        assert_eq!(none.len(), SIZE * SIZE * 4);
        let at = |px: &[u8], x: usize, y: usize| px[(y * SIZE + x) * 4..][..4].to_vec();
        // The dot's centre has the severity's colour, opaque.
        assert_eq!(at(&critical, 47, 47), vec![0xff, 0xe6, 0x4b, 0x8c]);
        assert_eq!(at(&none, 47, 47), vec![0xff, 0x00, 0x9e, 0x73]);
        // A white ring around it.
        assert_eq!(at(&critical, 47, 33), vec![0xff; 4]);
        // Away from the dot, the app icon itself (RGBA turned ARGB).
        let i = (10 * SIZE + 10) * 4;
        assert_eq!(
            at(&critical, 10, 10),
            vec![ICON[i + 3], ICON[i], ICON[i + 1], ICON[i + 2]]
        );
    }

    #[test]
    fn the_menu_opens_pauses_and_quits() {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let mut tray = Tray::new(move |a| tx.lock().unwrap().send(a).unwrap());
        assert_eq!(
            tray.entries(),
            vec![
                ("Open shipshape", None),
                ("Pause alerts", Some(false)),
                ("Quit", None)
            ]
        );
        let menu = ksni::Tray::menu(&tray);
        assert_eq!(menu.len(), 4, "Open, Pause alerts, a separator, Quit");
        for item in menu {
            match item {
                ksni::MenuItem::Standard(s) => (s.activate)(&mut tray),
                ksni::MenuItem::Checkmark(c) => (c.activate)(&mut tray),
                _ => {}
            }
        }
        let got: Vec<TrayAction> = rx.try_iter().collect();
        assert_eq!(
            got,
            vec![
                TrayAction::Open,
                TrayAction::PauseAlerts(true),
                TrayAction::Quit
            ]
        );
        assert_eq!(tray.entries()[1], ("Pause alerts", Some(true)));
        ksni::Tray::activate(&mut tray, 0, 0);
        assert_eq!(rx.try_recv().unwrap(), TrayAction::Open);
        tray.worst = Some(Severity::High);
        assert_eq!(tray.tool_tip_text(), "worst active finding: high");
    }
}
