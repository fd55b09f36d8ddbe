//! Which known vulnerabilities matter first — decided the way people
//! decide, and by what only a tool on the machine can see: is it known to
//! be exploited (CISA KEV), how likely is exploitation (EPSS), is a fix
//! out, and above all what the container that carries it does: is it
//! running, reachable through a published port, able to break out
//! (privileged, the engine socket), and is the vulnerable package **in
//! use** — an executable a process runs, a library it has mapped, a jar it
//! holds open (`/proc/<pid>/{exe,maps,fd}`, local engines). Pure: the
//! facts in, a score and its reasons out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::Severity;
use super::packages::{Ecosystem, FixState, Vulnerability};

/// Whether the vulnerable package is in use in a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "evidence", rename_all = "snake_case")]
pub enum InUse {
    /// A process runs, maps or holds open one of its files (named).
    Seen(String),
    /// The processes were looked at and none uses its files.
    NotSeen,
    /// Cannot be told, and why.
    Unknown(String),
}

/// What the container carrying a vulnerability does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// It runs now.
    pub running: bool,
    /// Its ports published on an address other than loopback
    /// (`0.0.0.0:8080→80/tcp`).
    pub published: Vec<String>,
    /// What lets a compromise leave the container (`privileged`, `holds
    /// the engine socket`).
    pub breakout: Vec<String>,
}

/// A vulnerability's priority in one container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    /// Higher first.
    pub score: u32,
    /// Whether its package is in use.
    pub in_use: InUse,
    /// Why, most important first (`known exploited (CISA KEV, ransomware)`,
    /// `in use: /usr/lib/x86_64-linux-gnu/libssl.so.3`, `running`,
    /// `reachable on 0.0.0.0:8080→80/tcp`).
    pub reasons: Vec<String>,
}

/// Whether `v`'s package is in use, from the files the container's
/// processes use (`None`: not read) and the image's file owners (path →
/// OS binary package).
pub fn in_use(
    v: &Vulnerability,
    files: Option<&BTreeSet<String>>,
    running: bool,
    owners: &BTreeMap<String, String>,
) -> InUse {
    if !running {
        return InUse::NotSeen;
    }
    let Some(files) = files else {
        return InUse::Unknown(
            "its processes cannot be looked at from here (a remote engine, or /proc not readable)"
                .into(),
        );
    };
    match v.ecosystem {
        Ecosystem::Os => {
            if owners.is_empty() {
                return InUse::Unknown("the image's package file lists were not read".into());
            }
            files
                .iter()
                .find(|f| owners.get(*f).is_some_and(|p| v.binaries.contains(p)))
                .map_or(InUse::NotSeen, |f| InUse::Seen(f.clone()))
        }
        // The executable it is compiled into, the archive it is in.
        Ecosystem::Go | Ecosystem::CratesIo | Ecosystem::Maven => v
            .binaries
            .iter()
            .map(|b| b.split('!').next().unwrap_or(b))
            .find(|b| files.contains(*b))
            .map_or(InUse::NotSeen, |b| InUse::Seen(b.to_string())),
        Ecosystem::PyPI | Ecosystem::Npm => InUse::Unknown(
            "an interpreter reads these packages' files and closes them: /proc does not show them"
                .into(),
        ),
    }
}

