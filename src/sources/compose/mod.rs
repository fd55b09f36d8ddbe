//! Compose files as a source of container settings: the project's files
//! read ([`load`]: merged, interpolated, `extends` and profiles applied,
//! every key with its file and line, [`yaml`]: bounded), each service
//! turned into the same container facts an engine's inspect fills
//! ([`convert`]), so the one catalogue judges a service before anything is
//! created (`shipshape compose check`) and a finding points at the line
//! that causes it.

pub mod convert;
pub mod live;
pub mod load;
pub mod read;
pub mod yaml;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::assess::Assessment;
use crate::model::Inventory;
use crate::model::compose::ComposeFile;
use crate::model::policy::Policy;

/// Rules a compose file cannot decide when the key is not set: the image
/// (not built or pulled yet) or the engine's own settings decide.
const DECIDED_ELSEWHERE: [(&str, &str, &str); 3] = [
    (
        "container.root-user",
        "user",
        "the image's USER decides (the image is not known before it is built or pulled)",
    ),
    (
        "container.no-healthcheck",
        "healthcheck",
        "the image may declare a HEALTHCHECK (not known before it is built or pulled)",
    ),
    (
        "container.log-unbounded",
        "logging",
        "the engine's default logging (daemon.json) decides",
    ),
];

/// Rules that need the running container, its image or the engine, which
/// a compose file does not have: named in the report as not checked.
pub const NOT_CHECKED: &str = "not checked before the project runs (they need the running \
     container, its image or the engine): exec sessions, drift, processes (sshd), the image's \
     age, known vulnerabilities and other image checks, and the engine's own settings";

/// What `compose check` found.
#[derive(Debug)]
pub struct Checked {
    /// The services as containers.
    pub inventory: Inventory,
    /// Their findings (those a compose file cannot decide taken out).
    pub assessment: Assessment,
    /// What was not checked, and why, per service.
    pub not_checked: Vec<String>,
}

/// Judge a loaded project's services with the catalogue. `dir` is the
/// project's folder; `env_files` the texts of each service's `env_file`s.
pub fn check(
    project: &load::Project,
    dir: &str,
    env_files: &BTreeMap<String, Vec<String>>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Checked {
    let mut inventory = Inventory::default();
    inventory.engine.label = format!("compose project {}", project.name);
    let none = Vec::new();
    for s in &project.services {
        let mut c = convert::container(project, s, dir, env_files.get(&s.name).unwrap_or(&none));
        c.compose_file = Some(Arc::new(ComposeFile::Read {
            lines: convert::lines(project, s),
            changed: None,
        }));
        inventory.containers.push(c);
    }
    let mut assessment = crate::assess::assess(&inventory, policy, now);
    assessment.engine.clear();
    assessment.images.clear();
    let mut not_checked = Vec::new();
    for s in &project.services {
        let id = format!("{}-{}-1", project.name, s.name);
        let Some(ca) = assessment.containers.get_mut(&id) else {
            continue;
        };
        for (rule, key, why) in DECIDED_ELSEWHERE {
            if s.node.get(key).is_none() && ca.findings.iter().any(|f| f.rule_id == rule) {
                ca.findings.retain(|f| f.rule_id != rule);
                not_checked.push(format!("{}: {rule} not checked: {why}", s.name));
            }
        }
        ca.from_image = None;
        ca.score = crate::rules::score::risk_score(ca.findings.iter());
    }
    Checked {
        inventory,
        assessment,
        not_checked,
    }
}
