//! Build steps that break integrity, read from the image history: code
//! fetched and run without a checksum, and package managers or fetchers
//! told to skip their signature or TLS checks (seed rule 3, CIS 4.11).
//!
//! Also the shell tokeniser the other history rules use: a history line
//! (`/bin/sh -c …`, `RUN … # buildkit`, `|2 A=1 B=2 /bin/sh -c …`) split
//! into statements (`;`, `&&`, `||`, new lines), each a pipeline of stages
//! (`|`), each a list of words. It is a reader of hostile text, not a
//! shell: no expansion, no quoting rules beyond trimming quotes and
//! brackets off a word, bounded by the line (history lines are capped
//! when the image is read).

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::{HistoryEntry, Image, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

/// The shell part of a history line, without the builder's prefixes.
fn body(created_by: &str) -> &str {
    let body = created_by
        .trim()
        .trim_start_matches("RUN ")
        .trim_start_matches("/bin/sh -c ")
        .trim_start_matches("#(nop) ");
    // Build args are recorded as `|2 A=1 B=2 /bin/sh -c …`.
    match body.find("/bin/sh -c ") {
        Some(i) if body.starts_with('|') => &body[i + "/bin/sh -c ".len()..],
        _ => body,
    }
}

/// The words of one pipeline stage, with quotes and brackets trimmed off
/// each word; a leading `sudo`, `env` and `NAME=value` assignments are
/// kept (see [`program`]).
fn words(stage: &str) -> Vec<&str> {
    stage
        .split_whitespace()
        .map(|t| t.trim_matches(|c| c == '"' || c == '\'' || c == '(' || c == ')'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// One statement: its pipeline stages, each as words.
type Statement<'a> = Vec<Vec<&'a str>>;

/// The statements of a history line.
fn statements(created_by: &str) -> Vec<Statement<'_>> {
    body(created_by)
        .split(['\n', ';'])
        .flat_map(|s| s.split("&&"))
        .flat_map(|s| s.split("||"))
        .map(|s| {
            s.split('|')
                .map(words)
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// The shell commands of one history line, each stage of a pipeline on its
/// own, with `sudo`, `env` and leading assignments skipped.
pub(super) fn commands(created_by: &str) -> Vec<Vec<&str>> {
    statements(created_by)
        .into_iter()
        .flatten()
        .map(|w| command(&w).to_vec())
        .filter(|c| !c.is_empty())
        .collect()
}

/// A stage's words from the program on: `sudo`, `env` and `NAME=value`
/// prefixes skipped.
fn command<'a, 'b>(words: &'b [&'a str]) -> &'b [&'a str] {
    let skip = words
        .iter()
        .take_while(|t| **t == "sudo" || **t == "env" || t.contains('='))
        .count();
    &words[skip..]
}

/// The program a stage runs, without its folder (`/usr/bin/curl` → `curl`).
fn program<'a>(words: &[&'a str]) -> Option<&'a str> {
    let first = command(words).first()?;
    first.rsplit('/').next()
}

const FETCHERS: &[&str] = &["curl", "wget", "fetch", "aria2c"];
const INTERPRETERS: &[&str] = &[
    "sh", "bash", "dash", "ash", "zsh", "ksh", "python", "python2", "python3", "perl", "ruby",
    "node", "php", "pwsh",
];
/// What checks a download in the same step: a checksum or a signature.
const VERIFIERS: &[&str] = &[
    "sha256sum",
    "sha512sum",
    "sha384sum",
    "sha224sum",
    "sha1sum",
    "shasum",
    "b2sum",
    "md5sum",
    "gpg",
    "gpgv",
    "cosign",
    "minisign",
    "signify",
    "slsa-verifier",
];

fn is_plain_url(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("ftp://")
}

fn verifies(statements: &[Statement<'_>]) -> bool {
    statements.iter().flatten().any(|stage| {
        program(stage).is_some_and(|p| VERIFIERS.contains(&p))
            || command(stage)
                .windows(2)
                .any(|w| w[0] == "openssl" && w[1] == "dgst")
    })
}

/// What kind of Dockerfile instruction a history line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `RUN`: a shell command of the build.
    Run,
    /// `ENV` or `ARG`: settings the later steps (and, for ENV, every
    /// container) run with.
    Setting,
    /// `ADD` as BuildKit records it, with its sources.
    Add,
    /// Anything else (`CMD`, `LABEL`, `COPY`, the classic builder's ADD).
    Other,
}

fn step(line: &str) -> Step {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("/bin/sh -c ") {
        let rest = rest.trim_start();
        return match rest.strip_prefix("#(nop)") {
            None => Step::Run,
            Some(nop) => match nop.split_whitespace().next() {
                Some("ENV" | "ARG") => Step::Setting,
                _ => Step::Other,
            },
        };
    }
    match line.split_whitespace().next() {
        Some("RUN") => Step::Run,
        Some("ENV" | "ARG") => Step::Setting,
        Some("ADD") => Step::Add,
        Some(w) if w.starts_with('|') && line.contains("/bin/sh -c ") => Step::Run,
        _ => Step::Other,
    }
}

/// Why a step runs or keeps a download it did not verify, if it does.
pub fn unverified_download(h: &HistoryEntry) -> Option<String> {
    let line = h.created_by.trim();
    match step(line) {
        Step::Run => {}
        Step::Add => return remote_add(line),
        Step::Setting | Step::Other => return None,
    }
    let sts = statements(line);
    for st in &sts {
        // A fetcher's output piped into an interpreter.
        let fetch = st
            .iter()
            .position(|s| program(s).is_some_and(|p| FETCHERS.contains(&p)));
        if let Some(i) = fetch
            && let Some(run) = st[i + 1..]
                .iter()
                .filter_map(|s| program(s))
                .find(|p| INTERPRETERS.contains(p))
        {
            let fetcher = program(&st[i]).unwrap_or("download");
            return Some(format!("{fetcher} piped into {run}, nothing verified"));
        }
        // `sh -c "$(curl …)"`, `bash <(wget -O- …)`, `eval "$(curl …)"`.
        if let Some(first) = st.first() {
            let p = program(first).unwrap_or("");
            if INTERPRETERS.contains(&p) || p == "eval" || p == "source" || p == "." {
                let substituted = first.iter().any(|w| {
                    FETCHERS.iter().any(|f| {
                        ["$(", "<(", "`"]
                            .iter()
                            .any(|open| w.trim_start_matches('"') == format!("{open}{f}"))
                    })
                });
                if substituted {
                    return Some(format!("a download run by {p}, nothing verified"));
                }
            }
        }
    }
    // A plain-http download kept as a file, with no checksum in the step.
    let plain = sts.iter().flatten().any(|s| {
        program(s).is_some_and(|p| FETCHERS.contains(&p))
            && command(s).iter().skip(1).any(|w| is_plain_url(w))
    });
    if plain && !verifies(&sts) {
        return Some("downloaded over plain http, no checksum in the step".into());
    }
    None
}

/// BuildKit keeps an ADD's sources: `ADD https://… /dst # buildkit`. The
/// classic builder records only the file's hash (`ADD file:… in /dst`), so
/// a remote ADD is not visible in its history.
fn remote_add(line: &str) -> Option<String> {
    let ws = words(line);
    let remote = ws.iter().any(|w| {
        let l = w.to_ascii_lowercase();
        l.starts_with("http://") || l.starts_with("https://")
    });
    (remote && !ws.iter().any(|w| w.starts_with("--checksum=")))
        .then(|| "ADD from a URL without --checksum".to_string())
}

/// Settings that turn a check off, as `NAME=value` (in `ENV`, an `env`
/// prefix or a config line) — the value decides.
fn setting_off(word: &str) -> Option<&'static str> {
    // `yum --setopt=gpgcheck=0`: the option is the setting.
    let word = word.trim_start_matches("--setopt=");
    let (name, value) = word.split_once('=')?;
    let value = value
        .trim_matches(|c| c == '"' || c == '\'')
        .to_ascii_lowercase();
    let truthy = !matches!(value.as_str(), "" | "0" | "false" | "no" | "off");
    let falsy = matches!(value.as_str(), "0" | "false" | "no" | "off");
    match name.to_ascii_uppercase().as_str() {
        "NODE_TLS_REJECT_UNAUTHORIZED" if value == "0" => Some("Node.js TLS verification off"),
        "PYTHONHTTPSVERIFY" if value == "0" => Some("Python HTTPS verification off"),
        "GIT_SSL_NO_VERIFY" if truthy => Some("git TLS verification off"),
        "PIP_TRUSTED_HOST" if !value.is_empty() => Some("pip trusts a host without TLS checks"),
        "NPM_CONFIG_STRICT_SSL" if falsy => Some("npm TLS verification off"),
        "GOSUMDB" if value == "off" => Some("Go checksum database off"),
        "GOINSECURE" | "GONOSUMCHECK" if truthy => Some("Go module checks off"),
        "GPGCHECK" | "REPO_GPGCHECK" | "PKG_GPGCHECK" if falsy => {
            Some("package signature checks off")
        }
        "SSLVERIFY" if falsy => Some("repository TLS verification off"),
        "APT::GET::ALLOWUNAUTHENTICATED" | "ACQUIRE::ALLOWINSECUREREPOSITORIES" if truthy => {
            Some("apt signature checks off")
        }
        "ACQUIRE::HTTPS::VERIFY-PEER" | "ACQUIRE::HTTPS::VERIFY-HOST" if falsy => {
            Some("apt TLS verification off")
        }
        "HTTP.SSLVERIFY" if falsy => Some("git TLS verification off"),
        "STRICT-SSL" | "--STRICT-SSL" if falsy => Some("npm TLS verification off"),
        _ => None,
    }
}

