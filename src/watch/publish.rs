//! How every source turns what it read into a snapshot (`snapshot`:
//! known vulnerabilities annotated, then assessed — engines, clusters, the
//! demo lab and `scan` all call it), and the publish step every worker
//! ends an assessment with: which
//! findings are new since the last one (timeline entries and audit
//! records, which desktop alerts follow), a `scan` record and a posture
//! point when the picture moved, then the snapshot for the window. Engines
//! and clusters go through the same step, so a cluster's findings are
//! audited and alerted exactly as an engine's are.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::messages::{Event, Snapshot};
use super::tracker::Tracker;
use super::trail::Recorder;
use crate::model::Inventory;
use crate::model::SeverityCounts;
use crate::policy::Policy;

/// What known vulnerabilities an inventory is annotated with: the
/// packages read from its images and containers, and the database (or why
/// there is none).
pub(crate) struct Vulns<'a> {
    pub(crate) readings: &'a crate::vulndb::Readings,
    pub(crate) db: Result<&'a crate::vulndb::Database, &'a str>,
}

/// The one way a snapshot is made, whatever the source: the inventory
/// annotated with known vulnerabilities (when packages were read), then
/// assessed under the policy.
pub(crate) fn snapshot(
    mut inventory: Inventory,
    vulns: Option<Vulns<'_>>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Snapshot {
    if let Some(v) = vulns {
        crate::vulndb::annotate(&mut inventory, v.readings, v.db);
    }
    let assessment = crate::assess::assess(&inventory, policy, now);
    Snapshot {
        inventory,
        assessment,
        taken_at: Some(now),
    }
}

/// Why the snapshot is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A scan: `user` when someone asked for it.
    Scan { user: bool },
    /// New facts about containers already scanned (drift, packages).
    Facts,
}

/// What the step remembers between snapshots of one source.
#[derive(Default)]
pub(crate) struct Publisher {
    /// Counts and total risk of the last `scan` record.
    recorded: Option<(SeverityCounts, u64)>,
    /// The connections of the last snapshot, for new-connection entries.
    flows: super::flows::SeenFlows,
}

impl Publisher {
    /// Record and send an assessed snapshot. `tracker` knows which findings
    /// were there before; the first snapshot of a session reports none as
    /// new (it is the baseline the next ones are compared to).
    pub(crate) fn publish(
        &mut self,
        rec: &Recorder,
        tracker: &mut Tracker,
        snapshot: Snapshot,
        trigger: Trigger,
    ) -> Arc<Snapshot> {
        let fresh = tracker.new_findings(&snapshot.inventory, &snapshot.assessment);
        let first = fresh.is_none();
        let fresh = fresh.unwrap_or_default();
        // A scan record when something changed: new findings, or the counts
        // moved (findings fixed count too: the posture chart shows both).
        let counts = snapshot.assessment.counts();
        let risk = snapshot.assessment.total_risk();
        if let Trigger::Scan { user } = trigger
            && (first || user || !fresh.is_empty() || self.recorded != Some((counts, risk)))
        {
            self.recorded = Some((counts, risk));
            rec.audit(
                "scan",
                serde_json::json!({
                    "trigger": if user { "user" } else if first { "session" } else { "engine" },
                    "containers": snapshot.inventory.containers.len(),
                    "gone": tracker.gone_count(),
                    "images": snapshot.inventory.images.len(),
                    "findings": counts,
                    "risk": risk,
                    "new_findings": fresh.len(),
                }),
            );
            rec.sink
                .send(Event::Posture(vec![crate::model::PosturePoint {
                    t: Utc::now(),
                    engine: rec.engine_name(),
                    findings: counts,
                    risk: Some(risk),
                }]));
        }
        for a in fresh {
            rec.activity(a);
        }
        for a in self.flows.new_connections(&snapshot.inventory) {
            rec.activity(a);
        }
        let snapshot = Arc::new(snapshot);
        rec.sink.send(Event::Snapshot(snapshot.clone()));
        snapshot
    }
}
