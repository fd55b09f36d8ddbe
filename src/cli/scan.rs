//! `shipshape scan`: connect, snapshot, assess, write the report.

use crate::watch::publish::{Vulns, snapshot};
use std::path::Path;
use std::sync::Arc;

use chrono::Utc;

use super::{Cli, Exit, ScanArgs};
use crate::model::ContainerState;
use crate::policy::Policy;
use crate::report::{Report, baseline};
use crate::sources::docker::{Engine, EngineError, EnvSnapshot, drift, scan};

/// Load the policy: the explicit file (must exist), else the default file
/// if present, else the built-in default.
pub fn load_policy(explicit: Option<&Path>) -> Result<Policy, crate::policy::PolicyError> {
    match explicit {
        Some(p) => Policy::load(p),
        None => match Policy::default_path() {
            Some(p) if p.exists() => Policy::load(&p),
            _ => Ok(Policy::default()),
        },
    }
}

/// The vulnerability database, with a warning when it is stale, or why
/// there is none (shown as the reason images are not assessed).
pub async fn load_vulndb(
    cli: &Cli,
    now: chrono::DateTime<Utc>,
) -> Result<(crate::vulndb::Database, Option<String>), String> {
    let Some(store) = cli.vulndb_store() else {
        return Err(
            "no vulnerability database: no cache directory is known (give --vulndb DIR)".into(),
        );
    };
    let db = tokio::task::spawn_blocking(move || store.load())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let (age, stale) = crate::vulndb::store::age(&db.meta, now);
    let warning = stale.then(|| {
        format!(
            "the vulnerability data was built {age}: run `shipshape db update` for current data"
        )
    });
    Ok((db, warning))
}

