//! The UI's view state: what the window shows and how (the inventory's rows,
//! filters and sort, the selection, the timeline, the charts' data, the
//! dialogs, the baseline), per engine when several are watched. Owned by
//! the UI thread; changed by applying worker events and by the panels.
//! The App (`crate::app`) feeds it; the panels (`crate::ui`) draw it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::model::activity::{Activity, Category};
use crate::model::stats::{HostPoint, Ring, StatsPoint};
use crate::model::{Container, ContainerState, Severity, SeverityCounts};
use crate::report::baseline::{self, Key, Status};
use crate::report::{Format, Report};
use crate::settings::Settings;
use crate::sources::host::HostInfo;
use crate::watch::messages::{Event, Snapshot};

/// Where the data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Demo,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Conn {
    Connecting {
        attempt: u32,
    },
    Connected {
        found_by: String,
        endpoint: String,
        api_version: String,
        engine: crate::model::EngineIdentity,
    },
    Down {
        reason: String,
        retry_at: Instant,
    },
    Demo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The eight rules and seven threats: the first thing the window shows.
    Overview,
    Containers,
    Activity,
    Images,
    Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    Risk,
    Facts,
    Charts,
    /// The container's own events and exec sessions.
    Activity,
}

/// Sortable inventory columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Column {
    /// Which engine (shown when several are watched).
    Engine,
    /// A Kubernetes workload's namespace (shown when a cluster is watched).
    Namespace,
    Name,
    Image,
    State,
    #[default]
    Risk,
    Severity,
    Cpu,
    Memory,
    Ports,
    User,
    Uptime,
}

impl Column {
    pub const ALL: [Column; 12] = [
        Self::Engine,
        Self::Namespace,
        Self::Name,
        Self::Image,
        Self::State,
        Self::Risk,
        Self::Severity,
        Self::Cpu,
        Self::Memory,
        Self::Ports,
        Self::User,
        Self::Uptime,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Self::Engine => "Engine",
            Self::Namespace => "Namespace",
            Self::Name => "Name",
            Self::Image => "Image",
            Self::State => "State",
            Self::Risk => "Risk",
            Self::Severity => "Worst",
            Self::Cpu => "CPU",
            Self::Memory => "Memory",
            Self::Ports => "Ports",
            Self::User => "User",
            Self::Uptime => "Up / age",
        }
    }
}

/// One inventory row, computed once per snapshot.
#[derive(Debug, Clone)]
pub struct Row {
    /// The engine it runs on (its name; empty with one engine).
    pub engine: String,
    /// Its Kubernetes namespace (empty for an engine's container).
    pub namespace: String,
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    pub score: u8,
    pub highest: Option<Severity>,
    /// Active findings by severity.
    pub counts: SeverityCounts,
    pub waived: usize,
    /// Active findings not in the loaded baseline (0 without one).
    pub new_since_baseline: usize,
    pub user: String,
    pub ports: String,
    pub created: Option<DateTime<Utc>>,
    pub started: Option<DateTime<Utc>>,
    /// Removed from the engine at this time; kept until dismissed.
    pub gone: Option<DateTime<Utc>>,
    /// How long it ran (start to finish or removal), when it is over.
    pub lifetime: Option<chrono::Duration>,
    /// `docker exec` sessions seen.
    pub execs: usize,
    /// The seed rules (bit `n - 1` for rule n) and threats (bit
    /// `Threat::index`) its active findings break, its image's counted
    /// finding included.
    pub seeds: u8,
    pub threats: u8,
    /// The checks its active findings come from.
    pub rules: Vec<&'static str>,
    /// Lower-case name, image and labels, for the text filter.
    haystack: String,
}

