//! Every package in every image, on a real engine: RPM databases of the
//! three formats in images of RPM distributions, and the application's own
//! packages of every ecosystem — a Go executable built here by the Go
//! toolchain, a Rust one built by `cargo auditable`, real jars (Debian's
//! log4j builds, one nested in a fat jar), an npm lock file — read from the
//! image's layer directories and, the same, through the archive API.
//! Matched against hand-written OSV records (tests/fixtures/ecosystems/osv)
//! with exact expected sets, and records that must not match: the wrong
//! release, a fix at or below the installed version, another ecosystem with
//! the same package name.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::scan::*;
use common::*;
use serde_json::Value;

fn import_osv(db: &Path) {
    let out = shipshape(
        db,
        &[
            "db",
            "import",
            repo_root()
                .join("tests/fixtures/ecosystems/osv")
                .to_str()
                .unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rpm_fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("tests/fixtures/rpm").join(name)).unwrap()
}

/// (ecosystem, name, version) of every package of an image's report.
fn listed(img: &Value) -> BTreeSet<(String, String, String)> {
    img["packages"]["applications"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["ecosystem"].as_str().unwrap().to_string(),
                        p["name"].as_str().unwrap().to_string(),
                        p["version"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn os_release(id: &str, version: &str) -> String {
    format!("ID=\"{id}\"\nVERSION_ID=\"{version}\"\nPRETTY_NAME=\"{id} {version}\"\n")
}

/// RPM distributions: the SQLite, BerkeleyDB and NDB databases rpm writes
/// (tests/fixtures/rpm, made by scripts/make-rpm-fixtures.sh; the NDB one
/// holds the same real headers), each image matched against its own
/// release's advisories only — by binary or source package name, in rpm's
/// version order (epochs, `~`, `^`).
#[test]
fn rpm_distributions_are_read_and_matched_per_release() {
    let _serial = serial();
    let mut fx = Fixture::new("rpm");
    let tmp = fx.tmp.path().to_path_buf();
    let sqlite = rpm_fixture("rpmdb.sqlite");
    let bdb = rpm_fixture("Packages");
    let headers = shipshape::vulndb::rpmdb::sqlite::package_blobs(&sqlite).unwrap();
    let ndb = shipshape::vulndb::rpmdb::ndb::write(&headers);
    let build_image = |fx: &mut Fixture, tag: &str, os: String, db_path: &str, db: &[u8]| {
        let db = db.to_vec();
        let db_path = db_path.to_string();
        fx.build_in(
            tag,
            &format!("FROM {BASE}\nCOPY os-release /etc/os-release\nCOPY db {db_path}\n"),
            move |ctx| {
                std::fs::write(ctx.join("os-release"), os).unwrap();
                std::fs::write(ctx.join("db"), db).unwrap();
            },
        )
    };
    let rocky = build_image(
        &mut fx,
        "rocky:1",
        os_release("rocky", "9.3"),
        "/var/lib/rpm/rpmdb.sqlite",
        &sqlite,
    );
    let ubi8 = build_image(
        &mut fx,
        "ubi8:1",
        os_release("rhel", "8.9"),
        "/var/lib/rpm/Packages",
        &bdb,
    );
    let leap = build_image(
        &mut fx,
        "leap:1",
        os_release("opensuse-leap", "15.5"),
        "/usr/lib/sysimage/rpm/Packages.db",
        &ndb,
    );
    let fedora = build_image(
        &mut fx,
        "fedora:1",
        os_release("fedora", "40"),
        "/var/lib/rpm/rpmdb.sqlite",
        &sqlite,
    );
    let cut = build_image(
        &mut fx,
        "cut:1",
        os_release("rocky", "9.3"),
        "/var/lib/rpm/rpmdb.sqlite",
        &sqlite[..sqlite.len() / 3],
    );
    let zero = fx.build(
        "zero:1",
        &format!(
            "FROM {BASE}\nRUN mkdir -p /var/lib/rpm && ln -s /dev/zero /var/lib/rpm/rpmdb.sqlite && \
             printf 'ID=rocky\\nVERSION_ID=9.3\\n' > /etc/os-release\n"
        ),
    );
    for (n, img) in [
        ("rocky", &rocky),
        ("ubi8", &ubi8),
        ("leap", &leap),
        ("fedora", &fedora),
        ("cut", &cut),
        ("zero", &zero),
    ] {
        fx.create(n, &[img]);
    }
    let db = tmp.join("db");
    import_osv(&db);
    let r = scan_json(&db, &tmp, "rpm.json", &[]);

    let vulns = |tag: &str| -> BTreeSet<(String, String, String)> {
        image(&r, tag)["vulnerabilities"]["vulnerabilities"]
            .as_array()
            .unwrap_or_else(|| panic!("{tag}: {}", image(&r, tag)["vulnerabilities"]))
            .iter()
            .map(|v| {
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["package"].as_str().unwrap().to_string(),
                    v["installed"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let three = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    // Rocky Linux 9: the binary-named advisory, and 2.0~rc1 < 2.0; not the
    // fix at the installed version, not Rocky 8's, not AlmaLinux's, and
    // 1.0^… is after 1.0.
    assert_eq!(
        vulns(&rocky),
        BTreeSet::from([
            three("CVE-2099-0001", "openssl", "1:3.0.7-24.el9"),
            three("CVE-2099-0004", "libtilde", "2:2.0~rc1-3.el9"),
        ])
    );
    let img = image(&r, &rocky);
    assert_eq!(img["vulnerabilities"]["ecosystem"], "Rocky Linux:9");
    assert_eq!(img["packages"]["count"], 8, "{}", img["packages"]);
    assert_eq!(img["packages"]["sources"][1], "/var/lib/rpm/rpmdb.sqlite");
    let ssl = img["vulnerabilities"]["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["package"] == "openssl")
        .unwrap();
    assert_eq!(
        ssl["binaries"],
        serde_json::json!(["openssl", "openssl-libs"])
    );
    assert_eq!(ssl["fixed"], "1:3.0.7-25.el9");
    // RHEL 8 (BerkeleyDB): named by the source package, in the
    // repository-scoped ecosystem; not RHEL 9's advisory.
    assert_eq!(
        vulns(&ubi8),
        BTreeSet::from([three("CVE-2099-0010", "openssl", "1:3.0.7-24.el9")])
    );
    assert_eq!(
        image(&r, &ubi8)["vulnerabilities"]["ecosystem"],
        "Red Hat:enterprise_linux:8"
    );
    // openSUSE Leap 15.5 (NDB).
    assert_eq!(
        vulns(&leap),
        BTreeSet::from([three("CVE-2099-0020", "sudo", "1.9.5p2-9.el9")])
    );
    // Fedora: listed, and said where its advisories are.
    let f = image(&r, &fedora);
    assert_eq!(f["packages"]["count"], 8);
    assert_eq!(f["vulnerabilities"]["status"], "not_assessed");
    assert!(
        f["vulnerabilities"]["reason"]
            .as_str()
            .unwrap()
            .contains("Bodhi"),
        "{}",
        f["vulnerabilities"]
    );
    // The bill: rpm package URLs carry the epoch as a qualifier.
    let path = tmp.join("rocky.cdx.json");
    let out = shipshape(
        &db,
        &[
            "sbom",
            &rocky,
            "--format",
            "cyclonedx",
            "--output",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    validate_sbom("cyclonedx", &path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(
            "pkg:rpm/rocky/openssl-libs@3.0.7-24.el9?distro=rocky-9.3&epoch=1&upstream=openssl"
        ),
        "{text}"
    );
    assert!(
        text.contains("/var/lib/rpm/rpmdb.sqlite"),
        "the database is the location"
    );
    // A database cut short, and one that is /dev/zero: not assessed, said.
    for (tag, needle) in [
        (&cut, "not an RPM SQLite database"),
        (&zero, "is a link to /dev/zero, which is not a regular file"),
    ] {
        let v = &image(&r, tag)["vulnerabilities"];
        assert_eq!(v["status"], "not_assessed", "{tag}: {v}");
        assert!(v["reason"].as_str().unwrap().contains(needle), "{tag}: {v}");
    }
}

/// Install a tool from Debian's packages when it is missing.
fn ensure_apt(tool: &str, package: &str) {
    if Command::new(tool).arg("version").output().is_ok() {
        return;
    }
    let ok = Command::new("bash")
        .args([
            "-c",
            &format!(
                "(apt-get install -y -qq {package} || (apt-get update -qq && apt-get install -y -qq {package})) >/dev/null 2>&1"
            ),
        ])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .unwrap()
        .success();
    assert!(ok, "installing {package} (for {tool}) failed");
}

/// A Go service built here: three vendored dependencies (a release, an
/// `+incompatible` one and a pseudo-version), so the Go toolchain records
/// them in the executable's build information.
fn build_go(dir: &Path) -> PathBuf {
    ensure_apt("go", "golang-go");
    let src = dir.join("gosvc");
    let w = |p: &str, s: &str| {
        let p = src.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    w(
        "go.mod",
        "module example.com/shipshape/svc\n\ngo 1.19\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\t\
         github.com/docker/docker v20.10.7+incompatible\n\t\
         github.com/pkg/errors v0.9.2-0.20201214064552-5dd12d0cfe7f\n)\n",
    );
    w(
        "vendor/golang.org/x/text/language/language.go",
        "package language\n\nfunc Tag() string { return \"en\" }\n",
    );
    w(
        "vendor/github.com/docker/docker/api/api.go",
        "package api\n\nconst DefaultVersion = \"1.41\"\n",
    );
    w(
        "vendor/github.com/pkg/errors/errors.go",
        "package errors\n\nfunc New(s string) error { return nil }\n",
    );
    w(
        "vendor/modules.txt",
        "# github.com/docker/docker v20.10.7+incompatible\n## explicit\ngithub.com/docker/docker/api\n\
         # github.com/pkg/errors v0.9.2-0.20201214064552-5dd12d0cfe7f\n## explicit\ngithub.com/pkg/errors\n\
         # golang.org/x/text v0.3.7\n## explicit\ngolang.org/x/text/language\n",
    );
    w(
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"time\"\n\n\t\"github.com/docker/docker/api\"\n\t\
         \"github.com/pkg/errors\"\n\t\"golang.org/x/text/language\"\n)\n\nfunc main() {\n\t\
         _ = errors.New(\"x\")\n\tfmt.Println(language.Tag(), api.DefaultVersion)\n\ttime.Sleep(time.Hour)\n}\n",
    );
    let out = Command::new("go")
        .args([
            "build",
            "-mod=vendor",
            "-trimpath",
            "-ldflags=-s -w",
            "-o",
            "svc",
            ".",
        ])
        .current_dir(&src)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "")
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOPROXY", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    src.join("svc")
}

/// An image that runs the Go service.
fn svc_image(fx: &mut Fixture, go: &Path) -> String {
    fx.build_in(
        "svc:1",
        &format!("FROM {BASE}\nCOPY svc /usr/local/bin/svc\nCMD [\"/usr/local/bin/svc\"]\n"),
        |ctx| {
            std::fs::copy(go, ctx.join("svc")).unwrap();
        },
    )
}

/// The Go toolchain's own version (`1.19.8` for `go1.19.8`).
fn go_version() -> String {
    let out = Command::new("go")
        .args(["env", "GOVERSION"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .trim_start_matches("go")
        .to_string()
}

/// `cargo auditable`, installed once into a cache folder the test runs
/// share (from crates.io, which these machines reach).
fn cargo_auditable() -> PathBuf {
    let root = PathBuf::from("/var/cache/shipshape-test/cargo-auditable");
    let bin = root.join("bin/cargo-auditable");
    if bin.exists() {
        return bin;
    }
    let mut last = String::new();
    for _ in 0..2 {
        let out = Command::new("cargo")
            .args([
                "install",
                "--locked",
                "--quiet",
                "cargo-auditable",
                "--version",
                "0.6.6",
                "--root",
            ])
            .arg(&root)
            .output()
            .unwrap();
        if out.status.success() && bin.exists() {
            return bin;
        }
        last = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    panic!("cargo install cargo-auditable failed: {last}");
}

/// A Rust service built by `cargo auditable`: smallvec 1.6.0 (a real
/// advisory) and itoa, compiled in; cc only at build time.
fn build_rust(dir: &Path) -> PathBuf {
    let tool = cargo_auditable();
    let src = dir.join("rustsvc");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::write(
        src.join("Cargo.toml"),
        "[package]\nname = \"rustsvc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n\
         smallvec = \"=1.6.0\"\nitoa = \"=1.0.11\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        src.join("src/main.rs"),
        "fn main() {\n    let mut v: smallvec::SmallVec<[u8; 4]> = smallvec::SmallVec::new();\n    \
         v.push(1);\n    let mut b = itoa::Buffer::new();\n    println!(\"{} {}\", v.len(), b.format(42));\n}\n",
    )
    .unwrap();
    let out = Command::new(&tool)
        .args(["auditable", "build", "--release", "--quiet"])
        .current_dir(&src)
        .env("CARGO_TARGET_DIR", dir.join("rust-target"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo auditable build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("rust-target/release/rustsvc")
}

/// A Spring-Boot-shaped fat jar: its own coordinates, and two of Debian's
/// real log4j jars nested in `BOOT-INF/lib/`.
fn fat_jar(path: &Path) {
    use std::io::Write;
    let jars = repo_root().join("tests/fixtures/apps/jars");
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("META-INF/MANIFEST.MF", stored).unwrap();
    z.write_all(
        b"Manifest-Version: 1.0\nMain-Class: org.springframework.boot.loader.JarLauncher\n",
    )
    .unwrap();
    z.start_file("META-INF/maven/com.example/shop/pom.properties", stored)
        .unwrap();
    z.write_all(b"groupId=com.example\nartifactId=shop\nversion=1.4.2\n")
        .unwrap();
    for (inner, file) in [
        ("log4j-api-2.19.0.jar", "log4j-api.jar"),
        ("log4j-jcl-2.19.0.jar", "log4j-jcl.jar"),
    ] {
        z.start_file(format!("BOOT-INF/lib/{inner}"), stored)
            .unwrap();
        z.write_all(&std::fs::read(jars.join(file)).unwrap())
            .unwrap();
    }
    z.finish().unwrap();
}

/// Every ecosystem in one image, one build step each; read from the
/// layers (each package with the step that brought it in) and through the
/// archive API (the same packages), matched exactly.
#[test]
fn application_packages_of_every_ecosystem_read_both_ways() {
    let _serial = serial();
    let mut fx = Fixture::new("eco");
    let tmp = fx.tmp.path().to_path_buf();
    let go = build_go(&tmp);
    let rust = build_rust(&tmp);
    let go_v = go_version();
    let app = fx.build_in(
        "every:1",
        "FROM shipshape-test/debian12:1\n\
         COPY svc /usr/local/bin/svc\n\
         COPY rustsvc /app/bin/rustsvc\n\
         COPY shop.jar /app/shop.jar\n\
         COPY log4j-web.jar /usr/share/java/log4j-web.jar\n\
         COPY package-lock.json /srv/web/package-lock.json\n\
         CMD [\"/usr/local/bin/svc\"]\n",
        |ctx| {
            std::fs::copy(&go, ctx.join("svc")).unwrap();
            std::fs::copy(&rust, ctx.join("rustsvc")).unwrap();
            fat_jar(&ctx.join("shop.jar"));
            std::fs::copy(
                repo_root().join("tests/fixtures/apps/jars/log4j-web.jar"),
                ctx.join("log4j-web.jar"),
            )
            .unwrap();
            std::fs::write(
                ctx.join("package-lock.json"),
                r#"{"name":"web","lockfileVersion":3,"packages":{"":{"name":"web"},
                    "node_modules/minimist":{"version":"1.2.0","license":"MIT"},
                    "node_modules/log4j-jcl":{"version":"1.0.0"}}}"#,
            )
            .unwrap();
        },
    );
    fx.create("every", &[&app]);

    let expected: BTreeSet<(String, String, String)> = [
        ("go", "stdlib", go_v.as_str()),
        ("go", "example.com/shipshape/svc", "(devel)"),
        ("go", "golang.org/x/text", "v0.3.7"),
        ("go", "github.com/docker/docker", "v20.10.7+incompatible"),
        (
            "go",
            "github.com/pkg/errors",
            "v0.9.2-0.20201214064552-5dd12d0cfe7f",
        ),
        ("crates.io", "smallvec", "1.6.0"),
        ("crates.io", "itoa", "1.0.11"),
        ("maven", "com.example:shop", "1.4.2"),
        ("maven", "org.apache.logging.log4j:log4j-api", "2.19.0"),
        ("maven", "org.apache.logging.log4j:log4j-jcl", "2.19.0"),
        ("maven", "org.apache.logging.log4j:log4j-web", "2.19.0"),
        ("npm", "minimist", "1.2.0"),
        ("npm", "log4j-jcl", "1.0.0"),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    let expected_cves = set(&[
        "CVE-2099-0100",  // golang.org/x/text < 0.3.8
        "CVE-2099-0101",  // docker < 20.10.11+incompatible
        "CVE-2099-0103",  // stdlib, every version
        "CVE-2021-25900", // smallvec 1.6.0
        "CVE-2099-0300",  // log4j-api (nested)
        "CVE-2099-0301",  // log4j-web
        "CVE-2021-44906", // minimist from the lock file
        "CVE-2099-0400",  // the npm package called log4j-jcl (npm's record)
    ]);

    for (how, env) in [
        ("layers", vec![]),
        ("archive", vec![("SHIPSHAPE_NO_LAYER_READS", "1")]),
    ] {
        // Each way with its own folder: an image's reading is cached there.
        let db = tmp.join(format!("db-{how}"));
        import_osv(&db);
        let r = scan_json_env(&db, &tmp, &format!("{how}.json"), &[], &env);
        let img = image(&r, &app);
        assert_eq!(listed(img), expected, "{how}: {}", img["packages"]);
        let by = img["packages"]["read_by"].as_str().unwrap();
        assert!(
            by.contains(if how == "layers" {
                "layer directories"
            } else {
                "archive API"
            }),
            "{how}: {by}"
        );
        assert_eq!(
            cves(&img["findings"], "image.known-vulnerabilities"),
            expected_cves,
            "{how}"
        );
        // Where each was found.
        let apps = img["packages"]["applications"].as_array().unwrap();
        let at = |name: &str| {
            apps.iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{name}"))
        };
        assert_eq!(
            at("org.apache.logging.log4j:log4j-api")["path"],
            "/app/shop.jar!BOOT-INF/lib/log4j-api-2.19.0.jar"
        );
        assert_eq!(at("smallvec")["path"], "/app/bin/rustsvc");
        assert_eq!(at("minimist")["path"], "/srv/web/package-lock.json");
        // The layer: the image's own steps are the top five (one layer
        // each, the lock file's last); only the layer reader knows them.
        let layer = |name: &str| at(name)["layer"].as_u64();
        if how == "layers" {
            let npm = layer("minimist").unwrap();
            assert_eq!(layer("stdlib"), Some(npm - 4), "the Go binary's COPY");
            assert_eq!(layer("smallvec"), Some(npm - 3));
            assert_eq!(layer("com.example:shop"), Some(npm - 2));
            assert_eq!(layer("org.apache.logging.log4j:log4j-web"), Some(npm - 1));
        } else {
            assert_eq!(layer("stdlib"), None);
        }
    }

    // The bill of materials of every ecosystem: a package URL each, the
    // layer and build step it came from, valid for the formats' own tools.
    let db = tmp.join("db-layers");
    for format in ["cyclonedx", "spdx"] {
        let path = tmp.join(format!("every.{format}.json"));
        let out = shipshape(
            &db,
            &[
                "sbom",
                &app,
                "--format",
                format,
                "--output",
                path.to_str().unwrap(),
            ],
        );
        assert!(
            out.status.code() == Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        validate_sbom(format, &path);
        let text = std::fs::read_to_string(&path).unwrap();
        for purl in [
            "pkg:golang/golang.org/x/text@v0.3.7",
            "pkg:golang/github.com/docker/docker@v20.10.7%2Bincompatible",
            "pkg:golang/stdlib@",
            "pkg:cargo/smallvec@1.6.0",
            "pkg:maven/org.apache.logging.log4j/log4j-api@2.19.0",
            "pkg:npm/minimist@1.2.0",
        ] {
            assert!(text.contains(purl), "{format}: no {purl}");
        }
        assert!(
            text.contains("COPY file:") && text.contains("in /usr/local/bin/svc"),
            "{format}: the Go binary's build step is named"
        );
    }
}

/// "Fix first" on a real engine: CISA's KEV catalogue and FIRST's EPSS
/// scores imported with `db import`; the Go service running with a port
/// published on every interface, its executable in use (`/proc`), comes
/// before the same image in a container that never started; a policy that
/// fails on any known-exploited CVE fails the scan, and says which.
#[test]
fn known_exploited_in_use_in_a_running_exposed_container_comes_first() {
    let _serial = serial();
    let mut fx = Fixture::new("kev");
    let tmp = fx.tmp.path().to_path_buf();
    let go = build_go(&tmp);
    let img = svc_image(&mut fx, &go);
    let exposed = fx.run("exposed", &["-p", "80", &img]);
    let idle = fx.create("idle", &[&img]);
    wait_state(&exposed, "running");
    let db = tmp.join("db");
    import_osv(&db);
    let ex = repo_root().join("tests/fixtures/ecosystems/exploits");
    let out = shipshape(
        &db,
        &[
            "db",
            "import",
            ex.join("kev.json").to_str().unwrap(),
            ex.join("epss.csv.gz").to_str().unwrap(),
        ],
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("known exploited: 3 CVEs (CISA KEV 2026.12.04"),
        "{said}"
    );
    assert!(said.contains("EPSS: 4 scores"), "{said}");
    let status = String::from_utf8_lossy(&shipshape(&db, &["db", "status"]).stdout).into_owned();
    assert!(status.contains("known exploited: 3 CVEs"), "{status}");

    let r = scan_json(&db, &tmp, "kev.json", &[]);
    let vulns = image(&r, &img)["vulnerabilities"]["vulnerabilities"]
        .as_array()
        .unwrap()
        .clone();
    let of = |id: &str| vulns.iter().find(|v| v["id"] == id).unwrap().clone();
    assert_eq!(of("CVE-2099-0103")["kev"]["ransomware"], true);
    assert!((of("CVE-2099-0103")["epss"]["score"].as_f64().unwrap() - 0.91234).abs() < 1e-4);
    assert!(of("CVE-2099-0101")["kev"].is_null());

    let pr = r["priorities"].as_array().unwrap();
    let first = &pr[0];
    assert_eq!(first["container"], exposed, "{first}");
    assert_eq!(first["id"], "CVE-2099-0103", "{first}");
    assert_eq!(first["in_use"]["state"], "seen", "{first}");
    assert_eq!(first["in_use"]["evidence"], "/usr/local/bin/svc");
    let reasons: Vec<&str> = first["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        reasons[0], "known exploited (CISA KEV, used by ransomware)",
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"in use: /usr/local/bin/svc"),
        "{reasons:?}"
    );
    assert!(reasons.contains(&"running"), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("reachable on 0.0.0.0:") && r.ends_with("→80/tcp")),
        "{reasons:?}"
    );
    // Every row of the running container comes before the idle one's.
    let last_running = pr.iter().rposition(|p| p["container"] == exposed).unwrap();
    let first_idle = pr.iter().position(|p| p["container"] == idle).unwrap();
    assert!(last_running < first_idle, "{pr:?}");
    assert!(
        pr[first_idle]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "not running")
    );

    // The policy key.
    let policy = tmp.join("policy.toml");
    std::fs::write(
        &policy,
        "[vulnerabilities]\nfail_on_known_exploited = true\n",
    )
    .unwrap();
    let out = shipshape(
        &db,
        &[
            "--policy",
            policy.to_str().unwrap(),
            "scan",
            "-q",
            "-o",
            tmp.join("p.json").to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CVE-2099-0100, CVE-2099-0103"), "{err}");
    let out = shipshape(
        &db,
        &["scan", "-q", "-o", tmp.join("q.json").to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The window's worker: a KEV catalogue imported elsewhere while it runs
/// (`shipshape db import` in a terminal) is loaded at the next full pass,
/// and the known-exploited CVE in the running container becomes a
/// critical timeline entry that the desktop alerts take (default
/// threshold: high).
#[test]
fn a_newly_imported_kev_entry_in_a_running_container_alerts() {
    use shipshape::watch::docker;
    use shipshape::watch::messages::{Command, Event};
    let _serial = serial();
    let mut fx = Fixture::new("kevalert");
    let tmp = fx.tmp.path().to_path_buf();
    let go = build_go(&tmp);
    let img = svc_image(&mut fx, &go);
    let name = fx.run("svc", &[&img]);
    wait_state(&name, "running");
    let db = tmp.join("db");
    import_osv(&db);
    let store = shipshape::vulndb::store::Store::at(&db);
    let rt = runtime();
    let cfg = vulns_worker_config(&db);
    let (cmd, mut rx) = docker::spawn(rt.handle(), cfg, std::sync::Arc::new(|_| {}));
    let within = |secs| std::time::Instant::now() + std::time::Duration::from_secs(secs);
    // Assessed first, without exploit data: no KEV entry.
    let deadline = within(60);
    let assessed = rt.block_on(async {
        while std::time::Instant::now() < deadline {
            if let Ok(Some(Event::Snapshot(s))) =
                tokio::time::timeout(std::time::Duration::from_secs(1), rx.recv()).await
                && s.inventory.images.iter().any(|i| {
                    i.tags.contains(&img)
                        && i.vulns
                            .vulnerabilities()
                            .iter()
                            .any(|v| v.id == "CVE-2099-0103")
                })
            {
                return true;
            }
        }
        false
    });
    assert!(assessed, "the image assessed in the background");
    let kev =
        std::fs::read(repo_root().join("tests/fixtures/ecosystems/exploits/kev.json")).unwrap();
    store.import_exploits(&kev, "kev.json").unwrap();
    cmd.send(Command::Refresh).unwrap();
    let deadline = within(60);
    let seen = rt.block_on(async {
        while std::time::Instant::now() < deadline {
            if let Ok(Some(Event::Activity(a))) =
                tokio::time::timeout(std::time::Duration::from_secs(1), rx.recv()).await
                && a.name == name
                && a.detail
                    .contains("Known exploited vulnerability in a running container: CVE-2099-0103")
            {
                return Some(a);
            }
        }
        None
    });
    let _ = cmd.send(Command::Shutdown);
    let a = seen.expect("a timeline entry for the newly known-exploited CVE");
    assert!(a.detail.contains("used by ransomware"), "{}", a.detail);
    let alert = shipshape::alerts::alert_of(&a, shipshape::model::Severity::High);
    assert!(
        alert.is_some(),
        "the desktop alert takes it at the default threshold"
    );
}

/// Hostile application files, in a real image: a `node_modules` 40 levels
/// deep, a `METADATA` of 100 MB, a jar bomb (a zip of zips), a Go
/// executable whose build information is corrupt. Each stops at a named
/// ceiling with a message (or is read within its bounds), the scan goes on
/// and finds what is there, nothing panics — from the layers and through
/// the archive API. (200,000 `package.json` files: the layer reader's own
/// test below; building such an image takes over five minutes on a
/// fuse-overlayfs engine.)
#[test]
fn hostile_application_files_stop_at_named_ceilings() {
    let _serial = serial();
    let mut fx = Fixture::new("hostileapps");
    let tmp = fx.tmp.path().to_path_buf();
    let go = build_go(&tmp);
    let odd = fx.build_in(
        "odd:1",
        &format!("FROM {BASE}\nCOPY srv /srv\nCOPY opt /opt\nCOPY bin /usr/local/bin\n"),
        |ctx| {
            let deep = ctx.join(format!("srv/web/{}", "node_modules/a/".repeat(40)));
            std::fs::create_dir_all(&deep).unwrap();
            std::fs::write(
                deep.join("package.json"),
                r#"{"name":"a","version":"1.0.0"}"#,
            )
            .unwrap();
            let ok = ctx.join("srv/web/node_modules/ok");
            std::fs::create_dir_all(&ok).unwrap();
            std::fs::write(
                ok.join("package.json"),
                r#"{"name":"ok","version":"2.0.0"}"#,
            )
            .unwrap();
            // 100 MB of METADATA: name and version first, as always.
            let dist = ctx.join("opt/venv/lib/python3.11/site-packages/huge-1.0.dist-info");
            std::fs::create_dir_all(&dist).unwrap();
            let mut meta = b"Metadata-Version: 2.1\nName: huge\nVersion: 1.0\n\n".to_vec();
            meta.resize(100 << 20, b'x');
            std::fs::write(dist.join("METADATA"), meta).unwrap();
            // A jar of jars of jars of jars of jars.
            use shipshape::vulndb::java::zip_of;
            let mut bomb = zip_of(&[(
                "META-INF/maven/g/deepest/pom.properties",
                b"groupId=g\nartifactId=deepest\nversion=1\n",
            )]);
            for level in 0..5 {
                bomb = zip_of(&[
                    (&format!("lib/l{level}.jar"), &bomb),
                    (&format!("lib/m{level}.jar"), &bomb),
                ]);
            }
            std::fs::write(ctx.join("srv/bomb.jar"), bomb).unwrap();
            // The Go service with its build information's header corrupted.
            let mut bin = std::fs::read(&go).unwrap();
            let at = bin
                .windows(14)
                .position(|w| w == b"\xff Go buildinf:")
                .expect("the Go build information");
            bin[at + 32] = 0xff;
            bin[at + 33] = 0xff;
            bin[at + 34] = 0xff;
            std::fs::create_dir_all(ctx.join("bin")).unwrap();
            std::fs::write(ctx.join("bin/broken"), &bin).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                ctx.join("bin/broken"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        },
    );
    fx.create("odd", &[&odd]);

    let unread = |img: &Value| -> String { format!("{}", img["vulnerabilities"]["not_assessed"]) };
    for (how, env) in [
        ("layers", vec![]),
        ("archive", vec![("SHIPSHAPE_NO_LAYER_READS", "1")]),
    ] {
        let db = tmp.join(format!("db-odd-{how}"));
        import_osv(&db);
        let r = scan_json_env(&db, &tmp, &format!("odd-{how}.json"), &[], &env);
        let o = image(&r, &odd);
        let got = listed(o);
        let names: BTreeSet<&str> = got.iter().map(|(_, n, _)| n.as_str()).collect();
        assert!(
            names.contains("ok") && names.contains("huge"),
            "{how}: {got:?}"
        );
        assert!(
            !names.contains("g:deepest"),
            "{how}: the bomb's depth ceiling"
        );
        let u = unread(o);
        for needle in [
            "more than 32 nested node_modules (not read)",
            "nested more than 3 archives deep (not read)",
            "/usr/local/bin/broken: the Go build information does not parse",
        ] {
            assert!(u.contains(needle), "{how}: no '{needle}' in {u}");
        }
    }
}

/// 200,000 `package.json` files in an image's layer: the reader stops
/// keeping packages at the catalogue's ceiling, says how many it passed
/// over, and the walk itself stays under its entry ceiling.
#[test]
fn two_hundred_thousand_manifests_stop_at_the_package_ceiling() {
    use shipshape::sources::docker::{layers, tree};
    use shipshape::vulndb::catalog::MAX_PACKAGES;
    let tmp = tempfile::tempdir().unwrap();
    let nm = tmp.path().join("layer/app/node_modules");
    for i in 0..200_000 {
        let d = nm.join(format!("p{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("package.json"),
            format!(r#"{{"name":"p{i}","version":"1.0.{i}"}}"#),
        )
        .unwrap();
    }
    let layer = layers::DirLayer::new(tmp.path().join("layer"));
    let mut g = tree::Gather::default();
    let walked = tree::walk(&[&layer], tree::LIMITS, &mut g).unwrap();
    assert_eq!(walked.entries, 400_002);
    let found = g.catalog.finish();
    assert_eq!(found.packages.len(), MAX_PACKAGES);
    assert!(
        found.skipped.iter().any(|s| s
            == "more than 100000 application packages, over the ceiling: 100000 more metadata \
                files were not read"),
        "{:?}",
        found.skipped
    );
}

/// The README's "Fix first" screenshot (`docs/screenshots/fix-first.png`),
/// not a check: the known-exploited fixture above, in a real window under
/// Xvfb, the Images view opened from the palette. Run it with
/// `cargo test --test ecosystems screenshot_fix_first -- --ignored`
/// (needs Xvfb, xdotool, xwd and ImageMagick's convert).
#[test]
#[ignore = "writes the README's screenshot"]
fn screenshot_fix_first() {
    let _serial = serial();
    let mut fx = Fixture::new("shot");
    let tmp = fx.tmp.path().to_path_buf();
    let go = build_go(&tmp);
    let img = svc_image(&mut fx, &go);
    // Plain names, as on a developer's machine (removed at the end).
    let names = ["shop-api", "shop-api-staging"];
    for n in names {
        let _ = Command::new("docker").args(["rm", "-f", n]).output();
    }
    docker(&["run", "-d", "--name", names[0], "-p", "8080:80", &img]);
    docker(&["create", "--name", names[1], &img]);
    wait_state(names[0], "running");
    let db = tmp.join("db");
    import_osv(&db);
    let ex = repo_root().join("tests/fixtures/ecosystems/exploits");
    let out = shipshape(
        &db,
        &[
            "db",
            "import",
            ex.join("kev.json").to_str().unwrap(),
            ex.join("epss.csv.gz").to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let display = ":89";
    let mut xvfb = Command::new("Xvfb")
        .args([display, "-screen", "0", "1600x1000x24"])
        .spawn()
        .expect("Xvfb");
    std::thread::sleep(std::time::Duration::from_secs(1));
    let mut app = Command::new(bin())
        .args(["--no-audit", "--vulndb"])
        .arg(&db)
        .env("DISPLAY", display)
        .env("HOME", &tmp)
        .spawn()
        .unwrap();
    let x = |args: &[&str]| {
        Command::new("xdotool")
            .args(args)
            .env("DISPLAY", display)
            .status()
            .unwrap();
    };
    std::thread::sleep(std::time::Duration::from_secs(12));
    x(&[
        "search",
        "--name",
        "^shipshape",
        "windowsize",
        "1560",
        "960",
        "windowmove",
        "20",
        "20",
    ]);
    // The packages are read and matched in the background.
    std::thread::sleep(std::time::Duration::from_secs(15));
    // The Images view, from the top bar.
    x(&["mousemove", "390", "36", "click", "1"]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let shot = repo_root().join("docs/screenshots/fix-first.png");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "xwd -root -silent -display {display} | /usr/bin/convert xwd:- {}",
            shot.display()
        ))
        .status()
        .unwrap();
    for p in [&mut app, &mut xvfb] {
        let _ = p.kill();
        let _ = p.wait();
    }
    for n in names {
        let _ = Command::new("docker").args(["rm", "-f", n]).output();
    }
    assert!(status.success());
}
