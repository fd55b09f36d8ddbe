//! What runs inside containers, against the real engine: process starts
//! from the kernel connector and from polling `/proc`, attributed to the
//! right container; and the runtime rules on what `scan` reads.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{BASE, Fixture};
use shipshape::sources::runtime::events::{self, Seen, Source};

/// A fixture whose objects are named `procs-…`.
fn fixture(label: &str) -> Fixture {
    let mut f = Fixture::new(label);
    f.prefix = f.prefix.replacen("ssit-", "procs-", 1);
    f
}

/// Watches with `source` until a start of `name` in container `id` is
/// seen, or 20 s pass.
fn sees(source: Source, connector: Option<events::Connector>, id: &str, name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found = false;
    events::watch(Path::new("/proc"), &source, connector, |s| {
        if let Seen::Start(p) = &s
            && p.container_id.as_deref() == Some(id)
            && p.name == name
        {
            assert!(p.parents.iter().any(|a| a.in_container), "{p:?}");
            found = true;
        }
        !found && Instant::now() < deadline
    });
    found
}

#[test]
fn the_kernel_connector_and_polling_both_see_starts_in_a_container() {
    let _s = common::serial();
    let mut f = fixture("events");
    let name = f.run("loop", &[BASE, "sh", "-c", "while true; do sleep 1; done"]);
    let id = common::docker(&["inspect", "-f", "{{.Id}}", &name]);
    // As root the connector opens.
    let (source, connector) = events::choose();
    assert_eq!(source, Source::Connector, "{}", source.describe());
    assert!(sees(source, connector, &id, "sleep"));
    let poll = Source::Poll {
        every: events::POLL_PERIOD,
        why: "test".into(),
    };
    assert!(sees(poll, None, &id, "sleep"));
}
