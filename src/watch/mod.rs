//! Watching sources: one worker per engine or cluster, independent of the
//! others, each in the one supervise loop ([`supervise`]: connect, follow,
//! back off, answer commands while waiting).
//!
//! An engine's worker ([`docker`]) holds one connection from
//! [`crate::sources::docker`] and runs everything that keeps the picture
//! current: the event stream, light passes (what events or the lists say
//! changed) and full passes (the safety net), stats streams within a budget
//! plus samples for the rest, drift passes and image-file reads. `kube`
//! (the `kube` feature) is the worker of one Kubernetes context: the same
//! events, from a list and a pod watch. Both write through one bounded sink
//! and audit trail ([`trail`]) and one publish step ([`publish`]: assess,
//! diff new findings, audit, posture). The [`tracker`] remembers what a
//! single scan cannot: gone containers, exec sessions, drift, which
//! findings are new. [`messages`] are the only way in (commands) and out
//! (owned events) — the window and `shipshape watch` consume the same
//! events. [`demo`] replays the captured lab through the same conversion
//! and rules.

pub mod demo;
pub mod docker;
pub mod flows;
#[cfg(feature = "kube")]
pub mod kube;
pub mod messages;
pub mod publish;
pub mod supervise;
pub mod tracker;
pub mod trail;
