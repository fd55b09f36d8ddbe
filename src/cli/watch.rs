//! `shipshape watch`: the engine worker without a window. Every activity is
//! printed and written to the audit log; Ctrl-C (or SIGTERM) stops it after
//! the log is flushed.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::{Cli, Exit, WatchArgs};
use crate::engine::EnvSnapshot;
use crate::engine::messages::{Command, Event};
use crate::engine::worker::{self, WorkerConfig};
use crate::model::activity::Activity;
use crate::model::visible;

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
    let cfg = WorkerConfig {
        host: cli.hosts().into_iter().next(),
        env: EnvSnapshot::from_process(),
        policy: Arc::new(policy),
        poll_interval: Duration::from_secs(args.poll),
        host_stats: false,
        container_stats: false,
        audit,
        drift: !args.no_drift,
        mode: "watch",
        history: false,
        vulns: cli.vulndb_store(),
        fleet: None,
    };
    let (cmd, mut events, done) =
        worker::spawn_with_handle(&tokio::runtime::Handle::current(), cfg, Arc::new(|_| {}));

    let mut stop = std::pin::pin!(shutdown_signal());
    let mut out = Printer {
        json: args.json,
        first_snapshot: true,
        audit_failed: false,
    };
    loop {
        tokio::select! {
            () = &mut stop => break,
            ev = events.recv() => match ev {
                Some(ev) => {
                    if out.event(ev) {
                        // The log cannot be written: a watcher without its
                        // trail is not doing its job.
                        let _ = cmd.send(Command::Shutdown);
                        let _ = done.await;
                        return Exit::Usage;
                    }
                }
                None => break,
            },
        }
    }
    eprintln!("shipshape: stopping; flushing the audit log…");
    let _ = cmd.send(Command::Shutdown);
    // Drain what the worker still says while it finishes.
    let mut done = done;
    loop {
        tokio::select! {
            _ = &mut done => break,
            ev = events.recv() => match ev {
                Some(ev) => { out.event(ev); }
                None => { let _ = (&mut done).await; break; }
            },
        }
    }
    eprintln!("shipshape: stopped");
    Exit::Clean
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
}

/// One line to the terminal: engine-provided text (names, commands,
/// reasons) never reaches it with control or bidi characters.
fn say(line: &str) {
    eprintln!("{}", visible(line));
}

impl Printer {
    /// Print one event; true when the audit log could not be opened.
    fn event(&mut self, ev: Event) -> bool {
        match ev {
            Event::Connecting { attempt } if attempt > 1 => {
                say(&format!("shipshape: connecting (attempt {attempt})…"));
            }
            Event::Connected {
                endpoint,
                found_by,
                engine_id,
                engine_name,
                ..
            } => say(&format!(
                "shipshape: watching {endpoint} ({found_by}): engine {} on {engine_name}",
                crate::model::short_id(&engine_id)
            )),
            Event::EngineChanged { detail, .. } => {
                say(&format!("shipshape: WARNING: {detail}"));
            }
            Event::Disconnected { reason, retry_in } => say(&format!(
                "shipshape: engine lost: {reason} — retrying in {} s",
                retry_in.as_secs()
            )),
            Event::Snapshot(s) if self.first_snapshot => {
                self.first_snapshot = false;
                let c = s.assessment.counts();
                say(&format!(
                    "shipshape: {} containers, {} images; findings: {} critical, {} high, {} medium, {} low",
                    s.inventory.containers.len(),
                    s.inventory.images.len(),
                    c.critical,
                    c.high,
                    c.medium,
                    c.low
                ));
            }
            Event::Activity(a) => self.activity(&a),
            Event::Warning(w) => say(&format!("shipshape: warning: {w}")),
            Event::Dropped { activities, .. } if activities > 0 => say(&format!(
                "shipshape: {activities} entries were not printed (output could not keep up); the audit log has them all"
            )),
            Event::Audit(Ok(path)) => {
                say(&format!("shipshape: audit log {}", path.display()));
            }
            Event::Audit(Err(e)) => {
                say(&format!("shipshape: {e}"));
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
                "{}  {:<8}  {}",
                a.time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                a.severity.map_or("", |s| s.as_str()),
                visible(&a.summary())
            )
        };
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}
