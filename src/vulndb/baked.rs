//! Credentials baked into an image's files: private keys, `.env` files,
//! cloud and registry credentials, package-manager tokens, kubeconfigs,
//! service-account keys, and the client configuration files of databases
//! and command-line tools that keep passwords in a known format (MySQL
//! option files, `.pgpass`, `.netrc`, git credentials, Docker's
//! `config.json`, `.npmrc`, `.pypirc`, `pip.conf`, Maven's `settings.xml`,
//! rclone, s3cmd, boto, ODBC, database URLs and connection strings) —
//! recognised by what they hold, wherever they are and whatever they are
//! named, and by the token shapes gitleaks and Trivy's secret rules match
//! ([`crate::model::redact::shapes`]). Files under an example, sample or
//! template path, documentation, and values that are placeholders or
//! example words (`changeme`, `${PASSWORD}`, `<password>`) are not
//! reported, as gitleaks' and Trivy's allow-lists do. Pure: a file's path
//! and first bytes in, what it holds out. Only the kind and where are ever
//! kept — never a value, never a line of the file (fuzz target
//! `fuzz::baked_secrets`).
//!
//! Where it looks: every regular file of the image up to [`MAX_FILE`]
//! bytes, outside the trees that ship test keys and documentation by the
//! thousand (`node_modules`, Python's test suites, `/usr/share/doc`, …),
//! as long as its first bytes are text. What it reports is named by its
//! kind; a private key that is the OS's well-known self-signed "snakeoil"
//! key is left out.

use serde::Deserialize;

use crate::model::redact::{self, Kind, is_example_value};

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
        || n == "_netrc"
        || n == ".git-credentials"
        || n == ".pgpass"
        || n == ".my.cnf"
        || n == ".mylogin.cnf"
        || n == ".s3cfg"
        || n == ".boto"
        || n == "rclone.conf"
        || n == ".odbc.ini"
        || n == "cwallet.sso"
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
        if redact::classify(k, v).is_some() && !names.iter().any(|n| n == k) {
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
/// GitLab, Slack, Stripe, Google, npm, PyPI, JSON Web Tokens, …): their
/// kinds.
fn tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in redact::tokens_in(text) {
        let kind = match f.kind {
            Kind::Token(t) => format!("a token ({})", t.kind),
            Kind::Jwt => "a token (JSON Web Token)".to_string(),
            _ => continue,
        };
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    out
}

/// The most lines of one file looked at by the format readers.
const MAX_LINES: usize = 10_000;

/// A path where example, sample and template files live, or a document:
/// what looks like a credential there is an illustration (Trivy's and
/// gitleaks' allow-lists skip these too).
fn example_path(path: &str) -> bool {
    let l = path.to_ascii_lowercase();
    ["example", "sample", "template", "/testdata/", "/fixtures/"]
        .iter()
        .any(|w| l.contains(w))
        || [".md", ".rst", ".adoc", ".html", ".htm"]
            .iter()
            .any(|e| l.ends_with(e))
}

/// A value set for real: not empty, not a placeholder or example word.
fn filled(v: &str) -> bool {
    let v = v.trim().trim_matches(['"', '\'']);
    !v.is_empty() && !is_example_value(v)
}

/// One `key = value` (or `key: value`) line of an INI-style file, with
/// the `[section]` it is in.
struct Entry<'a> {
    section: &'a str,
    key: &'a str,
    value: &'a str,
}

/// The entries of an INI-style file (MySQL option files, `.pypirc`,
/// `pip.conf`, rclone, s3cmd, boto, ODBC, AWS credentials): comments
/// (`#`, `;`) skipped, at most [`MAX_LINES`].
fn ini(text: &str) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let mut section = "";
    for line in text.lines().take(MAX_LINES) {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(inner) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = inner.trim();
            continue;
        }
        let Some(at) = l.find(['=', ':']) else {
            continue;
        };
        let key = l[..at].trim();
        if key.is_empty() || key.len() > 64 || key.contains(char::is_whitespace) {
            continue;
        }
        let value = l[at + 1..].trim();
        out.push(Entry {
            section,
            key,
            value,
        });
    }
    out
}

