//! Version order, as each package manager defines it.
//!
//! Debian and Ubuntu: dpkg's order (epochs, `~` before everything, letters
//! before non-letters), by the `deb-version` crate — a property test checks
//! it against `dpkg --compare-versions` itself. Alpine: apk's order,
//! written here after apk-tools' `version.c` (there is no crate worth
//! using), with a table test.

use std::cmp::Ordering;

/// Which order a version string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Debian's (dpkg) version order.
    Dpkg,
    /// Alpine's (apk) version order.
    Apk,
}

impl Scheme {
    /// The scheme of an OSV ecosystem (`Debian:12`, `Alpine:v3.20`, …).
    pub fn of(ecosystem: &str) -> Option<Self> {
        match ecosystem.split(':').next()? {
            "Debian" | "Ubuntu" => Some(Self::Dpkg),
            "Alpine" => Some(Self::Apk),
            _ => None,
        }
    }

    /// Compares two versions in this order.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Dpkg => dpkg(a, b),
            Self::Apk => apk(a, b),
        }
    }
}

/// dpkg's order. OSV writes "0" for "every version": below everything.
///
/// Debian versions are ASCII. The crate slices by byte and panics inside a
/// multi-byte character (found by fuzzing: versions come from the image's
/// own files), so anything else is compared as bytes — an order, if not
/// dpkg's, for versions dpkg itself would refuse.
pub fn dpkg(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        deb_version::compare_versions(a, b)
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

/// One piece of an apk version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    /// A suffix like `_alpha2`: ranks before the plain release.
    Pre(u8, u64),
    /// End of the version (a plain release).
    End,
    /// A number after `.`.
    Num(u64, String),
    /// A single letter after the numbers (`1.2.3a`).
    Letter(char),
    /// A suffix that ranks after the plain release (`_cvs`, `_p1`).
    Post(u8, u64),
    /// `-rN`.
    Rev(u64),
}

fn suffix_rank(s: &str) -> Option<(bool, u8)> {
    // apk-tools: alpha < beta < pre < rc < (release) < cvs < svn < git < hg < p
    Some(match s {
        "alpha" => (true, 0),
        "beta" => (true, 1),
        "pre" => (true, 2),
        "rc" => (true, 3),
        "cvs" => (false, 0),
        "svn" => (false, 1),
        "git" => (false, 2),
        "hg" => (false, 3),
        "p" => (false, 4),
        _ => return None,
    })
}

fn digits(s: &str) -> (u64, String, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let text = &s[..end];
    let value = text.parse().unwrap_or(u64::MAX);
    (value, text.to_string(), &s[end..])
}

/// Tokens of an apk version (`1.2.3a_rc1_p2-r4`). Anything it does not
/// understand ends the version (apk calls such versions invalid; they then
/// compare by what could be read).
fn tokens(v: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let v = v.trim();
    let (main, rev) = match v.rsplit_once("-r") {
        Some((m, r)) if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) => {
            (m, Some(r.parse::<u64>().unwrap_or(u64::MAX)))
        }
        _ => (v, None),
    };
    let mut rest = main;
    // Numbers separated by dots.
    loop {
        let (n, text, after) = digits(rest);
        if text.is_empty() {
            break;
        }
        out.push(Token::Num(n, text));
        rest = after;
        match rest.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    // One optional letter.
    if let Some(c) = rest.chars().next().filter(char::is_ascii_lowercase) {
        out.push(Token::Letter(c));
        rest = &rest[1..];
    }
    // Suffixes.
    while let Some(r) = rest.strip_prefix('_') {
        let name_end = r.find(|c: char| !c.is_ascii_lowercase()).unwrap_or(r.len());
        let Some((pre, rank)) = suffix_rank(&r[..name_end]) else {
            break;
        };
        let (n, _, after) = digits(&r[name_end..]);
        let n = if after.len() == r[name_end..].len() {
            0
        } else {
            n
        };
        out.push(if pre {
            Token::Pre(rank, n)
        } else {
            Token::Post(rank, n)
        });
        rest = after;
    }
    out.push(Token::End);
    if let Some(r) = rev {
        out.push(Token::Rev(r));
    }
    out
}

