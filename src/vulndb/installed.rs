//! Parsers of the files that say what an image has installed. Their
//! input is written by whoever built the image: every parser is total (any
//! bytes give a result, never a panic) and bounded (the caller caps the
//! bytes; the parsers cap the number of records).

use chrono::NaiveDate;

use crate::model::packages::{Distro, OsRelease, Package};

/// More packages than this in one database is not a real image.
pub const MAX_PACKAGES: usize = 50_000;

/// `/etc/os-release` (`KEY=value`, values optionally quoted).
pub fn os_release(text: &str) -> OsRelease {
    let mut os = OsRelease::default();
    for line in text.lines().take(200) {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        let slot = match key.trim() {
            "ID" => &mut os.id,
            "ID_LIKE" => &mut os.id_like,
            "VERSION_ID" => &mut os.version_id,
            "VERSION_CODENAME" => &mut os.codename,
            "PRETTY_NAME" => &mut os.pretty_name,
            _ => continue,
        };
        *slot = value.chars().take(200).collect();
    }
    os.id = os.id.to_ascii_lowercase();
    os
}

fn unquote(v: &str) -> String {
    let v = v
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// Paragraphs of `Key: value` fields (dpkg control format): continuation
/// lines start with whitespace and are skipped (no field we need spans
/// lines).
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<(&str, &str)>> {
    text.split("\n\n").filter_map(|p| {
        let fields: Vec<(&str, &str)> = p
            .lines()
            .filter(|l| !l.starts_with([' ', '\t']))
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        (!fields.is_empty()).then_some(fields)
    })
}

/// `/var/lib/dpkg/status` (or one file of distroless `status.d/`, which
/// has no `Status:` field: everything listed there is installed).
///
/// Packages that are removed but still listed (`deinstall ok
/// config-files`, half-installed, …) are skipped: only `install ok
/// installed` (and `hold ok installed`) count.
pub fn dpkg_status(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for fields in paragraphs(text) {
        if out.len() >= MAX_PACKAGES {
            break;
        }
        let get = |k: &str| {
            fields
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(k))
                .map(|(_, v)| *v)
        };
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            continue;
        };
        if let Some(status) = get("Status") {
            let words: Vec<&str> = status.split_whitespace().collect();
            if words.get(2) != Some(&"installed") {
                continue;
            }
        }
        // `Source: openssl` or `Source: openssl (3.0.11-1~deb12u2)`.
        let (source, source_version) = match get("Source") {
            Some(s) => match s.split_once('(') {
                Some((n, v)) => (n.trim(), v.trim_end_matches(')').trim()),
                None => (s.trim(), version),
            },
            None => (name, version),
        };
        out.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            source: if source.is_empty() { name } else { source }.to_string(),
            source_version: if source_version.is_empty() {
                version
            } else {
                source_version
            }
            .to_string(),
            ..Package::default()
        });
    }
    out
}

/// `/lib/apk/db/installed`: records of `X:value` lines; `P` the package,
/// `V` its version, `o` its origin (the source package).
pub fn apk_installed(text: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for record in text.split("\n\n") {
        if out.len() >= MAX_PACKAGES {
            break;
        }
        let mut p = Package::default();
        for line in record.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            match k {
                "P" => p.name = v.trim().to_string(),
                "V" => p.version = v.trim().to_string(),
                "o" => p.source = v.trim().to_string(),
                _ => {}
            }
        }
        if p.name.is_empty() || p.version.is_empty() {
            continue;
        }
        if p.source.is_empty() {
            p.source = p.name.clone();
        }
        p.source_version = p.version.clone();
        out.push(p);
    }
    out
}

/// The executables and shared libraries each package installed, from the
/// apk database's `F:` (folder) and `R:` (file) lines: (path, package).
pub fn apk_owners(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for record in text.split("\n\n") {
        let (mut name, mut dir) = (String::new(), String::new());
        for line in record.lines() {
            match line.split_once(':') {
                Some(("P", v)) => name = v.trim().to_string(),
                Some(("F", v)) => dir = v.trim().to_string(),
                Some(("R", v)) if !name.is_empty() => {
                    let path = format!("/{dir}/{}", v.trim());
                    if crate::model::packages::is_runnable(&path) {
                        out.push((path, name.clone()));
                    }
                }
                _ => {}
            }
            if out.len() >= crate::model::packages::MAX_OWNERS {
                return out;
            }
        }
    }
    out
}

