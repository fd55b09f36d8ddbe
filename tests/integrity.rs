//! Image signatures against a real engine and a real registry: Debian's
//! `docker-registry` (distribution 2.8) started by the test on a free
//! loopback port, images made by `docker import` and pushed by the engine
//! (so they have repository digests), signatures made here with `openssl`
//! in cosign's key-based format and uploaded with plain HTTP PUTs (the
//! test writes to its own registry; shipshape only reads). Then
//! `shipshape verify` is run for each case and its exit code and JSON
//! checked: verified, signed by another key, a signature of another
//! digest, a tampered signature, unsigned, and offline (not checked — and
//! the registry's log proves no request was made).
//!
//! Under `scripts/on-engine-28.sh` the engine lives in its own network
//! namespace (`SHIPSHAPE_ENGINE_NETNS`): the registry, curl and shipshape
//! then run in that namespace, so the engine reaches the registry on
//! 127.0.0.1 as on the system engine.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// A command, in the engine's network namespace when it has its own.
fn cmd(program: &str) -> Command {
    match std::env::var("SHIPSHAPE_ENGINE_NETNS") {
        Ok(ns) if !ns.is_empty() => {
            let mut c = Command::new("nsenter");
            c.arg(format!("--net={ns}")).arg(program);
            c
        }
        _ => Command::new(program),
    }
}