/// Runs `shipshape scan`: connect, read, assess, write the report; returns the exit code.
pub async fn run(cli: &Cli, args: &ScanArgs) -> Exit {
    let policy = match load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("shipshape: policy error: {e}");
            return Exit::Usage;
        }
    };
    let old = match &args.baseline {
        Some(p) => match crate::report::load_baseline(p) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("shipshape: {e}");
                return Exit::Usage;
            }
        },
        None => None,
    };
    let env = EnvSnapshot::from_process();
    let hosts = cli.hosts();
    let clusters = match kube_contexts(cli, &args.sources) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shipshape: {e}");
            return Exit::Usage;
        }
    };
    // Only clusters: `--kube-context` without `--host` or `--all`.
    let only_clusters = !clusters.is_empty() && hosts.is_empty() && !args.sources.all;
    // One engine unless asked for several: `--all`, or `--host` repeated.
    let targets = if only_clusters {
        Vec::new()
    } else if args.sources.all || hosts.len() > 1 {
        let (targets, problems) = if args.sources.all {
            crate::sources::docker::connect::discover_all(&hosts, &env)
        } else {
            crate::sources::docker::connect::discover_all_of(&hosts, &env)
        };
        for p in &problems {
            eprintln!("shipshape: {}", crate::model::visible(p));
        }
        if targets.is_empty() && clusters.is_empty() {
            eprintln!("shipshape: no engine to scan");
            return Exit::EngineUnreachable;
        }
        targets
    } else {
        match crate::sources::docker::connect::discover(hosts.first().map(String::as_str), &env) {
            Ok(t) => vec![t],
            Err(e) => {
                eprintln!("shipshape: {}", crate::model::visible(&e.to_string()));
                return Exit::EngineUnreachable;
            }
        }
    };
    let now = Utc::now();
    let db = if args.no_vulns {
        None
    } else {
        Some(load_vulndb(cli, now).await)
    };
    let single = targets.len() + clusters.len() == 1;
    // In parallel, each engine on a task of its own (the runtime's threads
    // share the conversion and assessment work): the wall time is close to
    // the slowest engine's, not the sum.
    let job = Arc::new(Job {
        no_drift: args.no_drift,
        export: cli.export_policy(),
        cache: cli.vulndb_store(),
        env: env.clone(),
        policy: policy.clone(),
        db,
        now,
        online: args.online || policy.integrity.online,
    });
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|t| {
            let job = job.clone();
            let (name, endpoint) = (t.label(), t.endpoint.to_string());
            (
                name,
                endpoint,
                tokio::spawn(async move { scan_one(&job, t).await }),
            )
        })
        .collect();
    let cluster_tasks: Vec<_> = clusters
        .into_iter()
        .map(|name| {
            let job = job.clone();
            let kubeconfig = cli.kubeconfig.clone();
            (
                name.clone(),
                tokio::spawn(async move { scan_cluster(&job, kubeconfig, name).await }),
            )
        })
        .collect();
    let mut parts = Vec::new();
    for (name, endpoint, task) in tasks {
        parts.push(match task.await {
            Ok(r) => r,
            Err(e) => Err(Report::unreachable(
                name,
                endpoint,
                format!("the scan failed: {e}"),
            )),
        });
    }
    for (name, task) in cluster_tasks {
        parts.push(match task.await {
            Ok(r) => r,
            Err(e) => Err(Report::unreachable(
                name,
                String::new(),
                format!("the scan failed: {e}"),
            )),
        });
    }
    if single && let Some(Err(section)) = parts.first() {
        // The engine's own words may be in it: one line, escapes shown.
        eprintln!(
            "shipshape: {}",
            crate::model::visible(section.error.as_deref().unwrap_or("engine unreachable"))
        );
        return Exit::EngineUnreachable;
    }
    let Some(mut report) = Report::merge(dedupe_engines(parts)) else {
        eprintln!("shipshape: no engine could be scanned");
        return Exit::EngineUnreachable;
    };
    if let (Some(old), Some(path)) = (&old, &args.baseline) {
        baseline::apply(&mut report, old, &path.display().to_string());
    }
    let text = args.format.render(&report);

    if let Err(e) = super::write_output(&args.output, &text) {
        eprintln!("shipshape: {e}");
        return Exit::Usage;
    }
    // Only with an explicit --audit-log: a CI job should not write into a
    // user's data directory by surprise.
    if let Some(path) = &cli.audit_log {
        record(path, cli.audit_retention(), &report, args);
    }
    if !args.quiet {
        eprint!("{}", report.human_summary());
        if let Some(b) = &report.baseline {
            eprintln!(
                "  against the baseline: {} new, {} unchanged, {} fixed",
                b.new,
                b.unchanged,
                b.fixed.len()
            );
        }
        if args.output != "-" {
            eprintln!("  {} report written to {}", args.format.name(), args.output);
        }
    }
    if policy.fail_on_known_exploited {
        let kev = report.known_exploited_active();
        if !kev.is_empty() {
            eprintln!(
                "shipshape: {} known-exploited vulnerabilities (CISA KEV), and the policy fails a \
                 scan on any: {}",
                kev.len(),
                crate::model::visible(&kev.join(", "))
            );
            return Exit::Findings;
        }
    }
    match args.fail_on {
        Some(threshold) if report.has_active_at_least(threshold) => Exit::Findings,
        _ => Exit::Clean,
    }
}

/// Read the packages of every image of the inventory, read-only (see
/// [`crate::sources::docker::packages`]: layer directories, a container,
/// or the image export when `export` allows it). Image ids name content,
/// so what was read once is kept in the cache beside the database and not
/// read again.
pub(crate) async fn read_packages(
    engine: &Engine,
    inventory: &crate::model::Inventory,
    store: Option<&crate::vulndb::store::Store>,
    now: chrono::DateTime<Utc>,
    export: &crate::sources::docker::packages::Export,
) -> Result<crate::vulndb::Readings, EngineError> {
    let cache = store.map(crate::vulndb::store::ImageCache::of);
    let mut readings = crate::vulndb::Readings::default();
    if let Some(cache) = &cache {
        cache.fill(
            &mut readings,
            inventory
                .images
                .iter()
                .map(|i| i.id.as_str())
                .chain(inventory.containers.iter().map(|c| c.image_id.as_str())),
        );
    }
    crate::sources::docker::packages::collect(
        engine,
        inventory,
        &mut readings,
        now.date_naive(),
        export,
    )
    .await?;
    if let Some(cache) = &cache {
        cache.keep(&readings);
    }
    Ok(readings)
}

