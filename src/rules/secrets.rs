//! Secrets in environment variables and image build history.
//!
//! Detection looks at the key *and* the value's shape, but a finding only
//! ever names the key: values are read for classification and dropped.

use std::collections::BTreeSet;

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{EnvVar, SeedRule, Severity};

/// Key words that name a secret (matched per `_`/`-`/`.`-separated token).
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PASSPHRASE",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "APIKEY",
    "KEY",
    "PRIVATEKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "CREDS",
    "SALT",
];

/// A last token that says the variable is *about* a secret, not the secret
/// (`PASSWORD_FILE=/run/secrets/db` is the recommended practice).
const DESCRIPTIVE_SUFFIXES: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "URL",
    "URI",
    "ENDPOINT",
    "HOST",
    "PORT",
    "USER",
    "USERNAME",
    "NAME",
    "LENGTH",
    "LEN",
    "EXPIRY",
    "TTL",
    "TIMEOUT",
    "ENABLED",
    "MODE",
    "ALGORITHM",
    "TYPE",
    "ID",
    "REGION",
    "VERSION",
];

/// AWS variables that are configuration, not credentials.
const AWS_BENIGN: &[&str] = &[
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_DEFAULT_OUTPUT",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_PAGER",
];

/// Why a key/value pair looks like a secret, or `None`. The reason never
/// quotes the value.
pub fn classify(key: &str, value: &str) -> Option<&'static str> {
    if value.is_empty() {
        return None;
    }
    // A recognised token format says most; then the key's name; a merely
    // random-looking value last.
    value_shape(value)
        .or_else(|| key_reason(key))
        .or_else(|| looks_random(value.trim()).then_some("value looks like a high-entropy token"))
}

fn key_reason(key: &str) -> Option<&'static str> {
    let up = key.to_ascii_uppercase();
    if up.starts_with("AWS_") && !AWS_BENIGN.contains(&up.as_str()) {
        return Some("key is an AWS credential variable");
    }
    let tokens: Vec<&str> = up
        .split(['_', '-', '.'])
        .filter(|t| !t.is_empty())
        .collect();
    let last = *tokens.last()?;
    if tokens.len() > 1 && DESCRIPTIVE_SUFFIXES.contains(&last) {
        return None;
    }
    if up == "PWD" || up == "OLDPWD" {
        return None;
    }
    tokens
        .iter()
        .any(|t| SECRET_WORDS.contains(t))
        .then_some("key names a secret")
}

fn value_shape(v: &str) -> Option<&'static str> {
    let v = v.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY") {
        return Some("value is a private key block");
    }
    if let Some(kind) = token_shape(v) {
        return Some(match kind {
            "AWS access key id" => "value looks like an AWS access key id",
            "GitHub token" => "value looks like a GitHub token",
            "GitLab token" => "value looks like a GitLab token",
            "Slack token" => "value looks like a Slack token",
            "npm token" => "value looks like an npm token",
            "PyPI token" => "value looks like a PyPI token",
            "Google API key" => "value looks like a Google API key",
            _ => "value looks like an API secret key",
        });
    }
    if v.starts_with("eyJ") && v.matches('.').count() == 2 && v.len() > 30 {
        return Some("value looks like a JSON Web Token");
    }
    if url_has_password(v) {
        return Some("value is a URL with a password in it");
    }
    None
}