impl Row {
    fn new(c: &Container, snapshot: &Snapshot, index: &crate::model::InventoryIndex) -> Self {
        let mut counts = SeverityCounts::default();
        let mut waived = 0;
        let (mut seeds, mut threats) = (0u8, 0u8);
        let mut rules: Vec<&'static str> = Vec::new();
        let (score, highest) = match snapshot.assessment.container(&c.id) {
            Some(a) => {
                for f in &a.findings {
                    if f.is_waived() {
                        waived += 1;
                    } else {
                        counts.add(f.severity);
                    }
                }
                for f in a.findings.iter().chain(&a.from_image) {
                    if f.is_waived() {
                        continue;
                    }
                    if !rules.contains(&f.rule_id) {
                        rules.push(f.rule_id);
                    }
                    if let Some(seed) = crate::report::overview::seed_of(f.rule_id) {
                        seeds |= 1 << (seed.number() - 1);
                    }
                    for t in crate::rules::threats::of(f.rule_id) {
                        threats |= 1 << t.index();
                    }
                }
                (a.score, a.highest())
            }
            None => (0, None),
        };
        let mut ports: Vec<String> = c
            .ports
            .iter()
            .filter(|p| p.host_port.is_some())
            .map(|p| p.describe())
            .collect();
        ports.dedup();
        let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let user = if c.user.is_empty() {
            "root (default)".to_string()
        } else {
            c.user.clone()
        };
        Self {
            engine: crate::model::visible(&snapshot.inventory.engine.label).into_owned(),
            namespace: c
                .kube
                .as_ref()
                .map(|w| crate::model::visible(&w.namespace).into_owned())
                .unwrap_or_default(),
            id: c.id.clone(),
            // Shown as they are drawn: hidden characters made visible.
            name: crate::model::visible(&c.name).into_owned(),
            image: crate::model::visible(&c.image).into_owned(),
            state: c.state,
            score,
            highest,
            counts,
            waived,
            new_since_baseline: 0,
            ports: ports.join(", "),
            created: c.created,
            started: if c.state.is_live() && c.gone.is_none() {
                c.started_at
            } else {
                None
            },
            gone: c.gone.map(|g| g.at),
            lifetime: if c.state.is_live() && c.gone.is_none() {
                None
            } else {
                c.lifetime()
            },
            execs: c.execs.len(),
            seeds,
            threats,
            rules,
            haystack: {
                // Its own vulnerabilities, else its image's: typing a CVE id
                // in the filter finds the containers it affects.
                let vulns = match c.vulns.as_ref() {
                    crate::model::packages::VulnState::Assessed { .. } => &c.vulns,
                    _ => index
                        .image_by_id(&c.image_id)
                        .map_or(&c.vulns, |i| &i.vulns),
                };
                let ids: Vec<&str> = vulns
                    .vulnerabilities()
                    .iter()
                    .map(|v| v.id.as_str())
                    .collect();
                format!(
                    "{} {} {} {}",
                    c.name,
                    c.image,
                    labels.join(" "),
                    ids.join(" ")
                )
                .to_lowercase()
            },
            user,
        }
    }
}

/// Inventory filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub text: String,
    /// `None`: every state.
    pub state: Option<ContainerState>,
    /// Only containers with an active finding at least this bad.
    pub min_severity: Option<Severity>,
    /// Only containers with findings that are new since the baseline.
    pub only_new: bool,
    /// Only containers that are gone (the state filter is then unset).
    pub gone: bool,
    /// Only this engine's containers (by name).
    pub engine: Option<String>,
    /// Only this Kubernetes namespace's workloads.
    pub namespace: Option<String>,
    /// Only containers breaking this seed rule (from the Overview).
    pub seed: Option<crate::model::SeedRule>,
    /// Only containers whose findings feed this threat.
    pub threat: Option<crate::model::Threat>,
    /// Only containers with an active finding of this check.
    pub rule: Option<&'static str>,
}

impl Filter {
    pub fn matches(&self, r: &Row) -> bool {
        let text = self.text.trim().to_lowercase();
        (text.is_empty() || text.split_whitespace().all(|w| r.haystack.contains(w)))
            && self.state.is_none_or(|s| r.state == s && r.gone.is_none())
            && (!self.gone || r.gone.is_some())
            && self
                .min_severity
                .is_none_or(|min| r.highest.is_some_and(|h| h >= min))
            && (!self.only_new || r.new_since_baseline > 0)
            && self.engine.as_ref().is_none_or(|e| &r.engine == e)
            && self.namespace.as_ref().is_none_or(|n| &r.namespace == n)
            && self
                .seed
                .is_none_or(|s| r.seeds & (1 << (s.number() - 1)) != 0)
            && self
                .threat
                .is_none_or(|t| r.threats & (1 << t.index()) != 0)
            && self.rule.is_none_or(|id| r.rules.contains(&id))
    }
}

/// A message for the user, shown until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// A loaded baseline report, reduced to what the views need.
#[derive(Debug, Clone)]
pub struct BaselineView {
    pub source: String,
    pub generated_at: DateTime<Utc>,
    pub(crate) report: Arc<Report>,
}

/// Export dialog choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportChoice {
    pub format: Format,
    /// Only the containers the filters show.
    pub filtered: bool,
}

