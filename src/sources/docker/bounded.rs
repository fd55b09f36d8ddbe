//! Every request shipshape sends to a container engine, and every answer
//! it reads, go through here (bollard gives the answer types only, not the
//! client). An engine may be hostile, broken or overloaded — a remote one,
//! a socket proxy, whatever listens at `DOCKER_HOST` — so:
//!
//! - **Size.** A body is read up to a ceiling ([`limits`]): checked against
//!   `Content-Length` before reading and counted while reading; past it the
//!   read stops and the object is refused with the ceiling named. A list is
//!   also cut at a number of entries ([`super::list`]). Live streams
//!   (events, stats) are bounded per message.
//! - **Time.** Every request has an overall deadline — connecting, the
//!   answer and its whole body — named in the error, so an engine that
//!   drips an answer one byte a second is given up on
//!   ([`limits::DEADLINE`], `SHIPSHAPE_ENGINE_DEADLINE`). A live stream has
//!   the deadline until its answer starts, then none (it is live).
//! - **Connections.** At most [`limits::CONNECTIONS`] requests are open at
//!   once per engine, across every stage of a scan and every clone of the
//!   engine (one semaphore per engine, one connection per request); live
//!   streams have a bound of their own ([`limits::LIVE_STREAMS`]), so they
//!   never starve a scan.
//! - **Connecting.** A connect that is refused or finds a full backlog
//!   (`ECONNREFUSED`, `EAGAIN` from a socket proxy) is tried again with
//!   back-off ([`limits::CONNECT_ATTEMPTS`]): one refused connection is not
//!   a lost engine, a failure that persists is.
//!
//! Paths are built by [`super::Engine`], each segment taken from an engine
//! answer checked and escaped (`super::path_segment`).
//!
//! Every endpoint: a unix socket (also an ssh tunnel's local end), plain
//! TCP, and TCP with TLS (rustls with the user's CA, certificate and key,
//! as the docker CLI uses them).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::EngineError;

/// Ceilings on what is read of an engine, and on how it is asked.
pub mod limits {
    use std::time::Duration;

    /// The most bytes read of an inspect answer (container, image, exec).
    /// A real one is 5–20 KiB; this leaves room for thousands of labels.
    pub const INSPECT: usize = 16 << 20;
    /// The most bytes read of an image history.
    pub const HISTORY: usize = 16 << 20;
    /// `/version` (about 1 KiB).
    pub const VERSION: usize = 1 << 20;
    /// `/info` (5–20 KiB: plugins, labels, warnings).
    pub const INFO: usize = 16 << 20;
    /// A container or image list (1–2 KiB an entry: 10,000 containers are
    /// about 20 MiB).
    pub const LIST: usize = 64 << 20;
    /// One network (it lists its containers' endpoints).
    pub const NETWORK: usize = 16 << 20;
    /// A container's processes (`top`): their command lines.
    pub const TOP: usize = 16 << 20;
    /// A container's changed files (drift): the container writes them.
    pub const CHANGES: usize = 64 << 20;
    /// One stats reading (2–5 KiB).
    pub const STATS: usize = 1 << 20;
    /// One event: it carries the container's labels, as inspect does.
    pub const EVENT: usize = 16 << 20;
    /// What is read of an error answer, for its message.
    pub const ERROR: usize = 64 << 10;
    /// Containers read of one list; the running ones first.
    pub const CONTAINERS: usize = 10_000;
    /// Images read of one list.
    pub const IMAGES: usize = 10_000;
    /// Requests open at once to one engine (each on its own connection).
    pub const CONNECTIONS: usize = 32;
    /// Live streams open at once to one engine (the event stream and the
    /// window's stats streams, at most `watch::docker::MAX_STREAMS`).
    pub const LIVE_STREAMS: usize = 40;
    /// The overall deadline of one request: connect, answer, whole body.
    pub const DEADLINE: Duration = Duration::from_secs(60);
    /// The variable that sets [`DEADLINE`] (whole seconds, 1–3600).
    pub const DEADLINE_VAR: &str = "SHIPSHAPE_ENGINE_DEADLINE";
    /// Connecting and the first `/version`.
    pub const HANDSHAKE: Duration = Duration::from_secs(10);
    /// The overall deadline of one archive read (`GET …/archive`): its
    /// readers stop sooner (`files::Limits::time`, at most 180 s).
    pub const ARCHIVE_DEADLINE: Duration = Duration::from_secs(600);
    /// Connect attempts before a refused or overloaded endpoint is lost
    /// (back-off from 25 ms, doubling, at most 1 s: about 2.6 s in all).
    pub const CONNECT_ATTEMPTS: u32 = 8;

