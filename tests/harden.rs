//! Hardened twins, on the real engine: each risky test container is
//! created (started where it can be), `shipshape harden` prints its
//! hardened `docker run` command, the twin is created from exactly that
//! command and started, it must keep running, and a scan of the twin must
//! show no critical or high finding and fewer findings than the original.
//! A compose service's diff applies to the user's file with `patch`, keeps
//! its comments, and `docker-compose config` accepts the result.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::process::Command;

use common::scan::*;
use common::*;
use serde_json::Value;

fn harden(args: &[&str]) -> (String, String) {
    let out = Command::new(bin())
        .arg("harden")
        .args(args)
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "harden {args:?}: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn findings<'a>(r: &'a Value, name: &str) -> &'a Vec<Value> {
    r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} in the scan"))["findings"]
        .as_array()
        .unwrap()
}

fn severe(list: &[Value]) -> Vec<String> {
    list.iter()
        .filter(|f| f["severity"] == "critical" || f["severity"] == "high")
        .map(|f| format!("{} {}", f["rule_id"], f["evidence"]))
        .collect()
}

#[test]
fn hardened_twins_run_and_clear_their_severe_findings() {
    let _serial = serial();
    let mut fx = Fixture::new("harden");
    let db = scratch_vulndb();
    // It writes a folder of its own (a tmpfs keeps it writable) — or, in
    // `etc`, also a file in /etc, where no tmpfs can go: the root stays
    // writable.
    let writes = [
        "sh",
        "-c",
        "mkdir -p /var/cache/app && date > /var/cache/app/stamp && exec sleep 3600",
    ];
    let writes_etc = [
        "sh",
        "-c",
        "mkdir -p /var/cache/app && date > /var/cache/app/stamp && date > /etc/app.conf && exec sleep 3600",
    ];
    // (short name, docker flags, started?) — a privileged container may not
    // be startable here; it is still created and inspected.
    let cases: Vec<(&str, Vec<&str>, bool)> = vec![
        ("priv", vec!["--privileged"], false),
        (
            "caps",
            vec![
                "--cap-add",
                "SYS_ADMIN",
                "--cap-add",
                "NET_ADMIN",
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "apparmor=unconfined",
            ],
            true,
        ),
        (
            "hostns",
            vec!["--pid", "host", "--ipc", "host", "--uts", "host"],
            true,
        ),
        ("hostnet", vec!["--network", "host"], true),
        (
            "ports",
            vec![
                "-p",
                "80",
                "--restart",
                "always",
                "--ulimit",
                "nofile=2048:4096",
            ],
            true,
        ),
        ("etc", vec!["--cap-add", "SYS_PTRACE"], true),
    ];
    let mut originals = Vec::new();
    for (short, flags, start) in &cases {
        let mut args: Vec<&str> = flags.clone();
        args.push(BASE);
        if *short == "etc" {
            args.extend(writes_etc);
            originals.push((fx.run(short, &args), true));
        } else if *start {
            args.extend(writes);
            originals.push((fx.run(short, &args), true));
        } else {
            args.extend(["sleep", "3600"]);
            originals.push((fx.create(short, &args), false));
        }
    }
    // Let the started ones write their folder, for the plan to see it.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut twins = Twins(Vec::new());
    let mut commands = Vec::new();
    for (name, started) in &originals {
        let (cmd, explained) = harden(&[name]);
        assert!(
            cmd.starts_with(&format!("docker run -d --name {name}-hardened ")),
            "{cmd}"
        );
        assert!(explained.contains("finding(s) before"), "{explained}");
        if name.ends_with("-ports") {
            // It publishes 80 but nothing listens there (seen from /proc).
            assert!(
                !cmd.contains("\n  -p ") && explained.contains("nothing listens on it inside"),
                "{cmd}\n{explained}"
            );
        }
        if name.ends_with("-etc") {
            assert!(
                !cmd.contains("--read-only"),
                "it writes /etc: the root stays writable: {cmd}"
            );
            assert!(
                explained.contains("left: container.writable-rootfs"),
                "{explained}"
            );
        } else if *started {
            // The base image has no /var: the folder it added is /var
            // itself, and a tmpfs there hides nothing of the image.
            let changes = fx.docker(&["diff", name]);
            let top = changes
                .lines()
                .filter_map(|l| l.strip_prefix("A "))
                .find(|p| p.starts_with("/var"))
                .unwrap();
            assert!(
                cmd.contains(&format!("--tmpfs {top} ")),
                "the folder it added ({top}) stays writable: {cmd}"
            );
        }
        commands.push(cmd);
    }
    // The twin replaces the original (its ports are the original's).
    for ((name, started), cmd) in originals.iter().zip(&commands) {
        if *started {
            fx.docker(&["stop", "-t", "1", name]);
        }
        // Exactly the printed command, through a shell.
        twins.0.push(format!("{name}-hardened"));
        let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::thread::sleep(std::time::Duration::from_secs(3));
    for (twin, (_, started)) in twins.0.iter().zip(&originals) {
        let state = fx.docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            twin,
        ]);
        assert_eq!(state.trim(), "running 0", "{twin} keeps running");
        if *started {
            // It writes where the original wrote.
            let stamp = fx.docker(&["exec", twin, "cat", "/var/cache/app/stamp"]);
            assert!(!stamp.trim().is_empty());
        }
    }
    let r = scan_json(&db, fx.tmp.path(), "scan.json", &["--no-vulns"]);
    println!("original → twin: findings (critical and high)");
    for ((name, _), twin) in originals.iter().zip(&twins.0) {
        let (before, after) = (findings(&r, name), findings(&r, twin));
        println!(
            "{name}: {} ({}) → {} ({})",
            before.len(),
            severe(before).len(),
            after.len(),
            severe(after).len()
        );
        assert!(
            severe(after).is_empty(),
            "{twin} has no critical or high finding: {:#?}",
            severe(after)
        );
        assert!(after.len() < before.len(), "{twin}: fewer findings");
    }
}

