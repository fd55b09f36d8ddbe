//! Image-level checks: default user, healthcheck, how it was built, age,
//! and image sprawl.

use super::{Check, Family, Fix, Hit, Rule, steps};
use crate::model::{HistoryEntry, SeedRule, Severity};

const CIS: &str = "CIS Docker Benchmark v1.6.0";

/// The `image.root-user` rule: Image runs as root by default.
pub const ROOT_USER: Rule = Rule {
    id: "image.root-user",
    title: "Image runs as root by default",
    severity: Severity::Low,
    family: Family::Images,
    cis: Some("4.1"),
    seed: SeedRule::LeastPrivilege,
    why: "Every container started from this image without --user runs as root; safety then \
          depends on each person remembering to override it.",
    attack: "The first container someone starts without --user gives an attacker root in the \
             container (see container.root-user).",
    fix: Fix {
        summary: "Create an unprivileged user in the Dockerfile and switch to it with USER.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/build/building/best-practices/#user",
    ],
    check: Check::Image(|_, img| {
        if super::privileges::is_root_user(&img.user) {
            let shown = if img.user.is_empty() {
                "unset (root)"
            } else {
                img.user.as_str()
            };
            vec![Hit::new(format!("Config.User is {shown}"))]
        } else {
            vec![]
        }
    }),
};

/// The `image.no-healthcheck` rule: Image has no HEALTHCHECK.
pub const NO_HEALTHCHECK: Rule = Rule {
    id: "image.no-healthcheck",
    title: "Image has no HEALTHCHECK",
    severity: Severity::Low,
    family: Family::Images,
    cis: Some("4.6"),
    seed: SeedRule::MonitorActivity,
    why: "Without a HEALTHCHECK in the image, containers from it report only whether their \
          process exists, not whether the service works.",
    attack: "A hung or subverted service stays \"up\" and unnoticed; nothing restarts or alerts.",
    fix: Fix {
        summary: "Add a HEALTHCHECK instruction that probes the service.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/reference/dockerfile/#healthcheck",
    ],
    check: Check::Image(|_, img| match &img.healthcheck {
        Some(h) if !h.is_disabled() => vec![],
        _ => vec![Hit::new("Config.Healthcheck is not set")],
    }),
};

const PACKAGE_MANAGERS: &[&str] = &[
    "apt-get", "apt", "yum", "dnf", "microdnf", "apk", "zypper", "tdnf",
];

fn pm_verb<'a>(cmd: &[&'a str]) -> Option<&'a str> {
    let prog = cmd.first()?.rsplit('/').next()?;
    if !PACKAGE_MANAGERS.contains(&prog) {
        return None;
    }
    cmd.iter().skip(1).find(|t| !t.starts_with('-')).copied()
}

/// A layer that refreshes package indexes without installing in the same
/// layer: later layers install from a stale cached index.
pub fn update_alone(h: &HistoryEntry) -> bool {
    let verbs: Vec<&str> = super::steps::commands(&h.created_by)
        .iter()
        .filter_map(|c| pm_verb(c))
        .collect();
    let updates = verbs
        .iter()
        .any(|v| matches!(*v, "update" | "makecache" | "refresh"));
    let installs = verbs
        .iter()
        .any(|v| matches!(*v, "install" | "add" | "upgrade" | "dist-upgrade" | "in"));
    updates && !installs
}

/// The `image.update-alone` rule: Package index update alone in a layer.
pub const UPDATE_ALONE: Rule = Rule {
    id: "image.update-alone",
    title: "Package index update alone in a layer",
    severity: Severity::Low,
    family: Family::Images,
    cis: Some("4.7"),
    seed: SeedRule::VulnerabilityManagement,
    why: "An `apt-get update` in its own layer is cached by the builder; later rebuilds reuse the \
          old index and install outdated, vulnerable package versions.",
    attack: "Rebuilt images silently keep shipping package versions with known CVEs, which the \
             attacker then exploits.",
    fix: Fix {
        summary: "Update and install in the same RUN: `RUN apt-get update && apt-get install -y pkg && rm -rf /var/lib/apt/lists/*`.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/build/building/best-practices/#apt-get",
    ],
    check: Check::Image(|_, img| {
        steps::layer_hits(img, false, |h| update_alone(h).then(String::new))
    }),
};

