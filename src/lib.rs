//! shipshape — a security dashboard for the containers on your own machine.
//!
//! The crate is laid out so the data flow is visible from the module list:
//!
//! * [`model`] — plain data (containers, images, engine, findings). No I/O.
//! * [`engine`] — the only code that talks to the container engine (bollard).
//!   Read-only: it exposes GET calls and nothing else.
//! * [`rules`] — the check catalogue: pure functions of model data.
//! * [`policy`] — the user's policy file (approved images, overrides, waivers).
//! * [`assess`] — runs every rule over an inventory and applies the policy.
//! * [`report`] — exporters of an assessment (JSON, …) and atomic file writing.
//! * [`vulndb`] — known vulnerabilities of distribution packages (OSV),
//!   offline: import, version order, matching.
//! * [`cli`] — the command-line front end (`shipshape scan`).

pub mod app;
pub mod assess;
pub mod audit;
pub mod cli;
pub mod engine;
#[doc(hidden)]
pub mod fuzz;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod settings;
pub mod sources;
pub mod ui;
pub mod vulndb;
