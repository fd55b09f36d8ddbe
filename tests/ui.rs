//! The dashboard driven through egui_kittest (no GPU, no display): real
//! widgets, real clicks and keys, state checked through the accessibility
//! tree and the app state.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use std::sync::Arc;
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use shipshape::app::{App, Column, Mode};
use shipshape::model::ContainerState;
use shipshape::model::stats::StatsPoint;
use shipshape::policy::Policy;
use shipshape::settings::Settings;
use shipshape::watch::demo;
use shipshape::watch::messages::{Event, Snapshot};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

fn demo_snapshot() -> Arc<Snapshot> {
    let inventory = demo::inventory().unwrap();
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })
}

/// The real app drawn by a test harness: each step drains events, then draws.
/// It opens on the Overview, as the window does; the inventory tests start
/// on the Containers view (see `build_on`).
fn build(app: App) -> Harness<'static, App> {
    build_on(app, shipshape::app::View::Containers)
}

fn build_on(mut app: App, view: shipshape::app::View) -> Harness<'static, App> {
    assert_eq!(
        app.state.view,
        shipshape::app::View::Overview,
        "the window opens on the Overview"
    );
    app.state.view = view;
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_context_setup(shipshape::app::setup_fonts)
        .build_ui_state(
            |ui, app: &mut App| {
                app.pump();
                app.show(ui);
            },
            app,
        )
}

/// The app with its commands sent to a channel the test reads.
fn harness_with_commands() -> (
    Harness<'static, App>,
    UnboundedSender<Event>,
    tokio::sync::mpsc::UnboundedReceiver<shipshape::watch::messages::Command>,
) {
    let (cmd_tx, cmd_rx) = unbounded_channel();
    let (tx, rx) = unbounded_channel();
    let app = App::from_channel(Mode::Live, rx, Settings::default()).with_commands(cmd_tx);
    (build(app), tx, cmd_rx)
}

/// The next command the window sent, past the focus updates it sends as
/// rows scroll into view (tested on their own).
fn next_command(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<shipshape::watch::messages::Command>,
) -> Result<shipshape::watch::messages::Command, tokio::sync::mpsc::error::TryRecvError> {
    loop {
        match rx.try_recv() {
            Ok(shipshape::watch::messages::Command::Focus(_)) => continue,
            other => return other,
        }
    }
}

fn harness(mode: Mode) -> (Harness<'static, App>, UnboundedSender<Event>) {
    let (tx, rx) = unbounded_channel();
    let app = App::from_channel(mode, rx, Settings::default());
    let mut h = build(app);
    h.run_steps(2);
    (h, tx)
}

fn connected() -> Event {
    Event::Connected {
        found_by: "Docker system socket".into(),
        endpoint: "unix:///var/run/docker.sock".into(),
        api_version: "1.41".into(),
        engine: shipshape::model::EngineIdentity {
            id: "SJ52:2UN6:6YWV:33IG".into(),
            root: "/var/lib/docker".into(),
            name: "workstation".into(),
        },
    }
}

fn loaded(mode: Mode) -> (Harness<'static, App>, UnboundedSender<Event>) {
    let (mut h, tx) = harness(mode);
    if mode == Mode::Live {
        tx.send(connected()).unwrap();
    }
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    (h, tx)
}

fn visible_names(h: &Harness<'_, App>) -> Vec<String> {
    let s = &h.state().state;
    s.inventory
        .order
        .iter()
        .map(|&i| s.inventory.rows[i].name.clone())
        .collect()
}

#[test]
fn first_frame_appears_before_the_engine_answers() {
    let (h, _tx) = harness(Mode::Live);
    h.get_by_label_contains("Connecting");
    h.get_by_label("Waiting for the first scan…");
}

#[test]
fn sort_by_a_header_and_again_to_reverse() {
    let (mut h, _tx) = loaded(Mode::Live);
    // Default: riskiest first.
    let names = visible_names(&h);
    assert_eq!(names.first().map(String::as_str), Some("lab-ci-runner"));
    let s = &h.state().state;
    let scores: Vec<u8> = s
        .inventory
        .order
        .iter()
        .map(|&i| s.inventory.rows[i].score)
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "descending by risk: {scores:?}"
    );

    h.get_by_label("Name").click();
    h.run_steps(2);
    let names = visible_names(&h);
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "ascending by name");
    assert_eq!(h.state().state.inventory.sort, (Column::Name, true));

    h.get_by_label_contains("Name ▲").click();
    h.run_steps(2);
    let names = visible_names(&h);
    sorted.reverse();
    assert_eq!(names, sorted, "clicking again reverses");
    h.get_by_label_contains("Name ▼");
}

#[test]
fn text_state_and_severity_filters() {
    let (mut h, _tx) = loaded(Mode::Live);
    let total = visible_names(&h).len();
    h.get_by_label("Filter").click();
    h.run_steps(1);
    h.get_by_label("Filter").type_text("postgres");
    h.run_steps(2);
    assert_eq!(visible_names(&h), ["lab-postgres"]);
    h.get_by_label("1 of 14 containers");

    // Labels are searchable too.
    h.state_mut().state.inventory.filter.text = "com.example.team=web".into();
    h.state_mut().state.filter_changed();
    h.run_steps(1);
    assert_eq!(visible_names(&h), ["lab-web-frontend"]);

    h.state_mut().state.inventory.filter.text.clear();
    h.state_mut().state.inventory.filter.state = Some(ContainerState::Created);
    h.state_mut().state.filter_changed();
    h.run_steps(1);
    let created = visible_names(&h);
    assert!(created.len() < total && created.contains(&"lab-legacy-admin-panel".to_string()));
    assert!(!created.contains(&"lab-postgres".to_string()));

    h.state_mut().state.inventory.filter.state = None;
    h.state_mut().state.inventory.filter.min_severity = Some(shipshape::model::Severity::Critical);
    h.state_mut().state.filter_changed();
    h.run_steps(1);
    let critical = visible_names(&h);
    // Critical on their own, or through their image's worst known
    // vulnerability (the lab's base image has a critical one); not the
    // container on the end-of-life image (medium).
    assert!(critical.starts_with(&[
        "lab-ci-runner".to_string(),
        "lab-legacy-admin-panel".to_string()
    ]));
    assert!(
        !critical.contains(&"lab-leaky-app".to_string()),
        "{critical:?}"
    );
    let s = &h.state().state;
    assert!(
        s.inventory
            .order
            .iter()
            .all(|&i| s.inventory.rows[i].highest == Some(shipshape::model::Severity::Critical))
    );
}

#[test]
fn selecting_a_row_shows_its_findings_with_evidence_and_fix() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.get_by_label("lab-ci-runner").click();
    h.run_steps(3);
    assert!(h.state().state.inventory.selected.is_some());
    // The panel: the critical finding open, with evidence, why, attack, fix.
    h.get_by_label("Container engine socket mounted");
    h.get_by_label_contains("/var/run/docker.sock mounted at /var/run/docker.sock");
    assert!(h.get_all_by_label("Why it matters").count() >= 1);
    assert!(h.get_all_by_label("How an attacker uses it").count() >= 1);
    h.get_by_label("remove -v /var/run/docker.sock:/var/run/docker.sock (and -v /run:…)");
    h.get_by_label_contains("CIS 5.32");
    // Facts: env keys are listed, values never.
    h.get_by_label("Facts").click();
    h.run_steps(2);
    h.get_by_label_contains("Environment (keys only");
    let postgres_secret = "demo-password-not-real";
    assert!(h.query_by_label_contains(postgres_secret).is_none());
}

