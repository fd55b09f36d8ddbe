//! Image integrity: the signatures fetched for an image's digest (plain
//! data, kept in the signature cache) and the outcome of checking them
//! against the keys the user names. "Not checked" is never "verified".

use serde::{Deserialize, Serialize};

/// Where a signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureSource {
    /// cosign's `sha256-<hex>.sig` tag.
    Tag,
    /// The OCI 1.1 referrers API.
    Referrers,
}

/// One cosign signature as the registry gave it, not yet judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchedSignature {
    /// Where it was found.
    pub source: SignatureSource,
    /// The digest the manifest gives the payload layer.
    pub layer_digest: String,
    /// The payload's bytes, base64.
    pub payload: String,
    /// The `dev.cosignproject.cosign/signature` annotation (base64), as given.
    pub signature: String,
}

/// What the registry holds about one digest.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The signatures found (none: unsigned).
    pub signatures: Vec<FetchedSignature>,
    /// Whether the registry answered the referrers API.
    pub referrers_api: bool,
    /// What could not be read (shown with the outcome).
    pub problems: Vec<String>,
}

/// The outcome of checking an image's signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Integrity {
    /// A signature of this digest verifies with a key the user named.
    Verified {
        /// The key's fingerprint (`sha256:` of its SubjectPublicKeyInfo).
        key: String,
    },
    /// The registry holds no signature for the digest.
    Unsigned,
    /// Signatures exist, but none verifies with the keys named: signed by
    /// another key (or altered after signing).
    SignedByOtherKey {
        /// How many signatures were found.
        signatures: usize,
    },
    /// A signature verifies with the key, but signs another digest: it was
    /// copied from another image.
    WrongDigest {
        /// The digest it signs.
        signed: String,
    },
    /// A signature is malformed: not base64, not a signature of the key's
    /// algorithm, a payload that is not cosign's or not its layer's bytes.
    Invalid {
        /// What is wrong.
        reason: String,
    },
    /// Not checked: no network allowed, no repository digest, no key,
    /// registry unreachable.
    NotChecked {
        /// Why.
        reason: String,
    },
}

impl Integrity {
    /// Whether this is a verified signature (the only "yes").
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }

    /// The stable name of the state (`verified`, `unsigned`, …).
    pub fn state(&self) -> &'static str {
        match self {
            Self::Verified { .. } => "verified",
            Self::Unsigned => "unsigned",
            Self::SignedByOtherKey { .. } => "signed_by_other_key",
            Self::WrongDigest { .. } => "wrong_digest",
            Self::Invalid { .. } => "invalid",
            Self::NotChecked { .. } => "not_checked",
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Self::Verified { key } => format!("verified: signed by key {}", short_key(key)),
            Self::Unsigned => "unsigned: the registry holds no signature for this digest".into(),
            Self::SignedByOtherKey { signatures } => format!(
                "signed by another key: {signatures} signature(s), none verifies with the key \
                 named (another signer, or altered after signing)"
            ),
            Self::WrongDigest { signed } => format!(
                "signature for another digest: it verifies with the key but signs {signed} \
                 (copied from another image)"
            ),
            Self::Invalid { reason } => format!("invalid signature: {reason}"),
            Self::NotChecked { reason } => format!("not checked: {reason}"),
        }
    }
}

/// `sha256:` and the first 16 hex digits of a key fingerprint.
pub fn short_key(key: &str) -> &str {
    key.get(..23).unwrap_or(key)
}

impl Default for ImageIntegrity {
    /// Not checked: no signature requirement of the policy covers the image.
    fn default() -> Self {
        Self {
            digest: None,
            outcome: Integrity::NotChecked {
                reason: "no signature requirement of the policy covers this image".into(),
            },
            signer: None,
            fetched: None,
        }
    }
}

/// The integrity of one image, as shown and reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIntegrity {
    /// The repository digest checked, when the image has one.
    pub digest: Option<String>,
    /// The outcome.
    #[serde(flatten)]
    pub outcome: Integrity,
    /// The name the policy gives the key (or the key file), when verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// When the signatures were fetched, if from the cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched: Option<chrono::DateTime<chrono::Utc>>,
}
