//! Fuzz targets: every parser of outside input, each as one function of
//! arbitrary bytes that must never panic, hang or grow without bound.
//!
//! The same functions are driven two ways (one place, so they cannot
//! drift): by a short property-based run in `cargo test` (`tests/fuzz.rs`,
//! seeded from the captured engine JSON in `tests/fixtures`), and by
//! coverage-guided libFuzzer runs (`fuzz/`, `scripts/fuzz.sh`).
//!
//! Each target also checks what must hold for any input: exporters produce
//! valid JSON/SARIF, no human-facing output carries a hidden character, no
//! secret value reaches an output.

use chrono::{DateTime, Utc};

use crate::model::{Inventory, Severity};
use crate::policy::Policy;
use crate::report::{Format, Report};

/// A fixed "now", so runs are reproducible.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
}

/// The demo lab (parsed once): the rest of an inventory for a fuzzed part.
fn lab() -> Inventory {
    static LAB: std::sync::OnceLock<Inventory> = std::sync::OnceLock::new();
    LAB.get_or_init(|| crate::watch::demo::inventory().unwrap_or_default())
        .clone()
}

fn json<T: serde::de::DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

/// Render every format and check the invariants that hold for any report.
fn export_all(report: &Report) {
    for f in Format::ALL {
        let text = f.render(report);
        match f {
            Format::Json | Format::Sarif => {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&text).is_ok(),
                    "{f:?} is not valid JSON"
                );
                assert!(
                    !text.chars().any(crate::model::text::is_hidden_multiline),
                    "{f:?}"
                );
            }
            Format::Html | Format::Markdown => {
                assert!(
                    !text.chars().any(crate::model::text::is_hidden_multiline),
                    "{f:?}"
                );
            }
            Format::Csv => {
                // Rows end in CRLF; inside cells nothing is hidden.
                let mut rd = csv::Reader::from_reader(text.as_bytes());
                for rec in rd.records() {
                    let rec = rec.expect("the CSV parses back");
                    for cell in rec.iter() {
                        assert!(
                            !cell.chars().any(crate::model::text::is_hidden_multiline),
                            "hidden character in CSV cell {cell:?}"
                        );
                        let t = cell.trim_start_matches([' ', '\n', '\u{a0}']);
                        assert!(
                            !t.starts_with(['=', '+', '-', '@', '\t', '\r']),
                            "formula cell {cell:?}"
                        );
                    }
                }
            }
        }
    }
    let _ = report.human_summary();
}

/// Assess an inventory and export the result, as a scan does.
fn assess_and_export(inv: &Inventory) {
    let a = crate::assess::assess(inv, &Policy::default(), now());
    for c in a.containers.values() {
        assert!(c.score <= 100);
    }
    let report = Report::build(inv, &a, &Policy::default(), now());
    export_all(&report);
}

/// `GET /containers/{id}/json` → model → rules → every exporter.
pub fn container_inspect(data: &[u8]) {
    let Some(r) = json::<bollard::models::ContainerInspectResponse>(data) else {
        return;
    };
    let c = crate::sources::docker::convert::container(r);
    let mut inv = lab();
    inv.containers.truncate(2);
    inv.containers.push(c);
    assess_and_export(&inv);
}

/// `GET /images/{id}/json` plus its history → model → rules → exporters.
pub fn image_inspect(data: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Input {
        image: bollard::models::ImageInspect,
        #[serde(default)]
        history: Vec<bollard::models::ImageHistoryResponseItem>,
    }
    let input = json::<Input>(data).or_else(|| {
        json::<bollard::models::ImageInspect>(data).map(|image| Input {
            image,
            history: Vec::new(),
        })
    });
    let Some(input) = input else { return };
    let img = crate::sources::docker::convert::image(input.image, input.history);
    let mut inv = lab();
    inv.containers.truncate(2);
    if let Some(c) = inv.containers.first_mut() {
        c.image_id = img.id.clone();
    }
    inv.images.truncate(1);
    inv.images.push(img);
    assess_and_export(&inv);
}

