//! A read-only OCI distribution client (GET and HEAD only) for image
//! signatures: resolve a repository digest to its manifest, fetch cosign's
//! `sha256-<hex>.sig` tag manifest and its simple-signing layers, and ask
//! the OCI 1.1 referrers API (`/v2/<name>/referrers/<digest>`) where the
//! registry has it.
//!
//! Used only when the user allows the network (`--online`, or
//! `[integrity] online = true` in the policy). Plain HTTP only to loopback
//! registries, HTTPS (the system's roots) everywhere else; anonymous bearer
//! tokens where the registry asks for them. Every answer is bounded in size
//! ([`Limits`]) and time; what comes back is parsed by the pure functions of
//! [`parse`] and judged by [`crate::integrity`], never here.

pub mod cache;
pub use crate::integrity::parse;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt;

use crate::model::integrity::{Evidence, FetchedSignature, SignatureSource};
use parse::{RepoDigest, SIMPLE_SIGNING};

/// Ceilings of one check.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A manifest, an index or a referrers answer.
    pub manifest: usize,
    /// One signed payload (a simple-signing document is a few hundred bytes).
    pub payload: usize,
    /// Signatures read per image (tag and referrers together).
    pub signatures: usize,
    /// One request: connect, headers and body.
    pub request: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            manifest: 4 << 20,
            payload: 64 << 10,
            signatures: 16,
            request: Duration::from_secs(15),
        }
    }
}

/// Why signatures could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No connection, or the connection broke.
    #[error("registry {registry} unreachable: {reason}")]
    Unreachable {
        /// The registry.
        registry: String,
        /// What failed.
        reason: String,
    },
    /// An answer passed its ceiling.
    #[error("{what}: larger than {limit} bytes, refused")]
    TooLarge {
        /// What was read.
        what: String,
        /// The ceiling.
        limit: usize,
    },
    /// An answer did not come in time.
    #[error("{what}: no complete answer within {secs} s")]
    TimedOut {
        /// What was read.
        what: String,
        /// The ceiling, in seconds.
        secs: u64,
    },
    /// The registry does not have the image's digest.
    #[error("{0}: the registry does not have this digest")]
    NotInRegistry(String),
    /// An answer the client cannot use (status, malformed document).
    #[error("{0}")]
    Bad(String),
}

type Http = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<bytes::Bytes>,
>;

/// The client; cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: Http,
    limits: Limits,
    /// Bearer tokens by `registry/repository`.
    tokens: Arc<Mutex<Vec<(String, String)>>>,
}

/// Manifest types asked for.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// An answer read within its ceiling.
struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: bytes::Bytes,
}