/// Issue 25: the Harden tab writes the hardened version of the selected
/// container — the catalogue run again on it — and never a secret's value.
#[test]
fn the_harden_tab_writes_the_hardened_container() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.get_by_label("lab-ci-runner").click();
    h.run_steps(3);
    h.get_by_label("Harden").click();
    h.run_steps(3);
    // The counts are the catalogue's own, before and after: fewer after.
    let inv = demo::inventory().unwrap();
    let id = &inv
        .containers
        .iter()
        .find(|c| c.name == "lab-ci-runner")
        .unwrap()
        .id;
    let plan = shipshape::harden::plan(
        &inv,
        id,
        &Default::default(),
        &Default::default(),
        chrono::Utc::now(),
    )
    .unwrap();
    assert!(plan.after.len() < plan.before.len());
    h.get_by_label_contains(&format!(
        "{} finding(s) now, {} after these {} change(s)",
        plan.before.len(),
        plan.after.len(),
        plan.changes.len()
    ));
    // In the list of changes and in the command.
    assert!(h.get_all_by_label_contains("--cap-drop ALL").count() >= 2);
    h.get_by_label_contains("clears container.seccomp-unconfined");
    // The engine socket stays: a CI runner uses it; said, with why.
    h.get_by_label("Left for you");
    h.get_by_label("container.engine-socket");
    h.get_by_label("docker run");
    h.get_by_label("compose service");
    assert!(
        h.query_by_label_contains("demo-password-not-real")
            .is_none()
    );
}

/// Issues 15 and 17: a name, label or history line carrying terminal
/// escapes, bidi overrides or zero-width characters is drawn with those
/// characters shown as escapes, never obeyed.
#[test]
fn hostile_characters_are_drawn_visibly() {
    let mut inventory = demo::inventory().unwrap();
    let c = &mut inventory.containers[0];
    c.name = "web\u{202e}1-nimda\u{1b}[2J".into();
    c.labels
        .insert("look".into(), "a\u{200b}b\u{9b}31m\u{2066}x\u{2069}".into());
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    let snap = Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    });
    let (mut h, tx) = harness(Mode::Live);
    tx.send(Event::Snapshot(snap)).unwrap();
    h.run_steps(3);
    h.get_by_label("web\\u{202e}1-nimda\\u{1b}[2J").click();
    h.run_steps(3);
    h.get_by_label("Facts").click();
    h.run_steps(3);
    h.get_by_label_contains("look=a\\u{200b}b\\u{9b}31m\\u{2066}x\\u{2069}");
    for hidden in ["\u{202e}", "\u{1b}", "\u{200b}", "\u{9b}", "\u{2066}"] {
        assert!(
            h.query_by_label_contains(hidden).is_none(),
            "U+{:04X} reached the screen",
            hidden.chars().next().unwrap() as u32
        );
    }
}

#[test]
fn secret_values_never_reach_the_screen() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.get_by_label("lab-postgres").click();
    h.run_steps(2);
    h.get_by_label_contains("env POSTGRES_PASSWORD");
    for tab in ["Risk (", "Facts"] {
        h.get_by_label_contains(tab).click();
        h.run_steps(2);
        assert!(
            h.query_by_label_contains("demo-password-not-real")
                .is_none()
        );
        assert!(h.query_by_label_contains("demoNotARealKey").is_none());
    }
}

/// Labels, the healthcheck and process command lines carry secrets too:
/// the window names the key or flag, never the value.
#[test]
fn secrets_in_labels_healthchecks_and_processes_stay_hidden() {
    let mut inventory = demo::inventory().unwrap();
    let c = &mut inventory.containers[0];
    c.name = "secretive".into();
    c.labels
        .insert("DB_PASSWORD".into(), "label-value-not-real".into());
    c.healthcheck = Some(shipshape::model::Healthcheck {
        test: vec![
            "CMD-SHELL".into(),
            "wget -q http://admin:health-value-not-real@localhost/".into(),
        ],
    });
    c.processes = Some(vec![shipshape::model::Process {
        user: "root".into(),
        pid: "1".into(),
        comm: "mysqld".into(),
        command: "mysqld --password=process-value-not-real".into(),
        cap_eff: None,
    }]);
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    let snap = Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    });
    let (mut h, tx) = harness(Mode::Live);
    tx.send(Event::Snapshot(snap)).unwrap();
    h.run_steps(3);
    h.get_by_label("secretive").click();
    h.run_steps(3);
    // The risk panel names where: the label's key and the URL's user.
    h.get_by_label_contains("container label DB_PASSWORD");
    h.get_by_label_contains("http://admin:<hidden>@localhost/");
    for tab in ["Risk (", "Facts"] {
        h.get_by_label_contains(tab).click();
        h.run_steps(3);
        for value in [
            "label-value-not-real",
            "health-value-not-real",
            "process-value-not-real",
        ] {
            assert!(
                h.query_by_label_contains(value).is_none(),
                "{value} reached the {tab} tab"
            );
        }
    }
    h.get_by_label_contains("DB_PASSWORD=<hidden>");
    h.get_by_label_contains("mysqld --password=<hidden>");
}

#[test]
fn keyboard_moves_opens_and_focuses_the_filter() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    let first = visible_names(&h)[0].clone();
    let selected = h.state().state.selected_container().map(|c| c.name.clone());
    assert_eq!(selected.as_deref(), Some(first.as_str()));
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    let second = visible_names(&h)[1].clone();
    assert_eq!(
        h.state()
            .state
            .selected_container()
            .map(|c| c.name.clone())
            .as_deref(),
        Some(second.as_str())
    );
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    h.get_by_label_contains("Risk (");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().state.inventory.selected.is_none());

    h.key_press(egui::Key::Slash);
    h.run_steps(3);
    h.get_by_label("Filter").type_text("cache");
    h.run_steps(2);
    assert_eq!(
        h.state().state.inventory.filter.text,
        "cache",
        "the / key itself is not typed"
    );
    assert_eq!(visible_names(&h), ["lab-cache"]);
}

#[test]
fn engine_down_is_a_banner_never_an_empty_list() {
    let (mut h, tx) = harness(Mode::Live);
    tx.send(Event::Disconnected {
        reason: "permission denied on /var/run/docker.sock (from Docker system socket)".into(),
        retry_in: Duration::from_secs(4),
    })
    .unwrap();
    h.run_steps(2);
    h.get_by_label("Cannot reach the container engine");
    h.get_by_label_contains("permission denied on /var/run/docker.sock");
    h.get_by_label_contains("Retrying automatically in");
    h.get_by_label("Retry now");
    h.get_by_label("Open the demo lab");
    h.get_by_label("Engine unreachable");
    assert!(h.query_by_label_contains("0 containers").is_none());
}

/// Fourteen stale compose projects and two containers the engine refused:
/// one line with the count by kind above the view (never fourteen boxes),
/// and the list, grouped by kind, in a window of its own.
#[test]
fn scan_warnings_are_one_line_and_a_list_on_request() {
    use shipshape::model::{Warning, WarningKind};
    let (mut h, tx) = harness(Mode::Live);
    tx.send(connected()).unwrap();
    h.run_steps(2);
    // Where the table starts without any warning.
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    let header = |h: &Harness<'static, App>| h.get_by_label("Name").rect().top();
    let top_without = header(&h);

    let mut inventory = demo::inventory().unwrap();
    for i in 0..14 {
        inventory.warnings.push(Warning::new(
            WarningKind::Compose,
            format!(
                "compose files of project stale{i} not read, its findings are not located in \
                 them: /home/dev/stale{i}/compose.yaml: No such file or directory"
            ),
        ));
    }
    for i in 0..2 {
        inventory.warnings.push(Warning::new(
            WarningKind::NotRead,
            format!("the engine refused container refused{i}: HTTP 500"),
        ));
    }
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    h.run_steps(3);
    h.get_by_label("16 scan warnings: 2 not read · 14 about compose files");
    assert!(
        h.query_by_label_contains("stale3").is_none(),
        "no warning is drawn on its own until the list is opened"
    );
    let pushed = header(&h) - top_without;
    assert!(
        pushed < 50.0,
        "the warnings take one line of space, not sixteen ({pushed} px)"
    );

    h.get_by_label("Show the list").click();
    h.run_steps(2);
    h.get_by_label("Not read (2)");
    h.get_by_label("Compose files (14)");
    h.get_by_label_contains("project stale13 not read");
    h.get_by_label_contains("refused container refused1");
    // The same button closes it.
    h.get_by_label("Hide the list").click();
    h.run_steps(2);
    assert!(!h.state().state.dialogs.show_warnings);
    h.get_by_label("Show the list");
}

