//! Watching engines: one worker per engine, independent of the others.
//!
//! A worker ([`worker`]) holds one connection from [`crate::sources::docker`]
//! and runs everything that keeps the picture current: the event stream,
//! light passes (what events or the lists say changed) and full passes (the
//! safety net), stats streams within a budget plus samples for the rest,
//! drift passes and image-file reads. The [`tracker`] remembers what a single
//! scan cannot: gone containers, exec sessions, drift, which findings are
//! new. [`messages`] are the only way in (commands) and out (owned events)
//! — the window and `shipshape watch` consume the same events. [`demo`]
//! replays the captured lab through the same conversion and rules. `kube`
//! (the `kube` feature) is the worker of one Kubernetes context: the same
//! events, from a list and a pod watch.

pub mod demo;
#[cfg(feature = "kube")]
pub mod kube;
pub mod messages;
pub mod publish;
pub mod tracker;
pub mod trail;
pub mod worker;
