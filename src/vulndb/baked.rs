//! Credentials baked into an image's files: private keys, `.env` files,
//! cloud and registry credentials, package-manager tokens, kubeconfigs,
//! service-account keys — found by path and by content (the token shapes
//! gitleaks and Trivy's secret rules match). Pure: a file's path and first
//! bytes in, what it holds out. Only the kind and where are ever kept —
//! never a value, never a line of the file (fuzz target
//! `fuzz::baked_secrets`).
//!
//! Where it looks: every regular file of the image up to [`MAX_FILE`]
//! bytes, outside the trees that ship test keys and documentation by the
//! thousand (`node_modules`, Python's test suites, `/usr/share/doc`, …),
//! as long as its first bytes are text. What it reports is named by its
//! kind; a private key that is the OS's well-known self-signed "snakeoil"
//! key is left out.

use serde::Deserialize;

/// The most bytes of one file looked at (configuration and key files are
/// small; a larger file is data).
pub const MAX_FILE: u64 = 512 << 10;
/// The most hits kept per image (past it: counted).
pub const MAX_HITS: usize = 200;

/// Trees never looked into: programs and libraries (binary), the package
/// managers' own state, and the trees that ship test keys and example
/// configurations by the thousand — none of them holds the image's own
/// credentials.
const SKIPPED: [&str; 22] = [
    "/node_modules/",
    "/site-packages/",
    "/dist-packages/",
    "/usr/share/",
    "/usr/include/",
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/libexec/",
    "/usr/bin/",
    "/usr/sbin/",
    "/bin/",
    "/sbin/",
    "/lib/",
    "/lib64/",
    "/var/lib/dpkg/",
    "/var/lib/apt/",
    "/var/lib/rpm/",
    "/var/cache/",
    "/var/log/",
    "/etc/ssl/certs/",
    "/proc/",
    "/.git/objects/",
];

/// Endings of files that are not text a person writes credentials into.
const BINARY_ENDINGS: [&str; 18] = [
    ".so", ".a", ".o", ".pyc", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".gz", ".zip", ".jar",
    ".whl", ".mo", ".ttf", ".woff", ".woff2", ".wasm",
];

/// Python's own library (`/usr/local/lib/python3.12/…`) and its test suite
/// hold test keys, never the image's credentials.
fn python_lib(path: &str) -> bool {
    path.split('/')
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| w[0] == "lib" && w[1].starts_with("python"))
}

/// An environment file's name: `.env`, `.env.production`, or Compose's
/// `env_file` habit `db.env`.
fn env_name(n: &str) -> bool {
    n == ".env" || n.starts_with(".env.") || (n.ends_with(".env") && n.len() > 4)
}

/// Names of files that hold credentials by their purpose: too large to be
/// one is still said (a 10 GB `.env` is not read, and that is named).
pub fn credential_name(path: &str) -> bool {
    let n = name(path);
    env_name(n)
        || n.ends_with(".pem")
        || n.ends_with(".key")
        || n.starts_with("id_rsa")
        || n.starts_with("id_ed25519")
        || n.starts_with("id_ecdsa")
        || n == ".npmrc"
        || n == ".pypirc"
        || n == ".netrc"
        || n == ".git-credentials"
        || path.ends_with("/.aws/credentials")
        || path.ends_with("/.docker/config.json")
        || path.ends_with("/.kube/config")
}

/// Whether a path is looked at for credentials at all (not whether it is
/// small enough: see [`wanted`]).
pub fn looked_at(path: &str) -> bool {
    !SKIPPED
        .iter()
        .any(|s| path.contains(s) || path.starts_with(&s[1..]))
        && !python_lib(path)
        && !BINARY_ENDINGS.iter().any(|e| path.ends_with(e))
}

/// Whether a file is worth reading for credentials, from its path and size
/// alone.
pub fn wanted(path: &str, size: u64) -> bool {
    size > 0 && size <= MAX_FILE && looked_at(path)
}

