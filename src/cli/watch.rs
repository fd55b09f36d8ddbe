//! `shipshape watch`: the engine and cluster workers without a window. It
//! takes its sources as `scan` does ([`super::SourceArgs`]: `--host`,
//! `--all`, `--kube-context`, `--kubeconfig`). Every activity is printed
//! and written to the audit log, and each snapshot's new warnings (a list
//! cut at a ceiling, say) are printed; Ctrl-C (or SIGTERM) stops it after
//! the log is flushed.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::{Cli, Exit, WatchArgs};
use crate::model::activity::Activity;
use crate::model::visible;
use crate::sources::docker::EnvSnapshot;
use crate::watch::docker::{self, WorkerConfig};
use crate::watch::messages::{Command, Event};

/// Runs `shipshape watch`: follow the engines headless and print activities as they come.
pub async fn run(cli: &Cli, args: &WatchArgs) -> Exit {
    let policy = match super::scan::load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("shipshape: policy error: {e}");
            return Exit::Usage;
        }
    };
    let audit = cli.audit_path();
    if audit.is_none() && !cli.no_audit {
        eprintln!("shipshape: no data directory is known; give the log with --audit-log FILE");
        return Exit::Usage;
    }
    let audit_retention = cli.audit_retention();
    let env = EnvSnapshot::from_process();
    let hosts = cli.hosts();
    let clusters = match super::scan::kube_contexts(cli, &args.sources) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shipshape: {e}");
            return Exit::Usage;
        }
    };
    // Only clusters: `--kube-context` without `--host` or `--all`.
    let only_clusters = !clusters.is_empty() && hosts.is_empty() && !args.sources.all;
    // Several engines: one worker each, one audit log, each line and
    // record naming its engine.
    let members: Vec<Option<docker::FleetMember>> = if only_clusters {
        Vec::new()
    } else if args.sources.all || hosts.len() > 1 {
        let (targets, problems) = if args.sources.all {
            crate::sources::docker::connect::discover_all(&hosts, &env)
        } else {
            crate::sources::docker::connect::discover_all_of(&hosts, &env)
        };
        for p in problems {
            say(&format!("shipshape: {p}"));
        }
        if targets.is_empty() && clusters.is_empty() {
            eprintln!("shipshape: no engine to watch");
            return Exit::EngineUnreachable;
        }
        targets
            .into_iter()
            .map(|t| {
                Some(docker::FleetMember {
                    label: t.label(),
                    target: t,
                })
            })
            .collect()
    } else {
        vec![None]
    };
    let fleet = members.len() + clusters.len() > 1;
    let policy = Arc::new(policy);
    let rt = tokio::runtime::Handle::current();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel::<(usize, Event)>();
    let mut workers = Vec::new();
    // Each worker's name, and whether it is a cluster.
    let mut labels = Vec::new();
    for member in members {
        // The one engine beside clusters: named by its address, if given.
        let label = match &member {
            Some(m) => m.label.clone(),
            None => hosts.first().cloned().unwrap_or_else(|| "engine".into()),
        };
        labels.push((label, false));
        let cfg = WorkerConfig {
            host: hosts.first().cloned(),
            env: env.clone(),
            policy: policy.clone(),
            poll_interval: Duration::from_secs(args.poll),
            host_stats: false,
            container_stats: false,
            max_streams: crate::watch::docker::MAX_STREAMS,
            audit: audit.clone(),
            audit_retention,
            drift: !args.no_drift,
            mode: "watch",
            history: false,
            vulns: cli.vulndb_store(),
            fleet: member,
        };
        let worker = docker::spawn_with_handle(&rt, cfg, Arc::new(|_| {}));
        workers.push(forward(&rt, workers.len(), worker, &tx));
    }
    #[cfg(feature = "kube")]
    for context in clusters {
        labels.push((context.clone(), true));
        let cfg = crate::watch::kube::KubeConfig {
            kubeconfig: cli.kubeconfig.clone(),
            context,
            policy: policy.clone(),
            // A full list this often (the pod watch keeps it current in
            // between), as the window does.
            poll_interval: Duration::from_secs(args.poll.max(60)),
            settle: Duration::from_millis(500),
            audit: audit.clone(),
            audit_retention,
            mode: "watch",
            limits: crate::sources::kube::LIMITS,
        };
        let worker = crate::watch::kube::spawn(&rt, cfg, Arc::new(|_| {}));
        workers.push(forward(&rt, workers.len(), worker, &tx));
    }
    #[cfg(not(feature = "kube"))]
    drop(clusters);
    drop(tx);

    let alerts = args.notify.then(|| {
        let gate = crate::alerts::Gate::new(crate::alerts::AlertSettings {
            enabled: true,
            min_severity: args.notify_min,
        });
        let hosts = hosts.clone();
        let tx = crate::sources::desktop::Alerts::spawn(
            &rt,
            crate::sources::desktop::Bus::Session,
            move |fb| on_feedback(fb, &hosts),
        );
        (tx, gate)
    });

    let mut stop = std::pin::pin!(shutdown_signal());
    let mut out: Vec<Printer> = labels
        .into_iter()
        .map(|(label, cluster)| Printer {
            json: args.json,
            first_snapshot: true,
            audit_failed: false,
            engine: fleet.then_some(label),
            cluster,
            warnings: Vec::new(),
        })
        .collect();
    let mut failed = false;
    loop {
        tokio::select! {
            () = &mut stop => break,
            ev = events.recv() => match ev {
                Some((i, ev)) => {
                    if let (Some((tx, gate)), Event::Activity(a)) = (&alerts, &ev)
                        && let Some(alert) = gate.alert(a)
                    {
                        tx.send(alert);
                    }
                    if out[i].event(ev) {
                        // The log cannot be written: a watcher without its
                        // trail is not doing its job.
                        failed = true;
                        break;
                    }
                }
                None => break,
            },
        }
    }
    if !failed {
        eprintln!("shipshape: stopping; flushing the audit log…");
    }
    for (cmd, _) in &workers {
        let _ = cmd.send(Command::Shutdown);
    }
    // Drain what the workers still say while they finish.
    let mut all_done = std::pin::pin!(futures_util::future::join_all(
        workers.into_iter().map(|(_, done)| done)
    ));
    loop {
        tokio::select! {
            _ = &mut all_done => break,
            ev = events.recv() => match ev {
                Some((i, ev)) => { out[i].event(ev); }
                None => { let _ = (&mut all_done).await; break; }
            },
        }
    }
    if failed {
        return Exit::Usage;
    }
    eprintln!("shipshape: stopped");
    Exit::Clean
}

