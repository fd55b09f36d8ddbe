//! The runtime source: what runs inside containers on this machine, read
//! from `/proc` — their sockets ([`sockets`]) and who is at the other end
//! of each connection ([`peers`]).

pub mod peers;
pub mod sockets;
