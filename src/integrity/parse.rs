//! Pure parsers of what a registry answers: OCI / Docker manifests and
//! indexes (the `.sig` tag's manifest, the referrers list), cosign's
//! simple-signing payload, repository digests, and the bearer-token
//! challenge. No I/O; fuzzed (`shipshape::fuzz::registry_answers`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The media type of cosign's signed payload (a layer of the `.sig` manifest).
pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation of that layer carrying the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The artifact type of a cosign signature found through the referrers API.
pub const COSIGN_ARTIFACT: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
/// The `type` a cosign container-image signature declares.
pub const COSIGN_TYPE: &str = "cosign container image signature";

/// A manifest is refused past this many layers or index entries.
pub const MAX_ENTRIES: usize = 256;

/// A problem in what the registry sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

fn bad(s: impl Into<String>) -> ParseError {
    ParseError(s.into())
}

/// One content descriptor (a layer, or an entry of an index).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    #[serde(default)]
    pub media_type: String,
    /// `sha256:<64 hex>` (checked by [`manifest`]).
    pub digest: String,
    /// Its size in bytes, as the manifest states.
    #[serde(default)]
    pub size: i64,
    /// Its annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The artifact type (entries of a referrers index).
    #[serde(default)]
    pub artifact_type: Option<String>,
}

/// An image manifest or an index, as far as signatures need it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Its media type, when it states one.
    #[serde(default)]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1).
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// The layers (an image manifest).
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The entries (an index, a referrers answer).
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

/// Whether `d` is `sha256:` and 64 lower-case hex digits.
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Parse a manifest or an index. Every digest must be a sha256 digest
/// (they end up in URLs), sizes not negative, at most [`MAX_ENTRIES`].
pub fn manifest(data: &[u8]) -> Result<Manifest, ParseError> {
    let m: Manifest =
        serde_json::from_slice(data).map_err(|e| bad(format!("not a manifest: {e}")))?;
    if m.layers.len() > MAX_ENTRIES || m.manifests.len() > MAX_ENTRIES {
        return Err(bad(format!(
            "a manifest of more than {MAX_ENTRIES} entries is refused"
        )));
    }
    for d in m.layers.iter().chain(&m.manifests) {
        if !is_sha256_digest(&d.digest) {
            return Err(bad(format!(
                "a descriptor's digest is not a sha256 digest: {:?}",
                crate::model::text::visible(&d.digest.chars().take(80).collect::<String>())
            )));
        }
        if d.size < 0 {
            return Err(bad("a descriptor's size is negative"));
        }
    }
    Ok(m)
}

/// What a cosign simple-signing payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    /// `critical.image.docker-manifest-digest`: the digest signed.
    pub digest: String,
    /// `critical.identity.docker-reference`: the repository it names.
    pub reference: String,
}

#[derive(Deserialize)]
struct RawPayload {
    critical: RawCritical,
}

#[derive(Deserialize)]
struct RawCritical {
    #[serde(default)]
    identity: RawIdentity,
    image: RawImage,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct RawIdentity {
    #[serde(rename = "docker-reference", default)]
    reference: String,
}

#[derive(Deserialize)]
struct RawImage {
    #[serde(rename = "docker-manifest-digest")]
    digest: String,
}

/// Parse a simple-signing payload: its `type` must be cosign's, its digest
/// a sha256 digest.
pub fn payload(data: &[u8]) -> Result<Payload, ParseError> {
    let raw: RawPayload = serde_json::from_slice(data).map_err(|e| {
        bad(format!(
            "the signed payload is not a simple-signing document: {e}"
        ))
    })?;
    if raw.critical.kind != COSIGN_TYPE {
        return Err(bad(format!(
            "the signed payload's type is {:?}, not {COSIGN_TYPE:?}",
            crate::model::text::visible(&raw.critical.kind.chars().take(80).collect::<String>())
        )));
    }
    if !is_sha256_digest(&raw.critical.image.digest) {
        return Err(bad("the signed payload's digest is not a sha256 digest"));
    }
    Ok(Payload {
        digest: raw.critical.image.digest,
        reference: raw.critical.identity.reference,
    })
}

/// A repository digest (`name@sha256:…`) split into where to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoDigest {
    /// The registry's host (and port): `docker.io` becomes
    /// `registry-1.docker.io`.
    pub registry: String,
    /// The repository inside it (`library/` added for Docker Hub's
    /// official images).
    pub repository: String,
    /// `sha256:…`.
    pub digest: String,
}