/// What one stage turns off, by program and flag.
fn stage_off(stage: &[&str]) -> Option<&'static str> {
    for w in stage {
        // `printf '[repo]\ngpgcheck=0\n' > x.repo` keeps the escapes.
        if let Some(why) = w.split("\\n").find_map(setting_off) {
            return Some(why);
        }
        if w.eq_ignore_ascii_case("[trusted=yes]") || w.eq_ignore_ascii_case("[trusted=yes") {
            return Some("an apt source marked trusted=yes");
        }
    }
    let cmd = command(stage);
    let p = program(stage)?;
    let args = &cmd[1..];
    let has = |flag: &str| {
        args.iter()
            .any(|a| *a == flag || a.starts_with(&format!("{flag}=")))
    };
    let pair = |a: &str, b: &str| args.windows(2).any(|w| w[0] == a && w[1] == b);
    let apt = matches!(p, "apt-get" | "apt" | "aptitude");
    let why = match p {
        _ if apt && (has("--allow-unauthenticated") || has("--force-yes")) => {
            "apt installs unsigned packages"
        }
        _ if apt && has("--allow-insecure-repositories") => "apt reads unsigned repositories",
        "yum" | "dnf" | "microdnf" | "tdnf" | "rpm"
            if has("--nogpgcheck") || has("--nosignature") || has("--nodigest") =>
        {
            "rpm signature checks off"
        }
        "zypper" if has("--no-gpg-checks") || has("--no-check-signatures") => {
            "zypper signature checks off"
        }
        "apk" if has("--allow-untrusted") => "apk installs unsigned packages",
        "pip" | "pip3" | "pipx" | "uv"
            if has("--trusted-host") || args.iter().any(|a| a.ends_with(".trusted-host")) =>
        {
            "pip trusts a host without TLS checks"
        }
        "npm" | "yarn" | "pnpm" if pair("strict-ssl", "false") || pair("strictSSL", "false") => {
            "npm TLS verification off"
        }
        "git" if pair("http.sslVerify", "false") || pair("http.sslverify", "false") => {
            "git TLS verification off"
        }
        "curl"
            if args.iter().any(|a| {
                *a == "--insecure"
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('k'))
            }) =>
        {
            "curl TLS verification off (-k)"
        }
        "wget" if has("--no-check-certificate") => "wget TLS verification off",
        "go" if has("-insecure") => "Go module checks off",
        _ => return None,
    };
    Some(why)
}

