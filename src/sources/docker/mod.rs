//! The only code that talks to the container engine.
//!
//! [`Engine`] wraps a bollard client and exposes read calls only (HTTP GET):
//! shipshape never changes engine state, and this type is where that is
//! enforced — the raw client never leaves this module.

pub mod bounded;
pub mod connect;
pub mod convert;
pub mod drift;
pub mod events;
pub mod files;
pub mod layers;
pub mod packages;
pub mod procs;
pub mod scan;
pub mod stats;
pub mod tunnel;

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::models::{
    ContainerInspectResponse, ContainerSummary, ContainerTopResponse, ImageHistoryResponseItem,
    ImageInspect, ImageSummary, NetworkInspect, SystemInfo, SystemVersion,
};
use bollard::query_parameters::{ListContainersOptions, ListImagesOptions, TopOptionsBuilder};

pub use connect::{ConnectError, Endpoint, EnvSnapshot, FoundBy, Target};

/// Per-request timeout, seconds.
const REQUEST_TIMEOUT: u64 = 60;
/// How long connecting and version negotiation may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An engine call that failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The object is gone (HTTP 404) — e.g. removed between list and inspect.
    #[error("{what} no longer exists")]
    NotFound {
        /// What was asked for.
        what: String,
    },
    /// The engine stopped answering.
    #[error("lost the engine while reading {what}: {reason}")]
    Lost {
        /// What was being read.
        what: String,
        /// What failed.
        reason: String,
    },
    /// The engine answered with an error.
    #[error("the engine refused {what}: {reason}")]
    Api {
        /// What was asked for.
        what: String,
        /// What the engine said.
        reason: String,
    },
    /// The answer is larger than shipshape reads (see [`bounded::limits`]).
    #[error(
        "{what} not read: the engine's answer is larger than {} MiB (oversized labels, environment or command?)",
        limit >> 20
    )]
    TooLarge {
        /// What was asked for.
        what: String,
        /// The ceiling in bytes.
        limit: usize,
    },
}

impl EngineError {
    fn from_bollard(what: impl Into<String>, e: BollardError) -> Self {
        let what = what.into();
        match e {
            BollardError::DockerResponseServerError {
                status_code: 404, ..
            } => Self::NotFound { what },
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => Self::Api {
                what,
                reason: format!("HTTP {status_code}: {}", message.trim()),
            },
            other => Self::Lost {
                what,
                reason: describe(&other),
            },
        }
    }
}

/// A client for `target` speaking API `version` (no connection is made yet).
/// `tunnel`: the local end of an ssh engine's tunnel.
fn client(
    target: &Target,
    tunnel: Option<&std::path::Path>,
    version: &bollard::ClientVersion,
) -> Result<Docker, ConnectError> {
    match (&target.endpoint, tunnel) {
        (Endpoint::Unix(local), _) => {
            Docker::connect_with_unix(&local.to_string_lossy(), REQUEST_TIMEOUT, version)
                .map_err(|e| unreachable(target, &e))
        }
        (Endpoint::Ssh { .. }, Some(local)) => {
            Docker::connect_with_unix(&local.to_string_lossy(), REQUEST_TIMEOUT, version)
                .map_err(|e| unreachable(target, &e))
        }
        (Endpoint::Ssh { .. }, None) => Err(ConnectError::Unreachable {
            endpoint: target.endpoint.to_string(),
            found_by: target.found_by.clone(),
            reason: "no ssh tunnel".into(),
        }),
        (Endpoint::Tcp { addr, tls: None }, _) => {
            Docker::connect_with_http(addr, REQUEST_TIMEOUT, version)
                .map_err(|e| unreachable(target, &e))
        }
        (
            Endpoint::Tcp {
                addr,
                tls: Some(tls),
            },
            _,
        ) => Docker::connect_with_ssl(addr, &tls.key, &tls.cert, &tls.ca, REQUEST_TIMEOUT, version)
            .map_err(|e| ConnectError::Tls {
                endpoint: target.endpoint.to_string(),
                reason: describe(&e),
            }),
    }
}

