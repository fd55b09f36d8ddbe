//! Credentials baked into an image's files, on a real engine: a private key
//! generated here, an `.env` file, AWS and registry credentials, a token in
//! a config file, and a key copied in one step and deleted in the next
//! (still in its layer) are found, each with its build step; the OS's
//! snakeoil key, a package's test key and an `.env.example` are not; an
//! oversized `.env` and one that links to `/dev/zero` stop with a reason or
//! are passed over. The report never carries a value.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::process::Command;

use common::scan::*;
use common::*;

const DB_PASSWORD: &str = "hunter2-baked-value-6f1c";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz9baked";
const GITHUB: &str = "ghp_bakedTOKENbakedTOKENbakedTOKEN012345";

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
        for not in ["snakeoil", "node_modules", ".env.example", ".env.local"] {
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