/// The well-known shape of a token — the prefixes and lengths gitleaks and
/// Trivy's secret rules match: its kind (`GitHub token`), or `None`.
pub fn token_shape(v: &str) -> Option<&'static str> {
    let run = |s: &str, n: usize, extra: &[u8]| {
        s.len() >= n
            && s.bytes()
                .take(n)
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    if (v.starts_with("AKIA") || v.starts_with("ASIA"))
        && v.len() == 20
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Some("AWS access key id");
    }
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        if let Some(rest) = v.strip_prefix(p)
            && run(rest, 30, b"")
        {
            return Some("GitHub token");
        }
    }
    if v.starts_with("github_pat_") && v.len() > 40 {
        return Some("GitHub token");
    }
    if let Some(rest) = v.strip_prefix("glpat-")
        && run(rest, 20, b"_-")
    {
        return Some("GitLab token");
    }
    if ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"]
        .iter()
        .any(|p| v.starts_with(p))
        && v.len() >= 15
    {
        return Some("Slack token");
    }
    if let Some(rest) = v.strip_prefix("npm_")
        && run(rest, 36, b"")
    {
        return Some("npm token");
    }
    if let Some(rest) = v.strip_prefix("pypi-AgEIcHlwaS5vcmc")
        && run(rest, 50, b"_-")
    {
        return Some("PyPI token");
    }
    if let Some(rest) = v.strip_prefix("AIza")
        && v.len() == 39
        && run(rest, 35, b"_-")
    {
        return Some("Google API key");
    }
    if (v.starts_with("sk_live_") || v.starts_with("rk_live_") || v.starts_with("sk-"))
        && v.len() >= 24
        && run(&v[3..], 20, b"_-")
    {
        return Some("API secret key");
    }
    None
}