#[test]
fn losing_the_engine_keeps_the_data_marked_stale_and_reconnect_refreshes() {
    let (mut h, tx) = loaded(Mode::Live);
    let before = visible_names(&h);
    tx.send(Event::Disconnected {
        reason: "lost the engine while reading engine info: connection reset".into(),
        retry_in: Duration::from_secs(1),
    })
    .unwrap();
    h.run_steps(2);
    assert_eq!(visible_names(&h), before, "rows are kept");
    assert!(h.state().state.engines[0].stale);
    h.get_by_label_contains("from before the engine went away");
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(2);
    assert!(!h.state().state.engines[0].stale);
    assert!(
        h.query_by_label_contains("from before the engine went away")
            .is_none()
    );
}

/// Issue 16: another engine at the watched address is a loud banner that
/// stays until the user dismisses it; "look again" is the user's choice.
#[test]
fn a_different_engine_at_the_watched_address_is_a_banner_until_dismissed() {
    let (mut h, tx, mut cmd_rx) = harness_with_commands();
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    tx.send(Event::EngineChanged {
        endpoint: "unix:///var/run/docker.sock".into(),
        was: "SJ52:2UN6".into(),
        now: "IWHC:2S4K".into(),
        detail: "a different engine answers at unix:///var/run/docker.sock: it was engine SJ52:2UN6:6YW on vm".into(),
        at: chrono::Utc::now(),
    })
    .unwrap();
    h.run_steps(3);
    h.get_by_label("A different engine now answers at the watched address");
    h.get_by_label_contains("it was engine SJ52:2UN6:6YW on vm");
    // It survives reconnects and new snapshots.
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    h.get_by_label("A different engine now answers at the watched address");
    h.get_by_label("Look for an engine again").click();
    h.run_steps(2);
    assert!(matches!(
        next_command(&mut cmd_rx),
        Ok(shipshape::watch::messages::Command::Rediscover)
    ));
    assert!(
        h.query_by_label("A different engine now answers at the watched address")
            .is_none()
    );
}

#[test]
fn the_engine_down_banner_offers_to_look_again_but_never_does_it_alone() {
    let (mut h, tx, mut cmd_rx) = harness_with_commands();
    tx.send(Event::Disconnected {
        reason: "the engine socket /var/run/docker.sock (from Docker system socket) does not exist"
            .into(),
        retry_in: Duration::from_secs(2),
    })
    .unwrap();
    h.run_steps(3);
    assert!(
        next_command(&mut cmd_rx).is_err(),
        "nothing is sent by itself"
    );
    h.get_by_label("Retry now").click();
    h.run_steps(2);
    assert!(matches!(
        next_command(&mut cmd_rx),
        Ok(shipshape::watch::messages::Command::ReconnectNow)
    ));
    h.get_by_label("Look for another engine").click();
    h.run_steps(2);
    assert!(matches!(
        next_command(&mut cmd_rx),
        Ok(shipshape::watch::messages::Command::Rediscover)
    ));
}

/// Issue 9: the Images view shows the vulnerability data's age, warns when
/// it is older than a week, and downloads only when Update is pressed.
#[test]
fn vulnerability_data_age_warning_and_update_on_request() {
    use shipshape::vulndb::{Meta, SourceMeta};
    use shipshape::watch::messages::Command;
    let (mut h, tx, mut cmd_rx) = harness_with_commands();
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    tx.send(Event::VulnDb(Ok(Meta {
        built_at: Some(chrono::Utc::now() - chrono::Duration::days(9)),
        records: 48_000,
        sources: vec![SourceMeta {
            name: "Debian".into(),
            origin: "https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip".into(),
            records: 48_000,
        }],
        ..Meta::default()
    })))
    .unwrap();
    h.run_steps(3);
    h.state_mut().state.view = shipshape::app::View::Images;
    h.run_steps(3);
    h.get_by_label_contains("48000 records (Debian), built 9 days ago");
    h.get_by_label_contains("older than a week");
    assert!(
        next_command(&mut cmd_rx).is_err(),
        "nothing downloaded unasked"
    );
    h.get_by_label("Update").click();
    h.run_steps(2);
    assert!(matches!(
        next_command(&mut cmd_rx),
        Ok(Command::UpdateVulnDb { from }) if from.starts_with("https://")
    ));
    tx.send(Event::VulnDbProgress(
        shipshape::sources::osv::Progress::Download {
            name: "Debian".into(),
            done: 5 << 20,
            total: Some(40 << 20),
        },
    ))
    .unwrap();
    h.run_steps(2);
    h.get_by_label_contains("downloading Debian: 5.0 MiB of 40.0 MiB");
    // The lab's images carry vulnerabilities, and the search finds them.
    h.state_mut().state.images.search = "CVE-2024-0727".into();
    h.run_steps(2);
    h.get_by_label_contains("“CVE-2024-0727”: 1 image(s), used by");
}

/// Issue 10: the Images view labels an image "info" only when info is its
/// worst finding. An image with a critical and an info finding (and nothing
/// between) was once labelled "info": the counts were read in the wrong
/// order.
#[test]
fn images_view_reads_the_counts_by_severity() {
    use shipshape::model::{Finding, Severity, Subject};
    let inventory = demo::inventory().unwrap();
    let now = chrono::Utc::now();
    let mut assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    let f = |severity| Finding {
        rule_id: "image.known-vulnerabilities",
        severity,
        subject: Subject::Image { id: "".into() },
        evidence: format!("{severity:?}"),
        waiver: None,
    };
    for img in &inventory.images {
        assessment.images.insert(
            img.id.clone(),
            if img.tags.iter().any(|t| t == "shipshape-test/leaky:1") {
                vec![f(Severity::Info)]
            } else {
                vec![f(Severity::Critical), f(Severity::Info)]
            },
        );
    }
    let snap = Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    });
    let (mut h, tx) = harness(Mode::Live);
    tx.send(Event::Snapshot(snap)).unwrap();
    h.state_mut().state.view = shipshape::app::View::Images;
    h.run_steps(3);
    assert_eq!(
        h.query_all_by_label("info").count(),
        1,
        "only the image whose worst finding is info"
    );
}

#[test]
fn demo_lab_is_marked_demo() {
    let (h, _tx) = loaded(Mode::Demo);
    h.get_by_label("DEMO");
    h.get_by_label_contains("DEMO — a bundled lab");
    h.get_by_label("Leave demo");
    h.get_by_label("lab-legacy-admin-panel");
}

#[test]
fn images_and_engine_views() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.get_by_label("Images").click();
    h.run_steps(2);
    h.get_by_label_contains("shipshape-test/leaky:1");
    h.get_by_label("Engine").click();
    h.run_steps(2);
    h.get_by_label("Engine findings");
    h.get_by_label("Inter-container traffic allowed on the default bridge");
}

#[test]
fn charts_show_streamed_stats_with_pause() {
    let (mut h, tx) = loaded(Mode::Live);
    let c = h.state().state.engines[0]
        .snapshot
        .as_ref()
        .unwrap()
        .inventory
        .containers
        .iter()
        .find(|c| c.name == "lab-postgres")
        .unwrap()
        .id
        .clone();
    let now = chrono::Utc::now().timestamp() as f64;
    for i in 0..10 {
        tx.send(Event::Stats {
            id: c.clone(),
            point: StatsPoint {
                t: now - 10.0 + f64::from(i),
                cpu_pct: 42.0,
                mem_bytes: 64.0 * 1024.0 * 1024.0,
                pids: 3.0,
                ..Default::default()
            },
        })
        .unwrap();
    }
    h.run_steps(1);
    h.get_by_label("lab-postgres").click();
    h.run_steps(2);
    h.get_by_label("Charts").click();
    h.run_steps(2);
    h.get_by_label_contains("cpu 42%");
    h.get_by_label_contains("used 64.0 MiB");
    h.get_by_label("Pause").click();
    h.run_steps(2);
    assert!(h.state().state.charts.paused_at.is_some());
    h.get_by_label("▶ Resume");
    // Data keeps arriving while paused.
    tx.send(Event::Stats {
        id: c.clone(),
        point: StatsPoint {
            t: now + 5.0,
            cpu_pct: 99.0,
            ..Default::default()
        },
    })
    .unwrap();
    h.run_steps(1);
    assert_eq!(
        h.state().state.charts.stats[&shipshape::app::RowKey::new(0, c.clone())].len(),
        11
    );
    h.get_by_label_contains("cpu 42%");
}