/// Does a text read like a configuration file (its first line that is not
/// a comment, a blank or a MySQL `!include` a `[section]` or a
/// `key = value`), rather than a program's source?
fn config_like(text: &str) -> bool {
    let Some(first) = text
        .lines()
        .take(200)
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(['#', ';', '!']))
    else {
        return false;
    };
    if first.starts_with('[') && first.ends_with(']') {
        return true;
    }
    first.find(['=', ':']).is_some_and(|at| {
        let key = first[..at].trim();
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-/@".contains(&b))
    })
}

/// Is this the section of a MySQL or MariaDB client program (`[client]`,
/// `[mysql]`, `[mysqldump]`, `[client-mariadb]`, …), not the server's?
fn mysql_group(section: &str) -> bool {
    let s = section.to_ascii_lowercase();
    let server = s.starts_with("mysqld")
        || s.starts_with("mariadbd")
        || s == "mariadb"
        || s.starts_with("mariadb-server");
    !server
        && ["client", "mysql", "mariadb"]
            .iter()
            .any(|p| s.starts_with(p))
}

/// Split a `.pgpass` line at its unescaped colons (`\:` is a colon in a
/// field).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next()
                    && let Some(f) = fields.last_mut()
                {
                    f.push(n);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
        if fields.len() > 6 {
            break;
        }
    }
    fields
}

/// A PostgreSQL password file: every line `host:port:database:user:password`
/// (the port a number or `*`), at least one with a password.
fn pgpass(text: &str) -> bool {
    let mut with_password = false;
    for line in text.lines().take(MAX_LINES) {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let f = pgpass_fields(l);
        if f.len() != 5 {
            return false;
        }
        let port_ok = f[1] == "*"
            || (1..=5).contains(&f[1].len()) && f[1].bytes().all(|b| b.is_ascii_digit());
        // Names are `*` or have a letter (a host may be an address):
        // `10:30:00:12:59` is a time, not a password line.
        let named = |x: &str, dots: bool| {
            x == "*"
                || x.bytes()
                    .any(|b| b.is_ascii_alphabetic() || (dots && b == b'.'))
        };
        let names_ok = [(&f[0], true), (&f[2], false), (&f[3], false)]
            .iter()
            .all(|(x, dots)| named(x, *dots) && !x.contains(char::is_whitespace));
        if !port_ok || !names_ok {
            return false;
        }
        with_password |= filled(&f[4]);
    }
    with_password
}

/// A netrc file (`machine host login user password secret`): its first
/// word is `machine` or `default` (unless it is named `.netrc`), and a
/// `password` has a value.
fn netrc(text: &str, named: bool) -> bool {
    let words: Vec<&str> = text
        .lines()
        .take(MAX_LINES)
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace)
        .take(200_000)
        .collect();
    let starts = matches!(words.first(), Some(&("machine" | "default")));
    (named || starts) && words.windows(2).any(|w| w[0] == "password" && filled(w[1]))
}

/// The scheme of the URL whose password ends before `at`.
fn scheme_before(text: &str, at: usize) -> Option<String> {
    let colon = text.get(..at)?.rfind("://")?;
    let scheme: String = text[..colon]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || "+.-".contains(*c))
        .take(32)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!scheme.is_empty()).then(|| scheme.to_ascii_lowercase())
}

/// URL schemes of databases, message brokers and directories: a password
/// in one, in any file, is a credential.
const DB_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "mssql",
    "sqlserver",
    "oracle",
    "clickhouse",
    "cassandra",
    "couchdb",
    "neo4j",
    "bolt",
    "nats",
    "ldap",
    "ldaps",
    "smtp",
    "smtps",
    "ftp",
];

