//! Compose files, end to end: `shipshape compose check` on a project of
//! two files, an `extends` file, a `.env`, a merge key and a profile —
//! every finding at the exact file and line a user edits, the SARIF valid
//! against the official schema; hostile files stopped with a clear error;
//! and on the real engine, containers `docker-compose` created carry the
//! same lines in a `scan`, read from the files their labels name.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::scan::*;
use common::*;
use serde_json::Value;

const SECRET: &str = "s3cret-value-zz1";

/// `shipshape compose check ARGS…` in `dir`.
fn check(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .args(["compose", "check"])
        .args(args)
        .env("HOME", "/nonexistent-home")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROFILES")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// (container name, rule) → "file:line" of every finding.
fn located(r: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for c in r["containers"].as_array().unwrap() {
        for f in c["findings"].as_array().unwrap() {
            out.push((
                c["name"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f.get("location")
                    .map(|l| format!("{}:{}", l["file"].as_str().unwrap(), l["line"])),
            ));
        }
    }
    out
}

fn at(found: &[(String, String, Option<String>)], name: &str, rule: &str) -> Option<String> {
    found
        .iter()
        .find(|(n, r, _)| n == name && r == rule)
        .unwrap_or_else(|| panic!("{name} {rule} in {found:#?}"))
        .2
        .clone()
}

fn has(found: &[(String, String, Option<String>)], name: &str, rule: &str) -> bool {
    found.iter().any(|(n, r, _)| n == name && r == rule)
}

fn project(dir: &Path) {
    write(
        dir,
        "compose.yaml",
        "name: cc\n\
         x-hard: &hard\n\
         \x20 read_only: true\n\
         \x20 cap_drop: [ALL]\n\
         services:\n\
         \x20 api:\n\
         \x20   <<: *hard\n\
         \x20   image: shop/api:${API_TAG:-1.4}\n\
         \x20   privileged: true\n\
         \x20   ports:\n\
         \x20     - \"8080:80\"\n\
         \x20   volumes:\n\
         \x20     - /var/run/docker.sock:/var/run/docker.sock\n\
         \x20 worker:\n\
         \x20   extends:\n\
         \x20     file: common.yaml\n\
         \x20     service: base\n\
         \x20   image: shop/worker:1\n\
         \x20 debug:\n\
         \x20   image: busybox:1\n\
         \x20   profiles: [debug]\n\
         \x20   pid: host\n",
    );
    write(
        dir,
        "compose.override.yaml",
        "services:\n  api:\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n",
    );
    write(
        dir,
        "common.yaml",
        "services:\n  base:\n    cap_add: [SYS_ADMIN]\n    network_mode: host\n",
    );
    write(
        dir,
        ".env",
        &format!("DB_PASSWORD={SECRET}\nAPI_TAG=latest\n"),
    );
}

#[test]
fn compose_check_points_every_finding_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir);
    let out = check(dir, &["--fail-on", "critical"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a critical finding: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "a secret's value is never shown"
    );
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let found = located(&r);
    let (api, worker) = ("cc-api-1", "cc-worker-1");
    // The key's own line, in the file that sets it.
    let want = [
        (api, "container.privileged", "compose.yaml:9"),
        (api, "container.engine-socket", "compose.yaml:12"),
        (api, "container.port-all-interfaces", "compose.yaml:10"),
        // interpolated from .env: the line of the key that holds it
        (api, "container.mutable-image-ref", "compose.yaml:8"),
        (api, "container.secret-env", "compose.override.yaml:3"),
        // from the file `extends` names
        (worker, "container.cap-add", "common.yaml:3"),
        (worker, "container.host-network", "common.yaml:4"),
        // a key that is missing: the service's line
        (worker, "container.writable-rootfs", "compose.yaml:14"),
    ];
    for (name, rule, line) in want {
        assert_eq!(
            at(&found, name, rule).as_deref(),
            Some(line),
            "{name} {rule}"
        );
    }
    // The merge key applied: read_only and cap_drop came from x-hard.
    assert!(!has(&found, api, "container.writable-rootfs"), "{found:#?}");
    assert!(
        !has(&found, api, "container.caps-not-dropped"),
        "{found:#?}"
    );
    assert!(
        found.iter().all(|(_, _, l)| l.is_some()),
        "every compose finding has a line: {found:#?}"
    );
    // The profile is off: said, not checked.
    assert!(found.iter().all(|(n, _, _)| n != "cc-debug-1"));
    let warnings = r["warnings"].to_string();
    assert!(warnings.contains("debug"), "{warnings}");
    // The human summary names the lines too.
    assert!(
        stderr.contains("compose.yaml:9 cc-api-1 [critical] container.privileged"),
        "{stderr}"
    );

    // With the profile, the service is checked.
    let out = check(dir, &["--profile", "debug", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        at(&located(&r), "cc-debug-1", "container.host-pid").as_deref(),
        Some("compose.yaml:22")
    );

    // A missing env_file is said, and the rest still checked.
    write(
        dir,
        "compose.override.yaml",
        "services:\n  api:\n    env_file: [missing.env]\n",
    );
    let out = check(dir, &["-q"]);
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("env_file not read") && warnings.contains("missing.env"),
        "{warnings}"
    );
    assert!(has(&located(&r), api, "container.privileged"));
}

#[test]
fn compose_check_sarif_points_at_the_file_and_validates() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir);
    let out = check(
        dir,
        &[
            "compose.yaml",
            "compose.override.yaml",
            "--format",
            "sarif",
            "-q",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = include_str!("fixtures/sarif-schema-2.1.0.json").replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == "container.privileged")
        .unwrap();
    let loc = &privileged["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "compose.yaml");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 9);
}

#[test]
fn hostile_compose_files_stop_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // 50 MB: over the 10 MiB ceiling, read no further than it.
    let big = std::fs::File::create(dir.join("big.yaml")).unwrap();
    big.set_len(50 << 20).unwrap();
    let laughs = {
        let mut t = String::from(
            "x-0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for i in 1..10 {
            let p = i - 1;
            t.push_str(&format!(
                "x-{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
            ));
        }
        t + "services:\n  a:\n    image: x\n"
    };
    write(dir, "laughs.yaml", &laughs);
    write(
        dir,
        "deep.yaml",
        &format!("services: {}{}\n", "[".repeat(200), "]".repeat(200)),
    );
    write(
        dir,
        "dup.yaml",
        "services:\n  a:\n    image: x\n    user: root\n    image: y\n",
    );
    write(dir, "broken.yaml", "services:\n  a: [\n    image: x\n");
    write(
        dir,
        "loop.yaml",
        "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
    );
    for (file, says) in [
        ("big.yaml", "over the ceiling"),
        ("laughs.yaml", "the nodes its aliases expand to"),
        ("deep.yaml", "the nesting depth"),
        (
            "dup.yaml",
            "line 5: duplicate key 'image' (first at line 3)",
        ),
        ("broken.yaml", "broken.yaml"),
        ("loop.yaml", "extends loops back"),
        ("absent.yaml", "absent.yaml"),
    ] {
        let t = std::time::Instant::now();
        let out = check(dir, &[file, "-q"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(says), "{file}: {stderr}");
        assert!(stderr.contains(file), "the file is named: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: no report");
        // Not a timing target: a stop-gap against a parser that spins.
        assert!(t.elapsed().as_secs() < 60, "{file} took {:?}", t.elapsed());
    }
}

/// `docker-compose -p P …` in `dir`, on the system engine.
fn compose(dir: &Path, project: &str, args: &[&str]) -> Output {
    Command::new("docker-compose")
        .current_dir(dir)
        .args(["-p", project])
        .args(args)
        .output()
        .expect("docker-compose")
}

/// Takes the project down (containers and network) however the test ends.
struct Down<'a>(&'a Path, String);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = compose(self.0, &self.1, &["down", "--remove-orphans"]);
    }
}