fn url_has_password(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
    {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rsplit_once('@') {
        Some((userinfo, _)) => userinfo
            .split_once(':')
            .is_some_and(|(_, pw)| !pw.is_empty()),
        None => false,
    }
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

fn looks_random(v: &str) -> bool {
    if v.len() < 20 || v.len() > 512 || v.contains(char::is_whitespace) || v.starts_with('/') {
        return false;
    }
    // Path lists, host:port pairs, versions and plain words are not tokens.
    if v.contains(':') || v.contains(',') || v.contains(';') {
        return false;
    }
    let token_chars = v
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"+/=_-.".contains(&b));
    if !token_chars {
        return false;
    }
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_alpha = v.bytes().any(|b| b.is_ascii_alphabetic());
    if !(has_digit && has_alpha) {
        return false;
    }
    let is_hex = v.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex {
        // Hex tops out at 4 bits/char: long random hex is a key.
        v.len() >= 32 && entropy(v) >= 3.5
    } else {
        entropy(v) >= 4.0
    }
}

fn env_hits(env: &[EnvVar], what: &str, hint: &str) -> (Vec<Hit>, BTreeSet<String>) {
    let mut hits = Vec::new();
    let mut keys = BTreeSet::new();
    for e in env {
        if let Some(reason) = classify(&e.key, e.value.expose_for_analysis())
            && keys.insert(e.key.clone())
        {
            let literal = if hint.is_empty() {
                ""
            } else {
                " has a literal value"
            };
            hits.push(Hit::new(format!(
                "{what} {}{literal} ({reason}; value hidden){hint}",
                e.key
            )));
        }
    }
    (hits, keys)
}

/// The `container.secret-env` rule: Secret in an environment variable.
pub const CONTAINER_SECRET_ENV: Rule = Rule {
    id: "container.secret-env",
    title: "Secret in an environment variable",
    severity: Severity::High,
    family: Family::Secrets,
    cis: None,
    seed: SeedRule::ApprovedImages,
    why: "Environment variables are visible to anyone who can inspect the container, to every \
          process in it, in `docker inspect` output, crash dumps and support bundles; they leak \
          into logs and child processes.",
    attack: "Anyone with read access to the engine API — or a compromised process in the \
             container reading /proc/1/environ — collects database passwords and cloud keys \
             and moves on to those systems.",
    fix: Fix {
        summary: "Pass secrets as files (Docker/Compose secrets, a tmpfs mount) and point the app at the file, e.g. DB_PASSWORD_FILE=/run/secrets/db.",
        run: "--secret / -v /path/secret:/run/secrets/db:ro -e DB_PASSWORD_FILE=/run/secrets/db",
        compose: "secrets: [db_password]  (with top-level secrets: db_password: { file: ./db_password.txt })",
        kube: "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: { name: db, key: password }",
    },
    references: &[
        "https://docs.docker.com/engine/swarm/secrets/",
        "https://docs.docker.com/compose/how-tos/use-secrets/",
    ],
    check: Check::Container(|ctx, c| {
        // Variables the container inherits unchanged from its image are the
        // image's problem (image.secret-env); report them once, there.
        let inherited: BTreeSet<(&str, &str)> = ctx
            .index
            .image_by_id(&c.image_id)
            .map(|img| {
                img.env
                    .iter()
                    .map(|e| (e.key.as_str(), e.value.expose_for_analysis()))
                    .collect()
            })
            .unwrap_or_default();
        let own: Vec<EnvVar> = c
            .env
            .iter()
            .filter(|e| !inherited.contains(&(e.key.as_str(), e.value.expose_for_analysis())))
            .cloned()
            .collect();
        // Only literal values are read from a pod spec: say the fix there.
        let hint = match c.source {
            crate::model::Source::Engine => "",
            crate::model::Source::Kubernetes => ": use valueFrom.secretKeyRef",
            crate::model::Source::Compose => ": use secrets: (a file) instead",
        };
        env_hits(&own, "env", hint).0
    }),
};

/// `KEY=value` words in a history line, with quotes stripped.
fn assignments(created_by: &str) -> impl Iterator<Item = (&str, &str)> {
    created_by.split_whitespace().filter_map(|w| {
        let w = w.trim_matches(|c| c == '"' || c == '\'');
        let (k, v) = w.split_once('=')?;
        let ident = !k.is_empty()
            && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !k.as_bytes()[0].is_ascii_digit();
        ident.then_some((k, v.trim_matches(|c| c == '"' || c == '\'')))
    })
}

/// The `image.secret-env` rule: Secret baked into the image.
pub const IMAGE_SECRET: Rule = Rule {
    id: "image.secret-env",
    title: "Secret baked into the image",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "ENV values and build arguments are stored in the image's configuration and history for \
          ever: everyone who can pull the image can read them, in every copy, in every registry.",
    attack: "`docker history --no-trunc` or `docker image inspect` on a pulled image reveals the \
             token; attackers scan public registries for exactly this.",
    fix: Fix {
        summary: "Remove the secret from the Dockerfile; use build secrets (RUN --mount=type=secret) at build time and runtime secrets at run time, then rotate the leaked value.",
        run: "docker build --secret id=npm,src=$HOME/.npmrc …",
        compose: "build: { secrets: [npm] }",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
    ],
    check: Check::Image(|_, img| {
        let (mut hits, mut seen) = env_hits(&img.env, "ENV", "");
        let layers = img.history.len();
        for (i, h) in img.history.iter().enumerate() {
            for (k, v) in assignments(&h.created_by) {
                if let Some(reason) = classify(k, v)
                    && seen.insert(k.to_string())
                {
                    hits.push(Hit::new(format!(
                        "build history layer {} of {layers} sets {k} ({reason}; value hidden)",
                        layers - i
                    )));
                }
            }
        }
        hits
    }),
};

/// The `image.secret-file` rule: Credentials baked into the image's files.
pub const IMAGE_SECRET_FILE: Rule = Rule {
    id: "image.secret-file",
    title: "Credentials baked into the image's files",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "A file copied into an image stays in its layer for ever — deleting it in a later step \
          only hides it: everyone who can pull the image can extract every layer and read the \
          private key, the `.env` file or the cloud credentials, in every copy, in every registry.",
    attack: "`docker save` the image (or pull it from the registry), untar the layers, grep for \
             `BEGIN PRIVATE KEY`, `.aws/credentials` and `.env`: then sign in as the service, push \
             to its registry or log in to its cloud account.",
    fix: Fix {
        summary: "Do not COPY credentials into an image: pass them at build time as build secrets (RUN --mount=type=secret) or use a multi-stage build whose final stage does not contain them; give them to the container at run time as secrets or mounted files. Then rotate every credential that was in the image.",
        run: "docker build --secret id=npmrc,src=$HOME/.npmrc …  (RUN --mount=type=secret,id=npmrc …)",
        compose: "build: { secrets: [npmrc] }  and  secrets: [db_password] at run time",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/build/building/multi-stage/",
    ],
    check: Check::Image(|_, img| {
        let Some(scan) = img.packages.as_ref() else {
            return Vec::new();
        };
        let Some(found) = &scan.secrets else {
            return Vec::new();
        };
        found
            .found
            .iter()
            .map(|f| {
                let step = f
                    .layer
                    .and_then(|l| Some((l, img.layer_step(l, scan.layer_count)?)))
                    .map(|(l, h)| {
                        format!(
                            " — layer {} of {}: {}",
                            l + 1,
                            scan.layer_count,
                            shorten(&redact_command(h.created_by.trim()))
                        )
                    })
                    .unwrap_or_default();
                Hit::new(format!(
                    "{} at {}{step} (content not shown)",
                    f.kind,
                    crate::model::text::visible(&f.path)
                ))
            })
            .collect()
    }),
};

/// A build step, short enough for evidence.
fn shorten(step: &str) -> String {
    let s: String = step.chars().take(120).collect();
    if s.len() < step.len() {
        format!("{s}…")
    } else {
        s
    }
}

/// Where a command line carries a secret, as the redacted words around it
/// (`--password <hidden>`, `postgres://app:<hidden>@db`): the flag or key is
/// named, the value never.
pub fn command_secrets(args: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for arg in redact_args(args) {
        let words: Vec<&str> = arg.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            if !w.contains(HIDDEN) {
                continue;
            }
            let spot = if *w == HIDDEN && i > 0 {
                format!("{} {w}", words[i - 1])
            } else {
                (*w).to_string()
            };
            let spot = crate::model::text::visible(&spot);
            let spot: String = spot.chars().take(120).collect();
            if !out.contains(&spot) {
                out.push(spot);
            }
        }
    }
    out
}

