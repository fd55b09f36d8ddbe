//! shipshape — a security dashboard for the containers on your own machine.
//!
//! The crate is laid out so the data flow is visible from the module list:
//!
//! * [`model`] — plain data (containers, images, engine, findings). No I/O.
//! * [`sources`] — the only code that talks to the outside, one folder per
//!   kind of source: [`sources::docker`] (Docker and Podman through a
//!   bounded HTTP client of its own, with bollard's answer types, and ssh
//!   tunnels; read-only, it exposes GET and HEAD calls and nothing else), [`sources::host`] (sysinfo),
//!   [`sources::osv`] (the vulnerability data download) and
//!   [`sources::desktop`] (desktop notifications over D-Bus).
//! * [`watch`] — one worker per engine (events, light and full passes, stats
//!   streams and samples, drift, the tracker of gone containers and exec
//!   sessions), sending owned events to the window or `watch`; the demo lab
//!   replays a captured engine through the same conversion.
//! * [`rules`] — the check catalogue: pure functions of model data.
//! * [`file`] — the one way to read a file someone else named (a user's
//!   `--policy`, a compose file a label names): bounded, regular files
//!   only, within a deadline. A leaf: every room may use it.
//! * [`policy`] — the user's policy file (approved images, overrides, waivers).
//! * [`assess`] — runs every rule over an inventory and applies the policy.
//! * [`alerts`] — which activities make a desktop notification, and bursts
//!   grouped into one (pure; shown by [`sources::desktop`]).
//! * [`report`] — exporters of an assessment (JSON, …), atomic file writing,
//!   and [`report::overview`]: how everything stands on the eight rules and
//!   seven threats (a query of the report: the window's Overview and the
//!   HTML report's first section).
//! * [`vulndb`] — known vulnerabilities of distribution packages (OSV),
//!   offline: import, version order, matching.
//! * [`audit`] — the append-only, hash-chained audit log.
//! * [`ui`] — the window's panels and their view state ([`ui::state`]); draws
//!   from state, never imports the App.
//! * [`app`] — the eframe App: starts the workers (one per engine), feeds
//!   their events into the view state within a time budget, runs the
//!   background jobs (export, baseline, settings).
//! * [`cli`] — the command-line front end (`scan`, `watch`, `db`, `audit`,
//!   `rules`) and starting the window.

// The library prints nothing and never ends the process: that is the
// command line's job (cli/, main.rs), which reports through its exit code.
#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr, clippy::exit)]

pub mod alerts;
pub mod app;
pub mod assess;
pub mod audit;
#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit,
    reason = "the command line speaks to its terminal and sets the exit code"
)]
pub mod cli;
pub mod file;
#[doc(hidden)]
pub mod fuzz;
pub mod harden;
pub mod instance;
pub mod integrity;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod settings;
pub mod sources;
pub mod ui;
pub mod vulndb;
pub mod watch;