/// A harness whose background jobs run on a real runtime, with a picker that
/// answers the file dialog with `path` (after an optional gate).
fn harness_with_picker(
    rt: &tokio::runtime::Runtime,
    path: std::path::PathBuf,
    gate: Option<Arc<tokio::sync::Notify>>,
) -> (Harness<'static, App>, UnboundedSender<Event>) {
    let (tx, rx) = unbounded_channel();
    let picker: shipshape::app::Picker = Arc::new(move |_name, _format, _save| {
        let path = path.clone();
        let gate = gate.clone();
        Box::pin(async move {
            if let Some(g) = gate {
                g.notified().await;
            }
            Some(path)
        })
    });
    let app = App::from_channel_with(
        Mode::Live,
        rx,
        Settings::default(),
        rt.handle().clone(),
        picker,
    );
    let mut h = build(app);
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    (h, tx)
}

/// Step the UI until `done` holds (background jobs report through events).
fn step_until(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    for _ in 0..200 {
        h.step();
        if done(h.state()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn export_writes_what_the_user_sees_and_refuses_a_second_one() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("filtered.html");
    let gate = Arc::new(tokio::sync::Notify::new());
    let (mut h, _tx) = harness_with_picker(&rt, out.clone(), Some(gate.clone()));

    h.state_mut().state.inventory.filter.text = "postgres".into();
    h.state_mut().state.filter_changed();
    h.run_steps(1);
    h.get_by_label("Export…").click();
    h.run_steps(2);
    h.get_by_label("HTML").click();
    h.get_by_label("Only the 1 shown by the filters").click();
    h.run_steps(1);
    h.get_by_label("Save…").click();
    h.run_steps(2);
    assert!(h.state().state.dialogs.export_running);
    // A second export while the first waits in its dialog is refused.
    h.state_mut().start_export();
    h.run_steps(1);
    h.get_by_label_contains("An export is already running");

    gate.notify_one();
    step_until(&mut h, "the export to finish", |app| {
        !app.state.dialogs.export_running
    });
    h.get_by_label_contains(&format!("Report saved to {}", out.display()));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("Container lab-postgres"));
    assert!(
        !html.contains("Container lab-ci-runner"),
        "only the filtered containers"
    );
}

#[test]
fn an_unwritable_export_path_is_an_error_in_the_window() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut h, _tx) = harness_with_picker(&rt, "/nonexistent-dir/report.csv".into(), None);
    h.state_mut().state.dialogs.export.format = shipshape::report::Format::Csv;
    h.state_mut().start_export();
    step_until(&mut h, "the export to fail", |app| {
        !app.state.dialogs.export_running
    });
    h.get_by_label_contains("Export failed: cannot write /nonexistent-dir/report.csv");
}

#[test]
fn a_baseline_marks_what_is_new() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Yesterday's report: the same lab, but lab-postgres had no findings yet.
    let snap = demo_snapshot();
    let mut old = shipshape::report::Report::build(
        &snap.inventory,
        &snap.assessment,
        &Policy::default(),
        chrono::Utc::now(),
    );
    for c in old
        .containers
        .iter_mut()
        .filter(|c| c.name == "lab-postgres")
    {
        c.findings.clear();
    }
    let path = dir.path().join("yesterday.json");
    std::fs::write(&path, shipshape::report::json::render(&old)).unwrap();

    let (mut h, _tx) = harness_with_picker(&rt, path.clone(), None);
    h.get_by_label("Baseline…").click();
    step_until(&mut h, "the baseline to load", |app| {
        app.state.baseline.view.is_some()
    });
    h.run_steps(2);
    let rows = &h.state().state.inventory.rows;
    let pg = rows.iter().find(|r| r.name == "lab-postgres").unwrap();
    assert_eq!(pg.new_since_baseline, pg.counts.total() + pg.waived);
    assert!(
        rows.iter()
            .filter(|r| r.name != "lab-postgres")
            .all(|r| r.new_since_baseline == 0)
    );
    h.get_by_label("only new").click();
    h.run_steps(2);
    assert_eq!(visible_names(&h), ["lab-postgres"]);
    h.get_by_label("lab-postgres").click();
    h.run_steps(2);
    assert!(h.get_all_by_label_contains("NEW · ").count() >= 1);
}

#[test]
fn a_bad_baseline_file_is_reported() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not-a-report.json");
    std::fs::write(&path, "{\"hello\": 1}").unwrap();
    let (mut h, _tx) = harness_with_picker(&rt, path, None);
    h.state_mut().load_baseline();
    step_until(&mut h, "the error", |app| !app.state.notices.is_empty());
    h.get_by_label_contains("Baseline not loaded");
    h.get_by_label_contains("not a shipshape JSON report");
}

/// The demo lab with its captured timeline, fed as the worker would.
fn with_timeline() -> (Harness<'static, App>, UnboundedSender<Event>) {
    let (mut h, tx) = loaded(Mode::Live);
    let (inventory, events) = demo::lab().unwrap();
    let snapshot = demo_snapshot();
    for a in demo::timeline(&inventory, &snapshot.assessment, events) {
        tx.send(Event::Activity(Arc::new(a))).unwrap();
    }
    h.run_steps(2);
    (h, tx)
}

#[test]
fn activity_view_lists_newest_first_and_filters_by_type_and_severity() {
    use shipshape::model::activity::Category;
    let (mut h, _tx) = with_timeline();
    h.get_by_label("Activity").click();
    h.run_steps(2);
    let total = h.state().state.timeline.entries.len();
    assert!(total > 20, "{total} entries");
    h.get_by_label(&format!("{total} entries"));
    let times: Vec<_> = {
        let s = &h.state().state;
        s.timeline
            .order
            .iter()
            .map(|&i| s.timeline.entries[i].time)
            .collect()
    };
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    // Rows on screen: the privileged exec is there with its user and flag.
    h.get_by_label("root (container default): sh -c mount (privileged)");

    h.state_mut().state.timeline.filter.category = Some(Category::Exec);
    h.state_mut().state.activity_filter_changed();
    h.run_steps(2);
    {
        let s = &h.state().state;
        assert_eq!(s.timeline.filter.category, Some(Category::Exec));
        assert!(!s.timeline.order.is_empty());
        assert!(
            s.timeline
                .order
                .iter()
                .all(|&i| s.timeline.entries[i].category() == Category::Exec)
        );
    }
    h.state_mut().state.timeline.filter.category = None;
    h.state_mut().state.timeline.filter.min_severity = Some(shipshape::model::Severity::High);
    h.state_mut().state.activity_filter_changed();
    h.run_steps(2);
    let s = &h.state().state;
    let high: Vec<&str> = s
        .timeline
        .order
        .iter()
        .map(|&i| s.timeline.entries[i].action.as_str())
        .collect();
    assert!(
        high.contains(&"exec_create") && high.contains(&"finding"),
        "{high:?}"
    );
    assert!(
        s.timeline
            .order
            .iter()
            .all(|&i| s.timeline.entries[i].severity >= Some(shipshape::model::Severity::High))
    );
}

#[test]
fn clicking_an_entry_opens_the_containers_own_activity() {
    let (mut h, _tx) = with_timeline();
    h.get_by_label("Activity").click();
    h.run_steps(2);
    h.get_by_label("root (container default): sh -c cat /proc/1/environ > /dev/null")
        .click();
    h.run_steps(3);
    let s = &h.state().state;
    let postgres = s
        .inventory
        .rows
        .iter()
        .find(|r| r.name == "lab-postgres")
        .unwrap();
    assert_eq!(s.inventory.selected, Some(postgres.key()));
    assert_eq!(s.detail_tab, shipshape::app::DetailTab::Activity);
    h.get_by_label("docker exec sessions");
    h.get_by_label("When");
    // The command: in the timeline's exec_start row, in the container's
    // own events, and in its exec sessions.
    assert_eq!(
        h.get_all_by_label("sh -c cat /proc/1/environ > /dev/null")
            .count(),
        3
    );
    h.get_by_label("Filesystem drift");
}

#[test]
fn a_gone_container_shows_its_lifetime_and_can_be_dismissed() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.get_by_label("gone");
    h.get_by_label_contains("lived 1.");
    h.get_by_label("lab-oneshot-migrate").click();
    h.run_steps(2);
    h.get_by_label_contains("Its findings are kept for the record");
    h.get_by_label("Dismiss").click();
    h.run_steps(3);
    assert!(!visible_names(&h).contains(&"lab-oneshot-migrate".to_string()));
    assert_eq!(h.state().state.gone_count(), 0);
}