/// The API version to speak when the engine's is older than bollard's
/// default (`None`: the default). As bollard's own negotiation does.
fn negotiated(server: Option<&str>) -> Option<bollard::ClientVersion> {
    let mut parts = server?.split('.').map(|p| p.parse::<usize>().ok());
    let (Some(Some(major_version)), Some(Some(minor_version)), None) =
        (parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let server = bollard::ClientVersion {
        major_version,
        minor_version,
    };
    (server < *bollard::API_DEFAULT_VERSION).then_some(server)
}

/// bollard's errors nest the useful part (e.g. "Connection refused") in
/// their sources.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// A connected engine. Read-only by construction.
#[derive(Clone)]
pub struct Engine {
    docker: Docker,
    target: Target,
    /// The local end of this engine's ssh tunnel (`ssh://` engines).
    tunnel: Option<std::path::PathBuf>,
    /// The TLS client for bounded reads (`tcp://` with TLS).
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    api_version: String,
    /// `/version`, read once when connecting: it cannot change without the
    /// engine restarting, which ends this connection (and the engine runs
    /// `runc --version` and `docker-init --version` for every call).
    version: std::sync::Arc<SystemVersion>,
    /// Calls of ours that the engine logs as events (see [`events::OwnCalls`]).
    own: events::OwnCalls,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("target", &self.target)
            .field("api_version", &self.api_version)
            .finish()
    }
}

impl Engine {
    /// Discover (flag, env, context, sockets) and connect.
    pub async fn discover_and_connect(
        flag: Option<&str>,
        env: &EnvSnapshot,
    ) -> Result<Self, ConnectError> {
        let target = connect::discover(flag, env)?;
        Self::connect(target).await
    }