/// The executables and shared libraries of dpkg's file lists
/// (`/var/lib/dpkg/info/<package>[:arch].list`): (path, package).
pub fn dpkg_owners(lists: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (file, text) in lists {
        let name = file
            .rsplit('/')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".list");
        let name = name.split(':').next().unwrap_or(name);
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('/') && crate::model::packages::is_runnable(line) {
                out.push((line.to_string(), name.to_string()));
                if out.len() >= crate::model::packages::MAX_OWNERS {
                    return out;
                }
            }
        }
    }
    out
}

/// The Alpine branch named in `/etc/apk/repositories` (`v3.20`, `edge`),
/// when the file names one.
pub fn apk_branch(repositories: &str) -> Option<String> {
    repositories
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .find_map(|l| {
            l.split('/').find_map(|seg| {
                (seg == "edge"
                    || seg.strip_prefix('v').is_some_and(|r| {
                        r.split('.').count() == 2 && r.split('.').all(|p| p.parse::<u32>().is_ok())
                    }))
                .then(|| seg.to_string())
            })
        })
}

/// End of support (security fixes) of the releases shipshape knows, after
/// which a release gets no fixes: its vulnerability data says nothing about
/// what is fixed. Sources: wiki.debian.org/LTS, ubuntu.com/about/release-cycle
/// (standard support, not Pro), alpinelinux.org/releases.
pub fn end_of_support(distro: Distro, release: &str) -> Option<NaiveDate> {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
    match (distro, release) {
        (Distro::Debian, "8") => d(2020, 6, 30),
        (Distro::Debian, "9") => d(2022, 6, 30),
        (Distro::Debian, "10") => d(2024, 6, 30),
        (Distro::Debian, "11") => d(2026, 8, 31),
        (Distro::Debian, "12") => d(2028, 6, 30),
        (Distro::Ubuntu, "16.04") => d(2021, 4, 30),
        (Distro::Ubuntu, "18.04") => d(2023, 5, 31),
        (Distro::Ubuntu, "20.04") => d(2025, 5, 31),
        (Distro::Ubuntu, "22.04") => d(2027, 6, 30),
        (Distro::Ubuntu, "24.04") => d(2029, 5, 31),
        (Distro::Alpine, v) => match v {
            "v3.15" => d(2023, 11, 1),
            "v3.16" => d(2024, 5, 23),
            "v3.17" => d(2024, 11, 22),
            "v3.18" => d(2025, 5, 9),
            "v3.19" => d(2025, 11, 1),
            "v3.20" => d(2026, 4, 1),
            "v3.21" => d(2026, 11, 1),
            "v3.22" => d(2027, 5, 1),
            "v3.23" => d(2027, 11, 1),
            v if v.starts_with("v3.") && v[3..].parse::<u32>().is_ok_and(|m| m < 15) => {
                d(2023, 1, 1)
            }
            _ => None,
        },
        _ => None,
    }
}

/// Which OSV ecosystem an image's packages belong to (or why shipshape
/// cannot match them), and when its release stopped getting fixes if that
/// is already past. An end-of-life release is still matched: the data
/// knows what was published while it was supported, and hiding that would
/// show less than other scanners do. `apk_repo_branch` is the branch from
/// `/etc/apk/repositories` on Alpine.
pub fn ecosystem(
    os: &OsRelease,
    apk_repo_branch: Option<&str>,
    today: NaiveDate,
) -> (
    Option<Distro>,
    Result<String, String>,
    Option<crate::model::packages::EndOfSupport>,
) {
    let past = |distro: Distro, release: &str, shown: String| {
        end_of_support(distro, release)
            .filter(|&end| end < today)
            .map(|date| crate::model::packages::EndOfSupport {
                release: shown,
                date,
            })
    };
    let (distro, eco, release) = release_of(os, apk_repo_branch);
    let eol = release.and_then(|(d, r, shown)| past(d, &r, shown));
    (distro, eco, eol)
}

