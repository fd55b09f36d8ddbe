//! Known vulnerabilities against a real engine, offline: the OSV fixture
//! records (tests/fixtures/osv) are zipped here and imported with the real
//! importer; local images built from the busybox root filesystem carry an
//! os-release and a dpkg status / apk database listing chosen versions
//! (tests/fixtures/packages, built by scripts/engine-up.sh). Each image's
//! CVE set is asserted exactly, and every engine event the scan causes is
//! one of its own reads.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::scan::*;
use common::*;
use serde_json::Value;

/// `tests/fixtures/osv/<Eco>/*.json` → `<dir>/<Eco>/all.zip`, as OSV
/// publishes them.
pub fn zip_fixtures(dir: &Path) -> Vec<PathBuf> {
    let src = repo_root().join("tests/fixtures/osv");
    let mut out = Vec::new();
    for eco in ["Debian", "Alpine", "Other"] {
        let d = dir.join(eco);
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("all.zip");
        let mut z = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut files: Vec<PathBuf> = std::fs::read_dir(src.join(eco))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            z.start_file(f.file_name().unwrap().to_string_lossy(), opts)
                .unwrap();
            z.write_all(&std::fs::read(&f).unwrap()).unwrap();
        }
        z.finish().unwrap();
        out.push(path);
    }
    out
}