/// The twins, removed however the test ends.
struct Twins(Vec<String>);

impl Drop for Twins {
    fn drop(&mut self) {
        for t in &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", t]).output();
        }
    }
}

#[test]
fn a_compose_services_diff_applies_and_keeps_the_file() {
    let _serial = serial();
    let fx = Fixture::new("hardcomp");
    let dir = std::fs::canonicalize(fx.tmp.path()).unwrap();
    let project = fx.prefix.replace('-', "");
    let file = dir.join("docker-compose.yml");
    let original = format!(
        "# the shop's api\n\
         services:\n\
         \x20 api:\n\
         \x20   image: {BASE}\n\
         \x20   command: [\"sleep\", \"3600\"]  # keep it up\n\
         \x20   privileged: true\n\
         \x20   cap_add:\n\
         \x20     - SYS_ADMIN\n\
         \x20   restart: always\n\
         \x20   ports:\n\
         \x20     - \"8080\"\n\
         \x20 # the database\n\
         \x20 db:\n\
         \x20   image: {BASE}\n\
         \x20   command: [\"sleep\", \"3600\"]\n"
    );
    std::fs::write(&file, &original).unwrap();
    let compose = |args: &[&str]| {
        Command::new("docker-compose")
            .current_dir(&dir)
            .args(["-p", &project])
            .args(args)
            .output()
            .unwrap()
    };
    struct Down<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["down", "--remove-orphans"]);
        }
    }
    let _down = Down(&compose);
    let out = compose(&["up", "--no-start"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = fx.docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=api",
        "--format",
        "{{.Names}}",
    ]);
    let api = api.trim();
    let (diff, _) = harden(&[api, "--format", "diff", "-q"]);
    assert!(
        diff.starts_with("--- a/docker-compose.yml\n+++ b/docker-compose.yml\n"),
        "{diff}"
    );
    assert!(diff.contains("-    privileged: true"), "{diff}");
    assert!(diff.contains("+    cap_drop: [ALL]"), "{diff}");
    assert!(diff.contains("+    read_only: true"), "{diff}");
    assert!(
        !diff.contains("db:\n+"),
        "the other service is not touched: {diff}"
    );
    // It applies, as a user would apply it.
    let patch = dir.join("harden.patch");
    std::fs::write(&patch, &diff).unwrap();
    let out = Command::new("patch")
        .current_dir(&dir)
        .args(["-p1", "-i"])
        .arg(&patch)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let patched = std::fs::read_to_string(&file).unwrap();
    for kept in [
        "# the shop's api",
        "# keep it up",
        "# the database",
        "  db:\n",
    ] {
        assert!(patched.contains(kept), "{kept} kept:\n{patched}");
    }
    // Compose accepts it, and the service has fewer findings.
    let out = compose(&["config", "-q"]);
    assert!(
        out.status.success(),
        "{}\n{patched}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = |path: &Path| -> Value {
        let out = Command::new(bin())
            .current_dir(&dir)
            .args(["compose", "check", "-q"])
            .arg(path)
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before_file = dir.join("before.yml");
    std::fs::write(&before_file, &original).unwrap();
    let count = |r: &Value| {
        r["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().ends_with("api-1"))
            .unwrap()["findings"]
            .as_array()
            .unwrap()
            .len()
    };
    let (before, after) = (check(&before_file), check(&file));
    assert!(
        count(&after) < count(&before),
        "{} → {}",
        count(&before),
        count(&after)
    );
}

/// Whether `c` may not reach a screen as itself (a newline may: harden's
/// outputs are made of lines).
fn hidden(c: char) -> bool {
    c != '\n' && shipshape::model::text::is_hidden(c)
}

/// D2, D3, D15: a container whose labels, environment variable name, bind
/// mount, user and command carry YAML and terminal injections, as an
/// image's LABEL or any API client can set them. The hardened compose
/// service reads back as exactly one service with only the keys harden
/// writes, each value as data; the run command shows no raw control
/// character and bash runs exactly its words; harden's error and the
/// scan's summary show the label's characters as escapes, with no faked
/// `warning:` line.
#[test]
fn hostile_values_stay_data_on_screen_and_when_pasted() {
    use shipshape::sources::compose::yaml::{self, Value};
    let _serial = serial();
    let mut fx = Fixture::new("hardhost");
    let db = scratch_vulndb();
    let project = fx.prefix.replace('-', "");
    let service = "app:\n    privileged: true\n    network_mode: host\n  app2";
    let config = "/nonexistent/\u{1b}[32mGREEN\n  warning: FAKE WARNING LINE\u{7}.yml";
    let env_name = "NL\n    privileged: true";
    let bind = "/:/srv\u{1b}[2K\r  --tmpfs /cache";
    let user = "1000\u{1b}]0;TITLE\u{7}";
    let arg = "\necho \u{1b}]52;c;aGk=\u{7}\u{1b}[2J \u{202e}";
    let name = fx.create(
        "evil",
        &[
            "--privileged",
            "--label",
            &format!("com.docker.compose.project={project}"),
            "--label",
            &format!("com.docker.compose.service={service}"),
            "--label",
            &format!("com.docker.compose.project.config_files={config}"),
            "-e",
            &format!("{env_name}=1"),
            "-v",
            bind,
            "--user",
            user,
            BASE,
            "sleep",
            arg,
        ],
    );

    // The compose service: one service, named as the label says.
    let (text, _) = harden(&[&name, "--format", "compose", "-q"]);
    assert!(!text.chars().any(hidden), "{text}");
    let root = yaml::parse(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    let Some(Value::Map(services)) = root.get("services").map(|s| &s.value) else {
        panic!("no services:\n{text}");
    };
    assert_eq!(services.len(), 1, "{text}");
    let (got, _, s) = &services[0];
    assert_eq!(got, service, "{text}");
    let Value::Map(keys) = &s.value else {
        panic!("{text}")
    };
    for (k, _, _) in keys {
        assert!(
            !matches!(k.as_str(), "privileged" | "network_mode" | "labels"),
            "{k} in the hardened service:\n{text}"
        );
    }
    let seq = |k: &str| match s.get(k).map(|n| &n.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .map(|i| i.as_str().unwrap().to_string())
            .collect::<Vec<_>>(),
        other => panic!("{k}: {other:?}\n{text}"),
    };
    assert_eq!(seq("environment"), [env_name], "{text}");
    assert_eq!(seq("command"), [arg], "{text}");
    assert!(seq("volumes")[0].starts_with(bind), "{text}");
    assert_eq!(s.get("user").and_then(|u| u.as_str()), Some(user), "{text}");

    // The run command: nothing raw on screen, exactly its words in bash.
    let (cmd, _) = harden(&[&name, "-q"]);
    assert!(!cmd.chars().any(hidden), "{cmd}");
    let syntax = Command::new("bash")
        .args(["-n", "-c", &cmd])
        .output()
        .unwrap();
    assert!(syntax.status.success(), "bash -n:\n{cmd}");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("docker(){{ printf '%s\\0' \"$@\"; }}\n{cmd}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{cmd}");
    let argv: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split_terminator('\0')
        .map(str::to_string)
        .collect();
    let after = |f: &str| {
        let i = argv
            .iter()
            .position(|a| a == f)
            .unwrap_or_else(|| panic!("{f}: {cmd}"));
        argv[i + 1].as_str()
    };
    assert_eq!(after("--name"), format!("{name}-hardened"));
    assert_eq!(after("--user"), user);
    assert_eq!(after("-e"), env_name);
    assert!(after("-v").starts_with(bind), "{cmd}");
    assert_eq!(argv.last().map(String::as_str), Some(arg), "{cmd}");
    // Engine 28 names the default network `bridge`; 20.10 says `default`.
    assert!(
        !argv.iter().any(|a| a == "--privileged" || a == "host"),
        "{cmd}"
    );

    // harden's error names the label's path: escaped, on one line.
    let out = Command::new(bin())
        .args(["harden", &name, "--format", "diff", "-q"])
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(
        stderr.contains("its compose file was not read here (/nonexistent/\\u{1b}[32mGREEN\\u{a}"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.chars().any(hidden), "{stderr}");

    // D15: the scan's summary says the same, without a faked line.
    let report = fx.tmp.path().join("scan.json");
    let out = shipshape(
        &db,
        &[
            "scan",
            "--no-vulns",
            "--no-drift",
            "-o",
            report.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("FAKE WARNING LINE\\u{7}.yml"), "{stderr}");
    assert!(
        !stderr
            .lines()
            .any(|l| l.trim_start().starts_with("warning: FAKE")),
        "{stderr}"
    );
    assert!(!stderr.chars().any(hidden), "{stderr}");
}