    /// Connect to a target and negotiate the API version.
    pub async fn connect(target: Target) -> Result<Self, ConnectError> {
        let tunnel = match &target.endpoint {
            Endpoint::Ssh { dest, port, socket } => Some(
                tunnel::ensure(dest, *port, socket)
                    .await
                    .map_err(|reason| ConnectError::Unreachable {
                        endpoint: target.endpoint.to_string(),
                        found_by: target.found_by.clone(),
                        reason,
                    })?,
            ),
            Endpoint::Unix(path) => {
                probe_unix(path, &target.found_by).await?;
                None
            }
            Endpoint::Tcp { tls: Some(tls), .. } => {
                for f in [&tls.ca, &tls.cert, &tls.key] {
                    if !f.exists() {
                        return Err(ConnectError::Tls {
                            endpoint: target.endpoint.to_string(),
                            reason: format!(
                                "{} does not exist (set DOCKER_CERT_PATH to the folder with ca.pem, cert.pem and key.pem)",
                                f.display()
                            ),
                        });
                    }
                }
                None
            }
            Endpoint::Tcp { tls: None, .. } => None,
        };
        // The same certificates for shipshape's own bounded reads.
        let tls = match &target.endpoint {
            Endpoint::Tcp { tls: Some(t), .. } => Some(
                bounded::tls_config(&t.ca, &t.cert, &t.key).map_err(|reason| {
                    ConnectError::Tls {
                        endpoint: target.endpoint.to_string(),
                        reason,
                    }
                })?,
            ),
            _ => None,
        };
        let docker = client(&target, tunnel.as_deref(), bollard::API_DEFAULT_VERSION)?;
        // One `/version` both negotiates the API version and is kept.
        let version = match tokio::time::timeout(HANDSHAKE_TIMEOUT, docker.version()).await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(unreachable(&target, &e)),
            Err(_) => {
                return Err(ConnectError::Unreachable {
                    endpoint: target.endpoint.to_string(),
                    found_by: target.found_by.clone(),
                    reason: format!("no answer within {} s", HANDSHAKE_TIMEOUT.as_secs()),
                });
            }
        };
        let docker = match negotiated(version.api_version.as_deref()) {
            Some(older) => client(&target, tunnel.as_deref(), &older)?,
            None => docker,
        };
        let api_version = docker.client_version().to_string();
        Ok(Self {
            docker,
            target,
            tunnel,
            tls,
            api_version,
            version: std::sync::Arc::new(version),
            own: events::OwnCalls::default(),
        })
    }

    /// The engine's address and how it was found.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The engine runs on this machine (a unix socket here, not a tunnel):
    /// its containers' processes and bind sources can be looked at directly.
    pub fn is_local(&self) -> bool {
        matches!(self.target.endpoint, Endpoint::Unix(_))
    }

    /// The API version both sides speak, after negotiation.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    // --- read-only calls ---------------------------------------------------

    /// `GET /info`.
    pub async fn info(&self) -> Result<SystemInfo, EngineError> {
        self.docker
            .info()
            .await
            .map_err(|e| EngineError::from_bollard("engine info", e))
    }

    /// The engine's `/version`, as read when connecting.
    pub fn version(&self) -> &SystemVersion {
        &self.version
    }

    /// `GET /containers/json?all=true`.
    pub async fn list_containers(&self) -> Result<Vec<ContainerSummary>, EngineError> {
        let opts = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        self.docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| EngineError::from_bollard("the container list", e))
    }

    /// The transport for a bounded read (see [`bounded`]).
    fn bounded_transport(&self) -> Option<bounded::Transport<'_>> {
        match &self.target.endpoint {
            Endpoint::Unix(p) => Some(bounded::Transport::Unix(p)),
            Endpoint::Ssh { .. } => self.tunnel.as_deref().map(bounded::Transport::Unix),
            Endpoint::Tcp { addr, tls: None } => Some(bounded::Transport::Tcp(
                addr.trim_start_matches("tcp://")
                    .trim_start_matches("http://"),
            )),
            Endpoint::Tcp { addr, tls: Some(_) } => self.tls.as_ref().map(|c| {
                bounded::Transport::Tls(
                    addr.trim_start_matches("tcp://")
                        .trim_start_matches("https://"),
                    c,
                )
            }),
        }
    }

    /// `GET /v…{path}`, at most `limit` bytes, when the endpoint allows it.
    async fn get_bounded<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        limit: usize,
    ) -> Option<Result<T, EngineError>> {
        let transport = self.bounded_transport()?;
        let versioned = format!("/v{}{path}", self.api_version);
        Some(bounded::get_json(transport, what, &versioned, limit).await)
    }

    /// `GET /containers/{id}/json`, bounded.
    pub async fn inspect_container(
        &self,
        id: &str,
    ) -> Result<ContainerInspectResponse, EngineError> {
        let what = format!("container {}", crate::model::short_id(id));
        let path = format!("/containers/{}/json", path_segment(id));
        if let Some(r) = self
            .get_bounded(&what, &path, bounded::limits::INSPECT)
            .await
        {
            return r;
        }
        self.docker
            .inspect_container(id, None)
            .await
            .map_err(|e| EngineError::from_bollard(what, e))
    }

    /// A container as shipshape models it. For an engine on this machine
    /// (a unix socket), each bind source is also looked up on the host:
    /// symlinks resolved and its file type read, so a socket or a system
    /// directory reached through a link is still recognised.
    pub async fn container(&self, id: &str) -> Result<crate::model::Container, EngineError> {
        let mut c = convert::container(self.inspect_container(id).await?);
        if matches!(self.target.endpoint, connect::Endpoint::Unix(_)) {
            resolve_binds(&mut c).await;
        }
        Ok(c)
    }

    /// Processes in a running container, with `comm` (the executable name)
    /// when the engine accepts custom `ps` arguments.
    ///
    /// The engine logs a successful `top` as an event; the call is noted so
    /// the timeline does not show shipshape's own reads.
    pub async fn top(&self, id: &str) -> Result<ContainerTopResponse, EngineError> {
        self.own.note(id, "top");
        let r = self.top_inner(id).await;
        if r.is_err() {
            self.own.forget(id, "top");
        }
        r
    }

    /// shipshape's own calls that show up as engine events.
    pub fn own_calls(&self) -> &events::OwnCalls {
        &self.own
    }

    async fn top_inner(&self, id: &str) -> Result<ContainerTopResponse, EngineError> {
        let detailed = TopOptionsBuilder::default()
            .ps_args("-e -o user,pid -o comm=COMM -o args=ARGS")
            .build();
        match self.docker.top_processes(id, Some(detailed)).await {
            Ok(t) => Ok(t),
            Err(BollardError::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(EngineError::NotFound {
                what: format!("container {}", crate::model::short_id(id)),
            }),
            // Podman and others may reject ps arguments: fall back to the default listing.
            Err(_) => self
                .docker
                .top_processes(id, None::<bollard::query_parameters::TopOptions>)
                .await
                .map_err(|e| {
                    EngineError::from_bollard(
                        format!("processes of {}", crate::model::short_id(id)),
                        e,
                    )
                }),
        }
    }

    /// `GET /images/json`.
    pub async fn list_images(&self) -> Result<Vec<ImageSummary>, EngineError> {
        self.docker
            .list_images(Some(ListImagesOptions::default()))
            .await
            .map_err(|e| EngineError::from_bollard("the image list", e))
    }

    /// `GET /images/{id}/json`, bounded.
    pub async fn inspect_image(&self, id: &str) -> Result<ImageInspect, EngineError> {
        let what = format!("image {}", crate::model::short_id(id));
        let path = format!("/images/{}/json", path_segment(id));
        if let Some(r) = self
            .get_bounded(&what, &path, bounded::limits::INSPECT)
            .await
        {
            return r;
        }
        self.docker
            .inspect_image(id)
            .await
            .map_err(|e| EngineError::from_bollard(what, e))
    }

    /// `GET /images/{id}/history`, bounded.
    pub async fn image_history(
        &self,
        id: &str,
    ) -> Result<Vec<ImageHistoryResponseItem>, EngineError> {
        let what = format!("history of image {}", crate::model::short_id(id));
        let path = format!("/images/{}/history", path_segment(id));
        if let Some(r) = self
            .get_bounded(&what, &path, bounded::limits::HISTORY)
            .await
        {
            return r;
        }
        self.docker
            .image_history(id)
            .await
            .map_err(|e| EngineError::from_bollard(what, e))
    }

    /// Streaming stats of one container (one reading a second).
    pub fn stats_stream(
        &self,
        id: &str,
    ) -> impl futures_util::Stream<
        Item = Result<bollard::models::ContainerStatsResponse, EngineError>,
    > + '_ {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::StatsOptions {
            stream: true,
            one_shot: false,
        };
        let what = format!("stats of {}", crate::model::short_id(id));
        self.docker
            .stats(id, Some(opts))
            .map(move |r| r.map_err(|e| EngineError::from_bollard(what.clone(), e)))
    }

    /// One stats reading, without the engine's second sample
    /// (`stream=false&one-shot=true`): no `precpu`, so the CPU share comes
    /// from the caller's previous reading of the same container.
    pub async fn stats_once(
        &self,
        id: &str,
    ) -> Result<bollard::models::ContainerStatsResponse, EngineError> {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::StatsOptions {
            stream: false,
            one_shot: true,
        };
        let what = format!("stats of {}", crate::model::short_id(id));
        match self.docker.stats(id, Some(opts)).next().await {
            Some(r) => r.map_err(|e| EngineError::from_bollard(what, e)),
            None => Err(EngineError::NotFound { what }),
        }
    }

    /// The engine's event stream, from now on — or replayed from `since`
    /// (`seconds.nanoseconds` since the epoch) out of the engine's buffer of
    /// recent events, then live.
    pub fn events(
        &self,
        since: Option<String>,
    ) -> impl futures_util::Stream<Item = Result<bollard::models::EventMessage, EngineError>> + '_
    {
        use futures_util::StreamExt;
        let opts = since.map(|since| bollard::query_parameters::EventsOptions {
            since: Some(since),
            ..Default::default()
        });
        self.docker
            .events(opts)
            .map(|r| r.map_err(|e| EngineError::from_bollard("the event stream", e)))
    }

    /// `GET /exec/{id}/json`: who runs what in a `docker exec`.
    pub async fn inspect_exec(
        &self,
        id: &str,
    ) -> Result<bollard::models::ExecInspectResponse, EngineError> {
        let what = format!("exec {}", crate::model::short_id(id));
        let path = format!("/exec/{}/json", path_segment(id));
        if let Some(r) = self
            .get_bounded(&what, &path, bounded::limits::INSPECT)
            .await
        {
            return r;
        }
        self.docker
            .inspect_exec(id)
            .await
            .map_err(|e| EngineError::from_bollard(what, e))
    }

    /// `GET /containers/{id}/changes`: the container's writable layer as
    /// `(path, kind)` — 0 modified, 1 added, 2 deleted.
    pub async fn changes(&self, id: &str) -> Result<Vec<(String, i64)>, EngineError> {
        let changes = self
            .docker
            .container_changes(id)
            .await
            .map_err(|e| {
                EngineError::from_bollard(format!("changes of {}", crate::model::short_id(id)), e)
            })?
            .unwrap_or_default();
        Ok(changes
            .into_iter()
            .map(|c| (c.path, c.kind as i64))
            .collect())
    }

    /// `HEAD /containers/{id}/archive?path=…`: a file's mode, without
    /// reading it. The engine logs no event for the stat itself, but it
    /// mounts and unmounts each of the container's `volumes` (found or not):
    /// those events are noted as ours.
    pub async fn stat_path(
        &self,
        id: &str,
        path: &str,
        volumes: usize,
    ) -> Result<u32, EngineError> {
        self.own.note_volume_mounts(id, volumes);
        let opts = bollard::query_parameters::ContainerArchiveInfoOptions {
            path: path.to_string(),
        };
        self.docker
            .get_container_archive_info(id, Some(opts))
            .await
            .map(|s| s.file_mode)
            .map_err(|e| {
                EngineError::from_bollard(format!("{path} in {}", crate::model::short_id(id)), e)
            })
    }

    /// `GET /containers/{id}/archive?path=…`: a tar stream of one file or
    /// directory. Read-only, but the engine logs it (`archive-path`, and
    /// `mount`/`unmount` for each volume): callers note it in
    /// [`Engine::own_calls`] first (see [`files`]), and must drain or drop
    /// the stream promptly — the engine holds the container meanwhile.
    pub fn archive(
        &self,
        id: &str,
        path: &str,
    ) -> impl futures_util::Stream<Item = Result<bytes::Bytes, EngineError>> + '_ {
        use futures_util::StreamExt;
        let opts = bollard::query_parameters::DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let what = format!("{path} in {}", crate::model::short_id(id));
        self.docker
            .download_from_container(id, Some(opts))
            .map(move |r| r.map_err(|e| EngineError::from_bollard(what.clone(), e)))
    }

    /// `GET /networks/{name}`.
    pub async fn inspect_network(&self, name: &str) -> Result<NetworkInspect, EngineError> {
        self.docker
            .inspect_network(
                name,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
            .map_err(|e| EngineError::from_bollard(format!("network {name}"), e))
    }
}