/// Everything the UI draws. Owned by the UI thread.
pub struct State {
    pub mode: Mode,
    /// The first (or only) engine's connection and snapshot.
    pub conn: Conn,
    pub snapshot: Option<Arc<Snapshot>>,
    /// The first engine's name, when several are watched (else empty).
    pub primary_label: String,
    /// The other engines, when several are watched: each with its own
    /// connection and snapshot. Their containers join the inventory.
    pub others: Vec<EngineSlot>,
    /// Which engine the Engine view details (0: the first).
    pub engine_shown: usize,
    /// Engines found on this machine at start, offered in Settings.
    pub found_engines: Vec<crate::settings::EngineEntry>,
    /// The kubeconfig's contexts (offered in Settings).
    pub found_contexts: Vec<String>,
    /// The desktop notification service: its name, or why there is none
    /// (`None`: not asked yet, or alerts are off).
    pub alerts_service: Option<Result<String, String>>,
    /// The tray icon: shown, or why not (`None`: not asked for).
    pub tray_status: Option<Result<(), String>>,
    /// The snapshot is from before the engine went away.
    pub stale: bool,
    pub last_refresh: Option<DateTime<Utc>>,
    pub view: View,
    pub detail_tab: DetailTab,
    pub notices: Vec<Notice>,
    pub settings: Settings,
    /// Drift check in progress: (done, total).
    pub drift_progress: Option<(usize, usize)>,
    /// Where the audit trail goes, or why there is none.
    pub audit: Option<Result<PathBuf, String>>,
    /// Gone containers the user dismissed (empty: all), for the worker.
    pub pending_dismiss: Option<Vec<String>>,
    /// A different engine answered at the watched endpoint; shown until
    /// the user dismisses it.
    pub engine_changed: Option<EngineChanged>,
    /// The vulnerability database in use, or why there is none (`None`:
    /// not known yet).
    pub vulndb: Option<Result<crate::vulndb::Meta, String>>,
    /// An update in progress.
    pub vulndb_progress: Option<crate::sources::osv::Progress>,
    pub inventory: InventoryView,
    pub timeline: Timeline,
    pub charts: Charts,
    pub dialogs: Dialogs,
    pub baseline: Baseline,
    pub images: ImagesView,
    pub overview: OverviewView,
    /// The command palette, while it is open (Ctrl+K).
    pub palette: Option<Palette>,
}

/// The Overview: the eight rules, the seven threats, posture over time.
#[derive(Debug, Default)]
pub struct OverviewView {
    /// Of every engine's latest assessment.
    pub current: Option<crate::report::overview::Overview>,
    /// Of the session's first complete assessment of each subject: "since
    /// the session started".
    pub first: Option<crate::report::overview::Overview>,
    /// What `first` is computed from.
    pub session: crate::report::overview::SessionStart,
    /// Of the loaded baseline report.
    pub baseline: Option<crate::report::overview::Overview>,
    /// The rule whose explanation is open.
    pub explain: Option<crate::model::SeedRule>,
    /// From the audit log's `scan` records, oldest first (bounded).
    pub posture: Vec<crate::model::PosturePoint>,
}

/// Posture points kept (several years of hourly records).
pub const POSTURE_CAP: usize = 50_000;

impl OverviewView {
    pub fn add_posture(&mut self, points: Vec<crate::model::PosturePoint>) {
        self.posture.extend(points);
        self.posture.sort_by_key(|p| p.t);
        let over = self.posture.len().saturating_sub(POSTURE_CAP);
        self.posture.drain(..over);
    }
}

/// The container table: rows, their order, filters and the selection.
#[derive(Debug, Default)]
pub struct InventoryView {
    pub rows: Vec<Row>,
    /// Indices into `rows`, filtered and sorted.
    pub order: Vec<usize>,
    pub sort: (Column, bool),
    pub filter: Filter,
    pub selected: Option<String>,
    /// The rows drawn in the last frame, top to bottom.
    pub visible: Vec<String>,
    /// Request to move keyboard focus to the filter box.
    pub focus_filter: bool,
    /// Scroll the table to the selected row on the next frame.
    pub scroll_to_selected: bool,
    /// `order` must be recomputed.
    dirty: bool,
}

/// The activity timeline in the window (the audit log keeps everything).
#[derive(Debug, Default)]
pub struct Timeline {
    /// Oldest first, bounded by [`ACTIVITY_CAP`].
    pub entries: VecDeque<Arc<Activity>>,
    pub filter: ActivityFilter,
    /// Indices into `entries` that pass the filter, newest first.
    pub order: Vec<usize>,
    dirty: bool,
}

/// Live numbers and their history.
#[derive(Debug)]
pub struct Charts {
    pub stats: HashMap<String, Ring<StatsPoint>>,
    /// Containers whose latest stats point is a sample (no live stream).
    pub sampled: HashSet<String>,
    pub host: Ring<HostPoint>,
    pub host_info: Option<HostInfo>,
    /// Charts frozen at this time (data keeps arriving).
    pub paused_at: Option<f64>,
}

/// The Settings and Export windows.
#[derive(Debug)]
pub struct Dialogs {
    pub show_settings: bool,
    pub show_export: bool,
    pub export: ExportChoice,
    /// An export is being written.
    pub export_running: bool,
}

/// A loaded baseline and what is new since it.
#[derive(Debug, Default)]
pub struct Baseline {
    pub view: Option<BaselineView>,
    /// (container id, rule id, evidence) of findings new since the baseline.
    pub new_findings: HashSet<(String, String, String)>,
}

/// The Images view: its selection, search and toggles.
#[derive(Debug, Default)]
pub struct ImagesView {
    /// (engine name, image id): the same image may be on several engines.
    pub selected: Option<(String, String)>,
    /// Only this engine's images (by name); `None`: every engine's.
    pub engine: Option<String>,
    /// Search by CVE id, package or image.
    pub search: String,
    pub only_fixable: bool,
    pub show_unimportant: bool,
}

