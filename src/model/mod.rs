//! Plain data: what the engine told us, converted once into shipshape's own
//! types, plus the findings the rules produce about it.
//!
//! Nothing in here does I/O or knows about bollard, egui or tokio.

pub mod activity;
pub mod compose;
mod container;
mod engine;
mod facts;
mod finding;
pub mod flows;
mod image;
pub mod integrity;
pub mod kube;
pub mod packages;
pub mod policy;
mod posture;
pub mod priority;
pub mod redact;
mod reference;
pub mod runtime;
mod secret;
pub mod stats;
pub mod text;
pub mod warning;

pub use activity::{Activity, Drift, ExecSession, Gone};
pub use container::{
    Container, ContainerState, Device, EnvVar, Healthcheck, HostPath, HostPathKind, Limits,
    LogConfig, Mount, MountKind, NameMatch, PortBinding, Process, RestartPolicy, StorageDirs,
    TmpfsMount, Ulimit, cap_names,
};
pub use engine::{BridgeNetwork, EngineIdentity, EngineInfo, EngineProduct, SecurityOptions};
pub use facts::{Setting, Source};
pub use finding::{AppliedWaiver, Finding, SeedRule, Severity, SeverityCounts, Subject, Threat};
pub use image::{HistoryEntry, Image};
pub use posture::{PosturePoint, buckets as posture_buckets};
pub use reference::ImageRef;
pub use secret::Sensitive;
pub use text::{json_safe, visible, visible_multiline};
pub use warning::{Warning, WarningKind};

use chrono::{DateTime, Utc};

/// The 12-character short form of a container or image id (without
/// `sha256:`), as the docker CLI shows it.
///
/// Counted in characters: real ids are hex, but whatever answers at
/// `DOCKER_HOST`, and any report read back as a baseline, is outside input
/// (a byte slice would panic inside a multi-byte character).
pub fn short_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    match id.char_indices().nth(12) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// `CAP_SYS_ADMIN`, `sys_admin` → `SYS_ADMIN`: one spelling for a Linux
/// capability, whether Docker or a pod spec wrote it.
pub fn normalise_cap(cap: &str) -> String {
    let up = cap.trim().to_ascii_uppercase();
    up.strip_prefix("CAP_").map(str::to_string).unwrap_or(up)
}

/// Is this address (host, host:port, `[v6]:port`, or a CIDR) on loopback?
pub fn is_loopback_host(addr: &str) -> bool {
    let host = addr.split('/').next().unwrap_or(addr);
    // Strip a port, but not from a bare IPv6 address.
    let host = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None if host.matches(':').count() == 1 => host.split(':').next().unwrap_or(host),
        None => host,
    };
    host.starts_with("127.") || host == "::1" || host == "localhost"
}

/// Lookups over one inventory, built once per assessment so the rules stay
/// linear in the number of containers and images (a lookup per container
/// per rule over every image was quadratic).
#[derive(Debug, Default)]
pub struct InventoryIndex<'a> {
    by_id: std::collections::HashMap<&'a str, &'a Image>,
    /// Canonical reference (`docker.io/library/nginx:1.25`) → the first
    /// image carrying that tag.
    by_ref: std::collections::HashMap<String, &'a Image>,
    /// Image id → how many containers were created from it.
    users: std::collections::HashMap<&'a str, usize>,
    /// Containers by id and by name (`container:<x>` namespace joins).
    containers: std::collections::HashMap<&'a str, &'a Container>,
}

impl<'a> InventoryIndex<'a> {
    /// Indexes the inventory's containers by id and by name.
    pub fn new(inv: &'a Inventory) -> Self {
        let mut ix = Self::default();
        for img in &inv.images {
            ix.by_id.entry(img.id.as_str()).or_insert(img);
            for r in img.tags.iter().filter_map(|t| ImageRef::parse(t)) {
                ix.by_ref.entry(r.canonical()).or_insert(img);
            }
        }
        for c in &inv.containers {
            *ix.users.entry(c.image_id.as_str()).or_default() += 1;
            ix.containers.entry(c.id.as_str()).or_insert(c);
        }
        for c in &inv.containers {
            ix.containers.entry(c.name.as_str()).or_insert(c);
        }
        ix
    }

    /// The container with this id or name (ids first).
    pub fn container(&self, id_or_name: &str) -> Option<&'a Container> {
        self.containers.get(id_or_name).copied()
    }

    /// The image with this id.
    pub fn image_by_id(&self, id: &str) -> Option<&'a Image> {
        self.by_id.get(id).copied()
    }

    /// The image a reference such as `nginx:1.25` currently points to.
    pub fn image_by_ref(&self, reference: &ImageRef) -> Option<&'a Image> {
        self.by_ref.get(&reference.canonical()).copied()
    }

    /// How many containers were created from the image with this id.
    pub fn users_of(&self, image_id: &str) -> usize {
        self.users.get(image_id).copied().unwrap_or(0)
    }
}

/// One consistent snapshot of everything shipshape knows about an engine.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The engine the snapshot was read from.
    pub engine: EngineInfo,
    /// Every container, running or not.
    pub containers: Vec<Container>,
    /// Every image.
    pub images: Vec<Image>,
    /// When the snapshot was taken.
    pub taken_at: Option<DateTime<Utc>>,
    /// Things that went wrong for single objects without failing the whole
    /// snapshot (a container that vanished between list and inspect, …).
    pub warnings: Vec<Warning>,
    /// When the engine is a Kubernetes cluster: its namespaces and notes.
    pub cluster: Option<kube::Cluster>,
}

impl Inventory {
    /// The image a container was created from, by image id.
    pub fn image_by_id(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }

    /// The image a reference such as `nginx:1.25` currently points to.
    pub fn image_by_ref(&self, reference: &ImageRef) -> Option<&Image> {
        let wanted = reference.canonical();
        self.images.iter().find(|img| {
            img.tags
                .iter()
                .filter_map(|t| ImageRef::parse(t))
                .any(|r| r.canonical() == wanted)
        })
    }

    /// Containers created from the image with this id.
    pub fn containers_using<'a>(
        &'a self,
        image_id: &'a str,
    ) -> impl Iterator<Item = &'a Container> {
        self.containers
            .iter()
            .filter(move |c| c.image_id == image_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_id_of_hex_and_of_hostile_ids() {
        assert_eq!(short_id("sha256:0123456789abcdef0123"), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        // Issue 17: a multi-byte character across byte 12 used to panic.
        assert_eq!(short_id("aaaaaaaaaaa€"), "aaaaaaaaaaa€");
        assert_eq!(short_id("aaaaaaaaaaa€€€"), "aaaaaaaaaaa€");
    }

    proptest! {
        #[test]
        fn short_id_never_panics_and_is_a_prefix(id in any::<String>()) {
            let s = short_id(&id);
            prop_assert!(id.contains(s));
            prop_assert!(s.chars().count() <= 12);
        }
    }
}