/// What every engine's scan shares.
struct Job {
    no_drift: bool,
    /// Which images may be read through the engine's image export.
    export: crate::sources::docker::packages::Export,
    /// Where read package lists are cached (the vulnerability store).
    cache: Option<crate::vulndb::store::Store>,
    env: EnvSnapshot,
    policy: Policy,
    /// The vulnerability database (`None`: `--no-vulns`).
    db: Option<Result<(crate::vulndb::Database, Option<String>), String>>,
    now: chrono::DateTime<Utc>,
    /// Registries may be asked for signatures (`--online`, or the policy).
    online: bool,
}

/// Scan one engine into a report of its own, or say why it could not be.
async fn scan_one(
    job: &Job,
    target: crate::sources::docker::connect::Target,
) -> Result<Report, Box<crate::report::EngineSection>> {
    let (env, policy, db, now) = (&job.env, &job.policy, job.db.as_ref(), job.now);
    let name = target.label();
    let endpoint = target.endpoint.to_string();
    let fail = |e: String| Report::unreachable(name.clone(), endpoint.clone(), e);
    let engine = Engine::connect(target)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let started = std::time::Instant::now();
    let mut inventory = scan::snapshot(&engine, env)
        .await
        .map_err(|e| fail(e.to_string()))?;
    tracing::debug!("{name}: snapshot in {:?}", started.elapsed());
    if !job.no_drift {
        let targets: Vec<drift::Target> = inventory
            .containers
            .iter()
            .filter(|c| c.state == ContainerState::Running)
            .map(|c| drift::Target::of(c, &inventory.engine.docker_root_dir))
            .collect();
        let at: std::collections::HashMap<String, usize> = inventory
            .containers
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        for (id, result) in drift::pass(&engine, targets, |_, _| {}).await {
            match result {
                Ok(mut d) => {
                    inventory.warnings.extend(d.refused.take().map(|w| {
                        crate::model::Warning::new(crate::model::WarningKind::NotRead, w)
                    }));
                    if let Some(&i) = at.get(&id) {
                        inventory.containers[i].drift = Some(d);
                    }
                }
                // Stopped or removed since the snapshot: nothing to check.
                Err(EngineError::NotFound { .. } | EngineError::Api { .. }) => {}
                // More changed files than shipshape reads: said, not fatal.
                Err(e @ EngineError::TooLarge { .. }) => {
                    inventory.warnings.push(crate::model::Warning::new(
                        crate::model::WarningKind::NotRead,
                        format!("drift not checked: {e}"),
                    ));
                }
                Err(e) => return Err(fail(e.to_string())),
            }
        }
    }
    tracing::debug!("{name}: drift done at {:?}", started.elapsed());
    let mut read = None;
    if let Some(db) = db {
        let mut readings = read_packages(&engine, &inventory, job.cache.as_ref(), now, &job.export)
            .await
            .map_err(|e| fail(e.to_string()))?;
        inventory.warnings.extend(
            readings
                .warnings
                .drain(..)
                .map(|w| crate::model::Warning::new(crate::model::WarningKind::Contents, w)),
        );
        if let Ok((_, Some(warning))) = db {
            inventory.warnings.push(crate::model::Warning::new(
                crate::model::WarningKind::Vulnerabilities,
                warning.clone(),
            ));
        }
        read = Some((readings, db));
    }
    let vulns = read.as_ref().map(|(r, db)| Vulns {
        readings: r,
        db: db.as_ref().map(|(db, _)| db).map_err(String::as_str),
    });
    tracing::debug!("{name}: packages read at {:?}", started.elapsed());
    crate::sources::registry::check_images(
        &mut inventory.images,
        &policy.integrity,
        job.online,
        now,
    )
    .await;
    let s = snapshot(inventory, vulns, policy, now);
    let report = Report::build(&s.inventory, &s.assessment, policy, now);
    tracing::debug!("{name}: assessed at {:?}", started.elapsed());
    Ok(report)
}

