//! Finding the engine, in this order:
//!
//! 1. the `--host` flag;
//! 2. `DOCKER_HOST` (`unix://`, `tcp://` with `DOCKER_TLS_VERIFY` /
//!    `DOCKER_CERT_PATH`);
//! 3. the current docker context: `DOCKER_CONTEXT`, else `currentContext`
//!    in `~/.docker/config.json`, resolved through `contexts/meta`;
//! 4. the first of these sockets that exists: `/var/run/docker.sock`,
//!    rootless `$XDG_RUNTIME_DIR/docker.sock`, Docker Desktop
//!    `~/.docker/run/docker.sock`, Podman `$XDG_RUNTIME_DIR/podman/podman.sock`
//!    and `/run/podman/podman.sock`.
//!
//! Discovery is a pure function of an [`EnvSnapshot`] and the filesystem, so
//! every step is unit-tested with temporary directories.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Everything discovery reads from the process environment.
#[derive(Debug, Clone, Default)]
pub struct EnvSnapshot {
    /// `DOCKER_HOST`.
    pub docker_host: Option<String>,
    /// `DOCKER_TLS_VERIFY` is set.
    pub docker_tls_verify: bool,
    /// `DOCKER_CERT_PATH`.
    pub docker_cert_path: Option<PathBuf>,
    /// `DOCKER_CONTEXT`.
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the docker CLI's config directory.
    pub docker_config: Option<PathBuf>,
    /// `HOME`.
    pub home: Option<PathBuf>,
    /// `XDG_RUNTIME_DIR`.
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `DOCKER_CONTENT_TRUST` is on.
    pub content_trust: bool,
    /// Prefix for system-wide socket paths (`/` in real use; a temporary
    /// directory in tests).
    pub root: PathBuf,
}

impl EnvSnapshot {
    /// Reads the variables from this process's environment.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            docker_host: var("DOCKER_HOST"),
            docker_tls_verify: var("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0"),
            docker_cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
            xdg_runtime_dir: var("XDG_RUNTIME_DIR").map(PathBuf::from),
            content_trust: var("DOCKER_CONTENT_TRUST").is_some_and(|v| v == "1" || v == "true"),
            root: PathBuf::from("/"),
        }
    }

    fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")))
    }
}

/// The TLS files of a TCP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The client certificate.
    pub cert: PathBuf,
    /// The client key (its path only: never read into a report).
    pub key: PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

/// Where an engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address.
    Tcp {
        /// `host:port`.
        addr: String,
        /// The TLS files, when TLS is on.
        tls: Option<TlsFiles>,
    },
    /// Through one `ssh -N -L` tunnel to `socket` on `dest` (`[user@]host`).
    Ssh {
        /// The SSH destination (`user@host`).
        dest: String,
        /// The SSH port, when not the default.
        port: Option<u16>,
        /// The engine's socket on the remote host.
        socket: String,
    },
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(p) => write!(f, "unix://{}", p.display()),
            Self::Tcp { addr, tls: Some(_) } => write!(f, "tcp://{addr} (TLS)"),
            Self::Tcp { addr, tls: None } => write!(f, "tcp://{addr}"),
            Self::Ssh { dest, port, socket } => match port {
                Some(p) => write!(f, "ssh://{dest}:{p}{socket}"),
                None => write!(f, "ssh://{dest}{socket}"),
            },
        }
    }
}

/// How the endpoint was chosen — shown to people so they know which engine
/// they are looking at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundBy {
    /// The `--host` flag.
    Flag,
    /// The `DOCKER_HOST` variable.
    DockerHost,
    /// A docker context.
    Context {
        /// The context's name.
        name: String,
        /// Named by `DOCKER_CONTEXT` rather than the CLI's config.
        from_env: bool,
    },
    /// The user's own list of engines (settings), under the name given.
    Listed {
        /// The context's name.
        name: String,
    },
    /// One of every docker context (`--all`), current or not.
    ContextListed {
        /// The name.
        name: String,
    },
    /// A well-known socket path, named by what it is.
    Socket(&'static str),
}