#[test]
fn drift_progress_and_the_audit_state_are_shown() {
    let (mut h, tx) = loaded(Mode::Live);
    tx.send(Event::DriftProgress { done: 2, total: 5 }).unwrap();
    h.run_steps(2);
    h.get_by_label("checking drift 2/5");
    tx.send(Event::DriftProgress { done: 5, total: 5 }).unwrap();
    h.run_steps(2);
    assert!(h.query_by_label_contains("checking drift").is_none());

    h.get_by_label("Activity").click();
    h.run_steps(2);
    h.get_by_label("No audit log");
    tx.send(Event::Audit(Err(
        "audit log /x/audit.jsonl: Permission denied (os error 13)".into(),
    )))
    .unwrap();
    h.run_steps(2);
    h.get_by_label("Audit log off");
    tx.send(Event::Audit(Ok(
        "/home/me/.local/share/shipshape/audit/audit.jsonl".into(),
    )))
    .unwrap();
    h.run_steps(2);
    h.get_by_label("Audit log on");
    h.get_by_label("No activity yet.");
}

/// A snapshot of a second engine: a few of the lab's containers, one of
/// them with the same name as on the first engine, on Podman.
fn podman_snapshot() -> Arc<Snapshot> {
    let mut inventory = demo::inventory().unwrap();
    inventory.engine.label = "podman".into();
    inventory.engine.id = "PODMAN:ENGINE:ID".into();
    inventory.engine.product = shipshape::model::EngineProduct::Podman;
    inventory.containers.truncate(3);
    for c in &mut inventory.containers {
        // Another engine: other container ids, the same names.
        c.id = format!("feed{}", &c.id[4..]);
    }
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })
}

#[test]
fn several_engines_in_one_window() {
    let (tx1, rx1) = unbounded_channel();
    let (tx2, rx2) = unbounded_channel();
    let app = App::from_channels(
        Mode::Live,
        ("system".into(), rx1),
        vec![("podman".into(), rx2)],
        Settings::default(),
    );
    let mut h = build(app);
    h.run_steps(2);
    tx1.send(connected()).unwrap();
    let mut inventory = demo::inventory().unwrap();
    inventory.engine.label = "system".into();
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx1.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    tx2.send(Event::Connected {
        found_by: "Podman system socket".into(),
        endpoint: "unix:///run/podman/podman.sock".into(),
        api_version: "1.41".into(),
        engine: shipshape::model::EngineIdentity {
            id: "PODMAN:ENGINE:ID".into(),
            root: "/var/lib/containers/storage".into(),
            name: "workstation".into(),
        },
    })
    .unwrap();
    tx2.send(Event::Snapshot(podman_snapshot())).unwrap();
    h.run_steps(3);

    let total = demo::inventory().unwrap().containers.len() + 3;
    assert_eq!(
        h.state().state.inventory.rows.len(),
        total,
        "both engines' containers"
    );
    // The view's tab, the filter's label and the column's header.
    assert!(h.get_all_by_label("Engine").count() >= 3);
    h.get_by_label("2 of 2 engines connected");
    // The same name on two engines is two rows, each with its engine.
    let name = h
        .state()
        .state
        .inventory
        .rows
        .iter()
        .find(|r| r.engine == "podman")
        .unwrap()
        .name
        .clone();
    let engines: Vec<String> = h
        .state()
        .state
        .inventory
        .rows
        .iter()
        .filter(|r| r.name == name)
        .map(|r| r.engine.clone())
        .collect();
    assert_eq!(engines, vec!["system".to_string(), "podman".to_string()]);

    // The engine filter.
    h.state_mut().state.inventory.filter.engine = Some("podman".into());
    h.state_mut().state.filter_changed();
    h.run_steps(2);
    assert_eq!(visible_names(&h).len(), 3);
    h.state_mut().state.inventory.filter.engine = None;
    h.state_mut().state.filter_changed();

    // A podman container opens with its own engine's findings.
    let podman_id = h
        .state()
        .state
        .inventory
        .rows
        .iter()
        .find(|r| r.engine == "podman")
        .unwrap()
        .key();
    h.state_mut().state.inventory.selected = Some(podman_id);
    h.run_steps(3);
    h.get_by_label_contains("· on podman");

    // The Images view lists every engine's images, each row naming its
    // engine; the engine filter keeps one engine's.
    h.state_mut().state.inventory.selected = None;
    h.state_mut().state.view = shipshape::app::View::Images;
    h.run_steps(3);
    let cells = |h: &Harness<'static, App>, engine: &str| h.query_all_by_label(engine).count();
    let (system_all, podman_all) = (cells(&h, "system"), cells(&h, "podman"));
    assert!(
        system_all >= 2 && podman_all >= 2,
        "rows of both engines: {system_all} system, {podman_all} podman"
    );
    h.state_mut().state.images.engine = Some("podman".into());
    h.run_steps(3);
    assert!(cells(&h, "system") < system_all, "only podman's rows");
    assert_eq!(cells(&h, "podman"), podman_all);
    h.state_mut().state.images.engine = None;
    h.state_mut().state.view = shipshape::app::View::Containers;
    h.run_steps(2);

    // One engine down: its banner, its rows kept, the other carries on.
    tx2.send(Event::Disconnected {
        reason: "connection refused".into(),
        retry_in: Duration::from_secs(5),
    })
    .unwrap();
    h.run_steps(3);
    h.get_by_label("Cannot reach engine podman");
    h.get_by_label("1 of 2 engines connected, 1 unreachable");
    assert_eq!(
        h.state().state.inventory.rows.len(),
        total,
        "nothing is dropped"
    );
    assert!(h.query_by_label("Cannot reach engine system").is_none());

    // The Engine view lists both.
    h.state_mut().state.view = shipshape::app::View::Engine;
    h.run_steps(3);
    h.get_by_label("Engines");
    h.get_by_label("podman");
    h.get_by_label_contains("down: connection refused");
}

/// A window watching the system engine and one more, with a sender each.
fn two_engines(
    second: &str,
) -> (
    Harness<'static, App>,
    UnboundedSender<Event>,
    UnboundedSender<Event>,
) {
    let (tx1, rx1) = unbounded_channel();
    let (tx2, rx2) = unbounded_channel();
    let app = App::from_channels(
        Mode::Live,
        ("system".into(), rx1),
        vec![(second.into(), rx2)],
        Settings::default(),
    );
    (build(app), tx1, tx2)
}

/// The same engine reached two ways (same `/info` ID and data root) is shown once.
#[test]
fn the_same_engine_twice_is_shown_once() {
    let (mut h, tx1, tx2) = two_engines("ctx-local");
    tx1.send(connected()).unwrap();
    tx1.send(Event::Snapshot(demo_snapshot())).unwrap();
    tx2.send(connected()).unwrap();
    tx2.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(4);
    let n = demo::inventory().unwrap().containers.len();
    assert_eq!(h.state().state.inventory.rows.len(), n);
    assert_eq!(
        h.state().state.engines[1].duplicate_of.as_deref(),
        Some("system")
    );
    h.get_by_label("1 of 1 engines connected");
}

/// Two engines that share an `/info` ID (a copied engine-id or key file, a
/// cloned VM) but keep their data in different roots are two engines: both
/// are shown. Before, the second was hidden as a duplicate of the first.
#[test]
fn two_engines_sharing_an_id_are_two_engines() {
    let (mut h, tx1, tx2) = two_engines("clone");
    tx1.send(connected()).unwrap();
    tx1.send(Event::Snapshot(demo_snapshot())).unwrap();
    let Event::Connected {
        found_by,
        api_version,
        mut engine,
        ..
    } = connected()
    else {
        unreachable!()
    };
    engine.root = "/srv/docker-clone".into();
    tx2.send(Event::Connected {
        found_by,
        endpoint: "unix:///run/clone/docker.sock".into(),
        api_version,
        engine,
    })
    .unwrap();
    tx2.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(4);
    assert_eq!(h.state().state.engines[1].duplicate_of, None);
    h.get_by_label("2 of 2 engines connected");
}

