//! Image integrity: judge the signatures a registry holds for an image's
//! digest against the public keys the user names.
//!
//! Pure (no I/O): [`crate::sources::registry`] fetches the evidence (and
//! caches it), this decides, and the rules and reports read the outcome
//! from the model ([`crate::model::integrity`]). It sits beside `rules/`
//! rather than in it because `verify` and the scan both use it, and a rule
//! judges the outcome (is it what the policy requires?) — not the bytes.
//!
//! cosign's key-based format: the `sha256-<hex>.sig` manifest's layers are
//! simple-signing payloads (`critical.image.docker-manifest-digest` names
//! the digest signed), each with its base64 signature over the payload's
//! bytes in the `dev.cosignproject.cosign/signature` annotation.

pub mod keys;

use base64::Engine as _;
use sha2::Digest as _;

use crate::model::integrity::{Evidence, Integrity};
pub mod parse;
pub use keys::{KeyError, PublicKey};

/// What one signature is, against the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
enum One {
    Verified(String),
    WrongDigest(String),
    Invalid(String),
    OtherKey,
}

fn judge(sig: &crate::model::integrity::FetchedSignature, digest: &str, keys: &[PublicKey]) -> One {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Ok(payload) = b64.decode(&sig.payload) else {
        return One::Invalid("the payload is not base64".into());
    };
    let actual = format!("sha256:{}", keys::hex(&sha2::Sha256::digest(&payload)));
    if actual != sig.layer_digest {
        return One::Invalid(
            "the payload's bytes do not match the digest its manifest gives them".into(),
        );
    }
    if sig.signature.is_empty() {
        return One::Invalid("a payload without a signature annotation".into());
    }
    let Ok(bytes) = b64.decode(sig.signature.trim()) else {
        return One::Invalid("the signature annotation is not base64".into());
    };
    let shaped: Vec<&PublicKey> = keys
        .iter()
        .filter(|k| keys::well_formed(k.algorithm, &bytes))
        .collect();
    if shaped.is_empty() {
        return One::Invalid(
            "the signature is malformed (not a signature of the key's algorithm)".into(),
        );
    }
    let Some(key) = shaped
        .into_iter()
        .find(|k| keys::verifies(k, &payload, &bytes))
    else {
        return One::OtherKey;
    };
    match parse::payload(&payload) {
        Err(e) => One::Invalid(format!("signed, but {e}")),
        Ok(p) if p.digest != digest => One::WrongDigest(p.digest),
        Ok(_) => One::Verified(key.fingerprint.clone()),
    }
}

/// The outcome for an image of repository digest `digest`, given what the
/// registry holds and the keys that may sign it. One verified signature is
/// enough; otherwise the most telling failure wins (a signature copied
/// from another digest, then a malformed one, then one by another key).
pub fn verify(evidence: &Evidence, digest: &str, keys: &[PublicKey]) -> Integrity {
    if keys.is_empty() {
        return Integrity::NotChecked {
            reason: "no public key named for this image".into(),
        };
    }
    if evidence.signatures.is_empty() {
        return Integrity::Unsigned;
    }
    let all: Vec<One> = evidence
        .signatures
        .iter()
        .map(|s| judge(s, digest, keys))
        .collect();
    if let Some(One::Verified(key)) = all.iter().find(|o| matches!(o, One::Verified(_))) {
        return Integrity::Verified { key: key.clone() };
    }
    if let Some(One::WrongDigest(d)) = all.iter().find(|o| matches!(o, One::WrongDigest(_))) {
        return Integrity::WrongDigest { signed: d.clone() };
    }
    if let Some(One::Invalid(r)) = all.iter().find(|o| matches!(o, One::Invalid(_))) {
        return Integrity::Invalid { reason: r.clone() };
    }
    Integrity::SignedByOtherKey {
        signatures: all.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::integrity::{FetchedSignature, SignatureSource};

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const PAYLOAD: &str = include_str!("../../tests/fixtures/integrity/payload.json");

    fn key(name: &str) -> PublicKey {
        let text = std::fs::read_to_string(format!(
            "{}/tests/fixtures/integrity/{name}.pub",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        keys::from_pem(&text).unwrap()
    }

    fn sig_file(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/integrity/{name}.sig",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn evidence(payload: &[u8], sig: &str) -> Evidence {
        Evidence {
            signatures: vec![FetchedSignature {
                source: SignatureSource::Tag,
                layer_digest: format!("sha256:{}", keys::hex(&sha2::Sha256::digest(payload))),
                payload: base64::engine::general_purpose::STANDARD.encode(payload),
                signature: sig.to_string(),
            }],
            ..Evidence::default()
        }
    }

    #[test]
    fn verifies_ecdsa_ed25519_and_rsa() {
        for name in ["a", "e", "r"] {
            let k = key(name);
            let out = verify(
                &evidence(PAYLOAD.as_bytes(), &sig_file(name)),
                D,
                std::slice::from_ref(&k),
            );
            assert_eq!(out, Integrity::Verified { key: k.fingerprint }, "{name}");
        }
    }

    #[test]
    fn another_key_is_not_verified() {
        let out = verify(
            &evidence(PAYLOAD.as_bytes(), &sig_file("a")),
            D,
            &[key("b")],
        );
        assert_eq!(out, Integrity::SignedByOtherKey { signatures: 1 });
        // One of several keys is enough.
        let out = verify(
            &evidence(PAYLOAD.as_bytes(), &sig_file("a")),
            D,
            &[key("b"), key("a")],
        );
        assert!(out.is_verified());
    }

    #[test]
    fn a_signature_of_another_digest_is_caught() {
        let other = D.replace("0123", "ffff");
        let out = verify(
            &evidence(PAYLOAD.as_bytes(), &sig_file("a")),
            &other,
            &[key("a")],
        );
        assert_eq!(out, Integrity::WrongDigest { signed: D.into() });
    }

    #[test]
    fn tampering_is_invalid_or_not_verified() {
        // A payload altered after signing: no key verifies it.
        let altered = PAYLOAD.replace("integ-x/a", "integ-x/b");
        let out = verify(
            &evidence(altered.as_bytes(), &sig_file("a")),
            D,
            &[key("a")],
        );
        assert!(!out.is_verified());
        // A signature that is not one.
        for sig in ["", "!!!", "AAAA"] {
            let out = verify(&evidence(PAYLOAD.as_bytes(), sig), D, &[key("a")]);
            assert!(matches!(out, Integrity::Invalid { .. }), "{sig}: {out:?}");
        }
        // Bytes that do not match their layer digest.
        let mut ev = evidence(PAYLOAD.as_bytes(), &sig_file("a"));
        ev.signatures[0].layer_digest = D.into();
        assert!(matches!(
            verify(&ev, D, &[key("a")]),
            Integrity::Invalid { .. }
        ));
    }

    #[test]
    fn unsigned_and_no_key() {
        assert_eq!(
            verify(&Evidence::default(), D, &[key("a")]),
            Integrity::Unsigned
        );
        let out = verify(&evidence(PAYLOAD.as_bytes(), &sig_file("a")), D, &[]);
        assert!(matches!(out, Integrity::NotChecked { .. }));
    }
}
