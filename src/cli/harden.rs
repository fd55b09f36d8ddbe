//! `shipshape harden CONTAINER [--format run|compose|diff|plan]`: the
//! hardened version of one container, printed to standard output — the
//! `docker run` command, the compose service, or a unified diff of the
//! compose file its labels name (local engine) — with, on standard error,
//! each change, the findings it clears and what could break, and the
//! findings it leaves, with why. Reads only (inspect, `/changes`, one
//! stats reading); creates nothing.

use chrono::Utc;

use super::{Cli, Exit, HardenArgs, HardenFormat};
use crate::harden::{self, Observed};
use crate::model::{ContainerState, visible, visible_multiline};

/// Runs `shipshape harden`; returns the exit code.
pub async fn run(cli: &Cli, args: &HardenArgs) -> Exit {
    let policy = match super::scan::load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "shipshape: policy error: {}",
                visible_multiline(&e.to_string())
            );
            return Exit::Usage;
        }
    };
    let (_, engine, mut inventory) = match super::snapshot_first(cli).await {
        Ok(got) => got,
        Err(exit) => return exit,
    };
    let t = args.container.trim();
    let found: Vec<&crate::model::Container> = inventory
        .containers
        .iter()
        .filter(|c| c.answers_to(t) != crate::model::NameMatch::No)
        .collect();
    let id = match found.as_slice() {
        [one] => one.id.clone(),
        [] => {
            eprintln!("shipshape: no container named {}", visible(t));
            return Exit::Usage;
        }
        more => {
            eprintln!(
                "shipshape: {} names {} containers: give more of the id",
                visible(t),
                more.len()
            );
            return Exit::Usage;
        }
    };
    // What it wrote, and its use now: the observations the plan keeps. The
    // capabilities its processes hold came with them from /proc.
    let mut seen = Observed {
        caps_held: inventory
            .containers
            .iter()
            .find(|c| c.id == id)
            .and_then(crate::model::Container::caps_held),
        ..Observed::default()
    };
    if let Some(c) = inventory.containers.iter_mut().find(|c| c.id == id)
        && c.state == ContainerState::Running
    {
        match engine.changes(&id).await {
            Ok(list) => {
                seen.written = Some(
                    list.into_iter()
                        .filter_map(|(p, k)| {
                            crate::model::activity::ChangeKind::from_api(k).map(|k| (p, k))
                        })
                        .collect(),
                );
            }
            Err(e) => eprintln!(
                "shipshape: note: the paths it wrote were not read: {}",
                visible(&e.to_string())
            ),
        }
        if engine.is_local() && c.pid > 0 {
            seen.listening =
                crate::sources::docker::procs::listening(std::path::Path::new("/proc"), c.pid);
        }
        match engine.stats_once(&id).await {
            Ok(s) => {
                let r = crate::sources::docker::stats::reading(&s);
                let used = crate::model::stats::memory_used(&r);
                seen.memory_peak = (used > 0).then_some(used);
                seen.pids_peak = (r.pids > 0).then_some(r.pids);
            }
            Err(e) => eprintln!(
                "shipshape: note: its memory use was not read: {}",
                visible(&e.to_string())
            ),
        }
    }
    let Some(plan) = harden::plan(&inventory, &id, &policy, &seen, Utc::now()) else {
        eprintln!("shipshape: {} went away", visible(t));
        return Exit::Usage;
    };
    let image = inventory
        .images
        .iter()
        .find(|i| i.id == plan.original.image_id);
    let mut out = match args.format {
        HardenFormat::Run => harden::run_command(&plan, image),
        HardenFormat::Compose => harden::compose_service(&plan, image),
        HardenFormat::Diff => match crate::sources::compose::read::harden_diff(&plan) {
            Ok((diff, notes)) => {
                for n in notes {
                    eprintln!("shipshape: note: {}", visible(&n));
                }
                diff
            }
            Err(e) => {
                eprintln!(
                    "shipshape: {}: {} (--format compose writes the service)",
                    visible(&plan.original.name),
                    visible(&e)
                );
                return Exit::Usage;
            }
        },
    };
    // The run command and the compose service show every control or bidi
    // character as an escape of their own. A diff holds the compose file's
    // own lines, byte for byte, for `patch`: on a terminal, where it is
    // read rather than applied, those characters are shown as escapes.
    if matches!(args.format, HardenFormat::Diff)
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
        && visible_multiline(&out) != out
    {
        eprintln!(
            "shipshape: note: the diff holds control or bidi characters of the file: shown as \\u{{…}} \
             escapes here; redirect it to a file for the exact patch"
        );
        out = visible_multiline(&out).into_owned();
    }
    print!("{out}");
    if !args.quiet {
        eprint!("{}", harden::explain(&plan));
    }
    Exit::Clean
}
