//! What runs inside the containers of an engine on this machine, from the
//! kernel's view (`/proc`), not the engine's — one runtime source for
//! processes and sockets, attributed to containers the same way.
//!
//! * [`cgroup`]: which container a process belongs to (pure parser);
//! * [`procfs`]: one bounded reading of the processes of some containers;
//! * [`events`]: process starts as they happen (kernel connector, else
//!   polling `/proc`), throttled per container and program;
//! * [`sockets`]: listening sockets and connections, once per network
//!   namespace, with their owning process;
//! * [`peers`]: who is at the other end of each connection.
//!
//! Engines whose processes are not on this machine (Docker Desktop's VM,
//! a remote engine) have none of this: the caller says "not available"
//! with [`NOT_LOCAL`], never an empty list.

pub mod cgroup;
pub mod events;
pub mod peers;
pub mod procfs;
pub mod sockets;

/// Why processes are not read for an engine on another machine.
pub const NOT_LOCAL: &str = "the engine runs on another machine, whose /proc is out of reach";

/// Why a running container of a local engine has no processes here.
pub const NOT_FOUND: &str = "none of its processes was found in /proc on this machine (an engine \
                             in a VM, like Docker Desktop's, or /proc mounted with hidepid)";
