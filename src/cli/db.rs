//! `shipshape db update | import | status`.

use std::io::Write;

use chrono::Utc;

use super::{Cli, DbAction, Exit};
use crate::model::visible;
use crate::sources::osv::{self, Progress};
use crate::vulndb::store::{self, Store, StoreError};
use crate::vulndb::{Database, Meta};

/// Runs a `db` subcommand (update, import, status) and returns its exit code.
pub async fn run(cli: &Cli, action: &DbAction) -> Exit {
    let Some(store) = cli.vulndb_store() else {
        eprintln!("shipshape: no cache directory is known; give one with --vulndb DIR");
        return Exit::Usage;
    };
    match action {
        DbAction::Status => status(&store),
        DbAction::Import { paths } => {
            // Exploit data is recognised by its content; the rest is OSV.
            let mut osv_paths = Vec::new();
            for p in paths {
                match exploit_file(p) {
                    Some(bytes) => match store.import_exploits(&bytes, &p.display().to_string()) {
                        Ok(x) => print_exploits(&x),
                        Err(e) => {
                            eprintln!("shipshape: {}", visible(&e.to_string()));
                            eprintln!("shipshape: the previous data (if any) is unchanged");
                            return Exit::Usage;
                        }
                    },
                    None => osv_paths.push(p.clone()),
                }
            }
            if osv_paths.is_empty() {
                return Exit::Clean;
            }
            let store2 = store.clone();
            let r =
                tokio::task::spawn_blocking(move || store2.import(&osv_paths, Utc::now())).await;
            finish(
                &store,
                r.unwrap_or_else(|e| Err(StoreError::Download(e.to_string()))),
            )
        }
        DbAction::Update {
            from,
            ecosystems,
            with,
            kev_from,
            epss_from,
        } => {
            let mut extra = Vec::new();
            for w in with {
                match w.trim().to_ascii_lowercase().as_str() {
                    "kev" => extra.push(("KEV".to_string(), kev_from.clone())),
                    "epss" => extra.push(("EPSS".to_string(), epss_from.clone())),
                    other => {
                        eprintln!("shipshape: unknown --with '{other}' (expected kev, epss)");
                        return Exit::Usage;
                    }
                }
            }
            let ecos: Vec<String> = if ecosystems.is_empty() {
                osv::ECOSYSTEMS.iter().map(|e| e.to_string()).collect()
            } else {
                ecosystems.clone()
            };
            let known =
                |e: &str| osv::ECOSYSTEMS.contains(&e) || crate::vulndb::ON_REQUEST.contains(&e);
            if let Some(bad) = ecos.iter().find(|e| !known(e.as_str())) {
                eprintln!(
                    "shipshape: unknown ecosystem '{bad}' (expected {}, {})",
                    osv::ECOSYSTEMS.join(", "),
                    crate::vulndb::ON_REQUEST.join(", ")
                );
                return Exit::Usage;
            }
            eprintln!("shipshape: downloading {} from {from}", ecos.join(", "));
            let r = osv::update(&store, from, &ecos, &bar).await;
            eprintln!();
            let code = finish(&store, r);
            if code != Exit::Clean || extra.is_empty() {
                return code;
            }
            match osv::update_exploits(&store, &extra, &bar).await {
                Ok(x) => {
                    eprintln!();
                    print_exploits(&x);
                    Exit::Clean
                }
                Err(e) => {
                    eprintln!();
                    eprintln!("shipshape: {}", visible(&e.to_string()));
                    eprintln!("shipshape: the previous exploit data (if any) is unchanged");
                    Exit::Usage
                }
            }
        }
    }
}

/// A one-line progress bar on standard error.
fn bar(p: Progress) {
    let mut err = std::io::stderr().lock();
    let line = match p {
        Progress::Download { name, done, total } => {
            let mib = done as f64 / (1 << 20) as f64;
            match total {
                Some(t) if t > 0 => {
                    let frac = done as f64 / t as f64;
                    let filled = (frac * 30.0).round() as usize;
                    format!(
                        "  {name:<11} [{}{}] {:>5.1}% {mib:>7.1} of {:.1} MiB",
                        "#".repeat(filled.min(30)),
                        " ".repeat(30 - filled.min(30)),
                        frac * 100.0,
                        t as f64 / (1 << 20) as f64
                    )
                }
                _ => format!("  {name:<11} {mib:>7.1} MiB (size not given)"),
            }
        }
        Progress::Importing => "  verifying and indexing the records…".to_string(),
    };
    let _ = write!(err, "\r{line:<80}");
    let _ = err.flush();
}

