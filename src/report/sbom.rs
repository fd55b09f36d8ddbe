//! Bills of materials an auditor can take away: CycloneDX 1.6 JSON and
//! SPDX 2.3 JSON of the packages read from images (the OS's and the
//! application's), each with its package URL, its licence where the
//! metadata names one, the image it belongs to and where in it it was
//! found; CycloneDX also carries the known vulnerabilities.
//!
//! Pure: rendered from the model (an image with its package scan and
//! vulnerability state), so the command line and the window write the same
//! document. What could not be read is said in the document (CycloneDX
//! `compositions`, SPDX comments) — a bill with a gap never reads as a
//! complete one.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::model::Image;
use crate::model::packages::{Distro, Ecosystem, Package, PackageScan, VulnState, Vulnerability};

/// The two formats `shipshape sbom --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// CycloneDX 1.6, JSON.
    CycloneDx,
    /// SPDX 2.3, JSON.
    Spdx,
}

impl SbomFormat {
    /// Both formats, in the order they are offered.
    pub const ALL: [SbomFormat; 2] = [Self::CycloneDx, Self::Spdx];

    /// The name people read (`CycloneDX 1.6`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CycloneDx => "CycloneDX 1.6",
            Self::Spdx => "SPDX 2.3",
        }
    }

    /// The file name ending the formats' own guides recommend.
    pub fn extension(self) -> &'static str {
        match self {
            Self::CycloneDx => "cdx.json",
            Self::Spdx => "spdx.json",
        }
    }
}

impl std::str::FromStr for SbomFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cyclonedx" | "cdx" => Ok(Self::CycloneDx),
            "spdx" => Ok(Self::Spdx),
            other => Err(format!("unknown SBOM format {other:?}: cyclonedx or spdx")),
        }
    }
}

/// One image to describe.
#[derive(Debug, Clone, Copy)]
pub struct BomImage<'a> {
    /// The image, with its package scan and vulnerability state.
    pub image: &'a Image,
    /// The engine it was read from (a name for people).
    pub engine: &'a str,
}

/// What a document needs besides the images: when it was made, and a
/// serial number unique to it (random bytes the caller draws).
#[derive(Debug, Clone, Copy)]
pub struct BomMeta {
    /// When the document was made.
    pub now: DateTime<Utc>,
    /// 16 bytes unique to this document (made a version 4 UUID).
    pub serial: [u8; 16],
}

impl BomMeta {
    /// Now, with a serial drawn from the clock, the process and a counter
    /// hashed together (unique enough for a document id; no random-number
    /// crate for 16 bytes).
    pub fn fresh() -> Self {
        use sha2::Digest as _;
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = Utc::now();
        let mut h = sha2::Sha256::new();
        h.update(now.timestamp_nanos_opt().unwrap_or_default().to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
        let digest = h.finalize();
        let mut serial = [0u8; 16];
        serial.copy_from_slice(&digest[..16]);
        Self { now, serial }
    }

    /// `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx` (RFC 9562 version 4).
    fn uuid(&self) -> String {
        let mut b = self.serial;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let mut s = String::with_capacity(36);
        for (i, byte) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            let _ = write!(s, "{byte:02x}");
        }
        s
    }

    fn timestamp(&self) -> String {
        self.now.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }
}