fn is_add(created_by: &str) -> bool {
    let t = created_by.trim();
    t.starts_with("ADD ") || t.contains("#(nop) ADD ")
}

/// The `image.add-instead-of-copy` rule: ADD used instead of COPY.
pub const ADD_INSTEAD_OF_COPY: Rule = Rule {
    id: "image.add-instead-of-copy",
    title: "ADD used instead of COPY",
    severity: Severity::Low,
    family: Family::Images,
    cis: Some("4.9"),
    seed: SeedRule::Integrity,
    why: "ADD fetches URLs and unpacks archives implicitly, so what lands in the image is not \
          what the build context shows; COPY copies exactly the named files.",
    attack: "A tampered remote URL or a crafted archive (path traversal, symlinks) plants files \
             in the image without anyone seeing them in the Dockerfile.",
    fix: Fix {
        summary: "Use COPY for local files; download with a checksum-verified RUN step when a remote file is needed.",
        run: "",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/build/building/best-practices/#add-or-copy",
    ],
    // The oldest record is the base layer (typically `ADD rootfs.tar /`).
    check: Check::Image(|_, img| {
        steps::layer_hits(img, true, |h| is_add(&h.created_by).then(String::new))
    }),
};

/// The `image.old` rule: Image is older than the policy allows.
pub const OLD_IMAGE: Rule = Rule {
    id: "image.old",
    title: "Image is older than the policy allows",
    severity: Severity::Medium,
    family: Family::Images,
    cis: Some("4.4"),
    seed: SeedRule::VulnerabilityManagement,
    why: "An image that has not been rebuilt for months carries every vulnerability published \
          since; rebuilding regularly is how base-image patches reach you.",
    attack: "Attackers scan for services with known, long-patched CVEs; old images are where \
             they find them.",
    fix: Fix {
        summary: "Rebuild the image on a schedule (pulling the base image fresh) and redeploy.",
        run: "docker build --pull --no-cache …",
        compose: "docker compose build --pull",
        kube: "",
    },
    references: &[CIS],
    check: Check::Image(|ctx, img| {
        let Some(created) = img.created else {
            return vec![];
        };
        let age = ctx.now.signed_duration_since(created);
        let max = i64::from(ctx.policy.max_image_age_days);
        if age.num_seconds() > max * 86_400 {
            vec![Hit::new(format!(
                "created {} ({} days ago; the policy allows {max})",
                created.format("%Y-%m-%d"),
                age.num_days()
            ))]
        } else {
            vec![]
        }
    }),
};

/// The `image.dangling` rule: Dangling image.
pub const DANGLING: Rule = Rule {
    id: "image.dangling",
    title: "Dangling image",
    severity: Severity::Low,
    family: Family::Images,
    cis: Some("6.1"),
    seed: SeedRule::VulnerabilityManagement,
    why: "Untagged images are left-overs of rebuilds: nobody tracks or patches them, yet a \
          container can still be started from them by id.",
    attack: "Old, unpatched images are an easy source of a vulnerable container, and they may \
             hold secrets from earlier builds.",
    fix: Fix {
        summary: "Remove dangling images regularly.",
        run: "docker image prune",
        compose: "",
        kube: "",
    },
    references: &[
        CIS,
        "https://docs.docker.com/reference/cli/docker/image/prune/",
    ],
    check: Check::Image(|ctx, img| {
        if img.is_dangling() {
            let users = ctx.index.users_of(&img.id);
            vec![Hit::new(format!(
                "image {} has no tag ({users} containers use it)",
                img.short_id()
            ))]
        } else {
            vec![]
        }
    }),
};

