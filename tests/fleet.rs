//! Several engines in one scan, on real engines: two private dockerds (one
//! also served over TLS on loopback, with certificates made here) and the
//! system engine, found through docker contexts, `--host` and the sockets.
//! The same engine reached two ways is scanned once; a container called the
//! same on two engines is two containers; a waiver can name an engine; an
//! engine that cannot be reached is reported, and only when none can be is
//! the exit code 3.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use sha2::{Digest, Sha256};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate.
fn certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.cnf"), "extendedKeyUsage=clientAuth\n").unwrap();
    for args in [
        &["genrsa", "-out", "ca-key.pem", "2048"][..],
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca-key.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ssit-ca",
            "-out",
            "ca.pem",
        ],
        &["genrsa", "-out", "server-key.pem", "2048"],
        &[
            "req",
            "-new",
            "-key",
            "server-key.pem",
            "-subj",
            "/CN=127.0.0.1",
            "-out",
            "server.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server-cert.pem",
        ],
        &["genrsa", "-out", "key.pem", "2048"],
        &[
            "req",
            "-new",
            "-key",
            "key.pem",
            "-subj",
            "/CN=client",
            "-out",
            "client.csr",
        ],
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "client.cnf",
            "-out",
            "cert.pem",
        ],
    ] {
        openssl(dir, args);
    }
}

/// A docker context as the CLI stores it (`contexts/meta/<sha256>/meta.json`,
/// TLS files in `contexts/tls/<sha256>/docker/`).
fn context(config: &Path, name: &str, host: &str, tls_from: Option<&Path>) {
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = config.join("contexts/meta").join(&hash);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": { "docker": { "Host": host, "SkipTLSVerify": false } }
        })
        .to_string(),
    )
    .unwrap();
    if let Some(src) = tls_from {
        let tls = config.join("contexts/tls").join(&hash).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(src.join(f), tls.join(f)).unwrap();
        }
    }
}

/// `shipshape scan` run inside `netns` (where the TLS listener is), with
/// its own docker config directory.
fn scan(
    netns: &str,
    config: &Path,
    policy: &Path,
    args: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let out_file = config.join(format!("report-{}.json", args.len()));
    let o = Command::new("nsenter")
        .arg(format!("--net={netns}"))
        .arg(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "--format", "json", "--no-vulns", "--no-drift", "-o"])
        .arg(&out_file)
        .arg("--policy")
        .arg(policy)
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .output()
        .unwrap();
    let report = std::fs::read_to_string(&out_file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (
        o.status.code(),
        report,
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn several_engines_in_one_scan() {
    let _serial = serial();
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    certificates(&certs);
    let tls_args = vec![
        "--tlsverify".to_string(),
        format!("--tlscacert={}", certs.join("ca.pem").display()),
        format!("--tlscert={}", certs.join("server-cert.pem").display()),
        format!("--tlskey={}", certs.join("server-key.pem").display()),
        "--host=tcp://127.0.0.1:2376".to_string(),
    ];
    let a = match common::private::PrivateEngine::start_with("fleet-a", tls_args) {
        Ok(e) => e,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let b = private_engine_or_skip!("fleet-b");
    a.load(BASE);
    b.load(BASE);
    let prefix = format!("ssit-fleet-{}", std::process::id());
    let web = format!("{prefix}-web");
    a.docker(&["create", "--name", &web, "--privileged", BASE]);
    b.docker(&["create", "--name", &web, "--privileged", BASE]);

    let config = tmp.path().join("docker");
    // Engine A twice: by --host (its socket) and by a TLS context.
    context(&config, "a-tls", "tcp://127.0.0.1:2376", Some(&certs));
    context(&config, "b", &b.host(), None);
    context(&config, "gone", "unix:///nonexistent/ssit.sock", None);
    let policy = tmp.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[waiver]]\nrule = \"container.privileged\"\ntarget = \"{web}\"\nengine = \"b\"\nreason = \"lab engine, ticket SEC-9\"\n"
        ),
    )
    .unwrap();

    let (code, r, stderr) = scan(
        &a.netns_path(),
        &config,
        &policy,
        &["--all", "--host", &a.host()],
    );
    assert_eq!(code, Some(0), "some engines answered: {stderr}");
    assert_eq!(r["schema_version"], 3);
    let engines = r["engines"].as_array().unwrap();
    let by_name = |n: &str| engines.iter().find(|e| e["name"] == n);
    // A, reached by --host and again through its TLS context: scanned once.
    let a_label = a.sock.display().to_string();
    let ea = by_name(&a_label).unwrap_or_else(|| panic!("engine A in {engines:#?}"));
    assert_eq!(ea["reachable"], true);
    assert_eq!(ea["id"], a.id());
    assert_eq!(
        ea["also_reached_as"],
        serde_json::json!(["tcp://127.0.0.1:2376 (TLS)"]),
        "{stderr}"
    );
    assert!(by_name("a-tls").is_none(), "the same engine is shown once");
    let eb = by_name("b").unwrap();
    assert_eq!(eb["reachable"], true);
    assert_eq!(eb["id"], b.id());
    let gone = by_name("gone").unwrap();
    assert_eq!(gone["reachable"], false);
    assert!(
        gone["error"].as_str().unwrap().contains("nonexistent"),
        "{gone}"
    );
    assert!(
        r["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("engine gone (unix:///nonexistent/ssit.sock) not scanned")),
        "{}",
        r["warnings"]
    );
    // The system engine's socket exists: it is one of them too.
    assert!(
        engines
            .iter()
            .any(|e| e["name"] == "Docker system" && e["reachable"] == true),
        "{engines:#?}"
    );

    // "web" on two engines: two containers, each tied to its engine, with
    // exactly its own findings; the waiver names engine b only.
    let webs: Vec<&serde_json::Value> = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == web.as_str())
        .collect();
    assert_eq!(webs.len(), 2);
    let privileged = |c: &serde_json::Value| {
        c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule_id"] == "container.privileged")
            .cloned()
            .unwrap()
    };
    let on_a = webs
        .iter()
        .find(|c| c["engine"] == a_label.as_str())
        .unwrap();
    let on_b = webs.iter().find(|c| c["engine"] == "b").unwrap();
    assert_eq!(privileged(on_a)["waived"], false);
    assert_eq!(privileged(on_b)["waived"], true);
    assert_eq!(
        privileged(on_b)["waiver"]["reason"],
        "lab engine, ticket SEC-9"
    );
    let ids = |c: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = c["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(on_a),
        ids(on_b),
        "the same container, the same findings"
    );
    assert!(ids(on_a).contains(&"container.privileged".to_string()));
    // Each engine's images are its own.
    assert!(
        r["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["engine"] == "b" && i["tags"].as_array().unwrap().iter().any(|t| t == BASE))
    );
    // Fail-on follows the findings of the engines that answered.
    let (code, _, _) = scan(
        &a.netns_path(),
        &config,
        &policy,
        &[
            "--host",
            &a.host(),
            "--host",
            "unix:///nonexistent/ssit.sock",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(code, Some(1), "A's privileged container is critical");

    // No engine at all: exit 3.
    let (code, _, stderr) = scan(
        &a.netns_path(),
        &config,
        &policy,
        &[
            "--host",
            "unix:///nonexistent/one.sock",
            "--host",
            "unix:///nonexistent/two.sock",
        ],
    );
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stderr.contains("no engine could be scanned"), "{stderr}");
}
