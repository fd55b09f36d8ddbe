//! `shipshape db update`: download the OSV dumps of the distributions
//! shipshape matches, verify them, and replace the database atomically.
//!
//! One zip per base ecosystem (`<base>/Debian/all.zip`, …) into a temporary
//! directory beside the database; each download's length is checked against
//! `Content-Length`, each zip entry's CRC as it is read, and every record is
//! parsed by the same importer as `db import` (with its ceilings). Only then
//! is the stored database replaced; a failure anywhere leaves the old one.
//!
//! HTTPS only, with the system's root certificates. Plain `http://` is
//! accepted for loopback addresses (a local mirror, the tests) and refused
//! elsewhere: the data has no signature of its own, so the transport must
//! be authenticated.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use crate::vulndb::store::{Import, Store, StoreError};
use crate::vulndb::{Database, SourceMeta};

/// Where OSV publishes its per-ecosystem dumps.
pub const DEFAULT_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";
/// The ecosystems downloaded by default.
pub use crate::vulndb::ECOSYSTEMS;
/// A download larger than this is refused.
pub const MAX_DOWNLOAD: u64 = 2 << 30;

/// Progress of an update, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Downloading `name`: bytes so far, of `total` when known.
    Download {
        /// The file.
        name: String,
        /// Bytes so far.
        done: u64,
        /// Its size, when the server says.
        total: Option<u64>,
    },
    /// Reading and indexing what was downloaded.
    Importing,
}

fn err(s: impl Into<String>) -> StoreError {
    StoreError::Download(s.into())
}

/// Refuse plain HTTP except to loopback.
fn check_scheme(uri: &http::Uri) -> Result<(), StoreError> {
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let host = uri.host().unwrap_or("");
            if crate::model::is_loopback_host(host.trim_start_matches('[').trim_end_matches(']')) {
                Ok(())
            } else {
                Err(err(format!(
                    "refusing plain http:// to {host}: the data has no signature, so it is only \
                     fetched over https (http is allowed to a loopback mirror)"
                )))
            }
        }
        other => Err(err(format!("unsupported URL scheme {other:?}"))),
    }
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<bytes::Bytes>,
>;

fn client() -> Result<Client, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        return Err(err(
            "no system root certificates found (install ca-certificates)".to_string(),
        ));
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// Download one URL to `dest`, checking its length. Returns the bytes.
async fn fetch(
    client: &Client,
    url: &str,
    dest: &Path,
    name: &str,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<u64, StoreError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| err(format!("{url}: not a URL: {e}")))?;
    check_scheme(&uri)?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(60), client.get(uri))
        .await
        .map_err(|_| err(format!("{url}: no answer within 60 s")))?
        .map_err(|e| err(format!("{url}: {e}")))?;
    if resp.status() != http::StatusCode::OK {
        return Err(err(format!("{url}: the server answered {}", resp.status())));
    }
    let total = resp
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if total.is_some_and(|t| t > MAX_DOWNLOAD) {
        return Err(err(format!(
            "{url}: larger than {} GiB",
            MAX_DOWNLOAD >> 30
        )));
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .map_err(|e| err(format!("{}: {e}", dest.display())))?;
    let mut body = resp.into_body();
    let mut done = 0u64;
    let mut last_report = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| err(format!("{url}: the download broke off: {e}")))?;
        if let Ok(data) = frame.into_data() {
            done += data.len() as u64;
            if done > MAX_DOWNLOAD {
                return Err(err(format!(
                    "{url}: larger than {} GiB",
                    MAX_DOWNLOAD >> 30
                )));
            }
            file.write_all(&data)
                .await
                .map_err(|e| err(format!("{}: {e}", dest.display())))?;
            if done - last_report >= 256 << 10 {
                last_report = done;
                progress(Progress::Download {
                    name: name.to_string(),
                    done,
                    total,
                });
            }
        }
    }
    file.flush()
        .await
        .map_err(|e| err(format!("{}: {e}", dest.display())))?;
    if let Some(t) = total
        && t != done
    {
        return Err(err(format!(
            "{url}: got {done} bytes of {t}: the download is incomplete"
        )));
    }
    progress(Progress::Download {
        name: name.to_string(),
        done,
        total: Some(done),
    });
    Ok(done)
}

/// Download the dumps of `ecosystems` from `base`, import them, and replace
/// the stored database. The old database stays if anything fails.
pub async fn update(
    store: &Store,
    base: &str,
    ecosystems: &[String],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Database, StoreError> {
    tokio::fs::create_dir_all(store.dir())
        .await
        .map_err(|e| err(format!("{}: {e}", store.dir().display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".update-")
        .tempdir_in(store.dir())
        .map_err(|e| err(format!("{}: {e}", store.dir().display())))?;
    let client = client()?;
    let mut files: Vec<(String, String, PathBuf)> = Vec::new();
    for eco in ecosystems {
        let url = format!("{}/{eco}/all.zip", base.trim_end_matches('/'));
        let dest = tmp.path().join(format!("{eco}.zip"));
        fetch(&client, &url, &dest, eco, progress).await?;
        files.push((eco.clone(), url, dest));
    }
    progress(Progress::Importing);
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut imp = Import::default();
        for (eco, url, path) in &files {
            let before = imp.builder.records();
            let f =
                std::fs::File::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
            imp.zip(std::io::BufReader::new(f), path)?;
            imp.builder.source(SourceMeta {
                name: eco.clone(),
                origin: url.clone(),
                records: imp.builder.records() - before,
            });
        }
        if imp.builder.records() == 0 {
            return Err(err(
                "the downloads held no Debian, Ubuntu or Alpine records",
            ));
        }
        if let Ok(old) = store.load() {
            imp.builder.keep_others(&old);
        }
        let db = imp.builder.finish(Utc::now());
        store.save(&db)?;
        drop(tmp);
        Ok(db)
    })
    .await
    .map_err(|e| err(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "https://osv-vulnerabilities.storage.googleapis.com/x",
            "http://127.0.0.1:8080/x",
            "http://[::1]/x",
            "http://localhost/x",
        ] {
            assert!(check_scheme(&ok.parse().unwrap()).is_ok(), "{ok}");
        }
        for bad in ["http://mirror.example.com/x", "ftp://x/y"] {
            assert!(check_scheme(&bad.parse().unwrap()).is_err(), "{bad}");
        }
    }
}