/// The `image.unused` rule: Image not used by any container.
pub const UNUSED: Rule = Rule {
    id: "image.unused",
    title: "Image not used by any container",
    severity: Severity::Info,
    family: Family::Images,
    cis: Some("6.1"),
    seed: SeedRule::VulnerabilityManagement,
    why: "Images nobody runs still take space and still have to be patched or removed; image \
          sprawl hides which images matter.",
    attack: "A stale image lying around gets started by mistake, or by an attacker who prefers \
             its older, vulnerable software.",
    fix: Fix {
        summary: "Remove images you no longer need.",
        run: "docker image rm <image>  (or docker image prune -a)",
        compose: "",
        kube: "",
    },
    references: &[CIS],
    check: Check::Image(|ctx, img| {
        if !img.is_dangling() && ctx.index.users_of(&img.id) == 0 {
            vec![Hit::new(format!(
                "no container uses {}",
                img.display_name()
            ))]
        } else {
            vec![]
        }
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::{Container, Healthcheck, Image};

    fn layer(s: &str) -> HistoryEntry {
        HistoryEntry {
            created_by: s.into(),
            created: None,
            size: 0,
        }
    }

    #[test]
    fn update_alone_is_tokenised() {
        assert!(update_alone(&layer("/bin/sh -c apt-get update")));
        assert!(update_alone(&layer("RUN /bin/sh -c apk update # buildkit")));
        assert!(update_alone(&layer(
            "|1 X=1 /bin/sh -c sudo apt-get -q update"
        )));
        assert!(!update_alone(&layer(
            "/bin/sh -c apt-get update && apt-get install -y curl"
        )));
        assert!(!update_alone(&layer("/bin/sh -c update-ca-certificates")));
        assert!(!update_alone(&layer("/bin/sh -c echo apt-get update")));
        assert!(!update_alone(&layer("/bin/sh -c apk add --no-cache curl")));
    }

    #[test]
    fn update_rule() {
        let mut img = clean_image();
        img.history.insert(0, layer("/bin/sh -c yum makecache"));
        let hits = run_image(&UPDATE_ALONE, &img);
        assert_eq!(hits[0].evidence, "layer 4 of 4: /bin/sh -c yum makecache");
    }

    #[test]
    fn add_skips_the_base_layer() {
        let mut img = clean_image();
        assert!(run_image(&ADD_INSTEAD_OF_COPY, &img).is_empty());
        img.history
            .insert(0, layer("/bin/sh -c #(nop) ADD file:abc in /app/"));
        img.history
            .insert(0, layer("ADD https://example.com/x.tgz /opt # buildkit"));
        assert_eq!(run_image(&ADD_INSTEAD_OF_COPY, &img).len(), 2);
    }

    #[test]
    fn root_and_healthcheck() {
        let mut img = clean_image();
        img.user = "0".into();
        img.healthcheck = Some(Healthcheck {
            test: vec!["NONE".into()],
        });
        assert_eq!(run_image(&ROOT_USER, &img).len(), 1);
        assert_eq!(run_image(&NO_HEALTHCHECK, &img).len(), 1);
    }

    #[test]
    fn age_against_policy() {
        let mut img = clean_image();
        img.created = Some(now() - chrono::Duration::days(91));
        let hits = run_image(&OLD_IMAGE, &img);
        assert!(
            hits[0]
                .evidence
                .contains("91 days ago; the policy allows 90"),
            "{hits:?}"
        );
        let policy =
            crate::model::policy::Policy::from_toml_str("[images]\nmax_age_days = 120\n", None)
                .unwrap();
        let inv = inventory_with(vec![], vec![img.clone()]);
        assert!(run_image_in(&OLD_IMAGE, &img, &inv, &policy).is_empty());
    }

    #[test]
    fn sprawl() {
        let mut img = clean_image();
        img.tags.clear();
        assert_eq!(run_image(&DANGLING, &img).len(), 1);
        assert!(
            run_image(&UNUSED, &img).is_empty(),
            "dangling is reported once, as dangling"
        );
        let img = Image {
            id: "sha256:9".into(),
            tags: vec!["x:1".into()],
            ..clean_image()
        };
        let inv = inventory_with(vec![Container::default()], vec![img.clone()]);
        let hits = run_image_in(
            &UNUSED,
            &img,
            &inv,
            &crate::model::policy::Policy::default(),
        );
        assert_eq!(hits[0].evidence, "no container uses x:1");
    }
}
