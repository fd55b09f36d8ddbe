//! Helpers for tests against a real Docker engine.
//!
//! `engine()` makes sure an engine runs and the local fixture images exist
//! (via scripts/engine-up.sh, which installs and starts Docker when it is
//! missing). `Fixture` creates containers, networks and tags under a unique
//! prefix and removes all of them when dropped, pass or fail.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report
#![allow(dead_code)]

pub mod dbus;
pub mod kube;
pub mod private;
pub mod scan;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

pub const BASE: &str = "shipshape-test/base:1";
pub const BASE_LATEST: &str = "shipshape-test/base:latest";
pub const HARDENED: &str = "shipshape-test/hardened:1";
pub const LEAKY: &str = "shipshape-test/leaky:1";
pub const FETCHED: &str = "shipshape-test/fetched:1";

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Ensure the engine and fixture images, once per test binary.
pub fn engine() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("scripts/engine-up.sh"))
            .output()
            .expect("run scripts/engine-up.sh");
        assert!(
            out.status.success(),
            "scripts/engine-up.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// A vulnerability-database folder for the binaries the tests run, so no
/// test writes into the user's cache directory (`~/.cache/shipshape`).
pub fn scratch_vulndb() -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap())
        .path()
        .to_path_buf()
}

/// Tests in one binary that create engine objects run one at a time, so
/// event-stream and whole-engine assertions see only their own activity.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// A multi-threaded runtime for tests that drive async library code.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Run `cmd` to its end, given at most `secs` seconds: one that hangs is
/// killed and fails the test instead of stalling the suite.
pub fn output_within(cmd: &mut Command, secs: u64) -> std::process::Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run the command");
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > std::time::Duration::from_secs(secs) {
            child.kill().unwrap();
            panic!("{cmd:?} did not end within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Run the docker CLI; panic with its output on failure.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run the docker CLI, ignoring failure (cleanup).
pub fn docker_quiet(args: &[&str]) {
    let _ = Command::new("docker").args(args).output();
}

pub struct Fixture {
    pub prefix: String,
    /// The engine the fixture works on (`None`: the system engine).
    host: Option<String>,
    containers: Vec<String>,
    networks: Vec<String>,
    tags: Vec<String>,
    pub tmp: tempfile::TempDir,
}

impl Fixture {
    pub fn new(label: &str) -> Self {
        engine();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Self {
            prefix: format!("ssit-{label}-{}-{nanos:x}", std::process::id()),
            host: None,
            containers: Vec::new(),
            networks: Vec::new(),
            tags: Vec::new(),
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    /// The same, on another engine (a private one).
    pub fn on(host: String, label: &str) -> Self {
        let mut f = Self::new(label);
        f.host = Some(host);
        f
    }

    /// The docker CLI against this fixture's engine.
    pub fn docker(&self, args: &[&str]) -> String {
        match &self.host {
            Some(h) => {
                let mut full = vec!["-H", h.as_str()];
                full.extend(args);
                docker(&full)
            }
            None => docker(args),
        }
    }

    pub fn docker_quiet(&self, args: &[&str]) {
        match &self.host {
            Some(h) => {
                let mut full = vec!["-H", h.as_str()];
                full.extend(args);
                docker_quiet(&full)
            }
            None => docker_quiet(args),
        }
    }

    pub fn name(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    /// `docker create --name <prefix>-<short> <args…>`; returns the full name.
    pub fn create(&mut self, short: &str, args: &[&str]) -> String {
        self.container("create", short, args)
    }

    /// `docker run -d --name <prefix>-<short> <args…>`.
    pub fn run(&mut self, short: &str, args: &[&str]) -> String {
        self.container("run", short, args)
    }

    fn container(&mut self, verb: &str, short: &str, args: &[&str]) -> String {
        let name = self.name(short);
        self.containers.push(name.clone());
        let mut full = vec![verb];
        if verb == "run" {
            full.push("-d");
        }
        full.extend(["--name", &name]);
        full.extend(args);
        self.docker(&full);
        name
    }

    pub fn network(&mut self, short: &str) -> String {
        let name = self.name(short);
        self.docker(&["network", "create", &name]);
        self.networks.push(name.clone());
        name
    }

    /// Build `<prefix>/<repo_tag>` from a Dockerfile (legacy builder, no
    /// registry) and remember to remove it.
    pub fn build(&mut self, repo_tag: &str, dockerfile: &str) -> String {
        self.build_in(repo_tag, dockerfile, |_| {})
    }

    /// The same, with files that `fill` puts in the build context first.
    pub fn build_in(
        &mut self,
        repo_tag: &str,
        dockerfile: &str,
        fill: impl FnOnce(&std::path::Path),
    ) -> String {
        let full = format!("{}/{repo_tag}", self.prefix);
        let ctx = self.tmp.path().join(format!("ctx-{}", self.tags.len()));
        std::fs::create_dir_all(&ctx).unwrap();
        std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
        fill(&ctx);
        let out = Command::new("docker")
            .args(self.host.iter().flat_map(|h| ["-H", h.as_str()]))
            .args(["build", "-q", "-t", &full])
            .arg(&ctx)
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .expect("run docker build");
        assert!(
            out.status.success(),
            "docker build {full}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.tags.push(full.clone());
        full
    }

    /// Tag `image` as `<prefix>/<repo>:<tag>` and remember to remove the tag.
    pub fn tag(&mut self, image: &str, repo_tag: &str) -> String {
        let full = format!("{}/{repo_tag}", self.prefix);
        self.docker(&["tag", image, &full]);
        if !self.tags.contains(&full) {
            self.tags.push(full.clone());
        }
        full
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for c in &self.containers {
            self.docker_quiet(&["rm", "-f", "-v", c]);
        }
        // Containers a test renamed (or made another way) under the prefix.
        // Never panics here (the engine may be gone already).
        let mut ps = std::process::Command::new("docker");
        if let Some(h) = &self.host {
            ps.args(["-H", h]);
        }
        let left = ps
            .args([
                "ps",
                "-aq",
                "--filter",
                &format!("name=^/?{}-", self.prefix),
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        for id in left.split_whitespace() {
            self.docker_quiet(&["rm", "-f", "-v", id]);
        }
        for n in &self.networks {
            self.docker_quiet(&["network", "rm", n]);
        }
        for t in &self.tags {
            self.docker_quiet(&["rmi", t]);
        }
    }
}

pub fn image_id(image: &str) -> String {
    docker(&["image", "inspect", "-f", "{{.Id}}", image])
}

/// Wait until a container has reached a state (running containers that exit
/// immediately, for example).
pub fn wait_state(name: &str, state: &str) {
    for _ in 0..100 {
        if docker(&["inspect", "-f", "{{.State.Status}}", name]) == state {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{name} never reached state {state}");
}

/// What the engine itself is configured to do, for tests whose exact
/// findings depend on it (measured, not assumed: a machine's daemon.json
/// may rotate logs, its kernel may run cgroup v1 or v2, AppArmor or not).
#[derive(Debug, Clone, Copy)]
pub struct EngineFacts {
    pub cgroup_v1: bool,
    pub apparmor: bool,
    pub selinux: bool,
    /// daemon.json gives every json-file container a max-size.
    pub rotates_logs: bool,
}

impl EngineFacts {
    /// `container.host-takeover` for CAP_SYS_ADMIN without opting out of
    /// AppArmor: cgroup v1 and no mandatory access control.
    pub fn sysadmin_is_takeover(&self) -> bool {
        self.cgroup_v1 && !self.apparmor && !self.selinux
    }
}

pub fn engine_facts() -> EngineFacts {
    static FACTS: OnceLock<EngineFacts> = OnceLock::new();
    *FACTS.get_or_init(|| {
        engine();
        let info = docker(&[
            "info",
            "--format",
            "{{.CgroupVersion}} {{json .SecurityOptions}}",
        ]);
        let probe = format!("ssit-probe-{}-logs", std::process::id());
        docker(&["create", "--name", &probe, BASE]);
        let max = docker(&[
            "inspect",
            "--format",
            "{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config \"max-size\"}}",
            &probe,
        ]);
        docker(&["rm", "-f", &probe]);
        EngineFacts {
            cgroup_v1: info.trim_start().starts_with('1'),
            apparmor: info.contains("name=apparmor"),
            selinux: info.contains("name=selinux"),
            rotates_logs: max.starts_with("json-file ")
                && !max.trim_end().ends_with("<no value>")
                && max.split_whitespace().nth(1).is_some(),
        }
    })
}