/// The ecosystem, and the release key and name its end of support is
/// looked up by.
#[allow(clippy::type_complexity)]
fn release_of(
    os: &OsRelease,
    apk_repo_branch: Option<&str>,
) -> (
    Option<Distro>,
    Result<String, String>,
    Option<(Distro, String, String)>,
) {
    let like = |id: &str| os.id_like.split_whitespace().any(|l| l == id);
    let name = os.display();
    match os.id.as_str() {
        "debian" => {
            let major = os.version_id.split('.').next().unwrap_or("");
            if major.is_empty() || major.parse::<u32>().is_err() {
                return (
                    Some(Distro::Debian),
                    Err(format!(
                        "{name} has no release number (testing or unstable): there is no \
                         vulnerability data for it"
                    )),
                    None,
                );
            }
            (
                Some(Distro::Debian),
                Ok(format!("Debian:{major}")),
                Some((Distro::Debian, major.to_string(), format!("Debian {major}"))),
            )
        }
        "ubuntu" => {
            let v = os.version_id.as_str();
            let Some((year, month)) = v.split_once('.') else {
                return (
                    Some(Distro::Ubuntu),
                    Err(format!("{name}: unknown Ubuntu release '{v}'")),
                    None,
                );
            };
            let lts = month == "04" && year.parse::<u32>().is_ok_and(|y| y % 2 == 0);
            (
                Some(Distro::Ubuntu),
                Ok(if lts {
                    format!("Ubuntu:{v}:LTS")
                } else {
                    format!("Ubuntu:{v}")
                }),
                Some((Distro::Ubuntu, v.to_string(), format!("Ubuntu {v}"))),
            )
        }
        "alpine" => {
            let from_release = {
                let mut parts = os.version_id.split('.');
                match (parts.next(), parts.next()) {
                    (Some(a), Some(b)) if a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok() => {
                        Some(format!("v{a}.{b}"))
                    }
                    _ => None,
                }
            };
            let branch = match (apk_repo_branch, from_release) {
                (Some("edge"), _) => {
                    return (
                        Some(Distro::Alpine),
                        Err(format!(
                            "{name} installs from Alpine edge: there is no release to match against"
                        )),
                        None,
                    );
                }
                (_, Some(b)) => b,
                (Some(b), None) => b.to_string(),
                (None, None) => {
                    return (
                        Some(Distro::Alpine),
                        Err(format!("{name}: no Alpine release number in os-release")),
                        None,
                    );
                }
            };
            (
                Some(Distro::Alpine),
                Ok(format!("Alpine:{branch}")),
                Some((Distro::Alpine, branch.clone(), format!("Alpine {branch}"))),
            )
        }
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" | "sles"
        | "sled" | "sle_hpc" | "opensuse-leap" | "opensuse-tumbleweed" | "photon" | "mariner"
        | "azurelinux" | "mageia" | "openEuler" => rpm_release(os, &name),
        _ if like("rhel") || like("fedora") || like("suse") || like("centos") => (
            Some(Distro::Rpm),
            Err(format!(
                "{name} is an RPM distribution shipshape has no advisories for ('{}', like \
                 '{}'): OSV carries Red Hat, AlmaLinux, Rocky Linux, SUSE, openSUSE, Mageia, \
                 Photon OS and Azure Linux",
                os.id, os.id_like
            )),
            None,
        ),
        "" => (
            None,
            Err("no /etc/os-release: the distribution is unknown (a scratch or distroless image without it)".into()),
            None,
        ),
        other => (
            Some(Distro::Other),
            Err(format!(
                "{name}: no vulnerability data source for '{other}' (shipshape matches Debian, \
                 Ubuntu and Alpine)"
            )),
            None,
        ),
    }
}

