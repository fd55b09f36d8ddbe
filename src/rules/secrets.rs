//! Secrets in environment variables, image build history, the command
//! line, healthcheck and labels.
//!
//! Detection looks at the key *and* the value's shape, but a finding only
//! ever names the key, the field and the kind: values are read for
//! classification and dropped. What is a secret is decided in one place,
//! [`crate::model::redact`], which every display and report also uses to
//! hide it: what a finding names and what an output hides cannot drift.

use std::collections::BTreeSet;

use super::{Check, Family, Fix, Hit, Rule};
use crate::model::redact::{self, Kind};
use crate::model::{EnvVar, SeedRule, Severity};

pub use crate::model::redact::{
    HIDDEN, classify, entropy, redact_args, redact_command, token_shape,
};

fn env_hits(env: &[EnvVar], what: &str, hint: &str) -> (Vec<Hit>, BTreeSet<String>) {
    let mut hits = Vec::new();
    let mut keys = BTreeSet::new();
    for e in env {
        if let Some(reason) = classify(&e.key, e.value.expose_for_analysis())
            && keys.insert(e.key.clone())
        {
            let literal = if hint.is_empty() {
                ""
            } else {
                " has a literal value"
            };
            hits.push(Hit::new(format!(
                "{what} {}{literal} ({reason}; value hidden){hint}",
                e.key
            )));
        }
    }
    (hits, keys)
}

/// The `container.secret-env` rule: Secret in an environment variable.
pub const CONTAINER_SECRET_ENV: Rule = Rule {
    id: "container.secret-env",
    title: "Secret in an environment variable",
    severity: Severity::High,
    family: Family::Secrets,
    cis: None,
    seed: SeedRule::ApprovedImages,
    why: "Environment variables are visible to anyone who can inspect the container, to every \
          process in it, in `docker inspect` output, crash dumps and support bundles; they leak \
          into logs and child processes.",
    attack: "Anyone with read access to the engine API — or a compromised process in the \
             container reading /proc/1/environ — collects database passwords and cloud keys \
             and moves on to those systems.",
    fix: Fix {
        summary: "Pass secrets as files (Docker/Compose secrets, a tmpfs mount) and point the app at the file, e.g. DB_PASSWORD_FILE=/run/secrets/db.",
        run: "--secret / -v /path/secret:/run/secrets/db:ro -e DB_PASSWORD_FILE=/run/secrets/db",
        compose: "secrets: [db_password]  (with top-level secrets: db_password: { file: ./db_password.txt })",
        kube: "env:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: { name: db, key: password }",
    },
    references: &[
        "https://docs.docker.com/engine/swarm/secrets/",
        "https://docs.docker.com/compose/how-tos/use-secrets/",
    ],
    check: Check::Container(|ctx, c| {
        // Variables the container inherits unchanged from its image are the
        // image's problem (image.secret-env); report them once, there.
        let inherited: BTreeSet<(&str, &str)> = ctx
            .index
            .image_by_id(&c.image_id)
            .map(|img| {
                img.env
                    .iter()
                    .map(|e| (e.key.as_str(), e.value.expose_for_analysis()))
                    .collect()
            })
            .unwrap_or_default();
        let own: Vec<EnvVar> = c
            .env
            .iter()
            .filter(|e| !inherited.contains(&(e.key.as_str(), e.value.expose_for_analysis())))
            .cloned()
            .collect();
        // Only literal values are read from a pod spec: say the fix there.
        let hint = match c.source {
            crate::model::Source::Engine => "",
            crate::model::Source::Kubernetes => ": use valueFrom.secretKeyRef",
            crate::model::Source::Compose => ": use secrets: (a file) instead",
        };
        env_hits(&own, "env", hint).0
    }),
};

/// A build step that sets the image's configuration (`LABEL`, `CMD`,
/// `ENTRYPOINT`, `HEALTHCHECK`), whether the classic builder wrote it
/// (`/bin/sh -c #(nop)  LABEL …`) or BuildKit (`LABEL …`): what it holds is
/// reported with that configuration (`image.secret-in-config`).
fn config_step(created_by: &str) -> bool {
    let s = created_by.trim_start();
    let s = s
        .strip_prefix("/bin/sh -c #(nop)")
        .map_or(s, str::trim_start);
    ["LABEL ", "CMD ", "ENTRYPOINT ", "HEALTHCHECK "]
        .iter()
        .any(|i| s.starts_with(i))
}

