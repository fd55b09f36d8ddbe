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
    let (https, trusted) = super::https::connector().map_err(err)?;
    if trusted == 0 {
        return Err(err(
            "no system root certificates found (install ca-certificates)".to_string(),
        ));
    }
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// How often one download is tried before the update gives up.
const ATTEMPTS: u32 = 3;

/// Why one attempt of a download failed: worth another try (the
/// connection broke, the server was busy), or not (a 404, a file too large).
enum Attempt {
    Retry(StoreError),
    Fail(StoreError),
}

/// Download one URL to `dest` (which must not exist yet), checking its
/// length. What arrives goes first to `part` (in the database folder, kept
/// between runs with the server's `ETag` beside it): a broken connection is
/// retried, and a later run resumes where the last one stopped, with a
/// `Range` request the server honours only if the file did not change
/// (`If-Range`). Returns the bytes.
async fn fetch(
    client: &Client,
    url: &str,
    part: &Path,
    dest: &Path,
    name: &str,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<u64, StoreError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|e| err(format!("{url}: not a URL: {e}")))?;
    check_scheme(&uri)?;
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(u64::from(attempt))).await;
        }
        match fetch_once(client, &uri, url, part, name, progress).await {
            Ok(done) => {
                tokio::fs::rename(part, dest)
                    .await
                    .map_err(|e| err(format!("{}: {e}", dest.display())))?;
                let _ = tokio::fs::remove_file(etag_path(part)).await;
                return Ok(done);
            }
            Err(Attempt::Fail(e)) => return Err(e),
            Err(Attempt::Retry(e)) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| err(format!("{url}: not downloaded"))))
}

fn etag_path(part: &Path) -> PathBuf {
    let mut p = part.as_os_str().to_owned();
    p.push(".etag");
    PathBuf::from(p)
}

async fn fetch_once(
    client: &Client,
    uri: &http::Uri,
    url: &str,
    part: &Path,
    name: &str,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<u64, Attempt> {
    let fail = |s: String| Attempt::Fail(err(s));
    let retry = |s: String| Attempt::Retry(err(s));
    let have = tokio::fs::metadata(part)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let etag = tokio::fs::read_to_string(etag_path(part)).await.ok();
    let mut req = http::Request::get(uri.clone());
    if let (true, Some(tag)) = (have > 0, etag.as_deref()) {
        req = req
            .header(http::header::RANGE, format!("bytes={have}-"))
            .header(http::header::IF_RANGE, tag.trim());
    }
    let req = req
        .body(http_body_util::Empty::<bytes::Bytes>::new())
        .map_err(|e| fail(format!("{url}: {e}")))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(60), client.request(req))
        .await
        .map_err(|_| retry(format!("{url}: no answer within 60 s")))?
        .map_err(|e| retry(format!("{url}: {e}")))?;
    let status = resp.status();
    let resumed = status == http::StatusCode::PARTIAL_CONTENT;
    if status.is_server_error() || status == http::StatusCode::TOO_MANY_REQUESTS {
        return Err(retry(format!("{url}: the server answered {status}")));
    }
    if status == http::StatusCode::RANGE_NOT_SATISFIABLE {
        // What was kept is not a prefix of what is there now: start over.
        let _ = tokio::fs::remove_file(part).await;
        let _ = tokio::fs::remove_file(etag_path(part)).await;
        return Err(retry(format!(
            "{url}: the partial download no longer fits; starting over"
        )));
    }
    if status != http::StatusCode::OK && !resumed {
        return Err(fail(format!("{url}: the server answered {status}")));
    }
    let headers = resp.headers();
    let length = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let start = if resumed { have } else { 0 };
    let total = if resumed {
        headers
            .get(http::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|v| v.parse::<u64>().ok())
            .or(length.map(|l| l + start))
    } else {
        length
    };
    if total.is_some_and(|t| t > MAX_DOWNLOAD) {
        return Err(fail(format!(
            "{url}: larger than {} GiB",
            MAX_DOWNLOAD >> 30
        )));
    }
    match headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
    {
        Some(tag) => {
            let _ = tokio::fs::write(etag_path(part), tag).await;
        }
        None => {
            let _ = tokio::fs::remove_file(etag_path(part)).await;
        }
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed)
        .truncate(!resumed)
        .open(part)
        .await
        .map_err(|e| fail(format!("{}: {e}", part.display())))?;
    let mut body = resp.into_body();
    let mut done = start;
    let mut last_report = 0u64;
    progress(Progress::Download {
        name: name.to_string(),
        done,
        total,
    });
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| retry(format!("{url}: the download broke off: {e}")))?;
        if let Ok(data) = frame.into_data() {
            done += data.len() as u64;
            if done > MAX_DOWNLOAD {
                return Err(fail(format!(
                    "{url}: larger than {} GiB",
                    MAX_DOWNLOAD >> 30
                )));
            }
            file.write_all(&data)
                .await
                .map_err(|e| fail(format!("{}: {e}", part.display())))?;
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
        .map_err(|e| fail(format!("{}: {e}", part.display())))?;
    if let Some(t) = total
        && t != done
    {
        return Err(retry(format!(
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

/// The dump's URL: `<base>/<ecosystem>/all.zip`, the ecosystem's name
/// percent-encoded (`Red%20Hat`).
pub fn dump_url(base: &str, ecosystem: &str) -> String {
    let mut name = String::new();
    for b in ecosystem.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{}/{name}/all.zip", base.trim_end_matches('/'))
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
    let parts = store.dir().join(".downloads");
    tokio::fs::create_dir_all(&parts)
        .await
        .map_err(|e| err(format!("{}: {e}", parts.display())))?;
    let mut files: Vec<(String, String, PathBuf)> = Vec::new();
    for eco in ecosystems {
        let url = dump_url(base, eco);
        let file = format!(
            "{}.zip",
            eco.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        );
        let dest = tmp.path().join(&file);
        // A partial download of another mirror is not resumed.
        let mirror: String = {
            use sha2::Digest;
            sha2::Sha256::digest(base.as_bytes())
                .iter()
                .take(6)
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let part = parts.join(format!("{mirror}-{file}.part"));
        fetch(&client, &url, &part, &dest, eco, progress).await?;
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
                "the downloads held no records of an ecosystem shipshape matches",
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

/// Download exploit data (`(name, url)`: CISA's KEV catalogue, FIRST's EPSS
/// scores) and store it beside the OSV data; each replaces only its own
/// part. Same transport rules, retries and resume as the OSV dumps.
pub async fn update_exploits(
    store: &Store,
    sources: &[(String, String)],
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<crate::vulndb::exploits::Exploits, StoreError> {
    let parts = store.dir().join(".downloads");
    tokio::fs::create_dir_all(&parts)
        .await
        .map_err(|e| err(format!("{}: {e}", parts.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".update-")
        .tempdir_in(store.dir())
        .map_err(|e| err(format!("{}: {e}", store.dir().display())))?;
    let client = client()?;
    let mut last = store.load_exploits().unwrap_or_default();
    for (name, url) in sources {
        let file = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        let dest = tmp.path().join(&file);
        let part = parts.join(format!("{file}.part"));
        fetch(&client, url, &part, &dest, name, progress).await?;
        let bytes = tokio::fs::read(&dest)
            .await
            .map_err(|e| err(format!("{}: {e}", dest.display())))?;
        let (store, url) = (store.clone(), url.clone());
        last = tokio::task::spawn_blocking(move || store.import_exploits(&bytes, &url))
            .await
            .map_err(|e| err(e.to_string()))??;
    }
    Ok(last)
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