/// The engine list in Settings: add, rename, disable, remove; "Watch these
/// engines now" is the user's choice, and only in live mode.
#[test]
fn settings_keep_a_list_of_engines() {
    let (mut h, _tx) = loaded(Mode::Live);
    h.state_mut().state.dialogs.show_settings = true;
    h.run_steps(2);
    h.get_by_label("Add an engine").click();
    h.run_steps(2);
    h.get_by_label("Add an engine").click();
    h.run_steps(2);
    assert_eq!(h.state().state.settings.engines.len(), 2);
    {
        let s = &mut h.state_mut().state.settings.engines;
        s[0].name = "laptop".into();
        s[1].enabled = false;
    }
    h.run_steps(2);
    h.get_by_label("Watch these engines and clusters now");
    // The kubeconfig's contexts: none ticked until the user ticks one.
    h.state_mut().state.found_contexts = vec!["kind-dev".into(), "prod".into()];
    h.run_steps(2);
    assert!(h.state().state.settings.kube_contexts.is_empty());
    h.get_by_label("kind-dev").click();
    h.run_steps(2);
    assert_eq!(h.state().state.settings.kube_contexts, ["kind-dev"]);
    h.get_all_by_label("Remove").next().unwrap().click();
    h.run_steps(2);
    let names: Vec<String> = h
        .state()
        .state
        .settings
        .engines
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(names, ["engine-2"]);
}

/// Issue 13: the window tells the workers which containers it shows — the
/// selected one first, then the rows on screen — so those stream live; a
/// sampled container's CPU is marked as such.
#[test]
fn the_window_sends_its_focus_and_marks_sampled_figures() {
    use shipshape::watch::messages::Command;
    let (mut h, tx, mut cmd_rx) = harness_with_commands();
    let mut inventory = shipshape::watch::demo::inventory().unwrap();
    inventory.containers.truncate(6);
    for c in &mut inventory.containers {
        c.state = shipshape::model::ContainerState::Running;
    }
    let ids: Vec<String> = inventory.containers.iter().map(|c| c.id.clone()).collect();
    let a = shipshape::assess::assess(&inventory, &Policy::default(), chrono::Utc::now());
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment: a,
        taken_at: Some(chrono::Utc::now()),
    })))
    .unwrap();
    h.run_steps(3);
    let mut last = None;
    while let Ok(c) = cmd_rx.try_recv() {
        if let Command::Focus(f) = c {
            last = Some(f);
        }
    }
    let shown = last.expect("a focus update once the rows are drawn");
    let mut sorted = shown.clone();
    sorted.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(sorted, all, "every row is on screen");
    // Select one: it comes first; nothing is sent again while it stays.
    let pick = h.state().state.inventory.rows[3].id.clone();
    h.state_mut().state.inventory.selected = Some(h.state().state.inventory.rows[3].key());
    h.run_steps(2);
    let mut focus = Vec::new();
    while let Ok(c) = cmd_rx.try_recv() {
        if let Command::Focus(f) = c {
            focus.push(f);
        }
    }
    assert_eq!(focus.len(), 1, "one update for one change: {focus:?}");
    assert_eq!(focus[0][0], pick);
    assert_eq!(focus[0].len(), ids.len());
    // A sampled reading is marked in the table; a streamed one is not.
    let point = shipshape::model::stats::StatsPoint {
        t: 1.0,
        cpu_pct: 12.5,
        mem_bytes: 1.0e6,
        mem_limit: 0.0,
        net_rx_bps: 0.0,
        net_tx_bps: 0.0,
        blk_read_bps: 0.0,
        blk_write_bps: 0.0,
        pids: 1.0,
    };
    tx.send(Event::Sampled {
        id: ids[0].clone(),
        point,
    })
    .unwrap();
    h.run_steps(2);
    assert!(h.query_by_label("12.5% ≈").is_some(), "sampled: marked");
    tx.send(Event::Stats {
        id: ids[0].clone(),
        point,
    })
    .unwrap();
    h.run_steps(2);
    assert!(h.query_by_label("12.5% ≈").is_none());
    assert!(h.query_by_label("12.5%").is_some(), "streamed: plain");
}

/// Issue 12: the window opens on the Overview — a card per rule with what
/// breaks it and the worst offenders, the seven threats, the posture chart
/// from the audit log; a card opens the inventory filtered to its rule, a
/// threat to its findings, "What is this?" the rule's explanation.
#[test]
fn the_overview_shows_the_eight_rules_and_opens_the_inventory_on_one() {
    use shipshape::app::View;
    use shipshape::model::SeedRule;
    let (tx, rx) = unbounded_channel();
    let app = App::from_channel(Mode::Demo, rx, Settings::default());
    let mut h = build_on(app, View::Overview);
    h.run_steps(2);
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    for seed in SeedRule::ALL {
        h.get_by_label(&format!("{} · {}", seed.number(), seed.title()));
    }
    h.get_by_label("How you stand on the eight rules");
    h.get_by_label("The seven threats");
    for t in shipshape::model::Threat::ALL {
        h.get_by_label(t.title());
    }
    let lp = h
        .state()
        .state
        .overview
        .current
        .as_ref()
        .unwrap()
        .rule(SeedRule::LeastPrivilege)
        .clone();
    assert!(lp.containers >= 5, "the lab breaks least privilege");
    assert_eq!(lp.top.len(), 3);
    // Its worst offender is a link to its risk panel.
    let worst = &lp.top[0];
    assert_eq!(lp.worst(), Some(worst.worst));
    assert!(
        h.query_all_by_label_contains(&format!("{} ({})", worst.name, worst.score))
            .count()
            >= 1
    );

    // The explanation, with the lab's containers that show it.
    let explain: Vec<_> = h.get_all_by_label("What is this?").collect();
    assert_eq!(explain.len(), 8);
    explain[3].click(); // rule 4
    h.run_steps(2);
    assert_eq!(
        h.state().state.overview.explain,
        Some(SeedRule::LeastPrivilege)
    );
    h.get_by_label("What it asks");
    h.get_by_label("How an attacker uses its absence");
    h.get_by_label("Lab containers that show it");
    h.get_by_label(SeedRule::LeastPrivilege.asks());

    // A card opens the inventory showing exactly the containers that
    // break its rule.
    h.state_mut()
        .state
        .show_in_inventory(Some(SeedRule::LeastPrivilege), None);
    h.run_steps(2);
    assert_eq!(h.state().state.view, View::Containers);
    assert_eq!(visible_names(&h).len(), lp.containers);
    // And a threat to the containers its findings feed.
    let dos = h.state().state.overview.current.as_ref().unwrap().threats[4].clone();
    assert_eq!(dos.threat, shipshape::model::Threat::ContainerDos);
    h.state_mut().state.view = View::Overview;
    h.state_mut().state.overview.explain = None;
    h.run_steps(2);
    h.get_by_label("Container denial of service").click();
    h.run_steps(2);
    assert_eq!(h.state().state.view, View::Containers);
    assert_eq!(visible_names(&h).len(), dos.containers);

    // The demo lab has no history to chart, and says so.
    h.state_mut().state.view = View::Overview;
    h.run_steps(2);
    h.get_by_label_contains("The demo lab has no history");
}

/// The change on each card is counted against the session's start, or the
/// baseline once one is loaded.
#[test]
fn overview_cards_say_what_changed_since_the_session_started() {
    use shipshape::app::View;
    let (tx, rx) = unbounded_channel();
    let app = App::from_channel(Mode::Live, rx, Settings::default());
    let mut h = build_on(app, View::Overview);
    h.run_steps(2);
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    assert!(
        h.query_all_by_label("no change since the session started")
            .count()
            >= 4
    );
    // Half the containers go away: least privilege is broken by fewer.
    let mut inventory = demo::inventory().unwrap();
    let before = inventory.containers.len();
    inventory.containers.truncate(before / 2);
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    h.run_steps(3);
    let o = &h.state().state.overview;
    let (first, now) = (
        o.first
            .as_ref()
            .unwrap()
            .rule(shipshape::model::SeedRule::LeastPrivilege)
            .breaking(),
        o.current
            .as_ref()
            .unwrap()
            .rule(shipshape::model::SeedRule::LeastPrivilege)
            .breaking(),
    );
    assert!(now < first, "{now} < {first}");
    let change = format!("{} since the session started", now as i64 - first as i64);
    assert!(h.query_all_by_label(&change).count() >= 1, "{change}");
    // The posture chart from the audit log's scan records.
    let t0 = chrono::Utc::now() - chrono::Duration::hours(5);
    let point = |h: i64, high: usize| shipshape::model::PosturePoint {
        t: t0 + chrono::Duration::hours(h),
        engine: String::new(),
        findings: shipshape::model::SeverityCounts {
            high,
            ..Default::default()
        },
        risk: Some(high as u64 * 10),
    };
    tx.send(Event::Posture(vec![point(0, 9), point(2, 7), point(4, 3)]))
        .unwrap();
    h.run_steps(3);
    h.get_by_label("Active findings and total risk per hour, from 3 records of the audit log");
}

