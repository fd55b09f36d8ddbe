//! One redaction of author-written text by the shape of the secrets in it.
//!
//! Whoever builds an image or starts a container writes its labels, command
//! line, entrypoint, healthcheck, build history and package metadata, and
//! sometimes a credential with them: `deploy.note = "rotated ghp_…"`,
//! `mysql -uroot -pS3cret`, `curl https://admin:pw@host`. Every place that
//! shows or writes such text (reports, the window, the terminal) passes it
//! through [`redact`], which finds the secrets embedded anywhere in it and
//! replaces each value with [`HIDDEN`], keeping everything else; the rules
//! use the same [`redact`] to say where a secret is (`secrets::*`), so what
//! is hidden and what is a finding cannot drift apart.
//!
//! What is recognised (each a [`Kind`]):
//!
//! * tokens of a well-known shape, at a word boundary — the prefixes and
//!   lengths gitleaks and Trivy's secret rules match: GitHub (`ghp_`,
//!   `gho_`, `github_pat_`, …), GitLab (`glpat-`, …), Slack (`xox?-`),
//!   npm (`npm_`), PyPI (`pypi-AgEI…`), Docker Hub (`dckr_pat_`), Hugging
//!   Face (`hf_`), Google API keys (`AIza…`), AWS access key ids
//!   (`AKIA…`, `ASIA…`), Stripe (`sk_live_…`), OpenAI-style (`sk-…`, mixed
//!   case and digits), JSON Web Tokens;
//! * private key blocks (`-----BEGIN … PRIVATE KEY-----` with a body);
//! * the password of a URL (`scheme://user:PASSWORD@host`);
//! * `KEY=value`, `key: value`, `"key": "value"` whose key names a secret
//!   (`DB_PASSWORD`, `apiKey`, `aws_secret_access_key`, …), and an
//!   `Authorization:` header's credential;
//! * the value after a secret option (`--password x`, `--token=x`), and the
//!   password options of a few programs (`mysql -pX`, `sshpass -pX`,
//!   `curl -u user:X`, `docker login -p X`).
//!
//! What is *not* hidden: commit hashes, digests, UUIDs and image ids (no
//! "looks random" guess on free text, only for `IDENT=value` assignments,
//! the shape of environment variables and build arguments, where the
//! environment rules already guess); paths (`--tls-key /certs/key.pem`);
//! placeholders (`${TOKEN}`, `<password>`, `{{ .pw }}`, `****`) — which is
//! also why the redaction is idempotent: [`HIDDEN`] is a placeholder.
//!
//! Linear in its input (every look-back and look-ahead is bounded or
//! skipped past), pure, and tested with a property test and a fuzz target
//! (`fuzz::redaction`).

use std::borrow::Cow;
use std::ops::Range;

/// What replaces a secret.
pub const HIDDEN: &str = "<hidden>";

/// Key words that name a secret (matched per `_`/`-`/`.`/camelCase word).
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

/// A last word that says the variable is *about* a secret, not the secret
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

/// The words of a key, upper-cased: split at `_`, `-`, `.` and where a
/// lower-case letter or digit meets an upper-case one (`apiKey` → `API`,
/// `KEY`; `APIKEY` stays one word).
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if matches!(c, '_' | '-' | '.') {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Why a key names a secret (`DB_PASSWORD`, `apiKey`, `--token`), or
/// `None` (`PASSWORD_FILE`, `TOKEN_URL`, `PWD`, `AWS_REGION`).
pub fn key_reason(key: &str) -> Option<&'static str> {
    let key = key.trim_start_matches('-');
    if key.len() > 128 {
        return None;
    }
    let up = key.to_ascii_uppercase();
    if up.starts_with("AWS_") && !AWS_BENIGN.contains(&up.as_str()) {
        return Some("key is an AWS credential variable");
    }
    if up == "PWD" || up == "OLDPWD" {
        return None;
    }
    let words = key_words(key);
    let last = words.last()?;
    if words.len() > 1 && DESCRIPTIVE_SUFFIXES.contains(&last.as_str()) {
        return None;
    }
    words
        .iter()
        .any(|t| SECRET_WORDS.contains(&t.as_str()))
        .then_some("key names a secret")
}

/// Why a key/value pair (an environment variable, a build argument) looks
/// like a secret, or `None`. The reason never quotes the value.
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

/// Why a value holds a secret by its shape alone (a token, a private key,
/// a JSON Web Token, a URL with a password), wherever in it; or `None`.
pub fn value_shape(v: &str) -> Option<&'static str> {
    let v = v.trim();
    let found = shapes(v);
    let first = found.first()?;
    let whole = first.at.start == 0 && first.at.end >= v.len();
    Some(match (first.kind, whole) {
        (Kind::PrivateKey, _) => "value is a private key block",
        (Kind::Token(t), true) => t.looks,
        (Kind::Token(t), false) => t.holds,
        (Kind::Jwt, true) => "value looks like a JSON Web Token",
        (Kind::Jwt, false) => "value holds a JSON Web Token",
        (Kind::UrlPassword, _) => "value is a URL with a password in it",
        _ => "value holds a secret",
    })
}

/// The well-known shape of a token at the start of `v` — the prefixes and
/// lengths gitleaks and Trivy's secret rules match: its kind (`GitHub
/// token`), or `None`.
pub fn token_shape(v: &str) -> Option<&'static str> {
    let mut runs = Runs::default();
    token_at(v.as_bytes(), 0, &mut runs).map(|(_, t)| t.kind)
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