/// The line of text around a position.
fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    &text[start..end]
}

/// A comment line of a configuration or script.
fn comment(line: &str) -> bool {
    let l = line.trim_start();
    ["#", ";", "//", "--", "*", "<!--"]
        .iter()
        .any(|c| l.starts_with(c))
}

/// The passwords of URLs in a text (`redis://:pw@cache`), by the URL's
/// scheme; each password checked to be set for real.
fn url_passwords(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    redact::url_passwords(text)
        .into_iter()
        .filter(|f| text.get(f.at.clone()).is_some_and(filled))
        .filter(|f| !comment(line_at(text, f.at.start)))
        .filter_map(|f| Some((scheme_before(text, f.at.start)?, f.at)))
        .collect()
}

/// A connection string with a password (`Server=db;…;Password=x;`, ADO.NET
/// and ODBC): the value after `Password=` or `Pwd=` in a line that names
/// a server.
fn connection_string(text: &str) -> bool {
    text.lines().take(MAX_LINES).any(|line| {
        if line.len() > 4096 || comment(line) {
            return false;
        }
        let l = line.to_ascii_lowercase();
        let server = ["server=", "data source=", "host=", "hostname="]
            .iter()
            .any(|k| l.contains(k));
        server
            && ["password=", "pwd="].iter().any(|k| {
                l.match_indices(k).any(|(at, _)| {
                    let before = l[..at].chars().next_back();
                    let boundary = before.is_none_or(|c| ";\"' ".contains(c));
                    let v = &line[at + k.len()..];
                    let v = v.split([';', '"', '\'']).next().unwrap_or("");
                    boundary && filled(v)
                })
            })
    })
}

/// Maven's `settings.xml`: a `<server>`'s `<password>` (not a `${…}`
/// property).
fn maven(text: &str) -> bool {
    if !text.contains("<settings") || !text.contains("<server>") {
        return false;
    }
    text.match_indices("<password>")
        .take(1000)
        .any(|(at, tag)| {
            let v = &text[at + tag.len()..];
            v.find("</password>").is_some_and(|end| filled(&v[..end]))
        })
}

/// Docker's `config.json`: the registries an `auths` entry holds a
/// credential for.
fn docker_auths(text: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Cfg {
        #[serde(default)]
        auths: std::collections::BTreeMap<String, serde_json::Value>,
    }
    if !text.contains("\"auths\"") {
        return Vec::new();
    }
    let Ok(c) = serde_json::from_str::<Cfg>(text) else {
        return Vec::new();
    };
    c.auths
        .iter()
        .filter(|(_, a)| {
            ["auth", "identitytoken", "password"].iter().any(|k| {
                a.get(k)
                    .and_then(|v| v.as_str())
                    .is_some_and(|s| !s.is_empty() && !is_example_value(s))
            })
        })
        .map(|(r, _)| crate::model::text::visible(r).chars().take(80).collect())
        .collect()
}