/// A file's bytes when it is exploit data (KEV or EPSS, gzip'd or not).
fn exploit_file(p: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;

    use crate::vulndb::exploits;
    if !p.is_file() {
        return None;
    }
    // Zips are OSV dumps (and may be large): only look into what can be
    // KEV or EPSS.
    let mut magic = [0u8; 2];
    crate::file::open(p).ok()?.read_exact(&mut magic).ok()?;
    if magic == *b"PK" {
        return None;
    }
    let bytes = crate::file::read(p, exploits::FILE).ok()?;
    let head = exploits::unpack(&bytes[..bytes.len().min(1 << 16)]).unwrap_or_default();
    let head = if head.is_empty() && bytes.starts_with(&[0x1f, 0x8b]) {
        exploits::unpack(&bytes).ok()?
    } else {
        head
    };
    exploits::sniff(&head).map(|_| bytes)
}

/// What the files say of themselves (a version, a source's name) is theirs,
/// downloaded or imported: one line each, control characters as escapes.
fn print_exploits(x: &crate::vulndb::exploits::Exploits) {
    for part in x.describe().split("; ").filter(|p| !p.is_empty()) {
        if part.starts_with("EPSS") {
            println!("{} ({})", visible(part), visible(&x.epss_version));
        } else {
            println!("{}", visible(part));
        }
    }
    for s in &x.sources {
        println!("  from {}", visible(s));
    }
}

fn finish(store: &Store, r: Result<Database, StoreError>) -> Exit {
    match r {
        Ok(db) => {
            println!(
                "vulnerability database replaced: {} records ({})",
                db.meta.records,
                store.path().display()
            );
            print_meta(&db.meta);
            Exit::Clean
        }
        Err(e) => {
            eprintln!("shipshape: {}", visible(&e.to_string()));
            eprintln!("shipshape: the previous database (if any) is unchanged");
            Exit::Usage
        }
    }
}

fn status(store: &Store) -> Exit {
    match store.status() {
        Ok(meta) => {
            println!("vulnerability database: {}", store.path().display());
            print_meta(&meta);
            match store.load_exploits() {
                Ok(x) if x.is_empty() => println!(
                    "  no exploit data (`shipshape db update --with kev,epss`, or `db import` the files)"
                ),
                Ok(x) => print_exploits(&x),
                Err(e) => println!("  exploit data: {}", visible(&e.to_string())),
            }
            let (_, stale) = store::age(&meta, Utc::now());
            if stale {
                println!(
                    "warning: older than {} days — run `shipshape db update`",
                    store::STALE_DAYS
                );
            }
            Exit::Clean
        }
        Err(e @ StoreError::Missing) => {
            println!("{e}");
            Exit::Clean
        }
        Err(e) => {
            eprintln!("shipshape: {e}");
            Exit::Usage
        }
    }
}

fn print_meta(meta: &Meta) {
    let (age, _) = store::age(meta, Utc::now());
    println!("  built {age}");
    println!(
        "  {} records; skipped: {} of other ecosystems, {} withdrawn, {} unreadable",
        meta.records, meta.skipped_unknown, meta.withdrawn, meta.unreadable
    );
    for s in &meta.sources {
        println!(
            "  from {} ({} records): {}",
            visible(&s.name),
            s.records,
            visible(&s.origin)
        );
    }
    let ecos: Vec<String> = meta
        .ecosystems
        .iter()
        .map(|(e, n)| format!("{e} ({n})"))
        .collect();
    if !ecos.is_empty() {
        println!("  releases: {}", visible(&ecos.join(", ")));
    }
    for l in &meta.left_out {
        println!("  left out: {}", visible(l));
    }
}