#[test]
fn scan_locates_compose_containers_findings_in_their_files() {
    let _serial = serial();
    let fx = Fixture::new("compose");
    let db = scratch_vulndb();
    let dir = std::fs::canonicalize(fx.tmp.path()).unwrap();
    let name = fx.prefix.replace('-', "");
    write(
        &dir,
        "docker-compose.yml",
        &format!(
            "version: \"3.7\"\n\
             services:\n\
             \x20 web:\n\
             \x20   image: {BASE}\n\
             \x20   command: [\"sleep\", \"3600\"]\n\
             \x20   privileged: true\n\
             \x20   cap_add: [NET_ADMIN]\n\
             \x20   volumes:\n\
             \x20     - /var/run/docker.sock:/var/run/docker.sock\n\
             \x20 db:\n\
             \x20   image: {BASE}\n\
             \x20   command: [\"sleep\", \"3600\"]\n\
             \x20   read_only: true\n"
        ),
    );
    let _down = Down(&dir, name.clone());
    let out = compose(&dir, &name, &["up", "--no-start"]);
    assert!(
        out.status.success(),
        "docker-compose up --no-start: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir
        .join("docker-compose.yml")
        .to_string_lossy()
        .into_owned();
    let mine = |r: &Value, service: &str| -> Value {
        r["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["compose"]["project"] == name.as_str() && c["compose"]["service"] == service
            })
            .unwrap_or_else(|| panic!("{service} of {name} in the scan"))
            .clone()
    };
    let r = scan_json(&db, &dir, "scan.json", &["--no-vulns", "--no-drift"]);
    let web = mine(&r, "web");
    assert_eq!(web["compose"]["config_files"][0], file.as_str());
    let line_of = |c: &Value, rule: &str| -> Option<(String, u64)> {
        let f = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == rule)
            .unwrap_or_else(|| panic!("{rule} in {c:#}"));
        f.get("location").map(|l| {
            (
                l["file"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
            )
        })
    };
    assert_eq!(
        line_of(&web, "container.privileged"),
        Some((file.clone(), 6))
    );
    assert_eq!(line_of(&web, "container.cap-add"), Some((file.clone(), 7)));
    assert_eq!(
        line_of(&web, "container.engine-socket"),
        Some((file.clone(), 8))
    );
    // A key the service does not set: the service's line.
    let db_c = mine(&r, "db");
    assert_eq!(
        line_of(&db_c, "container.no-memory-limit"),
        Some((file.clone(), 10))
    );
    let warnings = r["warnings"].to_string();
    assert!(!warnings.contains(&name), "nothing to say yet: {warnings}");

    // The file edited after the containers were created: the lines follow
    // the file as it is now, and the report says so.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("services:\n", "services:\n\n\n")).unwrap();
    let r = scan_json(&db, &dir, "scan2.json", &["--no-vulns", "--no-drift"]);
    assert_eq!(
        line_of(&mine(&r, "web"), "container.privileged"),
        Some((file.clone(), 8))
    );
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains(&name) && warnings.contains("changed after"),
        "{warnings}"
    );

    // The files gone: the containers are still judged, without lines, and
    // the report says why.
    std::fs::rename(&file, dir.join("moved.yml")).unwrap();
    let r = scan_json(&db, &dir, "scan3.json", &["--no-vulns", "--no-drift"]);
    let web = mine(&r, "web");
    assert_eq!(line_of(&web, "container.privileged"), None);
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains(&name) && warnings.contains("not read"),
        "{warnings}"
    );
    std::fs::rename(dir.join("moved.yml"), &file).unwrap();
}