/// Look at one file's first bytes (at most [`MAX_FILE`]) and add what it
/// holds to `into`.
pub fn add(into: &mut SecretScan, path: &str, layer: Option<usize>, bytes: &[u8]) {
    into.files += 1;
    into.bytes += bytes.len() as u64;
    for kind in scan(path, bytes) {
        if into.found.len() >= MAX_HITS {
            if !into.notes.iter().any(|n| n.starts_with("more than")) {
                into.notes.push(format!(
                    "more than {MAX_HITS} credentials found: the rest are not listed"
                ));
            }
            return;
        }
        into.found.push(SecretFile {
            path: path.to_string(),
            kind,
            layer,
        });
    }
}

pub use crate::model::packages::{SecretFile, SecretScan};

/// The name of a file (its last path segment).
fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether bytes are text (no NUL in the first 8 KiB).
fn is_text(bytes: &[u8]) -> bool {
    !bytes[..bytes.len().min(8192)].contains(&0)
}

/// The private keys (PEM and OpenSSH) of a text: their kinds.
fn private_keys(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("-----BEGIN ") {
        let after = &rest[at + 11..];
        let Some(end) = after.find("-----") else {
            break;
        };
        let label = &after[..end];
        rest = &after[end..];
        if label.len() > 40 || !label.ends_with("PRIVATE KEY") && label != "PGP PRIVATE KEY BLOCK" {
            continue;
        }
        // A header with no body is a mention (documentation), not a key.
        let body = rest[5..].trim_start();
        if body.starts_with("-----END") || body.len() < 64 {
            continue;
        }
        let what = match label {
            "RSA PRIVATE KEY" => "a private key (RSA)",
            "EC PRIVATE KEY" => "a private key (EC)",
            "DSA PRIVATE KEY" => "a private key (DSA)",
            "OPENSSH PRIVATE KEY" => "a private key (OpenSSH)",
            "ENCRYPTED PRIVATE KEY" => "a private key (encrypted with a passphrase)",
            "PGP PRIVATE KEY BLOCK" => "a private key (PGP)",
            _ => "a private key (PKCS #8)",
        };
        if !out.iter().any(|o: &String| o == what) {
            out.push(what.to_string());
        }
    }
    out
}

/// `KEY=value` lines whose key names a secret or whose value has a
/// token's shape: their names.
fn secret_assignments(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines().take(10_000) {
        let line = line.trim().trim_start_matches("export ");
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once(['=', ':']) else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim().trim_matches(['"', '\'']));
        if k.is_empty()
            || k.len() > 64
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
            || v.starts_with("${")
            || v.starts_with('<')
        {
            continue;
        }
        if crate::rules::secrets::classify(k, v).is_some() && !names.iter().any(|n| n == k) {
            names.push(k.to_string());
        }
    }
    names
}