    /// [`DEADLINE`], or what [`DEADLINE_VAR`] says.
    pub fn deadline() -> Duration {
        std::env::var(DEADLINE_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .map_or(DEADLINE, Duration::from_secs)
    }
}

/// Where to send requests.
#[derive(Debug)]
pub enum Transport {
    /// A Unix socket.
    Unix(PathBuf),
    /// A TCP address (`host:port`).
    Tcp(String),
    /// `host:port` and the client configuration from [`tls_config`].
    Tls(String, Arc<rustls::ClientConfig>),
}

/// A TLS client configuration from the engine's CA and the user's
/// certificate and key (PEM files, as in `DOCKER_CERT_PATH` or a context's
/// TLS folder).
pub fn tls_config(
    ca: &std::path::Path,
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let file = |p: &std::path::Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(|e| file(ca, &e))? {
        roots
            .add(c.map_err(|e| file(ca, &e))?)
            .map_err(|e| file(ca, &e))?;
    }
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file(cert, &e))?;
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file(key, &e))?;
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_client_auth_cert(certs, key_der)
    .map_err(|e| e.to_string())?;
    Ok(std::sync::Arc::new(config))
}

/// The client of one engine. Clones share its connection bounds.
#[derive(Clone)]
pub struct Client(Arc<Inner>);

struct Inner {
    transport: Transport,
    /// One permit per open request (and its connection).
    requests: Arc<Semaphore>,
    /// One permit per open live stream.
    live: Arc<Semaphore>,
    deadline: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.0.transport)
            .field("deadline", &self.0.deadline)
            .finish()
    }
}

/// A failure below the level of an answer.
enum Failure {
    TooLarge,
    Connect {
        error: std::io::Error,
        attempts: u32,
        elapsed: Duration,
    },
    Other(String),
}

impl Failure {
    fn into_error(self, what: &str, limit: usize) -> EngineError {
        let what = what.to_string();
        match self {
            Self::TooLarge => EngineError::TooLarge { what, limit },
            Self::Connect {
                error,
                attempts,
                elapsed,
            } => EngineError::Lost {
                what,
                reason: connect_reason(&error, attempts, elapsed),
            },
            Self::Other(reason) => EngineError::Lost { what, reason },
        }
    }
}

/// Why connecting failed, with how often it was tried.
pub fn connect_reason(error: &std::io::Error, attempts: u32, elapsed: Duration) -> String {
    if attempts > 1 {
        format!(
            "{error} (tried {attempts} times in {:.1} s)",
            elapsed.as_secs_f64()
        )
    } else {
        error.to_string()
    }
}

/// A connect error worth another try: refused (a proxy restarting, a
/// backlog full over TCP), `EAGAIN` (a unix socket's backlog full),
/// interrupted, reset before the first byte, timed out.
fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        WouldBlock
            | ConnectionRefused
            | Interrupted
            | TimedOut
            | ConnectionReset
            | ConnectionAborted
    )
}

/// The wait before attempt `attempt + 1`: 25 ms doubling, at most 1 s,
/// plus up to half again (so many tasks refused at once do not come back
/// at once).
fn backoff(attempt: u32) -> Duration {
    static DRAW: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let base = Duration::from_millis(25)
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
        .min(Duration::from_secs(1));
    // splitmix64 of a shared counter: cheap, and different for each wait.
    let mut z = DRAW.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let half = base.as_micros() as u64 / 2;
    base + Duration::from_micros(z % (half + 1))
}

/// Connect, trying again on a transient error; the last error, the
/// attempts and the time taken when it does not work.
async fn connect_retry<S, F, Fut>(mut connect: F) -> Result<S, (std::io::Error, u32, Duration)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::io::Result<S>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        match connect().await {
            Ok(s) => return Ok(s),
            Err(e) if transient(&e) && attempt < limits::CONNECT_ATTEMPTS => {
                tracing::debug!("connect attempt {attempt}: {e}; trying again");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) => return Err((e, attempt, started.elapsed())),
        }
    }
}