/// Labels whose key names a secret or whose value has a token's format.
/// (Not "looks random": commit hashes and digests are routine label values.)
fn label_secrets<'a>(
    labels: impl Iterator<Item = (&'a String, &'a String)>,
) -> impl Iterator<Item = (&'a str, &'static str)> {
    labels.filter_map(|(k, v)| {
        if v.is_empty() {
            return None;
        }
        let reason = value_shape(v).or_else(|| key_reason(k))?;
        Some((k.as_str(), reason))
    })
}

/// Hits for one object's command line, healthcheck and labels.
fn config_hits(
    what: &str,
    command: Option<&[String]>,
    healthcheck: Option<&crate::model::Healthcheck>,
    labels: &[(&String, &String)],
) -> Vec<Hit> {
    let mut hits = Vec::new();
    if let Some(cmd) = command {
        for spot in command_secrets(cmd) {
            hits.push(Hit::new(format!("{what} command line: {spot}")));
        }
    }
    if let Some(h) = healthcheck {
        for spot in command_secrets(&h.test) {
            hits.push(Hit::new(format!("{what} healthcheck: {spot}")));
        }
    }
    for (key, reason) in label_secrets(labels.iter().copied()) {
        hits.push(Hit::new(format!(
            "{what} label {key} ({reason}; value hidden)"
        )));
    }
    hits
}

/// The `container.secret-in-config` rule: Secret in the command line, healthcheck or labels.
pub const CONTAINER_SECRET_CONFIG: Rule = Rule {
    id: "container.secret-in-config",
    title: "Secret in the command line, healthcheck or labels",
    severity: Severity::High,
    family: Family::Secrets,
    cis: None,
    seed: SeedRule::ApprovedImages,
    why: "The command line, healthcheck and labels are stored in the container's configuration: \
          `docker inspect`, `docker ps --no-trunc`, every process list on the host (`ps` shows \
          the arguments) and every event stream show them to whoever asks.",
    attack: "Read `ps aux` on the host or `docker inspect` through the API and log in to the \
             database with the password passed as `--password`.",
    fix: Fix {
        summary: "Pass secrets as files (a secret or a read-only mount) and point the program at the file; keep labels for metadata only. Rotate the exposed value.",
        run: "-v /path/secret:/run/secrets/db:ro (and --password-file /run/secrets/db)",
        compose: "secrets: [db_password]",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/engine/swarm/secrets/",
        "https://docs.docker.com/compose/how-tos/use-secrets/",
    ],
    check: Check::Container(|ctx, c| {
        // What it inherits unchanged from its image is reported on the image.
        let image = ctx.index.image_by_id(&c.image_id);
        let command = (image.map(|i| &i.command) != Some(&c.command)).then_some(&c.command[..]);
        let healthcheck = c
            .healthcheck
            .as_ref()
            .filter(|h| image.and_then(|i| i.healthcheck.as_ref()) != Some(*h));
        let labels: Vec<(&String, &String)> = c
            .labels
            .iter()
            .filter(|(k, v)| image.and_then(|i| i.labels.get(*k)) != Some(*v))
            .collect();
        config_hits("container", command, healthcheck, &labels)
    }),
};