fn listed(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    let more = if names.len() > 5 {
        format!(", and {} more", names.len() - 5)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

/// The tokens a text holds, by their well-known shapes (AWS, GitHub,
/// GitLab, Slack, Stripe, Google, npm, PyPI, …): their kinds.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| c.is_whitespace() || "\"'`=:,;()[]{}<>|\\".contains(c))
        .filter(|w| w.len() >= 16 && w.len() <= 256)
        .take(200_000)
    {
        if let Some(kind) = crate::rules::secrets::token_shape(word) {
            let kind = format!("a token ({kind})");
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
    }
    out
}

/// What credentials a file holds, by its path and its first bytes: each a
/// kind, never a value.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() || !is_text(bytes) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(bytes);
    let n = name(path);
    let mut out = Vec::new();
    // By path: files whose very purpose is a credential.
    let env_file = env_name(n)
        && !["example", "sample", "template", "dist", "defaults"]
            .iter()
            .any(|s| n.ends_with(s) || n.starts_with(s));
    if env_file {
        let names = secret_assignments(&text);
        if !names.is_empty() {
            out.push(format!(
                "an .env file with {} secret{} ({})",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                listed(&names)
            ));
        }
    }
    if path.ends_with("/.aws/credentials")
        && text
            .lines()
            .any(|l| l.trim_start().starts_with("aws_secret_access_key"))
    {
        out.push("AWS credentials (aws_secret_access_key)".into());
    }
    if path.ends_with("/.docker/config.json") {
        #[derive(Deserialize)]
        struct Cfg {
            #[serde(default)]
            auths: std::collections::BTreeMap<String, serde_json::Value>,
        }
        if let Ok(c) = serde_json::from_slice::<Cfg>(bytes) {
            let with: Vec<String> = c
                .auths
                .iter()
                .filter(|(_, a)| {
                    ["auth", "identitytoken", "password"].iter().any(|k| {
                        a.get(k)
                            .and_then(|v| v.as_str())
                            .is_some_and(|s| !s.is_empty())
                    })
                })
                .map(|(r, _)| crate::model::text::visible(r).chars().take(80).collect())
                .collect();
            if !with.is_empty() {
                out.push(format!("registry credentials for {}", listed(&with)));
            }
        }
    }
    if n == ".npmrc"
        && text.lines().any(|l| {
            let l = l.trim();
            (l.contains("_authToken=") || l.contains("_auth=") || l.contains("_password="))
                && !l.ends_with('=')
                && !l.contains("${")
        })
    {
        out.push("an npm token (.npmrc)".into());
    }
    if n == ".pypirc"
        && text.lines().any(|l| {
            let l = l.trim();
            l.starts_with("password")
                && l.split_once(['=', ':'])
                    .is_some_and(|(_, v)| !v.trim().is_empty())
        })
    {
        out.push("a package index password (.pypirc)".into());
    }
    if n == ".git-credentials"
        && text
            .lines()
            .any(|l| l.contains("://") && l.contains(':') && l.contains('@'))
    {
        out.push("git credentials (.git-credentials)".into());
    }
    if (n == ".netrc" || n == "_netrc")
        && text
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| w[0] == "password")
    {
        out.push("a login password (.netrc)".into());
    }
    let kubeconfig = text.contains("kind: Config") && text.contains("clusters:");
    if kubeconfig {
        let creds: Vec<&str> = ["token:", "client-key-data:", "password:"]
            .into_iter()
            .filter(|k| {
                text.lines().any(|l| {
                    let l = l.trim().trim_start_matches("- ");
                    l.starts_with(k) && l.len() > k.len() + 1
                })
            })
            .collect();
        if !creds.is_empty() {
            out.push(format!(
                "a kubeconfig with credentials ({})",
                creds
                    .iter()
                    .map(|c| c.trim_end_matches(':'))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if text.contains("\"type\"")
        && text.contains("service_account")
        && text.contains("\"private_key\"")
    {
        out.push("a cloud service-account key (JSON)".into());
    }
    // By content: private keys and token shapes, anywhere.
    if !path.contains("snakeoil") {
        out.extend(private_keys(&text));
    }
    for t in tokens(&text) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\n\
        b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n\
        QyNTUxOQAAACBkZW1vLWtleS1ub3QtcmVhbC1kZW1vLWtleS1ub3QtcmVhbAAAAJhkZW1v\n\
        -----END OPENSSH PRIVATE KEY-----\n";

    #[test]
    fn credentials_by_path_and_by_content_never_their_values() {
        let cases: &[(&str, &str, &str)] = &[
            ("/root/.ssh/id_ed25519", KEY, "a private key (OpenSSH)"),
            (
                "/app/.env",
                "DEBUG=1\nDB_PASSWORD=hunter2hunter2\nexport API_TOKEN='s3cr3t-t0ken-value'\nPORT=8080\n",
                "an .env file with 2 secrets (DB_PASSWORD, API_TOKEN)",
            ),
            (
                "/root/.aws/credentials",
                "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                "AWS credentials (aws_secret_access_key)",
            ),
            (
                "/root/.docker/config.json",
                r#"{"auths":{"registry.example.com":{"auth":"dXNlcjpwYXNz"},"empty.example":{}}}"#,
                "registry credentials for registry.example.com",
            ),
            (
                "/home/node/.npmrc",
                "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n",
                "an npm token (.npmrc)",
            ),
            (
                "/root/.pypirc",
                "[pypi]\nusername = __token__\npassword = pypi-AgEIcHlwaS5vcmcabc\n",
                "a package index password (.pypirc)",
            ),
            (
                "/root/.git-credentials",
                "https://bot:ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com\n",
                "git credentials (.git-credentials)",
            ),
            (
                "/root/.netrc",
                "machine api.example.com login bot password hunter2\n",
                "a login password (.netrc)",
            ),
            (
                "/root/.kube/config",
                "apiVersion: v1\nkind: Config\nclusters:\n- cluster: {server: https://k8s}\n  name: c\nusers:\n- name: u\n  user:\n    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.payload.sig\n",
                "a kubeconfig with credentials (token)",
            ),
            (
                "/app/sa.json",
                r#"{"type": "service_account", "project_id": "p", "private_key_id": "x", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}"#,
                "a cloud service-account key (JSON)",
            ),
            (
                "/app/config.yml",
                "github:\n  token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
                "a token (GitHub token)",
            ),
        ];
        for (path, text, kind) in cases {
            let got = scan(path, text.as_bytes());
            assert!(got.iter().any(|k| k == kind), "{path}: {got:?}");
            for k in &got {
                for secret in [
                    "hunter2",
                    "s3cr3t",
                    "wJalrXUtnFEMI",
                    "dXNlcjpwYXNz",
                    "abcdefghijklmnop",
                    "eyJhbGci",
                ] {
                    assert!(!k.contains(secret), "{path}: a value in {k}");
                }
            }
        }
    }

    #[test]
    fn what_is_not_a_credential() {
        for (path, text) in [
            ("/app/.env.example", "DB_PASSWORD=changeme-changeme\n"),
            (
                "/app/.env",
                "DB_PASSWORD=\nAPI_TOKEN=${API_TOKEN}\nPORT=8080\n",
            ),
            (
                "/app/README.md",
                "Put your key between -----BEGIN RSA PRIVATE KEY----- and -----END RSA PRIVATE KEY-----.\n",
            ),
            (
                "/root/.docker/config.json",
                r#"{"auths":{"r.example":{}},"credsStore":"desktop"}"#,
            ),
            (
                "/home/node/.npmrc",
                "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
            ),
            ("/etc/ssl/private/ssl-cert-snakeoil.key", KEY),
            (
                "/usr/bin/tool",
                "\u{0}\u{1}binary -----BEGIN RSA PRIVATE KEY-----",
            ),
        ] {
            assert_eq!(scan(path, text.as_bytes()), Vec::<String>::new(), "{path}");
        }
        assert!(!wanted("/app/node_modules/x/test/key.pem", 100));
        assert!(!wanted("/usr/lib/python3.11/test/keycert.pem", 100));
        assert!(!wanted("/usr/local/lib/python3.12/test/keycert.pem", 100));
        assert!(!wanted("/usr/bin/ssh", 100));
        assert!(wanted("/root/.ssh/id_rsa", 100));
        assert!(wanted("/etc/app/secret.key", 100));
        assert!(credential_name("/app/.env") && !credential_name("/app/main.py"));
        assert!(credential_name("/srv/db.env") && !credential_name("/srv/environment"));
        assert_eq!(
            scan("/srv/db.env", b"POSTGRES_PASSWORD=s3cret-s3cret\n"),
            ["an .env file with 1 secret (POSTGRES_PASSWORD)"]
        );
        assert!(scan("/srv/example.env", b"POSTGRES_PASSWORD=changeme-long\n").is_empty());
        assert!(!wanted(
            "/usr/local/lib/python3.12/site-packages/x/k.pem",
            100
        ));
        assert!(wanted("/app/.env", 100));
        assert!(!wanted("/app/big.bin", MAX_FILE + 1));
    }

    #[test]
    fn many_hits_stop_at_the_ceiling() {
        let mut s = SecretScan::default();
        for i in 0..(MAX_HITS + 10) {
            add(&mut s, &format!("/keys/{i}"), Some(1), KEY.as_bytes());
        }
        assert_eq!(s.found.len(), MAX_HITS);
        assert_eq!(s.notes.len(), 1);
        assert_eq!(s.found[0].layer, Some(1));
    }
}