/// `GET /info` (with `/version`) → engine model → engine rules → exporters.
pub fn engine_info(data: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Input {
        info: bollard::models::SystemInfo,
        #[serde(default)]
        version: bollard::models::SystemVersion,
    }
    let input = json::<Input>(data).or_else(|| {
        json::<bollard::models::SystemInfo>(data).map(|info| Input {
            info,
            version: Default::default(),
        })
    });
    let Some(input) = input else { return };
    let target = crate::sources::docker::Target {
        endpoint: crate::sources::docker::Endpoint::Unix("/var/run/docker.sock".into()),
        found_by: crate::sources::docker::FoundBy::Flag,
    };
    let env = crate::sources::docker::EnvSnapshot::default();
    let engine = crate::sources::docker::convert::engine(
        input.info,
        input.version,
        None,
        &target,
        &env,
        "1.41",
    );
    let inv = Inventory {
        engine,
        ..Inventory::default()
    };
    assess_and_export(&inv);
}

/// One `/events` message → a timeline entry, graded, summarised, shown.
pub fn event(data: &[u8]) {
    let Some(msg) = json::<bollard::models::EventMessage>(data) else {
        return;
    };
    let mut a = crate::sources::docker::events::activity(&msg);
    a.grade();
    let line = crate::model::visible(&a.summary()).into_owned();
    assert!(!line.chars().any(crate::model::text::is_hidden));
    let text = serde_json::to_string(&a).expect("an activity serialises");
    let back: crate::model::Activity = serde_json::from_str(&text).expect("an activity reads back");
    assert_eq!(back.action, a.action);
}

/// `GET /exec/{id}/json` → an exec session; its command is redacted.
pub fn exec_inspect(data: &[u8]) {
    let Some(r) = json::<bollard::models::ExecInspectResponse>(data) else {
        return;
    };
    let container = lab().containers.into_iter().next();
    let s = crate::sources::docker::convert::exec_session(r, container.as_ref(), now());
    let _ = s.describe();
    let _ = crate::model::visible(&s.command_line());
}

/// `GET /containers/json` and `GET /images/json`: split entry by entry
/// without decoding, each entry parsed alone, ids checked, at most the
/// ceiling kept, every warning bounded and safe to show.
pub fn engine_lists(data: &[u8]) {
    use crate::sources::docker::{is_engine_id, list};
    let mut errors = 0;
    for e in list::entries(data) {
        match e {
            Ok(entry) => assert!(!entry.is_empty()),
            Err(_) => errors += 1,
        }
    }
    assert!(errors <= 1, "a list breaks off once");
    let containers = list::containers(data, 8);
    let images = list::images(data, 8);
    let ids: Vec<&str> = containers
        .items
        .iter()
        .map(|c| c.id.as_str())
        .chain(images.items.iter().map(|i| i.id.as_str()))
        .collect();
    assert!(containers.items.len() <= 8 && images.items.len() <= 8);
    assert!(ids.iter().all(|id| is_engine_id(id)));
    for l in [&containers.warnings, &images.warnings] {
        assert!(l.len() <= list::NAMED_WARNINGS + 3, "{l:?}");
        for w in l {
            assert!(!w.text.chars().any(crate::model::text::is_hidden), "{w:?}");
        }
    }
    let unique: std::collections::HashSet<&str> =
        containers.items.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(unique.len(), containers.items.len(), "an id is read once");
}

/// `GET /containers/{id}/changes` → drift plan (paths and kinds as given).
pub fn changes(data: &[u8]) {
    let Some(raw) = json::<Vec<(String, i64)>>(data) else {
        return;
    };
    let mounts: Vec<String> = raw.iter().take(2).map(|(p, _)| p.clone()).collect();
    let plan = crate::sources::docker::drift::plan(raw, &mounts);
    let stats = plan
        .to_stat
        .iter()
        .map(|(p, k)| (p.clone(), *k, Ok(0o100755)))
        .collect();
    let _ = crate::sources::docker::drift::finish(plan, stats);
}

/// Exploit data as `db import` reads it, gzip'd or not: CISA's KEV
/// catalogue or FIRST's EPSS scores, parsed or refused, never a panic.
/// What is kept is never empty, its version is printable, and every score
/// and percentile is a number from 0 to 1.
pub fn exploit_data(data: &[u8]) {
    use crate::vulndb::exploits;
    let Ok(bytes) = exploits::unpack(data) else {
        return;
    };
    let _ = exploits::sniff(&bytes);
    let printable = |s: &str| {
        !s.chars()
            .any(|c| c.is_control() || crate::model::text::is_hidden(c))
    };
    if let Ok((version, kev)) = exploits::parse_kev(&bytes) {
        assert!(printable(&version), "{version:?}");
        assert!(!kev.is_empty());
    }
    if let Ok((version, epss)) = exploits::parse_epss(&bytes) {
        assert!(printable(&version), "{version:?}");
        assert!(!epss.is_empty());
        for e in epss.values() {
            assert!((0.0..=1.0).contains(&e.score) && (0.0..=1.0).contains(&e.percentile));
        }
    }
}