/// The secrets of one build step: an assignment (`NPM_TOKEN=…`, a build
/// argument) by its key, anything else by the words around it. A key
/// already reported (an `ENV`, a label, an earlier step) is not again.
fn step_hits(step: &str, at: &str, seen: &mut BTreeSet<String>, hits: &mut Vec<Hit>) {
    let r = redact::redact(step);
    let config = config_step(step);
    for f in &r.found {
        if f.key.as_ref().is_some_and(|k| seen.contains(k)) {
            continue;
        }
        let ident = f.key.as_deref().filter(|k| {
            k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
        });
        let reason = match f.kind {
            Kind::Keyed(reason) => Some(reason),
            Kind::HighEntropy => Some("value looks like a high-entropy token"),
            _ => None,
        };
        if let (Some(k), Some(reason)) = (ident, reason) {
            seen.insert(k.to_string());
            hits.push(Hit::new(format!("{at} sets {k} ({reason}; value hidden)")));
        } else if !config {
            let spot = r.spot(f);
            if let Some(k) = &f.key {
                seen.insert(k.clone());
            }
            if seen.insert(format!("{at}\0{spot}")) {
                hits.push(Hit::new(format!("{at}: {spot} ({})", f.kind.describe())));
            }
        }
    }
}

/// The `image.secret-env` rule: Secret baked into the image.
pub const IMAGE_SECRET: Rule = Rule {
    id: "image.secret-env",
    title: "Secret baked into the image",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "ENV values, build arguments and the commands of build steps (a token on a RUN line, a \
          password in a URL it fetches) are stored in the image's configuration and history for \
          ever: everyone who can pull the image can read them, in every copy, in every registry.",
    attack: "`docker history --no-trunc` or `docker image inspect` on a pulled image reveals the \
             token; attackers scan public registries for exactly this.",
    fix: Fix {
        summary: "Remove the secret from the Dockerfile; use build secrets (RUN --mount=type=secret) at build time and runtime secrets at run time, then rotate the leaked value.",
        run: "docker build --secret id=npm,src=$HOME/.npmrc …",
        compose: "build: { secrets: [npm] }",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
    ],
    check: Check::Image(|_, img| {
        let (mut hits, mut seen) = env_hits(&img.env, "ENV", "");
        // A label's secret is the configuration's finding
        // (image.secret-in-config), not its build step's too.
        for (k, v) in &img.labels {
            if !redact::label_secrets(k, v).is_empty() {
                seen.insert(k.clone());
            }
        }
        let layers = img.history.len();
        for (i, h) in img.history.iter().enumerate() {
            let at = format!("build history layer {} of {layers}", layers - i);
            step_hits(&h.created_by, &at, &mut seen, &mut hits);
        }
        hits
    }),
};

/// The `image.secret-file` rule: Credentials baked into the image's files.
pub const IMAGE_SECRET_FILE: Rule = Rule {
    id: "image.secret-file",
    title: "Credentials baked into the image's files",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "A file copied into an image stays in its layer for ever — deleting it in a later step \
          only hides it: everyone who can pull the image can extract every layer and read the \
          private key, the `.env` file or the cloud credentials, in every copy, in every registry.",
    attack: "`docker save` the image (or pull it from the registry), untar the layers, grep for \
             `BEGIN PRIVATE KEY`, `.aws/credentials` and `.env`: then sign in as the service, push \
             to its registry or log in to its cloud account.",
    fix: Fix {
        summary: "Do not COPY credentials into an image: pass them at build time as build secrets (RUN --mount=type=secret) or use a multi-stage build whose final stage does not contain them; give them to the container at run time as secrets or mounted files. Then rotate every credential that was in the image.",
        run: "docker build --secret id=npmrc,src=$HOME/.npmrc …  (RUN --mount=type=secret,id=npmrc …)",
        compose: "build: { secrets: [npmrc] }  and  secrets: [db_password] at run time",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
        "https://docs.docker.com/build/building/multi-stage/",
    ],
    check: Check::Image(|_, img| {
        let Some(scan) = img.packages.as_ref() else {
            return Vec::new();
        };
        let Some(found) = &scan.secrets else {
            return Vec::new();
        };
        found
            .found
            .iter()
            .map(|f| {
                let step = f
                    .layer
                    .and_then(|l| Some((l, img.layer_step(l, scan.layer_count)?)))
                    .map(|(l, h)| {
                        format!(
                            " — layer {} of {}: {}",
                            l + 1,
                            scan.layer_count,
                            shorten(&redact_command(h.created_by.trim()))
                        )
                    })
                    .unwrap_or_default();
                Hit::new(format!(
                    "{} at {}{step} (content not shown)",
                    f.kind,
                    crate::model::text::visible(&f.path)
                ))
            })
            .collect()
    }),
};

