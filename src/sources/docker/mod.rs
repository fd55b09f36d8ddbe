//! The only code that talks to the container engine.
//!
//! [`Engine`] exposes read calls only (HTTP `GET` and `HEAD`): shipshape
//! never changes engine state, and this type is where that is enforced —
//! its client ([`bounded::Client`], shipshape's own: every answer bounded
//! in size and time, connections bounded per engine, refused connects
//! tried again) never leaves this module. bollard provides the answer
//! types. Every path segment taken from an answer or a user is checked and
//! escaped (`path_segment`); list answers are read entry by entry
//! ([`list`]).

pub mod bounded;
pub mod connect;
pub mod convert;
pub mod drift;
pub mod events;
pub mod export;
pub mod files;
pub mod layers;
pub mod list;
pub mod packages;
pub mod procs;
pub mod scan;
pub mod stats;
pub mod tree;
pub mod tunnel;

use bollard::models::{
    ContainerInspectResponse, ContainerTopResponse, ImageHistoryResponseItem, ImageInspect,
    NetworkInspect, SystemInfo, SystemVersion,
};

pub use connect::{ConnectError, Endpoint, EnvSnapshot, FoundBy, Target};
pub use list::{Listed, ListedContainer, ListedImage};

use bounded::limits;

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
    /// The engine stopped answering (or did not answer in time).
    #[error("lost the engine while reading {what}: {reason}")]
    Lost {
        /// What was being read.
        what: String,
        /// What failed.
        reason: String,
    },
    /// The engine answered with an error, or with something unreadable.
    #[error("the engine refused {what}: {reason}")]
    Api {
        /// What was asked for.
        what: String,
        /// What the engine said.
        reason: String,
    },
    /// The answer is larger than shipshape reads (see [`bounded::limits`]).
    #[error(
        "{what} not read: the engine's answer is larger than {}, the most shipshape reads of it",
        size(*limit)
    )]
    TooLarge {
        /// What was asked for.
        what: String,
        /// The ceiling in bytes.
        limit: usize,
    },
}

/// `16 MiB`, `64 KiB`.
fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// The API version to speak when the engine's is older than bollard's
/// default (`None`: the default), as bollard's own negotiation does.
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

/// Errors nest the useful part (e.g. "Connection refused") in their
/// sources.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
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

