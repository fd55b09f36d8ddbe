//! `shipshape sbom`: a bill of materials of images' packages (CycloneDX 1.6
//! or SPDX 2.3 JSON), read the same read-only way `scan` reads them.

use chrono::Utc;

use super::{Cli, Exit, SbomArgs};
use crate::model::{Image, Inventory, visible};
use crate::report::sbom::{self, BomImage, BomMeta, Completeness};

/// Which images the command names: the images of the containers named, the
/// images named, or (with `--all`) every image — whether a container uses it
/// or not (its layers are read, or the engine's image export: see
/// [`crate::sources::docker::packages`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Selection {
    /// Image ids to describe, in the order named.
    pub images: Vec<String>,
    /// What could not be taken, each for people.
    pub problems: Vec<String>,
}

/// Resolve the names given on the command line against an inventory: a
/// container's id, id prefix or name; an image's id (with or without
/// `sha256:`), id prefix, `repo:tag`, or `repo` meaning `repo:latest`.
pub fn select(inv: &Inventory, targets: &[String], all: bool) -> Selection {
    let mut images = Vec::new();
    let mut problems = Vec::new();
    let push = |id: String, images: &mut Vec<String>| {
        if !images.contains(&id) {
            images.push(id);
        }
    };
    if all {
        for img in &inv.images {
            push(img.id.clone(), &mut images);
        }
    }
    for t in targets {
        let t = t.trim();
        let hex = t.strip_prefix("sha256:").unwrap_or(t);
        let is_hex = hex.len() >= 4 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        let container = inv
            .containers
            .iter()
            .filter(|c| c.gone.is_none())
            .find(|c| c.name == t.trim_start_matches('/') || (is_hex && c.id.starts_with(hex)));
        if let Some(c) = container {
            if c.image_id.is_empty() {
                problems.push(format!("container {}: its image is not known", c.name));
            } else {
                push(c.image_id.clone(), &mut images);
            }
            continue;
        }
        let with_tag = if t.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            t.to_string()
        } else {
            format!("{t}:latest")
        };
        let image = inv.images.iter().find(|i| {
            i.tags.iter().any(|tag| tag == t || *tag == with_tag)
                || (is_hex && i.id.trim_start_matches("sha256:").starts_with(hex))
        });
        match image {
            Some(i) => push(i.id.clone(), &mut images),
            None => problems.push(format!("{t}: no container or image of that name or id")),
        }
    }
    Selection { images, problems }
}