/// Render the document.
pub fn render(format: SbomFormat, images: &[BomImage<'_>], meta: &BomMeta) -> String {
    let doc = match format {
        SbomFormat::CycloneDx => cyclonedx(images, meta),
        SbomFormat::Spdx => spdx(images, meta),
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// What an image's reading says of its completeness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Every package database and application folder was read.
    Complete,
    /// Read, but parts could not be (each named).
    Incomplete(Vec<String>),
    /// Not read at all (why).
    NotRead(String),
}

/// Whether an image's packages were read whole, in part, or not at all.
pub fn completeness(image: &Image) -> Completeness {
    match &image.packages {
        None => Completeness::NotRead(match image.vulns.as_ref() {
            VulnState::NotAssessed { reason } => reason.clone(),
            _ => "its packages were not read (no container uses it, or reading is off)".into(),
        }),
        Some(scan) if scan.packages.is_empty() && scan.sources.is_empty() => {
            Completeness::NotRead(match (&scan.not_assessed, image.vulns.as_ref()) {
                (Some(r), _) => r.clone(),
                (None, VulnState::NotAssessed { reason }) => reason.clone(),
                _ => "no package database was found".into(),
            })
        }
        Some(scan) if !scan.unread.is_empty() => Completeness::Incomplete(scan.unread.clone()),
        Some(_) => Completeness::Complete,
    }
}

/// What the vulnerability assessment of an image was, in one sentence.
fn vuln_note(v: &VulnState) -> String {
    match v {
        VulnState::NotScanned => "known vulnerabilities: not looked up".into(),
        VulnState::NotAssessed { reason } => {
            format!("known vulnerabilities: not assessed — {reason}")
        }
        VulnState::Assessed {
            ecosystem,
            database,
            vulnerabilities,
            not_assessed,
            ..
        } => {
            let mut s = format!(
                "known vulnerabilities: {} from OSV data ({ecosystem}) built {database}",
                vulnerabilities.len()
            );
            for n in not_assessed {
                let _ = write!(s, "; not assessed: {n}");
            }
            s
        }
    }
}

/// The package URL of a package of this image
/// (`pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl`).
pub fn purl(p: &Package, scan: &PackageScan) -> String {
    fn build(
        ty: &str,
        namespace: Option<&str>,
        name: &str,
        version: &str,
        qualifiers: &[(&str, &str)],
    ) -> Option<String> {
        let mut u = packageurl::PackageUrl::new(ty.to_string(), name.to_string()).ok()?;
        if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
            u.with_namespace(ns.to_string()).ok()?;
        }
        if !version.is_empty() {
            u.with_version(version.to_string()).ok()?;
        }
        for (k, v) in qualifiers.iter().filter(|(_, v)| !v.is_empty()) {
            u.add_qualifier(k.to_string(), v.to_string()).ok()?;
        }
        Some(u.to_string())
    }
    let built = match p.ecosystem {
        Ecosystem::PyPI => build("pypi", None, &p.name, &p.version, &[]),
        Ecosystem::Npm => match p.name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, name)) => build("npm", Some(&format!("@{scope}")), name, &p.version, &[]),
            None => build("npm", None, &p.name, &p.version, &[]),
        },
        // Module paths: the namespace is all but the last segment.
        Ecosystem::Go => match p.name.rsplit_once('/') {
            Some((ns, name)) => build("golang", Some(ns), name, &p.version, &[]),
            None => build("golang", None, &p.name, &p.version, &[]),
        },
        Ecosystem::CratesIo => build("cargo", None, &p.name, &p.version, &[]),
        Ecosystem::Maven => match p.name.split_once(':') {
            Some((group, artifact)) => build("maven", Some(group), artifact, &p.version, &[]),
            None => build("maven", None, &p.name, &p.version, &[]),
        },
        Ecosystem::Os => {
            let ty = match scan.distro {
                Some(Distro::Debian | Distro::Ubuntu) => "deb",
                Some(Distro::Alpine) => "apk",
                Some(Distro::Rpm) => "rpm",
                _ => "generic",
            };
            let distro = match (scan.os.id.as_str(), scan.os.version_id.as_str()) {
                ("", _) => String::new(),
                (id, "") => id.to_string(),
                (id, v) => format!("{id}-{v}"),
            };
            let upstream = if p.source.is_empty() || p.source == p.name {
                String::new()
            } else if !p.source_version.is_empty() && p.source_version != p.version {
                format!("{}@{}", p.source, p.source_version)
            } else {
                p.source.clone()
            };
            let ns = (ty != "generic").then_some(scan.os.id.as_str());
            // rpm's purl carries the epoch as a qualifier, not in the version.
            let (epoch, version) = match p.version.split_once(':') {
                Some((e, v)) if ty == "rpm" && e.bytes().all(|b| b.is_ascii_digit()) => (e, v),
                _ => ("", p.version.as_str()),
            };
            build(
                ty,
                ns,
                &p.name,
                version,
                &[
                    ("distro", &distro),
                    ("epoch", epoch),
                    ("upstream", &upstream),
                ],
            )
        }
    };
    built.unwrap_or_else(|| {
        // A name the purl library refuses (empty, say): still a component,
        // under the generic type, percent-encoded by hand.
        format!("pkg:generic/{}@{}", percent(&p.name), percent(&p.version))
    })
}

fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    if out.is_empty() {
        out.push_str("unnamed");
    }
    out
}

/// The image's own package URL, when it has a registry digest
/// (`pkg:oci/debian@sha256%3A…?repository_url=docker.io/library/debian&tag=12`).
/// An image only built or imported here has no registry identity.
pub fn image_purl(image: &Image) -> Option<String> {
    let digest = image.digests.first()?;
    let (repo, digest) = digest.split_once('@')?;
    let name = repo.rsplit('/').next().unwrap_or(repo);
    let mut u = packageurl::PackageUrl::new("oci", name.to_string()).ok()?;
    u.with_version(digest.to_string()).ok()?;
    u.add_qualifier("repository_url", repo.to_string()).ok()?;
    // `debian:12` and `docker.io/library/debian@…` name one repository.
    let short = |r: &str| {
        let r = r.strip_prefix("docker.io/").unwrap_or(r);
        r.strip_prefix("library/").unwrap_or(r).to_string()
    };
    let wanted = short(repo);
    if let Some(tag) = image.tags.iter().find_map(|t| {
        let (r, tag) = t.rsplit_once(':').filter(|(_, tag)| !tag.contains('/'))?;
        (short(r) == wanted).then_some(tag)
    }) {
        u.add_qualifier("tag", tag.to_string()).ok()?;
    }
    Some(u.to_string())
}

/// A licence as the metadata wrote it, made an SPDX expression when it is
/// one (or a known misspelling of one: `Apache 2.0`), else kept as a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum License {
    /// A valid SPDX licence expression (`MIT OR Apache-2.0`).
    Spdx(String),
    /// Anything else (`BSD`, a licence's whole text), as written.
    Named(String),
}

/// [`License`] of a metadata field; `None` when it is empty.
pub fn license(raw: &str) -> Option<License> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("UNKNOWN") {
        return None;
    }
    let mode = spdx::ParseMode {
        allow_deprecated: true,
        ..spdx::ParseMode::STRICT
    };
    if let Ok(e) = spdx::Expression::parse_mode(raw, mode) {
        return Some(License::Spdx(e.to_string()));
    }
    // Only a respelling (`Apache 2.0`, `mit`): never a guess that adds
    // what the metadata did not say (`BSD` is not `BSD-2-Clause`).
    let letters = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect::<String>()
    };
    if let Ok(Some(fixed)) = spdx::Expression::canonicalize(raw)
        && letters(&fixed) == letters(raw)
        && let Ok(e) = spdx::Expression::parse_mode(&fixed, mode)
    {
        return Some(License::Spdx(e.to_string()));
    }
    // Free text an author wrote: any secret in it hidden.
    Some(License::Named(crate::model::redact::hide(raw).into_owned()))
}

