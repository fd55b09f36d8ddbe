//! Where the image a container runs comes from, and whether it is still
//! the image its name points to.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::{Container, ImageRef, SeedRule, Severity};

/// The `container.mutable-image-ref` rule: Image reference is not pinned.
pub const MUTABLE_IMAGE_REF: Rule = Rule {
    id: "container.mutable-image-ref",
    title: "Image reference is not pinned",
    severity: Severity::Low,
    family: Family::Provenance,
    cis: Some("5.28"),
    seed: SeedRule::Integrity,
    why: "A tag can be moved to different content at any time; `latest` (or no tag) moves all \
          the time. Without a digest nobody can say which bytes a container was meant to run.",
    attack: "Whoever can push to the repository (or poison a mirror) replaces the image behind \
             the tag, and the next pull or restart runs their code.",
    fix: Fix {
        summary: "Reference images by digest (or at least a specific version tag).",
        run: "docker run image@sha256:<digest>",
        compose: "image: repo/app@sha256:<digest>",
        kube: "image: repo/app@sha256:<digest>",
    },
    references: &[
        "CIS Docker Benchmark v1.6.0",
        "https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-by-digest-immutable-identifier",
    ],
    check: Check::Container(|_, c| {
        let Some(r) = ImageRef::parse(&c.image) else {
            return vec![Hit::new("Config.Image is empty")];
        };
        if r.is_immutable() {
            vec![]
        } else if r.is_latest() {
            vec![Hit::graded(
                Severity::Medium,
                format!("image {} uses the mutable tag latest", c.image),
            )]
        } else {
            vec![Hit::new(format!(
                "image {} is referenced by tag, not by digest",
                c.image
            ))]
        }
    }),
};

/// The `container.stale-image` rule: Runs an image its tag no longer points to.
pub const STALE_IMAGE: Rule = Rule {
    id: "container.stale-image",
    title: "Runs an image its tag no longer points to",
    severity: Severity::Medium,
    family: Family::Provenance,
    cis: None,
    seed: SeedRule::VulnerabilityManagement,
    why: "The tag the container was created from has moved to a newer image (typically a \
          rebuilt or patched one), but the container still runs the old bytes.",
    attack: "Fixes pulled into the new image do not protect this container: a vulnerability \
             that is patched everywhere else stays exploitable here.",
    fix: Fix {
        summary: "Recreate the container from the current image.",
        run: "docker rm -f <name> && docker run … <image:tag>",
        compose: "docker compose up -d --force-recreate <service>",
        kube: "",
    },
    references: &["https://docs.docker.com/reference/cli/docker/compose/up/"],
    check: Check::Container(|ctx, c| {
        let Some(r) = ImageRef::parse(&c.image) else {
            return vec![];
        };
        if r.is_immutable() {
            return vec![];
        }
        match ctx.index.image_by_ref(&r) {
            Some(img) if !c.image_id.is_empty() && img.id != c.image_id => vec![Hit::new(format!(
                "{} now points to {}, the container runs {}",
                c.image,
                img.short_id(),
                crate::model::short_id(&c.image_id)
            ))],
            _ => vec![],
        }
    }),
};

/// The names a container's image is known by: its reference, and when that
/// is an id, the tags of the image.
fn names_of(ctx: &Ctx, c: &Container) -> Vec<ImageRef> {
    match ImageRef::parse(&c.image) {
        Some(r) if !r.is_id => vec![r],
        _ => ctx
            .index
            .image_by_id(&c.image_id)
            .map(|img| img.tags.iter().filter_map(|t| ImageRef::parse(t)).collect())
            .unwrap_or_default(),
    }
}