/// A bash script (in the engine's namespace when it has one); its stdout.
fn sh(script: &str) -> String {
    let out = common::output_within(cmd("bash").args(["-euc", script]), 60);
    assert!(
        out.status.success(),
        "script failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The registry, stopped and its storage removed when dropped; the
/// images tagged for it removed too.
struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    tags: Vec<String>,
}

impl Registry {
    fn start() -> Self {
        common::engine();
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = cmd("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start docker-registry (scripts/engine-up.sh installs it)");
        let r = Self {
            child,
            port,
            dir,
            tags: Vec::new(),
        };
        sh(&format!(
            "for i in $(seq 1 100); do curl -sf http://127.0.0.1:{port}/v2/ >/dev/null && exit 0; sleep 0.1; done; exit 1"
        ));
        r
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How many requests the registry has logged for `/v2/<repo>/`.
    fn requests_for(&self, repo: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join("registry.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&format!("/v2/{repo}/")) && l.contains("response completed"))
            .count()
    }

    /// An image of one file of distinct content, imported, tagged
    /// `127.0.0.1:PORT/integ-x/<name>:1` and pushed; its repository digest.
    fn push_image(&mut self, name: &str) -> String {
        let root = self.dir.path().join(format!("rootfs-{name}"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("content"),
            format!("integ {name} {}\n", self.port),
        )
        .unwrap();
        let tar = self.dir.path().join(format!("{name}.tar"));
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(ok.success());
        let tag = format!("{}/integ-x/{name}:1", self.host());
        self.tags.push(tag.clone());
        common::docker(&["import", tar.to_str().unwrap(), &tag]);
        common::docker(&["push", &tag]);
        let digest = common::docker(&["image", "inspect", "-f", "{{json .RepoDigests}}", &tag]);
        let list: Vec<String> = serde_json::from_str(&digest).unwrap();
        let prefix = format!("{}/integ-x/{name}@sha256:", self.host());
        list.into_iter()
            .find(|d| d.starts_with(&prefix))
            .expect("the push records a repository digest")
    }

    /// Upload a cosign signature for `repo_digest`: the payload names
    /// `signed_digest` and is signed by `key` (then passed through
    /// `tamper`), as the `sha256-<hex>.sig` tag's manifest.
    fn sign(
        &self,
        repo_digest: &str,
        signed_digest: &str,
        key: &Path,
        tamper: impl Fn(Vec<u8>) -> Vec<u8>,
    ) {
        let (name, digest) = repo_digest.split_once('@').unwrap();
        let repo = name.split_once('/').unwrap().1;
        let work = tempfile::tempdir_in(self.dir.path()).unwrap();
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{name}"}},"image":{{"docker-manifest-digest":"{signed_digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let payload_path = work.path().join("payload.json");
        std::fs::write(&payload_path, &payload).unwrap();
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(key)
            .arg(&payload_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        use base64::Engine as _;
        let sig = base64::engine::general_purpose::STANDARD.encode(tamper(out.stdout));
        let config_path = work.path().join("config.json");
        std::fs::write(&config_path, "{}").unwrap();
        let sha = |p: &Path| {
            use sha2::Digest as _;
            let b = std::fs::read(p).unwrap();
            (format!("sha256:{:x}", sha2::Sha256::digest(&b)), b.len())
        };
        let (pd, ps) = sha(&payload_path);
        let (cd, cs) = sha(&config_path);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{cs},"digest":"{cd}"}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":{ps},"digest":"{pd}","annotations":{{"dev.cosignproject.cosign/signature":"{sig}"}}}}]}}"#
        );
        let manifest_path = work.path().join("manifest.json");
        std::fs::write(&manifest_path, manifest).unwrap();
        let base = format!("http://{}/v2/{repo}", self.host());
        let upload = |file: &Path, digest: &str| {
            format!(
                "loc=$(curl -sf -D - -o /dev/null -X POST '{base}/blobs/uploads/' | tr -d '\\r' | sed -n 's/^[Ll]ocation: //p')\n\
                 case \"$loc\" in http*) ;; *) loc=\"http://{host}$loc\";; esac\n\
                 case \"$loc\" in *\\?*) sep='&';; *) sep='?';; esac\n\
                 curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary @{file} \"$loc${{sep}}digest={digest}\" >/dev/null\n",
                host = self.host(),
                file = file.display()
            )
        };
        let hex = digest.trim_start_matches("sha256:");
        sh(&format!(
            "{}{}curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @{} '{base}/manifests/sha256-{hex}.sig' >/dev/null",
            upload(&payload_path, &pd),
            upload(&config_path, &cd),
            manifest_path.display()
        ));
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        for t in &self.tags {
            common::docker_quiet(&["rmi", t]);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A P-256 key pair made by openssl: (private, public).
fn keypair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    for args in [
        vec![
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            key.to_str().unwrap(),
        ],
        vec![
            "ec",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ],
    ] {
        let out = Command::new("openssl").args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (key, public)
}

/// `shipshape verify --json` with a signature cache of its own: (exit
/// code, the outcome object, stdout).
fn verify(cache: &Path, image: &str, key: &Path, online: bool) -> (i32, Value, String) {
    let mut c = cmd(env!("CARGO_BIN_EXE_shipshape"));
    c.args(["verify", "--json", "--key"])
        .arg(key)
        .arg(image)
        .env("SHIPSHAPE_SIGNATURE_CACHE", cache)
        .env("XDG_CONFIG_HOME", cache.join("config"));
    if online {
        c.arg("--online");
    }
    let out = common::output_within(&mut c, 120);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v[0].clone(), stdout)
}

#[test]
fn cosign_signatures_from_a_local_registry() {
    let _serial = common::serial();
    let mut reg = Registry::start();
    let keys = tempfile::tempdir().unwrap();
    let (a_key, a_pub) = keypair(keys.path(), "a");
    let (b_key, _) = keypair(keys.path(), "b");
    let cache = tempfile::tempdir().unwrap();
    let same = |b: Vec<u8>| b;

    let signed = reg.push_image("signed");
    let other = reg.push_image("other-key");
    let copied = reg.push_image("copied");
    let tampered = reg.push_image("tampered");
    let unsigned = reg.push_image("unsigned");
    let digest_of = |rd: &str| rd.split_once('@').unwrap().1.to_string();

    reg.sign(&signed, &digest_of(&signed), &a_key, same);
    reg.sign(&other, &digest_of(&other), &b_key, same);
    // A valid signature by the right key, of another image's digest.
    reg.sign(&copied, &digest_of(&signed), &a_key, same);
    // The DER SEQUENCE's tag changed: not an ECDSA signature any more.
    reg.sign(&tampered, &digest_of(&tampered), &a_key, |mut b| {
        b[0] ^= 0x01;
        b
    });

    // Offline first, with an empty cache: not checked, and no request
    // reached the registry.
    let before = reg.requests_for("integ-x/signed");
    let (code, out, _) = verify(cache.path(), &signed, &a_pub, false);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["state"], "not_checked", "{out}");
    assert!(out["reason"].as_str().unwrap().contains("offline"), "{out}");
    assert_eq!(
        reg.requests_for("integ-x/signed"),
        before,
        "an offline check made a request"
    );

    // Online.
    let (code, out, _) = verify(cache.path(), &signed, &a_pub, true);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["state"], "verified", "{out}");
    assert!(out["key"].as_str().unwrap().starts_with("sha256:"), "{out}");
    assert!(reg.requests_for("integ-x/signed") > before);

    let (code, out, _) = verify(cache.path(), &other, &a_pub, true);
    assert_eq!(
        (code, out["state"].as_str()),
        (1, Some("signed_by_other_key")),
        "{out}"
    );

    let (code, out, _) = verify(cache.path(), &copied, &a_pub, true);
    assert_eq!(
        (code, out["state"].as_str()),
        (1, Some("wrong_digest")),
        "{out}"
    );
    assert_eq!(out["signed"], digest_of(&signed), "{out}");

    let (code, out, _) = verify(cache.path(), &tampered, &a_pub, true);
    assert_eq!((code, out["state"].as_str()), (1, Some("invalid")), "{out}");

    let (code, out, _) = verify(cache.path(), &unsigned, &a_pub, true);
    assert_eq!(
        (code, out["state"].as_str()),
        (1, Some("unsigned")),
        "{out}"
    );

    // Offline again: the signatures fetched above are judged from the
    // cache (and say when they were fetched), without a request.
    let before = reg.requests_for("integ-x/signed");
    let (code, out, _) = verify(cache.path(), &signed, &a_pub, false);
    assert_eq!(
        (code, out["state"].as_str()),
        (0, Some("verified")),
        "{out}"
    );
    assert!(out["fetched"].is_string(), "{out}");
    assert_eq!(reg.requests_for("integ-x/signed"), before);

    // By the engine's name for the image (tag), not only a digest.
    let tag = format!("{}/integ-x/signed:1", reg.host());
    let (code, out, _) = verify(cache.path(), &tag, &a_pub, false);
    assert_eq!(
        (code, out["state"].as_str()),
        (0, Some("verified")),
        "{out}"
    );

    // The scan, with a policy requiring the key for these repositories:
    // each image's `integrity` in the JSON report, and the image.signature
    // finding for those that fail.
    let policy = keys.path().join("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[[integrity.require]]\nimages = \"127.0.0.1:*/integ-x/*\"\nkeys = [\"{}\"]\nsigner = \"integ release key\"\n",
            a_pub.display()
        ),
    )
    .unwrap();
    let fresh = tempfile::tempdir().unwrap();
    // The report goes to a file: a report larger than a pipe's buffer
    // would block a child whose output is read only at its end.
    let scan = |cache: &Path, online: bool| -> Value {
        let file = cache.join("report.json");
        let mut c = cmd(env!("CARGO_BIN_EXE_shipshape"));
        c.args(["scan", "-q", "--no-vulns", "--no-drift", "--policy"])
            .arg(&policy)
            .arg("-o")
            .arg(&file)
            .env("SHIPSHAPE_SIGNATURE_CACHE", cache)
            .env("SHIPSHAPE_VULNDB", cache.join("vulndb"))
            .env("XDG_CONFIG_HOME", cache.join("config"));
        if online {
            c.arg("--online");
        }
        let out = common::output_within(&mut c, 300);
        let text = std::fs::read(&file).unwrap_or_default();
        serde_json::from_slice(&text)
            .unwrap_or_else(|e| panic!("scan: {e}\n{}", String::from_utf8_lossy(&out.stderr)))
    };
    let image = |report: &Value, name: &str| -> Value {
        let tag = format!("{}/integ-x/{name}:1", reg.host());
        report["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["tags"].as_array().unwrap().iter().any(|t| t == &tag))
            .unwrap_or_else(|| panic!("{tag} not in the report"))
            .clone()
    };
    let rules = |img: &Value| -> Vec<String> {
        img["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // Offline with nothing cached: not checked, and no finding.
    let report = scan(fresh.path(), false);
    let img = image(&report, "signed");
    assert_eq!(img["integrity"]["state"], "not_checked", "{img}");
    assert!(!rules(&img).contains(&"image.signature".to_string()));
    // Online.
    let report = scan(fresh.path(), true);
    for (name, state, finding) in [
        ("signed", "verified", false),
        ("other-key", "signed_by_other_key", true),
        ("copied", "wrong_digest", true),
        ("tampered", "invalid", true),
        ("unsigned", "unsigned", true),
    ] {
        let img = image(&report, name);
        assert_eq!(img["integrity"]["state"], state, "{name}: {img}");
        assert_eq!(
            rules(&img).contains(&"image.signature".to_string()),
            finding,
            "{name}: {img}"
        );
    }
    assert_eq!(
        image(&report, "signed")["integrity"]["signer"],
        "integ release key"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = "127.0.0.1:1/integ-x/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    // No key named, none in the policy.
    let out = common::output_within(
        Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .args(["verify", d])
            .env("XDG_CONFIG_HOME", dir.path())
            .env("SHIPSHAPE_SIGNATURE_CACHE", dir.path()),
        30,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no key"));
    // A private key instead of a public one: refused without echoing it.
    let (private, _) = keypair(dir.path(), "p");
    let out = common::output_within(
        Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .args(["verify", "--key"])
            .arg(&private)
            .arg(d)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("SHIPSHAPE_SIGNATURE_CACHE", dir.path()),
        30,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PRIVATE"), "{err}");
    let body = std::fs::read_to_string(&private).unwrap();
    let secret_line = body.lines().nth(1).unwrap();
    assert!(!err.contains(secret_line));
    // An unreachable registry is "not checked" (exit 1), never verified.
    let (_, public) = keypair(dir.path(), "q");
    let out = common::output_within(
        Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .args(["verify", "--online", "--json", "--key"])
            .arg(&public)
            .arg(d)
            .env("XDG_CONFIG_HOME", dir.path())
            .env("SHIPSHAPE_SIGNATURE_CACHE", dir.path()),
        60,
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["state"], "not_checked", "{v}");
}