/// apk's order.
pub fn apk(a: &str, b: &str) -> Ordering {
    let (ta, tb) = (tokens(a), tokens(b));
    for (x, y) in ta.iter().zip(&tb) {
        let o = match (x, y) {
            // Numbers: numerically, except that a number with a leading
            // zero after the first is compared as a fraction (apk's rule).
            (Token::Num(na, sa), Token::Num(nb, sb)) => {
                let fraction =
                    (sa.starts_with('0') && sa.len() > 1) || (sb.starts_with('0') && sb.len() > 1);
                if fraction { sa.cmp(sb) } else { na.cmp(nb) }
            }
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    // A version with more numbers or suffixes is newer (`1.2.1` > `1.2`):
    // the shorter one has reached `End` where the longer one goes on.
    ta.len().cmp(&tb.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn dpkg_never_panics_on_what_an_image_may_hold() {
        for (a, b) in [
            ("ກ9K", "1.0"),
            ("1:€", "1"),
            (":", ""),
            ("a:b", "1"),
            ("-", "~"),
            ("", ""),
        ] {
            let _ = dpkg(a, b);
            let _ = dpkg(b, a);
        }
    }

    #[test]
    fn dpkg_order_examples() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("3.0.11-1~deb12u2", "3.0.11-1", Less),
            ("3.0.13-1~deb12u1", "3.0.11-1~deb12u2", Greater),
            ("1.2.13.dfsg-1", "1:1.2.13.dfsg-1", Less),
            ("0", "0.0.1-1", Less),
            ("12.2.0-14+b1", "12.2.0-14", Greater),
            ("1.0a", "1.0+", Less),
        ] {
            assert_eq!(dpkg(a, b), o, "{a} vs {b}");
        }
    }

    /// Cases after apk-tools' rules (suffix order, revisions, letters,
    /// leading zeros).
    #[test]
    fn apk_order_table() {
        for (a, b, o) in [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-r1", Less),
            ("1.0-r1", "1.0-r10", Less),
            ("2.0", "1.0", Greater),
            ("1.2.3-r0", "1.2.3_p1-r0", Less),
            ("1.2.3_rc1-r0", "1.2.3-r0", Less),
            ("1.2.3_alpha-r0", "1.2.3_beta-r0", Less),
            ("1.2.3_beta2", "1.2.3_beta10", Less),
            ("1.2.3a-r0", "1.2.3-r0", Greater),
            ("1.2.3a", "1.2.3b", Less),
            ("1.2", "1.2.1", Less),
            ("1.2.10", "1.2.9", Greater),
            ("3.3.1-r0", "3.3.1-r0", Equal),
            ("1.36.1-r29", "1.36.1-r30", Less),
            ("0", "1.36.1-r30", Less),
            ("1.0_git20240101", "1.0", Greater),
            ("1.0_pre1", "1.0_rc1", Less),
            ("1.01", "1.1", Less),
            ("6.4_p20231125-r0", "6.4_p20240330-r0", Less),
            ("3.0.12-r4", "3.0.12-r10", Less),
        ] {
            assert_eq!(apk(a, b), o, "{a} vs {b}");
            assert_eq!(apk(b, a), o.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn schemes_by_ecosystem() {
        assert_eq!(Scheme::of("Debian:12"), Some(Scheme::Dpkg));
        assert_eq!(Scheme::of("Ubuntu:22.04:LTS"), Some(Scheme::Dpkg));
        assert_eq!(Scheme::of("Alpine:v3.20"), Some(Scheme::Apk));
        assert_eq!(Scheme::of("PyPI"), None);
    }

    proptest::proptest! {
        /// Total and antisymmetric on anything.
        #[test]
        fn apk_is_total(a in "\\PC{0,20}", b in "[0-9._a-z-]{0,20}") {
            proptest::prop_assert_eq!(apk(&a, &b), apk(&b, &a).reverse());
            let _ = dpkg(&a, &b);
        }

        /// Regression (fuzzing): non-ASCII and odd ASCII never panic.
        #[test]
        fn dpkg_is_total(a in "\\PC{0,20}", b in "[ -~]{0,20}") {
            let _ = dpkg(&a, &b);
            proptest::prop_assert_eq!(dpkg(&b, &b), Ordering::Equal);
        }
    }
}