/// The `container.unapproved-image` rule: Image is not from an approved source.
pub const UNAPPROVED_IMAGE: Rule = Rule {
    id: "container.unapproved-image",
    title: "Image is not from an approved source",
    severity: Severity::Medium,
    family: Family::Provenance,
    cis: None,
    seed: SeedRule::ApprovedImages,
    why: "The policy file lists the registries and repositories this machine may run images \
          from. Anything else has not been vetted.",
    attack: "Typosquatted or look-alike images (`ngnix`, `node-js`) on public registries carry \
             miners and backdoors; running them hands the attacker a container.",
    fix: Fix {
        summary: "Use an image from an approved registry, or add the source to the policy's approved list after review.",
        run: "docker run <approved-registry>/<repo>:<tag>",
        compose: "image: <approved-registry>/<repo>:<tag>",
        kube: "image: <approved-registry>/<repo>:<tag>",
    },
    references: &["https://docs.docker.com/docker-hub/image-access-management/"],
    check: Check::Container(|ctx, c| {
        if ctx.policy.approved.is_empty() {
            return vec![];
        }
        let names = names_of(ctx, c);
        if names.iter().any(|r| ctx.policy.approves(r)) {
            return vec![];
        }
        let shown = match names.first() {
            Some(r) => r.name(),
            None => format!("{} (untagged image)", c.image),
        };
        vec![Hit::new(format!("{shown} matches no approved pattern"))]
    }),
};