/// Runs `shipshape sbom`; returns the exit code.
pub async fn run(cli: &Cli, args: &SbomArgs) -> Exit {
    if args.targets.is_empty() && !args.all {
        eprintln!("shipshape: name an image or container, or give --all");
        return Exit::Usage;
    }
    let (name, engine, mut inventory) = match super::snapshot_first(cli).await {
        Ok(got) => got,
        Err(exit) => return exit,
    };
    let chosen = select(&inventory, &args.targets, args.all);
    for p in &chosen.problems {
        eprintln!("shipshape: {}", visible(p));
    }
    if chosen.images.is_empty() {
        eprintln!("shipshape: no image to describe");
        return Exit::Usage;
    }
    // Only what was asked for is read.
    inventory.images.retain(|i| chosen.images.contains(&i.id));
    inventory
        .containers
        .retain(|c| chosen.images.contains(&c.image_id));
    let now = Utc::now();
    let db = if args.no_vulns {
        Err("not looked up (--no-vulns)".to_string())
    } else {
        super::scan::load_vulndb(cli, now).await.map(|(db, _)| db)
    };
    // An image named on the command line is read even when only the
    // engine's export gives it (one image, asked for); `--all` only with
    // `--export-images`.
    let export = match cli.export_policy() {
        crate::sources::docker::packages::Export::Never if !args.all => {
            crate::sources::docker::packages::Export::Only(chosen.images.iter().cloned().collect())
        }
        policy => policy,
    };
    let mut readings = match super::scan::read_packages(
        &engine,
        &inventory,
        cli.vulndb_store().as_ref(),
        now,
        &export,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("shipshape: {}", visible(&e.to_string()));
            return Exit::EngineUnreachable;
        }
    };
    for w in readings.warnings.drain(..) {
        eprintln!("shipshape: {}", crate::model::text::visible(&w));
    }
    crate::vulndb::annotate(
        &mut inventory,
        &readings,
        db.as_ref().map_err(String::as_str),
    );
    let ordered: Vec<&Image> = chosen
        .images
        .iter()
        .filter_map(|id| inventory.images.iter().find(|i| &i.id == id))
        .collect();
    let bom: Vec<BomImage<'_>> = ordered
        .iter()
        .map(|image| BomImage {
            image,
            engine: &name,
        })
        .collect();
    let text = sbom::render(args.format, &bom, &BomMeta::fresh());
    if let Err(e) = super::write_output(&args.output, &text) {
        eprintln!("shipshape: {e}");
        return Exit::Usage;
    }
    let mut complete = true;
    for image in &ordered {
        let packages = image.packages.as_ref().map_or(0, |s| s.packages.len());
        let vulns = image.vulns.vulnerabilities().len();
        let what = match sbom::completeness(image) {
            Completeness::Complete => String::new(),
            Completeness::Incomplete(list) => {
                complete = false;
                format!(" — INCOMPLETE: {}", list.join("; "))
            }
            Completeness::NotRead(why) => {
                complete = false;
                format!(" — NOT READ: {why}")
            }
        };
        if !args.quiet || !what.is_empty() {
            // Tags and the paths of the notes are the image's: one line.
            eprintln!(
                "  {}: {packages} packages, {vulns} known vulnerabilities{}",
                visible(&image.display_name()),
                visible(&what)
            );
        }
    }
    if !args.quiet && args.output != "-" {
        eprintln!("  {} written to {}", args.format.name(), args.output);
    }
    if complete && chosen.problems.is_empty() {
        Exit::Clean
    } else {
        // Written, but not everything asked for is in it.
        Exit::Findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Container;

    fn inventory() -> Inventory {
        let image = |hex: &str, tags: &[&str]| Image {
            id: format!("sha256:{}", hex.repeat(32)),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Image::default()
        };
        let container = |id: &str, name: &str, image: &str| Container {
            id: id.repeat(32),
            name: name.into(),
            image_id: format!("sha256:{}", image.repeat(32)),
            ..Container::default()
        };
        let mut gone = container("99", "old", "cc");
        gone.gone = Some(crate::model::Gone { at: Utc::now() });
        Inventory {
            images: vec![
                image("aa", &["shop/api:1.2", "shop/api:latest"]),
                image("bb", &["debian:12"]),
                image("cc", &["unused:1"]),
            ],
            containers: vec![
                container("11", "api", "aa"),
                container("22", "db", "bb"),
                gone,
            ],
            ..Inventory::default()
        }
    }

    fn id(hex: &str) -> String {
        format!("sha256:{}", hex.repeat(32))
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn containers_and_images_are_found_by_name_tag_or_id_prefix_once_each() {
        let inv = inventory();
        let s = select(
            &inv,
            &names(&["api", "/db", "shop/api", "debian:12", "sha256:aaaa", "2222"]),
            false,
        );
        assert_eq!(s.images, [id("aa"), id("bb")]);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn an_image_no_live_container_uses_is_taken_too() {
        let inv = inventory();
        let s = select(&inv, &names(&["unused:1", "old", "nope", "abc"]), false);
        assert_eq!(s.images, [id("cc")]);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
        // A removed container is not taken, and three hex digits are not
        // an id prefix.
        assert!(s.problems[0].starts_with("old: no container or image"));
        assert!(s.problems[2].starts_with("abc: no container or image"));
    }

    #[test]
    fn all_takes_every_image() {
        let inv = inventory();
        let s = select(&inv, &[], true);
        assert_eq!(s.images, [id("aa"), id("bb"), id("cc")]);
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }
}
