//! Compose files as a source of container settings: the project's files
//! read ([`load`]: merged, interpolated, `extends` and profiles applied,
//! every key with its file and line, [`yaml`]: bounded), each service
//! turned into the same container facts an engine's inspect fills
//! ([`convert`]), so the one catalogue judges a service before anything is
//! created (`shipshape compose check`) and a finding points at the line
//! that causes it.

pub mod convert;
pub mod load;
pub mod yaml;
