//! The version orders of language package registries: PEP 440 for PyPI
//! (by `pep440_rs`), Semantic Versioning 2.0 precedence for npm, crates.io
//! and Go modules (by `semver`; build metadata such as Go's
//! `+incompatible` does not order).
//!
//! A version the rules cannot read compares by [`natural`] instead, so
//! the order stays total; [`Scheme::parses`](super::Scheme::parses) tells
//! a matcher whether it can trust the answer.

use std::cmp::Ordering;
use std::str::FromStr;

/// A PEP 440 version (`1!2.0.post1.dev3+local`), normalised as pip does.
pub fn pep440(v: &str) -> Option<pep440_rs::Version> {
    pep440_rs::Version::from_str(v.trim()).ok()
}

/// PEP 440 order.
pub fn compare_pep440(a: &str, b: &str) -> Ordering {
    match (pep440(a), pep440(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => natural(a, b),
    }
}

/// A semantic version as registries write it: `v1.2.3` (Go), `=1.2.3` and
/// surrounding blanks (npm's loose form) accepted.
pub fn semver(v: &str) -> Option<semver::Version> {
    let v = v.trim();
    let v = v.strip_prefix('=').unwrap_or(v).trim_start();
    let v = v.strip_prefix('v').unwrap_or(v);
    semver::Version::parse(v).ok()
}

/// Semantic Versioning precedence (build metadata ignored).
pub fn compare_semver(a: &str, b: &str) -> Ordering {
    match (semver(a), semver(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        _ => natural(a, b),
    }
}

/// Go's toolchain versions as the Go vulnerability database writes them
/// for `stdlib` (`1.21.3`) from what a binary records (`go1.21.3`,
/// `go1.22rc1`, `go1.21`): the semantic version they stand for.
pub fn go_toolchain(v: &str) -> Option<String> {
    let v = v.trim().strip_prefix("go").unwrap_or(v.trim());
    let (num, pre) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let parts: Vec<&str> = num.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = parts.join(".");
    for _ in parts.len()..3 {
        out.push_str(".0");
    }
    if let Some(pre) = pre {
        out.push('-');
        out.push_str(pre);
    }
    semver::Version::parse(&out).ok().map(|_| out)
}

/// A total order for anything: runs of digits compare as numbers, other
/// runs as text. Only for versions no registry rule can read.
pub fn natural(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digit = first.is_ascii_digit();
            let end = rest
                .find(|c: char| c.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, after) = rest.split_at(end);
            rest = after;
            Some((digit, run))
        })
    }
    let mut x = runs(a.trim());
    let mut y = runs(b.trim());
    loop {
        let o = match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some((true, p)), Some((true, q))) => {
                let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                p.len().cmp(&q.len()).then_with(|| p.cmp(q))
            }
            (Some((_, p)), Some((_, q))) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
}