/// Issue 12: Ctrl+K opens the command palette; typing narrows it to a
/// container, an image, a rule, a CVE search, a view or an action; Enter
/// runs the chosen entry, Esc closes it.
#[test]
fn the_command_palette_jumps_to_anything() {
    use shipshape::app::View;
    let (mut h, tx, mut cmd_rx) = harness_with_commands();
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    let open = |h: &mut Harness<'static, App>| {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
        h.run_steps(2);
    };
    let type_in = |h: &mut Harness<'static, App>, text: &str| {
        // The palette's field has the keyboard focus.
        h.get_by(|n| n.role() == egui::accesskit::Role::TextInput && n.is_focused())
            .type_text(text);
        h.run_steps(2);
    };
    // A container by part of its name: Enter opens its risk panel.
    open(&mut h);
    assert!(h.state().state.palette.is_some(), "Ctrl+K opens it");
    h.get_by_label("Go to Overview");
    let rows = h.state().state.inventory.rows.clone();
    let target = rows
        .iter()
        .find(|r| {
            rows.iter()
                .filter(|o| o.name.contains(&r.name) || o.image.contains(&r.name))
                .count()
                == 1
        })
        .unwrap()
        .clone();
    type_in(&mut h, &target.name);
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert!(h.state().state.palette.is_none(), "Enter runs and closes");
    assert_eq!(h.state().state.view, View::Containers);
    assert_eq!(h.state().state.inventory.selected, Some(target.key()));

    // A rule: the inventory filtered to the containers that raise it.
    open(&mut h);
    assert!(h.state().state.palette.is_some(), "open again");
    type_in(&mut h, "container.privileged");
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    let names = visible_names(&h);
    assert!(
        !names.is_empty(),
        "{:?} {:?}",
        h.state().state.inventory.filter,
        h.state().state.view
    );
    let privileged: Vec<String> = h
        .state()
        .state
        .inventory
        .rows
        .iter()
        .filter(|r| names.contains(&r.name))
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(privileged.len(), names.len());
    assert!(
        names.iter().all(|n| {
            let snap = demo_snapshot();
            let c = snap
                .inventory
                .containers
                .iter()
                .find(|c| &c.name == n)
                .unwrap();
            snap.assessment
                .container(&c.id)
                .unwrap()
                .findings
                .iter()
                .any(|f| f.rule_id == "container.privileged")
        }),
        "only containers that raise it: {names:?}"
    );

    // A CVE id: the Images view searching for it.
    open(&mut h);
    type_in(&mut h, "CVE-2024-0727");
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert_eq!(h.state().state.view, View::Images);
    assert_eq!(h.state().state.images.search, "CVE-2024-0727");

    // An action: ↓ chooses, Enter runs; "refresh" asks the worker.
    open(&mut h);
    type_in(&mut h, "refresh");
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert!(matches!(
        next_command(&mut cmd_rx),
        Ok(shipshape::watch::messages::Command::Refresh)
    ));
    // A theme, by keyboard only: "theme", ↓ to the second, Enter.
    open(&mut h);
    type_in(&mut h, "theme");
    h.key_press(egui::Key::ArrowDown);
    h.key_press(egui::Key::Enter);
    h.run_steps(2);
    assert_eq!(
        h.state().state.settings.theme,
        shipshape::settings::ThemeChoice::Light
    );
    // Esc closes without running anything.
    open(&mut h);
    type_in(&mut h, "Go to Engine");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(h.state().state.palette.is_none());
    assert_ne!(h.state().state.view, View::Engine);
}

/// The roles of the controls a person uses: what must have a name, and
/// what Tab must reach.
fn is_control(role: egui::accesskit::Role) -> bool {
    use egui::accesskit::Role;
    matches!(
        role,
        Role::Button
            | Role::CheckBox
            | Role::ComboBox
            | Role::TextInput
            | Role::Link
            | Role::Tab
            | Role::RadioButton
            | Role::Slider
            | Role::SpinButton
    )
}

/// Issue 12: every interactive control has an accessible name. Walks the
/// AccessKit tree of every view (a container's panel on each tab, an image
/// open, the Settings and Export windows, the palette) and fails on a
/// button, check box, combo box, text field, link or tab without one.
#[test]
fn every_control_has_an_accessible_name() {
    use egui_kittest::kittest::NodeT;
    use shipshape::app::{DetailTab, View};
    let (mut h, tx) = harness(Mode::Live);
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    let mut unnamed: Vec<String> = Vec::new();
    let mut walk = |h: &mut Harness<'static, App>, place: &str| {
        h.run_steps(3);
        for n in h.root().children_recursive() {
            let a = n.accesskit_node();
            let interactive = is_control(a.role());
            if interactive && !a.is_hidden() && a.label().is_none_or(|l| l.trim().is_empty()) {
                unnamed.push(format!("{place}: {:?} at {:?}", a.role(), n.rect()));
            }
        }
    };
    let first = h.state().state.inventory.rows[0].key();
    for view in [
        View::Overview,
        View::Containers,
        View::Activity,
        View::Engine,
    ] {
        h.state_mut().state.view = view;
        walk(&mut h, &format!("{view:?}"));
    }
    h.state_mut().state.view = View::Containers;
    h.state_mut().state.inventory.selected = Some(first);
    for tab in [
        DetailTab::Risk,
        DetailTab::Facts,
        DetailTab::Charts,
        DetailTab::Activity,
    ] {
        h.state_mut().state.detail_tab = tab;
        walk(&mut h, &format!("panel {tab:?}"));
    }
    h.state_mut().state.view = View::Images;
    let image = demo_snapshot().inventory.images[0].id.clone();
    h.state_mut().state.images.selected = Some((String::new(), image));
    walk(&mut h, "Images with one open");
    h.state_mut().state.dialogs.show_settings = true;
    walk(&mut h, "Settings");
    h.state_mut().state.dialogs.show_settings = false;
    h.state_mut().state.dialogs.show_export = true;
    walk(&mut h, "Export");
    h.state_mut().state.dialogs.show_export = false;
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::K);
    walk(&mut h, "palette");
    assert!(
        unnamed.is_empty(),
        "controls without a name:\n{}",
        unnamed.join("\n")
    );
}