/// Connect to a unix socket as a request would (with the same tries):
/// the last error keeps its kind, so "missing", "permission denied" and
/// "nobody listening" can each be told.
pub async fn probe_unix(path: &Path) -> Result<(), (std::io::Error, u32, Duration)> {
    connect_retry(|| tokio::net::UnixStream::connect(path))
        .await
        .map(drop)
}

/// What keeps one request's connection open, and its place.
struct Hold {
    _permit: OwnedSemaphorePermit,
    driver: Option<tokio::task::AbortHandle>,
    _sender: Option<hyper::client::conn::http1::SendRequest<Empty<Bytes>>>,
    _client: Option<TlsClient>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        if let Some(d) = &self.driver {
            d.abort();
        }
    }
}

type TlsClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Empty<Bytes>,
>;

/// An answer whose body is still to be read.
struct Opened {
    status: u16,
    headers: http::HeaderMap,
    body: Incoming,
    hold: Hold,
}

/// An answer read (up to its ceiling).
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Bytes,
}

fn content_length(h: &http::HeaderMap) -> Option<u64> {
    h.get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Read the body, at most `limit` bytes; `got` counts what came. The
/// frames are kept as they come and joined once at the end (a buffer
/// grown by doubling would hold up to twice the ceiling while reading).
async fn collect(body: &mut Incoming, limit: usize, got: &AtomicUsize) -> Result<Bytes, Failure> {
    let mut frames: Vec<Bytes> = Vec::new();
    let mut total = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Failure::Other(super::describe(&e)))?;
        if let Ok(data) = frame.into_data() {
            if total + data.len() > limit {
                return Err(Failure::TooLarge);
            }
            total += data.len();
            got.store(total, Ordering::Relaxed);
            frames.push(data);
        }
    }
    Ok(match frames.len() {
        0 => Bytes::new(),
        1 => frames.swap_remove(0),
        _ => {
            let mut whole = BytesMut::with_capacity(total);
            for f in frames {
                whole.extend_from_slice(&f);
            }
            whole.freeze()
        }
    })
}

/// The first `limit` bytes of a body (an error answer: only its message
/// matters), whatever else happens.
async fn prefix(body: &mut Incoming, limit: usize) -> Bytes {
    let mut buf = BytesMut::new();
    while buf.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = limit - buf.len();
                    buf.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            _ => break,
        }
    }
    buf.freeze()
}

/// Why a request ended at its deadline: the deadline, and how much came.
fn deadline_reason(deadline: Duration, got: usize, expected: u64) -> String {
    let of = if expected == u64::MAX {
        String::new()
    } else {
        format!(" of {expected}")
    };
    format!(
        "no complete answer within {} s, the deadline for one request to the engine \
         ({got}{of} bytes of the answer came; {} sets the deadline)",
        deadline.as_secs(),
        limits::DEADLINE_VAR
    )
}

/// 404 is "gone", any other status but 2xx a refusal with the engine's
/// message.
fn check_status(what: &str, status: u16, body: &[u8]) -> Result<(), EngineError> {
    if status == 404 {
        return Err(EngineError::NotFound {
            what: what.to_string(),
        });
    }
    if !(200..300).contains(&status) {
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            });
        return Err(EngineError::Api {
            what: what.to_string(),
            reason: format!(
                "HTTP {status}: {}",
                crate::model::text::visible(message.trim())
            ),
        });
    }
    Ok(())
}

fn request(
    method: http::Method,
    uri: http::Uri,
    host: bool,
) -> Result<http::Request<Empty<Bytes>>, Failure> {
    let mut b = http::Request::builder().method(method).uri(uri);
    if host {
        b = b.header(http::header::HOST, "docker");
    }
    b.body(Empty::new())
        .map_err(|e| Failure::Other(e.to_string()))
}