impl RepoDigest {
    /// The repository as people write it (`registry/repository`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// Split a repository digest. The registry is the first path part when it
/// has a dot or a colon or is `localhost`, else Docker Hub.
pub fn repo_digest(s: &str) -> Result<RepoDigest, ParseError> {
    let (name, digest) = s
        .split_once('@')
        .ok_or_else(|| bad("not a repository digest (no @)"))?;
    if !is_sha256_digest(digest) {
        return Err(bad("not a sha256 repository digest"));
    }
    let (first, rest) = name.split_once('/').unwrap_or(("", name));
    let (registry, repository) = if !first.is_empty()
        && (first.contains('.') || first.contains(':') || first == "localhost")
    {
        (first.to_string(), rest.to_string())
    } else {
        ("docker.io".to_string(), name.to_string())
    };
    let (registry, repository) = if registry == "docker.io" || registry == "index.docker.io" {
        let repo = if repository.contains('/') {
            repository
        } else {
            format!("library/{repository}")
        };
        ("registry-1.docker.io".to_string(), repo)
    } else {
        (registry, repository)
    };
    let ok_repo = !repository.is_empty()
        && repository.len() <= 255
        && repository.split('/').all(|part| {
            // The distribution grammar: alphanumerics joined by separators.
            part.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
                && part
                    .bytes()
                    .last()
                    .is_some_and(|b| b.is_ascii_alphanumeric())
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    let ok_registry = !registry.is_empty()
        && registry.len() <= 255
        && registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !ok_repo || !ok_registry {
        return Err(bad("not a valid repository name"));
    }
    Ok(RepoDigest {
        registry,
        repository,
        digest: digest.to_string(),
    })
}

/// A `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// The token endpoint.
    pub realm: String,
    /// The service to name.
    pub service: Option<String>,
    /// The scope asked for.
    pub scope: Option<String>,
}

/// Parse a bearer challenge; `None` for any other scheme.
pub fn challenge(header: &str) -> Option<Challenge> {
    let rest = header.trim();
    let rest = rest
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("bearer "))
        .map(|_| &rest[7..])?;
    let mut c = Challenge::default();
    let mut s = rest.trim();
    while !s.is_empty() {
        let (key, after) = s.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.to_ascii_lowercase().as_str() {
            "realm" => c.realm = value.to_string(),
            "service" => c.service = Some(value.to_string()),
            "scope" => c.scope = Some(value.to_string()),
            _ => {}
        }
        s = next.trim_start().trim_start_matches(',').trim_start();
    }
    (!c.realm.is_empty()).then_some(c)
}

/// The token of a token endpoint's answer (`token` or `access_token`).
pub fn token(data: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct T {
        token: Option<String>,
        access_token: Option<String>,
    }
    let t: T = serde_json::from_slice(data).ok()?;
    t.token
        .or(t.access_token)
        .filter(|t| !t.is_empty() && t.len() <= 16 << 10 && t.bytes().all(|b| b.is_ascii_graphic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_a_cosign_signature_manifest() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"{D}"}},
            "layers":[{{"mediaType":"{SIMPLE_SIGNING}","size":250,"digest":"{D}",
            "annotations":{{"{SIGNATURE_ANNOTATION}":"MEUCIQ=="}}}}]}}"#
        );
        let m = manifest(m.as_bytes()).unwrap();
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].media_type, SIMPLE_SIGNING);
        assert_eq!(m.layers[0].annotations[SIGNATURE_ANNOTATION], "MEUCIQ==");
    }

    #[test]
    fn refuses_digests_that_are_not_sha256() {
        for d in ["sha256:../../x", "md5:00", "sha256:ABC", ""] {
            let m = format!(r#"{{"layers":[{{"digest":"{d}","size":1}}]}}"#);
            assert!(manifest(m.as_bytes()).is_err(), "{d}");
        }
        let m = format!(r#"{{"layers":[{{"digest":"{D}","size":-1}}]}}"#);
        assert!(manifest(m.as_bytes()).is_err());
    }

    #[test]
    fn reads_a_referrers_index() {
        let m = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
            "manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D}",
            "size":10,"artifactType":"{COSIGN_ARTIFACT}"}}]}}"#
        );
        let m = manifest(m.as_bytes()).unwrap();
        assert_eq!(
            m.manifests[0].artifact_type.as_deref(),
            Some(COSIGN_ARTIFACT)
        );
    }

    #[test]
    fn reads_the_simple_signing_payload() {
        let p = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"127.0.0.1:5000/x/a"}},"image":{{"docker-manifest-digest":"{D}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let p = payload(p.as_bytes()).unwrap();
        assert_eq!(p.digest, D);
        assert_eq!(p.reference, "127.0.0.1:5000/x/a");
        let other = format!(
            r#"{{"critical":{{"image":{{"docker-manifest-digest":"{D}"}},"type":"atomic container signature"}}}}"#
        );
        assert!(payload(other.as_bytes()).is_err());
        assert!(payload(b"{}").is_err());
    }

    #[test]
    fn splits_repository_digests() {
        let r = repo_digest(&format!("127.0.0.1:5000/integ-x/a@{D}")).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "integ-x/a");
        let r = repo_digest(&format!("alpine@{D}")).unwrap();
        assert_eq!(r.registry, "registry-1.docker.io");
        assert_eq!(r.repository, "library/alpine");
        let r = repo_digest(&format!("ghcr.io/acme/app@{D}")).unwrap();
        assert_eq!(r.registry, "ghcr.io");
        assert!(repo_digest("alpine:3").is_err());
        assert!(repo_digest(&format!("a/../b@{D}")).is_err());
        assert!(repo_digest(&format!("h.io/a?x=1@{D}")).is_err());
    }

    #[test]
    fn reads_bearer_challenges() {
        let c = challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        )
        .unwrap();
        assert_eq!(c.realm, "https://auth.docker.io/token");
        assert_eq!(c.service.as_deref(), Some("registry.docker.io"));
        assert_eq!(c.scope.as_deref(), Some("repository:library/alpine:pull"));
        assert!(challenge(r#"Basic realm="x""#).is_none());
        assert!(challenge("Bearer").is_none());
        assert_eq!(token(br#"{"token":"abc"}"#).as_deref(), Some("abc"));
        assert_eq!(token(br#"{"access_token":"t"}"#).as_deref(), Some("t"));
        assert!(token(b"{\"token\":\"a\\nb\"}").is_none());
    }
}