/// One more engine of several.
#[derive(Debug, Clone)]
pub struct EngineSlot {
    pub label: String,
    /// The same engine (same `/info` ID) as this earlier one, reached
    /// another way: shown once, there.
    pub duplicate_of: Option<String>,
    pub conn: Conn,
    pub snapshot: Option<Arc<Snapshot>>,
    /// The snapshot is from before the engine went away.
    pub stale: bool,
}

impl EngineSlot {
    pub fn new(label: String) -> Self {
        Self {
            label,
            duplicate_of: None,
            conn: Conn::Connecting { attempt: 1 },
            snapshot: None,
            stale: false,
        }
    }
}

/// What the banner says when another engine took the watched endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineChanged {
    pub endpoint: String,
    /// The `/info` IDs before and after.
    pub was: String,
    pub now: String,
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// Timeline entries kept in the window (the audit log keeps everything).
pub const ACTIVITY_CAP: usize = 20_000;

/// Activity view filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    /// Matches the container or object name, the action and the detail.
    pub text: String,
    pub category: Option<Category>,
    /// Only entries graded at least this bad.
    pub min_severity: Option<Severity>,
    /// Only this engine's entries (by name).
    pub engine: Option<String>,
}

impl ActivityFilter {
    pub fn matches(&self, a: &Activity) -> bool {
        let text = self.text.trim().to_lowercase();
        self.engine.as_ref().is_none_or(|e| &a.engine == e)
            && self.category.is_none_or(|c| a.category() == c)
            && self
                .min_severity
                .is_none_or(|m| a.severity.is_some_and(|s| s >= m))
            && (text.is_empty()
                || text.split_whitespace().all(|w| {
                    a.name.to_lowercase().contains(w)
                        || a.action.to_lowercase().contains(w)
                        || a.detail.to_lowercase().contains(w)
                        || a.actor.starts_with(w)
                }))
    }
}

impl State {
    pub fn new(mode: Mode, settings: Settings) -> Self {
        let cap = settings.history_samples();
        Self {
            mode,
            conn: if mode == Mode::Demo {
                Conn::Demo
            } else {
                Conn::Connecting { attempt: 1 }
            },
            snapshot: None,
            primary_label: String::new(),
            others: Vec::new(),
            engine_shown: 0,
            found_engines: Vec::new(),
            found_contexts: Vec::new(),
            alerts_service: None,
            tray_status: None,
            stale: false,
            last_refresh: None,
            view: View::Overview,
            detail_tab: DetailTab::Risk,
            notices: Vec::new(),
            settings,
            drift_progress: None,
            audit: None,
            pending_dismiss: None,
            engine_changed: None,
            vulndb: None,
            vulndb_progress: None,
            inventory: InventoryView {
                sort: (Column::Risk, false),
                dirty: true,
                ..InventoryView::default()
            },
            timeline: Timeline::default(),
            charts: Charts {
                stats: HashMap::new(),
                sampled: HashSet::new(),
                host: Ring::new(cap),
                host_info: None,
                paused_at: None,
            },
            dialogs: Dialogs {
                show_settings: false,
                show_export: false,
                export: ExportChoice {
                    format: Format::Html,
                    filtered: false,
                },
                export_running: false,
            },
            baseline: Baseline::default(),
            images: ImagesView::default(),
            overview: OverviewView::default(),
            palette: None,
        }
    }

    /// Add a timeline entry, in time order (exec entries arrive after their
    /// inspect, slightly late).
    pub fn push_activity(&mut self, a: Arc<Activity>) {
        let at = self
            .timeline
            .entries
            .iter()
            .rposition(|x| x.time <= a.time)
            .map_or(0, |i| i + 1);
        self.timeline.entries.insert(at, a);
        if self.timeline.entries.len() > ACTIVITY_CAP {
            self.timeline.entries.pop_front();
        }
        self.timeline.dirty = true;
    }

    pub fn activity_filter_changed(&mut self) {
        self.timeline.dirty = true;
    }

    /// Recompute the visible timeline when needed.
    pub fn refresh_activity(&mut self) {
        if !self.timeline.dirty {
            return;
        }
        self.timeline.dirty = false;
        self.timeline.order = (0..self.timeline.entries.len())
            .rev()
            .filter(|&i| self.timeline.filter.matches(&self.timeline.entries[i]))
            .collect();
    }