/// Where a package was found: a language package's metadata file, or the
/// package database an OS package is listed in.
fn location<'s>(p: &'s Package, scan: &'s PackageScan) -> Option<&'s str> {
    if p.path.is_empty() {
        scan.sources
            .iter()
            .find(|s| s.starts_with('/') && !s.ends_with("os-release"))
            .map(String::as_str)
    } else {
        Some(p.path.as_str())
    }
}

/// The layer a package came from and the build step that made it
/// (`layer 3 of 7: COPY app.jar /app/`, secrets in it hidden), when the
/// layers were read one by one.
fn layer_note(p: &Package, image: &Image, scan: &PackageScan) -> Option<String> {
    let l = p.layer?;
    let n = scan.layer_count;
    Some(match image.layer_step(l, n) {
        Some(h) => format!(
            "layer {} of {n}: {}",
            l + 1,
            crate::model::redact::hide(h.created_by.trim())
        ),
        None => format!("layer {} of {n}", l + 1),
    })
}

/// Does this vulnerability name this package (same ecosystem, source and
/// version, and this binary or path among those it lists)?
fn affects(v: &Vulnerability, p: &Package) -> bool {
    let source = if p.source.is_empty() {
        &p.name
    } else {
        &p.source
    };
    let version = if p.source_version.is_empty() {
        &p.version
    } else {
        &p.source_version
    };
    let which = if p.ecosystem == Ecosystem::Os {
        &p.name
    } else {
        &p.path
    };
    v.ecosystem == p.ecosystem
        && source == &v.package
        && version == &v.installed
        && v.binaries.iter().any(|b| b == which)
}

/// `https://osv.dev/vulnerability/CVE-…`: where an advisory is read.
fn advisory_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{}", percent(id))
}

/// The rating of a vulnerability as CycloneDX says it.
fn rating(v: &Vulnerability) -> Value {
    let severity = match v.severity {
        crate::model::Severity::Critical => "critical",
        crate::model::Severity::High => "high",
        crate::model::Severity::Medium => "medium",
        crate::model::Severity::Low => "low",
        crate::model::Severity::Info => "info",
    };
    let mut r = json!({ "severity": severity, "source": { "name": v.rated_by } });
    let cvss = v
        .rated_by
        .strip_prefix("CVSS 3.x ")
        .map(|s| ("CVSSv3", s))
        .or_else(|| v.rated_by.strip_prefix("CVSS 4.0 ").map(|s| ("CVSSv4", s)));
    if let Some((method, score)) = cvss
        && let Ok(score) = score.trim().parse::<f64>()
    {
        r["method"] = json!(method);
        r["score"] = json!(score);
    } else {
        r["method"] = json!("other");
    }
    r
}

/// The components of one image, with the bom-refs the document uses.
struct Listed<'a> {
    image: &'a Image,
    engine: &'a str,
    scan: Option<&'a PackageScan>,
    /// (bom-ref, package, purl)
    packages: Vec<(String, &'a Package, String)>,
    image_ref: String,
}

fn list<'a>(images: &[BomImage<'a>]) -> Vec<Listed<'a>> {
    let mut seen = HashMap::new();
    images
        .iter()
        .map(|b| {
            let scan = b.image.packages.as_deref();
            let short = b.image.short_id();
            let image_ref = format!("image:{}", b.image.id);
            let packages = scan
                .map(|s| {
                    s.packages
                        .iter()
                        .map(|p| {
                            let purl = purl(p, s);
                            // Unique in the document: the same package in
                            // two images, or at two paths of one, is two
                            // components.
                            let base = format!("{purl}#{short}");
                            let n = seen.entry(base.clone()).or_insert(0u32);
                            *n += 1;
                            let bom_ref = if *n == 1 { base } else { format!("{base}-{n}") };
                            (bom_ref, p, purl)
                        })
                        .collect()
                })
                .unwrap_or_default();
            Listed {
                image: b.image,
                engine: b.engine,
                scan,
                packages,
                image_ref,
            }
        })
        .collect()
}

fn image_name(image: &Image) -> String {
    image
        .tags
        .iter()
        .find(|t| *t != "<none>:<none>")
        .map(|t| {
            t.rsplit_once(':')
                .map_or(t.as_str(), |(n, _)| n)
                .to_string()
        })
        .unwrap_or_else(|| image.short_id().to_string())
}