impl fmt::Display for FoundBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Flag => f.write_str("--host flag"),
            Self::DockerHost => f.write_str("DOCKER_HOST"),
            Self::Context {
                name,
                from_env: true,
            } => write!(f, "docker context '{name}' (DOCKER_CONTEXT)"),
            Self::Context {
                name,
                from_env: false,
            } => {
                write!(f, "docker context '{name}' (currentContext in config.json)")
            }
            Self::ContextListed { name } => write!(f, "docker context '{name}'"),
            Self::Listed { name } => write!(f, "your engine list ('{name}')"),
            Self::Socket(what) => write!(f, "{what} socket"),
        }
    }
}

/// An engine to connect to, and how its address was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Where it listens.
    pub endpoint: Endpoint,
    /// How the address was found.
    pub found_by: FoundBy,
}

impl Target {
    /// A short name for people (the Engine column): the context's name,
    /// the kind of socket, or the address given.
    pub fn label(&self) -> String {
        match &self.found_by {
            FoundBy::Context { name, .. }
            | FoundBy::ContextListed { name }
            | FoundBy::Listed { name } => name.clone(),
            FoundBy::Socket(what) => (*what).to_string(),
            FoundBy::Flag | FoundBy::DockerHost => match &self.endpoint {
                Endpoint::Unix(p) => p.display().to_string(),
                Endpoint::Tcp { addr, .. } => addr.clone(),
                Endpoint::Ssh { dest, .. } => format!("ssh {dest}"),
            },
        }
    }
}

/// Why shipshape could not reach an engine. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error(
        "no container engine found. Tried DOCKER_HOST, the docker context and these sockets: {}. \
         Start Docker (e.g. `sudo systemctl start docker`) or Podman \
         (`systemctl --user start podman.socket`), or point shipshape at an engine with --host.",
        .tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    /// No address was given and no well-known socket exists.
    NoEngineFound {
        /// The sockets tried.
        tried: Vec<PathBuf>,
    },

    #[error("the engine socket {path} (from {found_by}) does not exist. Is the engine running?")]
    /// The socket does not exist.
    SocketMissing {
        /// The socket.
        path: PathBuf,
        /// How its path was found.
        found_by: FoundBy,
    },

    #[error(
        "permission denied on {path} (from {found_by}). Your user may not talk to this engine: \
         add it to the group that owns the socket (for Docker: `sudo usermod -aG docker $USER`, \
         then log out and back in — note that this group is root-equivalent), or use rootless \
         Docker or Podman and point shipshape at that socket."
    )]
    /// The socket exists but this user may not open it.
    PermissionDenied {
        /// The socket.
        path: PathBuf,
        /// How its path was found.
        found_by: FoundBy,
    },

    #[error(
        "nothing is listening on {path} (from {found_by}): the socket is stale. Start or restart the engine."
    )]
    /// The socket exists but nothing accepts on it.
    NotListening {
        /// The socket.
        path: PathBuf,
        /// How its path was found.
        found_by: FoundBy,
    },

    /// The engine could not be reached over the network.
    #[error("cannot reach the engine at {endpoint} (from {found_by}): {reason}")]
    Unreachable {
        /// The address.
        endpoint: String,
        /// How it was found.
        found_by: FoundBy,
        /// What failed.
        reason: String,
    },

    #[error("TLS setup for {endpoint} failed: {reason}")]
    /// The TLS files could not be loaded.
    Tls {
        /// The address.
        endpoint: String,
        /// What failed.
        reason: String,
    },

    #[error("invalid engine address '{host}': {reason}")]
    /// The address does not parse.
    BadHost {
        /// The address as given.
        host: String,
        /// What is wrong.
        reason: String,
    },

    #[error("docker context '{name}': {reason}")]
    /// The docker context could not be read.
    Context {
        /// The context's name.
        name: String,
        /// What failed.
        reason: String,
    },
}