/// The Kubernetes contexts to scan or watch: those named, and with `--all`
/// every context of the kubeconfig.
#[cfg(feature = "kube")]
pub(super) fn kube_contexts(cli: &Cli, args: &super::SourceArgs) -> Result<Vec<String>, String> {
    let mut names = args.kube_contexts.clone();
    if args.all {
        let all =
            crate::sources::kube::contexts(cli.kubeconfig.as_deref()).map_err(|e| e.to_string())?;
        names.extend(all.into_iter().map(|c| c.name));
    }
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    Ok(names)
}

#[cfg(not(feature = "kube"))]
pub(super) fn kube_contexts(_: &Cli, args: &super::SourceArgs) -> Result<Vec<String>, String> {
    if args.kube_contexts.is_empty() {
        Ok(Vec::new())
    } else {
        Err("this build has no Kubernetes support (the `kube` feature)".into())
    }
}

/// Scan one cluster into a report of its own, or say why it could not be.
#[cfg(feature = "kube")]
async fn scan_cluster(
    job: &Job,
    kubeconfig: Option<std::path::PathBuf>,
    context: String,
) -> Result<Report, Box<crate::report::EngineSection>> {
    let inventory = crate::sources::kube::scan(kubeconfig.as_deref(), &context)
        .await
        .map_err(|e| Report::unreachable(context.clone(), String::new(), e.to_string()))?;
    let s = snapshot(inventory, None, &job.policy, job.now);
    Ok(Report::build(
        &s.inventory,
        &s.assessment,
        &job.policy,
        job.now,
    ))
}

#[cfg(not(feature = "kube"))]
async fn scan_cluster(
    _: &Job,
    _: Option<std::path::PathBuf>,
    context: String,
) -> Result<Report, Box<crate::report::EngineSection>> {
    Err(Report::unreachable(
        context,
        String::new(),
        "no Kubernetes support in this build".into(),
    ))
}

/// The same engine reached two ways (same identity: `/info` ID and data
/// root, as the watcher judges it) is scanned once: the first way is kept,
/// the others are named in its `also_reached_as`. Two engines that merely
/// share an ID (a copied engine-id or key file) stay two.
fn dedupe_engines(
    parts: Vec<Result<Report, Box<crate::report::EngineSection>>>,
) -> Vec<Result<Report, Box<crate::report::EngineSection>>> {
    fn who(r: &Report) -> Option<crate::model::EngineIdentity> {
        r.engines.first().map(|e| crate::model::EngineIdentity {
            id: e.id.clone(),
            root: e.data_root.clone(),
            name: String::new(),
        })
    }
    let mut out: Vec<Result<Report, Box<crate::report::EngineSection>>> = Vec::new();
    for part in parts {
        if let Ok(r) = &part
            && let Some(id) = who(r)
            && let Some(Ok(first)) = out
                .iter_mut()
                .find(|o| matches!(o, Ok(f) if who(f).is_some_and(|w| w.same_engine(&id))))
        {
            if let Some(section) = first.engines.first_mut() {
                section.also_reached_as.push(r.engine.endpoint.clone());
            }
            continue;
        }
        out.push(part);
    }
    out
}

/// Append the scan and the export to the audit log. A log that cannot be
/// written is reported, but the report itself is already safe.
fn record(path: &Path, retention: crate::audit::Retention, report: &Report, args: &ScanArgs) {
    let mut log = match crate::audit::AuditLog::open_with(path, retention) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("shipshape: not recorded: {e}");
            return;
        }
    };
    let s = &report.summary;
    let entries = [
        (
            "scan",
            serde_json::json!({
                "trigger": "cli",
                "engine": report.engine.endpoint,
                "engines": report.engines.iter().map(|e| serde_json::json!({
                    "name": e.name,
                    "endpoint": e.endpoint,
                    "reachable": e.reachable,
                })).collect::<Vec<_>>(),
                "containers": report.containers.len(),
                "images": report.images.len(),
                "findings": s.findings,
            }),
        ),
        (
            "export",
            serde_json::json!({
                "format": args.format.extension(),
                "path": (args.output != "-").then_some(args.output.as_str()),
            }),
        ),
    ];
    for (kind, data) in entries {
        if let Err(e) = log.append(kind, data) {
            eprintln!("shipshape: not recorded: {e}");
            return;
        }
    }
}
