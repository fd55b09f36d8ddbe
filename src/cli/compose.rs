//! `shipshape compose check [FILE…]`: the catalogue on a Compose project's
//! services before anything is created — the same formats, `--fail-on` and
//! exit codes as `scan`, each finding pointing at the file and line of the
//! key that causes it.

use super::{Cli, ComposeArgs, Exit};
use crate::model::visible;
use crate::report::Report;
use crate::sources::compose;

/// Runs `compose check` and returns its exit code.
pub fn check(cli: &Cli, args: &ComposeArgs) -> Exit {
    let policy = match super::scan::load_policy(cli.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("shipshape: policy error: {e}");
            return Exit::Usage;
        }
    };
    let loaded = match compose::read::project(&args.files, &args.profiles) {
        Ok(l) => l,
        Err(e) => {
            // It may quote the file (an interpolation's message): one line.
            eprintln!("shipshape: {}", visible(&e.to_string()));
            return Exit::Usage;
        }
    };
    let (project, abs_dir, env_files, loaded_notes) =
        (loaded.project, loaded.dir, loaded.env_files, loaded.notes);
    let now = chrono::Utc::now();
    let checked = compose::check(&project, &abs_dir, &env_files, &policy, now);
    let mut report = Report::build(&checked.inventory, &checked.assessment, &policy, now);
    report.engine.endpoint = format!("compose project {}", project.name);
    report.engine_findings.clear();
    report.warnings.push(compose::NOT_CHECKED.to_string());
    report.warnings.extend(checked.not_checked.iter().cloned());
    report.warnings.extend(loaded_notes);
    if !project.disabled.is_empty() {
        report.warnings.push(format!(
            "services not checked, their profiles are not enabled: {}",
            project.disabled.join(", ")
        ));
    }
    if !project.unset.is_empty() {
        report.warnings.push(format!(
            "variables not set (interpolated as empty): {}",
            project.unset.join(", ")
        ));
    }
    let text = args.format.render(&report);
    if let Err(e) = super::write_output(&args.output, &text) {
        eprintln!("shipshape: {e}");
        return Exit::Usage;
    }
    if !args.quiet {
        // Names, paths and notes come from the files (a repository's, in
        // CI): one line each, control characters shown as escapes.
        eprintln!(
            "shipshape: compose project {} — {} service{} checked from {}",
            visible(&project.name),
            project.services.len(),
            if project.services.len() == 1 { "" } else { "s" },
            visible(&project.files.join(", "))
        );
        for c in &report.containers {
            for f in c.findings.iter().filter(|f| !f.waived) {
                let at = f.location.as_ref().map_or(String::new(), |l| {
                    format!("{}:{} ", visible(&l.file), l.line)
                });
                eprintln!(
                    "  {at}{} [{}] {}: {}",
                    visible(&c.name),
                    f.severity,
                    f.rule_id,
                    visible(&f.evidence)
                );
            }
        }
        for w in &report.warnings {
            eprintln!("  note: {}", visible(w));
        }
    }
    match args.fail_on {
        Some(threshold) if report.has_active_at_least(threshold) => Exit::Findings,
        _ => Exit::Clean,
    }
}
