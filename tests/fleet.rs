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
    // Over TLS too, an answer past the ceiling is refused with the reason,
    // never read whole: a 20 MB inspect on engine A, scanned only through
    // its TLS context.
    let labels = tmp.path().join("labels");
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("big{i}={}\n", "x".repeat(50_000)));
    }
    std::fs::write(&labels, text).unwrap();
    let big = format!("{prefix}-big");
    a.docker(&[
        "create",
        "--name",
        &big,
        "--label-file",
        labels.to_str().unwrap(),
        BASE,
    ]);
    let out_file = config.join("report-tls.json");
    let o = Command::new("nsenter")
        .arg(format!("--net={}", a.netns_path()))
        .arg(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "--format", "json", "--no-vulns", "--no-drift", "-o"])
        .arg(&out_file)
        .env("DOCKER_CONFIG", &config)
        .env("DOCKER_CONTEXT", "a-tls")
        .env_remove("DOCKER_HOST")
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let tls: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert!(
        tls["engines"].to_string().contains("2376 (TLS)"),
        "scanned over TLS: {}",
        tls["engines"]
    );
    let names: Vec<&str> = tls["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&web.as_str()), "the rest is scanned");
    assert!(
        !names.contains(&big.as_str()),
        "the oversized one is not read"
    );
    assert!(
        tls["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("not read: the engine's answer is larger than 16 MiB")),
        "{}",
        tls["warnings"]
    );
    a.docker(&["rm", "-f", &big]);

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

/// An sshd on loopback, with keys made here, for `ssh://` engines.
struct Sshd {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sshd {
    fn start() -> Result<Self, String> {
        if !Path::new("/usr/sbin/sshd").exists() {
            let out = Command::new("apt-get")
                .args(["install", "-y", "-qq", "openssh-server"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .output()
                .map_err(|e| format!("apt-get: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "cannot install openssh-server: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let d = dir.path();
        for key in ["host", "id"] {
            let out = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(d.join(key))
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).into_owned());
            }
        }
        std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).map_err(|e| e.to_string())?;
        let port = 22000 + (std::process::id() % 2000) as u16;
        std::fs::write(
            d.join("sshd_config"),
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {auth}\n\
                 PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\n\
                 UsePAM no\nAllowStreamLocalForwarding yes\nPidFile {pid}\n",
                host = d.join("host").display(),
                auth = d.join("authorized_keys").display(),
                pid = d.join("sshd.pid").display(),
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::write(
            d.join("ssh_config"),
            format!(
                "Host 127.0.0.1\n  User root\n  IdentityFile {id}\n  StrictHostKeyChecking no\n  \
                 UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
                id = d.join("id").display()
            ),
        )
        .map_err(|e| e.to_string())?;
        std::fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stderr(std::fs::File::create(d.join("sshd.log")).map_err(|e| e.to_string())?)
            .spawn()
            .map_err(|e| format!("cannot start sshd: {e}"))?;
        let me = Self { child, dir, port };
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(me);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Err(format!(
            "sshd did not listen: {}",
            std::fs::read_to_string(me.dir.path().join("sshd.log")).unwrap_or_default()
        ))
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ssh://` engines through one tunnel each, shipshape's own child: the
/// system engine reached by ssh is recognised as the one reached by its
/// socket, a private engine's socket on the "remote" side is its own
/// engine, and no ssh process outlives the scan.
#[test]
fn engines_over_ssh() {
    let _serial = serial();
    let sshd = match Sshd::start() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
    let b = private_engine_or_skip!("fleet-ssh");
    b.load(BASE);
    let name = format!("ssit-fleetssh-{}", std::process::id());
    b.docker(&["create", "--name", &name, BASE]);
    let port = sshd.port;
    let over_ssh_system = format!("ssh://root@127.0.0.1:{port}");
    let over_ssh_b = format!("ssh://root@127.0.0.1:{port}{}", b.sock.display());
    let out_file = sshd.dir.path().join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "--no-vulns", "--no-drift", "-q", "-o"])
        .arg(&out_file)
        .args(["--host", "unix:///var/run/docker.sock"])
        .args(["--host", &over_ssh_system, "--host", &over_ssh_b])
        .env("SHIPSHAPE_SSH_CONFIG", sshd.dir.path().join("ssh_config"))
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let engines = r["engines"].as_array().unwrap();
    assert_eq!(engines.len(), 2, "{engines:#?}");
    let system = &engines[0];
    assert_eq!(
        system["also_reached_as"],
        serde_json::json!([format!("{over_ssh_system}/var/run/docker.sock")]),
        "the system engine over ssh is the same engine"
    );
    let remote = &engines[1];
    assert_eq!(remote["reachable"], true, "{remote}");
    assert_eq!(remote["endpoint"], over_ssh_b);
    assert_eq!(remote["id"], b.id());
    assert!(
        r["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == name.as_str() && c["engine"] == remote["name"])
    );
    // The tunnels ended with shipshape.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let procs = Command::new("pgrep")
        .args(["-af", "ssh -N"])
        .output()
        .unwrap();
    let still: Vec<String> = String::from_utf8_lossy(&procs.stdout)
        .lines()
        .filter(|l| l.contains(&format!("-p {port}")))
        .map(str::to_string)
        .collect();
    assert!(
        still.is_empty(),
        "ssh tunnels outlived shipshape: {still:?}"
    );

    // An sshd that refuses: the engine is unreachable with ssh's reason.
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "--no-vulns", "--no-drift", "-q", "-o", "/dev/null"])
        .args([
            "--host",
            &format!("ssh://ssit-no-such-user@127.0.0.1:{port}"),
        ])
        .env("SHIPSHAPE_SSH_CONFIG", sshd.dir.path().join("ssh_config"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("ssh tunnel to ssit-no-such-user@127.0.0.1 failed"),
        "{stderr}"
    );
}

/// A unix-socket proxy in front of an engine that writes down the method
/// and path of every request passing through it.
struct RecordingProxy {
    path: std::path::PathBuf,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _task: tokio::task::JoinHandle<()>,
}

fn recording_proxy(
    rt: &tokio::runtime::Runtime,
    path: &Path,
    upstream: std::path::PathBuf,
) -> RecordingProxy {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = std::fs::remove_file(path);
    let listener = rt.block_on(async { tokio::net::UnixListener::bind(path).unwrap() });
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = rt.spawn(async move {
        loop {
            let Ok((inbound, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::UnixStream::connect(&upstream).await else {
                    return;
                };
                let (mut ci, mut co) = inbound.into_split();
                let (mut ui, mut uo) = outbound.into_split();
                // Requests: every request line (shipshape sends no bodies;
                // a body would show up as a non-GET method anyway).
                let up = async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut pending = Vec::new();
                    loop {
                        let n = match ci.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                            if let Some(line) = head.lines().next() {
                                log.lock().unwrap().push(line.to_string());
                            }
                            pending.drain(..end + 4);
                        }
                        if uo.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut ui, &mut co).await;
                };
                tokio::join!(up, down);
            });
        }
    });
    RecordingProxy {
        path: path.to_path_buf(),
        seen,
        _task: task,
    }
}

/// Read-only, on every engine: a scan and a watch of two engines through
/// recording proxies send nothing but GET and HEAD to either.
#[test]
fn several_engines_are_only_read() {
    let _serial = serial();
    let b = private_engine_or_skip!("fleet-ro");
    b.load(BASE);
    let prefix = format!("ssit-fleetro-{}", std::process::id());
    b.docker(&[
        "run",
        "-d",
        "--name",
        &format!("{prefix}-run"),
        BASE,
        "sleep",
        "300",
    ]);
    let mut fx = Fixture::new("fleetro");
    fx.run("run", &[BASE, "sleep", "300"]);
    let rt = runtime();
    let tmp = tempfile::tempdir().unwrap();
    let pa = recording_proxy(
        &rt,
        &tmp.path().join("a.sock"),
        "/var/run/docker.sock".into(),
    );
    let pb = recording_proxy(&rt, &tmp.path().join("b.sock"), b.sock.clone());
    let hosts = [
        format!("unix://{}", pa.path.display()),
        format!("unix://{}", pb.path.display()),
    ];
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "-q", "-o", "/dev/null"])
        .args(["--host", &hosts[0], "--host", &hosts[1]])
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The watcher too, for a few seconds (events, polls, drift).
    let mut w = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["watch", "--poll", "1", "--no-audit"])
        .args(["--host", &hosts[0], "--host", &hosts[1]])
        .env("SHIPSHAPE_VULNDB", scratch_vulndb())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(5));
    let _ = Command::new("kill")
        .args(["-INT", &w.id().to_string()])
        .status();
    let _ = w.wait();
    for (name, p) in [("system", &pa), ("private", &pb)] {
        let seen = p.seen.lock().unwrap().clone();
        assert!(seen.len() > 10, "{name}: {seen:?}");
        let writes: Vec<&String> = seen
            .iter()
            .filter(|l| !(l.starts_with("GET ") || l.starts_with("HEAD ")))
            .collect();
        assert!(
            writes.is_empty(),
            "{name} engine got more than reads: {writes:?}"
        );
        assert!(
            seen.iter()
                .any(|l| l.contains("/containers/") && l.contains("/json"))
        );
    }
}