/// A value that looks like a random token (used for environment values
/// and `IDENT=value` assignments only: free text is full of hashes).
pub fn looks_random(v: &str) -> bool {
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

/// A value that stands for a secret rather than being one: a variable
/// (`${TOKEN}`, `$TOKEN`, `$(cat f)`), a template (`<password>`,
/// `{{ .pw }}`, `%(pw)s`, `%s`), a mask (`****`, `xxxx`, `…`) — and
/// [`HIDDEN`] itself — or a structured value (`{name: x}`, `[a]`), which
/// is not a secret's text either.
pub fn is_placeholder(v: &str) -> bool {
    let v = v.trim();
    stands_for_one(v) || matches!(v.as_bytes().first(), Some(b'{' | b'[' | b'('))
}

/// A variable, a template or a mask (see [`is_placeholder`]).
fn stands_for_one(v: &str) -> bool {
    let Some((&first, &last)) = v.as_bytes().first().zip(v.as_bytes().last()) else {
        return true;
    };
    // What this redaction already hid (and what is around it) is done.
    if first == b'$' || v.starts_with("%(") || v == "%s" || v.contains(HIDDEN) {
        return true;
    }
    if (first == b'<' && last == b'>') || (v.starts_with("{{") && v.ends_with("}}")) {
        return true;
    }
    let masked = v.chars().all(|c| matches!(c, '*' | '•' | '…' | '.'))
        || (v.len() >= 3 && v.chars().all(|c| matches!(c, 'x' | 'X')));
    masked || v.eq_ignore_ascii_case("redacted")
}

/// A value written in an example rather than a real secret (`changeme`,
/// `password`, `your_password`, a variable, a template, a mask): credential
/// *files* with only these are not reported — gitleaks' and Trivy's
/// allow-lists do the same. (A structured value, a JSON token, may be a
/// real one.) The redaction still hides such words: hiding costs nothing.
pub fn is_example_value(v: &str) -> bool {
    let l = v.trim().trim_matches(['"', '\'']).to_ascii_lowercase();
    stands_for_one(&l)
        || matches!(
            l.as_str(),
            "password"
                | "passwd"
                | "pass"
                | "pwd"
                | "secret"
                | "changeme"
                | "change_me"
                | "change-me"
                | "example"
                | "test"
                | "none"
                | "null"
                | "token"
        )
        || l.starts_with("your")
        || l.starts_with("my_")
        || l.starts_with("example")
}

/// What a secret was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `-----BEGIN … PRIVATE KEY-----` block with a body.
    PrivateKey,
    /// A token of a well-known shape.
    Token(&'static TokenShape),
    /// A JSON Web Token (`eyJ….eyJ….…`).
    Jwt,
    /// The password of a URL (`scheme://user:PASSWORD@host`).
    UrlPassword,
    /// The value of a key that names a secret (the reason: "key names a
    /// secret", "key is an AWS credential variable").
    Keyed(&'static str),
    /// A random-looking value assigned to an identifier (`FOO=Zx8f…`).
    HighEntropy,
    /// The value after a secret option (`--password x`).
    Option,
    /// A program's password option (`mysql -pX`, `curl -u user:X`).
    PasswordOption,
}

impl Kind {
    /// What it is, for a person: `a GitHub token`, `a password in a URL`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::PrivateKey => "a private key",
            Self::Token(t) => t.a,
            Self::Jwt => "a JSON Web Token",
            Self::UrlPassword => "a password in a URL",
            Self::Keyed(_) => "a value whose key names a secret",
            Self::HighEntropy => "a high-entropy value",
            Self::Option => "the value of a secret option",
            Self::PasswordOption => "a password option's value",
        }
    }

    /// Recognised by its shape alone (not by a key or an option).
    pub fn by_shape(self) -> bool {
        matches!(
            self,
            Self::PrivateKey | Self::Token(_) | Self::Jwt | Self::UrlPassword
        )
    }

    /// The more telling of two kinds for one spot.
    fn rank(self) -> u8 {
        match self {
            Self::PrivateKey | Self::Token(_) | Self::Jwt => 4,
            Self::UrlPassword => 3,
            Self::PasswordOption | Self::Option => 2,
            Self::Keyed(_) => 1,
            Self::HighEntropy => 0,
        }
    }
}

/// One secret found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it was in the text given ([`find`]), or where its
    /// [`HIDDEN`] is in the redacted text ([`Redaction::found`]).
    pub at: Range<usize>,
    /// What it is.
    pub kind: Kind,
    /// The key or option that named it (`DB_PASSWORD`, `--token`), when
    /// one did: a key is never the secret.
    pub key: Option<String>,
}

/// A text with its secrets hidden, and what they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction<'a> {
    /// The text, each secret replaced by [`HIDDEN`] (borrowed when it had
    /// none).
    pub text: Cow<'a, str>,
    /// Each secret, with where its [`HIDDEN`] now is in `text`.
    pub found: Vec<Found>,
}

impl Redaction<'_> {
    /// The kinds found, each once, the most telling first.
    pub fn kinds(&self) -> Vec<Kind> {
        let mut k: Vec<Kind> = Vec::new();
        for f in &self.found {
            if !k.contains(&f.kind) {
                k.push(f.kind);
            }
        }
        k.sort_by_key(|k| std::cmp::Reverse(k.rank()));
        k
    }

    /// The words around one hidden value (`--password <hidden>`,
    /// `postgres://app:<hidden>@db`): where a secret is, never what. At
    /// most 120 characters, hidden characters shown as escapes.
    pub fn spot(&self, f: &Found) -> String {
        let t = self.text.as_ref();
        let b = t.as_bytes();
        let mut start = f.at.start.min(b.len());
        while start > 0 && !is_space(b[start - 1]) {
            start -= 1;
        }
        let mut end = f.at.end.min(b.len());
        while end < b.len() && !is_space(b[end]) {
            end += 1;
        }
        // A value alone says nothing: name the word before it too (two
        // for a header's scheme: `Authorization: Bearer <hidden>`).
        let bare = |w: &str| w.trim_matches(|c: char| "\"'`;,)".contains(c)).to_string();
        let word_before = |at: usize| -> usize {
            let mut s = at;
            while s > 0 && is_space(b[s - 1]) {
                s -= 1;
            }
            while s > 0 && !is_space(b[s - 1]) {
                s -= 1;
            }
            s
        };
        if t.get(start..end).map(bare).as_deref() == Some(HIDDEN) {
            let s = word_before(start);
            let prev = t.get(s..start).unwrap_or("").trim();
            start = if !prev.is_empty() && prev.bytes().all(|c| c.is_ascii_alphabetic()) {
                let s2 = word_before(s);
                if t.get(s2..s).unwrap_or("").trim_end().ends_with(':') {
                    s2
                } else {
                    s
                }
            } else {
                s
            };
        }
        let spot = t
            .get(start..end)
            .unwrap_or(HIDDEN)
            .split(|c: char| c.is_whitespace() || c == '\0')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let spot = super::text::visible(&spot);
        let mut short: String = spot.chars().take(120).collect();
        if short.len() < spot.len() {
            short.push('…');
        }
        short
    }

    /// [`Self::spot`] of each secret, each spot once, with its kind.
    pub fn spots(&self) -> Vec<(String, Kind)> {
        let mut out: Vec<(String, Kind)> = Vec::new();
        for f in &self.found {
            let spot = self.spot(f);
            if !out.iter().any(|(s, _)| *s == spot) {
                out.push((spot, f.kind));
            }
        }
        out
    }
}

