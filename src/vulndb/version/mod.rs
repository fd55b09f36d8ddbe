//! Version order, as each package manager defines it.
//!
//! - Debian and Ubuntu: dpkg's order (epochs, `~` before everything,
//!   letters before non-letters), by the `deb-version` crate — a property
//!   test checks it against `dpkg --compare-versions` itself.
//! - Alpine: apk's order, written here after apk-tools' `version.c` (there
//!   is no crate worth using), with a table test.
//! - RPM distributions ([`rpm`]), Maven ([`maven`]), PyPI (PEP 440), npm,
//!   crates.io and Go (semantic versions) ([`lang`]): each checked against
//!   the ecosystem's own tool through `tests/data/versions/oracle.tsv`,
//!   made by `scripts/version-oracles.sh` (rpm, maven-artifact, Python's
//!   `packaging`).

use std::cmp::Ordering;

pub mod lang;
pub mod maven;
pub mod rpm;

/// Which order a version string follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Debian's (dpkg) version order.
    Dpkg,
    /// Alpine's (apk) version order.
    Apk,
    /// rpm's `[epoch:]version[-release]` order.
    Rpm,
    /// PEP 440 (PyPI).
    Pep440,
    /// Semantic Versioning precedence (npm, crates.io, Go modules).
    Semver,
    /// Maven's `ComparableVersion`.
    Maven,
}

/// The OSV ecosystems (before the first `:`) whose versions are rpm's.
pub const RPM_ECOSYSTEMS: [&str; 9] = [
    "Red Hat",
    "AlmaLinux",
    "Rocky Linux",
    "openSUSE",
    "SUSE",
    "Mageia",
    "openEuler",
    "Photon OS",
    "Azure Linux",
];

impl Scheme {
    /// The scheme of an OSV ecosystem (`Debian:12`, `Alpine:v3.20`,
    /// `PyPI`, `Rocky Linux:9`, …).
    pub fn of(ecosystem: &str) -> Option<Self> {
        let base = ecosystem.split(':').next()?;
        match base {
            "Debian" | "Ubuntu" => Some(Self::Dpkg),
            "Alpine" => Some(Self::Apk),
            "PyPI" => Some(Self::Pep440),
            "npm" | "crates.io" | "Go" => Some(Self::Semver),
            "Maven" => Some(Self::Maven),
            _ if RPM_ECOSYSTEMS.contains(&base) => Some(Self::Rpm),
            _ => None,
        }
    }