fn cyclonedx(images: &[BomImage<'_>], meta: &BomMeta) -> Value {
    let listed = list(images);
    let tool = json!({
        "type": "application",
        "name": "shipshape",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let image_component = |l: &Listed<'_>, with_children: bool| {
        let mut c = json!({
            "type": "container",
            "bom-ref": l.image_ref,
            "name": image_name(l.image),
            "version": l.image.id,
        });
        if let Some(p) = image_purl(l.image) {
            c["purl"] = json!(p);
        }
        let mut props = vec![json!({ "name": "shipshape:engine", "value": l.engine })];
        for t in &l.image.tags {
            props.push(json!({ "name": "shipshape:tag", "value": t }));
        }
        if let Some(s) = l.scan {
            if !s.os.pretty_name.is_empty() {
                props.push(json!({ "name": "shipshape:os", "value": crate::model::redact::hide(&s.os.pretty_name) }));
            }
            if !s.read_from.is_empty() {
                props.push(
                    json!({ "name": "shipshape:read-through-container", "value": s.read_from }),
                );
            }
        }
        props.push(
            json!({ "name": "shipshape:vulnerabilities", "value": vuln_note(&l.image.vulns) }),
        );
        for note in completeness_notes(l.image) {
            props.push(json!({ "name": "shipshape:not-read", "value": note }));
        }
        c["properties"] = json!(props);
        if with_children {
            c["components"] = json!(
                l.packages
                    .iter()
                    .map(|(r, p, u)| package_component(r, p, u, l.scan, l.image))
                    .collect::<Vec<_>>()
            );
        }
        c
    };
    let (component, components): (Value, Vec<Value>) = if listed.len() == 1 {
        let l = &listed[0];
        (
            image_component(l, false),
            l.packages
                .iter()
                .map(|(r, p, u)| package_component(r, p, u, l.scan, l.image))
                .collect(),
        )
    } else {
        (
            json!({
                "type": "platform",
                "bom-ref": "shipshape:images",
                "name": format!("{} images", listed.len()),
            }),
            listed.iter().map(|l| image_component(l, true)).collect(),
        )
    };
    let mut dependencies = Vec::new();
    let mut compositions = Vec::new();
    let mut vulnerabilities: BTreeMap<String, Value> = BTreeMap::new();
    for l in &listed {
        dependencies.push(json!({
            "ref": l.image_ref,
            "dependsOn": l.packages.iter().map(|(r, _, _)| r.as_str()).collect::<Vec<_>>(),
        }));
        let aggregate = match completeness(l.image) {
            Completeness::Complete => "complete",
            Completeness::Incomplete(_) => "incomplete",
            Completeness::NotRead(_) => "unknown",
        };
        compositions.push(json!({ "aggregate": aggregate, "assemblies": [l.image_ref] }));
        for v in l.image.vulns.vulnerabilities() {
            let refs: Vec<&str> = l
                .packages
                .iter()
                .filter(|(_, p, _)| affects(v, p))
                .map(|(r, _, _)| r.as_str())
                .collect();
            if refs.is_empty() {
                continue;
            }
            // One entry per advisory id: the same CVE in two images or two
            // packages is one vulnerability affecting several components.
            let entry = vulnerabilities.entry(v.id.clone()).or_insert_with(|| {
                let mut e = json!({
                    "bom-ref": format!("vuln:{}", v.id),
                    "id": v.id,
                    "source": { "name": "OSV", "url": advisory_url(&v.id) },
                    "ratings": [rating(v)],
                    "advisories": v.advisories.iter().map(|a| json!({ "title": a, "url": advisory_url(a) })).collect::<Vec<_>>(),
                    "affects": [],
                });
                if !v.summary.is_empty() {
                    e["description"] = json!(v.summary);
                }
                e["recommendation"] = json!(match (&v.fixed, v.state) {
                    (Some(f), _) => format!("upgrade {} to {f} or later", v.package),
                    (None, crate::model::packages::FixState::Unimportant) =>
                        "no fix: the distribution rates it unimportant".to_string(),
                    (None, _) => "no fix released yet".to_string(),
                });
                e
            });
            if let Some(affects) = entry["affects"].as_array_mut() {
                for r in refs {
                    affects.push(json!({
                        "ref": r,
                        "versions": [{ "version": v.installed, "status": "affected" }],
                    }));
                }
            }
        }
    }
    let mut doc = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", meta.uuid()),
        "version": 1,
        "metadata": {
            "timestamp": meta.timestamp(),
            "tools": { "components": [tool] },
            "component": component,
        },
        "components": components,
        "dependencies": dependencies,
        "compositions": compositions,
    });
    if !vulnerabilities.is_empty() {
        doc["vulnerabilities"] = json!(vulnerabilities.into_values().collect::<Vec<_>>());
    }
    doc
}

/// Each thing that was not read of an image, for people.
fn completeness_notes(image: &Image) -> Vec<String> {
    match completeness(image) {
        Completeness::Complete => Vec::new(),
        Completeness::Incomplete(list) => list,
        Completeness::NotRead(why) => vec![why],
    }
}

fn package_component(
    bom_ref: &str,
    p: &Package,
    purl: &str,
    scan: Option<&PackageScan>,
    image: &Image,
) -> Value {
    let mut c = json!({
        "type": "library",
        "bom-ref": bom_ref,
        "name": p.name,
        "version": p.version,
        "purl": purl,
    });
    match license(&p.license) {
        Some(License::Spdx(e)) if !e.contains(' ') => {
            c["licenses"] = json!([{ "license": { "id": e } }]);
        }
        Some(License::Spdx(e)) => c["licenses"] = json!([{ "expression": e }]),
        Some(License::Named(n)) => c["licenses"] = json!([{ "license": { "name": n } }]),
        None => {}
    }
    let mut props = vec![json!({ "name": "shipshape:ecosystem", "value": p.ecosystem.label() })];
    if p.ecosystem == Ecosystem::Os && !p.source.is_empty() && p.source != p.name {
        props.push(json!({ "name": "shipshape:source-package", "value": p.source }));
    }
    if let Some(note) = scan.and_then(|s| layer_note(p, image, s)) {
        props.push(json!({ "name": "shipshape:layer", "value": note }));
    }
    c["properties"] = json!(props);
    if let Some(loc) = scan.and_then(|s| location(p, s)) {
        c["evidence"] = json!({ "occurrences": [{ "location": loc }] });
    }
    c
}