/// Hide every secret in a text: [`redact`]'s text alone.
pub fn hide(text: &str) -> Cow<'_, str> {
    redact(text).text
}

/// At most this many passes of [`find`] over a text ([`redact`]).
const MAX_PASSES: usize = 8;

/// Hide every secret in a text, and say what each was.
///
/// A secret's context can hide another's (`Bearer curl -u …`: once the
/// bearer token `curl` is hidden, `-u` is no longer curl's): the text is
/// searched again until nothing more is found (a few passes at most; one
/// when there is no secret), so redacting what was redacted changes
/// nothing.
pub fn redact(text: &str) -> Redaction<'_> {
    let found = find(text);
    if found.is_empty() {
        return Redaction {
            text: Cow::Borrowed(text),
            found,
        };
    }
    let (mut out, mut shown) = replace(text, found);
    for _ in 1..MAX_PASSES {
        let more = find(&out);
        if more.is_empty() {
            break;
        }
        shown.extend(more);
        (out, shown) = replace(&out, merge(shown));
    }
    Redaction {
        text: Cow::Owned(out),
        found: shown,
    }
}

/// The text with each span replaced by [`HIDDEN`], and where each now is.
fn replace(text: &str, found: Vec<Found>) -> (String, Vec<Found>) {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut shown = Vec::with_capacity(found.len());
    for f in found {
        out.push_str(text.get(at..f.at.start).unwrap_or(""));
        let start = out.len();
        out.push_str(HIDDEN);
        shown.push(Found {
            at: start..out.len(),
            ..f
        });
        at = f.at.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    (out, shown)
}

/// A command line with its secrets hidden ([`hide`], owned).
pub fn redact_command(line: &str) -> String {
    hide(line).into_owned()
}

/// Each argument of a command with its secrets hidden; an option in one
/// argument hides the value in the next (`["--password", "x"]`).
pub fn redact_args(args: &[String]) -> Vec<String> {
    // NUL separates the arguments; one that holds a NUL itself (an engine
    // may say anything) is redacted on its own.
    if args.iter().any(|a| a.contains('\0')) {
        return args.iter().map(|a| redact_command(a)).collect();
    }
    let joined = args.join("\0");
    match hide(&joined) {
        Cow::Borrowed(_) => args.to_vec(),
        Cow::Owned(s) => s.split('\0').map(str::to_string).collect(),
    }
}

/// A label's value as it may be shown: all of it hidden when its key
/// names a secret, otherwise the secrets in it hidden.
pub fn label_value<'a>(key: &str, value: &'a str) -> Cow<'a, str> {
    if key_reason(key).is_some() && !is_placeholder(value) {
        Cow::Borrowed(HIDDEN)
    } else {
        hide(value)
    }
}

/// The secrets of a label: the key's reason when the key names one,
/// otherwise what [`redact`] finds in its value.
pub fn label_secrets(key: &str, value: &str) -> Vec<Kind> {
    if value.is_empty() || is_placeholder(value) {
        return Vec::new();
    }
    if let Some(reason) = key_reason(key) {
        return vec![Kind::Keyed(reason)];
    }
    redact(value).kinds()
}

/// Every secret in a text, in order, none overlapping.
pub fn find(text: &str) -> Vec<Found> {
    let mut raw = shapes(text);
    raw.extend(pairs(text));
    raw.extend(options(text));
    merge(raw)
}

/// The secrets recognised by their shape alone (tokens, private keys,
/// JWTs, URL passwords), merged: what a file's content is searched for.
pub fn shapes(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut raw = private_keys(text);
    raw.extend(tokens(b));
    raw.extend(url_passwords(text));
    merge(raw)
}

/// Sort, and join spans that overlap or touch, keeping the most telling
/// kind.
fn merge(mut raw: Vec<Found>) -> Vec<Found> {
    raw.sort_by_key(|f| (f.at.start, std::cmp::Reverse(f.at.end)));
    let mut out: Vec<Found> = Vec::with_capacity(raw.len());
    for f in raw {
        if f.at.is_empty() {
            continue;
        }
        if let Some(last) = out.last_mut()
            && f.at.start <= last.at.end
        {
            last.at.end = last.at.end.max(f.at.end);
            if f.kind.rank() > last.kind.rank() {
                last.kind = f.kind;
            }
            if last.key.is_none() {
                last.key = f.key;
            }
            continue;
        }
        out.push(f);
    }
    out
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

// ---------------------------------------------------------------- tokens

/// A token format: its prefixes, the characters and length after them.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenShape {
    prefixes: &'static [&'static str],
    class: Class,
    /// At least this many characters after the prefix.
    min: usize,
    /// Exactly this many (then a boundary), when set.
    exact: Option<usize>,
    /// Needs an upper-case letter, a lower-case letter and a digit.
    mixed: bool,
    /// `GitHub token`.
    pub kind: &'static str,
    /// `a GitHub token`.
    pub a: &'static str,
    /// `value looks like a GitHub token` (the whole value is one).
    pub looks: &'static str,
    /// `value holds a GitHub token` (somewhere in it).
    pub holds: &'static str,
}

/// Which bytes a token's body is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `A-Za-z0-9`
    Alnum,
    /// `A-Za-z0-9_-`
    Url,
    /// `A-Za-z0-9_`
    Word,
    /// `A-Z0-9`
    Upper,
    /// `A-Za-z0-9-`
    Dash,
}