/// Credential files recognised by their format, whatever their name.
fn formats(n: &str, text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Cheap looks first: most files an image holds are programs' sources,
    // which none of these formats are.
    let any = |needles: &[&str]| needles.iter().any(|w| text.contains(w));
    let entries = if config_like(text) {
        ini(text)
    } else {
        Vec::new()
    };
    let has = |key: &str| entries.iter().any(|e| e.key.eq_ignore_ascii_case(key));
    let set = |pred: &dyn Fn(&Entry) -> bool| entries.iter().any(|e| pred(e) && filled(e.value));
    let odbc = has("driver");
    if odbc && set(&|e| e.key.eq_ignore_ascii_case("pwd") || e.key.eq_ignore_ascii_case("password"))
    {
        out.push("a database password (ODBC data source)".into());
    } else if set(&|e| {
        mysql_group(e.section)
            && (e.key.eq_ignore_ascii_case("password") || e.key.eq_ignore_ascii_case("pass"))
    }) {
        out.push("a MySQL/MariaDB password (option file)".into());
    }
    if set(&|e| e.key == "aws_secret_access_key") {
        out.push("AWS credentials (aws_secret_access_key)".into());
    }
    if set(&|e| e.key == "gs_secret_access_key") {
        out.push("Google Cloud Storage credentials (boto configuration)".into());
    }
    if has("access_key") && set(&|e| e.key == "secret_key") {
        out.push("S3 credentials (s3cmd configuration)".into());
    }
    // rclone: a remote is a section with a `type`; its token may be JSON.
    let rclone_keys = [
        "pass",
        "password",
        "secret_access_key",
        "client_secret",
        "token",
        "account_key",
        "key",
        "sas_url",
        "bearer_token",
    ];
    let remotes: Vec<&str> = entries
        .iter()
        .filter(|e| e.key == "type" && !e.section.is_empty())
        .map(|e| e.section)
        .collect();
    if entries.iter().any(|e| {
        remotes.contains(&e.section)
            && rclone_keys.contains(&e.key)
            && (filled(e.value) || e.value.starts_with('{') && e.value.len() > 16)
    }) {
        out.push("cloud storage credentials (rclone configuration)".into());
    }
    let pypi = n == ".pypirc"
        || entries
            .iter()
            .any(|e| matches!(e.section, "distutils" | "pypi" | "testpypi"));
    if pypi
        && set(&|e| {
            e.key.eq_ignore_ascii_case("password") && (n == ".pypirc" || e.section != "distutils")
        })
        && entries
            .iter()
            .any(|e| e.key == "repository" || e.key == "username" || e.key == "index-servers")
    {
        out.push("a package index password (.pypirc)".into());
    }
    if entries.iter().any(|e| {
        matches!(
            e.key,
            "index-url" | "extra-index-url" | "index_url" | "extra_index_url"
        ) && !url_passwords(e.value).is_empty()
    }) {
        out.push("a package index password (pip configuration)".into());
    }
    if any(&["_auth", "_password"])
        && text.lines().take(MAX_LINES).any(|l| {
            let l = l.trim();
            !l.starts_with(['#', ';'])
                && l.split_once('=').is_some_and(|(k, v)| {
                    // `_authToken`, or scoped to a registry: `//host/:_authToken`.
                    let last = k.trim().rsplit(':').next().unwrap_or("");
                    matches!(last, "_authToken" | "_auth" | "_password") && filled(v)
                })
        })
    {
        out.push("an npm token (.npmrc)".into());
    }
    if pgpass(text) {
        out.push("a PostgreSQL password file (.pgpass)".into());
    }
    if text.contains("password") && netrc(text, n == ".netrc" || n == "_netrc") {
        out.push("a login password (.netrc)".into());
    }
    // git's credential store: every line a URL with a password (any one,
    // in a file named so).
    let lines: Vec<&str> = if text.contains("://") {
        text.lines()
            .take(MAX_LINES)
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        Vec::new()
    };
    // The store keeps http(s) URLs only.
    let credentialed = |l: &str| {
        url_passwords(l)
            .iter()
            .any(|(scheme, _)| scheme == "https" || scheme == "http")
    };
    let git = if n == ".git-credentials" {
        lines.iter().any(|l| credentialed(l))
    } else {
        // Each line is one URL, nothing around it.
        !lines.is_empty()
            && lines.iter().all(|l| {
                (l.starts_with("https://") || l.starts_with("http://"))
                    && !l.contains(char::is_whitespace)
                    && credentialed(l)
            })
    };
    if git {
        out.push("git credentials (.git-credentials)".into());
    }
    let registries = docker_auths(text);
    if !registries.is_empty() {
        out.push(format!("registry credentials for {}", listed(&registries)));
    }
    if maven(text) {
        out.push("a Maven repository password (settings.xml)".into());
    }
    if !git && text.contains("://") {
        let mut schemes: Vec<String> = url_passwords(text)
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| DB_SCHEMES.contains(&s.as_str()))
            .collect();
        schemes.sort();
        schemes.dedup();
        if !schemes.is_empty() {
            out.push(format!(
                "a database URL with a password ({})",
                listed(&schemes)
            ));
        }
    }
    if !out.iter().any(|k| k.starts_with("a database password"))
        && any(&["assword=", "ASSWORD=", "wd=", "WD="])
        && connection_string(text)
    {
        out.push("a database connection string with a password".into());
    }
    out
}