/// What a step turns off, if it turns off a signature or TLS check.
pub fn checks_off(h: &HistoryEntry) -> Option<&'static str> {
    let line = h.created_by.trim();
    // `ENV A=1 B=2` (classic builder `#(nop)  ENV …`, BuildKit `ENV … # buildkit`).
    if !matches!(step(line), Step::Run | Step::Setting) {
        return None;
    }
    statements(line)
        .iter()
        .flatten()
        .find_map(|stage| stage_off(stage))
}

/// One hit per history step `judge` picks, newest first:
/// `layer 3 of 7: why — step` (`layer 3 of 7: step` when `why` is empty),
/// the step shortened with its secret values hidden. `skip_base` leaves
/// out the oldest record, the base layer.
pub(super) fn layer_hits(
    img: &Image,
    skip_base: bool,
    judge: impl Fn(&HistoryEntry) -> Option<String>,
) -> Vec<Hit> {
    let n = img.history.len();
    let upto = if skip_base { n.saturating_sub(1) } else { n };
    img.history[..upto]
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            judge(h).map(|why| {
                let sep = if why.is_empty() { "" } else { " — " };
                Hit::new(format!(
                    "layer {} of {n}: {why}{sep}{}",
                    n - i,
                    shorten(&h.created_by)
                ))
            })
        })
        .collect()
}