impl Class {
    fn has(self, b: u8) -> bool {
        match self {
            Self::Alnum => b.is_ascii_alphanumeric(),
            Self::Url => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
            Self::Word => b.is_ascii_alphanumeric() || b == b'_',
            Self::Upper => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Self::Dash => b.is_ascii_alphanumeric() || b == b'-',
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The end of the run of a class from a position, remembered per class so
/// that the positions inside one run cost nothing more: linear in all.
#[derive(Default)]
struct Runs {
    /// Per class: a run `[start, end)` computed last.
    last: [(usize, usize); 5],
}

impl Runs {
    fn end(&mut self, b: &[u8], from: usize, class: Class) -> usize {
        let (s, e) = self.last[class.index()];
        if from >= s && from < e {
            return e;
        }
        let mut end = from;
        while end < b.len() && class.has(b[end]) {
            end += 1;
        }
        self.last[class.index()] = (from, end);
        end
    }
}

macro_rules! token {
    ($p:expr, $class:ident, $min:expr, $exact:expr, $mixed:expr, $kind:literal, $a:literal) => {
        TokenShape {
            prefixes: $p,
            class: Class::$class,
            min: $min,
            exact: $exact,
            mixed: $mixed,
            kind: $kind,
            a: concat!($a, " ", $kind),
            looks: concat!("value looks like ", $a, " ", $kind),
            holds: concat!("value holds ", $a, " ", $kind),
        }
    };
}

/// The token formats, most specific first.
static TOKENS: &[TokenShape] = &[
    token!(
        &["AKIA", "ASIA", "ABIA", "ACCA"],
        Upper,
        16,
        Some(16),
        false,
        "AWS access key id",
        "an"
    ),
    token!(
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        Alnum,
        30,
        None,
        false,
        "GitHub token",
        "a"
    ),
    token!(&["github_pat_"], Word, 30, None, false, "GitHub token", "a"),
    token!(
        &["glpat-", "gldt-", "glrt-", "glptt-"],
        Url,
        20,
        None,
        false,
        "GitLab token",
        "a"
    ),
    token!(
        &[
            "xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-", "xoxe-", "xapp-"
        ],
        Dash,
        10,
        None,
        false,
        "Slack token",
        "a"
    ),
    token!(&["npm_"], Alnum, 36, None, false, "npm token", "an"),
    token!(
        &["pypi-AgEIcHlwaS5vcmc"],
        Url,
        50,
        None,
        false,
        "PyPI token",
        "a"
    ),
    token!(
        &["dckr_pat_"],
        Url,
        27,
        None,
        false,
        "Docker Hub token",
        "a"
    ),
    token!(&["hf_"], Alnum, 34, None, true, "Hugging Face token", "a"),
    token!(&["AIza"], Url, 35, Some(35), false, "Google API key", "a"),
    token!(
        &[
            "sk_live_", "rk_live_", "sk_test_", "rk_test_", "sk_prod_", "rk_prod_"
        ],
        Alnum,
        16,
        None,
        false,
        "Stripe key",
        "a"
    ),
    token!(&["sk-"], Url, 32, None, true, "API secret key", "an"),
];

/// Upper, lower and digit among the first bytes of a run.
fn mixed(run: &[u8]) -> bool {
    let run = &run[..run.len().min(256)];
    run.iter().any(u8::is_ascii_uppercase)
        && run.iter().any(u8::is_ascii_lowercase)
        && run.iter().any(u8::is_ascii_digit)
}

/// A token starting at `i`: its end and shape.
fn token_at(b: &[u8], i: usize, runs: &mut Runs) -> Option<(usize, &'static TokenShape)> {
    let rest = &b[i..];
    for t in TOKENS {
        let Some(p) = t.prefixes.iter().find(|p| rest.starts_with(p.as_bytes())) else {
            continue;
        };
        let body = i + p.len();
        let end = runs.end(b, body, t.class);
        let n = end - body;
        let fits = match t.exact {
            Some(x) => n == x && b.get(end).is_none_or(|&c| !c.is_ascii_alphanumeric()),
            None => n >= t.min,
        };
        if fits && (!t.mixed || mixed(&b[body..end])) {
            return Some((end, t));
        }
    }
    None
}

/// A JSON Web Token starting at `i` (`eyJ…` `.` `ey…` `.` signature): its
/// end.
fn jwt_at(b: &[u8], i: usize, runs: &mut Runs) -> Option<usize> {
    if !b[i..].starts_with(b"eyJ") {
        return None;
    }
    let h = runs.end(b, i, Class::Url);
    if h - i < 10 || b.get(h) != Some(&b'.') || !b[h + 1..].starts_with(b"ey") {
        return None;
    }
    let p = runs.end(b, h + 1, Class::Url);
    if p - (h + 1) < 10 || b.get(p) != Some(&b'.') {
        return None;
    }
    let mut s = runs.end(b, p + 1, Class::Url);
    while s < b.len() && b[s] == b'=' {
        s += 1;
    }
    (s - i >= 30).then_some(s)
}

/// Tokens and JSON Web Tokens, at word boundaries.
fn tokens(b: &[u8]) -> Vec<Found> {
    // The first two bytes of every prefix: most words are passed over on
    // their first two bytes.
    const STARTS: [&[u8; 2]; 17] = [
        b"AK", b"AS", b"AB", b"AC", b"AI", b"gh", b"gi", b"gl", b"xo", b"xa", b"np", b"py", b"dc",
        b"hf", b"sk", b"rk", b"ey",
    ];
    let mut out = Vec::new();
    let mut runs = Runs::default();
    let mut i = 0;
    while i < b.len() {
        // To the start of the next word (a word boundary).
        if !is_word(b[i]) {
            i += 1;
            continue;
        }
        let candidate = b
            .get(i..i + 2)
            .is_some_and(|two| STARTS.iter().any(|s| s.as_slice() == two));
        if candidate {
            if let Some(end) = jwt_at(b, i, &mut runs) {
                out.push(Found {
                    at: i..end,
                    kind: Kind::Jwt,
                    key: None,
                });
                i = end;
                continue;
            }
            if let Some((end, t)) = token_at(b, i, &mut runs) {
                out.push(Found {
                    at: i..end,
                    kind: Kind::Token(t),
                    key: None,
                });
                i = end;
                continue;
            }
        }
        // Past this word: no token starts inside it.
        while i < b.len() && is_word(b[i]) {
            i += 1;
        }
    }
    out
}

/// The tokens and JSON Web Tokens of a text, by their shapes alone.
pub fn tokens_in(text: &str) -> Vec<Found> {
    tokens(text.as_bytes())
}

// ---------------------------------------------------------- private keys

/// Private key blocks with a body: from `-----BEGIN` to the end of its
/// `-----END …-----` line (or of the text, or of the argument, when there
/// is none).
fn private_keys(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    // The first NUL at or after `at` (moves forward only: linear).
    let mut nul = 0;
    while let Some(off) = text.get(at..).and_then(|t| t.find("-----BEGIN ")) {
        let begin = at + off;
        let label_start = begin + 11;
        let Some(dash) = text[label_start..].find("-----") else {
            break;
        };
        let label = &text[label_start..label_start + dash];
        let body_start = label_start + dash + 5;
        at = body_start;
        if label.len() > 40 || !(label.ends_with("PRIVATE KEY") || label == "PGP PRIVATE KEY BLOCK")
        {
            continue;
        }
        // A header with no key material after it is a mention: go on
        // looking right after it (another block may follow).
        if !key_body(&text[body_start..]) {
            continue;
        }
        // An argument (NUL-separated) ends the block when nothing else does.
        if nul < body_start {
            nul = b[body_start..]
                .iter()
                .position(|&c| c == 0)
                .map_or(b.len(), |p| body_start + p);
        }
        let limit = nul;
        let end = match text[body_start..limit].find("-----END") {
            Some(e) => {
                let e = body_start + e;
                text[e + 8..limit]
                    .find("-----")
                    .map_or(limit, |c| e + 8 + c + 5)
            }
            None => limit,
        };
        out.push(Found {
            at: begin..end,
            kind: Kind::PrivateKey,
            key: None,
        });
        at = end.max(at);
    }
    out
}

/// Whether what follows a private key's header is key material: after
/// any `Name: value` header lines (an encrypted PEM's `Proc-Type:`), 32
/// base64 characters, line breaks (or their `\n` escapes) aside. A header
/// with no body, or with prose after it, is a mention (documentation), not
/// a key.
fn key_body(body: &str) -> bool {
    let mut rest = body.trim_start();
    // Header lines are short: look no further than 256 bytes for each.
    for _ in 0..8 {
        let window = &rest.as_bytes()[..rest.len().min(256)];
        let Some(nl) = window.iter().position(|&c| c == b'\n') else {
            break;
        };
        let header = rest[..nl].split_once(": ").is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        });
        if !header {
            break;
        }
        rest = rest[nl + 1..].trim_start();
    }
    let mut n = 0;
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == '\\' && chars.peek() == Some(&'n') {
            chars.next();
            continue;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')) {
            return false;
        }
        n += 1;
        if n >= 32 {
            return true;
        }
    }
    false
}