/// A build step, short enough for evidence.
fn shorten(step: &str) -> String {
    let s: String = step.chars().take(120).collect();
    if s.len() < step.len() {
        format!("{s}…")
    } else {
        s
    }
}

/// Where a command line carries a secret, as the redacted words around it
/// (`--password <hidden>`, `postgres://app:<hidden>@db`) with its kind: the
/// flag or key is named, the value never.
pub fn command_secrets(args: &[String]) -> Vec<(String, Kind)> {
    redact::redact(&args.join("\0")).spots()
}

/// Hits for one object's command line, healthcheck and labels.
fn config_hits(
    what: &str,
    command: Option<&[String]>,
    healthcheck: Option<&crate::model::Healthcheck>,
    labels: &[(&String, &String)],
) -> Vec<Hit> {
    let mut hits = Vec::new();
    if let Some(cmd) = command {
        for (spot, kind) in command_secrets(cmd) {
            hits.push(Hit::new(format!(
                "{what} command line: {spot} ({})",
                kind.describe()
            )));
        }
    }
    if let Some(h) = healthcheck {
        for (spot, kind) in command_secrets(&h.test) {
            hits.push(Hit::new(format!(
                "{what} healthcheck: {spot} ({})",
                kind.describe()
            )));
        }
    }
    // Labels whose key names a secret, or whose value holds one by its
    // shape (not "looks random": commit hashes and digests are routine
    // label values).
    for (key, value) in labels {
        let kinds = redact::label_secrets(key, value);
        match kinds.first() {
            None => {}
            Some(Kind::Keyed(reason)) => hits.push(Hit::new(format!(
                "{what} label {key} ({reason}; value hidden)"
            ))),
            Some(_) => hits.push(Hit::new(format!(
                "{what} label {key}: {} (value hidden)",
                kinds
                    .iter()
                    .map(|k| k.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
    hits
}

/// The `container.secret-in-config` rule: Secret in the command line, healthcheck or labels.
pub const CONTAINER_SECRET_CONFIG: Rule = Rule {
    id: "container.secret-in-config",
    title: "Secret in the command line, healthcheck or labels",
    severity: Severity::High,
    family: Family::Secrets,
    cis: None,
    seed: SeedRule::ApprovedImages,
    why: "The command line, healthcheck and labels are stored in the container's configuration: \
          `docker inspect`, `docker ps --no-trunc`, every process list on the host (`ps` shows \
          the arguments) and every event stream show them to whoever asks.",
    attack: "Read `ps aux` on the host or `docker inspect` through the API and log in to the \
             database with the password passed as `--password`.",
    fix: Fix {
        summary: "Pass secrets as files (a secret or a read-only mount) and point the program at the file; keep labels for metadata only. Rotate the exposed value.",
        run: "-v /path/secret:/run/secrets/db:ro (and --password-file /run/secrets/db)",
        compose: "secrets: [db_password]",
        kube: "",
    },
    references: &[
        "https://docs.docker.com/engine/swarm/secrets/",
        "https://docs.docker.com/compose/how-tos/use-secrets/",
    ],
    check: Check::Container(|ctx, c| {
        // What it inherits unchanged from its image is reported on the image.
        let image = ctx.index.image_by_id(&c.image_id);
        let command = (image.map(|i| &i.command) != Some(&c.command)).then_some(&c.command[..]);
        let healthcheck = c
            .healthcheck
            .as_ref()
            .filter(|h| image.and_then(|i| i.healthcheck.as_ref()) != Some(*h));
        let labels: Vec<(&String, &String)> = c
            .labels
            .iter()
            .filter(|(k, v)| image.and_then(|i| i.labels.get(*k)) != Some(*v))
            .collect();
        config_hits("container", command, healthcheck, &labels)
    }),
};

/// The `image.secret-in-config` rule: Secret in the image's command, healthcheck or labels.
pub const IMAGE_SECRET_CONFIG: Rule = Rule {
    id: "image.secret-in-config",
    title: "Secret in the image's command, healthcheck or labels",
    severity: Severity::High,
    family: Family::Secrets,
    cis: Some("4.10"),
    seed: SeedRule::ApprovedImages,
    why: "CMD, ENTRYPOINT, HEALTHCHECK and LABEL are part of the image's configuration: everyone \
          who can pull the image reads them, and every container started from it shows them in \
          its process list.",
    attack: "`docker image inspect` on a pulled image, or `ps` on any host that runs it, reveals \
             the credential.",
    fix: Fix {
        summary: "Remove the secret from the Dockerfile; read it at run time from a secret file. Rotate the exposed value.",
        run: "docker build --secret id=…  (and a runtime secret file)",
        compose: "secrets: [app_token]",
        kube: "",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/build/building/secrets/",
    ],
    check: Check::Image(|_, img| {
        let labels: Vec<(&String, &String)> = img.labels.iter().collect();
        config_hits(
            "image",
            Some(&img.command),
            img.healthcheck.as_ref(),
            &labels,
        )
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::HistoryEntry;

    #[test]
    fn container_finding_names_key_never_value() {
        let mut c = hardened();
        c.env = vec![
            EnvVar::parse("DB_PASSWORD=hunter2-very-secret"),
            EnvVar::parse("PLAIN=hello"),
        ];
        let hits = run_container(&CONTAINER_SECRET_ENV, &c);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].evidence.starts_with("env DB_PASSWORD"));
        assert!(!hits[0].evidence.contains("hunter2"));
    }

    #[test]
    fn inherited_env_is_reported_on_the_image_only() {
        let mut img = clean_image();
        img.env = vec![EnvVar::parse("API_TOKEN=from-the-image-0123456789")];
        let mut c = hardened();
        c.env = img.env.clone();
        let inv = inventory_with(vec![c.clone()], vec![img.clone()]);
        let p = crate::model::policy::Policy::default();
        assert!(run_container_in(&CONTAINER_SECRET_ENV, &c, &inv, &p).is_empty());
        // Overridden at run time: the container's own secret.
        c.env = vec![EnvVar::parse("API_TOKEN=overridden-at-run-time-1")];
        assert_eq!(
            run_container_in(&CONTAINER_SECRET_ENV, &c, &inv, &p).len(),
            1
        );
        assert_eq!(run_image(&IMAGE_SECRET, &img).len(), 1);
    }

    #[test]
    fn build_history_args() {
        let mut img = clean_image();
        img.history.insert(
            0,
            HistoryEntry {
                created_by: "|1 NPM_TOKEN=npm_abcdef0123456789 /bin/sh -c npm ci".into(),
                created: None,
                size: 0,
            },
        );
        img.history.insert(
            0,
            HistoryEntry {
                created_by: "/bin/sh -c #(nop)  ENV LOG_LEVEL=debug".into(),
                created: None,
                size: 0,
            },
        );
        let hits = run_image(&IMAGE_SECRET, &img);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(
            hits[0].evidence,
            "build history layer 4 of 5 sets NPM_TOKEN (key names a secret; value hidden)"
        );
    }

    #[test]
    fn command_line_healthcheck_and_labels_name_the_flag_never_the_value() {
        let mut c = hardened();
        c.command = vec![
            "sh".into(),
            "-c".into(),
            "mysqld --password hunter2value && curl https://admin:s3cretpw@example.com".into(),
        ];
        c.healthcheck = Some(crate::model::Healthcheck {
            test: vec![
                "CMD".into(),
                "check".into(),
                "--token=ghp_0123456789abcdefghijABCDEFGHIJ012345".into(),
            ],
        });
        c.labels.insert("DB_PASSWORD".into(), "hunter2value".into());
        c.labels.insert(
            "deploy.note".into(),
            "rotated ghp_0123456789abcdefghijABCDEFGHIJ012345 on monday".into(),
        );
        c.labels.insert(
            "org.opencontainers.image.revision".into(),
            "4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d".into(),
        );
        let h = run_container(&CONTAINER_SECRET_CONFIG, &c);
        let ev: Vec<&str> = h.iter().map(|h| h.evidence.as_str()).collect();
        assert_eq!(
            ev,
            vec![
                "container command line: --password <hidden> (the value of a secret option)",
                "container command line: https://admin:<hidden>@example.com (a password in a URL)",
                "container healthcheck: --token=<hidden> (a GitHub token)",
                "container label DB_PASSWORD (key names a secret; value hidden)",
                "container label deploy.note: a GitHub token (value hidden)",
            ]
        );
        for e in &ev {
            assert!(!e.contains("hunter2") && !e.contains("s3cret") && !e.contains("ghp_"));
        }
        // An option in one argument and its value in the next.
        c.labels.clear();
        c.healthcheck = None;
        c.command = vec!["mysqld".into(), "--password".into(), "hunter2value".into()];
        let h = run_container(&CONTAINER_SECRET_CONFIG, &c);
        assert_eq!(
            h[0].evidence,
            "container command line: --password <hidden> (the value of a secret option)"
        );
    }

    #[test]
    fn build_steps_name_where_a_secret_is() {
        let mut img = clean_image();
        let step = |s: &str| HistoryEntry {
            created_by: s.into(),
            created: None,
            size: 0,
        };
        img.labels.insert(
            "deploy.note".into(),
            "rotated ghp_0123456789abcdefghijABCDEFGHIJ012345".into(),
        );
        img.history = vec![
            step(
                "/bin/sh -c #(nop)  LABEL deploy.note=rotated ghp_0123456789abcdefghijABCDEFGHIJ012345",
            ),
            step(
                "RUN /bin/sh -c curl -H 'Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789' https://x | sh",
            ),
            step("/bin/sh -c mysql -uroot -pS3cretPw < /init.sql"),
            step(
                "/bin/sh -c git clone https://github.com/acme/app && git -C app checkout 4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
            ),
        ];
        let ev: Vec<String> = run_image(&IMAGE_SECRET, &img)
            .into_iter()
            .map(|h| h.evidence)
            .collect();
        assert_eq!(
            ev,
            [
                "build history layer 3 of 4: 'Authorization: token <hidden>' (a GitHub token)",
                "build history layer 2 of 4: -p<hidden> (a password option's value)",
            ],
            "the LABEL step is the configuration's finding; a commit id is no secret"
        );
    }

    #[test]
    fn inherited_config_is_reported_on_the_image_only() {
        let mut img = clean_image();
        img.command = vec!["app".into(), "--api-key=abc123def456ghi789".into()];
        img.labels.insert("API_TOKEN".into(), "x1y2z3".into());
        let mut c = hardened();
        c.command = img.command.clone();
        c.labels = img.labels.clone();
        let inv = inventory_with(vec![c.clone()], vec![img.clone()]);
        let p = crate::model::policy::Policy::default();
        assert!(run_container_in(&CONTAINER_SECRET_CONFIG, &c, &inv, &p).is_empty());
        let h = run_image_in(&IMAGE_SECRET_CONFIG, &img, &inv, &p);
        assert_eq!(h.len(), 2, "{h:?}");
        assert_eq!(
            h[0].evidence,
            "image command line: --api-key=<hidden> (a value whose key names a secret)"
        );
        assert!(run_image(&IMAGE_SECRET_CONFIG, &clean_image()).is_empty());
    }
}
