//! The `shipshape` binary as a user or a CI job runs it: report contract,
//! exit codes, and a clear message for every kind of bad input.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use serde_json::Value;

const SOCK: &str = "unix:///var/run/docker.sock";

fn shipshape(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_CONTENT_TRUST")
        .env("HOME", "/nonexistent-home") // no user policy file or context
        .env("XDG_CONFIG_HOME", "/nonexistent-config")
        .output()
        .expect("run shipshape")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn json_report_contract() {
    let _serial = serial();
    let mut fx = Fixture::new("cli");
    let priv_name = fx.create(
        "priv",
        &[
            "--privileged",
            "-e",
            "SSIT_SECRET_TOKEN=ssit-never-print-me-4242",
            BASE,
        ],
    );
    let run_name = fx.run("run", &[BASE]);
    let out_path = fx.tmp.path().join("report.json");
    let o = shipshape(&[
        "scan",
        "--host",
        SOCK,
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out_path).unwrap();
    assert!(
        !text.contains("ssit-never-print-me-4242"),
        "a secret value was written to the report"
    );
    assert!(!stderr(&o).contains("ssit-never-print-me-4242"));
    assert!(
        stderr(&o).contains("via --host flag"),
        "the summary says how the engine was found"
    );

    let r: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(r["schema_version"], shipshape::report::SCHEMA_VERSION);
    assert!(r["generated_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(r["tool"]["name"], "shipshape");
    for key in [
        "found_by",
        "endpoint",
        "version",
        "api_version",
        "os",
        "security_options",
    ] {
        assert!(!r["engine"][key].is_null(), "engine.{key}");
    }
    assert_eq!(r["engine"]["found_by"], "--host flag");
    assert_eq!(r["engine"]["endpoint"], SOCK);
    assert!(
        r["engine_findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule_id"].as_str().unwrap().starts_with("engine."))
    );

    let containers = r["containers"].as_array().unwrap();
    let names: Vec<&str> = containers
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "containers sorted by name");
    let c = containers
        .iter()
        .find(|c| c["name"] == priv_name.as_str())
        .expect("privileged container in report");
    assert_eq!(c["state"], "created");
    assert_eq!(c["image"], BASE);
    assert_eq!(c["image_id"], image_id(BASE));
    assert!(c["id"].as_str().unwrap().len() == 64);
    assert!(c["risk_score"].as_u64().unwrap() >= 60);
    assert_eq!(c["highest_severity"], "critical");
    let findings = c["findings"].as_array().unwrap();
    let f = &findings[0];
    assert_eq!(f["rule_id"], "container.privileged", "worst first");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["cis"], "5.5");
    assert_eq!(f["seed_rule"], 4);
    assert_eq!(f["waived"], false);
    assert!(
        f["remediation"]["docker_run"]
            .as_str()
            .unwrap()
            .contains("--privileged")
    );
    assert!(
        f["remediation"]["compose"]
            .as_str()
            .unwrap()
            .contains("privileged: false")
    );
    let secret = findings
        .iter()
        .find(|f| f["rule_id"] == "container.secret-env")
        .unwrap();
    assert!(
        secret["evidence"]
            .as_str()
            .unwrap()
            .contains("SSIT_SECRET_TOKEN"),
        "the key is named"
    );
    let sev_rank = |s: &str| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let ranks: Vec<usize> = findings
        .iter()
        .map(|f| sev_rank(f["severity"].as_str().unwrap()))
        .collect();
    assert!(
        ranks.windows(2).all(|w| w[0] >= w[1]),
        "findings sorted worst first: {ranks:?}"
    );

    let running = containers
        .iter()
        .find(|c| c["name"] == run_name.as_str())
        .unwrap();
    assert_eq!(running["state"], "running");

    let images = r["images"].as_array().unwrap();
    let base = images
        .iter()
        .find(|i| i["tags"].as_array().unwrap().iter().any(|t| t == BASE))
        .unwrap();
    assert!(
        base["used_by"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == priv_name.as_str())
    );
    assert!(base["created"].is_string());
    assert!(
        base["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "image.root-user")
    );

    // The documented counts add up.
    let counted: u64 = ["critical", "high", "medium", "low", "info"]
        .iter()
        .map(|k| r["summary"]["findings"][k].as_u64().unwrap())
        .sum();
    let all = r["engine_findings"].as_array().unwrap().len()
        + containers
            .iter()
            .map(|c| c["findings"].as_array().unwrap().len())
            .sum::<usize>()
        + images
            .iter()
            .map(|i| i["findings"].as_array().unwrap().len())
            .sum::<usize>();
    assert_eq!(
        counted as usize + r["summary"]["waived"].as_u64().unwrap() as usize,
        all
    );

    // Same engine, same input: same findings (only the timestamp moves).
    let o2 = shipshape(&["scan", "--host", SOCK, "-q"]);
    let mut r2: Value = serde_json::from_slice(&o2.stdout).unwrap();
    let mut r1 = r.clone();
    for v in [&mut r1, &mut r2] {
        v["generated_at"] = Value::Null;
    }
    let strip_dynamic = |v: &Value| -> Vec<(String, Vec<String>)> {
        v["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|f| f["rule_id"].as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        strip_dynamic(&r1),
        strip_dynamic(&r2),
        "deterministic order"
    );
}

/// Waive every critical rule for everything else on the engine, so the
/// exit code depends only on this test's own container.
const OTHER_CRITICALS: &str = "[[waiver]]\nrule = \"container.privileged\"\ntarget = \"*\"\nreason = \"not this test's\"\n\n\
     [[waiver]]\nrule = \"container.engine-socket\"\ntarget = \"*\"\nreason = \"not this test's\"\n\n\
     [[waiver]]\nrule = \"engine.tcp-without-tls\"\nreason = \"not this test's\"\n";

#[test]
fn fail_on_and_waivers_decide_the_exit_code() {
    let _serial = serial();
    let mut fx = Fixture::new("failon");
    let name = fx.create("priv", &["--privileged", BASE]);
    let o = shipshape(&["scan", "--host", SOCK, "-q", "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = shipshape(&["scan", "--host", SOCK, "-q"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "without --fail-on findings do not fail the run"
    );

    let policy = fx.tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[waiver]]\nrule = \"container.privileged\"\ntarget = \"{}-*\"\nreason = \"lab machine, ticket SEC-7\"\nexpires = 2099-12-31\n\n\
             [[waiver]]\nrule = \"container.root-user\"\ntarget = \"{}-*\"\nreason = \"old decision\"\nexpires = 2020-01-01\n\n\
             {}",
            fx.prefix, fx.prefix, OTHER_CRITICALS
        ),
    )
    .unwrap();
    let out = fx.tmp.path().join("r.json");
    let o = shipshape(&[
        "scan",
        "--host",
        SOCK,
        "-q",
        "--fail-on",
        "critical",
        "--policy",
        policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the only critical finding is waived: {}",
        stderr(&o)
    );
    let r = read_json(&out);
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap();
    let f = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "container.privileged")
        .unwrap();
    assert_eq!(f["waived"], true);
    assert_eq!(f["waiver"]["reason"], "lab machine, ticket SEC-7");
    let root = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "container.root-user")
        .unwrap();
    assert_eq!(root["waived"], false, "an expired waiver no longer applies");
    let expired = &r["policy_findings"].as_array().unwrap()[0];
    assert_eq!(expired["rule_id"], "policy.waiver-expired");
    assert!(
        expired["evidence"]
            .as_str()
            .unwrap()
            .contains("expired 2020-01-01")
    );
    assert_eq!(r["policy"]["source"], policy.to_str().unwrap());
}