/// The policy file: parsed or refused with a message, never a panic.
pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Policy::from_toml_str(text, None) {
        assert!(!e.to_string().is_empty());
    }
}

/// A JSON report, as given to `--baseline` or read back: every exporter
/// over it, and the baseline comparison against the demo lab.
pub fn report_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(old) = crate::report::json::parse(text) else {
        return;
    };
    export_all(&old);
    let inv = lab();
    let a = crate::assess::assess(&inv, &Policy::default(), now());
    let mut report = Report::build(&inv, &a, &Policy::default(), now());
    crate::report::baseline::apply(&mut report, &old, "fuzz.json");
    export_all(&report);
    let _ = report.has_active_at_least(Severity::High);
}

/// An audit log of arbitrary lines: verified (never a panic, an edit is a
/// problem not a crash), then opened and appended to, which either seals
/// a torn tail or refuses; the result verifies or reports its damage.
pub fn audit_log(data: &[u8]) {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("audit.jsonl");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let first = crate::audit::verify(&path);
    let Ok(mut log) = crate::audit::AuditLog::open(&path, 1 << 20) else {
        return;
    };
    if log.append("fuzz", serde_json::json!({ "n": 1 })).is_err() {
        return;
    }
    drop(log);
    // Whatever was intact before stays intact after an append.
    if let Ok(Ok(_)) = first {
        assert!(
            matches!(crate::audit::verify(&path), Ok(Ok(_))),
            "an intact log was damaged by an append"
        );
    }
}

/// The files of an image's package database (os-release, dpkg status,
/// apk database, apk repositories): parsed, turned into an inventory and
/// matched against a small database, whatever they hold.
pub fn package_files(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // One input feeds every parser, and also a combined image.
    let _ = crate::vulndb::installed::os_release(&text);
    let _ = crate::vulndb::installed::apk_branch(&text);
    let dpkg = crate::vulndb::installed::dpkg_status(&text);
    let apk = crate::vulndb::installed::apk_installed(&text);
    assert!(dpkg.len() <= crate::vulndb::installed::MAX_PACKAGES);
    assert!(apk.len() <= crate::vulndb::installed::MAX_PACKAGES);
    let (os, rest) = text.split_once("\n\n").unwrap_or((&text, ""));
    let files = crate::vulndb::installed::Files {
        os_release: Some(os.to_string()),
        apk_repositories: Some(rest.to_string()),
        dpkg_status: Some(rest.to_string()),
        dpkg_status_d: vec![rest.to_string()],
        apk_installed: Some(rest.to_string()),
        dpkg_lists: vec![("/var/lib/dpkg/info/x.list".into(), rest.to_string())],
        rpm_db: Some(Ok(crate::vulndb::installed::RpmDbFile {
            path: "/var/lib/rpm/rpmdb.sqlite".into(),
            format: crate::vulndb::rpmdb::Format::Sqlite,
            bytes: rest.as_bytes().to_vec(),
        })),
    };
    let mut scan = crate::vulndb::installed::scan(&files, now().date_naive());
    let db = fixture_db();
    // Match whatever it claims to be against both schemes too.
    for eco in [
        scan.ecosystem.clone(),
        Some("Debian:12".into()),
        Some("Alpine:v3.22".into()),
    ] {
        scan.ecosystem = eco;
        scan.not_assessed = None;
        if let Ok(v) = db.match_scan(&scan) {
            for x in &v {
                let _ = x.describe();
            }
        }
    }
}

/// A small database for the matcher targets.
fn fixture_db() -> &'static crate::vulndb::Database {
    static DB: std::sync::OnceLock<crate::vulndb::Database> = std::sync::OnceLock::new();
    DB.get_or_init(|| {
        let mut b = crate::vulndb::Builder::default();
        for (eco, name, fixed) in [
            ("Debian:12", "openssl", "3.0.13-1~deb12u1"),
            ("Debian:12", "zlib", "1:1.2.13.dfsg-1+deb12u1"),
            ("Alpine:v3.22", "busybox", "1.37.0-r19"),
        ] {
            if let Ok(r) = serde_json::from_value(serde_json::json!({
                "id": format!("FUZZ-{name}"), "upstream": [format!("CVE-2099-{name}")],
                "affected": [{ "package": { "ecosystem": eco, "name": name },
                    "ranges": [{ "type": "ECOSYSTEM", "events": [{ "introduced": "0" }, { "fixed": fixed }] }] }]
            })) {
                b.add(r);
            }
        }
        b.finish(now())
    })
}