// ------------------------------------------------------------------ URLs

/// The password of each `scheme://user:password@host` (even one that is
/// a token too: [`shapes`] names that one by the token's kind).
pub fn url_passwords(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|t| t.find("://")) {
        i += off;
        // The scheme: letters, digits, `+.-`, starting with a letter.
        let mut s = i;
        while s > 0
            && i - s < 32
            && (b[s - 1].is_ascii_alphanumeric() || b"+.-".contains(&b[s - 1]))
        {
            s -= 1;
        }
        let scheme_ok = i - s >= 2 && b[s].is_ascii_alphabetic();
        let auth = i + 3;
        let mut end = auth;
        while end < b.len() && !b"/?#\"'`<>\\ \t\r\n\0".contains(&b[end]) {
            end += 1;
        }
        if scheme_ok && let Some(at) = b[auth..end].iter().rposition(|&c| c == b'@') {
            let at = auth + at;
            if let Some(colon) = b[auth..at].iter().position(|&c| c == b':') {
                let pw = auth + colon + 1..at;
                let placeholder = std::str::from_utf8(&b[pw.clone()]).map_or(true, is_placeholder);
                if !pw.is_empty() && !placeholder {
                    out.push(Found {
                        at: pw,
                        kind: Kind::UrlPassword,
                        key: None,
                    });
                }
            }
        }
        // The next `://` may sit inside this authority (`a://b:c@d://…`);
        // each authority ends at the next `/`, so this stays linear.
        i += 3;
    }
    out
}

/// Whether a value has a URL with a password in it.
pub fn url_has_password(v: &str) -> bool {
    !url_passwords(v).is_empty()
}

// ----------------------------------------------------------------- pairs

/// Where unquoted values end: at whitespace, a quote, or one of a few
/// more bytes depending on the syntax (`,}]` in JSON and YAML flow, `&#`
/// in a URL's query). Remembered per stop set, as [`Runs`] does, so the
/// many `=` of one long word cost one scan.
#[derive(Default)]
struct Ends {
    last: [(usize, usize); 3],
}

const STOP_SETS: [&[u8]; 3] = [b"", b",}]", b"&#"];

impl Ends {
    fn end(&mut self, b: &[u8], from: usize, set: usize) -> usize {
        let (s, e) = self.last[set];
        let end = if from >= s && from < e {
            e
        } else {
            let stops = STOP_SETS[set];
            let mut e = from;
            while e < b.len()
                && !is_space(b[e])
                && !b"\"'`".contains(&b[e])
                && !stops.contains(&b[e])
            {
                e += 1;
            }
            self.last[set] = (from, e);
            e
        };
        // Shell punctuation after the value is not part of it.
        let mut e = end;
        while e > from && end - e < 64 && b";&|),".contains(&b[e - 1]) {
            e -= 1;
        }
        e
    }
}

/// A value that is a path to a secret rather than the secret
/// (`--tls-key /certs/key.pem`, `PASSWORD=./pw.txt`).
fn is_path(v: &str) -> bool {
    (v.starts_with('/') || v.starts_with("./") || v.starts_with("~/") || v.starts_with("../"))
        && !v.contains(char::is_whitespace)
}

/// A free-text value that looks like a credential rather than a word of
/// prose (`token: rotated weekly` is not one; `password: hunter2` is).
fn credible(v: &str) -> bool {
    v.len() >= 4
        && (v.bytes().any(|b| b.is_ascii_digit())
            || (v.bytes().any(|b| b.is_ascii_uppercase())
                && v.bytes().any(|b| b.is_ascii_lowercase()))
            || v.bytes().any(|b| b.is_ascii_punctuation()))
}

