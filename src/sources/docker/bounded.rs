//! `GET` with a ceiling on the answer's size, for the answers whose size
//! whoever started a container controls (inspect: labels, environment,
//! command; image history; exec inspect). bollard reads a body whole before
//! it parses it, so a 2 GB label would be 2 GB in memory, twice. Here the
//! body is read through `http_body_util::Limited`: past the ceiling the read
//! stops and the object is reported as refused, with the reason.
//!
//! Every endpoint: a unix socket (also an ssh tunnel's local end), plain
//! TCP, and TCP with TLS (rustls with the user's CA, certificate and key,
//! as the docker CLI and bollard use them).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;

use super::EngineError;

/// Ceilings on one answer, in bytes. A real container inspect is 5–20 KiB;
/// these leave room for thousands of labels and still bound the worst.
pub mod limits {
    /// The most bytes read of an inspect answer.
    pub const INSPECT: usize = 16 << 20;
    /// The most bytes read of an image history.
    pub const HISTORY: usize = 16 << 20;
}

/// Where to send it.
pub enum Transport<'a> {
    /// A Unix socket.
    Unix(&'a std::path::Path),
    /// A TCP address (`host:port`).
    Tcp(&'a str),
    /// `host:port` and the client configuration from [`tls_config`].
    Tls(&'a str, &'a std::sync::Arc<rustls::ClientConfig>),
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

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `GET path` (already versioned, `/v1.41/containers/x/json`), parsed as
/// `T`, reading at most `limit` bytes of the body.
pub async fn get_json<T: DeserializeOwned>(
    transport: Transport<'_>,
    what: &str,
    path: &str,
    limit: usize,
) -> Result<T, EngineError> {
    let lost = |reason: String| EngineError::Lost {
        what: what.to_string(),
        reason,
    };
    let fut = async {
        let (status, body) = match transport {
            Transport::Unix(p) => {
                let s = tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(|e| lost(e.to_string()))?;
                exchange(TokioIo::new(s), path, limit).await
            }
            Transport::Tcp(addr) => {
                let s = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| lost(e.to_string()))?;
                exchange(TokioIo::new(s), path, limit).await
            }
            Transport::Tls(addr, config) => tls_exchange(addr, config, path, limit).await,
        }
        .map_err(|e| match e {
            Failure::TooLarge => EngineError::TooLarge {
                what: what.to_string(),
                limit,
            },
            Failure::Other(reason) => lost(reason),
        })?;
        if status == 404 {
            return Err(EngineError::NotFound {
                what: what.to_string(),
            });
        }
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_default();
            return Err(EngineError::Api {
                what: what.to_string(),
                reason: format!(
                    "HTTP {status}: {}",
                    crate::model::text::visible(message.trim())
                ),
            });
        }
        // Malformed is a refusal of this object, not a lost engine.
        serde_json::from_slice(&body).map_err(|e| EngineError::Api {
            what: what.to_string(),
            reason: format!("unreadable answer: {e}"),
        })
    };
    match tokio::time::timeout(TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(lost(format!("no answer in {} s", TIMEOUT.as_secs()))),
    }
}

enum Failure {
    TooLarge,
    Other(String),
}

async fn exchange<IO>(io: IO, path: &str, limit: usize) -> Result<(u16, Bytes), Failure>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let other = |e: &dyn std::fmt::Display| Failure::Other(e.to_string());
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| other(&e))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = http::Request::get(path)
        .header(http::header::HOST, "docker")
        .body(Empty::<Bytes>::new())
        .map_err(|e| other(&e))?;
    let resp = sender.send_request(req).await.map_err(|e| other(&e))?;
    let read = limited(resp, limit).await;
    driver.abort();
    read
}

/// The same exchange over TLS.
async fn tls_exchange(
    addr: &str,
    config: &std::sync::Arc<rustls::ClientConfig>,
    path: &str,
    limit: usize,
) -> Result<(u16, Bytes), Failure> {
    let other = |e: &dyn std::fmt::Display| Failure::Other(e.to_string());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(rustls::ClientConfig::clone(config))
        .https_only()
        .enable_http1()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, Empty<Bytes>>(https);
    let uri: http::Uri = format!("https://{addr}{path}")
        .parse()
        .map_err(|e| other(&e))?;
    let resp = client.get(uri).await.map_err(|e| {
        let mut text = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(s) = cur {
            text = format!("{text}: {s}");
            cur = s.source();
        }
        Failure::Other(text)
    })?;
    limited(resp, limit).await
}

/// The status, and the body read up to `limit` bytes.
async fn limited(
    resp: http::Response<hyper::body::Incoming>,
    limit: usize,
) -> Result<(u16, Bytes), Failure> {
    let status = resp.status().as_u16();
    let body = Limited::new(resp.into_body(), limit).collect().await;
    match body {
        Ok(b) => Ok((status, b.to_bytes())),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(Failure::TooLarge)
        }
        Err(e) => Err(Failure::Other(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serve one canned HTTP answer on a unix socket.
    async fn serve(answer: Vec<u8>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(&answer).await;
            let _ = s.shutdown().await;
        });
        (dir, path)
    }

    fn answer(status: &str, body: &[u8]) -> Vec<u8> {
        let mut a = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        a.extend_from_slice(body);
        a
    }

    async fn get(answer: Vec<u8>, limit: usize) -> Result<serde_json::Value, EngineError> {
        let (_dir, path) = serve(answer).await;
        get_json(
            Transport::Unix(&path),
            "container x",
            "/v1.41/containers/x/json",
            limit,
        )
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
}