/// Every event our containers caused between `since` and `until`.
fn events_of(prefix: &str, since: f64, until: f64) -> Vec<(String, String)> {
    let out = docker(&[
        "events",
        "--since",
        &format!("{since:.6}"),
        "--until",
        &format!("{until:.6}"),
        "--format",
        "{{json .}}",
    ]);
    let ids: BTreeSet<String> = docker(&[
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &format!("name={prefix}"),
    ])
    .lines()
    .map(str::to_string)
    .collect();
    out.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            let actor = e["Actor"]["ID"].as_str().unwrap_or("");
            let container = e["Actor"]["Attributes"]["container"].as_str().unwrap_or("");
            ids.contains(actor) || ids.contains(container)
        })
        .map(|e| {
            (
                e["Type"].as_str().unwrap_or("").to_string(),
                e["Action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn known_vulnerabilities_of_real_images_exactly_and_only_own_reads() {
    let _serial = serial();
    let mut fx = Fixture::new("vulns");
    let tmp = fx.tmp.path().to_path_buf();
    let db = tmp.join("db");

    // No database yet: images are "not assessed", never clean.
    let debian = fx.create("deb", &["-v", "/data", "shipshape-test/debian12:1"]);
    // Through the engine (its archive API), as for an engine elsewhere:
    // what is read is cached by image id, and the images' containers are
    // made below (the layer directories are compared at the end).
    let through_engine = [("SHIPSHAPE_NO_LAYER_READS", "1")];
    let r = scan_json_env(&db, &tmp, "none.json", &[], &through_engine);
    let deb = image(&r, "shipshape-test/debian12:1");
    assert_eq!(deb["vulnerabilities"]["status"], "not_assessed", "{deb}");
    assert!(
        deb["vulnerabilities"]["reason"]
            .as_str()
            .unwrap()
            .contains("db update"),
        "{deb}"
    );

    // Import the fixtures with the real importer.
    let zips = zip_fixtures(&tmp.join("osv"));
    let mut args = vec!["db", "import"];
    let zs: Vec<String> = zips.iter().map(|z| z.display().to_string()).collect();
    args.extend(zs.iter().map(String::as_str));
    let out = shipshape(&db, &args);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("25 records"), "{said}");
    assert!(
        said.contains("1 of other ecosystems, 1 withdrawn"),
        "{said}"
    );
    // The folder as a whole, as a mirror of the OSV bucket is laid out
    // (`<Eco>/all.zip`): the same records; what it does not match is named.
    // Before, this said "no records found".
    let out = shipshape(&db, &["db", "import", tmp.join("osv").to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("25 records"), "{said}");
    assert!(
        said.contains("left out: ") && said.contains("Other/all.zip"),
        "{said}"
    );
    let status = shipshape(&db, &["db", "status"]);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains("Debian:12") && status.contains("Alpine:v3.22"),
        "{status}"
    );

    let distroless = fx.create("dl", &["-v", "/data2", "shipshape-test/distroless:1"]);
    let alpine = fx.create("alp", &["shipshape-test/alpine322:1"]);
    let eol = fx.create("eol", &["shipshape-test/debian11:1"]);
    let rocky = fx.create("rpm", &["shipshape-test/rocky9:1"]);
    // Modes that let any user replace what root runs.
    let ww_image = fx.build(
        "ww:1",
        &format!(
            "FROM {BASE}\nRUN mkdir -p /usr/local/bin && chmod 777 /usr/local/bin && chmod 1777 /usr/sbin && chmod 666 /etc/passwd && chmod 777 /bin/busybox\n"
        ),
    );
    fx.create("ww", &[&ww_image]);
    // A running container into which "apt" installed curl after start.
    let patched = fx.run("patched", &["shipshape-test/debian12:1"]);
    fx.docker(&[
        "exec",
        &patched,
        "sh",
        "-c",
        "printf '\\nPackage: curl\\nStatus: install ok installed\\nVersion: 7.88.1-10+deb12u4\\n' >> /var/lib/dpkg/status",
    ]);
    let _ = (&debian, &distroless, &alpine, &eol, &rocky);

    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    std::thread::sleep(std::time::Duration::from_millis(200));
    let since = epoch();
    let r = scan_json_env(&db, &tmp, "r.json", &[], &through_engine);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let until = epoch();

    let debian12 = set(&[
        "CVE-2010-4756",
        "CVE-2024-0727",
        "CVE-2099-0003",
        "CVE-2099-0004",
        "CVE-2099-0006",
        "CVE-2099-0008",
        "CVE-2099-0012",
        "CVE-2099-0101",
    ]);
    let deb = image(&r, "shipshape-test/debian12:1");
    assert_eq!(
        cves(&deb["findings"], "image.known-vulnerabilities"),
        debian12
    );
    // The same packages listed in status.d/ (distroless).
    let dl = image(&r, "shipshape-test/distroless:1");
    assert_eq!(
        cves(&dl["findings"], "image.known-vulnerabilities"),
        debian12
    );
    let alp = image(&r, "shipshape-test/alpine322:1");
    assert_eq!(
        cves(&alp["findings"], "image.known-vulnerabilities"),
        set(&["CVE-2099-0201", "CVE-2099-0202"])
    );
    // Details: grouped aliases, binaries ← source, fixed / no fix / unimportant.
    let v = deb["vulnerabilities"]["vulnerabilities"]
        .as_array()
        .unwrap();
    let by = |id: &str| v.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(
        by("CVE-2024-0727")["advisories"],
        serde_json::json!(["DEBIAN-CVE-2024-0727", "SHIPSHAPE-TEST-DSA-1"])
    );
    assert_eq!(
        by("CVE-2024-0727")["binaries"],
        serde_json::json!(["libssl3", "openssl"])
    );
    assert_eq!(by("CVE-2024-0727")["fixed"], "3.0.13-1~deb12u1");
    assert_eq!(
        by("CVE-2099-0008")["installed"],
        "2.38.1-5+deb12u3",
        "the source version"
    );
    assert_eq!(by("CVE-2099-0003")["state"], "no_fix");
    assert_eq!(by("CVE-2010-4756")["state"], "unimportant");
    assert_eq!(by("CVE-2099-0004")["severity"], "critical");
    // Setuid (CIS 4.8).
    let setuid: Vec<&str> = deb["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "image.setuid-files")
        .map(|f| f["evidence"].as_str().unwrap())
        .collect();
    assert_eq!(setuid, ["1 file(s): /usr/bin/passwd (setuid, 4755)"]);
    // An end-of-life release: what the data knows (a Debian:11 record) is
    // shown, and a finding says it gets no more fixes. Before, it was "not
    // assessed" and the CVE was hidden.
    let eol_img = image(&r, "shipshape-test/debian11:1");
    assert_eq!(eol_img["vulnerabilities"]["status"], "assessed");
    assert_eq!(
        cves(&eol_img["findings"], "image.known-vulnerabilities"),
        set(&["CVE-2099-0010"])
    );
    let eol_findings: Vec<&Value> = eol_img["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "image.release-end-of-life")
        .collect();
    assert_eq!(eol_findings.len(), 1, "{}", eol_img["findings"]);
    assert!(
        eol_findings[0]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("Debian 11 reached its end of support on 2026-08-31"),
        "{}",
        eol_findings[0]["evidence"]
    );
    assert!(
        !eol_img["findings"]
            .to_string()
            .contains("image.vulns-not-assessed"),
        "matched, so not 'not assessed'"
    );
    // Supported releases have no such finding.
    assert!(
        !deb["findings"]
            .to_string()
            .contains("image.release-end-of-life")
    );
    // World-writable where root's programs come from: exactly these.
    let ww = image(&r, &ww_image);
    let mut got: Vec<(String, String)> = ww["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "image.world-writable")
        .map(|f| {
            (
                f["evidence"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "/bin/busybox is world-writable (777)".to_string(),
                "high".to_string()
            ),
            (
                "/etc/passwd is world-writable (666)".to_string(),
                "high".to_string()
            ),
            (
                "/usr/local/bin is world-writable (777)".to_string(),
                "high".to_string()
            ),
            (
                "/usr/sbin is world-writable (1777, sticky)".to_string(),
                "medium".to_string()
            ),
        ]
    );
    for clean in ["shipshape-test/debian12:1", "shipshape-test/alpine322:1"] {
        assert!(
            !image(&r, clean)["findings"]
                .to_string()
                .contains("image.world-writable"),
            "{clean}"
        );
    }
    let rpm = image(&r, "shipshape-test/rocky9:1");
    assert!(
        rpm["vulnerabilities"]["reason"]
            .as_str()
            .unwrap()
            .contains("RPM")
    );
    assert_eq!(
        cves(&rpm["findings"], "image.known-vulnerabilities"),
        set(&[])
    );
    // The container that installed curl: its own finding, not its image's.
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == patched.as_str())
        .unwrap();
    assert_eq!(
        cves(&c["findings"], "container.known-vulnerabilities"),
        debian12
            .iter()
            .cloned()
            .chain(["CVE-2099-0016".to_string()])
            .collect()
    );
    assert!(!cves(&deb["findings"], "image.known-vulnerabilities").contains("CVE-2099-0016"));

    // Read-only: every event our containers caused during the scan is one of
    // its reads (archive-path, the volume mounts they bring, top).
    let evs = events_of(&fx.prefix, since, until);
    assert!(evs.iter().any(|(_, a)| a == "archive-path"), "{evs:?}");
    assert!(
        evs.iter().any(|(t, a)| t == "volume" && a == "mount"),
        "{evs:?}"
    );
    for (t, a) in &evs {
        assert!(
            matches!(
                (t.as_str(), a.as_str()),
                ("container", "archive-path" | "top") | ("volume", "mount" | "unmount")
            ),
            "the scan caused {t} {a}"
        );
    }

    // The same facts from the images' layer directories (an engine on this
    // machine, the default), with no archive read of any image: the only
    // container read is the one whose packages changed.
    let db2 = tmp.join("db-layers");
    let out = shipshape(&db2, &args);
    assert!(out.status.success());
    let since = epoch();
    let rl = scan_json(&db2, &tmp, "layers.json", &[]);
    std::thread::sleep(std::time::Duration::from_secs(1));
    let until = epoch();
    for tag in [
        "shipshape-test/debian12:1",
        "shipshape-test/distroless:1",
        "shipshape-test/alpine322:1",
        "shipshape-test/debian11:1",
        ww_image.as_str(),
    ] {
        let (a, b) = (image(&r, tag), image(&rl, tag));
        assert_eq!(
            cves(&a["findings"], "image.known-vulnerabilities"),
            cves(&b["findings"], "image.known-vulnerabilities"),
            "{tag}"
        );
        let rules = |i: &Value| -> BTreeSet<(String, String)> {
            i["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule_id"] != "image.known-vulnerabilities")
                .map(|f| (f["rule_id"].to_string(), f["evidence"].to_string()))
                .collect()
        };
        assert_eq!(rules(a), rules(b), "{tag}");
        assert_eq!(a["packages"]["os"], b["packages"]["os"], "{tag}");
        assert!(
            b["packages"]["read_by"]
                .as_str()
                .unwrap()
                .contains("layer directories"),
            "{tag}: {}",
            b["packages"]
        );
    }
    let patched_id = docker(&["inspect", "-f", "{{.Id}}", &patched]);
    let reads = docker(&[
        "events",
        "--since",
        &format!("{since:.6}"),
        "--until",
        &format!("{until:.6}"),
        "--filter",
        "event=archive-path",
        "--format",
        "{{.Actor.ID}}",
    ]);
    let readers: BTreeSet<&str> = reads.lines().collect();
    assert_eq!(readers, BTreeSet::from([patched_id.as_str()]), "{reads}");

    // Read once per image id: a second scan reads only the container whose
    // packages changed (its own files), nothing of the images.
    let since = epoch();
    let out = shipshape_env(
        &db,
        &["scan", "-q", "-o", tmp.join("r2.json").to_str().unwrap()],
        &through_engine,
    );
    assert!(out.status.success());
    std::thread::sleep(std::time::Duration::from_secs(1));
    let until = epoch();
    let reads = docker(&[
        "events",
        "--since",
        &format!("{since:.6}"),
        "--until",
        &format!("{until:.6}"),
        "--filter",
        "event=archive-path",
        "--format",
        "{{.Actor.ID}}",
    ]);
    let readers: BTreeSet<&str> = reads.lines().collect();
    assert_eq!(readers, BTreeSet::from([patched_id.as_str()]), "{reads}");
    let r2: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("r2.json")).unwrap()).unwrap();
    assert_eq!(
        cves(
            &image(&r2, "shipshape-test/debian12:1")["findings"],
            "image.known-vulnerabilities"
        ),
        debian12,
        "the cached inventory matches the same"
    );
}

/// An image no container uses (freshly pulled, say) is assessed like any
/// other: its known vulnerabilities, its setuid files and the credential
/// baked into it, in the scan and in `sbom IMAGE`. On this machine from its
/// layer directories, with no engine call but its inspect; as for an engine
/// elsewhere, not assessed (never clean) until the export is allowed, then
/// the same facts from the engine's image export, whose `image save` event
/// is shipshape's own read.
#[test]
fn an_image_no_container_uses_is_assessed_from_its_layers_or_its_export() {
    let _serial = serial();
    let mut fx = Fixture::new("lonely");
    let tmp = fx.tmp.path().to_path_buf();
    let db = tmp.join("db");
    let zips = zip_fixtures(&tmp.join("osv"));
    let mut args = vec!["db", "import"];
    let zs: Vec<String> = zips.iter().map(|z| z.display().to_string()).collect();
    args.extend(zs.iter().map(String::as_str));
    assert!(shipshape(&db, &args).status.success());
    let img = fx.build_in(
        "lonely:1",
        "FROM shipshape-test/debian12:1\nCOPY app.env /app/.env\nLABEL shipshape.lonely=1\n",
        |ctx| std::fs::write(ctx.join("app.env"), "DB_PASSWORD=lonely-baked-value-77\n").unwrap(),
    );
    let id = docker(&["image", "inspect", "-f", "{{.Id}}", &img]);
    let debian12 = set(&[
        "CVE-2010-4756",
        "CVE-2024-0727",
        "CVE-2099-0003",
        "CVE-2099-0004",
        "CVE-2099-0006",
        "CVE-2099-0008",
        "CVE-2099-0012",
        "CVE-2099-0101",
    ]);
    let assessed = |r: &Value, how: &str| {
        let i = image(r, &img);
        assert_eq!(i["used_by"].as_array().map_or(0, Vec::len), 0, "{how}: {i}");
        assert_eq!(i["vulnerabilities"]["status"], "assessed", "{how}: {i}");
        assert_eq!(
            cves(&i["findings"], "image.known-vulnerabilities"),
            debian12,
            "{how}"
        );
        let rules: Vec<&str> = i["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap())
            .collect();
        for rule in ["image.setuid-files", "image.secret-file"] {
            assert!(rules.contains(&rule), "{how}: {rule} in {rules:?}");
        }
        assert!(
            !r.to_string().contains("lonely-baked-value"),
            "{how}: no value shown"
        );
        i["packages"]["read_by"].as_str().unwrap().to_string()
    };

    // On this machine: its layers.
    let r = scan_json(&db, &tmp, "layers.json", &[]);
    assert!(assessed(&r, "layers").contains("layer directories"));
    let bom = tmp.join("lonely.cdx.json");
    let out = shipshape(&db, &["sbom", &img, "-o", bom.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    validate_sbom("cyclonedx", &bom);
    let text = std::fs::read_to_string(&bom).unwrap();
    assert!(text.contains("pkg:deb/debian/libssl3@"), "the OS packages");
    assert!(text.contains("CVE-2024-0727"), "and their vulnerabilities");

    // As if the engine were elsewhere: not assessed, with how to allow it
    // (an Info finding, never "clean").
    let remote = [("SHIPSHAPE_NO_LAYER_READS", "1")];
    let db2 = tmp.join("db-export");
    assert!(shipshape(&db2, &args).status.success());
    let r = scan_json_env(&db2, &tmp, "remote.json", &[], &remote);
    let i = image(&r, &img);
    assert_eq!(i["vulnerabilities"]["status"], "not_assessed", "{i}");
    let why = i["vulnerabilities"]["reason"].as_str().unwrap();
    assert!(
        why.starts_with("no container uses this image") && why.contains("--export-images"),
        "{why}"
    );
    let epoch = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let start = epoch();
    let r = scan_json_env(&db2, &tmp, "export.json", &["--export-images"], &remote);
    assert!(assessed(&r, "export").contains("image export"));
    std::thread::sleep(std::time::Duration::from_secs(1));
    let until = epoch();
    let saves = docker(&[
        "events",
        "--since",
        &format!("{start:.6}"),
        "--until",
        &format!("{until:.6}"),
        "--filter",
        "event=save",
        "--format",
        "{{.Actor.ID}}",
    ]);
    assert!(saves.lines().any(|l| l == id), "the export: {saves}");
    // `sbom IMAGE` names one image: its export is allowed without the flag.
    let db3 = tmp.join("db-sbom");
    assert!(shipshape(&db3, &args).status.success());
    let out = shipshape_env(&db3, &["sbom", &img, "-o", bom.to_str().unwrap()], &remote);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read_to_string(&bom)
            .unwrap()
            .contains("CVE-2024-0727")
    );
}

/// The Debian version order agrees with `dpkg --compare-versions` itself
/// (on every Debian machine), over generated versions with epochs, tildes,
/// pluses, letters and revisions.
#[test]
fn dpkg_order_agrees_with_dpkg_itself() {
    use proptest::prelude::*;
    use shipshape::vulndb::version::dpkg;
    if Command::new("dpkg").arg("--version").output().is_err() {
        eprintln!("SKIPPED: no dpkg on this machine to compare with");
        return;
    }
    let dpkg_says = |a: &str, op: &str, b: &str| {
        Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .status()
            .unwrap()
            .success()
    };
    let version = "([0-9]{1,2}:)?[0-9][0-9a-z.+~]{0,6}(-[0-9a-z.+~]{1,5})?";
    let cfg = proptest::test_runner::Config {
        cases: 300,
        failure_persistence: None,
        ..Default::default()
    };
    proptest!(cfg, |(a in version, b in version)| {
        let ours = dpkg(&a, &b);
        let theirs = if dpkg_says(&a, "lt", &b) {
            std::cmp::Ordering::Less
        } else if dpkg_says(&a, "eq", &b) {
            std::cmp::Ordering::Equal
        } else {
            std::cmp::Ordering::Greater
        };
        prop_assert_eq!(ours, theirs, "{} vs {}", a, b);
    });
}

/// The window's worker reads image files in the background, matches them,
/// and its own reads never show up as activity (the own-call filter takes
/// the `archive-path` event and the volume mounts each read causes).
#[test]
fn the_worker_assesses_images_and_its_reads_are_not_activity() {
    use shipshape::watch::docker;
    use shipshape::watch::messages::Event;
    let _serial = serial();
    let mut fx = Fixture::new("vulnworker");
    let tmp = fx.tmp.path().to_path_buf();
    let db = tmp.join("db");
    let zips = zip_fixtures(&tmp.join("osv"));
    shipshape::vulndb::store::Store::at(&db)
        .import(&zips, chrono::Utc::now())
        .unwrap();
    let name = fx.create("deb", &["-v", "/data", "shipshape-test/debian12:1"]);
    let rt = runtime();
    let cfg = vulns_worker_config(&db);
    let (cmd, mut rx) = docker::spawn(rt.handle(), cfg, std::sync::Arc::new(|_| {}));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut activity = Vec::new();
    let mut assessed = None;
    rt.block_on(async {
        while std::time::Instant::now() < deadline {
            match tokio::time::timeout(std::time::Duration::from_secs(1), rx.recv()).await {
                Ok(Some(Event::Activity(a))) => activity.push(a),
                Ok(Some(Event::Snapshot(s))) => {
                    if let Some(img) = s
                        .inventory
                        .images
                        .iter()
                        .find(|i| i.tags.iter().any(|t| t == "shipshape-test/debian12:1"))
                        && !img.vulns.vulnerabilities().is_empty()
                        && assessed.is_none()
                    {
                        assessed = Some(img.vulns.vulnerabilities().len());
                    }
                }
                Ok(Some(_)) | Err(_) => {}
                Ok(None) => break,
            }
            // Give the read's events time to arrive, then stop.
            if assessed.is_some() {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                while let Ok(ev) = rx.try_recv() {
                    if let Event::Activity(a) = ev {
                        activity.push(a);
                    }
                }
                break;
            }
        }
    });
    let _ = cmd.send(shipshape::watch::messages::Command::Shutdown);
    assert_eq!(
        assessed,
        Some(8),
        "the debian12 image assessed in the background"
    );
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    let ours: Vec<String> = activity
        .iter()
        .filter(|a| a.name == name || a.container_id.as_deref() == Some(id.as_str()))
        .map(|a| format!("{} {}", a.source.as_str(), a.action))
        .collect();
    assert!(
        !ours
            .iter()
            .any(|a| a.contains("archive-path") || a.contains("mount")),
        "shipshape's own reads reached the timeline: {ours:?}"
    );
}

/// Every archive call mounts the container's volumes, and the engine logs
/// each mount — for a path that is not there (a 404) and for a `HEAD` stat
/// too. Each of those events is claimed as shipshape's own, exactly once:
/// none reaches the timeline, whatever order the events and answers come in.
#[test]
fn archive_reads_and_stats_claim_every_volume_event_they_cause() {
    use futures_util::StreamExt;
    use shipshape::sources::docker::{Endpoint, Engine, FoundBy, Target, events, files};
    let _serial = serial();
    let mut fx = Fixture::new("ownvol");
    let name = fx.create(
        "two",
        &["-v", "/data", "-v", "/cache", "shipshape-test/base:1"],
    );
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    let rt = runtime();
    let (ours, theirs) = rt.block_on(async {
        let engine = Engine::connect(Target {
            endpoint: Endpoint::Unix("/var/run/docker.sock".into()),
            found_by: FoundBy::Flag,
        })
        .await
        .expect("engine");
        let c = engine.container(&id).await.expect("inspect");
        assert_eq!(c.volume_count(), 2);
        let since = format!("{}", chrono::Utc::now().timestamp() - 1);
        let lim = files::PACKAGE_FILES;
        assert!(matches!(
            files::read(&engine, &id, 2, "/no/such/file", lim, |_| true).await,
            Err(files::FileError::NotFound(_))
        ));
        files::read(&engine, &id, 2, "/etc/passwd", lim, |_| true)
            .await
            .expect("a file that is there");
        engine.stat_path(&id, "/etc/passwd", 2).await.expect("stat");
        assert!(engine.stat_path(&id, "/no/such/file", 2).await.is_err());
        // Replay the engine's log of this container since just before.
        let mut stream = std::pin::pin!(engine.events(Some(since)));
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let end = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(end, stream.next()).await {
            let a = events::activity(&msg);
            if a.container_id.as_deref() != Some(id.as_str()) {
                continue;
            }
            let what = format!("{} {}", a.source.as_str(), a.action);
            if engine.own_calls().claim(&a) {
                ours.push(what);
            } else {
                theirs.push(what);
            }
        }
        (ours, theirs)
    });
    // Four calls, two volumes: eight mounts and eight unmounts, one archive-path.
    let count = |w: &str| ours.iter().filter(|a| a.as_str() == w).count();
    assert_eq!(count("volume mount"), 8, "{ours:?}");
    assert_eq!(count("volume unmount"), 8, "{ours:?}");
    assert_eq!(count("container archive-path"), 1, "{ours:?}");
    assert!(
        theirs.iter().all(|a| a == "container create"),
        "shipshape's own reads would reach the timeline: {theirs:?}"
    );
}

/// A tiny HTTP/1.1 file server on loopback: `GET /<Eco>/all.zip` from
/// `root`; 404 otherwise. Each file's `ETag` is its length; `Range:
/// bytes=N-` with a matching `If-Range` is answered 206. A file
/// `<path>.break` holding a number makes the next answer of `<path>` stop
/// after that many bytes of the body (then the marker is gone), as a
/// dropped connection does. Serves until the test ends.
fn serve(root: PathBuf) -> u16 {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let (mut range, mut if_range) = (None, None);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("range: bytes=") {
                    range = v.trim().trim_end_matches('-').parse::<usize>().ok();
                }
                if let Some(v) = lower.strip_prefix("if-range:") {
                    if_range = Some(v.trim().to_string());
                }
            }
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/')
                .replace("%20", " ");
            match std::fs::read(root.join(&path)) {
                Ok(body) => {
                    let etag = format!("\"{}\"", body.len());
                    let from = match (range, &if_range) {
                        (Some(n), Some(t)) if *t == etag && n <= body.len() => n,
                        _ => 0,
                    };
                    let marker = root.join(format!("{path}.break"));
                    let cut = std::fs::read_to_string(&marker)
                        .ok()
                        .and_then(|n| n.trim().parse::<usize>().ok());
                    let _ = std::fs::remove_file(&marker);
                    let part = &body[from..];
                    let head = if from > 0 {
                        format!(
                            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{}\r\n",
                            body.len() - 1,
                            body.len()
                        )
                    } else {
                        "HTTP/1.1 200 OK\r\n".to_string()
                    };
                    let _ = write!(
                        stream,
                        "{head}Content-Length: {}\r\nETag: {etag}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                        part.len()
                    );
                    let _ = stream.write_all(&part[..cut.unwrap_or(part.len()).min(part.len())]);
                }
                Err(_) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    port
}

/// A download that breaks off is retried and resumed from where it
/// stopped (`Range` + `If-Range`), within the run; the log says the size.
#[test]
fn db_update_resumes_a_broken_download() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    zip_fixtures(&mirror);
    // An ecosystem whose name needs encoding, served from "Red Hat/".
    std::fs::create_dir_all(mirror.join("Red Hat")).unwrap();
    let rh = serde_json::json!({"id": "RHSA-TEST-9", "upstream": ["CVE-2099-0999"],
        "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9::baseos", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.8-1.el9"}]}]}]});
    {
        let mut z =
            zip::ZipWriter::new(std::fs::File::create(mirror.join("Red Hat/all.zip")).unwrap());
        z.start_file("RHSA-TEST-9.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(rh.to_string().as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let size = std::fs::metadata(mirror.join("Debian/all.zip"))
        .unwrap()
        .len();
    std::fs::write(mirror.join("Debian/all.zip.break"), (size / 2).to_string()).unwrap();
    let port = serve(mirror.clone());
    let db = tmp.path().join("db");
    let from = format!("http://127.0.0.1:{port}");
    let out = shipshape(
        &db,
        &[
            "db",
            "update",
            "--from",
            &from,
            "--ecosystem",
            "Debian",
            "--ecosystem",
            "Red Hat",
        ],
    );
    let (said, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{said}{err}");
    assert!(
        !mirror.join("Debian/all.zip.break").exists(),
        "the first answer broke off"
    );
    assert!(said.contains("Red Hat:enterprise_linux:9 (1)"), "{said}");
    assert!(said.contains("Debian:12"), "{said}");
    assert!(
        err.contains(&format!("of {:.1} MiB", size as f64 / (1 << 20) as f64)),
        "{err}"
    );
    // Nothing is left half-downloaded.
    let left: Vec<_> = std::fs::read_dir(db.join(".downloads")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `shipshape db update` downloads from a mirror, verifies, replaces the
/// database atomically; a failed update leaves the old one as it was.
#[test]
fn db_update_downloads_verifies_and_replaces_atomically() {
    let tmp = tempfile::tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    zip_fixtures(&mirror);
    let port = serve(mirror.clone());
    let db = tmp.path().join("db");
    let from = format!("http://127.0.0.1:{port}");
    let out = shipshape(
        &db,
        &[
            "db",
            "update",
            "--from",
            &from,
            "--ecosystem",
            "Debian",
            "--ecosystem",
            "Alpine",
        ],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("25 records"), "{said}");
    assert!(
        said.contains(&format!("{from}/Debian/all.zip")),
        "the origin is recorded: {said}"
    );
    let before = std::fs::read(db.join("osv-db.json.gz")).unwrap();

    // Ubuntu is not on this mirror: the update fails, the old data stays.
    let out = shipshape(&db, &["db", "update", "--from", &from]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("404") && err.contains("unchanged"), "{err}");
    assert_eq!(std::fs::read(db.join("osv-db.json.gz")).unwrap(), before);

    // A damaged download (cut short) is refused the same way.
    let full = std::fs::read(mirror.join("Debian/all.zip")).unwrap();
    std::fs::write(mirror.join("Debian/all.zip"), &full[..full.len() / 2]).unwrap();
    let out = shipshape(
        &db,
        &["db", "update", "--from", &from, "--ecosystem", "Debian"],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(db.join("osv-db.json.gz")).unwrap(), before);

    // Plain http is refused away from loopback; nothing is fetched.
    let out = shipshape(
        &db,
        &["db", "update", "--from", "http://mirror.example.com"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing plain http"));
}

/// Only GET and HEAD reach the engine, vulnerability reads included: a
/// proxy between `shipshape scan` and the engine records every request
/// line it forwards.
#[test]
fn the_scan_with_image_reads_sends_only_get_and_head() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _serial = serial();
    let mut fx = Fixture::new("vulnproxy");
    fx.create("deb", &["-v", "/data", "shipshape-test/debian12:1"]);
    fx.create("alp", &["shipshape-test/alpine322:1"]);
    let tmp = fx.tmp.path().to_path_buf();
    let sock = tmp.join("proxy.sock");
    let rt = runtime();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    let listener = rt.block_on(async { tokio::net::UnixListener::bind(&sock).unwrap() });
    let log = seen.clone();
    rt.spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(outbound) = tokio::net::UnixStream::connect("/var/run/docker.sock").await
                else {
                    return;
                };
                let (mut ri, mut wi) = inbound.into_split();
                let (mut ro, mut wo) = outbound.into_split();
                // Client → engine, recorded; engine → client as it is.
                let up = async move {
                    let mut buf = vec![0u8; 64 << 10];
                    loop {
                        let n = match ri.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        log.lock().unwrap().extend_from_slice(&buf[..n]);
                        if wo.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = wo.shutdown().await;
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut ro, &mut wi).await;
                };
                tokio::join!(up, down);
            });
        }
    });
    let db = tmp.join("db");
    let zips = zip_fixtures(&tmp.join("osv"));
    shipshape::vulndb::store::Store::at(&db)
        .import(&zips, chrono::Utc::now())
        .unwrap();
    // An image no container uses, read through the engine's export.
    fx.build(
        "unused:1",
        &format!("FROM {BASE}\nLABEL shipshape.unused=1\n"),
    );
    let host = format!("unix://{}", sock.display());
    // Through the engine, as for one elsewhere (the proxy is a local socket,
    // whose layer directories would be read otherwise).
    let out = shipshape_env(
        &db,
        &[
            "scan",
            "-q",
            "--export-images",
            "--host",
            &host,
            "-o",
            tmp.join("r.json").to_str().unwrap(),
        ],
        &[("SHIPSHAPE_NO_LAYER_READS", "1")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let requests: Vec<&str> = text
        .split("\r\n")
        .filter(|l| l.contains(" HTTP/1.1") && l.contains(" /"))
        .collect();
    assert!(
        requests
            .iter()
            .any(|r| r.contains("/archive?path=%2Fvar%2Flib%2Fdpkg%2Fstatus")
                || r.contains("/archive?path=/var/lib/dpkg/status")),
        "the package database was read through the proxy: {requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET ") && r.contains("/images/sha256:") && r.contains("/get ")),
        "the unused image was exported: {requests:#?}"
    );
    for r in &requests {
        assert!(
            r.starts_with("GET ") || r.starts_with("HEAD "),
            "a request that is not a read reached the engine: {r}"
        );
    }
}

/// Issue 15: an image's package database is the image author's to choose.
/// A 40 MiB status file and one that is a link to /dev/zero are refused at
/// their ceiling, with the reason, and the scan goes on.
#[test]
fn hostile_package_databases_hit_their_ceilings() {
    let _serial = serial();
    let mut fx = Fixture::new("vulnhostile");
    let huge = fx.build(
        "huge:1",
        "FROM shipshape-test/debian12:1\nRUN busybox dd if=/dev/zero of=/var/lib/dpkg/status bs=1048576 count=40 2>/dev/null\n",
    );
    let zero = fx.build(
        "zero:1",
        "FROM shipshape-test/debian12:1\nRUN rm /var/lib/dpkg/status && ln -s /dev/zero /var/lib/dpkg/status\n",
    );
    fx.create("huge", &[&huge]);
    fx.run("zero", &[&zero]);
    let tmp = fx.tmp.path().to_path_buf();
    let start = std::time::Instant::now();
    let out = shipshape(
        &tmp.join("db"),
        &[
            "scan",
            "-q",
            "--no-drift",
            "-o",
            tmp.join("r.json").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(60));
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("r.json")).unwrap()).unwrap();
    let reason = |tag: &str| {
        image(&r, tag)["vulnerabilities"]["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let h = reason(&huge);
    assert!(h.contains("over the ceiling of 32 MiB"), "{h}");
    let z = reason(&zero);
    assert!(
        z.contains("not a regular file") || z.contains("no dpkg database"),
        "{z}"
    );
}

/// The application's own packages, in a real image: real wheels installed
/// by pip into `site-packages` (offline, from tests/fixtures/apps/wheels),
/// real npm tarballs unpacked into `node_modules` (one nested, one scoped),
/// and a Python distribution the OS owns (no `INSTALLER`: not counted
/// twice). Matched against hand-written OSV records with the exact CVE set,
/// and records that must not match (fixed at the installed version, another
/// version listed, the same name in another ecosystem).
#[test]
fn application_packages_of_a_real_image_are_found_and_matched_exactly() {
    let _serial = serial();
    let mut fx = Fixture::new("apps");
    let tmp = fx.tmp.path().to_path_buf();
    let fixtures = repo_root().join("tests/fixtures/apps");
    let app_image = fx.build_in(
        "apps:1",
        "FROM shipshape-test/debian12:1\nCOPY usr /usr\nCOPY app /app\n",
        |ctx| {
            let site = ctx.join("usr/local/lib/python3.11/site-packages");
            std::fs::create_dir_all(&site).unwrap();
            let wheels: Vec<PathBuf> = std::fs::read_dir(fixtures.join("wheels"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            let pip = Command::new("python3")
                .args([
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--no-index",
                    "--target",
                ])
                .arg(&site)
                .args(&wheels)
                .output()
                .expect("run pip");
            assert!(
                pip.status.success(),
                "pip: {}",
                String::from_utf8_lossy(&pip.stderr)
            );
            // What Debian's python3-six would install: no INSTALLER.
            let os_six = ctx.join("usr/lib/python3/dist-packages/six-1.16.0.dist-info");
            std::fs::create_dir_all(&os_six).unwrap();
            std::fs::copy(
                site.join("six-1.16.0.dist-info/METADATA"),
                os_six.join("METADATA"),
            )
            .unwrap();
            let nm = ctx.join("app/node_modules");
            for (tgz, dir) in [
                ("lodash-4.17.15.tgz", "lodash"),
                ("xmldom-xmldom-0.8.3.tgz", "@xmldom/xmldom"),
                ("node-fetch-2.6.0.tgz", "node-fetch"),
                ("minimist-1.2.0.tgz", "node-fetch/node_modules/minimist"),
            ] {
                let to = nm.join(dir);
                std::fs::create_dir_all(&to).unwrap();
                let out = Command::new("tar")
                    .arg("-xzf")
                    .arg(fixtures.join("npm").join(tgz))
                    .args(["--strip-components=1", "-C"])
                    .arg(&to)
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        },
    );
    fx.create("app", &[&app_image]);

    let db = tmp.join("db");
    let out = shipshape(
        &db,
        &["db", "import", fixtures.join("osv").to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = scan_json(&db, &tmp, "apps.json", &[]);
    let img = image(&r, &app_image);
    let packages = &img["packages"];
    assert_eq!(packages["by_ecosystem"]["PyPI"], 3, "{packages}");
    assert_eq!(packages["by_ecosystem"]["npm"], 4, "{packages}");
    let apps: BTreeSet<(String, String, String)> = packages["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
                p["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let site = "/usr/local/lib/python3.11/site-packages";
    let expected: BTreeSet<(String, String, String)> = [
        (
            "requests",
            "2.31.0",
            format!("{site}/requests-2.31.0.dist-info/METADATA"),
        ),
        (
            "urllib3",
            "2.0.7",
            format!("{site}/urllib3-2.0.7.dist-info/METADATA"),
        ),
        (
            "six",
            "1.16.0",
            format!("{site}/six-1.16.0.dist-info/METADATA"),
        ),
        (
            "lodash",
            "4.17.15",
            "/app/node_modules/lodash/package.json".into(),
        ),
        (
            "@xmldom/xmldom",
            "0.8.3",
            "/app/node_modules/@xmldom/xmldom/package.json".into(),
        ),
        (
            "node-fetch",
            "2.6.0",
            "/app/node_modules/node-fetch/package.json".into(),
        ),
        (
            "minimist",
            "1.2.0",
            "/app/node_modules/node-fetch/node_modules/minimist/package.json".into(),
        ),
    ]
    .into_iter()
    .map(|(n, v, p)| (n.to_string(), v.to_string(), p))
    .collect();
    assert_eq!(apps, expected);
    let licences: BTreeSet<&str> = packages["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["license"].as_str().unwrap_or(""))
        .collect();
    assert!(
        licences.contains("MIT") && licences.contains("Apache 2.0"),
        "{licences:?}"
    );

    assert_eq!(
        cves(&img["findings"], "image.known-vulnerabilities"),
        set(&[
            "CVE-2024-35195",
            "CVE-2024-47081",
            "CVE-2024-37891",
            "CVE-2020-8203",
            "CVE-2021-23337",
            "CVE-2020-28500",
            "CVE-2021-44906",
            "CVE-2020-7598",
            "CVE-2020-15168",
            "CVE-2022-0235",
            "CVE-2022-39353",
        ])
    );
    let evidence: Vec<&str> = img["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence"].as_str().unwrap())
        .collect();
    assert!(
        evidence.iter().any(|e| e.starts_with("CVE-2021-44906 in npm minimist 1.2.0 (/app/node_modules/node-fetch/node_modules/minimist/package.json): fixed in 1.2.6; GitHub: critical")),
        "{evidence:#?}"
    );
    // GitHub's own rating of each advisory.
    let severity = |id: &str| {
        img["vulnerabilities"]["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .map(|v| v["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(severity("CVE-2022-39353").as_deref(), Some("critical"));
    assert_eq!(severity("CVE-2020-15168").as_deref(), Some("low"));
    assert_eq!(severity("CVE-2024-35195").as_deref(), Some("medium"));
    // The one Debian:12 record (for a source package named urllib3) does
    // not meet the PyPI package: the OS packages were matched, and none is
    // affected; the whole image is assessed.
    let vulns = &img["vulnerabilities"];
    assert_eq!(vulns["status"], "assessed", "{vulns}");
    assert_eq!(vulns["ecosystem"], "Debian:12 + PyPI + npm", "{vulns}");
    assert!(vulns.get("not_assessed").is_none(), "{vulns}");
    assert!(cves(&img["findings"], "image.vulns-not-assessed").is_empty());

    // The same image's bill of materials, in both formats, checked by the
    // formats' own reference tooling.
    let mut bills = Vec::new();
    for (format, file) in [("cyclonedx", "apps.cdx.json"), ("spdx", "apps.spdx.json")] {
        let path = tmp.join(file);
        let out = shipshape(
            &db,
            &[
                "sbom",
                &app_image,
                "--format",
                format,
                "-o",
                path.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.success(),
            "sbom {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("packages, 11 known vulnerabilities"),
            "{stderr}"
        );
        validate_sbom(format, &path);
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        bills.push(doc);
    }
    let (cdx, spdx) = (&bills[0], &bills[1]);
    let purls: BTreeSet<String> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/urllib3@2.0.7",
        "pkg:pypi/six@1.16.0",
        "pkg:npm/lodash@4.17.15",
        "pkg:npm/%40xmldom/xmldom@0.8.3",
        "pkg:npm/node-fetch@2.6.0",
        "pkg:npm/minimist@1.2.0",
    ] {
        assert!(purls.contains(want), "{want} not in {purls:#?}");
    }
    // Every dpkg package too, as a Debian 12 purl.
    let debs = purls
        .iter()
        .filter(|p| p.starts_with("pkg:deb/debian/") && p.contains("distro=debian-12"))
        .count();
    let os_count = packages["by_ecosystem"]["os"].as_u64().unwrap();
    assert_eq!(packages["count"].as_u64(), Some(os_count + 7), "{packages}");
    assert_eq!(debs as u64, os_count, "{packages}");
    assert_eq!(purls.len() as u64, os_count + 7);
    let minimist = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["purl"] == "pkg:npm/minimist@1.2.0")
        .unwrap();
    assert_eq!(
        minimist["evidence"]["occurrences"][0]["location"],
        "/app/node_modules/node-fetch/node_modules/minimist/package.json"
    );
    assert_eq!(minimist["licenses"][0]["license"]["id"], "MIT");
    let listed: BTreeSet<String> = cdx["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        listed,
        cves(&img["findings"], "image.known-vulnerabilities")
    );
    let refs: BTreeSet<&str> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .collect();
    for v in cdx["vulnerabilities"].as_array().unwrap() {
        for a in v["affects"].as_array().unwrap() {
            assert!(refs.contains(a["ref"].as_str().unwrap()), "{v}");
        }
    }
    assert_eq!(cdx["compositions"][0]["aggregate"], "complete");
    assert_eq!(
        spdx["packages"].as_array().unwrap().len() as u64,
        os_count + 7 + 1,
        "the image and each package"
    );
    let advisories = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["externalRefs"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["referenceCategory"] == "SECURITY")
        .count();
    assert!(advisories >= 11, "{advisories}");

    // Named nothing that can be read: exit 2 and no file.
    let none = tmp.join("none.cdx.json");
    let out = shipshape(
        &db,
        &["sbom", "no-such-image-xyz", "-o", none.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!none.exists());
}