impl Client {
    /// A client with the system's root certificates (none found is fine
    /// for loopback registries: HTTPS ones then fail with a clear reason).
    pub fn new(limits: Limits) -> Result<Self, RegistryError> {
        let (https, _) = crate::sources::https::connector().map_err(RegistryError::Bad)?;
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https);
        Ok(Self {
            http,
            limits,
            tokens: Arc::default(),
        })
    }

    /// The base URL of a registry: plain HTTP only for loopback.
    fn base(registry: &str) -> String {
        if crate::model::is_loopback_host(registry) {
            format!("http://{registry}")
        } else {
            format!("https://{registry}")
        }
    }

    fn token(&self, key: &str) -> Option<String> {
        let tokens = self.tokens.lock().ok()?;
        tokens
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, t)| t.clone())
    }

    /// One request, its body read up to `limit`, within the request time.
    async fn once(
        &self,
        method: http::Method,
        url: &str,
        limit: usize,
        bearer: Option<&str>,
        registry: &str,
    ) -> Result<Answer, RegistryError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| RegistryError::Bad(format!("{url}: not a URL: {e}")))?;
        // A HEAD's Content-Length is the size of what a GET would send.
        let head = method == http::Method::HEAD;
        let mut req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::ACCEPT, ACCEPT)
            .header(
                http::header::USER_AGENT,
                concat!("shipshape/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(t) = bearer {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = req
            .body(http_body_util::Empty::new())
            .map_err(|e| RegistryError::Bad(e.to_string()))?;
        let secs = self.limits.request.as_secs();
        let what = url.to_string();
        let read = async {
            let resp = self
                .http
                .request(req)
                .await
                .map_err(|e| RegistryError::Unreachable {
                    registry: registry.to_string(),
                    reason: describe(&e),
                })?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let declared = headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if !head && declared.is_some_and(|n| n > limit as u64) && (200..300).contains(&status) {
                return Err(RegistryError::TooLarge {
                    what: what.clone(),
                    limit,
                });
            }
            let mut body = resp.into_body();
            let mut buf = bytes::BytesMut::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| RegistryError::Unreachable {
                    registry: registry.to_string(),
                    reason: describe(&e),
                })?;
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        if (200..300).contains(&status) {
                            return Err(RegistryError::TooLarge {
                                what: what.clone(),
                                limit,
                            });
                        }
                        // An error answer: only its start matters.
                        break;
                    }
                    buf.extend_from_slice(&data);
                }
            }
            Ok(Answer {
                status,
                headers,
                body: buf.freeze(),
            })
        };
        tokio::time::timeout(self.limits.request, read)
            .await
            .map_err(|_| RegistryError::TimedOut {
                what: url.to_string(),
                secs,
            })?
    }

    /// A GET or HEAD of `/v2/<repository>/<path>`, with an anonymous bearer
    /// token fetched once when the registry asks for one.
    async fn get(
        &self,
        rd: &RepoDigest,
        method: http::Method,
        path: &str,
        limit: usize,
    ) -> Result<Answer, RegistryError> {
        let url = format!("{}/v2/{}/{path}", Self::base(&rd.registry), rd.repository);
        let key = rd.name();
        let bearer = self.token(&key);
        let a = self
            .once(method.clone(), &url, limit, bearer.as_deref(), &rd.registry)
            .await?;
        if a.status != 401 || bearer.is_some() {
            return Ok(a);
        }
        let Some(c) = a
            .headers
            .get(http::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse::challenge)
        else {
            return Ok(a);
        };
        let token = self.anonymous_token(rd, &c).await?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.push((key, token.clone()));
        }
        self.once(method, &url, limit, Some(&token), &rd.registry)
            .await
    }

    /// An anonymous pull token from the registry's token service (HTTPS,
    /// or loopback).
    async fn anonymous_token(
        &self,
        rd: &RepoDigest,
        c: &parse::Challenge,
    ) -> Result<String, RegistryError> {
        let realm: http::Uri = c
            .realm
            .parse()
            .map_err(|_| RegistryError::Bad("the registry's token realm is not a URL".into()))?;
        let host = realm.host().unwrap_or("");
        let secure = realm.scheme_str() == Some("https")
            || (realm.scheme_str() == Some("http") && crate::model::is_loopback_host(host));
        if !secure || realm.query().is_some() {
            return Err(RegistryError::Bad(format!(
                "the registry's token realm {} is refused (https only, no query)",
                crate::model::text::visible(&c.realm)
            )));
        }
        let scope = format!("repository:{}:pull", rd.repository);
        let mut url = format!("{}?scope={}", c.realm, encode(&scope));
        if let Some(s) = &c.service {
            url.push_str(&format!("&service={}", encode(s)));
        }
        let a = self
            .once(http::Method::GET, &url, 64 << 10, None, host)
            .await?;
        if a.status != 200 {
            return Err(RegistryError::Bad(format!(
                "the registry's token service answered {}",
                a.status
            )));
        }
        parse::token(&a.body)
            .ok_or_else(|| RegistryError::Bad("the token service's answer has no token".into()))
    }

    /// Everything signed about `rd`'s digest: cosign's `.sig` tag and the
    /// referrers API's cosign signatures. The digest must be in the
    /// registry (a HEAD of its manifest).
    pub async fn signatures(&self, rd: &RepoDigest) -> Result<Evidence, RegistryError> {
        let mut ev = Evidence::default();
        let head = self
            .get(
                rd,
                http::Method::HEAD,
                &format!("manifests/{}", rd.digest),
                0,
            )
            .await?;
        match head.status {
            200 => {}
            404 => return Err(RegistryError::NotInRegistry(rd.name())),
            s => {
                return Err(RegistryError::Bad(format!(
                    "{}: the registry answered {s} for the image's manifest",
                    rd.name()
                )));
            }
        }
        let hex = rd.digest.trim_start_matches("sha256:");
        let tag = self
            .get(
                rd,
                http::Method::GET,
                &format!("manifests/sha256-{hex}.sig"),
                self.limits.manifest,
            )
            .await?;
        match tag.status {
            200 => {
                let m = parse::manifest(&tag.body).map_err(|e| {
                    RegistryError::Bad(format!("the .sig manifest of {}: {e}", rd.name()))
                })?;
                self.layers(rd, &m, SignatureSource::Tag, &mut ev).await?;
            }
            404 => {}
            s => ev
                .problems
                .push(format!("the .sig tag: the registry answered {s}")),
        }
        let refs = self
            .get(
                rd,
                http::Method::GET,
                &format!("referrers/{}", rd.digest),
                self.limits.manifest,
            )
            .await?;
        ev.referrers_api = refs.status == 200;
        if refs.status == 200 {
            match parse::manifest(&refs.body) {
                Ok(index) => {
                    for entry in index
                        .manifests
                        .iter()
                        .filter(|d| d.artifact_type.as_deref() == Some(parse::COSIGN_ARTIFACT))
                    {
                        if ev.signatures.len() >= self.limits.signatures {
                            break;
                        }
                        let a = self
                            .get(
                                rd,
                                http::Method::GET,
                                &format!("manifests/{}", entry.digest),
                                self.limits.manifest,
                            )
                            .await?;
                        if a.status != 200 {
                            ev.problems
                                .push(format!("a referrer: the registry answered {}", a.status));
                            continue;
                        }
                        match parse::manifest(&a.body) {
                            Ok(m) => {
                                self.layers(rd, &m, SignatureSource::Referrers, &mut ev)
                                    .await?;
                            }
                            Err(e) => ev.problems.push(format!("a referrer: {e}")),
                        }
                    }
                }
                Err(e) => ev.problems.push(format!("the referrers list: {e}")),
            }
        }
        Ok(ev)
    }

    /// The simple-signing layers of a signature manifest.
    async fn layers(
        &self,
        rd: &RepoDigest,
        m: &parse::Manifest,
        source: SignatureSource,
        ev: &mut Evidence,
    ) -> Result<(), RegistryError> {
        use base64::Engine as _;
        for layer in m.layers.iter().filter(|l| l.media_type == SIMPLE_SIGNING) {
            if ev.signatures.len() >= self.limits.signatures {
                ev.problems.push(format!(
                    "more than {} signatures: the rest were not read",
                    self.limits.signatures
                ));
                break;
            }
            let signature = layer
                .annotations
                .get(parse::SIGNATURE_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            if usize::try_from(layer.size).unwrap_or(usize::MAX) > self.limits.payload {
                return Err(RegistryError::TooLarge {
                    what: format!("a signed payload of {}", rd.name()),
                    limit: self.limits.payload,
                });
            }
            let blob = self
                .get(
                    rd,
                    http::Method::GET,
                    &format!("blobs/{}", layer.digest),
                    self.limits.payload,
                )
                .await?;
            if blob.status != 200 {
                ev.problems.push(format!(
                    "a signed payload: the registry answered {}",
                    blob.status
                ));
                continue;
            }
            ev.signatures.push(FetchedSignature {
                source,
                layer_digest: layer.digest.clone(),
                payload: base64::engine::general_purpose::STANDARD.encode(&blob.body),
                signature: signature.chars().take(8 << 10).collect(),
            });
        }
        Ok(())
    }
}

