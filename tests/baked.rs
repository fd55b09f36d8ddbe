//! Credentials baked into an image's files, on a real engine: a private key
//! generated here, an `.env` file, AWS and registry credentials, a token in
//! a config file, and a key copied in one step and deleted in the next
//! (still in its layer) are found, each with its build step; so are the
//! client configuration files of databases and tools (MySQL, PostgreSQL,
//! netrc, git, Docker, npm, PyPI, pip, Maven, rclone, s3cmd, boto, ODBC,
//! database URLs, connection strings) under names nobody would list, by
//! their format; the OS's snakeoil key, a package's test key, an
//! `.env.example` and an example option file are not; an oversized `.env`
//! and one that links to `/dev/zero` stop with a reason or are passed over.
//! The report never carries a value, and the image cache is 0600.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::process::Command;

use common::scan::*;
use common::*;

const DB_PASSWORD: &str = "hunter2-baked-value-6f1c";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9baked";
const GITHUB: &str = "ghp_bakedTOKENbakedTOKENbakedTOKEN012345";

/// Client configuration files, each under a name no list holds: (file,
/// content, the kind it is found as). Every value has `odd-` in it.
const BY_FORMAT: &[(&str, &str, &str)] = &[
    (
        "db-tuning.cnf",
        "[mysqld]\nmax_connections=9\n[client]\nuser=app\npassword=\"odd-mysql-9c1\"\n",
        "a MySQL/MariaDB password (option file)",
    ),
    (
        "pgcreds",
        "# host:port:db:user:password\ndb:5432:app:app:odd-pg-9c1\n",
        "a PostgreSQL password file (.pgpass)",
    ),
    (
        "logins",
        "machine api.example.com login bot password odd-netrc-9c1\n",
        "a login password (.netrc)",
    ),
    (
        "store",
        "https://bot:odd-git-9c1@git.example.com\n",
        "git credentials (.git-credentials)",
    ),
    (
        "regauth.json",
        r#"{"auths":{"registry.odd.example":{"auth":"b2RkLWF1dGgtOWMx"}}}"#,
        "registry credentials for registry.odd.example",
    ),
    (
        "npm-settings",
        "//r.example.com/:_authToken=odd-npm-9c1\n",
        "an npm token (.npmrc)",
    ),
    (
        "upload.cfg",
        "[distutils]\nindex-servers = pypi\n[pypi]\nusername = bot\npassword = odd-pypi-9c1\n",
        "a package index password (.pypirc)",
    ),
    (
        "pip-extra.conf",
        "[global]\nextra-index-url = https://bot:odd-pip-9c1@pypi.example.com/simple\n",
        "a package index password (pip configuration)",
    ),
    (
        "m2.xml",
        "<settings><servers><server><id>r</id><password>odd-mvn-9c1</password></server></servers></settings>\n",
        "a Maven repository password (settings.xml)",
    ),
    (
        "remotes.ini",
        "[backup]\ntype = s3\nsecret_access_key = odd-rclone-9c1\n",
        "cloud storage credentials (rclone configuration)",
    ),
    (
        "s3.conf",
        "[default]\naccess_key = AK\nsecret_key = odd-s3-9c1\n",
        "S3 credentials (s3cmd configuration)",
    ),
    (
        "gcs.ini",
        "[Credentials]\ngs_secret_access_key = odd-boto-9c1\n",
        "Google Cloud Storage credentials (boto configuration)",
    ),
    (
        "dsn.ini",
        "[reports]\nDriver = PostgreSQL\nPWD = odd-odbc-9c1\n",
        "a database password (ODBC data source)",
    ),
    (
        "appsettings.json",
        r#"{"Db":"Server=db;Database=app;Password=odd-ado-9c1;"}"#,
        "a database connection string with a password",
    ),
    (
        "worker.yml",
        "cache: redis://:odd-redis-9c1@cache:6379/0\n",
        "a database URL with a password (redis)",
    ),
];