/// Parse an engine address as the docker CLI accepts it.
pub fn parse_host(host: &str, env: &EnvSnapshot) -> Result<Endpoint, ConnectError> {
    let bad = |reason: &str| ConnectError::BadHost {
        host: host.to_string(),
        reason: reason.to_string(),
    };
    let tls_from_env = || {
        env.docker_tls_verify.then(|| {
            let dir = env
                .docker_cert_path
                .clone()
                .or_else(|| env.config_dir())
                .unwrap_or_else(|| PathBuf::from(".docker"));
            TlsFiles::in_dir(&dir)
        })
    };
    let h = host.trim();
    if let Some(path) = h.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(bad("empty socket path"));
        }
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if h.starts_with('/') {
        return Ok(Endpoint::Unix(PathBuf::from(h)));
    }
    let (scheme, rest) = h.split_once("://").unwrap_or(("tcp", h));
    let addr = rest.trim_end_matches('/');
    if addr.is_empty() {
        return Err(bad("no address"));
    }
    match scheme {
        "tcp" => Ok(Endpoint::Tcp {
            addr: with_port(addr, env.docker_tls_verify),
            tls: tls_from_env(),
        }),
        "http" => Ok(Endpoint::Tcp {
            addr: with_port(addr, false),
            tls: None,
        }),
        "https" => {
            let tls = tls_from_env().or_else(|| env.config_dir().map(|d| TlsFiles::in_dir(&d)));
            Ok(Endpoint::Tcp {
                addr: with_port(addr, true),
                tls,
            })
        }
        "ssh" => {
            // ssh://[user@]host[:port][/remote/socket]
            let (hostpart, socket) = match addr.find('/') {
                Some(i) => (&addr[..i], addr[i..].to_string()),
                None => (addr, "/var/run/docker.sock".to_string()),
            };
            let (dest, port) = match hostpart.rsplit_once(':') {
                Some((d, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    let port = p.parse::<u16>().map_err(|_| bad("bad port"))?;
                    (d.to_string(), Some(port))
                }
                _ => (hostpart.to_string(), None),
            };
            if dest.is_empty() || dest.starts_with('-') {
                return Err(bad("no host"));
            }
            Ok(Endpoint::Ssh { dest, port, socket })
        }
        "npipe" => Err(bad("named pipes exist only on Windows")),
        other => Err(bad(&format!("unknown scheme '{other}://'"))),
    }
}

fn with_port(addr: &str, tls: bool) -> String {
    let has_port = addr
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty());
    if has_port {
        addr.to_string()
    } else {
        format!("{addr}:{}", if tls { 2376 } else { 2375 })
    }
}

/// The fixed socket locations, in the order they are tried.
pub fn socket_candidates(env: &EnvSnapshot) -> Vec<(PathBuf, &'static str)> {
    let mut out = vec![(env.root.join("var/run/docker.sock"), "Docker system")];
    if let Some(x) = &env.xdg_runtime_dir {
        out.push((x.join("docker.sock"), "rootless Docker"));
    }
    if let Some(h) = &env.home {
        out.push((h.join(".docker/run/docker.sock"), "Docker Desktop"));
    }
    if let Some(x) = &env.xdg_runtime_dir {
        out.push((x.join("podman/podman.sock"), "rootless Podman"));
    }
    out.push((env.root.join("run/podman/podman.sock"), "Podman system"));
    out
}

/// What the Docker CLI's `config.json` or a context's `meta.json` may be.
const DOCKER_CLI: crate::file::Limit = crate::file::Limit {
    what: "a Docker CLI configuration file",
    bytes: 4 << 20,
};

/// Resolve the current docker context, if one other than `default` is set.
fn context_target(env: &EnvSnapshot) -> Result<Option<Target>, ConnectError> {
    let config_dir = env.config_dir();
    let (name, from_env) = match &env.docker_context {
        Some(n) => (n.clone(), true),
        None => {
            let Some(dir) = &config_dir else {
                return Ok(None);
            };
            let Ok(text) = crate::file::read_to_string(&dir.join("config.json"), DOCKER_CLI) else {
                return Ok(None);
            };
            let json: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| ConnectError::Context {
                    name: "?".into(),
                    reason: format!(
                        "{} is not valid JSON: {e}",
                        dir.join("config.json").display()
                    ),
                })?;
            match json.get("currentContext").and_then(|v| v.as_str()) {
                Some(n) if !n.is_empty() => (n.to_string(), false),
                _ => return Ok(None),
            }
        }
    };
    if name == "default" {
        return Ok(None);
    }
    let ctx_err = |reason: String| ConnectError::Context {
        name: name.clone(),
        reason,
    };
    let dir =
        config_dir.ok_or_else(|| ctx_err("no docker config directory (HOME is not set)".into()))?;
    let endpoint = context_endpoint(&dir, &name, env)?;
    Ok(Some(Target {
        endpoint,
        found_by: FoundBy::Context { name, from_env },
    }))
}