/// One HTTP/1.1 exchange on a connection just made.
async fn http1<IO>(
    io: IO,
    method: http::Method,
    path: &str,
    permit: OwnedSemaphorePermit,
) -> Result<Opened, Failure>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let other = |e: &(dyn std::error::Error + 'static)| Failure::Other(super::describe(e));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| other(&e))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut hold = Hold {
        _permit: permit,
        driver: Some(driver.abort_handle()),
        _sender: None,
        _client: None,
    };
    let uri: http::Uri = path.parse().map_err(|e| other(&e))?;
    let resp = sender
        .send_request(request(method, uri, true)?)
        .await
        .map_err(|e| other(&e))?;
    hold._sender = Some(sender);
    let (parts, body) = resp.into_parts();
    Ok(Opened {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
        hold,
    })
}

/// The same over TLS (a fresh client, so one connection, per request);
/// connect errors are tried again as for the other transports.
async fn tls(
    addr: &str,
    config: &Arc<rustls::ClientConfig>,
    method: http::Method,
    path: &str,
    permit: OwnedSemaphorePermit,
) -> Result<Opened, Failure> {
    let uri: http::Uri = format!("https://{addr}{path}")
        .parse()
        .map_err(|e: http::uri::InvalidUri| Failure::Other(e.to_string()))?;
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(rustls::ClientConfig::clone(config))
            .https_only()
            .enable_http1()
            .build();
        let client: TlsClient =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(https);
        match client
            .request(request(method.clone(), uri.clone(), false)?)
            .await
        {
            Ok(resp) => {
                let (parts, body) = resp.into_parts();
                return Ok(Opened {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body,
                    hold: Hold {
                        _permit: permit,
                        driver: None,
                        _sender: None,
                        _client: Some(client),
                    },
                });
            }
            Err(e) if e.is_connect() => {
                let io = io_error(&e);
                match io {
                    Some(io) if transient(io) && attempt < limits::CONNECT_ATTEMPTS => {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                    Some(io) => {
                        return Err(Failure::Connect {
                            error: std::io::Error::new(io.kind(), super::describe(&e)),
                            attempts: attempt,
                            elapsed: started.elapsed(),
                        });
                    }
                    None => return Err(Failure::Other(super::describe(&e))),
                }
            }
            Err(e) => return Err(Failure::Other(super::describe(&e))),
        }
    }
}

/// The I/O error at the bottom of an error's sources, if any.
fn io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        cur = c.source();
    }
    None
}

impl Client {
    /// A client for `transport`; `deadline` bounds each request.
    pub fn new(transport: Transport, deadline: Duration) -> Self {
        Self(Arc::new(Inner {
            transport,
            requests: Arc::new(Semaphore::new(limits::CONNECTIONS)),
            live: Arc::new(Semaphore::new(limits::LIVE_STREAMS)),
            deadline,
        }))
    }

    /// The deadline of one request.
    pub fn deadline(&self) -> Duration {
        self.0.deadline
    }

    async fn permit(&self, live: bool) -> OwnedSemaphorePermit {
        let pool = if live { &self.0.live } else { &self.0.requests };
        pool.clone()
            .acquire_owned()
            .await
            .expect("an engine's semaphores are never closed")
    }

    /// Connect and send; the answer's head has come.
    async fn open(
        &self,
        method: http::Method,
        path: &str,
        permit: OwnedSemaphorePermit,
    ) -> Result<Opened, Failure> {
        let connect_failed = |(error, attempts, elapsed)| Failure::Connect {
            error,
            attempts,
            elapsed,
        };
        match &self.0.transport {
            Transport::Unix(p) => {
                let s = connect_retry(|| tokio::net::UnixStream::connect(p))
                    .await
                    .map_err(connect_failed)?;
                http1(TokioIo::new(s), method, path, permit).await
            }
            Transport::Tcp(addr) => {
                let s = connect_retry(|| tokio::net::TcpStream::connect(addr.as_str()))
                    .await
                    .map_err(connect_failed)?;
                http1(TokioIo::new(s), method, path, permit).await
            }
            Transport::Tls(addr, config) => tls(addr, config, method, path, permit).await,
        }
    }

