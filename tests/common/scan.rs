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

/// Validate a bill with the format's reference tooling: the CycloneDX
/// Python library's strict JSON-schema validator, and the SPDX project's
/// `pyspdxtools`. Installed from the package index into a cache on first
/// use when this Python does not have them.
pub fn validate_sbom(format: &str, path: &Path) {
    static TOOLS: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let extra = TOOLS.get_or_init(|| {
        let probe = |pythonpath: Option<&str>| {
            let mut c = Command::new("python3");
            c.args([
                "-c",
                "import cyclonedx.validation.json, spdx_tools.spdx.clitools.pyspdxtools",
            ]);
            if let Some(p) = pythonpath {
                c.env("PYTHONPATH", p);
            }
            c.output().is_ok_and(|o| o.status.success())
        };
        if probe(None) {
            return None;
        }
        let cache = "/var/cache/shipshape-test/sbom-validators";
        if !probe(Some(cache)) {
            let out = Command::new("python3")
                .args(["-m", "pip", "install", "-q", "--target", cache])
                .args([
                    "cyclonedx-python-lib[json-validation]==11.12.0",
                    "spdx-tools==0.8.5",
                ])
                .output()
                .expect("run pip");
            assert!(
                out.status.success() && probe(Some(cache)),
                "the SBOM validators (cyclonedx-python-lib, spdx-tools) are not installed and \
                 could not be installed from the package index: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(cache.to_string())
    });
    let script = match format {
        "cyclonedx" => {
            "import sys\n\
             from cyclonedx.schema import SchemaVersion\n\
             from cyclonedx.validation.json import JsonStrictValidator\n\
             e = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\n\
             print(e or 'valid')\n\
             sys.exit(1 if e else 0)\n"
        }
        _ => {
            "import sys\n\
             from spdx_tools.spdx.clitools.pyspdxtools import main\n\
             sys.argv = ['pyspdxtools', '-i', sys.argv[1]]\n\
             main()\n"
        }
    };
    let mut c = Command::new("python3");
    c.arg("-c").arg(script).arg(path);
    if let Some(p) = extra {
        c.env("PYTHONPATH", p);
    }
    let out = c.output().expect("run the validator");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !said.contains("rror"),
        "{format} bill {} does not validate: {said}",
        path.display()
    );
}

/// A worker of the system engine that matches against the database in
/// `db` (no stats, no drift, no audit, a slow poll: only what a test
/// triggers happens).
pub fn vulns_worker_config(db: &Path) -> shipshape::watch::docker::WorkerConfig {
    shipshape::watch::docker::WorkerConfig {
        host: Some("unix:///var/run/docker.sock".into()),
        env: shipshape::sources::docker::EnvSnapshot::from_process(),
        policy: std::sync::Arc::new(shipshape::policy::Policy::default()),
        poll_interval: std::time::Duration::from_secs(60),
        host_stats: false,
        container_stats: false,
        max_streams: shipshape::watch::docker::MAX_STREAMS,
        audit: None,
        audit_retention: Default::default(),
        drift: false,
        mode: "test",
        history: false,
        vulns: Some(shipshape::vulndb::store::Store::at(db)),
        fleet: None,
    }
}
