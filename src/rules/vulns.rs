//! Rule 1, vulnerability management: the known vulnerabilities of the
//! packages inside images (and inside containers whose packages changed),
//! images whose vulnerabilities cannot be assessed, and setuid/setgid files
//! (CIS 4.8).

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::packages::{SpecialFiles, VulnState};
use crate::model::{SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

fn hits(state: &VulnState) -> Vec<Hit> {
    state
        .vulnerabilities()
        .iter()
        .map(|v| Hit::graded(v.severity, v.describe()))
        .collect()
}

/// The `image.known-vulnerabilities` rule: Image ships packages with known vulnerabilities.
pub const KNOWN_VULNERABILITIES: Rule = Rule {
    id: "image.known-vulnerabilities",
    title: "Image ships packages with known vulnerabilities",
    severity: Severity::High,
    family: Family::Vulnerabilities,
    cis: Some("4.4"),
    seed: SeedRule::VulnerabilityManagement,
    why: "A package with a published vulnerability is an attack someone has already written \
          down. Every container started from the image carries it, whatever its runtime settings.",
    attack: "Attackers scan for the services and libraries these advisories name and use the \
             published details (often a ready exploit) against any container that runs them.",
    fix: Fix {
        summary: "Rebuild the image on an updated base (or run the package manager's upgrade in \
                  the build), then recreate its containers. Where there is no fix yet, reduce \
                  what the package exposes, or use a base without it.",
        run: "docker build --pull --no-cache -t <image> . && docker run … <image>",
        compose: "docker compose build --pull && docker compose up -d",
        kube: "",
    },
    references: &[
        CIS,
        "https://osv.dev/",
        "https://security-tracker.debian.org/tracker/",
        "https://ubuntu.com/security/cves",
        "https://security.alpinelinux.org/",
    ],
    check: Check::Image(|_, img| hits(&img.vulns)),
};

/// The `container.known-vulnerabilities` rule: Packages installed after start have known vulnerabilities.
pub const CONTAINER_VULNERABILITIES: Rule = Rule {
    id: "container.known-vulnerabilities",
    title: "Packages installed after start have known vulnerabilities",
    severity: Severity::High,
    family: Family::Vulnerabilities,
    cis: None,
    seed: SeedRule::VulnerabilityManagement,
    why: "This container's package database changed after it started (something ran the package \
          manager inside it): its packages are no longer its image's, and these ones carry \
          published vulnerabilities. Rebuilding the image does not fix them.",
    attack: "Software installed into a running container is invisible to image scans; an \
             attacker who installed it, or an admin who patched by hand with an old mirror, \
             leaves exactly this.",
    fix: Fix {
        summary: "Do not install packages into running containers: put them in the image, \
                  rebuild, recreate the container. Find out who changed the packages (the \
                  Activity view's exec sessions).",
        run: "docker run --read-only …",
        compose: "read_only: true",
        kube: "",
    },
    references: &["https://osv.dev/"],
    check: Check::Container(|_, c| hits(&c.vulns)),
};

/// The `image.vulns-not-assessed` rule: Image's vulnerabilities cannot be assessed.
pub const NOT_ASSESSED: Rule = Rule {
    id: "image.vulns-not-assessed",
    title: "Image's vulnerabilities cannot be assessed",
    severity: Severity::Low,
    family: Family::Vulnerabilities,
    cis: None,
    seed: SeedRule::VulnerabilityManagement,
    why: "shipshape cannot say which known vulnerabilities this image carries — a release \
          without vulnerability data, a distribution it does not read, no package database, or \
          no vulnerability data downloaded. That is not the same as clean.",
    attack: "Images nobody can assess are the ones whose vulnerabilities nobody patches; an \
             end-of-life release collects every new vulnerability and never gets a fix.",
    fix: Fix {
        summary: "Move end-of-life images to a supported release; for other distributions use a \
                  scanner that reads their package database; run `shipshape db update` when the \
                  data is missing.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &["https://endoflife.date/"],
    check: Check::Image(|_, img| match img.vulns.as_ref() {
        VulnState::NotAssessed { reason } => {
            // An image nothing runs is only worth knowing about. (End of
            // support is its own rule: those images are still matched.)
            let sev = if reason.starts_with("no container uses this image") {
                Severity::Info
            } else {
                Severity::Low
            };
            vec![Hit::graded(sev, reason.clone())]
        }
        // Partly assessed: what was not is not clean either.
        VulnState::Assessed { not_assessed, .. } if !not_assessed.is_empty() => {
            vec![Hit::new(not_assessed.join("; "))]
        }
        _ => vec![],
    }),
};

/// A year without fixes: most of a release's packages then carry published
/// vulnerabilities nobody will ever patch.
const LONG_PAST_DAYS: i64 = 365;

/// The `image.release-end-of-life` rule: Image's OS release gets no more security fixes.
pub const END_OF_LIFE: Rule = Rule {
    id: "image.release-end-of-life",
    title: "Image's OS release gets no more security fixes",
    severity: Severity::High,
    family: Family::Vulnerabilities,
    cis: Some("4.4"),
    seed: SeedRule::VulnerabilityManagement,
    why: "The distribution release this image is built on has reached its end of support: no \
          security fix will ever be published for its packages again. What the vulnerability \
          data knows is still listed, but it is a lower bound: advisories published after the \
          end of support mostly do not name the release at all, so new vulnerabilities go \
          unseen as well as unfixed. Graded high once a year has passed without fixes, medium \
          before.",
    attack: "Every vulnerability disclosed since the end of support stays open forever; \
             attackers target old releases precisely because the exploit for last year's \
             advisory still works on them.",
    fix: Fix {
        summary: "Rebuild the image on a supported release of its distribution (or a base \
                  image that tracks one), then recreate its containers.",
        run: "FROM debian:12-slim (or the current release) in the Dockerfile; docker build --pull",
        compose: "docker compose build --pull && docker compose up -d",
        kube: "",
    },
    references: &[
        CIS,
        "https://endoflife.date/",
        "https://wiki.debian.org/LTS",
        "https://ubuntu.com/about/release-cycle",
        "https://alpinelinux.org/releases/",
    ],
    check: Check::Image(|ctx, img| {
        let Some(eol) = img
            .packages
            .as_ref()
            .and_then(|p| p.end_of_support.as_ref())
        else {
            return vec![];
        };
        let days = (ctx.now.date_naive() - eol.date).num_days();
        let sev = if days > LONG_PAST_DAYS {
            Severity::High
        } else {
            Severity::Medium
        };
        let known = match img.vulns.as_ref() {
            VulnState::Assessed {
                vulnerabilities, ..
            } => {
                let open = vulnerabilities
                    .iter()
                    .filter(|v| v.state == crate::model::packages::FixState::NoFix)
                    .count();
                format!(
                    "; {} known vulnerabilities listed ({open} with no fix), a lower bound",
                    vulnerabilities.len()
                )
            }
            _ => String::new(),
        };
        vec![Hit::graded(
            sev,
            format!(
                "{} reached its end of support on {} ({days} days ago): no more fixes{known}",
                eol.release, eol.date
            ),
        )]
    }),
};

/// The `image.setuid-files` rule: Image contains setuid or setgid files.
pub const SETUID_FILES: Rule = Rule {
    id: "image.setuid-files",
    title: "Image contains setuid or setgid files",
    severity: Severity::Medium,
    family: Family::Images,
    cis: Some("4.8"),
    seed: SeedRule::LeastPrivilege,
    why: "A setuid or setgid program runs with its owner's (usually root's) rights whoever \
          starts it. In a container they are rarely needed and each is a way from an \
          unprivileged user to root.",
    attack: "An attacker with a foothold as an unprivileged user looks for setuid programs and \
             exploits one (or a bug in it) to become root in the container — the step before \
             most breakouts.",
    fix: Fix {
        summary: "Remove the bits in the Dockerfile, and stop them being used at run time.",
        run: "--security-opt no-new-privileges (and in the Dockerfile: RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +)",
        compose: "security_opt: [\"no-new-privileges:true\"]",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/engine/security/#linux-kernel-capabilities",
    ],
    check: Check::Image(|_, img| match &img.special_files {
        SpecialFiles::Read { files, .. } if !files.is_empty() => {
            let shown: Vec<String> = files
                .iter()
                .take(20)
                .map(|f| {
                    let bits = match (f.setuid(), f.setgid()) {
                        (true, true) => "setuid+setgid",
                        (true, false) => "setuid",
                        _ => "setgid",
                    };
                    format!("{} ({bits}, {:o})", f.path, f.mode)
                })
                .collect();
            let more = files.len().saturating_sub(shown.len());
            let tail = if more > 0 {
                format!(" … and {more} more")
            } else {
                String::new()
            };
            vec![Hit::new(format!(
                "{} file(s): {}{tail}",
                files.len(),
                shown.join(", ")
            ))]
        }
        _ => vec![],
    }),
};

/// The `image.world-writable` rule: Image lets any user replace what root runs.
pub const WORLD_WRITABLE: Rule = Rule {
    id: "image.world-writable",
    title: "Image lets any user replace what root runs",
    severity: Severity::High,
    family: Family::Images,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "A world-writable directory on PATH or among the library directories, a world-writable \
          program there, or a world-writable file of /etc that decides who is root and what \
          root runs (passwd, shadow, sudoers, cron, profile, ld.so.preload) lets any process in \
          the container, whatever its user, put its own code where root will run it. Graded \
          high; a world-writable directory with the sticky bit is medium (others' files cannot \
          be replaced, but new ones can be added ahead of them on PATH).",
    attack: "An attacker who lands as an unprivileged user drops `/usr/local/bin/ls` (found \
             before /bin/ls on PATH) or a line in /etc/ld.so.preload, and waits for root — an \
             entrypoint script, a cron job, an admin's `docker exec` — to run it.",
    fix: Fix {
        summary: "Remove the write bit for others in the Dockerfile, and run as an unprivileged \
                  user with a read-only root filesystem.",
        run: "RUN chmod -R o-w /usr/local/bin /usr/bin /etc (in the Dockerfile); docker run --read-only --user 10001 …",
        compose: "read_only: true\nuser: \"10001:10001\"",
        kube: "",
    },
    references: &["https://man7.org/linux/man-pages/man7/inode.7.html"],
    check: Check::Image(|_, img| match &img.special_files {
        SpecialFiles::Read { writable, .. } => writable
            .iter()
            .filter(|f| f.world_writable())
            .take(50)
            .map(|f| {
                let sticky = f.sticky() && !f.path.starts_with("/etc/");
                Hit::graded(
                    if sticky {
                        Severity::Medium
                    } else {
                        Severity::High
                    },
                    format!(
                        "{} is world-writable ({:o}{})",
                        f.path,
                        f.mode,
                        if sticky { ", sticky" } else { "" }
                    ),
                )
            })
            .collect(),
        _ => vec![],
    }),
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::packages::{FixState, SpecialFile, Vulnerability};
    use crate::rules::testing::*;

    fn vuln(id: &str, state: FixState, sev: Severity) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            ecosystem: Default::default(),
            advisories: vec![format!("DEBIAN-{id}"), "DSA-1-1".into()],
            package: "openssl".into(),
            binaries: vec!["libssl3".into(), "openssl".into()],
            installed: "3.0.11-1~deb12u2".into(),
            fixed: (state == FixState::Fixed).then(|| "3.0.13-1~deb12u1".to_string()),
            state,
            severity: sev,
            rated_by: "CVSS 3.x 9.8".into(),
            summary: String::new(),
            kev: None,
            epss: None,
            described: String::new(),
        }
    }

    #[test]
    fn one_finding_per_vulnerability_graded_by_its_rating() {
        let mut img = clean_image();
        assert!(run_image(&KNOWN_VULNERABILITIES, &img).is_empty());
        img.vulns = std::sync::Arc::new(VulnState::Assessed {
            not_assessed: Vec::new(),
            ecosystem: "Debian:12".into(),
            packages: 100,
            database: String::new(),
            vulnerabilities: vec![
                vuln("CVE-2024-1", FixState::Fixed, Severity::Critical),
                vuln("CVE-2024-2", FixState::NoFix, Severity::Low),
            ],
        });
        let h = run_image(&KNOWN_VULNERABILITIES, &img);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].severity, Some(Severity::Critical));
        assert_eq!(
            h[0].evidence,
            "CVE-2024-1 in openssl 3.0.11-1~deb12u2 (libssl3, openssl): fixed in 3.0.13-1~deb12u1; CVSS 3.x 9.8 [DEBIAN-CVE-2024-1, DSA-1-1]"
        );
        assert!(h[1].evidence.contains("no fix yet"));
    }

    #[test]
    fn not_assessed_is_a_finding_never_silence() {
        let mut img = clean_image();
        assert!(
            run_image(&NOT_ASSESSED, &img).is_empty(),
            "not scanned: nothing to say"
        );
        img.vulns = std::sync::Arc::new(VulnState::NotAssessed {
            reason: "Rocky Linux 9.3 uses RPM packages".into(),
        });
        assert_eq!(
            run_image(&NOT_ASSESSED, &img)[0].severity,
            Some(Severity::Low)
        );
    }

    /// An end-of-life release is matched and gets its own finding, graded
    /// by how long it has gone without fixes.
    #[test]
    fn end_of_life_is_graded_by_how_long_ago() {
        use crate::model::packages::{EndOfSupport, PackageScan};
        let mut img = clean_image();
        assert!(run_image(&END_OF_LIFE, &img).is_empty(), "no packages read");
        let scan = |date: &str| PackageScan {
            end_of_support: Some(EndOfSupport {
                release: "Debian 11".into(),
                date: date.parse().unwrap(),
            }),
            ..PackageScan::default()
        };
        img.vulns = std::sync::Arc::new(VulnState::Assessed {
            not_assessed: Vec::new(),
            ecosystem: "Debian:11".into(),
            packages: 3,
            database: String::new(),
            vulnerabilities: vec![],
        });
        // `run_image` judges at the fixed test time (testing::now()).
        let now = super::super::testing::now().date_naive();
        img.packages = Some(std::sync::Arc::new(scan(
            &(now - chrono::Duration::days(90)).to_string(),
        )));
        let h = run_image(&END_OF_LIFE, &img);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].severity, Some(Severity::Medium));
        assert!(
            h[0].evidence
                .contains("Debian 11 reached its end of support"),
            "{}",
            h[0].evidence
        );
        assert!(h[0].evidence.contains("90 days ago"), "{}", h[0].evidence);
        assert!(
            h[0].evidence.contains("0 known vulnerabilities listed"),
            "{}",
            h[0].evidence
        );
        img.packages = Some(std::sync::Arc::new(scan(
            &(now - chrono::Duration::days(400)).to_string(),
        )));
        assert_eq!(
            run_image(&END_OF_LIFE, &img)[0].severity,
            Some(Severity::High)
        );
        // Matched all the same: not "not assessed".
        assert!(run_image(&NOT_ASSESSED, &img).is_empty());
    }

    #[test]
    fn setuid_files_are_listed() {
        let mut img = clean_image();
        img.special_files = SpecialFiles::Read {
            files: vec![],
            dirs: vec!["/usr/bin".into()],
            writable: vec![],
        };
        assert!(run_image(&SETUID_FILES, &img).is_empty());
        img.special_files = SpecialFiles::Read {
            files: vec![
                SpecialFile {
                    path: "/usr/bin/passwd".into(),
                    mode: 0o4755,
                },
                SpecialFile {
                    path: "/usr/bin/wall".into(),
                    mode: 0o2755,
                },
            ],
            dirs: vec!["/usr/bin".into()],
            writable: vec![],
        };
        let h = run_image(&SETUID_FILES, &img);
        assert_eq!(
            h[0].evidence,
            "2 file(s): /usr/bin/passwd (setuid, 4755), /usr/bin/wall (setgid, 2755)"
        );
    }

    #[test]
    fn a_container_with_its_own_packages() {
        let mut c = hardened();
        assert!(run_container(&CONTAINER_VULNERABILITIES, &c).is_empty());
        c.vulns = std::sync::Arc::new(VulnState::Assessed {
            not_assessed: Vec::new(),
            ecosystem: "Debian:12".into(),
            packages: 1,
            database: String::new(),
            vulnerabilities: vec![vuln("CVE-2024-3", FixState::Fixed, Severity::High)],
        });
        assert_eq!(run_container(&CONTAINER_VULNERABILITIES, &c).len(), 1);
    }
}