    /// Compares two versions in this order. Total on any input: a version
    /// PEP 440 or semver cannot read compares by [`lang::natural`].
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Self::Dpkg => dpkg(a, b),
            Self::Apk => apk(a, b),
            Self::Rpm => rpm::compare(a, b),
            Self::Pep440 => lang::compare_pep440(a, b),
            Self::Semver => lang::compare_semver(a, b),
            Self::Maven => maven::compare(a, b),
        }
    }

    /// Whether this order's rules can read `v` (dpkg, apk, rpm and Maven
    /// order anything; PEP 440 and semver refuse what is not a version).
    pub fn parses(self, v: &str) -> bool {
        match self {
            Self::Pep440 => lang::pep440(v).is_some(),
            Self::Semver => lang::semver(v).is_some(),
            Self::Dpkg | Self::Apk | Self::Rpm | Self::Maven => true,
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
        assert_eq!(Scheme::of("PyPI"), Some(Scheme::Pep440));
        assert_eq!(Scheme::of("npm"), Some(Scheme::Semver));
        assert_eq!(Scheme::of("Go"), Some(Scheme::Semver));
        assert_eq!(Scheme::of("crates.io"), Some(Scheme::Semver));
        assert_eq!(Scheme::of("Maven"), Some(Scheme::Maven));
        assert_eq!(Scheme::of("Rocky Linux:9"), Some(Scheme::Rpm));
        assert_eq!(
            Scheme::of("Red Hat:enterprise_linux:9::baseos"),
            Some(Scheme::Rpm)
        );
        assert_eq!(Scheme::of("openSUSE:Leap 15.5"), Some(Scheme::Rpm));
        assert_eq!(Scheme::of("Fedora:39"), None);
        assert_eq!(Scheme::of("Hackage"), None);
    }

    /// rpm, Maven and PEP 440 agree with the ecosystems' own tools on
    /// every pair of the oracle table (hand-picked edge cases and 400
    /// random pairs each; `scripts/version-oracles.sh`).
    #[test]
    fn rpm_maven_and_pep440_agree_with_their_own_tools() {
        let table = include_str!("../../../tests/data/versions/oracle.tsv");
        let mut checked = std::collections::BTreeMap::<&str, usize>::new();
        let mut wrong = Vec::new();
        for line in table.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('\t').collect();
            let [scheme, a, b, verdict] = f[..] else {
                panic!("bad oracle line {line:?}");
            };
            let s = match scheme {
                "rpm" => Scheme::Rpm,
                "maven" => Scheme::Maven,
                "pep440" => Scheme::Pep440,
                other => panic!("unknown scheme {other}"),
            };
            let want = match verdict {
                "<" => Less,
                "=" => Equal,
                ">" => Greater,
                other => panic!("bad verdict {other}"),
            };
            *checked.entry(scheme).or_default() += 1;
            if s.compare(a, b) != want || s.compare(b, a) != want.reverse() {
                wrong.push(format!(
                    "{scheme}: {a} {verdict} {b}, shipshape says {:?}",
                    s.compare(a, b)
                ));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} disagreements:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        for scheme in ["rpm", "maven", "pep440"] {
            assert!(
                checked[scheme] >= 400,
                "{scheme}: only {} pairs",
                checked[scheme]
            );
        }
    }

    /// Semantic Versioning 2.0's own precedence example, npm's loose
    /// forms, Go's `v` prefix, pseudo-versions and `+incompatible`, and
    /// Go toolchain versions.
    #[test]
    fn semver_precedence_as_the_spec_and_go_define_it() {
        let spec = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in spec.windows(2) {
            assert_eq!(
                Scheme::Semver.compare(w[0], w[1]),
                Less,
                "{} < {}",
                w[0],
                w[1]
            );
        }
        for (a, b, o) in [
            ("v1.2.3", "1.2.3", Equal),
            ("=1.2.3", "1.2.3", Equal),
            ("1.2.3+build.5", "1.2.3", Equal),
            ("v2.0.0+incompatible", "v2.0.0", Equal),
            ("v2.0.1+incompatible", "v2.0.0", Greater),
            (
                "v0.0.0-20210101000000-abcdef123456",
                "v0.0.0-20220101000000-abcdef123456",
                Less,
            ),
            ("v0.0.0-20210101000000-abcdef123456", "v0.0.1", Less),
            ("v1.2.4-0.20210101000000-abcdef123456", "v1.2.3", Greater),
            ("v1.2.4-0.20210101000000-abcdef123456", "v1.2.4", Less),
            ("4.17.15", "4.17.21", Less),
            ("1.10.0", "1.9.0", Greater),
        ] {
            assert_eq!(Scheme::Semver.compare(a, b), o, "{a} vs {b}");
            assert_eq!(Scheme::Semver.compare(b, a), o.reverse(), "{b} vs {a}");
        }
        assert!(Scheme::Semver.parses("v1.2.3"));
        assert!(!Scheme::Semver.parses("1.2"));
        assert!(!Scheme::Pep440.parses("not a version"));
        assert_eq!(lang::go_toolchain("go1.21.3").as_deref(), Some("1.21.3"));
        assert_eq!(lang::go_toolchain("go1.21").as_deref(), Some("1.21.0"));
        assert_eq!(
            lang::go_toolchain("go1.22rc1").as_deref(),
            Some("1.22.0-rc1")
        );
        assert_eq!(lang::go_toolchain("devel +abc"), None);
        assert_eq!(lang::go_toolchain("go1..2"), None);
    }

    #[test]
    fn unreadable_versions_still_order_and_never_panic() {
        for s in [Scheme::Pep440, Scheme::Semver, Scheme::Maven, Scheme::Rpm] {
            for (a, b) in [
                ("", ""),
                ("ກ9K", "1.0"),
                ("-", "~"),
                ("1.0", "x"),
                ("..", "--"),
                ("^~^", ""),
            ] {
                assert_eq!(
                    s.compare(a, b),
                    s.compare(b, a).reverse(),
                    "{s:?} {a:?} {b:?}"
                );
                assert_eq!(s.compare(a, a), Equal);
            }
        }
        assert_eq!(lang::natural("1.10", "1.9"), Greater);
        assert_eq!(lang::natural("1.0", "1.0.0"), Less);
    }

    proptest::proptest! {
        /// Total and antisymmetric on anything.
        #[test]
        fn apk_is_total(a in "\\PC{0,20}", b in "[0-9._a-z-]{0,20}") {
            proptest::prop_assert_eq!(apk(&a, &b), apk(&b, &a).reverse());
            for s in [Scheme::Rpm, Scheme::Maven, Scheme::Pep440, Scheme::Semver] {
                proptest::prop_assert_eq!(s.compare(&a, &b), s.compare(&b, &a).reverse());
            }
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