/// One OSV record: imported (as a zip entry would be), and the database
/// built from it matches against both version schemes.
pub fn osv_record(data: &[u8]) {
    let mut imp = crate::vulndb::store::Import::default();
    let mut zip = Vec::new();
    {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        if w.start_file("r.json", opts).is_err() {
            return;
        }
        use std::io::Write;
        let _ = w.write_all(data);
        let _ = w.finish();
    }
    if imp
        .zip(std::io::Cursor::new(zip), std::path::Path::new("fuzz.zip"))
        .is_err()
    {
        return;
    }
    let db = imp.builder.finish(now());
    let (advisories, index) = db.parts();
    for pkgs in index.values() {
        for entries in pkgs.values() {
            for e in entries {
                assert!((e.advisory as usize) < advisories.len());
            }
        }
    }
    for (eco, version) in [("Debian:12", "1:2.0-1"), ("Alpine:v3.22", "1.0_rc1-r2")] {
        for pkg in index
            .get(eco)
            .map(|p| p.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let scan = crate::model::packages::PackageScan {
                ecosystem: Some(eco.into()),
                packages: vec![crate::model::packages::Package {
                    name: pkg.clone(),
                    version: version.into(),
                    source: pkg,
                    source_version: version.into(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            let _ = db.match_scan(&scan);
        }
    }
}

/// Version order: total, antisymmetric and reflexive on anything.
pub fn versions(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    use crate::vulndb::version::Scheme;
    for scheme in [
        Scheme::Dpkg,
        Scheme::Apk,
        Scheme::Rpm,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Maven,
    ] {
        let ab = scheme.compare(a, b);
        assert_eq!(ab, scheme.compare(b, a).reverse(), "{scheme:?} {a:?} {b:?}");
        assert_eq!(scheme.compare(a, a), std::cmp::Ordering::Equal);
    }
}

/// A custom seccomp profile, as a container's author wrote it into
/// `--security-opt seccomp=…`: judged without panicking, the same way each
/// time, and a deny-list verdict always names what it lets through.
pub fn seccomp_profile(data: &[u8]) {
    use crate::rules::privileges::{Seccomp, judge_seccomp};
    let text = String::from_utf8_lossy(data);
    let verdict = judge_seccomp(&text);
    assert_eq!(verdict, judge_seccomp(&text));
    if let Seccomp::Denylist { lets_through } = verdict {
        assert!(!lets_through.is_empty());
    }
}

/// A `/proc/PID/net/{tcp,tcp6,udp,udp6}` table (the first byte picks
/// which), as a container's kernel namespace writes it: parsed without
/// panicking, within the line cap, the same way each time; its sockets
/// then named as the peers of a small engine's containers.
pub fn proc_net_table(data: &[u8]) {
    use crate::model::flows::NetObserved;
    use crate::sources::runtime::{peers, sockets};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (_, proto, v6) = sockets::TABLES[usize::from(pick) % 4];
    let text = String::from_utf8_lossy(rest);
    let (list, cut) = sockets::parse_table(&text, proto, v6);
    assert!(list.len() <= sockets::MAX_LINES);
    assert_eq!((list.clone(), cut), sockets::parse_table(&text, proto, v6));
    let mut inv = lab();
    let ns = sockets::NetnsSockets {
        netns: "net:[1]".into(),
        sockets: list,
        ..Default::default()
    };
    let reads = (0..inv.containers.len().min(3))
        .map(|i| (i, Ok(std::sync::Arc::new(ns.clone()))))
        .collect();
    peers::fill(&mut inv.containers, reads);
    for c in inv.containers.iter().take(3) {
        if let NetObserved::Seen(o) = &c.sockets {
            for conn in &o.connections {
                assert!(!conn.peer.describe().is_empty());
            }
        }
    }
}

/// A fuzz target: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target by name, for the drivers.
/// The application's package metadata (Python `METADATA`, npm
/// `package.json`) and their matching: bounded fields, no panic.
pub fn app_packages(data: &[u8]) {
    use crate::vulndb::apps;
    let text = String::from_utf8_lossy(data);
    let first = text.lines().next().unwrap_or("");
    let _ = (
        apps::is_npm_manifest(first),
        apps::is_python_file(first),
        apps::node_depth(first),
    );
    let _ = apps::pypi_name(first);
    let _ = apps::python_metadata(&text);
    let _ = apps::npm_manifest(data);
    let _ = apps::npm_lock(data, "/app/package-lock.json");
    let found = crate::vulndb::catalog::collect([
        ("/usr/lib/python3/dist-packages/x.dist-info/METADATA", data),
        (
            "/usr/lib/python3/dist-packages/x.dist-info/INSTALLER",
            b"pip".as_slice(),
        ),
        ("/app/node_modules/x/package.json", data),
        ("/srv/package-lock.json", data),
        (first, data),
    ]);
    for p in &found.packages {
        assert!(p.name.chars().count() <= 256 && p.version.chars().count() <= 256);
    }
    let scan = crate::model::packages::PackageScan {
        packages: found.packages,
        ..Default::default()
    };
    let mut b = crate::vulndb::Builder::default();
    for (eco, name) in [("PyPI", "x"), ("npm", "x")] {
        if let Ok(r) = serde_json::from_value(serde_json::json!({ "id": "T-1",
            "affected": [{ "package": { "ecosystem": eco, "name": name },
                "ranges": [{ "type": "SEMVER", "events": [{ "introduced": "0" }, { "fixed": first }] }] }] }))
        {
            b.add(r);
        }
    }
    let db = b.finish(now());
    let (v, _) = db.match_languages(&scan);
    for x in &v {
        let _ = x.describe();
    }
}

/// An RPM database of any of the three formats (the first byte picks
/// which), and a header blob: bounded, no panic.
pub fn rpm_database(data: &[u8]) {
    use crate::vulndb::rpmdb::{self, Format};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(pick) % 3];
    if let Ok(r) = rpmdb::read(format, rest) {
        assert!(r.packages.len() <= rpmdb::MAX_PACKAGES);
        for p in &r.packages {
            let _ = (p.evr(), p.source_name(), p.to_package("/var/lib/rpm"));
        }
    }
    let _ = rpmdb::header(rest);
}

/// An executable: Go build information, `cargo auditable`'s list; and the
/// text module list alone. Bounded, no panic.
pub fn binaries(data: &[u8]) {
    use crate::vulndb::binaries;
    if let Ok(p) = binaries::packages(data, "/usr/local/bin/x") {
        for x in &p {
            assert!(x.name.chars().count() <= 512 && x.version.chars().count() <= 512);
        }
    }
    let _ = binaries::parse_modinfo(&String::from_utf8_lossy(data));
}

/// A Java archive, nested ones too: bounded, no panic.
pub fn java_archive(data: &[u8]) {
    let f = crate::vulndb::java::archive(std::io::Cursor::new(data), "/app/app.jar");
    for p in &f.packages {
        assert!(p.name.chars().count() <= 513);
    }
}

/// An image export (`GET /images/{id}/get`): its layers, found by digest
/// (every regular entry's SHA-256 is taken as one the inspect names),
/// overlaid and read — bounded, no panic, nothing kept but what the
/// readers want.
pub fn image_export(data: &[u8]) {
    use sha2::Digest as _;
    let mut wanted = Vec::new();
    if let Ok(mut outer) = tar::Archive::new(data).entries() {
        for e in outer.by_ref().take(64).flatten() {
            let mut e = e;
            let mut h = sha2::Sha256::new();
            if std::io::copy(&mut e, &mut HashWriter(&mut h)).is_ok() {
                wanted.push(format!("sha256:{:x}", h.finalize()));
            }
        }
    }
    let today = now().date_naive();
    if let Ok(f) = crate::sources::docker::export::from_bytes(data, wanted, today) {
        assert!(
            f.packages.packages.len()
                <= crate::vulndb::installed::MAX_PACKAGES + crate::vulndb::catalog::MAX_PACKAGES
        );
    }
}

/// `io::Write` into a hash.
struct HashWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A file looked at for credentials (the first line is its path, the rest
/// its bytes): what it holds is said by kind, bounded, and nothing panics.
pub fn baked_secrets(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let path = String::from_utf8_lossy(&data[..split]).into_owned();
    let rest = data.get(split + 1..).unwrap_or(&[]);
    for kind in crate::vulndb::baked::scan(&path, rest) {
        assert!(kind.chars().count() <= 600, "{kind}");
    }
    let _ = (
        crate::vulndb::baked::wanted(&path, rest.len() as u64),
        crate::vulndb::catalog::keep(&path, 0o644, rest.len() as u64),
    );
    let mut c = crate::vulndb::catalog::Catalog::default();
    c.add_file(&path, Some(0), rest);
    let _ = c.finish();
}

/// Any author-written text through the one redaction: bounded, idempotent,
/// each secret's place in the output is [`crate::model::redact::HIDDEN`],
/// nothing is found again in what it gives, and a command's arguments
/// stay as many.
pub fn redaction(data: &[u8]) {
    use crate::model::redact::{self, HIDDEN};
    let text = String::from_utf8_lossy(data);
    let r = redact::redact(&text);
    assert!(r.text.len() <= text.len() + HIDDEN.len() * r.found.len());
    for f in &r.found {
        assert_eq!(r.text.get(f.at.clone()), Some(HIDDEN));
        let _ = (r.spot(f), f.kind.describe());
    }
    assert_eq!(r.found.is_empty(), r.text == text);
    assert!(
        redact::find(&r.text).is_empty(),
        "found again in {:?}",
        r.text
    );
    let args: Vec<String> = text.split('\n').map(str::to_string).collect();
    assert_eq!(redact::redact_args(&args).len(), args.len());
    let (k, v) = text.split_once('=').unwrap_or(("label", &text));
    let shown = redact::label_value(k, v);
    assert!(redact::find(&shown).is_empty() || shown == HIDDEN);
}

/// A compose file (and an override after a line `---8<---`): read with its
/// ceilings, loaded, every service judged and located, and the hardening
/// diff of each service written against the file — bounded, and nothing
/// panics.
pub fn compose_file(data: &[u8]) {
    use crate::sources::compose::{convert, load, yaml};
    let text = String::from_utf8_lossy(data);
    let (base, over) = text.split_once("---8<---\n").unwrap_or((&text, ""));
    let mut input = load::Input {
        files: vec![("compose.yaml".into(), base.to_string())],
        folder: "fuzz".into(),
        profiles: vec!["*".into()],
        ..load::Input::default()
    };
    if !over.is_empty() {
        input
            .files
            .push(("compose.override.yaml".into(), over.to_string()));
    }
    input.env.insert("TAG".into(), "1.0".into());
    let Ok(project) = load::load(&input) else {
        return;
    };
    let policy = crate::model::policy::Policy::default();
    let now = chrono::Utc::now();
    let checked =
        crate::sources::compose::check(&project, "/fuzz", &Default::default(), &policy, now);
    for s in project.services.iter().take(8) {
        let lines = convert::lines(&project, s);
        for f in checked
            .assessment
            .containers
            .values()
            .flat_map(|a| &a.findings)
        {
            if let Some(at) = lines.locate(f.rule_id) {
                assert!(at.line >= 1);
            }
        }
        let id = format!("{}-{}-1", project.name, s.name);
        if let Some(plan) =
            crate::harden::plan(&checked.inventory, &id, &policy, &Default::default(), now)
            && let Some(lines) = crate::harden::service_lines(&plan.original)
            && lines
                .service
                .as_ref()
                .is_some_and(|l| l.file == "compose.yaml")
        {
            let _ = crate::harden::compose_diff(&plan, lines, base);
            // What harden prints is quoted for its target: the command
            // shows no raw control character, the service reads back as YAML.
            let run = crate::harden::run_command(&plan, None);
            assert!(
                !run.chars()
                    .any(|c| c != '\n' && crate::model::text::is_hidden(c)),
                "{run}"
            );
            let service = crate::harden::compose_service(&plan, None);
            assert!(yaml::parse(&service).is_ok(), "{service}");
        }
    }
}

/// A process's `/proc` files (`cgroup`, `stat`, `status`, `cmdline`, an
/// fd link): each parser on the same bytes, bounded, never panicking; the
/// ids a cgroup file names are 64-hex, at most 4; no argument carries a
/// secret the redaction finds.
pub fn proc_files(data: &[u8]) {
    use crate::sources::runtime::{cgroup, procfs};
    let text = String::from_utf8_lossy(data);
    let owner = cgroup::parse(&text);
    assert!(owner.ids.len() <= 4);
    for (_, id) in &owner.ids {
        assert_eq!(id.len(), 64);
        assert!(owner.names(id));
    }
    let _ = (owner.outer(), owner.nested());
    if let Some(s) = procfs::parse_stat(&text) {
        assert!(s.comm.chars().count() <= 64);
    }
    let _ = (procfs::parse_uids(&text), procfs::parse_btime(&text));
    let args = procfs::parse_cmdline(data, 16);
    assert!(args.len() <= 16);
    assert!(args.iter().all(|a| a.chars().count() <= 1_024 + 16));
    let _ = crate::model::runtime::Stdio::of_link(&text).describe();
    assert!(crate::sources::runtime::events::parse_events(data).len() <= 1_024);
}

/// What a registry answers about signatures (the first byte picks the
/// parser: 0 a manifest or index, 1 a simple-signing payload, 2 a
/// repository digest, 3 a bearer challenge, 4 a token answer), and the
/// verdict over a fetched signature made of the rest: nothing panics,
/// every digest accepted is a sha256 digest, nothing verifies without a key.
pub fn registry_answers(data: &[u8]) {
    use crate::integrity::parse;
    use crate::model::integrity::{Evidence, FetchedSignature, SignatureSource};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match pick % 5 {
        0 => {
            if let Ok(m) = parse::manifest(rest) {
                assert!(m.layers.len() <= parse::MAX_ENTRIES);
                for d in m.layers.iter().chain(&m.manifests) {
                    assert!(parse::is_sha256_digest(&d.digest));
                }
            }
        }
        1 => {
            if let Ok(p) = parse::payload(rest) {
                assert!(parse::is_sha256_digest(&p.digest));
            }
        }
        2 => {
            if let Ok(r) = parse::repo_digest(&text) {
                assert!(!r.repository.contains(".."));
                assert!(!r.repository.contains('?'));
            }
        }
        3 => {
            if let Some(c) = parse::challenge(&text) {
                assert!(!c.realm.is_empty());
            }
        }
        _ => {
            let _ = parse::token(rest);
        }
    }
    use base64::Engine as _;
    let ev = Evidence {
        signatures: vec![FetchedSignature {
            source: SignatureSource::Tag,
            layer_digest: format!(
                "sha256:{}",
                crate::integrity::keys::hex(&<sha2::Sha256 as sha2::Digest>::digest(rest))
            ),
            payload: base64::engine::general_purpose::STANDARD.encode(rest),
            signature: text.chars().take(200).collect(),
        }],
        ..Evidence::default()
    };
    let out = crate::integrity::verify(&ev, "sha256:00", &[]);
    assert!(!out.is_verified());
}

/// A public key file (PEM) and a DER SubjectPublicKeyInfo: read or refused
/// with a reason, never a panic; a signature shape check on the same bytes.
pub fn public_key(data: &[u8]) {
    use crate::integrity::keys;
    let text = String::from_utf8_lossy(data);
    if let Ok(k) = keys::from_pem(&text) {
        assert!(k.fingerprint.starts_with("sha256:"));
        assert!(!keys::verifies(&k, b"x", data));
    }
    if let Ok(k) = keys::from_spki(data) {
        assert_eq!(k.fingerprint.len(), 71);
    }
    for alg in [
        keys::Algorithm::EcdsaP256,
        keys::Algorithm::Ed25519,
        keys::Algorithm::Rsa { modulus: 256 },
    ] {
        let _ = keys::well_formed(alg, data);
    }
}

pub const TARGETS: &[(&str, Target)] = &[
    ("proc_files", proc_files),
    ("compose_file", compose_file),
    ("container_inspect", container_inspect),
    ("image_inspect", image_inspect),
    ("engine_info", engine_info),
    ("event", event),
    ("exec_inspect", exec_inspect),
    ("changes", changes),
    ("policy_toml", policy_toml),
    ("exploit_data", exploit_data),
    ("report_json", report_json),
    ("audit_log", audit_log),
    ("package_files", package_files),
    ("osv_record", osv_record),
    ("versions", versions),
    ("seccomp_profile", seccomp_profile),
    ("app_packages", app_packages),
    ("rpm_database", rpm_database),
    ("binaries", binaries),
    ("java_archive", java_archive),
    ("image_export", image_export),
    ("baked_secrets", baked_secrets),
    ("engine_lists", engine_lists),
    ("redaction", redaction),
    ("proc_net_table", proc_net_table),
    ("registry_answers", registry_answers),
    ("public_key", public_key),
];