/// A worker's commands and end, its events forwarded into `tx` tagged
/// with its index `i`.
fn forward(
    rt: &tokio::runtime::Handle,
    i: usize,
    (cmd, mut rx, done): (
        tokio::sync::mpsc::UnboundedSender<Command>,
        crate::watch::messages::Events,
        tokio::task::JoinHandle<()>,
    ),
    tx: &tokio::sync::mpsc::UnboundedSender<(usize, Event)>,
) -> (
    tokio::sync::mpsc::UnboundedSender<Command>,
    tokio::task::JoinHandle<()>,
) {
    let tx = tx.clone();
    rt.spawn(async move {
        while let Some(ev) = rx.recv().await {
            if tx.send((i, ev)).is_err() {
                break;
            }
        }
    });
    (cmd, done)
}

/// What the notification task says. A click opens the window on the
/// container: the running window if there is one, else a new one watching
/// the same engines.
fn on_feedback(fb: crate::sources::desktop::Feedback, hosts: &[String]) {
    use crate::sources::desktop::Feedback;
    match fb {
        Feedback::Available(server) => {
            say(&format!("shipshape: desktop notifications via {server}"))
        }
        Feedback::Unavailable(why) => say(&format!(
            "shipshape: desktop notifications are not available: {why} (watching goes on)"
        )),
        Feedback::Clicked(t) if !t.container_id.is_empty() => {
            let id = t.container_id;
            let hosts = hosts.to_vec();
            // Socket and process work: off the runtime's threads.
            std::thread::spawn(move || open_window_on(&id, &hosts));
        }
        Feedback::Clicked(_) => {
            let hosts = hosts.to_vec();
            std::thread::spawn(move || open_window_on("", &hosts));
        }
    }
}