/// The OSV ecosystem of an RPM distribution's release, or where its
/// advisories are published when OSV does not carry them.
#[allow(clippy::type_complexity)]
fn rpm_release(
    os: &OsRelease,
    name: &str,
) -> (
    Option<Distro>,
    Result<String, String>,
    Option<(Distro, String, String)>,
) {
    let v = os.version_id.as_str();
    let major = v.split('.').next().unwrap_or("");
    let numbered = !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit());
    let minor = v
        .split('.')
        .nth(1)
        .filter(|m| m.bytes().all(|b| b.is_ascii_digit()));
    let not = |why: String| (Some(Distro::Rpm), Err(why), None);
    if !numbered && os.id != "opensuse-tumbleweed" {
        return not(format!("{name}: no release number in os-release"));
    }
    let eco = match os.id.as_str() {
        // Through RHEL 9 Red Hat files advisories per major release (the
        // repository after `::` is dropped when the data is indexed); from
        // RHEL 10 on, per minor release.
        "rhel" if major.parse::<u32>().is_ok_and(|m| m <= 9) => {
            format!("Red Hat:enterprise_linux:{major}")
        }
        "rhel" => format!("Red Hat:enterprise_linux:{v}"),
        "almalinux" => format!("AlmaLinux:{major}"),
        "rocky" => format!("Rocky Linux:{major}"),
        "opensuse-leap" => format!("openSUSE:Leap {v}"),
        "opensuse-tumbleweed" => "openSUSE:Tumbleweed".to_string(),
        // Every SUSE Linux Enterprise product and module of one service
        // pack ships the same package versions: indexed as one.
        "sles" | "sled" | "sle_hpc" => match minor {
            Some(sp) if sp != "0" => format!("SUSE:Linux Enterprise {major} SP{sp}"),
            _ => format!("SUSE:Linux Enterprise {major}"),
        },
        "mageia" => format!("Mageia:{major}"),
        "photon" => format!("Photon OS:{major}.{}", minor.unwrap_or("0")),
        "azurelinux" => format!("Azure Linux:{major}"),
        "fedora" => {
            return not(format!(
                "{name}: OSV does not carry Fedora's advisories; they are published as Bodhi \
                 updates (bodhi.fedoraproject.org, or the updateinfo of its repositories), which \
                 shipshape does not read — its packages are listed, not assessed"
            ));
        }
        "amzn" => {
            return not(format!(
                "{name}: OSV does not carry Amazon Linux's advisories; they are the ALAS \
                 bulletins (alas.aws.amazon.com, or the updateinfo.xml of its repositories), \
                 which shipshape does not read — its packages are listed, not assessed"
            ));
        }
        "ol" => {
            return not(format!(
                "{name}: OSV does not carry Oracle Linux's advisories; they are the ELSA \
                 errata (linux.oracle.com/security, OVAL at linux.oracle.com/security/oval), \
                 which shipshape does not read — its packages are listed, not assessed"
            ));
        }
        "centos" => {
            return not(format!(
                "{name}: CentOS publishes no security advisories (CentOS Stream builds ahead of \
                 RHEL, and Red Hat's fixed versions do not apply to it; CentOS Linux 7 and 8 \
                 are past their end of life) — its packages are listed, not assessed"
            ));
        }
        "mariner" => {
            return not(format!(
                "{name}: CBL-Mariner's advisories are not in OSV under a name shipshape matches \
                 (Azure Linux 3 is) — its packages are listed, not assessed"
            ));
        }
        other => {
            return not(format!(
                "{name}: '{other}' is an RPM distribution whose OSV ecosystem shipshape does not \
                 know how to name from its os-release — its packages are listed, not assessed"
            ));
        }
    };
    (Some(Distro::Rpm), Ok(eco), None)
}

/// The files a package inventory is built from, as read from an image.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Files {
    /// `/etc/os-release` (or `/usr/lib/os-release`).
    #[serde(default)]
    pub os_release: Option<String>,
    /// `/etc/apk/repositories`.
    #[serde(default)]
    pub apk_repositories: Option<String>,
    /// `/var/lib/dpkg/status`.
    #[serde(default)]
    pub dpkg_status: Option<String>,
    /// The files of `/var/lib/dpkg/status.d/` (distroless).
    #[serde(default)]
    pub dpkg_status_d: Vec<String>,
    /// `/lib/apk/db/installed`.
    #[serde(default)]
    pub apk_installed: Option<String>,
    /// dpkg's file lists (`/var/lib/dpkg/info/*.list`): (file name, text).
    #[serde(default)]
    pub dpkg_lists: Vec<(String, String)>,
    /// The RPM database: where it was read, its format and bytes — or why
    /// it could not be read.
    #[serde(skip)]
    pub rpm_db: Option<Result<RpmDbFile, String>>,
}