fn finding_evidence(r: &serde_json::Value, tag: &str) -> Vec<String> {
    image(r, tag)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "image.secret-file")
        .map(|f| f["evidence"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn credentials_baked_into_image_files_are_found_never_shown() {
    let _serial = serial();
    let mut fx = Fixture::new("baked");
    let tmp = fx.tmp.path().to_path_buf();
    let img = fx.build_in(
        "baked:1",
        &format!(
            "FROM {BASE}\n\
             COPY root /root\n\
             COPY app /app\n\
             COPY etc /etc\n\
             COPY leaked.pem /root/leaked.pem\n\
             COPY odd /srv/odd\n\
             RUN rm /root/leaked.pem && ln -s /dev/zero /app/.env.local\n"
        ),
        |ctx| {
            let key = |to: &std::path::Path| {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                let out = Command::new("openssl")
                    .args(["genpkey", "-algorithm", "ed25519", "-out"])
                    .arg(to)
                    .output()
                    .expect("openssl");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            };
            let w = |p: &str, text: &str| {
                let p = ctx.join(p);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, text).unwrap();
            };
            key(&ctx.join("root/.ssh/id_ed25519"));
            key(&ctx.join("leaked.pem"));
            key(&ctx.join("etc/ssl/private/ssl-cert-snakeoil.key"));
            key(&ctx.join("app/node_modules/tls-kit/test/fixtures/key.pem"));
            w("app/.env", &format!("PORT=8080\nDB_PASSWORD={DB_PASSWORD}\n"));
            w("app/.env.example", "DB_PASSWORD=changeme-changeme\n");
            w(
                "root/.aws/credentials",
                &format!("[default]\naws_access_key_id = AKIAIOSFODNN7BAKED00\naws_secret_access_key = {AWS_SECRET}\n"),
            );
            w(
                "root/.docker/config.json",
                r#"{"auths":{"registry.example.com":{"auth":"YmFrZWQ6dmFsdWU="}}}"#,
            );
            w("app/config/settings.yml", &format!("github:\n  token: {GITHUB}\n"));
            // Named like a credential, too large to be one.
            w("app/huge/.env", &"X=1\n".repeat(160_000));
            for (file, text, _) in BY_FORMAT {
                w(&format!("odd/{file}"), text);
            }
            // An example is not a credential.
            w("odd/examples/my.cnf", "[client]\npassword=odd-example-9c1\n");
        },
    );
    fx.create("baked", &[&img]);

    for (how, env) in [
        ("layers", vec![]),
        ("archive", vec![("SHIPSHAPE_NO_LAYER_READS", "1")]),
    ] {
        let db = tmp.join(format!("db-{how}"));
        let r = scan_json_env(&db, &tmp, &format!("{how}.json"), &[], &env);
        let ev = finding_evidence(&r, &img);
        let has = |needle: &str| ev.iter().any(|e| e.contains(needle));
        assert!(
            has("a private key (PKCS #8) at /root/.ssh/id_ed25519"),
            "{how}: {ev:#?}"
        );
        assert!(
            has("an .env file with 1 secret (DB_PASSWORD) at /app/.env"),
            "{how}: {ev:#?}"
        );
        assert!(
            has("AWS credentials (aws_secret_access_key) at /root/.aws/credentials"),
            "{how}: {ev:#?}"
        );
        assert!(
            has("registry credentials for registry.example.com at /root/.docker/config.json"),
            "{how}: {ev:#?}"
        );
        assert!(
            has("a token (GitHub token) at /app/config/settings.yml"),
            "{how}: {ev:#?}"
        );
        for (file, _, kind) in BY_FORMAT {
            let at = format!("{kind} at /srv/odd/{file}");
            assert!(has(&at), "{how}: {at} in {ev:#?}");
            if how == "layers" {
                assert!(
                    ev.iter()
                        .any(|e| e.contains(&format!("{at} — layer")) && e.contains("COPY dir:")),
                    "{how}: the build step of {file}: {ev:#?}"
                );
            }
        }
        for not in [
            "snakeoil",
            "node_modules",
            ".env.example",
            ".env.local",
            "/srv/odd/examples",
        ] {
            assert!(!has(not), "{how}: {not} in {ev:#?}");
        }
        // The step that copied it in, from the layers only; and the key
        // deleted in a later step, which is still in its layer.
        if how == "layers" {
            assert!(
                ev.iter().any(|e| e.contains("/root/.ssh/id_ed25519 — layer") && e.contains("COPY dir:")),
                "{ev:#?}"
            );
            assert!(
                has(
                    "a private key (PKCS #8), removed by a later layer but still in the image at /root/leaked.pem"
                ),
                "{ev:#?}"
            );
        } else {
            assert!(
                !has("leaked.pem"),
                "the archive sees only the merged files: {ev:#?}"
            );
        }
        let text = std::fs::read_to_string(tmp.join(format!("{how}.json"))).unwrap();
        for value in [
            DB_PASSWORD,
            AWS_SECRET,
            GITHUB,
            "YmFrZWQ6dmFsdWU=",
            "BEGIN PRIVATE KEY",
        ] {
            assert!(
                !text.contains(value),
                "{how}: a credential's value is in the report"
            );
        }
        assert!(
            !text.contains("odd-") && !text.contains("b2RkLWF1dGgtOWMx"),
            "{how}: a client configuration's value is in the report"
        );
        // The image cache describes the machine: private to its owner.
        let cached: Vec<_> = std::fs::read_dir(db.join("images"))
            .unwrap()
            .filter_map(Result::ok)
            .collect();
        assert!(!cached.is_empty(), "{how}: the image cache is written");
        for f in cached {
            use std::os::unix::fs::PermissionsExt;
            let mode = f.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{how}: {:?}", f.path());
        }
        let unread = format!("{}", image(&r, &img)["packages"]["unread"]);
        assert!(
            unread.contains("/app/huge/.env: 640000 bytes, over the ceiling of 512 KiB (not read)"),
            "{how}: the oversized .env is named: {unread}"
        );
        assert!(
            image(&r, &img)["packages"]["secret_files_read"]
                .as_u64()
                .unwrap()
                >= 6
        );
    }
}
