//! A private Docker engine for tests that stop, kill or restart an engine.
//!
//! The system engine is never touched: a contributor's containers run
//! there. A private engine has its own socket, data root, exec root, pid
//! file and key file (so its `/info` ID is its own), runs in its own network
//! namespace (a second dockerd in the host's namespace breaks the first one's
//! `docker0`, see STACK-NOTES) and in its own mount namespace (its overlay
//! mounts never leak to the host, even when it is killed). Everything lives
//! under one temporary directory that is removed on drop.
//!
//! Needs root, `ip netns` and `unshare`; without them [`PrivateEngine::start`]
//! says why and the test skips (it never falls back to the system engine).

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PrivateEngine {
    pub dir: PathBuf,
    pub sock: PathBuf,
    netns: String,
    /// More `dockerd` arguments (a TCP listener with TLS, …).
    extra: Vec<String>,
    /// Show it a pure cgroup v2 hierarchy (in its own mount namespace).
    cgroup2: bool,
    /// The daemon (nsenter, unshare and sh all exec into it).
    child: Option<Child>,
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{:?}: {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{:?} {:?} failed: {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn is_root() -> bool {
    run(Command::new("id").arg("-u")).is_ok_and(|u| u == "0")
}

impl PrivateEngine {
    /// Start a private engine, or say why this machine cannot (the caller
    /// prints the reason and skips).
    pub fn start(label: &str) -> Result<Self, String> {
        Self::start_with(label, Vec::new())
    }

    /// The same, with more `dockerd` arguments.
    /// The same, on a pure cgroup v2 hierarchy even where the host mounts
    /// v1 (Debian 12's default here): `/sys/fs/cgroup` is replaced by a
    /// cgroup2 mount inside the engine's own mount namespace, the host's
    /// mounts stay as they are. On a v1 host the controllers stay with the
    /// v1 hierarchies, so this engine cannot enforce limits (it says so in
    /// `/info` Warnings): enough to judge what v2 changes, not to run load.
    pub fn start_cgroup2(label: &str) -> Result<Self, String> {
        Self::start_inner(label, Vec::new(), true)
    }

    pub fn start_with(label: &str, extra: Vec<String>) -> Result<Self, String> {
        Self::start_inner(label, extra, false)
    }

    fn start_inner(label: &str, extra: Vec<String>, cgroup2: bool) -> Result<Self, String> {
        super::engine();
        if !is_root() {
            return Err("a private engine needs root".into());
        }
        for tool in ["ip", "nsenter", "unshare", "dockerd"] {
            if run(Command::new("sh").args(["-c", &format!("command -v {tool}")])).is_err() {
                return Err(format!("a private engine needs `{tool}`"));
            }
        }
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let netns = format!("ssit-{label}-{}-{n}", std::process::id());
        // Short: a unix socket path must fit in 108 bytes.
        let dir = PathBuf::from(format!("/tmp/ssit-eng-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).map_err(|e| e.to_string())?;
        run(Command::new("ip").args(["netns", "add", &netns]))
            .map_err(|e| format!("cannot create a network namespace: {e}"))?;
        let _ = run(Command::new("nsenter").args([
            &format!("--net=/var/run/netns/{netns}"),
            "ip",
            "link",
            "set",
            "lo",
            "up",
        ]));
        let mut me = Self {
            sock: dir.join("d.sock"),
            dir,
            netns,
            extra,
            cgroup2,
            child: None,
        };
        me.up()?;
        Ok(me)
    }

    /// Its network namespace (`/var/run/netns/<name>`): a TCP listener of
    /// this engine is reachable only from inside it.
    pub fn netns_path(&self) -> String {
        format!("/var/run/netns/{}", self.netns)
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// Start (or start again) the daemon on the same directories.
    pub fn up(&mut self) -> Result<(), String> {
        let d = &self.dir;
        let cgroup2 = if self.cgroup2 {
            "{ [ \"$(stat -fc %T /sys/fs/cgroup)\" = cgroup2fs ] || \
             { umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup; }; } && "
        } else {
            ""
        };
        let script = format!(
            "{cgroup2}mount --bind {etc} /etc/docker && exec dockerd --host unix://{sock} \
             --data-root {d}/data --exec-root {d}/exec --pidfile {d}/pid --shutdown-timeout 2 {extra}",
            extra = self.extra.join(" "),
            etc = d.join("etc").display(),
            sock = self.sock.display(),
            d = d.display(),
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("dockerd.log"))
            .map_err(|e| e.to_string())?;
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{}", self.netns))
            .args(["unshare", "--mount", "--propagation", "private", "sh", "-c"])
            .arg(script)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start dockerd: {e}"))?;
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self
                .docker_try(&["version", "--format", "{{.Server.Version}}"])
                .is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!(
            "the private engine did not come up:\n{}",
            std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
        ))
    }

    /// Stop the daemon (SIGTERM) and wait until it is gone.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").arg(&pid).status();
        let start = Instant::now();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn docker_try(&self, args: &[&str]) -> Result<String, String> {
        run(Command::new("docker").arg("-H").arg(self.host()).args(args))
    }

    /// Run the docker CLI against this engine; panic on failure.
    pub fn docker(&self, args: &[&str]) -> String {
        self.docker_try(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Copy an image from the system engine (no registry here).
    pub fn load(&self, image: &str) {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "docker save {image} | docker -H {} load -q",
                self.host()
            ))
            .output()
            .expect("run docker save | load");
        assert!(
            out.status.success(),
            "copying {image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The engine's `/info` ID.
    pub fn id(&self) -> String {
        self.docker(&["info", "--format", "{{.ID}}"])
    }
}

impl Drop for PrivateEngine {
    fn drop(&mut self) {
        self.stop();
        // Its containers' processes die with their shims; the mounts went
        // with the mount namespace.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Start a private engine or print why the calling test skips.
#[macro_export]
macro_rules! private_engine_or_skip {
    ($label:expr) => {
        match common::private::PrivateEngine::start($label) {
            Ok(e) => e,
            Err(why) => {
                eprintln!("SKIPPED: {why}");
                return;
            }
        }
    };
}