fn unreachable(target: &Target, e: &BollardError) -> ConnectError {
    ConnectError::Unreachable {
        endpoint: target.endpoint.to_string(),
        found_by: target.found_by.clone(),
        reason: describe(e),
    }
}

/// Try the socket once so "missing", "permission denied" and "nobody
/// listening" each get their own message.
async fn probe_unix(path: &std::path::Path, found_by: &FoundBy) -> Result<(), ConnectError> {
    use std::io::ErrorKind;
    match tokio::net::UnixStream::connect(path).await {
        Ok(_) => Ok(()),
        Err(e) => Err(match e.kind() {
            ErrorKind::NotFound => ConnectError::SocketMissing {
                path: path.into(),
                found_by: found_by.clone(),
            },
            ErrorKind::PermissionDenied => ConnectError::PermissionDenied {
                path: path.into(),
                found_by: found_by.clone(),
            },
            ErrorKind::ConnectionRefused => ConnectError::NotListening {
                path: path.into(),
                found_by: found_by.clone(),
            },
            _ => ConnectError::Unreachable {
                endpoint: format!("unix://{}", path.display()),
                found_by: found_by.clone(),
                reason: e.to_string(),
            },
        }),
    }
}

/// An id or image reference as one URL path segment (`/` and `:` are fine
/// in Docker's routes; anything else unusual is percent-encoded).
fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Look each bind source up on this host (read-only: `realpath` and `stat`).
/// A source that does not exist here keeps `host: None`.
pub async fn resolve_binds(c: &mut crate::model::Container) {
    use std::os::unix::fs::FileTypeExt;

    use crate::model::{HostPath, HostPathKind, MountKind};
    for m in c.mounts.iter_mut().filter(|m| m.kind == MountKind::Bind) {
        let Ok(resolved) = tokio::fs::canonicalize(&m.source).await else {
            continue;
        };
        let Ok(meta) = tokio::fs::metadata(&resolved).await else {
            continue;
        };
        let t = meta.file_type();
        let kind = if t.is_dir() {
            HostPathKind::Directory
        } else if t.is_file() {
            HostPathKind::File
        } else if t.is_socket() {
            HostPathKind::Socket
        } else if t.is_char_device() {
            HostPathKind::CharDevice
        } else if t.is_block_device() {
            HostPathKind::BlockDevice
        } else {
            HostPathKind::Other
        };
        m.host = Some(HostPath {
            resolved: resolved.to_string_lossy().into_owned(),
            kind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_engine_gets_its_own_api_version_a_newer_one_the_default() {
        let v = |s: &str| negotiated(Some(s)).map(|v| v.to_string());
        assert_eq!(v("1.24").as_deref(), Some("1.24"));
        assert_eq!(v("1.41").as_deref(), Some("1.41"));
        assert_eq!(v("9.99"), None, "newer than bollard's default");
        assert_eq!(v(&bollard::API_DEFAULT_VERSION.to_string()), None);
        assert_eq!(v("1"), None);
        assert_eq!(v("1.x"), None);
        assert_eq!(v("1.2.3"), None);
        assert_eq!(negotiated(None).map(|v| v.to_string()), None);
    }

    fn unix_target(path: &std::path::Path) -> Target {
        Target {
            endpoint: Endpoint::Unix(path.into()),
            found_by: FoundBy::Flag,
        }
    }

    #[tokio::test]
    async fn missing_socket_is_specific() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Engine::connect(unix_target(&tmp.path().join("nope.sock")))
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::SocketMissing { .. }), "{err}");
        assert!(err.to_string().contains("does not exist"));
    }

    #[tokio::test]
    async fn stale_socket_is_specific() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let err = Engine::connect(unix_target(&path)).await.unwrap_err();
        assert!(matches!(err, ConnectError::NotListening { .. }), "{err}");
    }

    #[tokio::test]
    async fn permission_denied_says_what_to_do() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("locked.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        // root bypasses file permissions, so this case is only observable as
        // an ordinary user; tests/cli.rs covers it as root by running the
        // binary as `nobody` against the real engine socket.
        if is_root() {
            return;
        }
        let err = Engine::connect(unix_target(&path)).await.unwrap_err();
        assert!(
            matches!(err, ConnectError::PermissionDenied { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("usermod -aG docker"), "{err}");
    }

    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .map(|l| l.split_whitespace().nth(1) == Some("0"))
            })
            .unwrap_or(false)
    }

    #[tokio::test]
    async fn silent_tcp_endpoint_times_out_or_refuses() {
        // A listener that accepts and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let target = Target {
            endpoint: Endpoint::Tcp {
                addr: addr.to_string(),
                tls: None,
            },
            found_by: FoundBy::Flag,
        };
        drop(listener);
        let err = Engine::connect(target).await.unwrap_err();
        assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
    }
}