fn open_window_on(id: &str, hosts: &[String]) {
    let req = if id.is_empty() {
        crate::instance::Request::Focus
    } else {
        crate::instance::Request::Show(id.to_string())
    };
    match crate::instance::forward(&crate::instance::socket_path(), req) {
        Ok(true) => say(&format!(
            "shipshape: the window shows {}",
            crate::model::short_id(id)
        )),
        _ => {
            let exe = std::env::current_exe().unwrap_or_else(|_| "shipshape".into());
            let mut cmd = std::process::Command::new(exe);
            for h in hosts {
                cmd.arg("--host").arg(h);
            }
            if !id.is_empty() {
                cmd.arg("--show").arg(id);
            }
            match cmd
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
            {
                Ok(mut child) => {
                    say("shipshape: opened the window");
                    // Reaped when it closes (this thread only waits).
                    let _ = child.wait();
                }
                Err(e) => say(&format!("shipshape: cannot open the window: {e}")),
            }
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

struct Printer {
    json: bool,
    first_snapshot: bool,
    audit_failed: bool,
    /// The engine's name, when several are watched: it starts each line.
    engine: Option<String>,
    /// A Kubernetes cluster, not an engine.
    cluster: bool,
    /// The last snapshot's warnings (only new ones are printed).
    warnings: Vec<crate::model::Warning>,
}

/// One line to the terminal: engine-provided text (names, commands,
/// reasons) never reaches it with control or bidi characters.
fn say(line: &str) {
    eprintln!("{}", visible(line));
}

impl Printer {
    /// A status line, with the engine's name when several are watched.
    fn say(&self, line: &str) {
        match &self.engine {
            Some(e) => say(&line.replacen("shipshape: ", &format!("shipshape: [{e}] "), 1)),
            None => say(line),
        }
    }

    /// Print one event; true when the audit log could not be opened.
    fn event(&mut self, ev: Event) -> bool {
        match ev {
            Event::Connecting { attempt } if attempt > 1 => {
                self.say(&format!("shipshape: connecting (attempt {attempt})…"));
            }
            Event::Connected {
                endpoint,
                found_by,
                engine,
                api_version,
            } => self.say(&if self.cluster {
                format!(
                    "shipshape: watching {endpoint} ({found_by} {}): Kubernetes {api_version}",
                    engine.name
                )
            } else {
                format!(
                    "shipshape: watching {endpoint} ({found_by}): {}",
                    engine.describe()
                )
            }),
            Event::EngineChanged { detail, .. } => {
                self.say(&format!("shipshape: WARNING: {detail}"));
            }
            Event::Disconnected { reason, retry_in } => self.say(&format!(
                "shipshape: {} lost: {reason} — retrying in {} s",
                if self.cluster { "cluster" } else { "engine" },
                retry_in.as_secs()
            )),
            Event::Snapshot(s) => {
                if self.first_snapshot {
                    self.first_snapshot = false;
                    let c = s.assessment.counts();
                    let what = if self.cluster {
                        format!("{} workload containers", s.inventory.containers.len())
                    } else {
                        format!(
                            "{} containers, {} images",
                            s.inventory.containers.len(),
                            s.inventory.images.len()
                        )
                    };
                    self.say(&format!(
                        "shipshape: {what}; findings: {} critical, {} high, {} medium, {} low",
                        c.critical, c.high, c.medium, c.low
                    ));
                }
                // What the source could not read (a list cut at a
                // ceiling, a forbidden resource): said when it appears.
                for w in &s.inventory.warnings {
                    if !self.warnings.contains(w) {
                        self.say(&format!("shipshape: warning: {w}"));
                    }
                }
                self.warnings.clone_from(&s.inventory.warnings);
            }
            Event::Activity(a) => self.activity(&a),
            Event::Warning(w) => self.say(&format!("shipshape: warning: {w}")),
            Event::Dropped { activities, .. } if activities > 0 => self.say(&format!(
                "shipshape: {activities} entries were not printed (output could not keep up); the audit log has them all"
            )),
            Event::Audit(Ok(path)) => {
                self.say(&format!("shipshape: audit log {}", path.display()));
            }
            Event::Audit(Err(e)) => {
                self.say(&format!("shipshape: {e}"));
                if !self.audit_failed {
                    self.audit_failed = true;
                    return true;
                }
            }
            _ => {}
        }
        false
    }

    fn activity(&self, a: &Activity) {
        let mut out = std::io::stdout().lock();
        let line = if self.json {
            crate::model::json_safe(serde_json::to_string(a).unwrap_or_default())
        } else {
            format!(
                "{}  {:<8}  {}{}",
                a.time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                a.severity.map_or("", |s| s.as_str()),
                self.engine
                    .as_ref()
                    .map(|e| format!("[{}] ", visible(e)))
                    .unwrap_or_default(),
                visible(&a.summary())
            )
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