/// An RPM database as read from an image.
#[derive(Debug, Clone)]
pub struct RpmDbFile {
    /// Where (`/var/lib/rpm/rpmdb.sqlite`).
    pub path: String,
    /// Which of the three formats.
    pub format: super::rpmdb::Format,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// The package inventory those files describe. Pure: the engine reads the
/// files, the demo lab bundles them, both build the inventory here.
pub fn scan(files: &Files, today: NaiveDate) -> crate::model::packages::PackageScan {
    use crate::model::packages::PackageScan;
    let mut scan = PackageScan {
        os: os_release(files.os_release.as_deref().unwrap_or("")),
        ..PackageScan::default()
    };
    let branch = files.apk_repositories.as_deref().and_then(apk_branch);
    let (distro, eco, eol) = ecosystem(&scan.os, branch.as_deref(), today);
    scan.distro = distro;
    scan.end_of_support = eol;
    match eco {
        Ok(e) => scan.ecosystem = Some(e),
        Err(why) => scan.not_assessed = Some(why),
    }
    if files.os_release.is_some() {
        scan.sources.push("/etc/os-release".into());
    }
    match distro {
        Some(Distro::Debian | Distro::Ubuntu) => {
            if let Some(t) = &files.dpkg_status {
                scan.packages.extend(dpkg_status(t));
                scan.sources.push("/var/lib/dpkg/status".into());
            }
            if !files.dpkg_status_d.is_empty() {
                for t in &files.dpkg_status_d {
                    scan.packages.extend(dpkg_status(t));
                }
                scan.sources.push("/var/lib/dpkg/status.d/".into());
            }
            if files.dpkg_status.is_none()
                && files.dpkg_status_d.is_empty()
                && scan.not_assessed.is_none()
            {
                scan.not_assessed = Some(format!(
                    "{} has no dpkg database (/var/lib/dpkg/status or status.d/): its packages cannot be listed",
                    scan.os.display()
                ));
            }
        }
        Some(Distro::Rpm) => match &files.rpm_db {
            Some(Ok(db)) => match super::rpmdb::read(db.format, &db.bytes) {
                Ok(read) => {
                    scan.packages
                        .extend(read.packages.iter().map(|p| p.to_package("")));
                    for p in &read.packages {
                        for f in &p.files {
                            scan.owners.insert(f.clone(), p.name.clone());
                        }
                    }
                    scan.sources.push(db.path.clone());
                    scan.unread.extend(
                        read.skipped
                            .into_iter()
                            .map(|s| format!("{}: {s}", db.path)),
                    );
                }
                Err(e) => {
                    scan.not_assessed = Some(format!("{}: {e}", db.path));
                }
            },
            Some(Err(why)) => scan.not_assessed = Some(why.clone()),
            None => {
                scan.not_assessed = Some(format!(
                    "{} has no RPM database (rpmdb.sqlite, Packages.db or Packages in \
                     /var/lib/rpm or /usr/lib/sysimage/rpm): its packages cannot be listed",
                    scan.os.display()
                ));
            }
        },
        Some(Distro::Alpine) => match &files.apk_installed {
            Some(t) => {
                scan.packages.extend(apk_installed(t));
                scan.sources.push("/lib/apk/db/installed".into());
            }
            None if scan.not_assessed.is_none() => {
                scan.not_assessed = Some(
                    "no apk database (/lib/apk/db/installed): its packages cannot be listed".into(),
                );
            }
            None => {}
        },
        _ => {}
    }
    let owners = match distro {
        Some(Distro::Debian | Distro::Ubuntu) => dpkg_owners(&files.dpkg_lists),
        Some(Distro::Alpine) => files
            .apk_installed
            .as_deref()
            .map(apk_owners)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    scan.owners.extend(owners);
    // One spelling of every path: the one a process maps.
    scan.owners = std::mem::take(&mut scan.owners)
        .into_iter()
        .map(|(p, k)| (crate::model::packages::usr_merged(&p).into_owned(), k))
        .collect();
    scan.packages.truncate(MAX_PACKAGES);
    scan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn os_release_of_real_images() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let os = os_release(debian);
        assert_eq!((os.id.as_str(), os.version_id.as_str()), ("debian", "12"));
        assert_eq!(os.codename, "bookworm");
        assert_eq!(
            ecosystem(&os, None, day("2026-12-01")).1,
            Ok("Debian:12".into())
        );
        let alpine = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.22.1\nPRETTY_NAME=\"Alpine Linux v3.22\"\n";
        let os = os_release(alpine);
        assert_eq!(
            ecosystem(&os, Some("v3.22"), day("2026-12-01")).1,
            Ok("Alpine:v3.22".into())
        );
        let ubuntu = "ID=ubuntu\nVERSION_ID=\"22.04\"\nID_LIKE=debian\n";
        assert_eq!(
            ecosystem(&os_release(ubuntu), None, day("2026-12-01")).1,
            Ok("Ubuntu:22.04:LTS".into())
        );
        let interim = "ID=ubuntu\nVERSION_ID=\"25.10\"\n";
        assert_eq!(
            ecosystem(&os_release(interim), None, day("2026-12-01")).1,
            Ok("Ubuntu:25.10".into())
        );
    }

    /// An end-of-life release is matched all the same (what the data knows
    /// is shown, as Trivy and Grype do), and says since when it gets no
    /// fixes. Before, it was "not assessed" and its known CVEs were hidden.
    #[test]
    fn end_of_life_releases_are_matched_and_dated() {
        let today = day("2026-12-01");
        for (text, branch, eco, release, date) in [
            (
                "ID=debian\nVERSION_ID=\"11\"\n",
                None,
                "Debian:11",
                "Debian 11",
                "2026-08-31",
            ),
            (
                "ID=debian\nVERSION_ID=\"10\"\n",
                None,
                "Debian:10",
                "Debian 10",
                "2024-06-30",
            ),
            (
                "ID=ubuntu\nVERSION_ID=\"18.04\"\n",
                None,
                "Ubuntu:18.04:LTS",
                "Ubuntu 18.04",
                "2023-05-31",
            ),
            (
                "ID=alpine\nVERSION_ID=3.20.3\n",
                None,
                "Alpine:v3.20",
                "Alpine v3.20",
                "2026-04-01",
            ),
            (
                "ID=alpine\nVERSION_ID=3.19.1\n",
                Some("v3.19"),
                "Alpine:v3.19",
                "Alpine v3.19",
                "2025-11-01",
            ),
        ] {
            let (_, r, eol) = ecosystem(&os_release(text), branch, today);
            assert_eq!(r, Ok(eco.to_string()), "{text}");
            let eol = eol.unwrap_or_else(|| panic!("{text}: no end of support"));
            assert_eq!(
                (eol.release.as_str(), eol.date),
                (release, day(date)),
                "{text}"
            );
        }
        // Supported releases, and a release on its last day, have none.
        for text in [
            "ID=debian\nVERSION_ID=\"12\"\n",
            "ID=alpine\nVERSION_ID=3.22.0\n",
        ] {
            assert_eq!(ecosystem(&os_release(text), None, today).2, None, "{text}");
        }
        let last_day = ecosystem(
            &os_release("ID=debian\nVERSION_ID=\"11\"\n"),
            None,
            day("2026-08-31"),
        );
        assert_eq!(last_day.2, None);
    }

    /// The RPM distributions OSV carries, each scoped to its release as the
    /// records name it (Red Hat's repository suffix is dropped at import).
    #[test]
    fn rpm_distributions_are_matched_per_release() {
        let today = day("2026-12-01");
        for (text, eco) in [
            (
                "ID=\"rhel\"\nVERSION_ID=\"9.4\"\n",
                "Red Hat:enterprise_linux:9",
            ),
            (
                "ID=\"rhel\"\nVERSION_ID=\"8.10\"\n",
                "Red Hat:enterprise_linux:8",
            ),
            (
                "ID=\"rhel\"\nVERSION_ID=\"10.0\"\n",
                "Red Hat:enterprise_linux:10.0",
            ),
            ("ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n", "AlmaLinux:9"),
            (
                "ID=\"rocky\"\nVERSION_ID=\"9.3\"\nID_LIKE=\"rhel centos fedora\"\n",
                "Rocky Linux:9",
            ),
            (
                "ID=\"opensuse-leap\"\nVERSION_ID=\"15.5\"\n",
                "openSUSE:Leap 15.5",
            ),
            (
                "ID=\"opensuse-tumbleweed\"\nVERSION_ID=\"20240101\"\n",
                "openSUSE:Tumbleweed",
            ),
            (
                "ID=\"sles\"\nVERSION_ID=\"15.5\"\n",
                "SUSE:Linux Enterprise 15 SP5",
            ),
            (
                "ID=\"sles\"\nVERSION_ID=\"15\"\n",
                "SUSE:Linux Enterprise 15",
            ),
            ("ID=mageia\nVERSION_ID=9\n", "Mageia:9"),
            ("ID=photon\nVERSION_ID=5.0\n", "Photon OS:5.0"),
            ("ID=azurelinux\nVERSION_ID=\"3.0\"\n", "Azure Linux:3"),
        ] {
            let (d, r, _) = ecosystem(&os_release(text), None, today);
            assert_eq!(d, Some(Distro::Rpm), "{text}");
            assert_eq!(r.as_deref(), Ok(eco), "{text}");
        }
    }

    #[test]
    fn releases_that_cannot_be_assessed_say_why() {
        let today = day("2026-12-01");
        let check = |text: &str, branch: Option<&str>, needle: &str| {
            let (_, r, _) = ecosystem(&os_release(text), branch, today);
            let why = r.expect_err(text);
            assert!(why.contains(needle), "{why}");
        };
        check(
            "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\n",
            None,
            "testing or unstable",
        );
        check("ID=alpine\nVERSION_ID=3.22.0\n", Some("edge"), "edge");
        check(
            "ID=\"amzn\"\nVERSION_ID=\"2023\"\n",
            None,
            "ALAS bulletins (alas.aws.amazon.com",
        );
        check("ID=fedora\nVERSION_ID=40\n", None, "Bodhi");
        check("ID=\"ol\"\nVERSION_ID=\"9.4\"\n", None, "ELSA errata");
        check(
            "ID=\"centos\"\nVERSION_ID=\"9\"\n",
            None,
            "no security advisories",
        );
        check(
            "ID=\"clear-rpm\"\nVERSION_ID=\"1\"\nID_LIKE=\"fedora\"\n",
            None,
            "an RPM distribution shipshape has no advisories for",
        );
        check("ID=arch\n", None, "no vulnerability data source for 'arch'");
        check("", None, "no /etc/os-release");
    }

    #[test]
    fn dpkg_status_records_source_and_skips_removed_packages() {
        let text = "\
Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit
 continuation line: Source: not-a-field

Package: zlib1g
Status: install ok installed
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1

Package: libgcc-s1
Status: install ok installed
Source: gcc-12 (12.2.0-14)
Version: 12.2.0-14

Package: old-tool
Status: deinstall ok config-files
Version: 1.0-1

Package: half
Status: install reinstreq half-installed
Version: 2.0-1

Package: base-files
Status: install ok installed
Version: 12.4+deb12u5
";
        let p = dpkg_status(text);
        let got: Vec<(&str, &str, &str, &str)> = p
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source.as_str(),
                    p.source_version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("libssl3", "3.0.11-1~deb12u2", "openssl", "3.0.11-1~deb12u2"),
                ("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1"),
                ("libgcc-s1", "12.2.0-14", "gcc-12", "12.2.0-14"),
                ("base-files", "12.4+deb12u5", "base-files", "12.4+deb12u5"),
            ]
        );
        // distroless status.d files have no Status field.
        let d = dpkg_status("Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n");
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn binary_and_source_versions_can_differ() {
        let p = dpkg_status(
            "Package: libgcc-s1\nStatus: install ok installed\nSource: gcc-12 (12.2.0-14)\nVersion: 12.2.0-14+b1\n",
        );
        assert_eq!(p[0].version, "12.2.0-14+b1");
        assert_eq!(p[0].source_version, "12.2.0-14");
    }