/// Credential stores that are not text: by their name.
fn binary_store(n: &str) -> Option<&'static str> {
    match n {
        "cwallet.sso" => {
            Some("an Oracle auto-login wallet (cwallet.sso, opens without a password)")
        }
        ".mylogin.cnf" => Some("a MySQL login-path file (.mylogin.cnf, obfuscated, not encrypted)"),
        _ => None,
    }
}

/// What credentials a file holds, by its path and its first bytes: each a
/// kind, never a value.
pub fn scan(path: &str, bytes: &[u8]) -> Vec<String> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let n = name(path);
    if let Some(kind) = binary_store(n) {
        return vec![kind.to_string()];
    }
    if !is_text(bytes) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(bytes);
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
    // By format: the client configuration files of databases and tools,
    // whatever they are named (not in examples and documents).
    if !example_path(path) && !env_file {
        out.extend(formats(n, &text));
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

    /// Client configuration files of databases and tools, recognised by
    /// their format under names nobody would list.
    #[test]
    fn credential_files_by_format_whatever_their_name() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "/srv/conf/db-tuning.cnf",
                "# tuning\n[mysqld]\nmax_connections=10\n[client]\nuser=app\npassword=\"Fmt-my-9a1\"\n",
                "a MySQL/MariaDB password (option file)",
            ),
            (
                "/opt/app/pgcreds",
                "# hostname:port:database:username:password\ndb:5432:app:app:Fmt-pg-9a1\n*:*:*:ro:with\\:colon\n",
                "a PostgreSQL password file (.pgpass)",
            ),
            (
                "/opt/app/logins",
                "machine api.example.com\n  login bot\n  password Fmt-netrc-9a1\n",
                "a login password (.netrc)",
            ),
            (
                "/opt/app/store",
                "https://bot:Fmt-git-9a1@git.example.com\n",
                "git credentials (.git-credentials)",
            ),
            (
                "/opt/app/registry.json",
                r#"{"auths":{"r.example.com":{"auth":"Rm10LWF1dGg="}}}"#,
                "registry credentials for r.example.com",
            ),
            (
                "/opt/app/npm-settings",
                "registry=https://r.example.com/\n//r.example.com/:_authToken=Fmt-npm-9a1\n",
                "an npm token (.npmrc)",
            ),
            (
                "/opt/app/upload.cfg",
                "[distutils]\nindex-servers = pypi\n[pypi]\nusername = bot\npassword = Fmt-pypi-9a1\n",
                "a package index password (.pypirc)",
            ),
            (
                "/etc/pip-extra.conf",
                "[global]\nextra-index-url = https://bot:Fmt-pip-9a1@pypi.example.com/simple\n",
                "a package index password (pip configuration)",
            ),
            (
                "/opt/m2/conf.xml",
                "<settings><servers><server><id>r</id><username>bot</username><password>Fmt-mvn-9a1</password></server></servers></settings>",
                "a Maven repository password (settings.xml)",
            ),
            (
                "/opt/app/remotes.ini",
                "[backup]\ntype = s3\naccess_key_id = AK\nsecret_access_key = Fmt-rclone-9a1\n",
                "cloud storage credentials (rclone configuration)",
            ),
            (
                "/opt/app/s3.conf",
                "[default]\naccess_key = AK\nsecret_key = Fmt-s3-9a1\n",
                "S3 credentials (s3cmd configuration)",
            ),
            (
                "/opt/app/gcs.ini",
                "[Credentials]\ngs_access_key_id = GOOG1\ngs_secret_access_key = Fmt-boto-9a1\n",
                "Google Cloud Storage credentials (boto configuration)",
            ),
            (
                "/opt/app/aws.ini",
                "[prod]\naws_access_key_id = x\naws_secret_access_key = Fmt-aws-9a1\n",
                "AWS credentials (aws_secret_access_key)",
            ),
            (
                "/opt/app/dsn.ini",
                "[reports]\nDriver = PostgreSQL Unicode\nServername = db\nUID = app\nPWD = Fmt-odbc-9a1\n",
                "a database password (ODBC data source)",
            ),
            (
                "/opt/app/appsettings.json",
                r#"{"ConnectionStrings":{"Main":"Server=db;Database=app;User Id=app;Password=Fmt-ado-9a1;"}}"#,
                "a database connection string with a password",
            ),
            (
                "/opt/app/worker.yml",
                "cache: redis://:Fmt-redis-9a1@cache:6379/0\nstore: mongodb://app:Fmt-mongo-9a1@mongo/app\n",
                "a database URL with a password (mongodb, redis)",
            ),
            (
                "/u01/wallet/cwallet.sso",
                "\u{a1}\u{f8}N6\u{0}\u{0}",
                "an Oracle auto-login wallet (cwallet.sso, opens without a password)",
            ),
        ];
        for (path, text, kind) in cases {
            let got = scan(path, text.as_bytes());
            assert!(got.iter().any(|k| k == kind), "{path}: {got:?}");
            assert!(
                !got.iter().any(|k| k.contains("Fmt-") || k.contains("Rm10")),
                "{path}: a value in {got:?}"
            );
        }
    }

    /// Examples, documents, placeholders and look-alikes are not
    /// credentials.
    #[test]
    fn formats_that_are_not_credentials() {
        for (path, text) in [
            (
                "/srv/conf/my.cnf",
                "[client]\nuser=app\npassword=\n[mysqld]\npassword=x1y2z3\n",
            ),
            ("/srv/conf/my.cnf", "[client]\npassword=changeme\n"),
            ("/srv/conf/my.cnf.example", "[client]\npassword=Real-9a1\n"),
            ("/srv/templates/pgpass", "db:5432:app:app:Real-9a1\n"),
            (
                "/etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/sbin/nologin\n",
            ),
            ("/etc/group", "root:x:0:\nwheel:x:10:root\n"),
            ("/srv/times", "10:30:00:12:59\n"),
            (
                "/srv/notes.txt",
                "the password is set by the machine at boot\n",
            ),
            (
                "/srv/README.md",
                "Put `postgres://app:Real-9a1@db/app` in your .env\n",
            ),
            (
                "/srv/app.yml",
                "url: postgres://app:${DB_PASSWORD}@db/app\n# redis://:Real-9a1@cache\n",
            ),
            ("/srv/app.yml", "proxy: http://user:Real-9a1@proxy:3128\n"),
            (
                "/srv/settings.xml",
                "<settings><servers><server><password>${env.PW}</password></server></servers></settings>",
            ),
            (
                "/srv/app.ini",
                "[auth]\nbasic_auth = true\nnpm_auth = yes\n",
            ),
            (
                "/srv/odbc.ini",
                "[x]\nDriver = PostgreSQL\nServername = db\n",
            ),
            (
                "/srv/conn.txt",
                "Server=db;Database=app;Password=<password>;\n",
            ),
            (
                "/srv/registry.json",
                r#"{"auths":{"r.example.com":{}},"credsStore":"pass"}"#,
            ),
        ] {
            assert_eq!(
                scan(path, text.as_bytes()),
                Vec::<String>::new(),
                "{path}: {text}"
            );
        }
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