    /// One request, its body read up to `limit` (an error answer's up to
    /// [`limits::ERROR`]), all within `deadline`.
    async fn exchange(
        &self,
        what: &str,
        method: http::Method,
        path: &str,
        limit: usize,
        deadline: Duration,
    ) -> Result<Answer, EngineError> {
        let permit = self.permit(false).await;
        let got = AtomicUsize::new(0);
        let expected = AtomicU64::new(u64::MAX);
        let work = async {
            let mut o = self.open(method.clone(), path, permit).await?;
            let length = content_length(&o.headers);
            if let Some(n) = length {
                expected.store(n, Ordering::Relaxed);
            }
            let body = if method == http::Method::HEAD {
                Bytes::new()
            } else if (200..300).contains(&o.status) {
                if length.is_some_and(|n| n > limit as u64) {
                    return Err(Failure::TooLarge);
                }
                collect(&mut o.body, limit, &got).await?
            } else {
                prefix(&mut o.body, limits::ERROR).await
            };
            drop(o.hold);
            Ok(Answer {
                status: o.status,
                headers: o.headers,
                body,
            })
        };
        match tokio::time::timeout(deadline, work).await {
            Ok(Ok(a)) => Ok(a),
            Ok(Err(f)) => Err(f.into_error(what, limit)),
            Err(_) => Err(EngineError::Lost {
                what: what.to_string(),
                reason: deadline_reason(
                    deadline,
                    got.load(Ordering::Relaxed),
                    expected.load(Ordering::Relaxed),
                ),
            }),
        }
    }

    /// `GET path` (already versioned), at most `limit` bytes of its body.
    pub async fn get(&self, what: &str, path: &str, limit: usize) -> Result<Bytes, EngineError> {
        self.get_within(what, path, limit, self.0.deadline).await
    }

    /// The same, within `deadline`.
    pub async fn get_within(
        &self,
        what: &str,
        path: &str,
        limit: usize,
        deadline: Duration,
    ) -> Result<Bytes, EngineError> {
        let a = self
            .exchange(what, http::Method::GET, path, limit, deadline)
            .await?;
        check_status(what, a.status, &a.body)?;
        Ok(a.body)
    }

