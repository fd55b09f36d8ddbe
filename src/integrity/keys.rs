//! Public keys the user names: PEM (`-----BEGIN PUBLIC KEY-----`, what
//! `cosign generate-key-pair` and `openssl pkey -pubout` write) holding a
//! SubjectPublicKeyInfo of ECDSA P-256, Ed25519 or RSA, read by a small
//! pure DER reader (fuzzed: `shipshape::fuzz::public_key`).

use base64::Engine as _;
use sha2::Digest as _;

/// A key file larger than this is refused (an RSA-8192 key is ~1.5 KiB).
pub const MAX_PEM: usize = 64 << 10;

/// The algorithm of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256, ASN.1 signatures (cosign's default).
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// RSA (PKCS#1 v1.5 or PSS, SHA-256), 2048 to 8192 bits.
    Rsa {
        /// The modulus length in bytes (the length of a signature).
        modulus: usize,
    },
}

/// A public key, ready for ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The key as ring takes it: the uncompressed point, the 32 bytes, or
    /// the RSAPublicKey DER.
    pub key: Vec<u8>,
    /// `sha256:<hex>` of the SubjectPublicKeyInfo DER.
    pub fingerprint: String,
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub String);

fn bad(s: impl Into<String>) -> KeyError {
    KeyError(s.into())
}