/// Two engines that share an `/info` ID — a copied `engine-id` (Engine 23+
/// takes the ID from `<data-root>/engine-id`) or `key.json` (20.10 takes it
/// from `/etc/docker/key.json`) — but keep their data apart are two
/// engines: the fleet scan keeps both, as the pinned watcher does. Before,
/// the second was folded into the first's `also_reached_as`. (The same
/// engine reached two ways is still one: `several_engines_in_one_scan` and
/// `engines_over_ssh` check `also_reached_as`.)
#[test]
fn two_engines_sharing_an_id_stay_two() {
    let _serial = serial();
    let a = private_engine_or_skip!("fleet-id-a");
    let mut b = private_engine_or_skip!("fleet-id-b");
    b.stop();
    for (from, to) in [
        ("data/engine-id", "data/engine-id"),
        ("etc/key.json", "etc/key.json"),
    ] {
        if a.dir.join(from).exists() {
            std::fs::copy(a.dir.join(from), b.dir.join(to)).unwrap();
        }
    }
    b.up().unwrap();
    assert_eq!(a.id(), b.id(), "the copied file gives the same /info ID");
    let root =
        |e: &common::private::PrivateEngine| e.docker(&["info", "--format", "{{.DockerRootDir}}"]);
    assert_ne!(root(&a), root(&b));
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["scan", "-q", "--no-vulns", "--no-drift", "-o"])
        .arg(&out)
        .args(["--host", &a.host(), "--host", &b.host()])
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
    let engines = r["engines"].as_array().unwrap();
    assert_eq!(engines.len(), 2, "{}", r["engines"]);
    assert_eq!(engines[0]["id"], engines[1]["id"]);
    assert_eq!(engines[0]["data_root"], root(&a).as_str());
    assert_eq!(engines[1]["data_root"], root(&b).as_str());
    for e in engines {
        assert_eq!(e["reachable"], true, "{e}");
        assert!(e.get("also_reached_as").is_none(), "{e}");
    }
}