/// Issue 12: keyboard-only use reaches every control. In every view, a
/// container's panel on each tab, and the Settings and Export windows, Tab alone takes
/// the focus once round every button, check box, combo box, text field,
/// link and tab on screen (Enter or Space then uses it). The palette's
/// views and actions are tested on their own
/// (`the_command_palette_jumps_to_anything`).
#[test]
fn tab_reaches_every_control_of_every_view() {
    use egui_kittest::kittest::NodeT;
    use shipshape::app::{DetailTab, View};
    use std::collections::BTreeSet;
    let (mut h, tx) = harness(Mode::Live);
    tx.send(connected()).unwrap();
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    let mut missed: Vec<String> = Vec::new();
    let mut walk = |h: &mut Harness<'static, App>, place: &str| {
        h.run_steps(3);
        // The controls on screen, by role and name.
        let controls: BTreeSet<(String, String)> = h
            .root()
            .children_recursive()
            .filter(|n| {
                let a = n.accesskit_node();
                !a.is_hidden() && is_control(a.role())
            })
            .map(|n| {
                let a = n.accesskit_node();
                (format!("{:?}", a.role()), a.label().unwrap_or_default())
            })
            .collect();
        // Tab until the focus comes back to where it started: once round
        // the whole cycle (rows and cells are in it too).
        let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
        let mut first = None;
        for _ in 0..3000 {
            h.key_press(egui::Key::Tab);
            h.run_steps(1);
            let Some(n) = h.root().children_recursive().find(|n| n.is_focused()) else {
                continue;
            };
            let a = n.accesskit_node();
            if first == Some(a.id()) {
                break;
            }
            first.get_or_insert(a.id());
            reached.insert((format!("{:?}", a.role()), a.label().unwrap_or_default()));
        }
        for c in controls.difference(&reached) {
            missed.push(format!("{place}: {} {:?}", c.0, c.1));
        }
        // Leave no focus behind for the next place.
        h.key_press(egui::Key::Escape);
        h.run_steps(1);
    };
    let first = h.state().state.inventory.rows[0].key();
    for view in [
        View::Overview,
        View::Containers,
        View::Activity,
        View::Engine,
    ] {
        h.state_mut().state.view = view;
        walk(&mut h, &format!("{view:?}"));
    }
    h.state_mut().state.view = View::Containers;
    h.state_mut().state.inventory.selected = Some(first);
    for tab in [DetailTab::Risk, DetailTab::Facts, DetailTab::Activity] {
        h.state_mut().state.detail_tab = tab;
        walk(&mut h, &format!("panel {tab:?}"));
    }
    h.state_mut().state.inventory.selected = None;
    h.state_mut().state.view = View::Images;
    walk(&mut h, "Images");
    h.state_mut().state.dialogs.show_settings = true;
    walk(&mut h, "Settings");
    h.state_mut().state.dialogs.show_settings = false;
    h.state_mut().state.dialogs.show_export = true;
    walk(&mut h, "Export");
    h.state_mut().state.dialogs.show_export = false;
    assert!(
        missed.is_empty(),
        "not reachable with Tab:\n{}",
        missed.join("\n")
    );
}

/// Issue 26: at launch the image reads finish after the first assessment,
/// and the rule 1 card said "+63 since the session started" for
/// vulnerabilities that were there all along. Each container and image now
/// counts from the first assessment that has it complete; what changes
/// after that still counts.
#[test]
fn the_session_starts_when_the_image_reads_are_in() {
    let (mut h, tx) = harness(Mode::Live);
    h.state_mut().state.view = shipshape::app::View::Overview;
    tx.send(connected()).unwrap();
    // The first picture: settings read, image packages not yet.
    let mut inventory = demo::inventory().unwrap();
    for img in &mut inventory.images {
        img.vulns = Arc::new(shipshape::model::packages::VulnState::NotScanned);
        img.special_files = Default::default();
    }
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    h.run_steps(3);
    let rule1 = |o: &Option<shipshape::report::overview::Overview>| {
        o.as_ref()
            .unwrap()
            .rule(shipshape::model::SeedRule::VulnerabilityManagement)
            .counts
    };
    let before = rule1(&h.state().state.overview.current);
    // The reads come in: many more rule 1 findings, and no change since
    // the session started.
    tx.send(Event::Snapshot(demo_snapshot())).unwrap();
    h.run_steps(3);
    let o = &h.state().state.overview;
    assert!(
        rule1(&o.current).total() > before.total(),
        "the reads added findings"
    );
    assert_eq!(rule1(&o.first), rule1(&o.current));
    assert_eq!(
        h.query_all_by_label("no change since the session started")
            .count(),
        8,
        "every card: no change"
    );
    // A container that arrives later is a change.
    let mut inventory = demo::inventory().unwrap();
    let mut extra = inventory.containers[0].clone();
    extra.id = "f".repeat(64);
    extra.name = "lab-late-arrival".into();
    inventory.containers.push(extra);
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    h.run_steps(3);
    assert!(
        h.query_all_by_label("+1 since the session started").count() >= 1,
        "the late container is a change"
    );
}

/// An image's build history is shown with secret values hidden: the demo's
/// leaky image has `ENV API_TOKEN=…` in a layer. Before, the image panel
/// printed the step, value and all.
#[test]
fn build_history_hides_secret_values() {
    let (mut h, _tx) = loaded(Mode::Demo);
    h.state_mut().state.view = shipshape::app::View::Images;
    // Tall enough that the whole panel, history last, is laid out.
    h.set_size(egui::vec2(1400.0, 4000.0));
    h.run_steps(2);
    h.get_by_label("shipshape-test/leaky:1").click();
    h.run_steps(3);
    h.get_by_label("Build history (newest first)");
    assert!(
        h.query_all_by_label_contains("ENV API_TOKEN=<hidden>")
            .count()
            >= 1,
        "the step is shown, its value hidden"
    );
    assert_eq!(
        h.query_all_by_label_contains("shipshape-image-token-value")
            .count(),
        0,
        "no secret value in any label"
    );
}

/// Issue 24: the image panel saves the same bill of materials as
/// `shipshape sbom`, and says where.
#[test]
fn the_image_panel_saves_a_bill_of_materials() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("api.cdx.json");
    let (mut h, _tx) = harness_with_picker(&rt, out.clone(), None);
    let snap = demo_snapshot();
    let img = snap
        .inventory
        .images
        .iter()
        .find(|i| {
            i.packages
                .as_ref()
                .is_some_and(|p| p.packages.iter().any(|p| p.name == "lodash"))
        })
        .expect("the lab's api image carries npm packages");
    let label = h.state().state.labelled_snapshots()[0].0.clone();
    h.state_mut().state.view = shipshape::app::View::Images;
    h.state_mut().state.images.selected = Some((label, img.id.clone()));
    h.run_steps(2);
    h.get_by_label("CycloneDX…").click();
    h.run_steps(1);
    step_until(&mut h, "the bill to be written", |app| {
        !app.state.dialogs.export_running
    });
    h.run_steps(1);
    h.get_by_label_contains(&format!("saved to {}", out.display()));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(doc["specVersion"], "1.6");
    let purls: Vec<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    assert_eq!(purls.len(), img.packages.as_ref().unwrap().packages.len());
    assert!(
        purls.iter().any(|p| p.starts_with("pkg:npm/lodash@")),
        "{purls:?}"
    );
    let ids: std::collections::BTreeSet<&str> = doc["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let expected: std::collections::BTreeSet<&str> = img
        .vulns
        .vulnerabilities()
        .iter()
        .map(|v| v.id.as_str())
        .collect();
    assert_eq!(ids, expected);
    assert!(!ids.is_empty());
}

/// Containers Compose created are grouped by project and service: a
/// Project column (`shop/api`, a second replica `#2`) and a filter by
/// project; the others keep an empty cell and leave with the filter.
#[test]
fn compose_projects_have_a_column_and_a_filter() {
    let mut inventory = demo::inventory().unwrap();
    let label = |c: &mut shipshape::model::Container, project: &str, service: &str, n: &str| {
        for (k, v) in [
            ("com.docker.compose.project", project),
            ("com.docker.compose.service", service),
            ("com.docker.compose.container-number", n),
            ("com.docker.compose.project.working_dir", "/home/dev/shop"),
            ("com.docker.compose.project.config_files", "compose.yaml"),
        ] {
            c.labels.insert(k.into(), v.into());
        }
    };
    let names: Vec<String> = inventory
        .containers
        .iter()
        .map(|c| c.name.clone())
        .collect();
    for c in &mut inventory.containers {
        match c.name.as_str() {
            "lab-postgres" => label(c, "shop", "db", "1"),
            "lab-web-frontend" => label(c, "shop", "web", "2"),
            "lab-ci-runner" => label(c, "ci", "runner", "1"),
            _ => {}
        }
    }
    assert!(names.len() > 3);
    let (mut h, tx) = harness(Mode::Live);
    tx.send(connected()).unwrap();
    let now = chrono::Utc::now();
    let assessment = shipshape::assess::assess(&inventory, &Policy::default(), now);
    tx.send(Event::Snapshot(Arc::new(Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    })))
    .unwrap();
    h.run_steps(3);
    // The filter's label and the column's heading.
    assert_eq!(h.query_all_by_label("Project").count(), 2);
    h.get_by_label("shop/web #2");
    h.get_by_label("ci/runner");
    assert_eq!(h.state().state.project_names(), ["ci", "shop"]);
    h.state_mut().state.inventory.filter.project = Some("shop".into());
    h.state_mut().state.filter_changed();
    h.run_steps(1);
    let mut shown = visible_names(&h);
    shown.sort();
    assert_eq!(shown, ["lab-postgres", "lab-web-frontend"]);
}