#[test]
fn approved_images_policy() {
    let _serial = serial();
    let mut fx = Fixture::new("approved");
    let name = fx.create("c", &[BASE]);
    let policy = fx.tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[images]\napproved = [\"registry.example.com/*\"]\nmax_age_days = 0\n",
    )
    .unwrap();
    let out = fx.tmp.path().join("r.json");
    let o = shipshape(&[
        "scan",
        "--host",
        SOCK,
        "-q",
        "--policy",
        policy.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out);
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap();
    let f = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "container.unapproved-image")
        .unwrap();
    assert_eq!(
        f["evidence"],
        "docker.io/shipshape-test/base matches no approved pattern"
    );
    let img = r["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tags"].as_array().unwrap().iter().any(|t| t == BASE))
        .unwrap();
    assert!(
        img["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"] == "image.old"),
        "max_age_days = 0 makes every image old"
    );
}

#[test]
fn bad_policy_files_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[images]\nmax_age_days = 90\n\n[severity]\n\"container.does-not-exist\" = \"low\"\n",
    )
    .unwrap();
    let o = shipshape(&[
        "scan",
        "--host",
        "unix:///nonexistent.sock",
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains(&format!("{}:5:1", policy.display())), "{e}");
    assert!(
        e.contains("unknown rule id 'container.does-not-exist'"),
        "{e}"
    );

    let o = shipshape(&["scan", "--policy", "/nonexistent/policy.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read policy file /nonexistent/policy.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unreachable_engines_exit_3_with_specific_messages() {
    let o = shipshape(&["scan", "--host", "unix:///nonexistent/docker.sock"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("/nonexistent/docker.sock (from --host flag) does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty(), "no report, not an empty one");

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let o = shipshape(&["scan", "--host", &format!("tcp://127.0.0.1:{port}")]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("cannot reach the engine at tcp://127.0.0.1"),
        "{}",
        stderr(&o)
    );

    // ssh: the tunnel's own failure is the reason (or that there is no
    // ssh client on this machine).
    let o = shipshape(&["scan", "--host", "ssh://me@ssit-no-such-host.invalid"]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(
        e.contains("ssh tunnel to me@ssit-no-such-host.invalid failed")
            || e.contains("cannot start ssh"),
        "{e}"
    );
}

#[test]
fn docker_host_is_honoured() {
    engine();
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args(["scan", "-q"])
        .env("DOCKER_HOST", SOCK)
        .env("DOCKER_CONTENT_TRUST", "1")
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["engine"]["found_by"], "DOCKER_HOST");
    let ids: Vec<&str> = r["engine_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&"engine.no-content-trust"),
        "DOCKER_CONTENT_TRUST=1 is seen: {ids:?}"
    );
}

#[test]
fn permission_denied_says_what_to_do() {
    engine();
    let is_root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let setpriv = Path::new("/usr/bin/setpriv");
    if !is_root || !setpriv.exists() {
        eprintln!("skipped: needs root and setpriv to act as an unprivileged user");
        return;
    }
    // The socket is root:docker 0660; `nobody` may not use it.
    let o = Command::new(setpriv)
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_shipshape"),
            "scan",
            "--host",
            SOCK,
        ])
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("permission denied on /var/run/docker.sock"),
        "{e}"
    );
    assert!(e.contains("usermod -aG docker"), "{e}");
}

#[test]
fn unwritable_output_exits_2_and_keeps_the_old_report() {
    let _serial = serial();
    engine();
    let dir = tempfile::tempdir().unwrap();
    let o = shipshape(&[
        "scan",
        "--host",
        SOCK,
        "-q",
        "-o",
        dir.path().join("missing/r.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("the folder") && stderr(&o).contains("does not exist"),
        "{}",
        stderr(&o)
    );

    // A report already there, then a failed write next to it: untouched,
    // and no temporary file left behind.
    let report = dir.path().join("r.json");
    std::fs::write(&report, "previous").unwrap();
    let o = shipshape(&[
        "scan",
        "--host",
        SOCK,
        "-q",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("it is a directory"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "previous");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["r.json"]);

    // A successful write replaces it whole.
    let o = shipshape(&["scan", "--host", SOCK, "-q", "-o", report.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        read_json(&report)["schema_version"],
        shipshape::report::SCHEMA_VERSION
    );
}

#[test]
fn rules_lists_the_catalogue() {
    let o = shipshape(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    for r in shipshape::rules::ALL {
        assert!(text.contains(r.id), "{} missing", r.id);
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = shipshape(&["scan", "--fail-on", "severe"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown severity 'severe'"),
        "{}",
        stderr(&o)
    );
    let o = shipshape(&["scan", "--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn audit_verify_reports_the_first_tampered_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut log =
        shipshape::audit::AuditLog::open(&dir.path().join("audit.jsonl"), 1 << 20).unwrap();
    for i in 0..4 {
        log.append("scan", serde_json::json!({ "n": i })).unwrap();
    }
    drop(log);
    let o = shipshape(&["audit", "verify", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("intact: 4 records"));

    let file = dir.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("\"n\":2", "\"n\":7");
    std::fs::write(&file, text).unwrap();
    let o = shipshape(&["audit", "verify", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{}:3: record 3 was edited", file.display())),
        "{out}"
    );

    let o = shipshape(&["audit", "verify", "/nonexistent/audit"]);
    assert_eq!(o.status.code(), Some(2));

    // The log file itself works too, and --audit-log is the default path.
    let o = shipshape(&["audit", "verify", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let o = shipshape(&["--audit-log", file.to_str().unwrap(), "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn watch_refuses_a_log_it_cannot_write_and_one_in_use() {
    // Unwritable: a file where the directory should be.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let o = shipshape(&[
        "watch",
        "--host",
        "unix:///nonexistent.sock",
        "--audit-log",
        blocker.join("audit.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("audit log"), "{}", stderr(&o));

    // In use by another shipshape: refused, nothing written by this one.
    let file = dir.path().join("busy.jsonl");
    let held = shipshape::audit::AuditLog::open(&file, 1 << 20).unwrap();
    let o = shipshape(&[
        "watch",
        "--host",
        "unix:///nonexistent.sock",
        "--audit-log",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("in use by another shipshape"),
        "{}",
        stderr(&o)
    );
    drop(held);
}

/// `shipshape ARGS…`, given at most a minute.
fn shipshape_within_a_minute(args: &[&str]) -> Output {
    output_within(
        Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .args(args)
            .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
            .env("HOME", "/nonexistent-home")
            .env("XDG_CONFIG_HOME", "/nonexistent-config"),
        60,
    )
}

/// Issue 39, D16 and D17: a file a user names that is not a regular file —
/// a FIFO nobody writes to, `/dev/zero`, a folder — ends at once with exit
/// code 2 and a message naming it and saying why (before: a hang, or 12 GB
/// read); an EPSS file with no usable row is refused and says why.
#[test]
fn named_files_that_are_not_regular_files_end_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("named.pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let fifo = fifo.to_str().unwrap();
    let folder = dir.path().to_str().unwrap();
    let db = dir.path().join("db");
    let db = db.to_str().unwrap();
    let nowhere = "unix:///nonexistent.sock";
    let big = dir.path().join("big-policy.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(5 << 20)
        .unwrap();
    let big = big.to_str().unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["scan", "--host", nowhere, "--policy", fifo],
            fifo,
            "not a regular file (a named pipe)",
        ),
        (
            &["scan", "--host", nowhere, "--policy", "/dev/zero"],
            "/dev/zero",
            "under /dev",
        ),
        (
            &["scan", "--host", nowhere, "--policy", folder],
            folder,
            "(a folder)",
        ),
        (
            &["scan", "--host", nowhere, "--policy", big],
            big,
            "over the ceiling of 4 MiB for a policy file",
        ),
        (
            &["scan", "--host", nowhere, "--baseline", fifo],
            fifo,
            "named pipe",
        ),
        (
            &["scan", "--host", nowhere, "--baseline", "/dev/zero"],
            "/dev/zero",
            "under /dev",
        ),
        (&["audit", "verify", fifo], fifo, "named pipe"),
        (&["audit", "verify", "/dev/zero"], "/dev/zero", "under /dev"),
        (
            &["--audit-log", fifo, "audit", "verify"],
            fifo,
            "named pipe",
        ),
        (&["--vulndb", db, "db", "import", fifo], fifo, "named pipe"),
    ];
    for (args, names, says) in cases {
        let o = shipshape_within_a_minute(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(names) && err.contains(says), "{args:?}: {err}");
    }

    // EPSS scores of which no row is usable: refused, saying why; the
    // version line's escape sequence goes nowhere.
    let epss = dir.path().join("epss.csv");
    std::fs::write(
        &epss,
        "#model_version:v\x1b[31m,score_date:2026-12-07\ncve,epss,percentile\n\
         CVE-1,NaN,inf\nCVE-2,-1e308,1e309\n=cmd,abc,def\n",
    )
    .unwrap();
    let o = shipshape_within_a_minute(&["--vulndb", db, "db", "import", epss.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no usable row: 3 rows read")
            && err.contains("1 without a CVE id")
            && err.contains("2 with a score or percentile that is not a number from 0 to 1"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "{err:?}");
    assert!(
        !std::path::Path::new(db).join("exploits.json.gz").exists(),
        "nothing stored"
    );
}
