//! `ssh://` engines: one `ssh -N -L LOCAL.sock:REMOTE.sock` per engine,
//! shipshape's own child process. Not bollard's ssh mode, which starts an
//! ssh process for every HTTP connection (with a stats stream per running
//! container, hundreds of them).
//!
//! The tunnel is reused while it lives, started again when it died (on the
//! next connection attempt), and ended when shipshape ends: it runs under a
//! small `sh` wrapper that kills it when shipshape's end of a pipe closes,
//! which the kernel does whichever way shipshape exits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Extra ssh configuration (`ssh -F FILE`) for every tunnel.
pub const CONFIG_ENV: &str = "SHIPSHAPE_SSH_CONFIG";

struct Tunnel {
    key: String,
    local: PathBuf,
    /// The wrapper; its stdin is the pipe whose closing ends the tunnel.
    child: Child,
}

static TUNNELS: Mutex<Vec<Tunnel>> = Mutex::new(Vec::new());

/// Where the local ends live: private to this user and this process.
fn dir() -> Result<PathBuf, String> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let d = base.join(format!("shipshape-tunnels-{}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot protect {}: {e}", d.display()))?;
    Ok(d)
}

fn short_hash(s: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The local socket of a live tunnel to `dest` (`[user@]host`), started
/// when there is none or the last one died.
pub async fn ensure(dest: &str, port: Option<u16>, remote: &str) -> Result<PathBuf, String> {
    let key = format!("{dest}:{}:{remote}", port.unwrap_or(22));
    let (local, log) = {
        let mut all = TUNNELS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = all.iter().position(|t| t.key == key) {
            let alive = matches!(all[pos].child.try_wait(), Ok(None));
            if alive && all[pos].local.exists() {
                return Ok(all[pos].local.clone());
            }
            let mut dead = all.remove(pos);
            let _ = dead.child.kill();
            let _ = dead.child.wait();
        }
        let d = dir()?;
        let local = d.join(format!("{}.sock", short_hash(&key)));
        let log = d.join(format!("{}.log", short_hash(&key)));
        let _ = std::fs::remove_file(&local);
        let mut args: Vec<String> = vec![
            "-N".into(),
            "-o".into(),
            "ExitOnForwardFailure=yes".into(),
            "-o".into(),
            "StreamLocalBindUnlink=yes".into(),
            "-o".into(),
            "BatchMode=yes".into(),
            "-o".into(),
            "ServerAliveInterval=15".into(),
        ];
        if let Some(cfg) = std::env::var_os(CONFIG_ENV) {
            args.push("-F".into());
            args.push(cfg.to_string_lossy().into_owned());
        }
        if let Some(p) = port {
            args.push("-p".into());
            args.push(p.to_string());
        }
        args.push("-L".into());
        args.push(format!("{}:{remote}", local.display()));
        args.push("--".into());
        args.push(dest.into());
        let errors = std::fs::File::create(&log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        // fd 3 keeps shipshape's pipe: when it closes, the reader kills ssh;
        // when ssh ends by itself, so does the wrapper.
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec 3<&0; ssh "$@" </dev/null & p=$!; { read _ <&3; kill $p; } 2>/dev/null & wait $p"#)
            .arg("sh")
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(errors)
            .spawn()
            .map_err(|e| format!("cannot start ssh: {e}"))?;
        all.push(Tunnel {
            key: key.clone(),
            local: local.clone(),
            child,
        });
        (local, log)
    };
    // Up when the local socket appears; ssh's own words when it gives up.
    for _ in 0..150 {
        if local.exists() {
            return Ok(local);
        }
        let exited = {
            let mut all = TUNNELS.lock().unwrap_or_else(|e| e.into_inner());
            all.iter_mut()
                .find(|t| t.key == key)
                .is_none_or(|t| !matches!(t.child.try_wait(), Ok(None)))
        };
        if exited {
            return Err(format!("ssh tunnel to {dest} failed: {}", last_words(&log)));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "ssh tunnel to {dest}: no socket after 15 s ({})",
        last_words(&log)
    ))
}

fn last_words(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("ssh said nothing");
    crate::model::visible(line.trim()).into_owned()
}