/// A context's docker endpoint from `contexts/meta/<sha256(name)>/meta.json`,
/// with its TLS files from `contexts/tls/<sha256(name)>/docker/`.
fn context_endpoint(dir: &Path, name: &str, env: &EnvSnapshot) -> Result<Endpoint, ConnectError> {
    let ctx_err = |reason: String| ConnectError::Context {
        name: name.to_string(),
        reason,
    };
    let hash = hex(&Sha256::digest(name.as_bytes()));
    let meta_path = dir.join("contexts/meta").join(&hash).join("meta.json");
    let text = crate::file::read_to_string(&meta_path, DOCKER_CLI).map_err(|e| {
        ctx_err(format!(
            "cannot read {}: {e} (does the context exist? `docker context ls`)",
            meta_path.display()
        ))
    })?;
    let meta: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ctx_err(format!("{} is not valid JSON: {e}", meta_path.display())))?;
    let host = meta
        .pointer("/Endpoints/docker/Host")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            ctx_err(format!(
                "{} has no Endpoints.docker.Host",
                meta_path.display()
            ))
        })?;
    let mut endpoint = parse_host(host, env)?;
    if let Endpoint::Tcp { tls, .. } = &mut endpoint {
        let tls_dir = dir.join("contexts/tls").join(&hash).join("docker");
        if tls_dir.join("ca.pem").exists() {
            *tls = Some(TlsFiles::in_dir(&tls_dir));
        }
    }
    Ok(endpoint)
}