/// `KEY=value`, `key: value`, `"key": "value"`, `key = value` whose key
/// names a secret (or, for an `IDENT=value` assignment, whose value looks
/// random); `Authorization: Bearer x`.
fn pairs(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut ends = Ends::default();
    let mut j = 0;
    while j < b.len() {
        if b[j] != b'=' && b[j] != b':' {
            j += 1;
            continue;
        }
        match pair_at(text, j, &mut ends) {
            Some(f) => {
                j = f.at.end.max(j + 1);
                out.push(f);
            }
            None => j += 1,
        }
    }
    out
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_.-".contains(&c)
}

/// Why a key makes its value a secret, decided before its value is read.
enum Because {
    Authorization,
    Key(&'static str),
    /// An identifier whose value may look random.
    Ident,
}

fn pair_at(text: &str, j: usize, ends: &mut Ends) -> Option<Found> {
    let b = text.as_bytes();
    let sep = b[j];
    let next = b.get(j + 1).copied();
    let comparison = sep == b'=' && (next == Some(b'=') || j > 0 && b"=!<>".contains(&b[j - 1]));
    if (sep == b':' && next == Some(b'/')) || comparison {
        return None;
    }
    // The key: back over spaces (`key = value`) or a closing quote
    // (`"key": …`), then its characters.
    let mut k_end = j;
    let mut spaced = false;
    while k_end > 0 && j - k_end < 4 && (b[k_end - 1] == b' ' || b[k_end - 1] == b'\t') {
        k_end -= 1;
        spaced = true;
    }
    let quoted_key = k_end > 0 && (b[k_end - 1] == b'"' || b[k_end - 1] == b'\'');
    if quoted_key {
        k_end -= 1;
    }
    let mut k_start = k_end;
    while k_start > 0 && k_end - k_start <= 64 && is_key_byte(b[k_start - 1]) {
        // A run of dashes or dots inside a word separates (`KEY-----a`,
        // `x..y`); leading dashes are an option's (`--password`).
        let c = b[k_start - 1];
        if (c == b'-' || c == b'.') && k_start >= 2 && b[k_start - 2] == c {
            let mut r = k_start - 1;
            while r > 0 && b[r - 1] == c {
                r -= 1;
            }
            if c == b'-' && (r == 0 || !is_key_byte(b[r - 1])) {
                k_start = r;
            }
            break;
        }
        k_start -= 1;
    }
    if k_start == k_end || k_end - k_start > 64 {
        return None;
    }
    let key = &text[k_start..k_end];
    let bare = key.trim_start_matches('-');
    let first = *bare.as_bytes().first()?;
    // A key starts with a letter or `_`.
    if (!first.is_ascii_alphabetic() && first != b'_') || bare.ends_with(['-', '.']) {
        return None;
    }
    let because = if bare.eq_ignore_ascii_case("authorization")
        || bare.eq_ignore_ascii_case("proxy-authorization")
    {
        Because::Authorization
    } else if let Some(reason) = key_reason(bare) {
        Because::Key(reason)
    } else if sep == b'='
        && !spaced
        && !quoted_key
        && bare.len() == key.len()
        && bare.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
    {
        Because::Ident
    } else {
        return None;
    };
    // A URL's query (`?token=x&y=1`) ends a value at `&`.
    let set = if k_start > 0 && b"?&".contains(&b[k_start - 1]) {
        2
    } else if sep == b':' {
        1
    } else {
        0
    };
    // The value: after spaces, quoted or up to the next space.
    let mut v = j + 1;
    while v < b.len() && (b[v] == b' ' || b[v] == b'\t') {
        v += 1;
        spaced = true;
    }
    if matches!(because, Because::Authorization) {
        // `Authorization: Bearer x`: the scheme word is not the secret.
        let w = ends.end(b, v, set);
        if w > v && b[v..w].iter().all(u8::is_ascii_alphabetic) && b.get(w) == Some(&b' ') {
            v = w;
            while v < b.len() && b[v] == b' ' {
                v += 1;
            }
        }
    }
    let (vs, ve, quoted) = match b.get(v) {
        Some(&q) if q == b'"' || q == b'\'' => {
            let close = b[v + 1..]
                .iter()
                .position(|&c| c == q || c == b'\n' || c == 0)
                .map_or(b.len(), |p| v + 1 + p);
            (v + 1, close, true)
        }
        Some(_) => (v, ends.end(b, v, set), false),
        None => return None,
    };
    let value = text.get(vs..ve)?;
    if value.is_empty() || is_placeholder(value) || is_path(value) {
        return None;
    }
    let kind = match because {
        Because::Authorization => Kind::Keyed("key is an Authorization header"),
        // Prose (`token: rotated weekly`) is not an assignment.
        Because::Key(_) if (spaced || sep == b':') && !quoted && !credible(value) => return None,
        Because::Key(reason) => Kind::Keyed(reason),
        Because::Ident if looks_random(value) => Kind::HighEntropy,
        Because::Ident => return None,
    };
    Some(Found {
        at: vs..ve,
        kind,
        key: Some(key.to_string()),
    })
}

// --------------------------------------------------------------- options

/// Programs whose `-pVALUE` is a password.
const MYSQL: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqladmin",
    "mysqlimport",
    "mysqlshow",
    "mysqlcheck",
    "mariadb",
    "mariadb-dump",
    "mariadb-admin",
    "mysqlpump",
];

/// The words of a text (split at whitespace and NUL), with their places.
fn words(b: &[u8]) -> Vec<(usize, usize, bool)> {
    // (start, end, a line break before it)
    let mut out = Vec::new();
    let mut i = 0;
    let mut newline = false;
    while i < b.len() {
        if is_space(b[i]) {
            newline |= b[i] == b'\n';
            i += 1;
            continue;
        }
        let s = i;
        while i < b.len() && !is_space(b[i]) {
            i += 1;
        }
        out.push((s, i, newline));
        newline = false;
    }
    out
}

