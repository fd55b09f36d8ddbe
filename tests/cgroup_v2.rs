//! A cgroup v2 engine, judged as one (issue 26): a private Engine (28 in
//! CI's second pass) that sees a pure cgroup2 hierarchy. On v2 the engine's
//! default cgroup namespace is private, so `--cgroupns host` is the
//! container's own choice; the release_agent escape of cgroup v1 does not
//! exist, so SYS_ADMIN without AppArmor is its capability grade, not a host
//! takeover; a limit the engine cannot enforce is discarded by the engine
//! and shown as no limit; `/info` warnings are engine findings.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::process::Command;

use common::*;

#[test]
fn a_cgroup_v2_engine_is_judged_as_one() {
    let _serial = serial();
    let e = match common::private::PrivateEngine::start_cgroup2("cg2") {
        Ok(e) => e,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    assert_eq!(e.docker(&["info", "--format", "{{.CgroupVersion}}"]), "2");
    e.load(BASE);
    let rows: [(&str, &[&str]); 4] = [
        ("default", &[]),
        ("cgns-host", &["--cgroupns", "host"]),
        ("sysadmin", &["--cap-add", "SYS_ADMIN"]),
        ("memory", &["--memory", "64m"]),
    ];
    let prefix = format!("ssit-cg2-{}", std::process::id());
    for (name, flags) in rows {
        let mut args = vec!["create", "--name"];
        let full = format!("{prefix}-{name}");
        args.push(&full);
        args.extend(flags);
        args.push(BASE);
        e.docker(&args);
    }
    assert_eq!(
        e.docker(&[
            "inspect",
            "--format",
            "{{.HostConfig.CgroupnsMode}}",
            &format!("{prefix}-default")
        ]),
        "private",
        "v2's default"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args([
            "scan",
            "-q",
            "--no-vulns",
            "--no-drift",
            "--host",
            &e.host(),
            "-o",
        ])
        .arg(&out)
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rules = |name: &str| -> Vec<String> {
        r["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("{prefix}-{name}").as_str())
            .unwrap_or_else(|| panic!("{name} in the report"))["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["rule_id"].as_str().unwrap(),
                    f["severity"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert!(
        !rules("default")
            .iter()
            .any(|f| f.starts_with("container.cgroupns-host"))
    );
    assert!(
        rules("cgns-host").contains(&"container.cgroupns-host low".to_string()),
        "{:?}",
        rules("cgns-host")
    );
    let sysadmin = rules("sysadmin");
    assert!(
        sysadmin.contains(&"container.cap-add high".to_string()),
        "{sysadmin:?}"
    );
    assert!(
        !sysadmin
            .iter()
            .any(|f| f.starts_with("container.host-takeover")),
        "{sysadmin:?}"
    );
    // A memory limit the engine could not enforce was discarded by it: no
    // limit, and shipshape says so; where it could, the limit holds.
    let kept = e.docker(&[
        "inspect",
        "--format",
        "{{.HostConfig.Memory}}",
        &format!("{prefix}-memory"),
    ]);
    let unlimited = rules("memory")
        .iter()
        .any(|f| f.starts_with("container.no-memory-limit"));
    assert_eq!(
        unlimited,
        kept == "0",
        "Memory={kept}: {:?}",
        rules("memory")
    );
    // The engine's own warnings (here: the controllers belong to the host's
    // v1 hierarchies) are engine findings.
    let warnings = e.docker(&["info", "--format", "{{json .Warnings}}"]);
    let engine: Vec<String> = r["engines"][0]["engine_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["rule_id"].as_str().unwrap(),
                f["evidence"].as_str().unwrap()
            )
        })
        .collect();
    if warnings.contains("No memory limit support") {
        assert!(
            engine.contains(&"engine.warnings No memory limit support".to_string()),
            "{engine:?}"
        );
    }
}