/// Every docker context's name, from the `meta.json` files.
fn context_names(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join("contexts/meta")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| crate::file::read_to_string(&e.path().join("meta.json"), DOCKER_CLI).ok())
        .filter_map(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .filter_map(|v| v.get("Name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Every engine this machine knows of, for `--all` and the window's engine
/// list: each `--host`, `DOCKER_HOST`, every docker context, every engine
/// socket that exists. An endpoint reached two ways is listed once (the
/// first way wins); the same engine behind two endpoints is merged after
/// connecting, by its `/info` ID. Problems (a broken context) are returned
/// beside the targets, one line each: they never hide the others.
pub fn discover_all(hosts: &[String], env: &EnvSnapshot) -> (Vec<Target>, Vec<String>) {
    let (mut out, mut problems) = discover_all_of(hosts, env);
    let push = |t: Target, out: &mut Vec<Target>| {
        if !out.iter().any(|o| same_endpoint(&o.endpoint, &t.endpoint)) {
            out.push(t);
        }
    };
    if let Some(h) = &env.docker_host {
        match parse_host(h, env) {
            Ok(endpoint) => push(
                Target {
                    endpoint,
                    found_by: FoundBy::DockerHost,
                },
                &mut out,
            ),
            Err(e) => problems.push(format!("DOCKER_HOST: {e}")),
        }
    }
    if let Some(dir) = env.config_dir() {
        for name in context_names(&dir) {
            match context_endpoint(&dir, &name, env) {
                Ok(endpoint) => push(
                    Target {
                        endpoint,
                        found_by: FoundBy::ContextListed { name },
                    },
                    &mut out,
                ),
                Err(e) => problems.push(e.to_string()),
            }
        }
    }
    for (path, what) in socket_candidates(env) {
        if path.exists() {
            push(
                Target {
                    endpoint: Endpoint::Unix(path),
                    found_by: FoundBy::Socket(what),
                },
                &mut out,
            );
        }
    }
    (out, problems)
}

/// Only these addresses (`--host` given more than once), each once.
pub fn discover_all_of(hosts: &[String], env: &EnvSnapshot) -> (Vec<Target>, Vec<String>) {
    let mut out: Vec<Target> = Vec::new();
    let mut problems = Vec::new();
    for h in hosts {
        match parse_host(h, env) {
            Ok(endpoint) if !out.iter().any(|o| same_endpoint(&o.endpoint, &endpoint)) => {
                out.push(Target {
                    endpoint,
                    found_by: FoundBy::Flag,
                })
            }
            Ok(_) => {}
            Err(e) => problems.push(e.to_string()),
        }
    }
    (out, problems)
}

/// The same socket spelled two ways (`/var/run` is `/run`), or the same
/// address.
fn same_endpoint(a: &Endpoint, b: &Endpoint) -> bool {
    match (a, b) {
        (Endpoint::Unix(x), Endpoint::Unix(y)) => {
            x == y
                || matches!(
                    (std::fs::canonicalize(x), std::fs::canonicalize(y)),
                    (Ok(cx), Ok(cy)) if cx == cy
                )
        }
        (Endpoint::Tcp { addr: x, .. }, Endpoint::Tcp { addr: y, .. }) => x == y,
        (a @ Endpoint::Ssh { .. }, b @ Endpoint::Ssh { .. }) => a == b,
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decide which engine to talk to. Does not connect.
pub fn discover(flag: Option<&str>, env: &EnvSnapshot) -> Result<Target, ConnectError> {
    if let Some(h) = flag {
        return Ok(Target {
            endpoint: parse_host(h, env)?,
            found_by: FoundBy::Flag,
        });
    }
    if let Some(h) = &env.docker_host {
        return Ok(Target {
            endpoint: parse_host(h, env)?,
            found_by: FoundBy::DockerHost,
        });
    }
    if let Some(t) = context_target(env)? {
        return Ok(t);
    }
    let candidates = socket_candidates(env);
    for (path, what) in &candidates {
        if path.exists() {
            return Ok(Target {
                endpoint: Endpoint::Unix(path.clone()),
                found_by: FoundBy::Socket(what),
            });
        }
    }
    Err(ConnectError::NoEngineFound {
        tried: candidates.into_iter().map(|(p, _)| p).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> EnvSnapshot {
        EnvSnapshot {
            home: Some(dir.join("home")),
            xdg_runtime_dir: Some(dir.join("xdg")),
            root: dir.join("root"),
            ..EnvSnapshot::default()
        }
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"").unwrap();
    }

    #[test]
    fn flag_beats_docker_host() {
        let mut env = EnvSnapshot {
            docker_host: Some("unix:///env.sock".into()),
            ..Default::default()
        };
        let t = discover(Some("unix:///flag.sock"), &env).unwrap();
        assert_eq!(t.endpoint, Endpoint::Unix("/flag.sock".into()));
        assert_eq!(t.found_by, FoundBy::Flag);
        let t = discover(None, &env).unwrap();
        assert_eq!(t.found_by, FoundBy::DockerHost);
        env.docker_host = None;
        assert!(discover(None, &env).is_err());
    }

    #[test]
    fn tcp_and_tls_from_env() {
        let env = EnvSnapshot {
            docker_host: Some("tcp://10.0.0.5".into()),
            docker_tls_verify: true,
            docker_cert_path: Some("/certs".into()),
            ..Default::default()
        };
        let t = discover(None, &env).unwrap();
        assert_eq!(
            t.endpoint,
            Endpoint::Tcp {
                addr: "10.0.0.5:2376".into(),
                tls: Some(TlsFiles {
                    ca: "/certs/ca.pem".into(),
                    cert: "/certs/cert.pem".into(),
                    key: "/certs/key.pem".into()
                })
            }
        );
        let plain = parse_host("tcp://127.0.0.1:2375", &EnvSnapshot::default()).unwrap();
        assert_eq!(
            plain,
            Endpoint::Tcp {
                addr: "127.0.0.1:2375".into(),
                tls: None
            }
        );
        assert_eq!(plain.to_string(), "tcp://127.0.0.1:2375");
    }

    #[test]
    fn bad_hosts_are_explained() {
        // ssh: the default remote socket, or the one given; a port.
        assert_eq!(
            parse_host("ssh://me@box", &EnvSnapshot::default()).unwrap(),
            Endpoint::Ssh {
                dest: "me@box".into(),
                port: None,
                socket: "/var/run/docker.sock".into()
            }
        );
        let e = parse_host(
            "ssh://me@box:2222/run/user/1000/docker.sock",
            &EnvSnapshot::default(),
        )
        .unwrap();
        assert_eq!(e.to_string(), "ssh://me@box:2222/run/user/1000/docker.sock");
        // Never an ssh option smuggled in as a host.
        assert!(parse_host("ssh://-oProxyCommand=x", &EnvSnapshot::default()).is_err());
        let e = parse_host("gopher://x", &EnvSnapshot::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown scheme"), "{e}");
        assert!(parse_host("unix://", &EnvSnapshot::default()).is_err());
    }

    fn write_context(env: &EnvSnapshot, name: &str, host: &str) {
        let dir = env
            .home
            .as_ref()
            .unwrap()
            .join(".docker/contexts/meta")
            .join(hex(&Sha256::digest(name.as_bytes())));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#),
        )
        .unwrap();
    }

    #[test]
    fn context_from_config_and_env() {
        let tmp = tempfile::tempdir().unwrap();
        let mut env = env_in(tmp.path());
        write_context(&env, "colima", "unix:///colima/docker.sock");
        write_context(&env, "remote", "tcp://build.example:2376");
        let cfg = env.home.as_ref().unwrap().join(".docker/config.json");
        std::fs::write(&cfg, r#"{"auths":{},"currentContext":"colima"}"#).unwrap();
        // A socket exists too, but the context comes first.
        touch(&env.root.join("var/run/docker.sock"));

        let t = discover(None, &env).unwrap();
        assert_eq!(t.endpoint, Endpoint::Unix("/colima/docker.sock".into()));
        assert_eq!(
            t.found_by.to_string(),
            "docker context 'colima' (currentContext in config.json)"
        );

        env.docker_context = Some("remote".into());
        let t = discover(None, &env).unwrap();
        assert_eq!(
            t.found_by,
            FoundBy::Context {
                name: "remote".into(),
                from_env: true
            }
        );
        assert!(
            matches!(t.endpoint, Endpoint::Tcp { ref addr, .. } if addr == "build.example:2376")
        );

        env.docker_context = Some("default".into());
        assert_eq!(
            discover(None, &env).unwrap().found_by,
            FoundBy::Socket("Docker system")
        );

        env.docker_context = Some("missing".into());
        let e = discover(None, &env).unwrap_err().to_string();
        assert!(
            e.starts_with("docker context 'missing': cannot read"),
            "{e}"
        );
    }

    #[test]
    fn sockets_in_documented_order() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env_in(tmp.path());
        let order: Vec<&str> = socket_candidates(&env).iter().map(|(_, w)| *w).collect();
        assert_eq!(
            order,
            [
                "Docker system",
                "rootless Docker",
                "Docker Desktop",
                "rootless Podman",
                "Podman system"
            ]
        );

        let e = discover(None, &env).unwrap_err();
        assert!(matches!(&e, ConnectError::NoEngineFound { tried } if tried.len() == 5));
        assert!(e.to_string().contains("podman.sock"));

        touch(&env.root.join("run/podman/podman.sock"));
        assert_eq!(
            discover(None, &env).unwrap().found_by,
            FoundBy::Socket("Podman system")
        );
        touch(&tmp.path().join("xdg/podman/podman.sock"));
        assert_eq!(
            discover(None, &env).unwrap().found_by,
            FoundBy::Socket("rootless Podman")
        );
        touch(&tmp.path().join("home/.docker/run/docker.sock"));
        assert_eq!(
            discover(None, &env).unwrap().found_by,
            FoundBy::Socket("Docker Desktop")
        );
        touch(&tmp.path().join("xdg/docker.sock"));
        assert_eq!(
            discover(None, &env).unwrap().found_by,
            FoundBy::Socket("rootless Docker")
        );
        touch(&env.root.join("var/run/docker.sock"));
        let t = discover(None, &env).unwrap();
        assert_eq!(t.found_by.to_string(), "Docker system socket");
    }
}