/// The value after a secret option (`--password x`), and the password
/// options of a few programs (`mysql -pX`, `sshpass -p X`, `curl -u
/// user:X`, `docker login -p X`). A command's context ends at `;`, `&&`,
/// `||`, `|` or a line break.
fn options(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let ws = words(b);
    let mut out = Vec::new();
    let (mut mysql, mut sshpass, mut curl, mut login) = (false, false, false, false);
    let mut i = 0;
    while i < ws.len() {
        let (s, e, newline) = ws[i];
        if newline {
            (mysql, sshpass, curl, login) = (false, false, false, false);
        }
        let raw = &text[s..e];
        let word = raw.trim_matches(|c| c == '"' || c == '\'');
        let program = word.rsplit('/').next().unwrap_or(word);
        if MYSQL.contains(&program) {
            mysql = true;
        }
        sshpass |= program == "sshpass";
        curl |= program == "curl";
        login |= program == "login" && i > 0 && {
            let (ps, pe, _) = ws[i - 1];
            let prev = text[ps..pe].trim_matches(|c| c == '"' || c == '\'');
            matches!(
                prev.rsplit('/').next(),
                Some("docker" | "podman" | "buildah" | "skopeo" | "nerdctl" | "helm")
            )
        };
        // The next word as a value (not an option, not a placeholder).
        let next_value = |at: usize| -> Option<(usize, usize)> {
            let &(ns, ne, _) = ws.get(at)?;
            let t = &text[ns..ne];
            let v = t.trim_matches(|c| c == '"' || c == '\'');
            let v = v.trim_end_matches([';', '&', '|', ')']);
            // Where the value starts inside its quotes.
            let q = v.as_ptr() as usize - t.as_ptr() as usize;
            (!v.is_empty() && !v.starts_with('-') && !is_placeholder(v) && !is_path(v))
                .then(|| (ns + q, ns + q + v.len()))
        };
        // Where the word starts inside its quotes.
        let at = s + (word.as_ptr() as usize - raw.as_ptr() as usize);
        let mut push = |range: Range<usize>, kind: Kind, key: &str| {
            out.push(Found {
                at: range,
                kind,
                key: Some(key.to_string()),
            })
        };
        if word.starts_with('-') && !word.contains('=') && word.len() > 1 {
            let name = word.trim_start_matches('-');
            if key_reason(name).is_some() {
                if let Some((vs, ve)) = next_value(i + 1) {
                    push(vs..ve, Kind::Option, word);
                    i += 2;
                    continue;
                }
            } else if (curl && (word == "-u" || word == "--user"))
                && let Some((vs, ve)) = next_value(i + 1)
                && let Some(c) = text[vs..ve].find(':')
            {
                if vs + c + 1 < ve && !is_placeholder(&text[vs + c + 1..ve]) {
                    push(vs + c + 1..ve, Kind::PasswordOption, word);
                }
                i += 2;
                continue;
            } else if ((sshpass || login) && word == "-p")
                && let Some((vs, ve)) = next_value(i + 1)
            {
                push(vs..ve, Kind::PasswordOption, word);
                i += 2;
                continue;
            } else if (mysql || sshpass)
                && word.len() > 2
                && word.starts_with("-p")
                && !word.starts_with("--")
            {
                let v = word[2..].trim_end_matches([';', '&', '|', ')', '"', '\'']);
                if !is_placeholder(v) {
                    push(at + 2..at + 2 + v.len(), Kind::PasswordOption, "-p");
                }
            }
        }
        // The end of one command.
        if matches!(word, ";" | "&&" | "||" | "|") || raw.ends_with([';', '|', '&']) {
            (mysql, sshpass, curl, login) = (false, false, false, false);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    const GH: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

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
            (
                "dockerd --tls-key /certs/key.pem",
                "dockerd --tls-key /certs/key.pem",
            ),
            (
                "sshpass -p hunter2 ssh host",
                "sshpass -p <hidden> ssh host",
            ),
            (
                "curl -u admin:s3cret https://x && tar -p x",
                "curl -u admin:<hidden> https://x && tar -p x",
            ),
            (
                "docker login -u bot -p hunter2 r.io",
                "docker login -u bot -p <hidden> r.io",
            ),
            (
                "curl -H 'Authorization: Bearer abc.def-123' x",
                "curl -H 'Authorization: Bearer <hidden>' x",
            ),
            (
                "mysqldump -pX1 db; grep -p y",
                "mysqldump -p<hidden> db; grep -p y",
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(redact_command(raw), want, "{raw}");
        }
        assert_eq!(
            redact_args(&["sh".into(), "-c".into(), "PASS=x run".into()]),
            ["sh", "-c", "PASS=<hidden> run"]
        );
        // An option in one argument, its value in the next.
        assert_eq!(
            redact_args(&["mysqld".into(), "--password".into(), "hunter2".into()]),
            ["mysqld", "--password", "<hidden>"]
        );
    }

    #[test]
    fn secrets_embedded_in_free_text() {
        let cases: &[(&str, &str, &str)] = &[
            (
                &format!("rotated {GH} on monday"),
                "rotated <hidden> on monday",
                "a GitHub token",
            ),
            (
                "key AKIAIOSFODNN7EXAMPLE.",
                "key <hidden>.",
                "an AWS access key id",
            ),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "aws_secret_access_key = <hidden>",
                "a value whose key names a secret",
            ),
            (
                "see glpat-abcdefghij0123456789 there",
                "see <hidden> there",
                "a GitLab token",
            ),
            (
                "hook xoxb-1234-5678-abcdef",
                "hook <hidden>",
                "a Slack token",
            ),
            (
                "npm_abcdefghijklmnopqrstuvwxyz0123456789",
                "<hidden>",
                "an npm token",
            ),
            (
                "maps AIzaSyA1234567890abcdefghijklmnopqrstuv!",
                "maps <hidden>!",
                "a Google API key",
            ),
            (
                "pay sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                "pay <hidden>",
                "a Stripe key",
            ),
            (
                "ai sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
                "ai <hidden>",
                "an API secret key",
            ),
            (
                "jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end",
                "jwt=<hidden> end",
                "a JSON Web Token",
            ),
            (
                "db at redis://:hunter2@cache:6379/0",
                "db at redis://:<hidden>@cache:6379/0",
                "a password in a URL",
            ),
            (
                r#"{"user":"bob","password":"hunter 2"}"#,
                r#"{"user":"bob","password":"<hidden>"}"#,
                "a value whose key names a secret",
            ),
            (
                "config: apiKey=abc123def",
                "config: apiKey=<hidden>",
                "a value whose key names a secret",
            ),
            (
                "k -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY----- after",
                "k <hidden> after",
                "a private key",
            ),
            (
                "https://example.com/hook?token=Zx8f2Qm9&x=1",
                "https://example.com/hook?token=<hidden>&x=1",
                "a value whose key names a secret",
            ),
        ];
        for (raw, want, kind) in cases {
            let r = redact(raw);
            assert_eq!(r.text, *want, "{raw}");
            assert_eq!(r.kinds()[0].describe(), *kind, "{raw}");
            assert_eq!(hide(&r.text), r.text, "idempotent: {raw}");
        }
    }

    #[test]
    fn routine_label_and_command_text_is_left_alone() {
        for s in [
            "4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "123e4567-e89b-12d3-a456-426614174000",
            "https://github.com/acme/app/tree/4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            "org.opencontainers.image.revision=4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            "the deploy token: rotated weekly",
            "Password: must be 8 characters",
            "require_password: true",
            "TOKEN=${TOKEN} PASSWORD=<password> KEY={{ .key }}",
            "postgres://app:${DB_PASSWORD}@db/app",
            "postgres://app@db/app",
            "git@github.com:acme/app.git",
            "Put your key between -----BEGIN RSA PRIVATE KEY----- and -----END RSA PRIVATE KEY-----.",
            "sk-learn-compat-extensions-for-python",
            "task-runner xoxo- hf_small",
            "if [ \"$a\" == \"b\" ]; then x; fi",
            "secretKeyRef: {name: db, key: password}",
            "nginx -g 'daemon off;'",
            "/bin/sh -c #(nop)  CMD [\"nginx\"]",
            "time 10:30:00, image nginx:1.25, [::1]:80",
            "ünïcödé 名前 😀 password",
        ] {
            assert!(matches!(hide(s), Cow::Borrowed(_)), "{s} → {}", hide(s));
        }
    }

    #[test]
    fn spots_name_where_never_what() {
        let r = redact("mysqld --password hunter2value && curl https://admin:s3cretpw@example.com");
        let spots: Vec<String> = r.spots().into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            spots,
            ["--password <hidden>", "https://admin:<hidden>@example.com"]
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
            "apiKey",
            "clientSecret",
            "_authToken",
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
            "passwordFile",
            "tokenUrl",
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
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeL",
                "private key",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "AWS access key"),
            (GH, "GitHub"),
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
        assert_eq!(
            classify("NOTE", &format!("rotated {GH}")),
            Some("value holds a GitHub token")
        );
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
    fn labels_hide_by_key_or_by_what_they_hold() {
        assert_eq!(label_value("api_token", "x1"), HIDDEN);
        assert_eq!(label_value("api_token", ""), "");
        assert_eq!(
            label_value("deploy.note", &format!("rotated {GH}")),
            "rotated <hidden>"
        );
        assert_eq!(
            label_value("maintainer", "ops@example.com"),
            "ops@example.com"
        );
        assert_eq!(
            label_secrets("deploy.note", &format!("rotated {GH}"))[0].describe(),
            "a GitHub token"
        );
        assert!(
            label_secrets(
                "org.opencontainers.image.revision",
                "4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"
            )
            .is_empty()
        );
    }

    #[test]
    fn hostile_sizes_stay_linear() {
        // Many starts of a token or key inside one long run, and many keys.
        for s in [
            "sk-".repeat(30_000),
            "PASSWORD=".repeat(10_000),
            "a://".repeat(20_000),
            "-----BEGIN PRIVATE KEY-----".repeat(3_000),
            format!("mysql {}", "-px ".repeat(20_000)),
        ] {
            let t = std::time::Instant::now();
            let r = hide(&s);
            assert_eq!(hide(&r), r);
            // Generous: a quadratic scan of these takes minutes.
            assert!(t.elapsed().as_secs() < 20, "{}", &s[..10]);
        }
    }

    /// Text a secret is planted in: words, punctuation, keys and quotes.
    fn filler() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[ a-zA-Z0-9_:=/@.,;'\"-]{0,40}").unwrap()
    }

    fn planted() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9]{36}".prop_map(|s| format!("ghp_{s}")),
            "[A-Z0-9]{16}".prop_map(|s| format!("AKIA{s}")),
            "[A-Za-z0-9_-]{20,30}".prop_map(|s| format!("glpat-{s}")),
            "[A-Za-z0-9]{36}".prop_map(|s| format!("npm_{s}")),
            "[A-Za-z0-9_-]{35}".prop_map(|s| format!("AIza{s}")),
        ]
    }

    proptest! {
        /// A planted token never survives, whatever surrounds it, and a
        /// second pass changes nothing.
        #[test]
        fn planted_tokens_never_survive(before in filler(), token in planted(), after in filler()) {
            let sep = |s: &str| if s.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') { " " } else { "" };
            let after_sep = if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-') { " " } else { "" };
            let text = format!("{before}{}{token}{after_sep}{after}", sep(&before));
            let once = hide(&text);
            prop_assert!(!once.contains(&token), "{text} → {once}");
            prop_assert_eq!(hide(&once), once.clone());
        }

        /// Any text: idempotent, and nothing is found in what it gives.
        #[test]
        fn idempotent_on_anything(s in "\\PC{0,200}") {
            let once = hide(&s).into_owned();
            prop_assert!(find(&once).is_empty(), "{} → {}", s, once);
        }

        /// Secret-like text: keys, options, URLs, quotes, programs.
        #[test]
        fn nothing_is_found_twice(parts in prop::collection::vec(prop_oneof![
            Just("PASSWORD="), Just("--token "), Just("mysql "), Just("-p"), Just("curl -u "),
            Just("a:b@"), Just("https://"), Just("\""), Just("'"), Just(" "), Just("\n"), Just(";"),
            Just("password: "), Just("Authorization: Bearer "), Just("ghp_"), Just("x7Y"),
            Just("<hidden>"), Just("${X}"), Just("="), Just(":"), Just("sshpass "), Just("\0"),
            Just("-----BEGIN RSA PRIVATE KEY-----"), Just("-----END RSA PRIVATE KEY-----"),
            Just("0123456789abcdefghijABCDEFGHIJ012345"), Just("AKIA"), Just("ABCDEFGH12345678"),
        ], 0..30)) {
            let s: String = parts.concat();
            let once = hide(&s).into_owned();
            prop_assert!(find(&once).is_empty(), "{:?} → {:?}", s, once);
        }
    }
}