/// `SPDXRef-` followed by what SPDX allows (letters, digits, `.`, `-`).
fn spdx_id(prefix: &str, n: usize, hint: &str) -> String {
    let mut s = format!("SPDXRef-{prefix}-{n}-");
    for ch in hint.chars().take(64) {
        s.push(if ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' {
            ch
        } else {
            '-'
        });
    }
    s.trim_end_matches('-').to_string()
}

fn spdx(images: &[BomImage<'_>], meta: &BomMeta) -> Value {
    let listed = list(images);
    let mut packages = Vec::new();
    let mut relationships = Vec::new();
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let mut n = 0usize;
    let license_ref = |raw: &str, extracted: &mut BTreeMap<String, String>| -> String {
        if let Some((id, _)) = extracted.iter().find(|(_, text)| text.as_str() == raw) {
            return id.clone();
        }
        let id = format!("LicenseRef-{}", extracted.len() + 1);
        extracted.insert(id.clone(), raw.to_string());
        id
    };
    for (i, l) in listed.iter().enumerate() {
        let image_id = spdx_id("Image", i, l.image.short_id());
        let mut image = json!({
            "SPDXID": image_id,
            "name": image_name(l.image),
            "versionInfo": l.image.id,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "primaryPackagePurpose": "CONTAINER",
        });
        if let Some(p) = image_purl(l.image) {
            image["externalRefs"] = json!([{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": p,
            }]);
        }
        let mut comment = format!("read from engine {}", l.engine);
        if !l.image.tags.is_empty() {
            let _ = write!(comment, "; tags: {}", l.image.tags.join(", "));
        }
        let _ = write!(comment, "; {}", vuln_note(&l.image.vulns));
        for note in completeness_notes(l.image) {
            let _ = write!(comment, "; NOT READ, so this list is incomplete: {note}");
        }
        image["comment"] = json!(comment);
        packages.push(image);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": image_id,
        }));
        let vulns = l.image.vulns.vulnerabilities();
        for (_, p, purl) in &l.packages {
            n += 1;
            let id = spdx_id("Package", n, &p.name);
            let declared = match license(&p.license) {
                Some(License::Spdx(e)) => e,
                Some(License::Named(raw)) => license_ref(&raw, &mut extracted),
                None => "NOASSERTION".into(),
            };
            let mut refs = vec![json!({
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            })];
            for v in vulns.iter().filter(|v| affects(v, p)) {
                refs.push(json!({
                    "referenceCategory": "SECURITY",
                    "referenceType": "advisory",
                    "referenceLocator": advisory_url(&v.id),
                    "comment": v.describe(),
                }));
            }
            let mut pkg = json!({
                "SPDXID": id,
                "name": p.name,
                "versionInfo": p.version,
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": declared,
                "copyrightText": "NOASSERTION",
                "primaryPackagePurpose": "LIBRARY",
                "externalRefs": refs,
            });
            let mut info = format!("{} package", p.ecosystem.label());
            if let Some(loc) = l.scan.and_then(|s| location(p, s)) {
                let _ = write!(info, ", found at {loc}");
            }
            if let Some(note) = l.scan.and_then(|s| layer_note(p, l.image, s)) {
                let _ = write!(info, " ({note})");
            }
            if p.ecosystem == Ecosystem::Os && !p.source.is_empty() && p.source != p.name {
                let _ = write!(info, "; built from source package {}", p.source);
            }
            pkg["sourceInfo"] = json!(info);
            packages.push(pkg);
            relationships.push(json!({
                "spdxElementId": image_id,
                "relationshipType": "CONTAINS",
                "relatedSpdxElement": id,
            }));
        }
    }
    let name = match listed.as_slice() {
        [one] => image_name(one.image),
        many => format!("{} images", many.len()),
    };
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": format!("https://shipshape.invalid/spdx/{}", meta.uuid()),
        "creationInfo": {
            "created": meta.timestamp(),
            "creators": [format!("Tool: shipshape-{}", env!("CARGO_PKG_VERSION"))],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        doc["hasExtractedLicensingInfos"] = json!(
            extracted
                .into_iter()
                .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text.chars().take(80).collect::<String>() }))
                .collect::<Vec<_>>()
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;
    use crate::model::packages::{FixState, OsRelease};
    use std::sync::Arc;

    fn pkg(eco: Ecosystem, name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            ecosystem: eco,
            ..Package::default()
        }
    }

    fn debian() -> PackageScan {
        PackageScan {
            os: OsRelease {
                id: "debian".into(),
                version_id: "12".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
                ..OsRelease::default()
            },
            distro: Some(Distro::Debian),
            ecosystem: Some("Debian:12".into()),
            sources: vec!["/var/lib/dpkg/status".into()],
            ..PackageScan::default()
        }
    }

    fn meta() -> BomMeta {
        BomMeta {
            now: DateTime::parse_from_rfc3339("2026-12-04T10:00:00Z")
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or_default(),
            serial: [0xff; 16],
        }
    }

    fn vuln(
        id: &str,
        eco: Ecosystem,
        package: &str,
        installed: &str,
        binaries: &[&str],
    ) -> Vulnerability {
        Vulnerability {
            id: id.into(),
            advisories: vec![format!("GHSA-{id}")],
            package: package.into(),
            binaries: binaries.iter().map(|b| b.to_string()).collect(),
            ecosystem: eco,
            installed: installed.into(),
            fixed: Some("9.9.9".into()),
            state: FixState::Fixed,
            severity: Severity::High,
            rated_by: "CVSS 3.x 7.5".into(),
            summary: "a flaw".into(),
            kev: None,
            epss: None,
            described: String::new(),
        }
    }

    /// An image with an OS package, a scoped npm package and a PyPI
    /// package, two of them vulnerable.
    fn image() -> Image {
        let mut scan = debian();
        let mut ssl = pkg(Ecosystem::Os, "libssl3", "3.0.11-1~deb12u2");
        ssl.source = "openssl".into();
        ssl.license = "Apache-2.0".into();
        let mut xml = pkg(Ecosystem::Npm, "@xmldom/xmldom", "0.8.3");
        xml.path = "/app/node_modules/@xmldom/xmldom/package.json".into();
        xml.license = "MIT".into();
        let mut req = pkg(Ecosystem::PyPI, "requests", "2.31.0");
        req.path =
            "/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA".into();
        req.license = "Apache 2.0".into();
        scan.packages = vec![ssl, xml.clone(), req.clone()];
        let vulns = VulnState::Assessed {
            ecosystem: "Debian:12".into(),
            packages: 3,
            database: "2026-12-01".into(),
            vulnerabilities: vec![
                vuln(
                    "CVE-2024-0001",
                    Ecosystem::Os,
                    "openssl",
                    "3.0.11-1~deb12u2",
                    &["libssl3"],
                ),
                vuln(
                    "CVE-2022-39353",
                    Ecosystem::Npm,
                    "@xmldom/xmldom",
                    "0.8.3",
                    &[&xml.path],
                ),
                // Same name, other ecosystem: names nothing here.
                vuln(
                    "CVE-2099-0002",
                    Ecosystem::Npm,
                    "requests",
                    "2.31.0",
                    &[&req.path],
                ),
            ],
            not_assessed: vec![],
        };
        Image {
            id: format!("sha256:{}", "ab".repeat(32)),
            tags: vec!["shop/api:1.2".into()],
            digests: vec![format!("docker.io/shop/api@sha256:{}", "cd".repeat(32))],
            packages: Some(Arc::new(scan)),
            vulns: Arc::new(vulns),
            ..Image::default()
        }
    }

    #[test]
    fn package_urls_follow_the_purl_spec_for_each_ecosystem() {
        let scan = debian();
        let mut ssl = pkg(Ecosystem::Os, "libssl3", "3.0.11-1~deb12u2");
        ssl.source = "openssl".into();
        assert_eq!(
            purl(&ssl, &scan),
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl"
        );
        let mut epoch = pkg(Ecosystem::Os, "libc6", "2.36-9");
        epoch.source = "glibc".into();
        epoch.source_version = "2.36-9+deb12u1".into();
        assert_eq!(
            purl(&epoch, &scan),
            "pkg:deb/debian/libc6@2.36-9?distro=debian-12&upstream=glibc%402.36-9%2Bdeb12u1"
        );
        let alpine = PackageScan {
            os: OsRelease {
                id: "alpine".into(),
                version_id: "3.20.3".into(),
                ..OsRelease::default()
            },
            distro: Some(Distro::Alpine),
            ..PackageScan::default()
        };
        assert_eq!(
            purl(&pkg(Ecosystem::Os, "musl", "1.2.5-r0"), &alpine),
            "pkg:apk/alpine/musl@1.2.5-r0?distro=alpine-3.20.3"
        );
        assert_eq!(
            purl(&pkg(Ecosystem::Npm, "@xmldom/xmldom", "0.8.3"), &scan),
            "pkg:npm/%40xmldom/xmldom@0.8.3"
        );
        assert_eq!(
            purl(&pkg(Ecosystem::Npm, "lodash", "4.17.20"), &scan),
            "pkg:npm/lodash@4.17.20"
        );
        assert_eq!(
            purl(&pkg(Ecosystem::PyPI, "Requests", "2.31.0"), &scan),
            "pkg:pypi/requests@2.31.0",
            "the purl spec lowercases PyPI names"
        );
        // An unknown distribution is generic, with no namespace.
        let unknown = PackageScan::default();
        assert_eq!(
            purl(&pkg(Ecosystem::Os, "x", "1"), &unknown),
            "pkg:generic/x@1"
        );
    }

    #[test]
    fn hostile_names_make_valid_package_urls_and_never_break_out_of_their_part() {
        let scan = debian();
        for name in [
            "",
            "a b",
            "../../etc/passwd",
            "x?y=z#f",
            "a@b",
            "ü\u{0}\n",
            "@",
            "@scope/",
            "%41",
        ] {
            for eco in [Ecosystem::Os, Ecosystem::Npm, Ecosystem::PyPI] {
                let u = purl(&pkg(eco, name, "1.0 beta?#"), &scan);
                assert!(u.starts_with("pkg:"), "{u}");
                assert!(
                    !u.contains(' ') && !u.contains('\n') && !u.contains('\0'),
                    "{u}"
                );
                // The version cannot start a qualifier or a subpath.
                assert_eq!(
                    u.matches('?').count(),
                    usize::from(u.contains("?distro=")),
                    "{u}"
                );
                assert!(!u.contains('#'), "{u}");
                // What is read back is what was written.
                if let Ok(back) = u.parse::<packageurl::PackageUrl<'_>>() {
                    assert_eq!(back.version(), Some("1.0 beta?#"), "{u}");
                }
            }
        }
    }

    #[test]
    fn licences_become_spdx_expressions_when_they_are_one() {
        assert_eq!(license("MIT"), Some(License::Spdx("MIT".into())));
        assert_eq!(
            license("MIT OR Apache-2.0"),
            Some(License::Spdx("MIT OR Apache-2.0".into()))
        );
        assert_eq!(
            license("Apache 2.0"),
            Some(License::Spdx("Apache-2.0".into()))
        );
        assert_eq!(
            license("BSD"),
            Some(License::Named("BSD".into())),
            "no clause count guessed"
        );
        assert_eq!(license("mit"), Some(License::Spdx("MIT".into())));
        assert_eq!(license("  "), None);
        assert_eq!(license("UNKNOWN"), None);
        let text = "Permission is hereby granted, free of charge, to any person";
        assert_eq!(license(text), Some(License::Named(text.into())));
    }

    #[test]
    fn the_serial_is_a_version_4_uuid_and_fresh_ones_differ() {
        let u = meta().uuid();
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let zero = BomMeta {
            serial: [0; 16],
            ..meta()
        };
        assert_eq!(zero.uuid(), "00000000-0000-4000-8000-000000000000");
        assert_ne!(BomMeta::fresh().uuid(), BomMeta::fresh().uuid());
    }

    #[test]
    fn completeness_says_what_was_not_read() {
        let mut img = image();
        assert_eq!(completeness(&img), Completeness::Complete);
        let mut scan = (**img.packages.as_ref().unwrap_or(&Arc::new(debian()))).clone();
        scan.unread = vec!["/app/node_modules: stopped at 100,000 entries".into()];
        img.packages = Some(Arc::new(scan));
        assert_eq!(
            completeness(&img),
            Completeness::Incomplete(vec!["/app/node_modules: stopped at 100,000 entries".into()])
        );
        img.packages = None;
        img.vulns = Arc::new(VulnState::NotAssessed {
            reason: "engine closed the stream".into(),
        });
        assert_eq!(
            completeness(&img),
            Completeness::NotRead("engine closed the stream".into())
        );
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap_or(Value::Null)
    }

    #[test]
    fn cyclonedx_lists_every_package_with_purl_licence_location_and_its_vulnerabilities() {
        let img = image();
        let doc = parse(&render(
            SbomFormat::CycloneDx,
            &[BomImage {
                image: &img,
                engine: "local",
            }],
            &meta(),
        ));
        assert_eq!(doc["specVersion"], "1.6");
        assert_eq!(
            doc["serialNumber"],
            "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        assert_eq!(doc["metadata"]["timestamp"], "2026-12-04T10:00:00Z");
        assert_eq!(doc["metadata"]["component"]["type"], "container");
        assert_eq!(doc["metadata"]["component"]["name"], "shop/api");
        assert_eq!(
            doc["metadata"]["component"]["purl"],
            format!(
                "pkg:oci/api@sha256:{}?repository_url=docker.io/shop/api&tag=1.2",
                "cd".repeat(32)
            )
        );
        let comps = doc["components"].as_array().cloned().unwrap_or_default();
        let purls: Vec<&str> = comps.iter().filter_map(|c| c["purl"].as_str()).collect();
        assert_eq!(
            purls,
            [
                "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl",
                "pkg:npm/%40xmldom/xmldom@0.8.3",
                "pkg:pypi/requests@2.31.0",
            ]
        );
        assert_eq!(comps[0]["licenses"][0]["license"]["id"], "Apache-2.0");
        assert_eq!(comps[2]["licenses"][0]["license"]["id"], "Apache-2.0");
        assert_eq!(
            comps[0]["evidence"]["occurrences"][0]["location"],
            "/var/lib/dpkg/status"
        );
        assert_eq!(
            comps[1]["evidence"]["occurrences"][0]["location"],
            "/app/node_modules/@xmldom/xmldom/package.json"
        );
        // Only the vulnerabilities that name a package of the bill, each
        // pointing at its component.
        let vulns = doc["vulnerabilities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let ids: Vec<&str> = vulns.iter().filter_map(|v| v["id"].as_str()).collect();
        assert_eq!(ids, ["CVE-2022-39353", "CVE-2024-0001"]);
        assert_eq!(vulns[0]["affects"][0]["ref"], comps[1]["bom-ref"]);
        assert_eq!(vulns[1]["affects"][0]["ref"], comps[0]["bom-ref"]);
        assert_eq!(vulns[0]["ratings"][0]["score"], 7.5);
        assert_eq!(vulns[0]["ratings"][0]["method"], "CVSSv3");
        assert_eq!(
            vulns[0]["recommendation"],
            "upgrade @xmldom/xmldom to 9.9.9 or later"
        );
        assert_eq!(doc["compositions"][0]["aggregate"], "complete");
        assert_eq!(
            doc["dependencies"][0]["dependsOn"].as_array().map(Vec::len),
            Some(3)
        );
    }

    #[test]
    fn two_images_sharing_a_package_get_distinct_refs_and_one_vulnerability_entry() {
        let a = image();
        let mut b = image();
        b.id = format!("sha256:{}", "ef".repeat(32));
        b.digests.clear();
        let doc = parse(&render(
            SbomFormat::CycloneDx,
            &[
                BomImage {
                    image: &a,
                    engine: "local",
                },
                BomImage {
                    image: &b,
                    engine: "local",
                },
            ],
            &meta(),
        ));
        assert_eq!(doc["metadata"]["component"]["type"], "platform");
        let images = doc["components"].as_array().cloned().unwrap_or_default();
        assert_eq!(images.len(), 2);
        assert!(
            images[1].get("purl").is_none(),
            "an image without a registry digest has no purl"
        );
        let mut refs: Vec<String> = images
            .iter()
            .flat_map(|i| i["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["bom-ref"].as_str().map(str::to_string))
            .collect();
        assert_eq!(refs.len(), 6);
        refs.sort();
        refs.dedup();
        assert_eq!(refs.len(), 6, "bom-refs are unique in the document");
        let vulns = doc["vulnerabilities"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(vulns.len(), 2);
        assert_eq!(vulns[0]["affects"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn a_bill_with_a_gap_says_so_in_both_formats() {
        let mut img = image();
        let mut scan = debian();
        scan.unread = vec!["/app/node_modules: stopped at 40 levels".into()];
        img.packages = Some(Arc::new(scan));
        let bom = [BomImage {
            image: &img,
            engine: "local",
        }];
        let cdx = parse(&render(SbomFormat::CycloneDx, &bom, &meta()));
        assert_eq!(cdx["compositions"][0]["aggregate"], "incomplete");
        let props = cdx["metadata"]["component"]["properties"].to_string();
        assert!(props.contains("stopped at 40 levels"), "{props}");
        let spdx = parse(&render(SbomFormat::Spdx, &bom, &meta()));
        let comment = spdx["packages"][0]["comment"].as_str().unwrap_or_default();
        assert!(
            comment.contains(
                "NOT READ, so this list is incomplete: /app/node_modules: stopped at 40 levels"
            ),
            "{comment}"
        );
    }

    #[test]
    fn spdx_describes_the_image_and_contains_each_package() {
        let mut img = image();
        let mut scan = (**img.packages.as_ref().unwrap_or(&Arc::new(debian()))).clone();
        scan.packages[1].license = "BSD".into();
        scan.packages[2].license = "BSD".into();
        img.packages = Some(Arc::new(scan));
        let doc = parse(&render(
            SbomFormat::Spdx,
            &[BomImage {
                image: &img,
                engine: "local",
            }],
            &meta(),
        ));
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(doc["dataLicense"], "CC0-1.0");
        assert_eq!(
            doc["documentNamespace"],
            "https://shipshape.invalid/spdx/ffffffff-ffff-4fff-bfff-ffffffffffff"
        );
        let packages = doc["packages"].as_array().cloned().unwrap_or_default();
        assert_eq!(packages.len(), 4);
        assert_eq!(packages[0]["primaryPackagePurpose"], "CONTAINER");
        let image_id = packages[0]["SPDXID"].as_str().unwrap_or_default();
        assert!(image_id.starts_with("SPDXRef-Image-0-"), "{image_id}");
        for p in &packages {
            let id = p["SPDXID"].as_str().unwrap_or_default();
            assert!(
                id.strip_prefix("SPDXRef-").is_some_and(|r| r
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')),
                "{id}"
            );
        }
        assert_eq!(packages[1]["licenseDeclared"], "Apache-2.0");
        // Two packages naming the same non-SPDX licence share one LicenseRef.
        assert_eq!(packages[2]["licenseDeclared"], "LicenseRef-1");
        assert_eq!(packages[3]["licenseDeclared"], "LicenseRef-1");
        assert_eq!(
            doc["hasExtractedLicensingInfos"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(doc["hasExtractedLicensingInfos"][0]["extractedText"], "BSD");
        let refs = packages[2]["externalRefs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(
            refs[0]["referenceLocator"],
            "pkg:npm/%40xmldom/xmldom@0.8.3"
        );
        assert_eq!(refs[1]["referenceCategory"], "SECURITY");
        assert_eq!(
            refs[1]["referenceLocator"],
            "https://osv.dev/vulnerability/CVE-2022-39353"
        );
        assert_eq!(
            packages[3]["externalRefs"].as_array().map(Vec::len),
            Some(1),
            "an npm advisory for a PyPI package of the same name does not apply"
        );
        let rels = doc["relationships"].as_array().cloned().unwrap_or_default();
        assert_eq!(rels.len(), 4);
        assert_eq!(rels[0]["relationshipType"], "DESCRIBES");
        assert!(
            rels[1..]
                .iter()
                .all(|r| r["relationshipType"] == "CONTAINS" && r["spdxElementId"] == image_id)
        );
    }

    #[test]
    fn formats_are_named_on_the_command_line_as_people_write_them() {
        assert_eq!("CycloneDX".parse(), Ok(SbomFormat::CycloneDx));
        assert_eq!("cdx".parse(), Ok(SbomFormat::CycloneDx));
        assert_eq!("spdx".parse(), Ok(SbomFormat::Spdx));
        assert!("swid".parse::<SbomFormat>().is_err());
    }
}
