//! Issue 12: the Debian package installs and runs. `scripts/build-deb.sh`
//! packages the test build's own binary; `dpkg -i` installs it on this
//! machine; `shipshape --version` and `shipshape scan` run from
//! `/usr/bin`; the desktop entry, icons and metadata are where a desktop
//! looks for them; `dpkg -r` removes it all again. Skipped (with the
//! reason) without root or dpkg, or when a shipshape package is already
//! installed: the test never replaces a user's own installation.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::process::Command;

use common::*;

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

#[test]
fn the_deb_installs_runs_and_removes_cleanly() {
    let root = run(Command::new("id").arg("-u")).stdout == b"0\n";
    let dpkg = Command::new("dpkg").arg("--version").output().is_ok();
    if !root || !dpkg {
        eprintln!("SKIPPED: needs root and dpkg");
        return;
    }
    let installed = run(Command::new("dpkg-query").args(["-W", "-f=${Status}", "shipshape"]));
    if String::from_utf8_lossy(&installed.stdout).contains("installed") {
        eprintln!("SKIPPED: a shipshape package is installed already; not replacing it");
        return;
    }
    engine();
    let out = tempfile::tempdir().unwrap();
    let built = run(Command::new("bash")
        .arg(repo_root().join("scripts/build-deb.sh"))
        .arg(out.path())
        .env("SHIPSHAPE_BIN", env!("CARGO_BIN_EXE_shipshape"))
        .env("DEB_COMPRESSION", "gzip"));
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let printed = String::from_utf8_lossy(&built.stdout).to_string();
    let (deb, dbgsym) = match printed.lines().collect::<Vec<_>>()[..] {
        [deb, dbgsym] => (deb.to_string(), dbgsym.to_string()),
        _ => panic!("two packages expected: {printed}"),
    };
    assert!(
        deb.ends_with(".deb") && dbgsym.contains("shipshape-dbgsym_"),
        "{printed}"
    );

    // Removed again whatever happens below.
    struct Remove;
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = Command::new("dpkg")
                .args(["-r", "shipshape-dbgsym", "shipshape"])
                .output();
        }
    }
    let _remove = Remove;
    let install = run(Command::new("dpkg").args(["-i", &deb, &dbgsym]));
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    let version = run(Command::new("/usr/bin/shipshape").arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("shipshape {}", env!("CARGO_PKG_VERSION"))
    );
    let report = out.path().join("report.json");
    let scan = run(Command::new("/usr/bin/shipshape")
        .args(["scan", "--no-vulns", "--no-drift", "-q", "-o"])
        .arg(&report)
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .env_remove("DOCKER_HOST"));
    assert_eq!(
        scan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(r["containers"].is_array() && r["engine"]["version"].is_string());

    for f in [
        "/usr/share/applications/shipshape.desktop",
        "/usr/share/icons/hicolor/256x256/apps/shipshape.png",
        "/usr/share/icons/hicolor/scalable/apps/shipshape.svg",
        "/usr/share/metainfo/io.github.shipshape.shipshape.metainfo.xml",
    ] {
        assert!(std::path::Path::new(f).exists(), "{f} installed");
    }
    // The installed binary carries neither debug info nor a symbol table
    // (both are in the -dbgsym package) and names its debug file.
    let sections = run(Command::new("objdump").args(["-h", "/usr/bin/shipshape"]));
    let sections = String::from_utf8_lossy(&sections.stdout);
    assert!(!sections.contains(".debug_info"), "debug info split off");
    assert!(!sections.contains(".symtab"), "symbols split off");
    assert!(sections.contains(".gnu_debuglink"));
    // A crash report: printed and saved, with a backtrace in which, with
    // the debug symbols installed, Rust's own symbolizer (finding them by
    // build id) names functions and lines.
    let home = tempfile::tempdir().unwrap();
    let crash = || {
        let out = run(Command::new("/usr/bin/shipshape")
            .arg("panic-test")
            .env("XDG_STATE_HOME", home.path())
            .env_remove("RUST_BACKTRACE"));
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let report = crash();
    assert!(report.contains("a panic on purpose"), "{report}");
    assert!(report.contains("shipshape::cli::panic_test"), "{report}");
    assert!(report.contains("src/cli/mod.rs:"), "{report}");
    let saved: Vec<_> = std::fs::read_dir(home.path().join("shipshape/crashes"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(saved.len(), 1, "one report saved");
    let file = std::fs::read_to_string(saved[0].path()).unwrap();
    assert!(file.contains("shipshape::cli::panic_test"), "{file}");
    // Without them, addresses only: the -dbgsym package is what makes the
    // stripped binary's reports usable.
    let removed = run(Command::new("dpkg").args(["-r", "shipshape-dbgsym"]));
    assert!(removed.status.success());
    let bare = crash();
    assert!(bare.contains("a panic on purpose"), "{bare}");
    assert!(!bare.contains("shipshape::cli::panic_test"), "{bare}");

    drop(_remove);
    assert!(
        !std::path::Path::new("/usr/bin/shipshape").exists(),
        "dpkg -r removes it"
    );
}