    #[test]
    fn apk_installed_takes_the_origin() {
        let text = "C:Q1abc=\nP:libcrypto3\nV:3.3.2-r0\nA:x86_64\no:openssl\nm:Ariadne\n\nC:Q1def=\nP:musl\nV:1.2.5-r0\no:musl\n\nP:noversion\n";
        let p = apk_installed(text);
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].source.as_str()),
            ("libcrypto3", "openssl")
        );
        assert_eq!(p[0].source_version, "3.3.2-r0");
    }

    #[test]
    fn apk_repositories_name_the_branch() {
        let r = "https://dl-cdn.alpinelinux.org/alpine/v3.22/main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.22/community\n";
        assert_eq!(apk_branch(r).as_deref(), Some("v3.22"));
        assert_eq!(
            apk_branch("# x\nhttp://mirror/alpine/edge/main\n").as_deref(),
            Some("edge")
        );
        assert_eq!(apk_branch("/media/cdrom/apks\n"), None);
    }

    #[test]
    fn parsers_are_total_and_bounded() {
        let huge: String =
            "Package: p\nStatus: install ok installed\nVersion: 1\n\n".repeat(MAX_PACKAGES + 10);
        assert_eq!(dpkg_status(&huge).len(), MAX_PACKAGES);
        for junk in [
            "",
            "\n\n\n",
            ":::",
            "Package:\nVersion:",
            "P:\nV:\n",
            "\u{0}\u{ffff}",
        ] {
            let _ = dpkg_status(junk);
            let _ = apk_installed(junk);
            let _ = os_release(junk);
            let _ = apk_branch(junk);
        }
    }
}
