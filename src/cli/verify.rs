//! `shipshape verify IMAGE [--key FILE] [--online]`: are the image's
//! cosign signatures made by a key the user names? For scripts: exit 0
//! when verified, 1 when not (saying why: unsigned, signed by another key,
//! a signature of another digest, an invalid signature, or not checked),
//! 2 on a usage or I/O error (a bad key file, a bad policy, no key named).
//!
//! The registry is asked only with `--online` (or `[integrity] online =
//! true` in the policy); offline, only signatures cached by an earlier
//! online check are judged, and without them the answer is "not checked".

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;

use super::{Cli, Exit};
use crate::integrity::PublicKey;
use crate::model::integrity::{ImageIntegrity, Integrity};
use crate::model::visible;
use crate::sources::registry::{self, Network, cache::Cache};

/// Options of `shipshape verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image: a repository digest (`registry/name@sha256:…`, no engine
    /// needed), or an image or container of the engine (name:tag, id).
    pub image: String,

    /// A public key (PEM: ECDSA P-256, Ed25519 or RSA) that may sign it;
    /// more than once for several. Default: the keys of the policy's
    /// `[[integrity.require]]` covering the image.
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,

    /// Ask the image's registry for its signatures (read-only). Without it
    /// (and without `[integrity] online = true`), only cached signatures
    /// are judged.
    #[arg(long)]
    pub online: bool,

    /// Print the outcome of each repository digest as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One check never takes longer than this (every request has its own,
/// shorter ceiling too).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Read and parse key files.
pub fn load_keys(paths: &[PathBuf]) -> Result<Vec<PublicKey>, String> {
    registry::load_keys(paths)
}

/// Run `shipshape verify`.
pub async fn run(cli: &Cli, args: &VerifyArgs) -> Exit {
    let policy = match super::scan::load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("shipshape: {e}");
            return Exit::Usage;
        }
    };
    let online = args.online || policy.integrity.online;
    let digests: Vec<String> = if args.image.contains("@sha256:") {
        vec![args.image.trim().to_string()]
    } else {
        let (_, _, inventory) = match super::snapshot_first(cli).await {
            Ok(got) => got,
            Err(_) => return Exit::Usage,
        };
        let chosen = super::sbom::select(&inventory, std::slice::from_ref(&args.image), false);
        let Some(image) = chosen
            .images
            .first()
            .and_then(|id| inventory.images.iter().find(|i| &i.id == id))
        else {
            for p in &chosen.problems {
                eprintln!("shipshape: {}", visible(p));
            }
            eprintln!("shipshape: no image {}", visible(&args.image));
            return Exit::Usage;
        };
        if image.digests.is_empty() {
            println!(
                "{}: not checked: the image has no repository digest (built here and never \
                 pushed, or loaded from a file)",
                visible(&image.display_name())
            );
            return Exit::Findings;
        }
        image.digests.clone()
    };
    let mut outcomes: Vec<ImageIntegrity> = Vec::new();
    let cache = Cache::default_dir().map(Cache::new);
    let client = if online {
        match registry::Client::new(registry::Limits::default()) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("shipshape: {e}");
                return Exit::Usage;
            }
        }
    } else {
        None
    };
    let mut named_any = false;
    for d in &digests {
        let (paths, signer) = if args.key.is_empty() {
            match policy.integrity.requirement_for(d) {
                Some(r) => (r.keys.clone(), r.signer.clone()),
                None => continue,
            }
        } else {
            (args.key.clone(), None)
        };
        named_any = true;
        let keys = match load_keys(&paths) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("shipshape: {}", visible(&e));
                return Exit::Usage;
            }
        };
        let network = client.as_ref().map_or(Network::Offline, Network::Online);
        let check = registry::check_digest(d, &keys, network, cache.as_ref(), Utc::now());
        let mut out = tokio::time::timeout(TIMEOUT, check)
            .await
            .unwrap_or_else(|_| ImageIntegrity {
                digest: Some(d.clone()),
                outcome: Integrity::NotChecked {
                    reason: format!("no answer from the registry within {} s", TIMEOUT.as_secs()),
                },
                signer: None,
                fetched: None,
            });
        if out.outcome.is_verified() {
            out.signer = signer.or_else(|| {
                let Integrity::Verified { key } = &out.outcome else {
                    return None;
                };
                keys.iter()
                    .zip(&paths)
                    .find(|(k, _)| &k.fingerprint == key)
                    .map(|(_, p)| p.display().to_string())
            });
        }
        outcomes.push(out);
    }
    if !named_any {
        eprintln!(
            "shipshape: no key: name one with --key FILE, or a [[integrity.require]] in the policy \
             covering {}",
            visible(&digests.join(", "))
        );
        return Exit::Usage;
    }
    if args.json {
        match serde_json::to_string_pretty(&outcomes) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("shipshape: {e}");
                return Exit::Usage;
            }
        }
    } else {
        for o in &outcomes {
            let by = o
                .signer
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let cached = o
                .fetched
                .map(|t| format!(" [signatures fetched {}]", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            println!(
                "{}: {}{}{}",
                visible(o.digest.as_deref().unwrap_or("")),
                visible(&o.outcome.describe()),
                visible(&by),
                cached
            );
        }
    }
    if outcomes.iter().any(|o| o.outcome.is_verified()) {
        Exit::Clean
    } else {
        Exit::Findings
    }
}