    /// `GET path`, parsed as `T`. Malformed is a refusal of this object,
    /// not a lost engine.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        limit: usize,
    ) -> Result<T, EngineError> {
        self.get_json_within(what, path, limit, self.0.deadline)
            .await
    }

    /// The same, within `deadline`.
    pub async fn get_json_within<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        limit: usize,
        deadline: Duration,
    ) -> Result<T, EngineError> {
        let body = self.get_within(what, path, limit, deadline).await?;
        serde_json::from_slice(&body).map_err(|e| EngineError::Api {
            what: what.to_string(),
            reason: format!("unreadable answer: {e}"),
        })
    }

    /// `HEAD path`: the answer's headers.
    pub async fn head(&self, what: &str, path: &str) -> Result<http::HeaderMap, EngineError> {
        let a = self
            .exchange(what, http::Method::HEAD, path, 0, self.0.deadline)
            .await?;
        check_status(what, a.status, &a.body)?;
        Ok(a.headers)
    }

    /// Open a streamed answer: the deadline until its head; a refusal
    /// read whole (bounded) and returned.
    async fn open_stream(&self, what: &str, path: &str, live: bool) -> Result<Opened, EngineError> {
        let permit = self.permit(live).await;
        let deadline = self.0.deadline;
        let work = async {
            let mut o = self.open(http::Method::GET, path, permit).await?;
            if !(200..300).contains(&o.status) {
                let body = prefix(&mut o.body, limits::ERROR).await;
                return Ok::<_, Failure>(Err((o.status, body)));
            }
            Ok(Ok(o))
        };
        match tokio::time::timeout(deadline, work).await {
            Err(_) => Err(EngineError::Lost {
                what: what.to_string(),
                reason: deadline_reason(deadline, 0, u64::MAX),
            }),
            Ok(Err(f)) => Err(f.into_error(what, 0)),
            Ok(Ok(Err((status, body)))) => {
                check_status(what, status, &body)?;
                Err(EngineError::Api {
                    what: what.to_string(),
                    reason: format!("HTTP {status}"),
                })
            }
            Ok(Ok(Ok(o))) => Ok(o),
        }
    }

    /// `GET path` as a stream of byte chunks. `live`: an event or stats
    /// stream (its own bound on connections, no overall deadline); else
    /// an archive read, with [`limits::ARCHIVE_DEADLINE`].
    pub fn stream(
        &self,
        what: String,
        path: String,
        live: bool,
    ) -> impl Stream<Item = Result<Bytes, EngineError>> + Send + 'static {
        struct Reading {
            body: Incoming,
            _hold: Hold,
            until: Option<tokio::time::Instant>,
        }
        enum State {
            Start,
            Reading(Box<Reading>),
            Done,
        }
        struct Flow {
            client: Client,
            what: String,
            path: String,
            live: bool,
            state: State,
        }
        let flow = Flow {
            client: self.clone(),
            what,
            path,
            live,
            state: State::Start,
        };
        futures_util::stream::unfold(flow, |mut f| async move {
            loop {
                match std::mem::replace(&mut f.state, State::Done) {
                    State::Done => return None,
                    State::Start => match f.client.open_stream(&f.what, &f.path, f.live).await {
                        Ok(o) => {
                            f.state = State::Reading(Box::new(Reading {
                                body: o.body,
                                _hold: o.hold,
                                until: (!f.live).then(|| {
                                    tokio::time::Instant::now() + limits::ARCHIVE_DEADLINE
                                }),
                            }))
                        }
                        Err(e) => return Some((Err(e), f)),
                    },
                    State::Reading(mut r) => {
                        let frame = match r.until {
                            Some(t) => match tokio::time::timeout_at(t, r.body.frame()).await {
                                Ok(frame) => frame,
                                Err(_) => {
                                    let e = EngineError::Lost {
                                        what: f.what.clone(),
                                        reason: format!(
                                            "the answer did not end within {} s, the deadline for one archive read",
                                            limits::ARCHIVE_DEADLINE.as_secs()
                                        ),
                                    };
                                    return Some((Err(e), f));
                                }
                            },
                            None => r.body.frame().await,
                        };
                        match frame {
                            None => return None,
                            Some(Err(e)) => {
                                let e = EngineError::Lost {
                                    what: f.what.clone(),
                                    reason: super::describe(&e),
                                };
                                return Some((Err(e), f));
                            }
                            Some(Ok(frame)) => {
                                f.state = State::Reading(r);
                                match frame.into_data() {
                                    Ok(data) if !data.is_empty() => return Some((Ok(data), f)),
                                    _ => continue,
                                }
                            }
                        }
                    }
                }
            }
        })
    }

    /// A live stream of JSON messages, one a line (`/events`,
    /// `/containers/{id}/stats?stream=1`), each at most `line_limit`
    /// bytes. A longer one is skipped (not kept) and given as a
    /// [`EngineError::TooLarge`] item; the stream goes on after it. A
    /// line that does not parse is an [`EngineError::Api`] item, and the
    /// stream goes on too.
    pub fn json_lines<T: DeserializeOwned + Send + 'static>(
        &self,
        what: String,
        path: String,
        line_limit: usize,
    ) -> impl Stream<Item = Result<T, EngineError>> + Send + 'static {
        struct Lines<S> {
            bytes: std::pin::Pin<Box<S>>,
            buf: BytesMut,
            /// Inside a line past the ceiling: dropped up to its newline.
            skipping: bool,
            ended: bool,
            what: String,
        }
        let lines = Lines {
            bytes: Box::pin(self.stream(what.clone(), path, true)),
            buf: BytesMut::new(),
            skipping: false,
            ended: false,
            what,
        };
        let too_large = move |what: &str| EngineError::TooLarge {
            what: what.to_string(),
            limit: line_limit,
        };
        let parse = |what: &str, line: &[u8]| {
            serde_json::from_slice::<T>(line).map_err(|e| EngineError::Api {
                what: what.to_string(),
                reason: format!("unreadable answer: {e}"),
            })
        };
        futures_util::stream::unfold(lines, move |mut l| async move {
            loop {
                if l.skipping {
                    match l.buf.iter().position(|&b| b == b'\n') {
                        Some(at) => {
                            let _ = l.buf.split_to(at + 1);
                            l.skipping = false;
                        }
                        None => l.buf.clear(),
                    }
                }
                if !l.skipping {
                    if let Some(at) = l.buf.iter().position(|&b| b == b'\n') {
                        let line = l.buf.split_to(at + 1);
                        if line.len() > line_limit + 1 {
                            return Some((Err(too_large(&l.what)), l));
                        }
                        let text = line.trim_ascii();
                        if text.is_empty() {
                            continue;
                        }
                        let item = parse(&l.what, text);
                        return Some((item, l));
                    }
                    if l.buf.len() > line_limit {
                        l.buf.clear();
                        l.skipping = true;
                        return Some((Err(too_large(&l.what)), l));
                    }
                }
                if l.ended {
                    let rest = l.buf.split();
                    let text = rest.trim_ascii();
                    if l.skipping || text.is_empty() {
                        return None;
                    }
                    let item = parse(&l.what, text);
                    return Some((item, l));
                }
                match l.bytes.next().await {
                    Some(Ok(b)) => l.buf.extend_from_slice(&b),
                    Some(Err(e)) => {
                        l.ended = true;
                        l.buf.clear();
                        l.skipping = false;
                        return Some((Err(e), l));
                    }
                    None => l.ended = true,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serve one canned HTTP answer on a unix socket; `hold`: keep the
    /// connection open after it.
    async fn serve_with(answer: Vec<u8>, hold: bool) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(&answer).await;
            if hold {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            let _ = s.shutdown().await;
        });
        (dir, path)
    }

    async fn serve(answer: Vec<u8>) -> (tempfile::TempDir, PathBuf) {
        serve_with(answer, false).await
    }

    fn answer(status: &str, body: &[u8]) -> Vec<u8> {
        let mut a = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        a.extend_from_slice(body);
        a
    }

    fn client(path: &Path, deadline: Duration) -> Client {
        Client::new(Transport::Unix(path.into()), deadline)
    }

    async fn get(answer: Vec<u8>, limit: usize) -> Result<serde_json::Value, EngineError> {
        let (_dir, path) = serve(answer).await;
        client(&path, Duration::from_secs(10))
            .get_json("container x", "/v1.41/containers/x/json", limit)
            .await
    }

    #[tokio::test]
    async fn answers_within_the_ceiling_are_parsed() {
        let v = get(answer("200 OK", br#"{"Id":"x"}"#), 1024).await.unwrap();
        assert_eq!(v["Id"], "x");
    }

    #[tokio::test]
    async fn past_the_ceiling_the_read_stops_with_a_reason() {
        let body = format!(r#"{{"Id":"x","Labels":{{"a":"{}"}}}}"#, "x".repeat(4096));
        let e = get(answer("200 OK", body.as_bytes()), 1024)
            .await
            .unwrap_err();
        assert!(
            matches!(e, EngineError::TooLarge { limit: 1024, .. }),
            "{e}"
        );
        assert!(e.to_string().starts_with("container x not read"));
    }

    #[tokio::test]
    async fn a_declared_length_past_the_ceiling_is_refused_before_reading() {
        // 2 GB announced, ten bytes sent, the connection held open: the
        // refusal comes at once, not at the deadline.
        let (_dir, path) = serve_with(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n0123456789".to_vec(),
            true,
        )
        .await;
        let e = client(&path, Duration::from_secs(20))
            .get_json::<serde_json::Value>("engine info", "/v1.41/info", 1 << 20)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "engine info not read: the engine's answer is larger than 1 MiB, the most shipshape reads of it"
        );
    }

    #[tokio::test]
    async fn errors_gone_and_garbage_are_told_apart() {
        let e = get(
            answer("404 Not Found", br#"{"message":"no such container"}"#),
            1024,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, EngineError::NotFound { .. }));
        let e = get(
            answer(
                "500 Internal Server Error",
                b"{\"message\":\"boom\\u001b[2J\"}",
            ),
            1024,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&e, EngineError::Api { reason, .. } if reason == "HTTP 500: boom\\u{1b}[2J"),
            "{e}"
        );
        let e = get(answer("200 OK", b"{not json"), 1024).await.unwrap_err();
        assert!(
            matches!(&e, EngineError::Api { reason, .. } if reason.starts_with("unreadable answer")),
            "{e}"
        );
    }

    /// D6: an answer dripped one byte at a time ends at the deadline,
    /// which the error names.
    #[tokio::test]
    async fn a_dripped_answer_ends_at_the_named_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                .await;
            for _ in 0..100 {
                if s.write_all(b"[").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let e = client(&path, Duration::from_secs(1))
            .get("the container list", "/v1.41/containers/json", 1 << 20)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, EngineError::Lost { .. }), "{text}");
        assert!(
            text.starts_with(
                "lost the engine while reading the container list: no complete answer within 1 s, \
                 the deadline for one request to the engine ("
            ),
            "{text}"
        );
        assert!(
            text.contains(" of 100000 bytes of the answer came"),
            "{text}"
        );
        assert!(text.contains("SHIPSHAPE_ENGINE_DEADLINE"), "{text}");
    }

    /// A socket proxy with a full backlog answers a connect with EAGAIN:
    /// tried again, not a lost engine.
    #[tokio::test]
    async fn a_full_backlog_is_tried_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let socket =
            socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
        socket
            .bind(&socket2::SockAddr::unix(&path).unwrap())
            .unwrap();
        socket.listen(1).unwrap();
        socket.set_nonblocking(true).unwrap();
        let std_listener: std::os::unix::net::UnixListener = socket.into();
        // Fill the backlog: the next connect is refused with EAGAIN.
        let mut waiting = Vec::new();
        let refused = loop {
            match tokio::net::UnixStream::connect(&path).await {
                Ok(s) => waiting.push(s),
                Err(e) => break e,
            }
            assert!(waiting.len() < 64, "the backlog never filled");
        };
        assert_eq!(refused.kind(), std::io::ErrorKind::WouldBlock, "{refused}");
        // The proxy catches up after a while.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let listener = tokio::net::UnixListener::from_std(std_listener).unwrap();
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    if matches!(s.read(&mut buf).await, Ok(n) if n > 0) {
                        let _ = s.write_all(&answer("200 OK", br#"{"ok":1}"#)).await;
                    }
                });
            }
        });
        let v: serde_json::Value = client(&path, Duration::from_secs(20))
            .get_json("engine info", "/v1.41/info", 1024)
            .await
            .unwrap();
        assert_eq!(v["ok"], 1);
        drop(waiting);
    }

    /// However many requests are asked at once, at most
    /// [`limits::CONNECTIONS`] connections are open to the engine.
    #[tokio::test]
    async fn connections_to_one_engine_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let open = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (o, m) = (open.clone(), most.clone());
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                let now = o.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                let o = o.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    // Counted as open until the answer is written: the
                    // client holds its connection at least that long, so
                    // this never counts more than were open (counting until
                    // the client's close is seen would, on a loaded machine,
                    // count a closed one beside the next).
                    o.fetch_sub(1, Ordering::SeqCst);
                    let _ = s.write_all(&answer("200 OK", b"{}")).await;
                    let _ = s.shutdown().await;
                    let _ = s.read(&mut buf).await;
                });
            }
        });
        let c = client(&path, Duration::from_secs(30));
        let asks = (0..200).map(|i| {
            let c = c.clone();
            async move {
                c.get_json::<serde_json::Value>(&format!("container {i}"), "/x", 1024)
                    .await
            }
        });
        let results = futures_util::future::join_all(asks).await;
        assert!(results.iter().all(Result::is_ok));
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=limits::CONNECTIONS).contains(&most),
            "{most} connections open at once"
        );
    }

    #[tokio::test]
    async fn a_live_stream_skips_a_message_past_its_ceiling_and_goes_on() {
        let mut body = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
        body.extend_from_slice(b"{\"a\":1}\n");
        body.extend_from_slice(format!("{{\"a\":\"{}\"}}\n", "x".repeat(5000)).as_bytes());
        body.extend_from_slice(b"not json\n\n{\"a\":2}");
        let (_dir, path) = serve(body).await;
        let items: Vec<Result<serde_json::Value, EngineError>> =
            client(&path, Duration::from_secs(5))
                .json_lines("the event stream".into(), "/events".into(), 1024)
                .collect()
                .await;
        assert_eq!(items.len(), 4, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap()["a"], 1);
        assert!(matches!(
            items[1],
            Err(EngineError::TooLarge { limit: 1024, .. })
        ));
        assert!(matches!(items[2], Err(EngineError::Api { .. })));
        assert_eq!(items[3].as_ref().unwrap()["a"], 2);
    }
}