const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// One DER element: its tag and contents; the rest of the input after it.
pub fn der(input: &[u8]) -> Result<(u8, &[u8], &[u8]), KeyError> {
    let (&tag, rest) = input.split_first().ok_or_else(|| bad("DER: truncated"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("DER: multi-byte tags are not used here"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("DER: truncated"))?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 3 || rest.len() < n {
            return Err(bad("DER: bad length"));
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        if len < 0x80 || (n > 1 && rest[0] == 0) {
            return Err(bad("DER: length not in its shortest form"));
        }
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(bad("DER: truncated"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

/// One element of `tag`, nothing after it inside `input`'s element.
fn expect(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), KeyError> {
    let (t, body, rest) = der(input)?;
    if t != tag {
        return Err(bad(format!("DER: expected tag {tag:#04x}, found {t:#04x}")));
    }
    Ok((body, rest))
}

/// A positive DER INTEGER's magnitude (no leading zero).
fn unsigned(int: &[u8]) -> Result<&[u8], KeyError> {
    match int {
        [] => Err(bad("DER: empty integer")),
        [b, ..] if b & 0x80 != 0 => Err(bad("DER: negative integer")),
        [0, next, ..] if next & 0x80 == 0 => Err(bad("DER: integer not in its shortest form")),
        [0, rest @ ..] => Ok(rest),
        all => Ok(all),
    }
}

/// Read a SubjectPublicKeyInfo.
pub fn from_spki(spki: &[u8]) -> Result<PublicKey, KeyError> {
    let (seq, rest) = expect(spki, 0x30)?;
    if !rest.is_empty() {
        return Err(bad("DER: data after the key"));
    }
    let (alg, rest) = expect(seq, 0x30)?;
    let (bits, rest) = expect(rest, 0x03)?;
    if !rest.is_empty() {
        return Err(bad("DER: data after the key's bits"));
    }
    let (oid, params) = expect(alg, 0x06)?;
    let key = match bits.split_first() {
        Some((0, key)) => key,
        _ => return Err(bad("DER: the key's bit string has unused bits")),
    };
    let algorithm = match oid {
        OID_EC => {
            let (curve, rest) = expect(params, 0x06)?;
            if curve != OID_P256 || !rest.is_empty() {
                return Err(bad(
                    "an ECDSA key on a curve other than P-256 (only P-256 is supported)",
                ));
            }
            if key.len() != 65 || key[0] != 4 {
                return Err(bad("an ECDSA P-256 key that is not an uncompressed point"));
            }
            Algorithm::EcdsaP256
        }
        OID_ED25519 => {
            if !params.is_empty() || key.len() != 32 {
                return Err(bad("a malformed Ed25519 key"));
            }
            Algorithm::Ed25519
        }
        OID_RSA => {
            let (n_e, rest) = expect(key, 0x30)?;
            if !rest.is_empty() {
                return Err(bad("DER: data after the RSA key"));
            }
            let (n, rest) = expect(n_e, 0x02)?;
            let (_e, rest) = expect(rest, 0x02)?;
            if !rest.is_empty() {
                return Err(bad("DER: data after the RSA exponent"));
            }
            let modulus = unsigned(n)?.len();
            if !(256..=1024).contains(&modulus) {
                return Err(bad("an RSA key outside 2048 to 8192 bits"));
            }
            Algorithm::Rsa { modulus }
        }
        _ => {
            return Err(bad(
                "a key of an unsupported algorithm (ECDSA P-256, Ed25519 and RSA are)",
            ));
        }
    };
    Ok(PublicKey {
        algorithm,
        key: key.to_vec(),
        fingerprint: format!("sha256:{}", hex(&sha2::Sha256::digest(spki))),
    })
}

/// Read a PEM public key (the first `PUBLIC KEY` block). A private key is
/// refused without repeating any of it.
pub fn from_pem(text: &str) -> Result<PublicKey, KeyError> {
    if text.len() > MAX_PEM {
        return Err(bad(format!("a key file larger than {MAX_PEM} bytes")));
    }
    if text.contains("PRIVATE KEY-----") {
        return Err(bad(
            "this is a PRIVATE key: name the public key (cosign.pub, or `openssl pkey -pubout`)",
        ));
    }
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let start = text
        .find(BEGIN)
        .ok_or_else(|| bad("no `-----BEGIN PUBLIC KEY-----` block"))?;
    let body = &text[start + BEGIN.len()..];
    let end = body
        .find(END)
        .ok_or_else(|| bad("no `-----END PUBLIC KEY-----` line"))?;
    let b64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| bad(format!("the key block is not base64: {e}")))?;
    from_spki(&der)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Whether `sig` has the shape of a signature of `alg` (an ECDSA
/// signature is a DER SEQUENCE of two positive INTEGERs of at most 32
/// bytes; Ed25519's is 64 bytes; RSA's the modulus length).
pub fn well_formed(alg: Algorithm, sig: &[u8]) -> bool {
    match alg {
        Algorithm::Ed25519 => sig.len() == 64,
        Algorithm::Rsa { modulus } => sig.len() == modulus,
        Algorithm::EcdsaP256 => (|| -> Result<bool, KeyError> {
            let (seq, rest) = expect(sig, 0x30)?;
            let (r, after) = expect(seq, 0x02)?;
            let (s, after) = expect(after, 0x02)?;
            let (r, s) = (unsigned(r)?, unsigned(s)?);
            Ok(rest.is_empty()
                && after.is_empty()
                && (1..=32).contains(&r.len())
                && (1..=32).contains(&s.len()))
        })()
        .unwrap_or(false),
    }
}

/// Whether `sig` is a signature of `msg` by `key`.
pub fn verifies(key: &PublicKey, msg: &[u8], sig: &[u8]) -> bool {
    use ring::signature::{
        ECDSA_P256_SHA256_ASN1, ED25519, RSA_PKCS1_2048_8192_SHA256, RSA_PSS_2048_8192_SHA256,
        UnparsedPublicKey,
    };
    match key.algorithm {
        Algorithm::EcdsaP256 => UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &key.key)
            .verify(msg, sig)
            .is_ok(),
        Algorithm::Ed25519 => UnparsedPublicKey::new(&ED25519, &key.key)
            .verify(msg, sig)
            .is_ok(),
        Algorithm::Rsa { .. } => {
            UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &key.key)
                .verify(msg, sig)
                .is_ok()
                || UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, &key.key)
                    .verify(msg, sig)
                    .is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `openssl ecparam -genkey -name prime256v1 | openssl ec -pubout`.
    const EC_PEM: &str = include_str!("../../tests/fixtures/integrity/a.pub");

    #[test]
    fn reads_an_ecdsa_key() {
        let k = from_pem(EC_PEM).unwrap();
        assert_eq!(k.algorithm, Algorithm::EcdsaP256);
        assert_eq!(k.key.len(), 65);
        assert!(k.fingerprint.starts_with("sha256:"));
        assert_eq!(k.fingerprint.len(), 7 + 64);
    }

    #[test]
    fn reads_ed25519_and_refuses_private_keys() {
        // RFC 8410's example public key.
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----";
        assert_eq!(from_pem(pem).unwrap().algorithm, Algorithm::Ed25519);
        let e = from_pem("-----BEGIN EC PRIVATE KEY-----\nMHcCAQ\n-----END EC PRIVATE KEY-----")
            .unwrap_err();
        assert!(e.0.contains("PRIVATE"), "{e}");
        assert!(!e.0.contains("MHcCAQ"));
    }

    #[test]
    fn refuses_malformed_der() {
        assert!(from_spki(&[]).is_err());
        assert!(from_spki(&[0x30, 0x84, 0, 0, 0, 1]).is_err());
        assert!(from_spki(&[0x30, 0x81, 0x01, 0x00]).is_err());
        assert!(from_spki(&[0x30, 0x02, 0x30, 0x00]).is_err());
        assert!(from_pem("-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----").is_err());
    }

    #[test]
    fn checks_the_shape_of_ecdsa_signatures() {
        let mut sig = vec![0x30, 0x44, 0x02, 0x20];
        sig.extend([1u8; 32]);
        sig.extend([0x02, 0x20]);
        sig.extend([2u8; 32]);
        assert!(well_formed(Algorithm::EcdsaP256, &sig));
        let mut broken = sig.clone();
        broken[0] = 0x31;
        assert!(!well_formed(Algorithm::EcdsaP256, &broken));
        assert!(!well_formed(Algorithm::EcdsaP256, &sig[..60]));
        assert!(!well_formed(Algorithm::Ed25519, &sig));
    }
}