/// Is `id` what an engine calls an object: hexadecimal digits (Docker and
/// Podman give 64), after an algorithm for image ids (`sha256:`)? Ids
/// from a list that are not are refused there, with a warning: they go
/// into request paths.
pub fn is_engine_id(id: &str) -> bool {
    let hex = match id.split_once(':') {
        Some((algo, hex)) => {
            if algo.is_empty()
                || !algo
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            {
                return false;
            }
            hex
        }
        None => id,
    };
    (12..=128).contains(&hex.len()) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A name or id as one URL path segment. Everything but letters, digits
/// and `-._~:@` is percent-encoded (`/` too: engines decode it, so image
/// references such as `lab/web:1` still resolve). A name with a `.` or
/// `..` part is refused: an engine decodes the path before it resolves
/// dot segments, so `..%2F..%2Fimages` would still climb.
fn path_segment(what: &str, name: &str) -> Result<String, EngineError> {
    if name.is_empty() || name.split('/').any(|part| part == "." || part == "..") {
        return Err(EngineError::Api {
            what: what.to_string(),
            reason:
                "not asked: the name is not one an engine gives (empty, or with a `.` or `..` part)"
                    .into(),
        });
    }
    Ok(encode(name, b"-._~:@"))
}

/// A query value, percent-encoded.
fn query_value(v: &str) -> String {
    encode(v, b"-._~")
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `HEAD …/archive`'s `X-Docker-Container-Path-Stat`: base64 of a JSON
/// object; its `mode` (Go's `os.FileMode`).
fn path_stat_mode(headers: &http::HeaderMap) -> Result<u32, String> {
    use base64::Engine as _;
    const HEADER: &str = "X-Docker-Container-Path-Stat";
    let value = headers
        .get(HEADER)
        .ok_or_else(|| format!("the answer has no {HEADER} header"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.as_bytes())
        .map_err(|e| format!("{HEADER} is not base64: {e}"))?;
    #[derive(serde::Deserialize)]
    struct Stat {
        mode: u32,
    }
    serde_json::from_slice::<Stat>(&decoded)
        .map(|s| s.mode)
        .map_err(|e| format!("{HEADER} is unreadable: {e}"))
}

/// A connected engine. Read-only by construction: the only requests it
/// makes are `GET` and `HEAD`, through [`bounded::Client`].
#[derive(Clone)]
pub struct Engine {
    http: bounded::Client,
    target: Target,
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
        let unreachable = |reason: String| ConnectError::Unreachable {
            endpoint: target.endpoint.to_string(),
            found_by: target.found_by.clone(),
            reason,
        };
        let strip = |addr: &str, scheme: &str| {
            addr.trim_start_matches("tcp://")
                .trim_start_matches(scheme)
                .to_string()
        };
        let transport = match &target.endpoint {
            Endpoint::Ssh { dest, port, socket } => bounded::Transport::Unix(
                tunnel::ensure(dest, *port, socket)
                    .await
                    .map_err(unreachable)?,
            ),
            Endpoint::Unix(path) => {
                probe_unix(path, &target.found_by).await?;
                bounded::Transport::Unix(path.clone())
            }
            Endpoint::Tcp {
                addr,
                tls: Some(tls),
            } => {
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
                let config =
                    bounded::tls_config(&tls.ca, &tls.cert, &tls.key).map_err(|reason| {
                        ConnectError::Tls {
                            endpoint: target.endpoint.to_string(),
                            reason,
                        }
                    })?;
                bounded::Transport::Tls(strip(addr, "https://"), config)
            }
            Endpoint::Tcp { addr, tls: None } => bounded::Transport::Tcp(strip(addr, "http://")),
        };
        let http = bounded::Client::new(transport, limits::deadline());
        // One `/version` (unversioned: every engine serves it) both
        // negotiates the API version and is kept.
        let version: SystemVersion = http
            .get_json_within(
                "the engine's version",
                "/version",
                limits::VERSION,
                limits::HANDSHAKE.min(http.deadline()),
            )
            .await
            .map_err(|e| {
                unreachable(match e {
                    EngineError::Lost { reason, .. } => reason,
                    other => other.to_string(),
                })
            })?;
        let api_version = negotiated(version.api_version.as_deref())
            .unwrap_or(*bollard::API_DEFAULT_VERSION)
            .to_string();
        Ok(Self {
            http,
            target,
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

    /// `/v{api}{path}`.
    fn versioned(&self, path: &str) -> String {
        format!("/v{}{path}", self.api_version)
    }

    /// `GET /v…{path}` parsed as `T`, at most `limit` bytes.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        limit: usize,
    ) -> Result<T, EngineError> {
        self.http.get_json(what, &self.versioned(path), limit).await
    }

    // --- read-only calls ---------------------------------------------------

    /// `GET /info`.
    pub async fn info(&self) -> Result<SystemInfo, EngineError> {
        self.get("engine info", "/info", limits::INFO).await
    }

    /// The engine's `/version`, as read when connecting.
    pub fn version(&self) -> &SystemVersion {
        &self.version
    }

    /// `GET /containers/json?all=1`, read entry by entry: at most
    /// [`limits::CONTAINERS`] (the running ones first), an entry that
    /// cannot be read a warning (see [`list`]).
    pub async fn list_containers(&self) -> Result<Listed<ListedContainer>, EngineError> {
        let body = self
            .http
            .get(
                "the container list",
                &self.versioned("/containers/json?all=1"),
                limits::LIST,
            )
            .await?;
        Ok(list::containers(&body, limits::CONTAINERS))
    }

    /// `GET /images/json`, read entry by entry: at most [`limits::IMAGES`].
    pub async fn list_images(&self) -> Result<Listed<ListedImage>, EngineError> {
        let body = self
            .http
            .get(
                "the image list",
                &self.versioned("/images/json"),
                limits::LIST,
            )
            .await?;
        Ok(list::images(&body, limits::IMAGES))
    }

    /// `GET /containers/{id}/json`.
    pub async fn inspect_container(
        &self,
        id: &str,
    ) -> Result<ContainerInspectResponse, EngineError> {
        let what = format!("container {}", crate::model::short_id(id));
        let path = format!("/containers/{}/json", path_segment(&what, id)?);
        self.get(&what, &path, limits::INSPECT).await
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
        let what = format!("processes of {}", crate::model::short_id(id));
        let base = format!("/containers/{}/top", path_segment(&what, id)?);
        let detailed = format!(
            "{base}?ps_args={}",
            query_value("-e -o user,pid -o comm=COMM -o args=ARGS")
        );
        match self.get(&what, &detailed, limits::TOP).await {
            Ok(t) => Ok(t),
            Err(e @ (EngineError::NotFound { .. } | EngineError::Lost { .. })) => Err(e),
            // Podman and others may reject ps arguments: fall back to the default listing.
            Err(_) => self.get(&what, &base, limits::TOP).await,
        }
    }

    /// `GET /images/{id}/json` (an id or a reference).
    pub async fn inspect_image(&self, id: &str) -> Result<ImageInspect, EngineError> {
        let what = format!("image {}", crate::model::short_id(id));
        let path = format!("/images/{}/json", path_segment(&what, id)?);
        self.get(&what, &path, limits::INSPECT).await
    }

    /// `GET /images/{id}/history`.
    pub async fn image_history(
        &self,
        id: &str,
    ) -> Result<Vec<ImageHistoryResponseItem>, EngineError> {
        let what = format!("history of image {}", crate::model::short_id(id));
        let path = format!("/images/{}/history", path_segment(&what, id)?);
        self.get(&what, &path, limits::HISTORY).await
    }

    /// Streaming stats of one container (one reading a second), each
    /// reading at most [`limits::STATS`].
    pub fn stats_stream(
        &self,
        id: &str,
    ) -> impl futures_util::Stream<
        Item = Result<bollard::models::ContainerStatsResponse, EngineError>,
    > + '_ {
        use futures_util::StreamExt;
        let what = format!("stats of {}", crate::model::short_id(id));
        match path_segment(&what, id) {
            Ok(seg) => self
                .http
                .json_lines(
                    what,
                    self.versioned(&format!("/containers/{seg}/stats?stream=1")),
                    limits::STATS,
                )
                .left_stream(),
            Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
        }
    }

    /// One stats reading, without the engine's second sample
    /// (`stream=false&one-shot=true`): no `precpu`, so the CPU share comes
    /// from the caller's previous reading of the same container.
    pub async fn stats_once(
        &self,
        id: &str,
    ) -> Result<bollard::models::ContainerStatsResponse, EngineError> {
        let what = format!("stats of {}", crate::model::short_id(id));
        let path = format!(
            "/containers/{}/stats?stream=false&one-shot=true",
            path_segment(&what, id)?
        );
        self.get(&what, &path, limits::STATS).await
    }

    /// The engine's event stream, from now on — or replayed from `since`
    /// (`seconds.nanoseconds` since the epoch) out of the engine's buffer of
    /// recent events, then live. An event past [`limits::EVENT`] is not
    /// read: it comes as [`events::not_read`], and the stream goes on.
    pub fn events(
        &self,
        since: Option<String>,
    ) -> impl futures_util::Stream<Item = Result<bollard::models::EventMessage, EngineError>> + '_
    {
        use futures_util::StreamExt;
        let path = match since {
            Some(s) => format!("/events?since={}", query_value(&s)),
            None => "/events".to_string(),
        };
        self.http
            .json_lines::<bollard::models::EventMessage>(
                "the event stream".into(),
                self.versioned(&path),
                limits::EVENT,
            )
            .map(|r| match r {
                Err(EngineError::TooLarge { limit, .. }) => Ok(events::not_read(limit)),
                other => other,
            })
    }

    /// `GET /exec/{id}/json`: who runs what in a `docker exec`.
    pub async fn inspect_exec(
        &self,
        id: &str,
    ) -> Result<bollard::models::ExecInspectResponse, EngineError> {
        let what = format!("exec {}", crate::model::short_id(id));
        let path = format!("/exec/{}/json", path_segment(&what, id)?);
        self.get(&what, &path, limits::INSPECT).await
    }

    /// `GET /containers/{id}/changes`: the container's writable layer as
    /// `(path, kind)` — 0 modified, 1 added, 2 deleted.
    pub async fn changes(&self, id: &str) -> Result<Vec<(String, i64)>, EngineError> {
        #[derive(serde::Deserialize)]
        struct Change {
            #[serde(rename = "Path")]
            path: String,
            #[serde(rename = "Kind")]
            kind: i64,
        }
        let what = format!("changes of {}", crate::model::short_id(id));
        let path = format!("/containers/{}/changes", path_segment(&what, id)?);
        let changes: Option<Vec<Change>> = self.get(&what, &path, limits::CHANGES).await?;
        Ok(changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| (c.path, c.kind))
            .collect())
    }

    /// `HEAD /containers/{id}/archive?path=…`: a file's mode, without
    /// reading it. The engine logs no event for the stat itself, but it
    /// mounts and unmounts each of the container's `volumes` (found or not):
    /// those events are noted as ours. An answer without its stat header is
    /// this one file's failure ([`EngineError::Api`]), not a lost engine.
    pub async fn stat_path(
        &self,
        id: &str,
        path: &str,
        volumes: usize,
    ) -> Result<u32, EngineError> {
        self.own.note_volume_mounts(id, volumes);
        let what = format!("{path} in {}", crate::model::short_id(id));
        let url = format!(
            "/containers/{}/archive?path={}",
            path_segment(&what, id)?,
            query_value(path)
        );
        let headers = self.http.head(&what, &self.versioned(&url)).await?;
        path_stat_mode(&headers).map_err(|reason| EngineError::Api { what, reason })
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
        let what = format!("{path} in {}", crate::model::short_id(id));
        match path_segment(&what, id) {
            Ok(seg) => {
                let url = self.versioned(&format!(
                    "/containers/{seg}/archive?path={}",
                    query_value(path)
                ));
                self.http.stream(what, url, false).left_stream()
            }
            Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
        }
    }

    /// `GET /images/{id}/get`: the image as a tar stream (what `docker
    /// save` writes). Read-only, but the engine copies every layer to a
    /// temporary folder on its machine to make it, and logs it (`image
    /// save`): callers note it in [`Engine::own_calls`] and bound what they
    /// read (see [`export`]).
    pub fn export_image(
        &self,
        id: &str,
    ) -> impl futures_util::Stream<Item = Result<bytes::Bytes, EngineError>> + '_ {
        use futures_util::StreamExt;
        let what = format!("the export of image {}", crate::model::short_id(id));
        match path_segment(&what, id) {
            Ok(seg) => {
                let url = self.versioned(&format!("/images/{seg}/get"));
                self.http.stream(what, url, false).left_stream()
            }
            Err(e) => futures_util::stream::once(async move { Err(e) }).right_stream(),
        }
    }

    /// `GET /networks/{name}`.
    pub async fn inspect_network(&self, name: &str) -> Result<NetworkInspect, EngineError> {
        let what = format!("network {name}");
        let path = format!("/networks/{}", path_segment(&what, name)?);
        self.get(&what, &path, limits::NETWORK).await
    }
}

/// Try the socket (with the tries every request gets) so "missing",
/// "permission denied" and "nobody listening" each get their own message.
async fn probe_unix(path: &std::path::Path, found_by: &FoundBy) -> Result<(), ConnectError> {
    use std::io::ErrorKind;
    match bounded::probe_unix(path).await {
        Ok(()) => Ok(()),
        Err((e, attempts, elapsed)) => Err(match e.kind() {
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
                reason: bounded::connect_reason(&e, attempts, elapsed),
            },
        }),
    }
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
