//! The only code that talks to the outside.
//!
//! * [`docker`]: the container engines (Docker, Podman), GET only.
//! * [`host`]: this machine's load (sysinfo).
//! * `kube` (the `kube` feature): Kubernetes clusters, get/list/watch only.
//! * [`desktop`]: desktop notifications (the freedesktop service on the
//!   session bus), and clicks on them.
//! * [`tray`]: the optional tray icon (StatusNotifierItem).
//! * [`file`]: reading a file someone else named (a compose label, the
//!   user's `--policy`): regular files only, with ceilings of size and time.
//! * [`runtime`]: processes inside containers, from `/proc` on this machine.
//! * [`osv`]: downloading the OSV vulnerability data — the only network
//!   access shipshape ever makes, and only when the user asks
//!   (`shipshape db update`, or the Update button).

pub mod compose;
pub mod desktop;
pub mod docker;
pub mod host;
pub mod https;
#[cfg(feature = "kube")]
pub mod kube;
pub mod osv;
pub mod registry;
pub mod runtime;
pub mod tray;