/// A history step for evidence: secret values hidden, at most 120 characters.
fn shorten(s: &str) -> String {
    let redacted = super::secrets::redact_command(s.trim());
    let s = redacted.as_str();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s.to_string()
    }
}

/// The `image.unverified-download` rule.
pub const UNVERIFIED_DOWNLOAD: Rule = Rule {
    id: "image.unverified-download",
    title: "Build step runs or keeps a download it did not verify",
    severity: Severity::Medium,
    family: Family::Images,
    cis: Some("4.11"),
    seed: SeedRule::Integrity,
    why: "A script piped from curl or wget into a shell, a file fetched over plain http without a \
          checksum, or an ADD from a URL without --checksum puts into the image whatever the \
          server (or anyone on the path) sent that day; nothing in the build would notice a \
          change. The classic builder's history keeps only a hash for ADD, so a remote ADD is \
          seen only in BuildKit images.",
    attack: "Whoever controls the download server, its DNS or the network of the build machine \
             serves a tampered script or binary; it runs as root during the build and ships in \
             every container of the image.",
    fix: Fix {
        summary: "Download to a file over https, check it against a pinned checksum \
                  (`echo \"<sha256>  file\" | sha256sum -c -`) or a signature, then run it; for \
                  ADD, pin `ADD --checksum=sha256:<digest> <url> <dest>`; better, COPY it from a \
                  verified build stage.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/reference/dockerfile/#add---checksum",
        "https://docs.docker.com/build/building/best-practices/#pipes",
    ],
    check: Check::Image(|_, img| layer_hits(img, false, unverified_download)),
};