/// The priority of `v` in a container that does what `e` says.
pub fn rank(v: &Vulnerability, e: &Exposure, used: InUse) -> Priority {
    let mut score = match v.severity {
        Severity::Critical => 40,
        Severity::High => 30,
        Severity::Medium => 20,
        Severity::Low => 10,
        Severity::Info => 0,
    };
    let mut reasons = Vec::new();
    if let Some(k) = &v.kev {
        score += 60;
        reasons.push(if k.ransomware {
            "known exploited (CISA KEV, used by ransomware)".to_string()
        } else {
            "known exploited (CISA KEV)".to_string()
        });
    }
    if let Some(p) = v.epss {
        score += (p.percentile * 20.0).round() as u32;
        if p.score >= 0.1 {
            reasons.push(format!(
                "EPSS {:.0}% likely exploited within 30 days",
                p.score * 100.0
            ));
        }
    }
    match &used {
        InUse::Seen(what) => {
            score += 40;
            reasons.push(format!("in use: {what}"));
        }
        InUse::NotSeen if e.running => {
            reasons.push("not seen in use".into());
        }
        _ => {}
    }
    if e.running {
        score += 20;
        reasons.push("running".into());
    } else {
        reasons.push("not running".into());
    }
    if !e.published.is_empty() {
        score += 20;
        reasons.push(format!("reachable on {}", e.published.join(", ")));
    }
    if !e.breakout.is_empty() {
        score += 15;
        reasons.push(format!(
            "a way out of the container: {}",
            e.breakout.join(", ")
        ));
    }
    if v.state == FixState::Fixed {
        score += 5;
        if let Some(f) = &v.fixed {
            reasons.push(format!("fixed in {f}"));
        }
    }
    Priority {
        score,
        in_use: used,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::packages::{Epss, Kev};

    fn vuln(eco: Ecosystem, binaries: &[&str]) -> Vulnerability {
        Vulnerability {
            id: "CVE-2024-1".into(),
            advisories: vec![],
            package: "openssl".into(),
            binaries: binaries.iter().map(|b| b.to_string()).collect(),
            ecosystem: eco,
            installed: "1".into(),
            fixed: Some("2".into()),
            state: FixState::Fixed,
            severity: Severity::High,
            rated_by: String::new(),
            summary: String::new(),
            kev: None,
            epss: None,
            described: String::new(),
        }
    }

    #[test]
    fn in_use_by_mapped_library_executable_or_jar() {
        let files: BTreeSet<String> = [
            "/usr/lib/x86_64-linux-gnu/libssl.so.3",
            "/usr/local/bin/api",
            "/app/shop.jar",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let owners: BTreeMap<String, String> = [(
            "/usr/lib/x86_64-linux-gnu/libssl.so.3".to_string(),
            "libssl3".to_string(),
        )]
        .into();
        let os = vuln(Ecosystem::Os, &["libssl3", "openssl"]);
        assert_eq!(
            in_use(&os, Some(&files), true, &owners),
            InUse::Seen("/usr/lib/x86_64-linux-gnu/libssl.so.3".into())
        );
        assert_eq!(in_use(&os, Some(&files), false, &owners), InUse::NotSeen);
        assert!(matches!(
            in_use(&os, None, true, &owners),
            InUse::Unknown(_)
        ));
        assert!(matches!(
            in_use(&os, Some(&files), true, &BTreeMap::new()),
            InUse::Unknown(_)
        ));
        let go = vuln(Ecosystem::Go, &["/usr/local/bin/api"]);
        assert!(matches!(
            in_use(&go, Some(&files), true, &owners),
            InUse::Seen(_)
        ));
        let other = vuln(Ecosystem::Go, &["/usr/local/bin/other"]);
        assert_eq!(in_use(&other, Some(&files), true, &owners), InUse::NotSeen);
        let jar = vuln(
            Ecosystem::Maven,
            &["/app/shop.jar!BOOT-INF/lib/log4j-core.jar"],
        );
        assert_eq!(
            in_use(&jar, Some(&files), true, &owners),
            InUse::Seen("/app/shop.jar".into())
        );
        let py = vuln(Ecosystem::PyPI, &["/x/site-packages/a.dist-info/METADATA"]);
        assert!(matches!(
            in_use(&py, Some(&files), true, &owners),
            InUse::Unknown(_)
        ));
    }

    #[test]
    fn known_exploited_in_use_in_a_running_exposed_container_comes_first() {
        let mut kev = vuln(Ecosystem::Os, &["libssl3"]);
        kev.severity = Severity::Medium;
        kev.kev = Some(Kev {
            added: "2024-01-01".into(),
            name: "x".into(),
            ransomware: true,
        });
        kev.epss = Some(Epss {
            score: 0.9,
            percentile: 0.99,
        });
        let mut critical = vuln(Ecosystem::Os, &["zlib1g"]);
        critical.severity = Severity::Critical;
        let exposed = Exposure {
            running: true,
            published: vec!["0.0.0.0:8080→80/tcp".into()],
            breakout: vec![],
        };
        let idle = Exposure::default();
        let a = rank(&kev, &exposed, InUse::Seen("/usr/lib/libssl.so.3".into()));
        let b = rank(&critical, &exposed, InUse::NotSeen);
        let c = rank(&critical, &idle, InUse::NotSeen);
        assert!(a.score > b.score && b.score > c.score, "{a:?} {b:?} {c:?}");
        assert_eq!(
            a.reasons[0],
            "known exploited (CISA KEV, used by ransomware)"
        );
        assert!(
            a.reasons
                .iter()
                .any(|r| r == "in use: /usr/lib/libssl.so.3")
        );
        assert!(
            a.reasons
                .iter()
                .any(|r| r.starts_with("reachable on 0.0.0.0:8080"))
        );
        assert!(c.reasons.iter().any(|r| r == "not running"));
    }
}
