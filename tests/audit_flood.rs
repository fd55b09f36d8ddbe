//! Issue 39 (D10): an event flood must not fill the disk. `shipshape watch`
//! runs against an engine whose `/events` floods `exec_start` events
//! (`scripts/flood-events.py`: every other request goes to the real engine)
//! with a small retention setting, then is stopped with Ctrl-C:
//!
//! - the files stay within the retention setting, and old ones were pruned;
//! - the flood in one container is summarised (a `summary` record saying how
//!   many), and the flood spread over many containers is recorded or
//!   summarised, never silently dropped;
//! - `shipshape audit verify` passes, saying that retention pruned the
//!   start; deleting one more old file makes it fail.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_shipshape"))
}

/// A child process killed when the test ends, however it ends.
struct Kill(Option<Child>);

impl Drop for Kill {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn family(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    v.sort();
    v
}

fn records(dir: &Path) -> Vec<Value> {
    family(dir)
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn an_event_flood_is_summarised_the_files_stay_bounded_and_the_chain_verifies() {
    let _g = common::serial();
    common::engine();
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("flood.sock");
    let logdir = tmp.path().join("log");
    let log = logdir.join("audit.jsonl");
    // 5,000 events a second: half of them in one container, half each in
    // a container of its own with a 1.5 KB command line.
    let _flood = Kill(Some(
        Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/flood-events.py"
            ))
            .arg(&sock)
            .args(["--mode", "mixed", "--rate", "5000"])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3 runs scripts/flood-events.py"),
    ));
    let start = Instant::now();
    while !sock.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no flood socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    let stderr = tmp.path().join("watch.err");
    let mut watch = Kill(Some(
        Command::new(bin())
            .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
            .args(["watch", "--no-drift", "--poll", "60", "--audit-keep", "1"])
            .arg("--host")
            .arg(format!("unix://{}", sock.display()))
            .arg("--audit-log")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .expect("start shipshape watch"),
    ));
    // Until retention has pruned at least once (1 MiB kept, 128 KiB files).
    let start = Instant::now();
    while !records(&logdir).iter().any(|r| r["kind"] == "retention") {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no retention record within 120 s: {} file(s), kinds {:?}\n--- stderr ---\n{}",
            family(&logdir).len(),
            records(&logdir)
                .iter()
                .map(|r| r["kind"].as_str().unwrap_or("").to_string())
                .collect::<std::collections::BTreeSet<_>>(),
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    std::thread::sleep(Duration::from_secs(3));
    let mut child = watch.0.take().unwrap();
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "watch did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");

    // Bounded: 1 MiB and one record of slack, in at most 8 rotated files
    // and the current one.
    let files = family(&logdir);
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert!(bytes <= (1 << 20) + 8192, "{bytes} bytes in {files:?}");
    assert!(files.len() <= 9, "{files:?}");

    let recs = records(&logdir);
    let retention = recs
        .iter()
        .rev()
        .find(|r| r["kind"] == "retention")
        .unwrap();
    assert!(
        retention["data"]["removed"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{retention}"
    );
    // The one container's flood was summarised, saying exactly how much.
    let summaries: Vec<&Value> = recs.iter().filter(|r| r["kind"] == "summary").collect();
    let one = summaries
        .iter()
        .find(|r| r["data"]["name"] == "flood-target")
        .unwrap_or_else(|| panic!("no summary of flood-target among {summaries:#?}"));
    let n: u64 = one["data"]["attributes"]["summarised"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(n > 0);
    assert!(
        one["data"]["detail"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{n} more exec_start in flood-target between")),
        "{one}"
    );
    // Individual records of that container are the first few of a window,
    // never thousands.
    let single = recs
        .iter()
        .filter(|r| r["kind"] == "event" && r["data"]["name"] == "flood-target")
        .count();
    assert!(
        single < 200,
        "{single} one-by-one records of the flooded container"
    );
    assert!(
        recs.iter().any(|r| r["kind"] == "session_end"),
        "flushed at stop"
    );

    // The chain verifies from the oldest kept file, and says retention
    // pruned the start.
    let out = Command::new(bin())
        .args(["audit", "verify"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("audit log intact"), "{text}");
    assert!(text.contains("retention removed them"), "{text}");

    // Deleting the oldest kept file is not retention: tampering.
    std::fs::remove_file(&files[0]).unwrap();
    let out = Command::new(bin())
        .args(["audit", "verify"])
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("no retention record accounts for them"),
        "{text}"
    );
}