/// Percent-encode a query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An error and its causes, on one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Whether, and how, the registry may be asked.
#[derive(Clone, Copy)]
pub enum Network<'a> {
    /// Offline (the default): only the cache is read.
    Offline,
    /// The user allowed the network: ask through this client.
    Online(&'a Client),
}

/// The integrity of one repository digest against `keys`: from the cache
/// when fresh (or when offline), else from the registry (then cached).
pub async fn check_digest(
    repo_digest: &str,
    keys: &[crate::integrity::PublicKey],
    network: Network<'_>,
    cache: Option<&cache::Cache>,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::model::integrity::ImageIntegrity {
    use crate::model::integrity::{ImageIntegrity, Integrity};
    let done = |outcome: Integrity, fetched| ImageIntegrity {
        digest: Some(repo_digest.to_string()),
        outcome,
        signer: None,
        fetched,
    };
    let rd = match parse::repo_digest(repo_digest) {
        Ok(rd) => rd,
        Err(e) => {
            return done(
                Integrity::NotChecked {
                    reason: format!("the repository digest cannot be read: {e}"),
                },
                None,
            );
        }
    };
    if keys.is_empty() {
        return done(
            Integrity::NotChecked {
                reason: "no public key named for this image".into(),
            },
            None,
        );
    }
    let cached = cache.and_then(|c| c.get(repo_digest));
    let client = match network {
        Network::Online(client) => client,
        Network::Offline => {
            return match cached {
                Some(e) => done(
                    crate::integrity::verify(&e.evidence, &rd.digest, keys),
                    Some(e.fetched),
                ),
                None => done(
                    Integrity::NotChecked {
                        reason: "offline: the network is not allowed (--online, or \
                                 [integrity] online = true in the policy) and no signature \
                                 is cached"
                            .into(),
                    },
                    None,
                ),
            };
        }
    };
    if let Some(e) = cached.filter(|e| now - e.fetched < cache::FRESH && e.fetched <= now) {
        return done(
            crate::integrity::verify(&e.evidence, &rd.digest, keys),
            Some(e.fetched),
        );
    }
    match client.signatures(&rd).await {
        Ok(evidence) => {
            if let Some(c) = cache
                && let Err(e) = c.put(repo_digest, &evidence, now)
            {
                tracing::warn!("signature cache {}: {e}", c.dir().display());
            }
            done(crate::integrity::verify(&evidence, &rd.digest, keys), None)
        }
        Err(e) => done(
            Integrity::NotChecked {
                reason: crate::model::text::visible(&e.to_string()).into_owned(),
            },
            None,
        ),
    }
}

/// Read and parse public key files (bounded reads).
pub fn load_keys(paths: &[std::path::PathBuf]) -> Result<Vec<crate::integrity::PublicKey>, String> {
    const LIMIT: crate::file::Limit = crate::file::Limit {
        what: "a public key file",
        bytes: crate::integrity::keys::MAX_PEM as u64,
    };
    paths
        .iter()
        .map(|p| {
            let text = crate::file::read_to_string(p, LIMIT)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            crate::integrity::keys::from_pem(&text).map_err(|e| format!("{}: {e}", p.display()))
        })
        .collect()
}

/// Fill `integrity` of every image a requirement of the policy covers:
/// the first of its repository digests so covered is checked (a verified
/// one wins over the others); an image without a digest is "not checked".
/// The registry is asked only when `online`.
pub async fn check_images(
    images: &mut [crate::model::Image],
    policy: &crate::model::policy::IntegrityPolicy,
    online: bool,
    now: chrono::DateTime<chrono::Utc>,
) {
    use crate::model::integrity::{ImageIntegrity, Integrity};
    if policy.require.is_empty() {
        return;
    }
    let client = if online {
        Client::new(Limits::default()).ok()
    } else {
        None
    };
    let cache = cache::Cache::default_dir().map(cache::Cache::new);
    // Each requirement's keys are read once per check, not once per image
    // (the window checks on every publish).
    let mut keys_of: Vec<Option<Result<Vec<crate::integrity::PublicKey>, String>>> =
        vec![None; policy.require.len()];
    for img in images.iter_mut() {
        let covered: Vec<(&String, &crate::model::policy::SignatureRequirement)> = img
            .digests
            .iter()
            .filter_map(|d| policy.requirement_for(d).map(|r| (d, r)))
            .collect();
        if covered.is_empty() {
            let by_tag = img.tags.iter().any(|t| {
                let name = crate::model::ImageRef::parse(t).map(|r| r.name());
                policy
                    .require
                    .iter()
                    .any(|r| r.covers(t) || name.as_deref().is_some_and(|n| r.covers(n)))
            });
            if by_tag {
                img.integrity = Some(ImageIntegrity {
                    digest: None,
                    outcome: Integrity::NotChecked {
                        reason: "the image has no repository digest (built here and never \
                                 pushed, or loaded from a file)"
                            .into(),
                    },
                    signer: None,
                    fetched: None,
                });
            }
            continue;
        }
        let mut first = None;
        for (d, r) in covered {
            // `requirement_for` answers with one of `policy.require`.
            let loaded = match policy.require.iter().position(|q| std::ptr::eq(q, r)) {
                Some(at) => keys_of[at]
                    .get_or_insert_with(|| load_keys(&r.keys))
                    .clone(),
                None => load_keys(&r.keys),
            };
            let out = match loaded {
                Err(e) => ImageIntegrity {
                    digest: Some(d.clone()),
                    outcome: Integrity::NotChecked {
                        reason: format!("a key of the policy cannot be used: {e}"),
                    },
                    signer: None,
                    fetched: None,
                },
                Ok(keys) => {
                    let network = client.as_ref().map_or(Network::Offline, Network::Online);
                    let mut out = tokio::time::timeout(
                        std::time::Duration::from_secs(60),
                        check_digest(d, &keys, network, cache.as_ref(), now),
                    )
                    .await
                    .unwrap_or_else(|_| ImageIntegrity {
                        digest: Some(d.clone()),
                        outcome: Integrity::NotChecked {
                            reason: "no answer from the registry within 60 s".into(),
                        },
                        signer: None,
                        fetched: None,
                    });
                    if out.outcome.is_verified() {
                        out.signer = r.signer.clone();
                    }
                    out
                }
            };
            if out.outcome.is_verified() {
                first = Some(out);
                break;
            }
            first.get_or_insert(out);
        }
        img.integrity = first;
    }
}
