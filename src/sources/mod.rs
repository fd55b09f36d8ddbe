//! Code that talks to the outside, apart from the container engine (which
//! still lives in [`crate::sources::docker`]; it moves here as `sources/docker` with
//! the multi-engine work).
//!
//! * [`osv`]: downloading the OSV vulnerability data — the only network
//!   access shipshape ever makes, and only when the user asks
//!   (`shipshape db update`, or the Update button).

pub mod docker;
pub mod host;
pub mod osv;