/// The `image.secret-in-config` rule: Secret in the image's command, healthcheck or labels.
pub const IMAGE_SECRET_CONFIG: Rule = Rule {
    id: "image.secret-in-config",
    title: "Secret in the image's command, healthcheck or labels",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "CMD, ENTRYPOINT, HEALTHCHECK and LABEL are part of the image's configuration: everyone \
          who can pull the image reads them, and every container started from it shows them in \
          its process list.",
    attack: "`docker image inspect` on a pulled image, or `ps` on any host that runs it, reveals \
             the credential.",
    fix: Fix {
        summary: "Remove the secret from the Dockerfile; read it at run time from a secret file. Rotate the exposed value.",
        run: "docker build --secret id=…  (and a runtime secret file)",
        compose: "secrets: [app_token]",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
    ],
    check: Check::Image(|_, img| {
        let labels: Vec<(&String, &String)> = img.labels.iter().collect();
        config_hits(
            "image",
            Some(&img.command),
            img.healthcheck.as_ref(),
            &labels,
        )
    }),
};

/// A label's value as it may be shown (window, reports): `<hidden>` when
/// the pair looks like a secret.
pub fn shown_label_value<'a>(key: &str, value: &'a str) -> &'a str {
    if classify(key, value).is_some() {
        HIDDEN
    } else {
        value
    }
}

/// What replaces a secret in a command line.
pub const HIDDEN: &str = "<hidden>";

/// Flags whose value is a secret (`--password x`, `--token=x`).
fn is_secret_flag(word: &str) -> bool {
    let name = word.trim_start_matches('-');
    word.starts_with('-') && key_reason(name).is_some()
}

/// Hide secret values in a command line (an exec's command, an event's
/// detail) and keep everything else, whitespace included: `KEY=value` with
/// a secret key, the value after a secret flag, a token of a known secret
/// format, a URL's password, and mysql's `-pPASSWORD`.
pub fn redact_command(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut hide_next = false;
    let mut first_word: Option<String> = None;
    let mut rest = line;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        let program = first_word
            .get_or_insert_with(|| word.rsplit('/').next().unwrap_or(word).to_string())
            .clone();
        if hide_next && !word.starts_with('-') {
            hide_next = false;
            out.push_str(HIDDEN);
            continue;
        }
        hide_next = false;
        out.push_str(&redact_word(word, &program, &mut hide_next));
    }
    out
}

/// Each argument on its own (an exec's command as the engine lists it).
pub fn redact_args(args: &[String]) -> Vec<String> {
    let joined = args.join("\u{0}");
    let redacted = redact_command_sep(&joined);
    redacted.split('\u{0}').map(str::to_string).collect()
}

/// [`redact_command`] treating NUL as a word separator too.
fn redact_command_sep(line: &str) -> String {
    line.split('\u{0}')
        .map(redact_command)
        .collect::<Vec<_>>()
        .join("\u{0}")
}