/// The `image.signature` rule: Image is not signed by the key the policy
/// requires.
pub const IMAGE_SIGNATURE: Rule = Rule {
    id: "image.signature",
    title: "Image is not signed by the required key",
    severity: Severity::High,
    family: Family::Provenance,
    cis: None,
    seed: SeedRule::Integrity,
    why: "The policy says images of this repository must carry a cosign signature by a named \
          key: the chain of custody that shows the bytes are what their builder made. This \
          image's digest has no such signature: it is unsigned, signed by someone else, its \
          signature is malformed, or the signature belongs to another digest.",
    attack: "Whoever can push to the repository or a mirror (a stolen token, a compromised CI \
             job, a poisoned cache) ships their own image under a trusted name; without a \
             signature check it runs as if the builder had made it. Copying a valid signature \
             from another image, or altering a signature, is caught only when the digest and \
             the signature are both checked.",
    fix: Fix {
        summary: "Run only images signed by the required key: sign them in the release pipeline \
                  (`cosign sign --key cosign.key IMAGE@DIGEST`), pull by digest, and check with \
                  `shipshape verify IMAGE --key cosign.pub --online`. An image that should not \
                  need a signature: narrow the policy's `[[integrity.require]] images` glob.",
        run: "docker run <registry>/<repo>@sha256:<signed digest>",
        compose: "image: <registry>/<repo>@sha256:<signed digest>",
        kube: "image: <registry>/<repo>@sha256:<signed digest>",
    },
    references: &[
        "https://docs.sigstore.dev/cosign/signing/signing_with_containers/",
        "https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md",
    ],
    check: Check::Image(|_, img| {
        use crate::model::integrity::Integrity;
        let Some(i) = &img.integrity else {
            return vec![];
        };
        let at = i.digest.as_deref().unwrap_or("");
        match &i.outcome {
            Integrity::Verified { .. } | Integrity::NotChecked { .. } => vec![],
            Integrity::Unsigned | Integrity::SignedByOtherKey { .. } => {
                vec![Hit::new(format!("{at}: {}", i.outcome.describe()))]
            }
            Integrity::WrongDigest { .. } | Integrity::Invalid { .. } => vec![Hit::graded(
                Severity::Critical,
                format!("{at}: {}", i.outcome.describe()),
            )],
        }
    }),
};

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::model::Image;
    use crate::model::policy::Policy;

    #[test]
    fn mutable_refs_graded() {
        let mut c = hardened();
        c.image = "nginx".into();
        assert_eq!(
            run_container(&MUTABLE_IMAGE_REF, &c)[0].severity,
            Some(Severity::Medium)
        );
        c.image = "nginx:latest".into();
        assert_eq!(
            run_container(&MUTABLE_IMAGE_REF, &c)[0].severity,
            Some(Severity::Medium)
        );
        c.image = "nginx:1.27".into();
        assert_eq!(run_container(&MUTABLE_IMAGE_REF, &c)[0].severity, None);
        c.image = "nginx@sha256:abc".into();
        assert!(run_container(&MUTABLE_IMAGE_REF, &c).is_empty());
    }

    #[test]
    fn stale_when_tag_moved() {
        let mut c = hardened();
        c.image = "registry.example/app:1.0".into();
        c.image_id =
            "sha256:2222222222222222222222222222222222222222222222222222222222222222".into();
        // clean_image() carries the tag registry.example/app:1.0 with IMAGE_ID.
        let hits = run_container(&STALE_IMAGE, &c);
        assert_eq!(hits.len(), 1);
        assert!(
            hits[0].evidence.contains("now points to 111111111111"),
            "{hits:?}"
        );
        c.image_id = IMAGE_ID.into();
        assert!(run_container(&STALE_IMAGE, &c).is_empty());
    }

    #[test]
    fn image_signature_outcomes() {
        use crate::model::integrity::{ImageIntegrity, Integrity};
        let with = |outcome: Integrity| Image {
            id: IMAGE_ID.into(),
            integrity: Some(ImageIntegrity {
                digest: Some("r.io/a@sha256:00".into()),
                outcome,
                signer: None,
                fetched: None,
            }),
            ..Image::default()
        };
        let run = |img: &Image| run_image(&IMAGE_SIGNATURE, img);
        // Pass: verified, not checked, no requirement.
        assert!(
            run(&with(Integrity::Verified {
                key: "sha256:ab".into()
            }))
            .is_empty()
        );
        assert!(
            run(&with(Integrity::NotChecked {
                reason: "offline".into()
            }))
            .is_empty()
        );
        assert!(run(&Image::default()).is_empty());
        // Fail.
        let hits = run(&with(Integrity::Unsigned));
        assert!(
            hits[0].evidence.starts_with("r.io/a@sha256:00: unsigned"),
            "{hits:?}"
        );
        assert_eq!(
            run(&with(Integrity::SignedByOtherKey { signatures: 2 }))[0].severity,
            None
        );
        let hits = run(&with(Integrity::WrongDigest {
            signed: "sha256:11".into(),
        }));
        assert_eq!(hits[0].severity, Some(Severity::Critical));
        let hits = run(&with(Integrity::Invalid {
            reason: "not base64".into(),
        }));
        assert!(hits[0].evidence.contains("invalid signature: not base64"));
    }

    #[test]
    fn approved_images() {
        let policy =
            Policy::from_toml_str("[images]\napproved = [\"registry.example/*\"]\n", None).unwrap();
        let mut c = hardened();
        let inv = inventory_with(vec![c.clone()], vec![clean_image()]);
        // Referenced by id: resolved through the image's tags.
        assert!(run_container_in(&UNAPPROVED_IMAGE, &c, &inv, &policy).is_empty());
        c.image = "docker.io/evil/miner:1".into();
        let hits = run_container_in(&UNAPPROVED_IMAGE, &c, &inv, &policy);
        assert_eq!(
            hits[0].evidence,
            "docker.io/evil/miner matches no approved pattern"
        );
        // No approved list: nothing to check.
        assert!(run_container(&UNAPPROVED_IMAGE, &c).is_empty());
        // An untagged image referenced by id cannot be approved.
        c.image = "sha256:3333".into();
        c.image_id = "sha256:3333".into();
        let inv = inventory_with(
            vec![c.clone()],
            vec![Image {
                id: "sha256:3333".into(),
                ..Image::default()
            }],
        );
        let hits = run_container_in(&UNAPPROVED_IMAGE, &c, &inv, &policy);
        assert!(hits[0].evidence.contains("untagged"));
    }
}