/// The `image.signature-checks-off` rule.
pub const SIGNATURE_CHECKS_OFF: Rule = Rule {
    id: "image.signature-checks-off",
    title: "Build step turned off signature or TLS checks",
    severity: Severity::Medium,
    family: Family::Images,
    cis: Some("4.11"),
    seed: SeedRule::Integrity,
    why: "Package managers check each package's signature and fetchers check the server's \
          certificate so that what is installed is what its publisher built. A step with \
          --allow-unauthenticated, --nogpgcheck, gpgcheck=0, apk --allow-untrusted, \
          pip --trusted-host, npm strict-ssl false, curl -k, wget --no-check-certificate, \
          GIT_SSL_NO_VERIFY or NODE_TLS_REJECT_UNAUTHORIZED=0 installs whatever it is served. \
          A setting made with ENV also stays on in every container of the image.",
    attack: "Anyone between the build machine and the mirror (a proxy, a Wi-Fi network, a \
             poisoned DNS answer) substitutes a package or a script; the build installs it \
             without a warning, and an ENV setting does the same for the application's own \
             connections at run time.",
    fix: Fix {
        summary: "Remove the flag or setting; import the repository's signing key instead \
                  (`signed-by=` for apt, `rpm --import` for dnf/yum), and install the CA \
                  certificate of a private mirror (`update-ca-certificates`) instead of \
                  turning TLS checks off.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://wiki.debian.org/SecureApt",
        "https://docs.npmjs.com/cli/v10/using-npm/config#strict-ssl",
    ],
    check: Check::Image(|_, img| layer_hits(img, false, |h| checks_off(h).map(str::to_string))),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    fn layer(s: &str) -> HistoryEntry {
        HistoryEntry {
            created_by: s.into(),
            created: None,
            size: 0,
        }
    }

    #[test]
    fn history_steps_in_evidence_hide_secret_values() {
        let s = shorten("/bin/sh -c #(nop)  ENV API_TOKEN=tok-123456 && apt-get update");
        assert!(s.contains("API_TOKEN=<hidden>"), "{s}");
        assert!(!s.contains("tok-123456"), "{s}");
    }

    fn download(s: &str) -> Option<String> {
        unverified_download(&layer(s))
    }

    fn off(s: &str) -> Option<&'static str> {
        checks_off(&layer(s))
    }

    #[test]
    fn pipes_into_an_interpreter_fire() {
        for s in [
            "/bin/sh -c curl -fsSL https://get.example.com/install.sh | sh",
            "/bin/sh -c curl -fsSL https://get.example.com | sudo bash -s -- --yes",
            "RUN /bin/sh -c wget -qO- https://x.example/i.sh | /bin/bash # buildkit",
            "|1 V=2 /bin/sh -c set -e; curl -sL https://deb.nodesource.com/setup_20.x | bash -",
            "/bin/sh -c apt-get update && curl https://bootstrap.pypa.io/get-pip.py | python3",
            "/bin/sh -c curl -s https://x.example/i | tee /tmp/log | sh",
        ] {
            let why = download(s).unwrap_or_else(|| panic!("not flagged: {s}"));
            assert!(why.contains("piped into"), "{s}: {why}");
        }
        assert_eq!(
            download("/bin/sh -c curl -fsSL https://x/i.sh | sh").as_deref(),
            Some("curl piped into sh, nothing verified")
        );
    }

    #[test]
    fn substitutions_fire() {
        for s in [
            "/bin/sh -c sh -c \"$(curl -fsSL https://raw.example/install.sh)\"",
            "/bin/sh -c bash <(wget -qO- https://x.example/i.sh)",
            "/bin/sh -c eval \"$(curl -s https://x.example/env)\"",
            "/bin/sh -c bash -c \"`curl https://x.example/i`\"",
        ] {
            assert!(download(s).is_some(), "not flagged: {s}");
        }
    }

    #[test]
    fn plain_http_needs_a_checksum() {
        assert_eq!(
            download("/bin/sh -c curl -o /tmp/t.tgz http://dl.example/t.tgz && tar xzf /tmp/t.tgz")
                .as_deref(),
            Some("downloaded over plain http, no checksum in the step")
        );
        assert!(download("/bin/sh -c wget ftp://ftp.example/a.bin").is_some());
        assert!(
            download(
                "/bin/sh -c curl -o t.tgz http://dl.example/t.tgz && echo \"abc  t.tgz\" | sha256sum -c - && tar xzf t.tgz"
            )
            .is_none()
        );
        assert!(
            download(
                "/bin/sh -c wget http://x/a.tgz http://x/a.tgz.asc && gpg --verify a.tgz.asc a.tgz"
            )
            .is_none()
        );
    }

    #[test]
    fn remote_add_needs_checksum() {
        assert!(download("ADD https://example.com/x.tgz /opt # buildkit").is_some());
        assert!(
            download("ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/x.tgz /opt # buildkit")
                .is_none()
        );
        assert!(download("ADD app.tgz /opt # buildkit").is_none());
        assert!(download("/bin/sh -c #(nop) ADD file:abc in /app/").is_none());
    }

    #[test]
    fn verified_or_harmless_steps_do_not_fire() {
        for s in [
            "/bin/sh -c curl -fsSLo /usr/local/bin/x https://github.com/x/x/releases/x",
            "/bin/sh -c apt-get update && apt-get install -y curl",
            "/bin/sh -c echo 'curl https://x | sh' > /README",
            "/bin/sh -c shellcheck install.sh",
            "/bin/sh -c #(nop)  CMD [\"sh\" \"-c\" \"curl http://localhost/health\"]",
            "/bin/sh -c grep -c sh /etc/shells | sort",
            "/bin/sh -c echo deb http://deb.debian.org/debian bookworm main > /etc/apt/sources.list",
        ] {
            assert_eq!(download(s), None, "{s}");
        }
    }

    #[test]
    fn checks_turned_off_fire_with_the_reason() {
        for (s, why) in [
            (
                "/bin/sh -c apt-get install -y --allow-unauthenticated foo",
                "apt installs unsigned packages",
            ),
            (
                "/bin/sh -c apt-get -o APT::Get::AllowUnauthenticated=true install foo",
                "apt signature checks off",
            ),
            (
                "/bin/sh -c apt-get update --allow-insecure-repositories",
                "apt reads unsigned repositories",
            ),
            (
                "/bin/sh -c echo 'deb [trusted=yes] http://mirror/ ./' > /etc/apt/sources.list",
                "an apt source marked trusted=yes",
            ),
            (
                "/bin/sh -c dnf install -y --nogpgcheck foo",
                "rpm signature checks off",
            ),
            (
                "/bin/sh -c yum --setopt=gpgcheck=0 install foo",
                "package signature checks off",
            ),
            (
                "/bin/sh -c printf '[x]\\ngpgcheck=0\\n' > /etc/yum.repos.d/x.repo",
                "package signature checks off",
            ),
            (
                "/bin/sh -c zypper --no-gpg-checks in -y foo",
                "zypper signature checks off",
            ),
            (
                "/bin/sh -c apk add --allow-untrusted /tmp/x.apk",
                "apk installs unsigned packages",
            ),
            (
                "/bin/sh -c pip install --trusted-host pypi.internal -r req.txt",
                "pip trusts a host without TLS checks",
            ),
            (
                "/bin/sh -c pip config set global.trusted-host pypi.internal",
                "pip trusts a host without TLS checks",
            ),
            (
                "/bin/sh -c npm config set strict-ssl false",
                "npm TLS verification off",
            ),
            (
                "/bin/sh -c yarn config set strict-ssl false -g",
                "npm TLS verification off",
            ),
            (
                "/bin/sh -c curl -fsSLk https://x/a -o a",
                "curl TLS verification off (-k)",
            ),
            (
                "/bin/sh -c curl --insecure https://x/a -o a",
                "curl TLS verification off (-k)",
            ),
            (
                "/bin/sh -c wget --no-check-certificate https://x/a",
                "wget TLS verification off",
            ),
            (
                "/bin/sh -c git config --global http.sslVerify false",
                "git TLS verification off",
            ),
            (
                "/bin/sh -c GIT_SSL_NO_VERIFY=1 git clone https://x/r",
                "git TLS verification off",
            ),
            (
                "/bin/sh -c #(nop)  ENV NODE_TLS_REJECT_UNAUTHORIZED=0",
                "Node.js TLS verification off",
            ),
            (
                "ENV GOSUMDB=off GOPROXY=direct # buildkit",
                "Go checksum database off",
            ),
        ] {
            assert_eq!(off(s), Some(why), "{s}");
        }
    }

    #[test]
    fn checks_left_on_do_not_fire() {
        for s in [
            "/bin/sh -c apt-get install -y --no-install-recommends foo",
            "/bin/sh -c dnf install -y foo && dnf clean all",
            "/bin/sh -c printf '[x]\\ngpgcheck=1\\n' > /etc/yum.repos.d/x.repo",
            "/bin/sh -c curl -fsSL https://x/a -o a",
            "/bin/sh -c curl --keepalive-time 5 https://x/a",
            "/bin/sh -c npm config set strict-ssl true",
            "/bin/sh -c #(nop)  ENV NODE_TLS_REJECT_UNAUTHORIZED=1",
            "/bin/sh -c #(nop)  ENV GIT_SSL_NO_VERIFY=false",
            "/bin/sh -c apk add --no-cache ca-certificates",
            "/bin/sh -c echo --nogpgcheck",
        ] {
            assert_eq!(off(s), None, "{s}");
        }
    }

    #[test]
    fn evidence_names_the_step() {
        let mut img = clean_image();
        img.history
            .insert(0, layer("/bin/sh -c curl -fsSL https://x/i.sh | sh"));
        img.history
            .insert(0, layer("/bin/sh -c apk add --allow-untrusted a.apk"));
        let hits = run_image(&UNVERIFIED_DOWNLOAD, &img);
        assert_eq!(
            hits.iter().map(|h| h.evidence.as_str()).collect::<Vec<_>>(),
            [
                "layer 4 of 5: curl piped into sh, nothing verified — /bin/sh -c curl -fsSL https://x/i.sh | sh"
            ]
        );
        let hits = run_image(&SIGNATURE_CHECKS_OFF, &img);
        assert_eq!(
            hits.iter().map(|h| h.evidence.as_str()).collect::<Vec<_>>(),
            [
                "layer 5 of 5: apk installs unsigned packages — /bin/sh -c apk add --allow-untrusted a.apk"
            ]
        );
        assert!(run_image(&UNVERIFIED_DOWNLOAD, &clean_image()).is_empty());
        assert!(run_image(&SIGNATURE_CHECKS_OFF, &clean_image()).is_empty());
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for s in [
            "",
            "|",
            "||||&&;;\n",
            "ADD ",
            "--setopt=",
            "=",
            "curl |",
            "| sh",
            "é=ü --setopt=é",
            "$(curl",
        ] {
            let _ = download(s);
            let _ = off(s);
        }
    }
}