fn redact_word(word: &str, program: &str, hide_next: &mut bool) -> String {
    // Quotes around a whole word (`"PASS=x"` inside `sh -c '…'`).
    let trimmed = word.trim_matches(|c| c == '"' || c == '\'');
    if let Some((key, value)) = trimmed.split_once('=') {
        let bare = key.trim_start_matches('-');
        // Shell punctuation after the value is not part of it.
        let value = value.trim_end_matches(|c| ";&|)".contains(c));
        if !bare.is_empty() && !value.is_empty() && classify(bare, value).is_some() {
            return word.replacen(&format!("={value}"), &format!("={HIDDEN}"), 1);
        }
    }
    if is_secret_flag(trimmed) && !trimmed.contains('=') {
        *hide_next = true;
        return word.to_string();
    }
    if matches!(program, "mysql" | "mysqldump" | "mariadb" | "mysqladmin")
        && trimmed.len() > 2
        && trimmed.starts_with("-p")
    {
        return word.replacen(&trimmed[2..], HIDDEN, 1);
    }
    if url_has_password(trimmed)
        && let Some((scheme, after)) = trimmed.split_once("://")
        && let Some((userinfo, host)) = after.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return word.replacen(trimmed, &format!("{scheme}://{user}:{HIDDEN}@{host}"), 1);
    }
    if value_shape(trimmed).is_some() {
        return word.replacen(trimmed, HIDDEN, 1);
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::HistoryEntry;

    #[test]
    fn commands_keep_their_shape_and_lose_their_secrets() {
        let cases = [
            ("sh -c id", "sh -c id"),
            ("mysql -uroot -pS3cretPw db", "mysql -uroot -p<hidden> db"),
            ("curl -p 8080 x", "curl -p 8080 x"),
            (
                "env DB_PASSWORD=hunter2 app --port=80",
                "env DB_PASSWORD=<hidden> app --port=80",
            ),
            (
                "app --token abc123 --verbose",
                "app --token <hidden> --verbose",
            ),
            (
                "app --password=abc --user=bob",
                "app --password=<hidden> --user=bob",
            ),
            (
                "psql postgres://app:pw123@db:5432/app",
                "psql postgres://app:<hidden>@db:5432/app",
            ),
            (
                "git clone x ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "git clone x <hidden>",
            ),
            (
                "sh -c 'export API_TOKEN=xyz;\n  run'",
                "sh -c 'export API_TOKEN=<hidden>;\n  run'",
            ),
            (
                "cat /run/secrets/db_password",
                "cat /run/secrets/db_password",
            ),
            (
                "app --password-file /run/secrets/pw",
                "app --password-file /run/secrets/pw",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_command(raw), want, "{raw}");
        }
        assert_eq!(
            redact_args(&["sh".into(), "-c".into(), "PASS=x run".into()]),
            ["sh", "-c", "PASS=<hidden> run"]
        );
    }

    #[test]
    fn keys() {
        for k in [
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "API_KEY",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "client-secret",
            "db.pass",
        ] {
            assert!(classify(k, "x").is_some(), "{k}");
        }
        for k in [
            "PATH",
            "PWD",
            "KEYBOARD",
            "PASSWORD_FILE",
            "TOKEN_URL",
            "AWS_REGION",
            "HOME",
            "PASSWORD_MIN_LENGTH",
            "BYPASS_CACHE",
        ] {
            assert!(classify(k, "x").is_none(), "{k}");
        }
        assert!(
            classify("DB_PASSWORD", "").is_none(),
            "an empty value is not a secret"
        );
    }

    #[test]
    fn value_shapes() {
        let cases = [
            ("-----BEGIN RSA PRIVATE KEY-----\nMIIE…", "private key"),
            ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
            ("ghp_0123456789abcdefghijABCDEFGHIJ012345", "GitHub"),
            ("xoxb-1234-5678-abcdef", "Slack"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "JSON Web Token",
            ),
            ("postgres://app:s3cr3t@db:5432/app", "URL with a password"),
            ("Zx8f2Qm9LkP3vR7tW1yB5nH6", "high-entropy"),
            (
                "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "high-entropy",
            ),
        ];
        for (v, want) in cases {
            let got = classify("SOMETHING", v).unwrap_or_else(|| panic!("{v} not detected"));
            assert!(got.contains(want), "{v}: {got}");
        }
        for v in [
            "/usr/local/bin:/usr/bin:/bin",
            "en_US.UTF-8",
            "production",
            "https://example.com/path",
            "1.25.3",
            "true",
            "abcdefghijklmnopqrstuvwxyz",
            "nginx-1.25.3-alpine-slim",
        ] {
            assert!(classify("SOMETHING", v).is_none(), "{v} is not a secret");
        }
    }

    #[test]
    fn container_finding_names_key_never_value() {
        let mut c = hardened();
        c.env = vec![
            EnvVar::parse("DB_PASSWORD=hunter2-very-secret"),
            EnvVar::parse("PLAIN=hello"),
        ];
        let hits = run_container(&CONTAINER_SECRET_ENV, &c);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].evidence.starts_with("env DB_PASSWORD"));
        assert!(!hits[0].evidence.contains("hunter2"));
    }

    #[test]
    fn inherited_env_is_reported_on_the_image_only() {
        let mut img = clean_image();
        img.env = vec![EnvVar::parse("API_TOKEN=from-the-image-0123456789")];
        let mut c = hardened();
        c.env = img.env.clone();
        let inv = inventory_with(vec![c.clone()], vec![img.clone()]);
        let p = crate::model::policy::Policy::default();
        assert!(run_container_in(&CONTAINER_SECRET_ENV, &c, &inv, &p).is_empty());
        // Overridden at run time: the container's own secret.
        c.env = vec![EnvVar::parse("API_TOKEN=overridden-at-run-time-1")];
        assert_eq!(
            run_container_in(&CONTAINER_SECRET_ENV, &c, &inv, &p).len(),
            1
        );
        assert_eq!(run_image(&IMAGE_SECRET, &img).len(), 1);
    }

    #[test]
    fn build_history_args() {
        let mut img = clean_image();
        img.history.insert(
            0,
            HistoryEntry {
                created_by: "|1 NPM_TOKEN=npm_abcdef0123456789 /bin/sh -c npm ci".into(),
                created: None,
                size: 0,
            },
        );
        img.history.insert(
            0,
            HistoryEntry {
                created_by: "/bin/sh -c #(nop)  ENV LOG_LEVEL=debug".into(),
                created: None,
                size: 0,
            },
        );
        let hits = run_image(&IMAGE_SECRET, &img);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(
            hits[0].evidence,
            "build history layer 4 of 5 sets NPM_TOKEN (key names a secret; value hidden)"
        );
    }

    #[test]
    fn command_line_healthcheck_and_labels_name_the_flag_never_the_value() {
        let mut c = hardened();
        c.command = vec![
            "sh".into(),
            "-c".into(),
            "mysqld --password hunter2value && curl https://admin:s3cretpw@example.com".into(),
        ];
        c.healthcheck = Some(crate::model::Healthcheck {
            test: vec![
                "CMD".into(),
                "check".into(),
                "--token=ghp_0123456789abcdefghijABCDEFGHIJ012345".into(),
            ],
        });
        c.labels.insert("DB_PASSWORD".into(), "hunter2value".into());
        c.labels.insert(
            "org.opencontainers.image.revision".into(),
            "4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d".into(),
        );
        let h = run_container(&CONTAINER_SECRET_CONFIG, &c);
        let ev: Vec<&str> = h.iter().map(|h| h.evidence.as_str()).collect();
        assert_eq!(
            ev,
            vec![
                "container command line: --password <hidden>",
                "container command line: https://admin:<hidden>@example.com",
                "container healthcheck: --token=<hidden>",
                "container label DB_PASSWORD (key names a secret; value hidden)",
            ]
        );
        for e in &ev {
            assert!(!e.contains("hunter2") && !e.contains("s3cret") && !e.contains("ghp_"));
        }
    }

    #[test]
    fn inherited_config_is_reported_on_the_image_only() {
        let mut img = clean_image();
        img.command = vec!["app".into(), "--api-key=abc123def456ghi789".into()];
        img.labels.insert("API_TOKEN".into(), "x1y2z3".into());
        let mut c = hardened();
        c.command = img.command.clone();
        c.labels = img.labels.clone();
        let inv = inventory_with(vec![c.clone()], vec![img.clone()]);
        let p = crate::model::policy::Policy::default();
        assert!(run_container_in(&CONTAINER_SECRET_CONFIG, &c, &inv, &p).is_empty());
        let h = run_image_in(&IMAGE_SECRET_CONFIG, &img, &inv, &p);
        assert_eq!(h.len(), 2, "{h:?}");
        assert!(
            h[0].evidence
                .starts_with("image command line: --api-key=<hidden>")
        );
        assert!(run_image(&IMAGE_SECRET_CONFIG, &clean_image()).is_empty());
    }
}
