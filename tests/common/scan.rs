//! Running the `shipshape` binary the way a user does, and reading its
//! JSON report: shared by the real-engine tests of packages and
//! vulnerabilities.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_shipshape"))
}

/// `shipshape --vulndb DB ARGS…`, with no user configuration.
pub fn shipshape(db: &Path, args: &[&str]) -> std::process::Output {
    shipshape_env(db, args, &[])
}

/// The same, with extra environment variables.
pub fn shipshape_env(db: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(bin())
        .arg("--vulndb")
        .arg(db)
        .args(args)
        .env("HOME", "/nonexistent-home")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// `shipshape scan` into `<dir>/<name>`, parsed.
pub fn scan_json(db: &Path, dir: &Path, name: &str, extra: &[&str]) -> Value {
    scan_json_env(db, dir, name, extra, &[])
}

/// The same, with extra environment variables.
pub fn scan_json_env(
    db: &Path,
    dir: &Path,
    name: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Value {
    let path = dir.join(name);
    let mut args = vec!["scan", "-q"];
    args.extend(extra);
    args.extend(["-o", path.to_str().unwrap()]);
    let out = shipshape_env(db, &args, env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The report's entry of the image tagged `tag`.
pub fn image<'a>(r: &'a Value, tag: &str) -> &'a Value {
    r["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tags"].as_array().unwrap().iter().any(|t| t == tag))
        .unwrap_or_else(|| panic!("image {tag} in the report"))
}

/// The CVE ids (first word of the evidence) of a rule's findings.
pub fn cves(findings: &Value, rule: &str) -> BTreeSet<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .map(|f| {
            f["evidence"]
                .as_str()
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A set of strings.
pub fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}