/// Issue 39, D1: compose labels — which an image's own `LABEL` can set on
/// every container made from it — naming a FIFO nobody writes to,
/// `/proc/kmsg` (a "regular" file whose read waits for the kernel),
/// `/dev/zero`, a folder, or a FIFO whose name carries an escape sequence.
/// Before, opening the FIFO or reading `/proc/kmsg` hung `scan` and
/// `harden` of any container for good. Now each project's warning names
/// the file (escaped) and why it was not read, and both commands finish.
#[test]
fn compose_labels_naming_what_is_not_a_file_never_stall_scan_or_harden() {
    let _serial = serial();
    let mut fx = Fixture::new("labels");
    let db = scratch_vulndb();
    let dir = std::fs::canonicalize(fx.tmp.path()).unwrap();
    let mkfifo = |name: &str| {
        let p = dir.join(name);
        assert!(Command::new("mkfifo").arg(&p).status().unwrap().success());
        p.to_string_lossy().into_owned()
    };
    let fifo = mkfifo("compose.yaml");
    let escaped = mkfifo("esc\x1b[2K.yml");
    let folder = dir.to_string_lossy().into_owned();
    let cases = [
        (
            fifo.clone(),
            fifo.clone(),
            "not a regular file (a named pipe)",
        ),
        ("/proc/kmsg".into(), "/proc/kmsg".into(), "under /proc"),
        ("/dev/zero".into(), "/dev/zero".into(), "under /dev"),
        (folder.clone(), folder, "not a regular file (a folder)"),
        (
            escaped.clone(),
            escaped.replace('\x1b', "\\u{1b}"),
            "not a regular file (a named pipe)",
        ),
    ];
    let stem = fx.prefix.replace('-', "");
    let project = |i: usize| format!("{stem}p{i}");
    let mut names = Vec::new();
    for (i, (path, _, _)) in cases.iter().enumerate() {
        let labels = [
            format!("com.docker.compose.project={}", project(i)),
            format!("com.docker.compose.project.config_files={path}"),
            "com.docker.compose.service=web".to_string(),
        ];
        names.push(fx.create(
            &format!("c{i}"),
            &[
                "--label", &labels[0], "--label", &labels[1], "--label", &labels[2], BASE,
            ],
        ));
    }
    let other = fx.create("other", &[BASE]);

    let report = dir.join("scan.json");
    let out = output_within(
        Command::new(bin())
            .arg("--vulndb")
            .arg(&db)
            .args(["--no-audit", "scan", "-q", "--no-vulns", "--no-drift", "-o"])
            .arg(&report)
            .env("HOME", "/nonexistent-home"),
        120,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (i, (_, shown, why)) in cases.iter().enumerate() {
        let w = warnings
            .iter()
            .find(|w| w.contains(&format!("project {} not read", project(i))))
            .unwrap_or_else(|| panic!("a warning for {shown}: {warnings:#?}"));
        assert!(w.contains(&format!("{shown}: ")) && w.contains(why), "{w}");
        assert!(!w.contains('\x1b'), "{w:?}");
    }
    // Each such container is still judged, its compose file said not read.
    let c0 = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == names[0].as_str())
        .unwrap();
    assert!(!c0["findings"].as_array().unwrap().is_empty());

    // harden of another container runs the same inventory: it finishes.
    let harden = |args: &[&str]| {
        output_within(
            Command::new(bin())
                .arg("--vulndb")
                .arg(&db)
                .args(["--no-audit", "harden"])
                .args(args)
                .env("HOME", "/nonexistent-home"),
            120,
        )
    };
    let out = harden(&[&other]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And the diff of the FIFO's container says why there is none.
    let out = harden(&[&names[0], "--format", "diff"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a regular file (a named pipe)"), "{err}");
}
