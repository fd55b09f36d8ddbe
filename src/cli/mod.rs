//! The command line: `shipshape scan` (headless, for CI) and
//! `shipshape rules` (the catalogue).
//!
//! Exit codes (documented in the README):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | scan done; nothing at or above `--fail-on` |
//! | 1 | findings at or above `--fail-on` |
//! | 2 | usage error, bad policy file, or the report could not be written |
//! | 3 | the engine could not be reached (or was lost during the scan) |

pub mod scan;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::model::Severity;

#[derive(Debug, Parser)]
#[command(
    name = "shipshape",
    version,
    about = "A security dashboard for the containers on your own machine"
)]
#[command(arg_required_else_help = true)]
pub struct Cli {
    /// Engine address (unix:///path, tcp://host:port, https://host:port). Default: DOCKER_HOST,
    /// then the current docker context, then the usual Docker and Podman sockets.
    #[arg(long, global = true, value_name = "ADDRESS")]
    pub host: Option<PathBuf>,

    /// Policy file (TOML). Default: policy.toml in the user's config directory, if it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan every container, image and the engine once, and write a report.
    Scan(ScanArgs),
    /// List every check shipshape runs.
    Rules {
        /// Print the full catalogue (why, attack, fix) as Markdown.
        #[arg(long)]
        markdown: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,

    /// Where to write the report; `-` for standard output.
    #[arg(long, short, default_value = "-", value_name = "FILE|-")]
    pub output: String,

    /// Exit with 1 when an active finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,

    /// Do not print the summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// Process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Usage = 2,
    EngineUnreachable = 3,
}

/// Run a non-GUI command.
pub fn run(cli: Cli, runtime: &tokio::runtime::Runtime) -> Exit {
    match cli.command {
        Some(Command::Scan(ref args)) => runtime.block_on(scan::run(&cli, args)),
        Some(Command::Rules { markdown }) => {
            if markdown {
                print!("{}", crate::rules::docs::catalogue_markdown());
            } else {
                print!("{}", rules_table());
            }
            Exit::Clean
        }
        None => Exit::Usage,
    }
}

/// The catalogue as an aligned text table.
pub fn rules_table() -> String {
    let mut out = format!(
        "{:<38} {:<9} {:<6} {:<4} {}\n",
        "RULE", "SEVERITY", "CIS", "SEED", "TITLE"
    );
    for r in crate::rules::ALL {
        out.push_str(&format!(
            "{:<38} {:<9} {:<6} {:<4} {}\n",
            r.id,
            r.severity.as_str(),
            r.cis.unwrap_or("-"),
            r.seed.number(),
            r.title
        ));
    }
    out
}