    /// A container's own timeline, newest first.
    pub fn activity_of<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Arc<Activity>> + 'a {
        self.timeline
            .entries
            .iter()
            .rev()
            .filter(move |a| a.container_id.as_deref() == Some(id))
    }

    /// Dismiss gone containers without a worker (the demo lab).
    pub fn dismiss_locally(&mut self, ids: &[String]) {
        let Some(s) = &self.snapshot else { return };
        let drop = |c: &Container| c.gone.is_some() && (ids.is_empty() || ids.contains(&c.id));
        let mut inventory = s.inventory.clone();
        inventory.containers.retain(|c| !drop(c));
        let mut assessment = s.assessment.clone();
        assessment
            .containers
            .retain(|id, _| inventory.containers.iter().any(|c| &c.id == id));
        self.set_snapshot(Arc::new(Snapshot {
            inventory,
            assessment,
            taken_at: s.taken_at,
        }));
    }

    /// Gone containers currently kept.
    pub fn gone_count(&self) -> usize {
        self.inventory
            .rows
            .iter()
            .filter(|r| r.gone.is_some())
            .count()
    }

    /// Compare the current findings with a baseline report.
    pub fn set_baseline(&mut self, source: String, old: Arc<Report>) {
        self.overview.baseline = Some(crate::report::overview::of_report(&old));
        self.baseline.view = Some(BaselineView {
            source,
            generated_at: old.generated_at,
            report: old,
        });
        self.mark_new();
    }

    pub fn clear_baseline(&mut self) {
        self.baseline.view = None;
        self.overview.baseline = None;
        self.inventory.filter.only_new = false;
        self.mark_new();
    }

    /// Recompute which container findings are new since the baseline.
    fn mark_new(&mut self) {
        self.baseline.new_findings.clear();
        for r in &mut self.inventory.rows {
            r.new_since_baseline = 0;
        }
        self.inventory.dirty = true;
        let (Some(b), Some(s)) = (&self.baseline.view, &self.snapshot) else {
            return;
        };
        let mut ids = Vec::new();
        let mut keys: Vec<Key> = Vec::new();
        for c in &s.inventory.containers {
            for f in s
                .assessment
                .container(&c.id)
                .map_or(&[][..], |a| &a.findings)
            {
                ids.push(c.id.clone());
                keys.push((
                    format!("container:{}", c.name),
                    f.rule_id.to_string(),
                    f.evidence.clone(),
                ));
            }
        }
        let (status, _) = baseline::classify(&baseline::keys(&b.report, false), &keys);
        for ((id, (_, rule, evidence)), st) in ids.into_iter().zip(keys).zip(status) {
            if st == Status::New {
                if let Some(r) = self.inventory.rows.iter_mut().find(|r| r.id == id) {
                    r.new_since_baseline += 1;
                }
                self.baseline.new_findings.insert((id, rule, evidence));
            }
        }
    }

    pub fn is_new(&self, container_id: &str, rule_id: &str, evidence: &str) -> bool {
        self.baseline.new_findings.contains(&(
            container_id.to_string(),
            rule_id.to_string(),
            evidence.to_string(),
        ))
    }

    /// Apply one worker event.
    pub fn apply(&mut self, ev: Event) {
        let sampled = matches!(ev, Event::Sampled { .. });
        match ev {
            Event::Connecting { attempt } => {
                if !matches!(self.conn, Conn::Down { .. }) || attempt > 1 {
                    self.conn = Conn::Connecting { attempt };
                }
            }
            Event::Connected {
                found_by,
                endpoint,
                api_version,
                engine,
            } => {
                self.conn = Conn::Connected {
                    found_by,
                    endpoint,
                    api_version,
                    engine,
                };
            }
            Event::EngineChanged {
                endpoint,
                was,
                now,
                detail,
                at,
            } => {
                self.engine_changed = Some(EngineChanged {
                    endpoint,
                    was,
                    now,
                    detail,
                    at,
                });
                // The old engine's charts say nothing about the new one.
                self.charts.stats.clear();
                self.inventory.selected = None;
            }
            Event::Disconnected { reason, retry_in } => {
                self.conn = Conn::Down {
                    reason,
                    retry_at: Instant::now() + retry_in,
                };
                self.stale = self.snapshot.is_some();
                for ring in self.charts.stats.values_mut() {
                    ring.push_gap();
                }
            }
            Event::Snapshot(s) => self.set_snapshot(s),
            Event::Stats { id, point } | Event::Sampled { id, point } => {
                if sampled {
                    self.charts.sampled.insert(id.clone());
                } else {
                    self.charts.sampled.remove(&id);
                }
                let cap = self.settings.history_samples();
                self.charts
                    .stats
                    .entry(id)
                    .or_insert_with(|| Ring::new(cap))
                    .push(point);
                if matches!(self.inventory.sort.0, Column::Cpu | Column::Memory) {
                    self.inventory.dirty = true;
                }
            }
            Event::StatsEnded { id } => {
                if let Some(r) = self.charts.stats.get_mut(&id) {
                    r.push_gap();
                }
            }
            Event::Host(p) => self.charts.host.push(p),
            Event::Posture(points) => self.overview.add_posture(points),
            Event::HostInfo(i) => self.charts.host_info = Some(i),
            Event::Warning(text) => self.notify(text, true),
            Event::Activity(a) => self.push_activity(a),
            Event::DriftProgress { done, total } => {
                self.drift_progress = (done < total).then_some((done, total));
            }
            Event::Audit(a) => self.audit = Some(a),
            Event::VulnDb(meta) => {
                self.vulndb = Some(meta);
                self.vulndb_progress = None;
            }
            Event::VulnDbProgress(p) => self.vulndb_progress = Some(p),
            Event::Dropped { activities, stats } => {
                // Shown where the gap is; the audit log has every entry.
                let mut parts = Vec::new();
                if activities > 0 {
                    parts.push(format!("{activities} timeline entries"));
                }
                if stats > 0 {
                    parts.push(format!("{stats} stats readings"));
                }
                let a = Activity::own(
                    "not_shown",
                    format!(
                        "{} were not shown here: the window was not keeping up (a flood of \
                         events, or it was minimised). The audit log has every entry.",
                        parts.join(" and ")
                    ),
                    Some(Severity::Low),
                );
                self.push_activity(Arc::new(a));
            }
            Event::VulnDbUpdateFailed(msg) => {
                self.vulndb_progress = None;
                self.notify(msg, true);
            }
        }
    }

    pub fn notify(&mut self, text: String, error: bool) {
        if !self.notices.iter().any(|n| n.text == text) {
            self.notices.push(Notice { text, error });
        }
    }

    /// Open the Containers view on a container, by id, id prefix (at least
    /// 4 characters) or name: a clicked notification, a second launch with
    /// `--show`. False when no engine has it (yet).
    pub fn show_container(&mut self, what: &str) -> bool {
        let what = what.trim();
        let name = what.trim_start_matches('/');
        let containers = || self.snapshots().flat_map(|s| s.inventory.containers.iter());
        let found = containers()
            .find(|c| c.id == what || c.name.trim_start_matches('/') == name)
            .or_else(|| {
                (what.len() >= 4)
                    .then(|| containers().find(|c| c.id.starts_with(what)))
                    .flatten()
            })
            .map(|c| c.id.clone());
        let Some(id) = found else { return false };
        self.view = View::Containers;
        // The filter may hide it; the user asked for this one.
        self.inventory.filter = Filter::default();
        self.inventory.dirty = true;
        self.inventory.selected = Some(id);
        self.inventory.scroll_to_selected = true;
        true
    }

    pub fn set_snapshot(&mut self, s: Arc<Snapshot>) {
        self.last_refresh = s.taken_at;
        // One discovered engine beside clusters: name it by its label.
        if self.primary_label.is_empty() && self.is_fleet() {
            self.primary_label = s.inventory.engine.label.clone();
        }
        self.snapshot = Some(s);
        self.stale = false;
        self.rebuild_rows();
    }

    /// Some rows are Kubernetes workloads (the namespace column and filter).
    pub fn has_namespaces(&self) -> bool {
        self.inventory.rows.iter().any(|r| !r.namespace.is_empty())
    }

    /// The namespaces of the rows, sorted.
    pub fn namespace_names(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .inventory
            .rows
            .iter()
            .filter(|r| !r.namespace.is_empty())
            .map(|r| r.namespace.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Several engines are watched.
    pub fn is_fleet(&self) -> bool {
        !self.others.is_empty()
    }

    /// Every engine's name, the first engine's first (the engine filters'
    /// and selectors' choices; `engine_shown` indexes it).
    pub fn engine_names(&self) -> Vec<String> {
        std::iter::once(self.primary_label.clone())
            .chain(self.others.iter().map(|o| o.label.clone()))
            .collect()
    }

    /// The snapshot of the engine the Engine and Images views show.
    pub fn shown_snapshot(&self) -> Option<Arc<Snapshot>> {
        match self.engine_shown {
            0 => self.snapshot.clone(),
            i => self.others.get(i - 1).and_then(|o| o.snapshot.clone()),
        }
    }

    /// Every engine that has a snapshot, with its name, the first engine's
    /// first.
    pub fn labelled_snapshots(&self) -> Vec<(String, Arc<Snapshot>)> {
        std::iter::once((self.primary_label.clone(), self.snapshot.clone()))
            .chain(
                self.others
                    .iter()
                    .map(|o| (o.label.clone(), o.snapshot.clone())),
            )
            .filter_map(|(label, snap)| Some((label, snap?)))
            .collect()
    }

    /// The findings of every engine watched, counted once each (the status
    /// bar, the tray icon).
    pub fn counts(&self) -> crate::model::SeverityCounts {
        let mut counts = crate::model::SeverityCounts::default();
        for s in self.snapshots() {
            counts.merge(&s.assessment.counts());
        }
        counts
    }

    /// Every engine's snapshot, the first engine's first.
    pub fn snapshots(&self) -> impl Iterator<Item = &Arc<Snapshot>> {
        self.snapshot
            .iter()
            .chain(self.others.iter().filter_map(|o| o.snapshot.as_ref()))
    }

    /// The snapshot holding this container (container ids are unique
    /// across engines).
    pub fn snapshot_of(&self, container_id: &str) -> Option<&Arc<Snapshot>> {
        self.snapshots()
            .find(|s| s.inventory.containers.iter().any(|c| c.id == container_id))
    }

    /// The snapshot holding this image (its engine's, the first engine's
    /// first when several hold the same image).
    pub fn snapshot_of_image(&self, image_id: &str) -> Option<&Arc<Snapshot>> {
        self.snapshots()
            .find(|s| s.inventory.images.iter().any(|i| i.id == image_id))
    }

    /// The inventory's rows from every engine's snapshot.
    fn rebuild_rows(&mut self) {
        let mut rows = Vec::new();
        for s in self.snapshots() {
            let index = crate::model::InventoryIndex::new(&s.inventory);
            rows.extend(
                s.inventory
                    .containers
                    .iter()
                    .map(|c| Row::new(c, s, &index)),
            );
        }
        if !self.is_fleet() {
            for r in &mut rows {
                r.engine.clear();
            }
        }
        self.inventory.rows = rows;
        let rows = &self.inventory.rows;
        self.charts
            .stats
            .retain(|id, _| rows.iter().any(|r| &r.id == id));
        if let Some(sel) = &self.inventory.selected
            && !self.inventory.rows.iter().any(|r| &r.id == sel)
        {
            self.inventory.selected = None;
        }
        self.inventory.dirty = true;
        self.mark_new();
        // "Since the session started" counts from the first assessment of
        // every engine that answers (engines report one after another), each
        // subject from the first assessment that has it complete.
        let every = self.snapshot.is_some()
            && self
                .others
                .iter()
                .all(|o| o.snapshot.is_some() || o.duplicate_of.is_some());
        let mut session = std::mem::take(&mut self.overview.session);
        let (first, current) = {
            let subjects = self.overview_subjects();
            let first = session.observe(&subjects, every);
            (first, crate::report::overview::build(subjects))
        };
        self.overview.session = session;
        if first.is_some() {
            self.overview.first = first;
        }
        self.overview.current = Some(current);
    }

    /// Open the inventory showing only what breaks a rule or feeds a
    /// threat (every other filter cleared).
    pub fn show_in_inventory(
        &mut self,
        seed: Option<crate::model::SeedRule>,
        threat: Option<crate::model::Threat>,
    ) {
        self.inventory.filter = Filter {
            seed,
            threat,
            ..Filter::default()
        };
        self.view = View::Containers;
        self.filter_changed();
    }

    /// What every engine's latest assessment is about.
    fn overview_subjects(&self) -> Vec<crate::report::overview::Subject<'_>> {
        let fleet = self.is_fleet();
        self.snapshots()
            .flat_map(|s| {
                let engine = if fleet {
                    s.inventory.engine.label.as_str()
                } else {
                    ""
                };
                crate::report::overview::subjects(&s.inventory, &s.assessment, engine)
            })
            .collect()
    }

    /// Apply an event from another engine's worker (`slot` in `others`).
    pub fn apply_other(&mut self, slot: usize, ev: Event) {
        let Some(label) = self.others.get(slot).map(|o| o.label.clone()) else {
            return;
        };
        match ev {
            Event::Connecting { attempt } => {
                let o = &mut self.others[slot];
                if !matches!(o.conn, Conn::Down { .. }) || attempt > 1 {
                    o.conn = Conn::Connecting { attempt };
                }
            }
            Event::Connected {
                found_by,
                endpoint,
                api_version,
                engine,
            } => {
                // The same engine reached another way (same ID *and* data
                // root: a copied engine-id file is not the same engine).
                let id_of = |c: &Conn| match c {
                    Conn::Connected { engine, .. } => Some(engine.clone()),
                    _ => None,
                };
                let earlier = std::iter::once((self.primary_label.clone(), id_of(&self.conn)))
                    .chain(
                        self.others[..slot]
                            .iter()
                            .map(|o| (o.label.clone(), id_of(&o.conn))),
                    )
                    .find(|(_, who)| who.as_ref().is_some_and(|w| w.same_engine(&engine)))
                    .map(|(l, _)| l);
                let o = &mut self.others[slot];
                o.duplicate_of = earlier;
                if o.duplicate_of.is_some() {
                    o.snapshot = None;
                }
                o.conn = Conn::Connected {
                    found_by,
                    endpoint,
                    api_version,
                    engine,
                };
                self.rebuild_rows();
            }
            Event::Disconnected { reason, retry_in } => {
                let o = &mut self.others[slot];
                o.conn = Conn::Down {
                    reason,
                    retry_at: Instant::now() + retry_in,
                };
                o.stale = o.snapshot.is_some();
                let ids: Vec<String> = o
                    .snapshot
                    .iter()
                    .flat_map(|s| s.inventory.containers.iter().map(|c| c.id.clone()))
                    .collect();
                for id in ids {
                    if let Some(ring) = self.charts.stats.get_mut(&id) {
                        ring.push_gap();
                    }
                }
            }
            Event::EngineChanged { endpoint, now, .. } => {
                self.notify(
                    format!("Engine {label}: another engine ({now}) now answers at {endpoint}; nothing of the old one is shown."),
                    true,
                );
            }
            // The same engine reached another way: shown once, elsewhere.
            _ if self.others[slot].duplicate_of.is_some() => {}
            Event::Snapshot(s) => {
                let o = &mut self.others[slot];
                o.snapshot = Some(s);
                o.stale = false;
                self.rebuild_rows();
            }
            Event::Warning(text) => self.notify(format!("Engine {label}: {text}"), true),
            // Stats, the timeline and drops are keyed by container or
            // already name their engine: shared with the first engine.
            ev @ (Event::Stats { .. }
            | Event::Sampled { .. }
            | Event::StatsEnded { .. }
            | Event::Activity(_)
            | Event::Dropped { .. }) => self.apply(ev),
            // The host, the audit log and the vulnerability data are the
            // same for every engine: the first engine's worker reports them.
            Event::Posture(points) => self.overview.add_posture(points),
            Event::Host(_)
            | Event::HostInfo(_)
            | Event::Audit(_)
            | Event::VulnDb(_)
            | Event::VulnDbProgress(_)
            | Event::VulnDbUpdateFailed(_)
            | Event::DriftProgress { .. } => {}
        }
    }

    pub fn set_sort(&mut self, col: Column) {
        self.inventory.sort = if self.inventory.sort.0 == col {
            (col, !self.inventory.sort.1)
        } else {
            (col, default_ascending(col))
        };
        self.inventory.dirty = true;
    }

    pub fn filter_changed(&mut self) {
        self.inventory.dirty = true;
    }

    pub fn set_history_minutes(&mut self, minutes: u32) {
        self.settings.history_minutes = minutes;
        let cap = self.settings.history_samples();
        for r in self.charts.stats.values_mut() {
            r.set_capacity(cap);
        }
        self.charts.host.set_capacity(cap);
    }

    /// Latest CPU % and memory of a container, when it streams stats.
    pub fn live(&self, id: &str) -> Option<&StatsPoint> {
        self.charts.stats.get(id).and_then(Ring::latest)
    }

    /// Recompute the visible order when needed. Cheap when nothing changed.
    pub fn refresh_order(&mut self) {
        if !self.inventory.dirty {
            return;
        }
        self.inventory.dirty = false;
        let mut order: Vec<usize> = (0..self.inventory.rows.len())
            .filter(|&i| self.inventory.filter.matches(&self.inventory.rows[i]))
            .collect();
        let (col, asc) = self.inventory.sort;
        let cpu = |r: &Row| self.live(&r.id).map_or(-1.0, |p| p.cpu_pct);
        let mem = |r: &Row| self.live(&r.id).map_or(-1.0, |p| p.mem_bytes);
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.inventory.rows[a], &self.inventory.rows[b]);
            let o = match col {
                Column::Engine => x.engine.cmp(&y.engine),
                Column::Namespace => x.namespace.cmp(&y.namespace),
                Column::Name => x.name.cmp(&y.name),
                Column::Image => x.image.cmp(&y.image),
                Column::State => x.state.cmp(&y.state),
                Column::Risk => x.score.cmp(&y.score),
                Column::Severity => x.highest.cmp(&y.highest).then(x.counts.cmp(&y.counts)),
                Column::Cpu => cpu(x).total_cmp(&cpu(y)),
                Column::Memory => mem(x).total_cmp(&mem(y)),
                Column::Ports => x.ports.cmp(&y.ports),
                Column::User => x.user.cmp(&y.user),
                Column::Uptime => x
                    .started
                    .or(x.created)
                    .cmp(&y.started.or(y.created))
                    .reverse(),
            };
            let o = if asc { o } else { o.reverse() };
            o.then_with(|| x.name.cmp(&y.name))
        });
        self.inventory.order = order;
    }

    pub fn selected_container(&self) -> Option<&Container> {
        let id = self.inventory.selected.as_ref()?;
        self.snapshot_of(id)?
            .inventory
            .containers
            .iter()
            .find(|c| &c.id == id)
    }

    /// Move the selection by `delta` rows in the visible order.
    pub fn move_selection(&mut self, delta: isize) {
        if self.inventory.order.is_empty() {
            return;
        }
        let pos = self.inventory.selected.as_ref().and_then(|id| {
            self.inventory
                .order
                .iter()
                .position(|&i| &self.inventory.rows[i].id == id)
        });
        let next = match pos {
            None => 0,
            Some(p) => {
                (p as isize + delta).clamp(0, self.inventory.order.len() as isize - 1) as usize
            }
        };
        self.inventory.selected = Some(self.inventory.rows[self.inventory.order[next]].id.clone());
        self.inventory.scroll_to_selected = true;
    }

    /// Live charts are on screen (they advance at 1 Hz).
    pub fn charts_visible(&self) -> bool {
        self.view == View::Containers
            && self.inventory.selected.is_some()
            && self.detail_tab == DetailTab::Charts
            && self.charts.paused_at.is_none()
    }

    /// Data age for the top bar.
    pub fn refreshed_ago(&self, now: DateTime<Utc>) -> Option<i64> {
        self.last_refresh.map(|t| (now - t).num_seconds().max(0))
    }
}

fn default_ascending(col: Column) -> bool {
    // Worst / busiest first; names A→Z.
    !matches!(
        col,
        Column::Risk | Column::Severity | Column::Cpu | Column::Memory
    )
}

/// The command palette while it is open (what it shows is `ui::palette`'s).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Palette {
    pub query: String,
    /// Index into the matching entries.
    pub selected: usize,
}
