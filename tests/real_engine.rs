//! Scans of a real Docker engine: containers with risky settings (one or
//! more per container check), a created-but-never-started privileged
//! container, a hardened container, and the images they use.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use shipshape::assess::{Assessment, assess};
use shipshape::model::{ContainerState, Inventory, Severity};
use shipshape::policy::Policy;
use shipshape::sources::docker::{Engine, EngineError, EnvSnapshot, scan};

fn connect(rt: &tokio::runtime::Runtime) -> Engine {
    rt.block_on(Engine::discover_and_connect(
        Some("unix:///var/run/docker.sock"),
        &EnvSnapshot::from_process(),
    ))
    .expect("connect to the test engine")
}

fn scan_now(rt: &tokio::runtime::Runtime, engine: &Engine) -> (Inventory, Assessment) {
    let inv = rt
        .block_on(scan::snapshot(engine, &EnvSnapshot::from_process()))
        .expect("snapshot");
    let a = assess(&inv, &Policy::default(), chrono::Utc::now());
    (inv, a)
}

/// What a plain `docker create <base:1>` gets flagged for (the list the
/// rule docs' score examples use), plus `add`, less `remove`.
fn expect(add: &[&str], remove: &[&str]) -> BTreeSet<String> {
    shipshape::rules::docs::DEFAULT_CONTAINER
        .iter()
        .map(|(id, _)| id)
        .chain(add)
        .filter(|r| !remove.contains(r))
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn scan_reports_exactly_the_risky_settings_of_each_container() {
    let _serial = serial();
    let mut fx = Fixture::new("scan");
    let dir = fx.tmp.path().to_path_buf();
    std::fs::create_dir_all(dir.join(".ssh")).unwrap();
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    let ssh = format!("{}:/keys:ro", dir.join(".ssh").display());
    let shared = format!(
        "type=bind,src={},dst=/shared,bind-propagation=rshared",
        dir.join("shared").display()
    );
    let net = fx.network("net");
    let hardened_id = image_id(HARDENED);

    let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |name: String, rules: BTreeSet<String>| {
        want.insert(name, rules);
    };

    // Never started, and still the most dangerous thing on the machine.
    add(
        fx.create("privileged", &["--privileged", BASE_LATEST]),
        expect(&["container.privileged"], &[]),
    );
    add(
        fx.create(
            "caps",
            &[
                "--cap-add",
                "SYS_ADMIN",
                "--cap-add",
                "NET_ADMIN",
                "--cap-add",
                "AUDIT_CONTROL",
                "--cap-add",
                "CHOWN",
                BASE,
            ],
        ),
        expect(&["container.cap-add"], &[]),
    );
    add(
        fx.create(
            "mounts",
            &[
                "-v",
                "/etc:/host-etc:ro",
                "-v",
                "/:/hostroot",
                "-v",
                "/var/run/docker.sock:/var/run/docker.sock",
                "-v",
                &ssh,
                "--mount",
                &shared,
                BASE,
            ],
        ),
        expect(
            &[
                "container.sensitive-mount",
                "container.engine-socket",
                "container.sensitive-mount-extra",
                "container.shared-propagation",
            ],
            &[],
        ),
    );
    add(
        fx.run(
            "hostns",
            &[
                "--network",
                "host",
                "--pid",
                "host",
                "--ipc",
                "host",
                "--uts",
                "host",
                "--userns",
                "host",
                BASE,
            ],
        ),
        expect(
            &[
                "container.host-network",
                "container.host-pid",
                "container.host-ipc",
                "container.host-uts",
                "container.host-userns",
            ],
            &["container.default-bridge"],
        ),
    );
    add(
        fx.create(
            "ports",
            &["-p", "80:8080", "-p", "127.0.0.1:8443:8443", BASE],
        ),
        expect(
            &[
                "container.privileged-port",
                "container.published-ports",
                "container.port-all-interfaces",
            ],
            &[],
        ),
    );
    add(
        fx.create(
            "seccomp",
            &[
                "--security-opt",
                "seccomp=unconfined",
                "--device",
                "/dev/null:/dev/xnull",
                "--cgroup-parent",
                "/ssit",
                "--restart",
                "always",
                BASE,
            ],
        ),
        expect(
            &[
                "container.seccomp-unconfined",
                "container.host-devices",
                "container.cgroup-parent",
                "container.restart-policy",
            ],
            &[],
        ),
    );
    add(
        fx.create(
            "secrets",
            &[
                "-e",
                "DB_PASSWORD=ssit-db-password-value",
                "-e",
                "DEPLOY=ghp_0123456789abcdefghijABCDEFGHIJ012345",
                "-e",
                "AWS_SECRET_ACCESS_KEY=ssit-aws-secret-value",
                "-e",
                "PLAIN=hello",
                BASE,
            ],
        ),
        expect(&["container.secret-env"], &[]),
    );
    let owner = fx.run("owner", &[BASE]);
    add(owner.clone(), expect(&[], &[]));
    add(
        fx.create(
            "joined",
            &[
                "--network",
                &format!("container:{owner}"),
                "--pid",
                &format!("container:{owner}"),
                BASE,
            ],
        ),
        expect(
            &["container.joins-namespace"],
            &["container.default-bridge"],
        ),
    );
    add(
        fx.run("sshd", &[BASE, "/usr/sbin/sshd"]),
        expect(&["container.sshd"], &[]),
    );
    add(
        fx.create("restart", &["--restart", "on-failure:10", BASE]),
        expect(&["container.restart-policy"], &[]),
    );
    // The image's own secret (API_TOKEN) is reported on the image, not here.
    add(fx.create("leaky", &[LEAKY]), expect(&[], &[]));
    let stale_ref = fx.tag(BASE, "stale:1");
    add(
        fx.create("stale", &[&stale_ref]),
        expect(&["container.stale-image"], &[]),
    );
    fx.tag(HARDENED, "stale:1"); // the tag moves on; the container does not
    let exited = fx.run("exited", &[BASE, "true"]);
    add(exited.clone(), expect(&[], &[]));
    let paused = fx.run("paused", &[BASE]);
    docker(&["pause", &paused]);
    add(paused.clone(), expect(&[], &[]));
    add(
        fx.run(
            "hardened",
            &[
                "--read-only",
                "--user",
                "10001:10001",
                "--memory",
                "64m",
                "--cpus",
                "0.5",
                "--pids-limit",
                "64",
                "--security-opt",
                "no-new-privileges",
                "--cap-drop",
                "ALL",
                "--network",
                &net,
                "--restart",
                "on-failure:3",
                "--log-opt",
                "max-size=10m",
                &hardened_id,
            ],
        ),
        BTreeSet::new(),
    );
    wait_state(&exited, "exited");

    let rt = runtime();
    let engine = connect(&rt);
    let (inv, a) = scan_now(&rt, &engine);

    // Every container is there, with its real state.
    let states: BTreeMap<&str, ContainerState> = inv
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect();
    assert_eq!(
        states[fx.name("privileged").as_str()],
        ContainerState::Created
    );
    assert_eq!(states[fx.name("hostns").as_str()], ContainerState::Running);
    assert_eq!(states[exited.as_str()], ContainerState::Exited);
    assert_eq!(states[paused.as_str()], ContainerState::Paused);

    // What depends on the engine's own configuration, measured.
    let facts = engine_facts();
    for set in want.values_mut() {
        if facts.rotates_logs {
            set.remove("container.log-unbounded");
        }
    }
    if facts.sysadmin_is_takeover() {
        want.get_mut(&fx.name("caps"))
            .unwrap()
            .insert("container.host-takeover".into());
    }
    let mut mismatches = Vec::new();
    for (name, expected) in &want {
        let c = inv
            .containers
            .iter()
            .find(|c| &c.name == name)
            .unwrap_or_else(|| panic!("{name} missing from the scan"));
        let got: BTreeSet<String> = a
            .container(&c.id)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.rule_id.to_string())
            .collect();
        if &got != expected {
            mismatches.push(format!(
                "{name}:\n  missing {:?}\n  unexpected {:?}",
                expected.difference(&got).collect::<Vec<_>>(),
                got.difference(expected).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "findings differ:\n{}",
        mismatches.join("\n")
    );

    // Grading and evidence details.
    let findings = |short: &str| {
        let c = inv
            .containers
            .iter()
            .find(|c| c.name == fx.name(short))
            .unwrap();
        a.container(&c.id).unwrap().clone()
    };
    let caps = findings("caps");
    let cap_sev: Vec<(Severity, &str)> = caps
        .findings
        .iter()
        .filter(|f| f.rule_id == "container.cap-add")
        .map(|f| (f.severity, f.evidence.as_str()))
        .collect();
    assert_eq!(
        cap_sev.len(),
        3,
        "CHOWN is a default capability: {cap_sev:?}"
    );
    assert!(cap_sev.contains(&(Severity::High, "HostConfig.CapAdd includes SYS_ADMIN")));
    assert!(cap_sev.contains(&(Severity::Medium, "HostConfig.CapAdd includes AUDIT_CONTROL")));

    let privileged = findings("privileged");
    assert!(
        privileged.score >= 60,
        "a privileged container scores high: {}",
        privileged.score
    );
    let latest = privileged
        .findings
        .iter()
        .find(|f| f.rule_id == "container.mutable-image-ref")
        .unwrap();
    assert_eq!(
        latest.severity,
        Severity::Medium,
        "latest is graded worse than a version tag"
    );

    let mounts = findings("mounts");
    let sensitive: Vec<_> = mounts
        .findings
        .iter()
        .filter(|f| f.rule_id == "container.sensitive-mount")
        .collect();
    assert_eq!(sensitive.len(), 2);
    assert!(sensitive.iter().any(|f| f.severity == Severity::Critical
        && f.evidence.contains("host path / mounted read-write")));
    assert!(
        sensitive
            .iter()
            .any(|f| f.severity == Severity::High && f.evidence.contains("/etc mounted read-only"))
    );

    let secrets = findings("secrets");
    let secret_evidence: Vec<&str> = secrets
        .findings
        .iter()
        .filter(|f| f.rule_id == "container.secret-env")
        .map(|f| f.evidence.as_str())
        .collect();
    assert_eq!(secret_evidence.len(), 3, "{secret_evidence:?}");
    assert!(
        secret_evidence
            .iter()
            .any(|e| e.starts_with("env DEPLOY (value looks like a GitHub token"))
    );
    for value in [
        "ssit-db-password-value",
        "ghp_0123456789",
        "ssit-aws-secret-value",
    ] {
        assert!(
            !format!("{:?}", a).contains(value),
            "a secret value leaked into the assessment"
        );
    }

    let sshd = findings("sshd");
    assert!(
        sshd.findings
            .iter()
            .any(|f| f.rule_id == "container.sshd" && f.evidence.contains("/usr/sbin/sshd"))
    );

    let hardened = findings("hardened");
    assert_eq!(hardened.score, 0);

    // Images: exactly the build problems of the leaky image; the hardened
    // image is clean.
    let image_rules = |reference: &str| -> BTreeSet<String> {
        let img = inv
            .images
            .iter()
            .find(|i| i.tags.iter().any(|t| t == reference))
            .unwrap();
        a.image(&img.id)
            .iter()
            .map(|f| f.rule_id.to_string())
            .collect()
    };
    let leaky: BTreeSet<String> = [
        "image.secret-env",
        "image.add-instead-of-copy",
        "image.update-alone",
        "image.no-healthcheck",
        "image.root-user",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(image_rules(LEAKY), leaky);
    // Build steps that break integrity: the pipe into a shell and the
    // checks turned off, each naming its history step.
    let fetched = inv
        .images
        .iter()
        .find(|i| i.tags.iter().any(|t| t == FETCHED))
        .unwrap();
    let steps: Vec<(&str, &str)> = a
        .image(&fetched.id)
        .iter()
        .filter(|f| {
            f.rule_id == "image.unverified-download" || f.rule_id == "image.signature-checks-off"
        })
        .map(|f| (f.rule_id, f.evidence.as_str()))
        .collect();
    assert_eq!(
        steps.iter().map(|s| s.0).collect::<BTreeSet<_>>(),
        ["image.signature-checks-off", "image.unverified-download"].into(),
        "{steps:?}"
    );
    let has = |rule: &str, evidence: &str| {
        steps
            .iter()
            .any(|(r, e)| *r == rule && e.contains(evidence))
    };
    assert!(
        has(
            "image.unverified-download",
            "curl piped into sh, nothing verified — /bin/sh -c true || curl -fsSL http://get.example.invalid/install.sh | sh"
        ),
        "{steps:?}"
    );
    assert!(
        has(
            "image.signature-checks-off",
            "apk installs unsigned packages"
        ),
        "{steps:?}"
    );
    assert!(
        has("image.signature-checks-off", "Node.js TLS verification off"),
        "{steps:?}"
    );
    assert_eq!(steps.len(), 3, "one finding per step: {steps:?}");
    // The leaky image's steps break neither.
    assert!(!image_rules(LEAKY).contains("image.unverified-download"));
    assert_eq!(image_rules(HARDENED), BTreeSet::new());

    // Engine findings come once each, never per container.
    let engine_ids: Vec<&str> = a.engine.iter().map(|f| f.rule_id).collect();
    let unique: BTreeSet<&str> = engine_ids.iter().copied().collect();
    assert_eq!(
        unique.len(),
        engine_ids.len(),
        "an engine finding repeated: {engine_ids:?}"
    );
    assert!(engine_ids.iter().all(|id| id.starts_with("engine.")));
    if inv.engine.version.starts_with("20.10") && !inv.engine.security.apparmor {
        // The documented test engine (Debian 12's docker.io, defaults).
        let expected = [
            "engine.cgroupns-host-default",
            "engine.icc",
            "engine.no-authz-plugin",
            "engine.no-content-trust",
            "engine.no-daemon-no-new-privileges",
            "engine.no-live-restore",
            "engine.no-mac",
            "engine.no-userns",
            "engine.local-logging",
            "engine.not-rootless",
            "engine.old-version",
        ];
        assert_eq!(unique, expected.into_iter().collect::<BTreeSet<_>>());
        assert!(
            a.all()
                .all(|f| f.rule_id != "container.apparmor-unconfined"),
            "no AppArmor on this host: said once, as engine.no-mac"
        );
    }
}

#[test]
fn containers_removed_during_a_scan_are_skipped_not_fatal() {
    let _serial = serial();
    let mut fx = Fixture::new("churn");
    let names: Vec<String> = (0..40)
        .map(|i| fx.create(&format!("c{i}"), &[BASE]))
        .collect();
    let rt = runtime();
    let engine = connect(&rt);

    // Remove them while snapshots run.
    let remover = std::thread::spawn({
        let names = names.clone();
        move || {
            for chunk in names.chunks(4) {
                let mut args = vec!["rm", "-f"];
                args.extend(chunk.iter().map(String::as_str));
                docker_quiet(&args);
            }
        }
    });
    let mut scans = 0;
    while !remover.is_finished() || scans == 0 {
        let inv = rt
            .block_on(scan::snapshot(&engine, &EnvSnapshot::from_process()))
            .expect("a scan survives removals");
        for c in &inv.containers {
            assert!(
                !c.id.is_empty() && !c.name.is_empty(),
                "every listed container is fully inspected"
            );
        }
        scans += 1;
    }
    remover.join().unwrap();
    let gone = rt
        .block_on(engine.inspect_container(&names[0]))
        .unwrap_err();
    assert!(matches!(gone, EngineError::NotFound { .. }), "{gone}");
}

#[test]
fn scanning_only_reads() {
    let _serial = serial();
    let mut fx = Fixture::new("readonly");
    let running = fx.run("running", &[BASE]);
    fx.create("created", &["--privileged", BASE]);
    // Something for the drift check to read and stat.
    docker(&[
        "exec",
        &running,
        "sh",
        "-c",
        "echo x > /tmp/x && chmod +x /tmp/x",
    ]);
    let rt = runtime();
    let engine = connect(&rt);
    let before = docker(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}"]);
    let since = docker(&["version", "-f", "{{.Server.Os}}"]); // warm the CLI
    assert!(!since.is_empty());
    // `docker events` has one-second resolution: start the window at the
    // next full second, after everything the fixture did.
    let start = chrono::Utc::now().timestamp() + 1;
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (inv, _) = scan_now(&rt, &engine);
    // The drift check too: GET /changes and HEAD …/archive (a stat) — the
    // engine's way (no data root: the writable layer is not read).
    let targets: Vec<_> = inv
        .containers
        .iter()
        .filter(|c| c.state == ContainerState::Running && c.name.starts_with(&fx.prefix))
        .map(|c| shipshape::sources::docker::drift::Target::of(c, ""))
        .collect();
    let drift = rt.block_on(shipshape::sources::docker::drift::pass(
        &engine,
        targets,
        |_, _| {},
    ));
    let d = drift[0].1.as_ref().expect("drift read");
    assert!(
        d.items.iter().any(|i| i.path == "/tmp/x"),
        "the stat ran: {d:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let end = chrono::Utc::now().timestamp();
    let events = docker(&[
        "events",
        "--since",
        &start.to_string(),
        "--until",
        &end.to_string(),
        "--format",
        "{{.Type}} {{.Action}} {{index .Actor.Attributes \"name\"}}",
    ]);
    // Judge what happened to this test's containers, and to images,
    // networks and volumes; other containers on a shared engine may have
    // their own life (healthchecks, restarts).
    let mut tops = 0;
    for line in events.lines().filter(|l| !l.is_empty()) {
        if line.starts_with("container ") && !line.contains(&fx.prefix) {
            continue;
        }
        if line.starts_with("container top") {
            tops += 1;
            continue;
        }
        panic!("the scan caused an engine event other than a read: {line}");
    }
    // Its processes were read: from /proc on this machine (no event), or
    // through the engine's `top` (a `container top` event, a read).
    let listed = inv
        .containers
        .iter()
        .find(|c| c.name == running)
        .and_then(|c| c.processes.as_ref())
        .is_some_and(|p| !p.is_empty());
    assert!(
        listed || tops >= 1,
        "the running container's processes were read: {events}"
    );
    let after = docker(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}"]);
    // Status strings carry "Up N seconds"; compare ids and the state word.
    let shape = |s: &str| -> Vec<String> {
        let mut v: Vec<String> = s
            .lines()
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    assert_eq!(shape(&before), shape(&after));
}

/// `shipshape scan` (the CI command) sees exec sessions that are running
/// and drift, reports them with their evidence, and marks a read-only
/// container as protected.
#[test]
fn scan_reports_running_exec_sessions_and_drift() {
    let _g = serial();
    let mut fx = Fixture::new("scandrift");
    let app = fx.run("app", &[BASE, "sleep", "600"]);
    let ro = fx.run("ro", &["--read-only", BASE, "sleep", "600"]);
    docker(&[
        "exec",
        &app,
        "sh",
        "-c",
        "mkdir -p /root/.ssh && echo key > /root/.ssh/authorized_keys && cp /bin/busybox /bin/nc-copy",
    ]);
    docker(&["exec", "-d", "-u", "0", &app, "sleep", "300"]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args(["scan", "--quiet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |name: &str| {
        report["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    let c = find(&app);
    let evidence = |rule: &str| -> Vec<String> {
        c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule_id"] == rule)
            .map(|f| f["evidence"].as_str().unwrap().to_string())
            .collect()
    };
    let sessions = c["exec_sessions"].as_array().expect("the running exec");
    assert_eq!(sessions.len(), 1, "only the running one: {sessions:?}");
    assert_eq!(sessions[0]["user"], "0");
    assert_eq!(sessions[0]["command"], serde_json::json!(["sleep", "300"]));
    assert_eq!(evidence("container.exec-root").len(), 1);
    let programs = evidence("container.drift-program");
    assert!(
        programs.iter().any(|e| e.contains("/bin/nc-copy (added)")),
        "{programs:?}"
    );
    let files = evidence("container.drift-sensitive");
    assert!(
        files
            .iter()
            .any(|e| e.contains("/root/.ssh/authorized_keys (added)")),
        "{files:?}"
    );
    let ro = find(&ro);
    assert_eq!(ro["drift"]["protected"], true);
    assert!(
        !ro["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"]
                .as_str()
                .unwrap()
                .starts_with("container.drift")),
        "a read-only container cannot drift"
    );
}

/// Drift read from the container's writable layer (the upper directory of
/// its overlay, on this machine) is what the engine's `/changes` says: the
/// same paths, the same kinds, for a container that changes a file, changes
/// a mode, adds files and a folder tree, deletes a file, deletes a folder
/// and makes a folder again (opaque) with some of its old names. And the
/// drift a scan reports comes from that layer, with no `/changes` call.
#[test]
fn drift_from_the_writable_layer_matches_the_engines_changes() {
    use shipshape::sources::docker::{drift, layers};
    let _serial = serial();
    let mut fx = Fixture::new("driftdir");
    let img = fx.build(
        "drift:1",
        &format!(
            "FROM {BASE}\nRUN mkdir -p /srv/keep /srv/gone/y /opt/opq/sub /etc/app && \
             echo a > /srv/keep/a && echo b > /srv/keep/b && echo x > /srv/gone/x && \
             echo z > /srv/gone/y/z && echo 1 > /opt/opq/old1 && echo 2 > /opt/opq/old2 && \
             echo d > /opt/opq/sub/deep && echo c > /etc/app/conf && echo m > /srv/keep/mode\n"
        ),
    );
    let name = fx.run("app", &[&img, "sleep", "600"]);
    docker(&[
        "exec",
        &name,
        "sh",
        "-c",
        "echo more >> /etc/app/conf; touch /srv/new; rm /srv/keep/a; rm -rf /srv/gone; \
         rm -rf /opt/opq; mkdir -p /opt/opq/sub; echo rewritten > /opt/opq/old1; echo f > /opt/opq/fresh; \
         chmod 600 /srv/keep/mode; mkdir -p /data/x/y; echo q > /data/x/y/q; \
         cp /bin/busybox /tmp/dropper",
    ]);
    let rt = runtime();
    let engine = connect(&rt);
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    let c = rt.block_on(engine.container(&id)).unwrap();
    let info = rt.block_on(engine.info()).unwrap();
    let storage = c.storage.clone().expect("the container's GraphDriver");
    if !layers::OVERLAY_DRIVERS.contains(&storage.driver.as_str()) {
        eprintln!(
            "storage driver {}: no upper directory to compare",
            storage.driver
        );
        return;
    }
    let root = layers::DataRoot::of(info.docker_root_dir.as_deref().unwrap()).unwrap();
    let upper = root.confine(&storage.driver, &storage.upper).unwrap();
    let lower: Vec<_> = storage
        .lower
        .iter()
        .map(|l| root.confine(&storage.driver, l).unwrap())
        .collect();
    let (from_dirs, modes) = drift::changes_from_dirs(&upper, &lower, drift::MAX_ENTRIES).unwrap();
    let from_engine = rt.block_on(engine.changes(&id)).unwrap();
    let set = |v: &[(String, i64)]| v.iter().cloned().collect::<BTreeSet<_>>();
    assert_eq!(set(&from_dirs), set(&from_engine));
    assert_eq!(from_dirs.len(), from_engine.len(), "no path twice");
    // The ones that matter, spelled out (0 changed, 1 added, 2 deleted).
    // (old1 is rewritten with another size: a file of the same size
    // written within the second the image's layer was made — whose tar
    // keeps no nanoseconds — is "unchanged" to the engine's naive diff.)
    for want in [
        ("/etc/app/conf", 0),
        ("/srv/keep/mode", 0),
        ("/srv/new", 1),
        ("/data/x/y/q", 1),
        ("/srv/keep/a", 2),
        ("/srv/gone", 2),
        ("/opt/opq/old1", 0),
        ("/opt/opq/fresh", 1),
        ("/opt/opq/old2", 2),
        ("/opt/opq/sub/deep", 2),
        ("/tmp/dropper", 1),
    ] {
        assert!(
            from_dirs.contains(&(want.0.to_string(), want.1)),
            "{want:?} in {from_dirs:?}"
        );
    }
    // The dropped executable's mode, as the engine's stat spells it.
    assert_eq!(modes.get("/tmp/dropper").map(|m| m & 0o111), Some(0o111));
    let target = drift::Target::of(&c, info.docker_root_dir.as_deref().unwrap());
    let d = rt.block_on(drift::check(&engine, &target)).unwrap();
    assert_eq!(d.read_by, drift::FROM_UPPER_DIR);
    assert_eq!(d.total_changes, from_engine.len());
    assert!(
        d.items.iter().any(|i| i.path == "/tmp/dropper"),
        "{:?}",
        d.items
    );
    assert!(d.refused.is_none());
}

/// Processes read from /proc (the local engine's default) and from the
/// engine's `top` give the same answers: the same processes, the same
/// users and command lines, the same sshd finding.
#[test]
fn processes_from_proc_match_top() {
    let _serial = serial();
    let mut fx = Fixture::new("procs");
    let name = fx.run(
        "procs",
        &[
            BASE,
            "sh",
            "-c",
            "/usr/sbin/sshd & sleep 301 & exec sleep 302",
        ],
    );
    let rt = runtime();
    let engine = connect(&rt);
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    // Both children started.
    let start = std::time::Instant::now();
    let c = loop {
        let c = rt
            .block_on(shipshape::sources::docker::scan::inspect_one(&engine, &id))
            .unwrap();
        if c.processes.as_ref().is_some_and(|p| p.len() >= 3)
            || start.elapsed() > std::time::Duration::from_secs(10)
        {
            break c;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(
        c.processes_from,
        shipshape::sources::docker::procs::FROM_PROC
    );
    let from_proc = c.processes.clone().unwrap();
    let from_top =
        shipshape::sources::docker::convert::processes(rt.block_on(engine.top(&id)).unwrap());
    let key = |p: &shipshape::model::Process| {
        (
            p.pid.clone(),
            p.user.clone(),
            p.comm.clone(),
            p.command.clone(),
        )
    };
    let mut a: Vec<_> = from_proc.iter().map(key).collect();
    let mut b: Vec<_> = from_top.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "/proc and top disagree");
    assert!(a.len() >= 3, "{a:?}");
    // The sshd check sees it either way.
    let (inv, assessment) = scan_now(&rt, &engine);
    let c = inv.containers.iter().find(|c| c.name == name).unwrap();
    assert!(
        assessment
            .container(&c.id)
            .unwrap()
            .findings
            .iter()
            .any(|f| f.rule_id == "container.sshd")
    );
}
