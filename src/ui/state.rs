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
    /// Real engines and clusters.
    Live,
    /// The demo lab.
    Demo,
}

/// How an engine's connection stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Conn {
    /// Trying to connect.
    Connecting {
        /// The attempt's number, from 1.
        attempt: u32,
    },
    /// Connected.
    Connected {
        /// How its address was found.
        found_by: String,
        /// The address.
        endpoint: String,
        /// The API version agreed.
        api_version: String,
        /// Which engine answered (`/info` ID and data root).
        engine: crate::model::EngineIdentity,
    },
    /// Not reachable.
    Down {
        /// Why, for a person.
        reason: String,
        /// When the next attempt is due.
        retry_at: Instant,
    },
    /// A demo lab engine (nothing to connect to).
    Demo,
}

/// The views of the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The eight rules and seven threats: the first thing the window shows.
    Overview,
    /// The inventory of containers.
    Containers,
    /// The timeline.
    Activity,
    /// Images and their vulnerabilities.
    Images,
    /// The engines and the host.
    Engine,
}

/// The tabs of the container panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailTab {
    /// Findings with evidence, why, attack and fix.
    Risk,
    /// Its settings, as the rules see them.
    Facts,
    /// Its live charts.
    Charts,
    /// The container's own events and exec sessions.
    Activity,
    /// Its hardened version: the changes, what they clear, the command,
    /// the compose service and the diff of its compose file.
    Harden,
}

/// A hardening plan and what it was made from.
#[derive(Debug, Clone)]
pub struct HardenPlan {
    /// The container.
    pub key: RowKey,
    /// The snapshot it was made from.
    pub snapshot: std::sync::Weak<Snapshot>,
    /// What was seen of the container then.
    pub seen: crate::harden::Observed,
    /// The plan.
    pub plan: Arc<crate::harden::Plan>,
}

/// Sortable inventory columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Column {
    /// Which engine (shown when several are watched).
    Engine,
    /// A Kubernetes workload's namespace (shown when a cluster is watched).
    Namespace,
    /// Its Compose project and service (shown when any container has one).
    Project,
    /// Its name.
    Name,
    /// Its image.
    Image,
    /// Its state.
    State,
    /// Its risk score.
    #[default]
    Risk,
    /// Its worst active finding.
    Severity,
    /// Its CPU use.
    Cpu,
    /// Its memory use.
    Memory,
    /// Its published ports.
    Ports,
    /// The user it runs as.
    User,
    /// How long it has run, or its age.
    Uptime,
}

impl Column {
    /// Every column, in display order.
    pub const ALL: [Column; 13] = [
        Self::Engine,
        Self::Namespace,
        Self::Project,
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

    /// The column's heading.
    pub fn title(self) -> &'static str {
        match self {
            Self::Engine => "Engine",
            Self::Namespace => "Namespace",
            Self::Project => "Project",
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
    /// Its engine's place in [`State::engines`].
    pub slot: usize,
    /// Its Kubernetes namespace (empty for an engine's container).
    pub namespace: String,
    /// Its Compose project and service (`shop/api`; empty when Compose
    /// did not create it).
    pub project: String,
    /// The project alone, for the filter.
    pub project_name: String,
    /// The container's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its image reference.
    pub image: String,
    /// Its state.
    pub state: ContainerState,
    /// Its risk score.
    pub score: u8,
    /// Its worst active finding.
    pub highest: Option<Severity>,
    /// Active findings by severity.
    pub counts: SeverityCounts,
    /// Findings a waiver covers.
    pub waived: usize,
    /// Active findings not in the loaded baseline (0 without one).
    pub new_since_baseline: usize,
    /// The user it runs as.
    pub user: String,
    /// Its published ports, as `docker ps` shows them.
    pub ports: String,
    /// When it was created.
    pub created: Option<DateTime<Utc>>,
    /// When it last started.
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
    /// The threats its active findings serve (bit `Threat::index`).
    pub threats: u8,
    /// The checks its active findings come from.
    pub rules: Vec<&'static str>,
    /// Lower-case name, image and labels, for the text filter.
    haystack: String,
}

impl Row {
    /// Which row this is, whatever engine it comes from.
    pub fn key(&self) -> RowKey {
        RowKey::new(self.slot, self.id.clone())
    }

    fn new(
        slot: usize,
        c: &Container,
        snapshot: &Snapshot,
        index: &crate::model::InventoryIndex,
    ) -> Self {
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
            slot,
            namespace: c
                .kube
                .as_ref()
                .map(|w| crate::model::visible(&w.namespace).into_owned())
                .unwrap_or_default(),
            project: c
                .compose()
                .map(|p| crate::model::visible(&p.label()).into_owned())
                .unwrap_or_default(),
            project_name: c
                .compose()
                .map(|p| crate::model::visible(&p.project).into_owned())
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
    /// The text typed into the filter box.
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
    /// Only this Compose project's containers.
    pub project: Option<String>,
    /// Only containers breaking this seed rule (from the Overview).
    pub seed: Option<crate::model::SeedRule>,
    /// Only containers whose findings feed this threat.
    pub threat: Option<crate::model::Threat>,
    /// Only containers with an active finding of this check.
    pub rule: Option<&'static str>,
}

impl Filter {
    /// Whether a row passes the filter.
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
            && self.project.as_ref().is_none_or(|p| &r.project_name == p)
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
    /// What it says.
    pub text: String,
    /// Whether it is an error (shown in red).
    pub error: bool,
}

/// A loaded baseline report, reduced to what the views need.
#[derive(Debug, Clone)]
pub struct BaselineView {
    /// Where it was loaded from.
    pub source: String,
    /// When the baseline was generated.
    pub generated_at: DateTime<Utc>,
    pub(crate) report: Arc<Report>,
}

/// Export dialog choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportChoice {
    /// The format to write.
    pub format: Format,
    /// Only the containers the filters show.
    pub filtered: bool,
}

/// Everything the UI draws. Owned by the UI thread.
pub struct State {
    /// Live or demo.
    pub mode: Mode,
    /// Every engine and cluster watched, each with its connection and
    /// snapshot, in the order they were listed; never empty. Events come
    /// tagged with their place here ([`State::apply`]). What is the same
    /// for every source (the host, the audit log, the vulnerability data)
    /// is reported by the first one's worker.
    pub engines: Vec<EngineSlot>,
    /// Which engine the Engine and Images views detail (an index into
    /// `engines`).
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
    /// When the newest snapshot was read.
    pub last_refresh: Option<DateTime<Utc>>,
    /// The view shown.
    pub view: View,
    /// The container panel's tab.
    pub detail_tab: DetailTab,
    /// Messages for the user, until dismissed.
    pub notices: Vec<Notice>,
    /// The user's settings.
    pub settings: Settings,
    /// Drift check in progress: (done, total).
    pub drift_progress: Option<(usize, usize)>,
    /// Where the audit trail goes, or why there is none.
    pub audit: Option<Result<PathBuf, String>>,
    /// Gone containers the user dismissed (empty: all), for the worker.
    pub pending_dismiss: Option<Vec<String>>,
    /// The last hardening diff worked out: (container id, diff, notes).
    pub harden_diff: Option<(String, String, Vec<String>)>,
    /// The Harden tab's plan, kept while its container's snapshot and what
    /// was seen of it stay the same (the plan judges the container again:
    /// not once a frame).
    pub harden_plan: Option<HardenPlan>,
    /// A different engine answered at a watched endpoint; shown until
    /// the user dismisses it.
    pub engine_changed: Option<EngineChanged>,
    /// The vulnerability database in use, or why there is none (`None`:
    /// not known yet).
    pub vulndb: Option<Result<crate::vulndb::Meta, String>>,
    /// An update in progress.
    pub vulndb_progress: Option<crate::sources::osv::Progress>,
    /// The Containers view.
    pub inventory: InventoryView,
    /// The Activity view.
    pub timeline: Timeline,
    /// The live charts.
    pub charts: Charts,
    /// Which dialogs are open.
    pub dialogs: Dialogs,
    /// The loaded baseline, if any.
    pub baseline: Baseline,
    /// The Images view.
    pub images: ImagesView,
    /// The Overview.
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
    /// Adds posture points (each engine's history), newest last.
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
    /// One row per container of every engine.
    pub rows: Vec<Row>,
    /// Indices into `rows`, filtered and sorted.
    pub order: Vec<usize>,
    /// The sort column and whether it is ascending.
    pub sort: (Column, bool),
    /// The filter.
    pub filter: Filter,
    /// The open container.
    pub selected: Option<RowKey>,
    /// The rows drawn in the last frame, top to bottom.
    pub visible: Vec<RowKey>,
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
    /// The timeline's filter.
    pub filter: ActivityFilter,
    /// Indices into `entries` that pass the filter, newest first.
    pub order: Vec<usize>,
    dirty: bool,
}

/// Live numbers and their history.
#[derive(Debug)]
pub struct Charts {
    /// Each container's chart points.
    pub stats: HashMap<RowKey, Ring<StatsPoint>>,
    /// Containers whose latest stats point is a sample (no live stream).
    pub sampled: HashSet<RowKey>,
    /// The host's chart points.
    pub host: Ring<HostPoint>,
    /// What does not change about the host.
    pub host_info: Option<HostInfo>,
    /// Charts frozen at this time (data keeps arriving).
    pub paused_at: Option<f64>,
}

/// The Settings and Export windows.
#[derive(Debug)]
pub struct Dialogs {
    /// The settings window is open.
    pub show_settings: bool,
    /// The export dialog is open.
    pub show_export: bool,
    /// The export dialog's choices.
    pub export: ExportChoice,
    /// An export is being written.
    pub export_running: bool,
    /// The list of scan warnings is open.
    pub show_warnings: bool,
}

/// A loaded baseline and what is new since it.
#[derive(Debug, Default)]
pub struct Baseline {
    /// The loaded baseline.
    pub view: Option<BaselineView>,
    /// (container, rule id, evidence) of findings new since the baseline.
    pub new_findings: HashSet<(RowKey, String, String)>,
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
    /// Show only vulnerabilities with a released fix.
    pub only_fixable: bool,
    /// Show the ones the distribution rates unimportant.
    pub show_unimportant: bool,
    /// How the image's vulnerabilities are ordered.
    pub sort: VulnSort,
    /// "Fix first": every engine's ranked (container, vulnerability)
    /// pairs, the engine's name with each (made when a snapshot arrives).
    pub fix_first: Vec<(String, crate::report::priorities::PriorityRow)>,
}

/// How many "fix first" rows the Images view keeps.
pub const FIX_FIRST_KEPT: usize = 20;

/// The order of an image's vulnerability list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum VulnSort {
    /// Severity, then package (as matched).
    #[default]
    Severity,
    /// Known exploited first (CISA KEV), then by EPSS.
    Exploited,
    /// By EPSS score, highest first.
    Epss,
}

impl VulnSort {
    /// Every order, as offered.
    pub const ALL: [VulnSort; 3] = [VulnSort::Severity, VulnSort::Exploited, VulnSort::Epss];

    /// Its name in the selector.
    pub fn label(self) -> &'static str {
        match self {
            Self::Severity => "severity",
            Self::Exploited => "known exploited",
            Self::Epss => "EPSS",
        }
    }
}

/// One engine or cluster watched: its connection and latest snapshot.
#[derive(Debug, Clone)]
pub struct EngineSlot {
    /// Its name (the fleet's label or the context; with one engine, the
    /// engine's own label once its first snapshot arrives).
    pub label: String,
    /// The same engine (same `/info` ID) as this earlier one, reached
    /// another way: shown once, there.
    pub duplicate_of: Option<String>,
    /// Its connection.
    pub conn: Conn,
    /// Its latest snapshot.
    pub snapshot: Option<Arc<Snapshot>>,
    /// The snapshot is from before the engine went away.
    pub stale: bool,
}

impl EngineSlot {
    /// A slot for an engine that is still connecting.
    pub fn new(label: String) -> Self {
        Self {
            label,
            duplicate_of: None,
            conn: Conn::Connecting { attempt: 1 },
            snapshot: None,
            stale: false,
        }
    }

    /// A slot of the demo lab (nothing to connect to).
    pub fn demo(label: String) -> Self {
        Self {
            conn: Conn::Demo,
            ..Self::new(label)
        }
    }

    /// Whether this container is in its latest snapshot.
    fn holds(&self, id: &str) -> bool {
        self.snapshot
            .as_ref()
            .is_some_and(|s| s.inventory.containers.iter().any(|c| c.id == id))
    }
}

/// Which row: the engine it comes from (its place in [`State::engines`])
/// and its id there. Two engines may hold the same id (a cloned machine,
/// a restored data root): the window never mixes them up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// The engine's place in [`State::engines`].
    pub engine: usize,
    /// The container's id there.
    pub id: String,
}

impl RowKey {
    /// The key of container `id` on engine `engine`.
    pub fn new(engine: usize, id: impl Into<String>) -> Self {
        Self {
            engine,
            id: id.into(),
        }
    }
}

/// What the banner says when another engine took the watched endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineChanged {
    /// The watched engine's name (empty with one engine).
    pub label: String,
    /// The watched address.
    pub endpoint: String,
    /// The `/info` IDs before and after.
    pub was: String,
    /// The new engine's `/info` ID.
    pub now: String,
    /// What changed, for a person.
    pub detail: String,
    /// When it was seen.
    pub at: DateTime<Utc>,
}

/// Timeline entries kept in the window (the audit log keeps everything).
pub const ACTIVITY_CAP: usize = 20_000;

/// Activity view filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActivityFilter {
    /// Matches the container or object name, the action and the detail.
    pub text: String,
    /// Only this category, or every one.
    pub category: Option<Category>,
    /// Only entries graded at least this bad.
    pub min_severity: Option<Severity>,
    /// Only this engine's entries (by name).
    pub engine: Option<String>,
}

impl ActivityFilter {
    /// Whether an activity passes the filter.
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
    /// One source, not named yet (its label comes with its first snapshot).
    pub fn new(mode: Mode, settings: Settings) -> Self {
        let first = match mode {
            Mode::Demo => EngineSlot::demo(String::new()),
            Mode::Live => EngineSlot::new(String::new()),
        };
        Self::with_engines(mode, settings, vec![first])
    }

    /// Several sources, in this order (each its own worker; see
    /// [`State::apply`]). An empty list is one unnamed source.
    pub fn with_engines(mode: Mode, settings: Settings, mut engines: Vec<EngineSlot>) -> Self {
        if engines.is_empty() {
            engines.push(EngineSlot::new(String::new()));
        }
        let cap = settings.history_samples();
        Self {
            mode,
            engines,
            engine_shown: 0,
            found_engines: Vec::new(),
            found_contexts: Vec::new(),
            alerts_service: None,
            tray_status: None,
            last_refresh: None,
            view: View::Overview,
            detail_tab: DetailTab::Risk,
            notices: Vec::new(),
            settings,
            drift_progress: None,
            audit: None,
            pending_dismiss: None,
            harden_diff: None,
            harden_plan: None,
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
                show_warnings: false,
            },
            baseline: Baseline::default(),
            images: ImagesView::default(),
            overview: OverviewView::default(),
            palette: None,
        }
    }

    /// The first engine watched (the one whose worker reports the host,
    /// the audit log and the vulnerability data).
    pub fn first(&self) -> &EngineSlot {
        &self.engines[0]
    }

    /// Some engine has a snapshot to show.
    pub fn has_data(&self) -> bool {
        self.engines.iter().any(|e| e.snapshot.is_some())
    }

    /// Some engine's snapshot is from before it went away.
    pub fn any_stale(&self) -> bool {
        self.engines.iter().any(|e| e.stale)
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

    /// Call after the timeline's filter changed: recomputes what it shows.
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

    /// A container's own timeline, newest first: its id, from its engine
    /// (an entry names its engine when several are watched).
    pub fn activity_of<'a>(
        &'a self,
        key: &'a RowKey,
    ) -> impl Iterator<Item = &'a Arc<Activity>> + 'a {
        self.timeline
            .entries
            .iter()
            .rev()
            .filter(move |a| self.is_about(a, key))
    }

    /// Whether a timeline entry is about this row's container (an entry
    /// names its engine when several are watched).
    pub fn is_about(&self, a: &Activity, key: &RowKey) -> bool {
        a.container_id.as_deref() == Some(key.id.as_str())
            && (a.engine.is_empty()
                || self
                    .engines
                    .get(key.engine)
                    .is_some_and(|e| e.label == a.engine))
    }

    /// The listed row of a container named by its engine's label (empty
    /// with one engine) and id, if any.
    pub fn row_key(&self, engine: &str, id: &str) -> Option<RowKey> {
        self.inventory
            .rows
            .iter()
            .find(|r| {
                r.id == id
                    && (engine.is_empty()
                        || self.engines.get(r.slot).is_some_and(|e| e.label == engine))
            })
            .map(Row::key)
    }

    /// The listed row a timeline entry is about, if any.
    pub fn row_of(&self, a: &Activity) -> Option<RowKey> {
        let id = a.container_id.as_deref()?;
        self.inventory
            .rows
            .iter()
            .map(Row::key)
            .find(|k| k.id == id && self.is_about(a, k))
    }

    /// Dismiss gone containers without a worker (the demo lab).
    pub fn dismiss_locally(&mut self, ids: &[String]) {
        let drop = |c: &Container| c.gone.is_some() && (ids.is_empty() || ids.contains(&c.id));
        for e in &mut self.engines {
            let Some(s) = &e.snapshot else { continue };
            let mut inventory = s.inventory.clone();
            inventory.containers.retain(|c| !drop(c));
            let mut assessment = s.assessment.clone();
            assessment
                .containers
                .retain(|id, _| inventory.containers.iter().any(|c| &c.id == id));
            e.snapshot = Some(Arc::new(Snapshot {
                inventory,
                assessment,
                taken_at: s.taken_at,
            }));
        }
        self.rebuild_rows();
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

    /// Unloads the baseline.
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
        let Some(b) = &self.baseline.view else {
            return;
        };
        let mut rows = Vec::new();
        let mut keys: Vec<Key> = Vec::new();
        for (slot, s) in self.snapshots_at() {
            for c in &s.inventory.containers {
                for f in s
                    .assessment
                    .container(&c.id)
                    .map_or(&[][..], |a| &a.findings)
                {
                    rows.push(RowKey::new(slot, c.id.clone()));
                    keys.push((
                        format!("container:{}", c.name),
                        f.rule_id.to_string(),
                        f.evidence.clone(),
                    ));
                }
            }
        }
        let (status, _) = baseline::classify(&baseline::keys(&b.report, false), &keys);
        for ((row, (_, rule, evidence)), st) in rows.into_iter().zip(keys).zip(status) {
            if st == Status::New {
                if let Some(r) = self
                    .inventory
                    .rows
                    .iter_mut()
                    .find(|r| r.slot == row.engine && r.id == row.id)
                {
                    r.new_since_baseline += 1;
                }
                self.baseline.new_findings.insert((row, rule, evidence));
            }
        }
    }

    /// Whether this finding of this row is not in the loaded baseline.
    pub fn is_new(&self, row: &RowKey, rule_id: &str, evidence: &str) -> bool {
        self.baseline.new_findings.contains(&(
            row.clone(),
            rule_id.to_string(),
            evidence.to_string(),
        ))
    }

    /// Apply one event from the worker of `engines[slot]`: the one
    /// reducer, whatever the source. What concerns one source changes its
    /// slot; what is the same for every source (the host, the audit log,
    /// the vulnerability data, drift progress) is taken from the first
    /// engine's worker only, so nothing is counted twice.
    pub fn apply(&mut self, slot: usize, ev: Event) {
        if slot >= self.engines.len() {
            return;
        }
        let label = self.engines[slot].label.clone();
        let fleet = self.is_fleet();
        let sampled = matches!(ev, Event::Sampled { .. });
        match ev {
            Event::Connecting { attempt } => {
                let e = &mut self.engines[slot];
                if !matches!(e.conn, Conn::Down { .. }) || attempt > 1 {
                    e.conn = Conn::Connecting { attempt };
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
                let earlier = self.engines[..slot]
                    .iter()
                    .find(|e| match &e.conn {
                        Conn::Connected { engine: who, .. } => who.same_engine(&engine),
                        _ => false,
                    })
                    .map(|e| e.label.clone());
                let e = &mut self.engines[slot];
                e.duplicate_of = earlier;
                if e.duplicate_of.is_some() {
                    e.snapshot = None;
                }
                e.conn = Conn::Connected {
                    found_by,
                    endpoint,
                    api_version,
                    engine,
                };
                self.rebuild_rows();
            }
            Event::EngineChanged {
                endpoint,
                was,
                now,
                detail,
                at,
            } => {
                self.engine_changed = Some(EngineChanged {
                    label: if fleet { label } else { String::new() },
                    endpoint,
                    was,
                    now,
                    detail,
                    at,
                });
                // The old engine's charts and selection say nothing about
                // the new one.
                self.charts.stats.retain(|k, _| k.engine != slot);
                if self
                    .inventory
                    .selected
                    .as_ref()
                    .is_some_and(|k| k.engine == slot)
                {
                    self.inventory.selected = None;
                }
            }
            Event::Disconnected { reason, retry_in } => {
                let e = &mut self.engines[slot];
                e.conn = Conn::Down {
                    reason,
                    retry_at: Instant::now() + retry_in,
                };
                e.stale = e.snapshot.is_some();
                for (k, ring) in &mut self.charts.stats {
                    if k.engine == slot {
                        ring.push_gap();
                    }
                }
            }
            // The same engine reached another way: shown once, elsewhere.
            _ if self.engines[slot].duplicate_of.is_some() => {}
            Event::Snapshot(s) => {
                // The newest data of any engine.
                self.last_refresh = self.last_refresh.max(s.taken_at);
                let e = &mut self.engines[slot];
                // One engine, or one discovered beside clusters: name it.
                if e.label.is_empty() {
                    e.label = s.inventory.engine.label.clone();
                }
                e.snapshot = Some(s);
                e.stale = false;
                self.rebuild_rows();
            }
            Event::Stats { id, point } | Event::Sampled { id, point } => {
                let key = RowKey::new(slot, id);
                if sampled {
                    self.charts.sampled.insert(key.clone());
                } else {
                    self.charts.sampled.remove(&key);
                }
                let cap = self.settings.history_samples();
                self.charts
                    .stats
                    .entry(key)
                    .or_insert_with(|| Ring::new(cap))
                    .push(point);
                if matches!(self.inventory.sort.0, Column::Cpu | Column::Memory) {
                    self.inventory.dirty = true;
                }
            }
            Event::StatsEnded { id } => {
                if let Some(r) = self.charts.stats.get_mut(&RowKey::new(slot, id)) {
                    r.push_gap();
                }
            }
            Event::Warning(text) if fleet => {
                self.notify(format!("Engine {label}: {text}"), true);
            }
            Event::Warning(text) => self.notify(text, true),
            Event::Activity(a) => self.push_activity(a),
            Event::Posture(points) => self.overview.add_posture(points),
            Event::Dropped { activities, stats } => {
                // Shown where the gap is; the audit log has every entry.
                let mut parts = Vec::new();
                if activities > 0 {
                    parts.push(format!("{activities} timeline entries"));
                }
                if stats > 0 {
                    parts.push(format!("{stats} stats readings"));
                }
                let mut a = Activity::own(
                    "not_shown",
                    format!(
                        "{} were not shown here: the window was not keeping up (a flood of \
                         events, or it was minimised). The audit log has every entry.",
                        parts.join(" and ")
                    ),
                    Some(Severity::Low),
                );
                if fleet {
                    a.engine = label;
                }
                self.push_activity(Arc::new(a));
            }
            // The same for every source: the first engine's worker says.
            _ if slot != 0 => {}
            Event::Host(p) => self.charts.host.push(p),
            Event::HostInfo(i) => self.charts.host_info = Some(i),
            Event::DriftProgress { done, total } => {
                self.drift_progress = (done < total).then_some((done, total));
            }
            Event::Audit(a) => self.audit = Some(a),
            Event::VulnDb(meta) => {
                self.vulndb = Some(meta);
                self.vulndb_progress = None;
            }
            Event::VulnDbProgress(p) => self.vulndb_progress = Some(p),
            Event::VulnDbUpdateFailed(msg) => {
                self.vulndb_progress = None;
                self.notify(msg, true);
            }
        }
    }

    /// Adds a message for the user.
    pub fn notify(&mut self, text: String, error: bool) {
        if !self.notices.iter().any(|n| n.text == text) {
            self.notices.push(Notice { text, error });
        }
    }

    /// Open the Containers view on a container, by id, id prefix (at least
    /// 4 characters) or name: a clicked notification, a second launch with
    /// `--show`. False when no engine has it (yet).
    pub fn show_container(&mut self, what: &str) -> bool {
        use crate::model::NameMatch;
        let containers = || {
            self.snapshots_at()
                .flat_map(|(slot, s)| s.inventory.containers.iter().map(move |c| (slot, c)))
        };
        let found = containers()
            .find(|(_, c)| c.answers_to(what) == NameMatch::Exact)
            .or_else(|| containers().find(|(_, c)| c.answers_to(what) == NameMatch::IdPrefix))
            .map(|(slot, c)| RowKey::new(slot, c.id.clone()));
        let Some(key) = found else { return false };
        self.view = View::Containers;
        // The filter may hide it; the user asked for this one.
        self.inventory.filter = Filter::default();
        self.inventory.dirty = true;
        self.inventory.selected = Some(key);
        self.inventory.scroll_to_selected = true;
        true
    }

    /// Some rows are Kubernetes workloads (the namespace column and filter).
    pub fn has_namespaces(&self) -> bool {
        self.inventory.rows.iter().any(|r| !r.namespace.is_empty())
    }

    /// Some rows are containers of a Compose project (the project column
    /// and filter).
    pub fn has_projects(&self) -> bool {
        self.inventory.rows.iter().any(|r| !r.project.is_empty())
    }

    /// The Compose projects of the rows, sorted.
    pub fn project_names(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self
            .inventory
            .rows
            .iter()
            .filter(|r| !r.project_name.is_empty())
            .map(|r| r.project_name.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
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
        self.engines.len() > 1
    }

    /// Every engine's name, in order (the engine filters' and selectors'
    /// choices; `engine_shown` indexes it).
    pub fn engine_names(&self) -> Vec<String> {
        self.engines.iter().map(|e| e.label.clone()).collect()
    }

    /// The snapshot of the engine the Engine and Images views show.
    pub fn shown_snapshot(&self) -> Option<Arc<Snapshot>> {
        self.engines
            .get(self.engine_shown)
            .and_then(|e| e.snapshot.clone())
    }

    /// Every engine that has a snapshot, with its name, in order.
    pub fn labelled_snapshots(&self) -> Vec<(String, Arc<Snapshot>)> {
        self.engines
            .iter()
            .filter_map(|e| Some((e.label.clone(), e.snapshot.clone()?)))
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

    /// Every engine's snapshot, in order.
    pub fn snapshots(&self) -> impl Iterator<Item = &Arc<Snapshot>> {
        self.engines.iter().filter_map(|e| e.snapshot.as_ref())
    }

    /// Every engine's snapshot with its place in `engines`.
    pub fn snapshots_at(&self) -> impl Iterator<Item = (usize, &Arc<Snapshot>)> {
        self.engines
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.snapshot.as_ref()?)))
    }

    /// The snapshot holding this row's container.
    pub fn snapshot_of(&self, key: &RowKey) -> Option<&Arc<Snapshot>> {
        let e = self.engines.get(key.engine)?;
        e.holds(&key.id).then_some(())?;
        e.snapshot.as_ref()
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
        for (slot, s) in self.snapshots_at() {
            let index = crate::model::InventoryIndex::new(&s.inventory);
            rows.extend(
                s.inventory
                    .containers
                    .iter()
                    .map(|c| Row::new(slot, c, s, &index)),
            );
        }
        if !self.is_fleet() {
            for r in &mut rows {
                r.engine.clear();
            }
        }
        self.inventory.rows = rows;
        let engines = &self.engines;
        self.charts
            .stats
            .retain(|k, _| engines.get(k.engine).is_some_and(|e| e.holds(&k.id)));
        if let Some(sel) = &self.inventory.selected
            && !self
                .engines
                .get(sel.engine)
                .is_some_and(|e| e.holds(&sel.id))
        {
            self.inventory.selected = None;
        }
        self.inventory.dirty = true;
        self.mark_new();
        // "Since the session started" counts from the first assessment of
        // every engine that answers (engines report one after another), each
        // subject from the first assessment that has it complete.
        let every = self
            .engines
            .iter()
            .all(|e| e.snapshot.is_some() || e.duplicate_of.is_some());
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
        let mut fix_first: Vec<(String, crate::report::priorities::PriorityRow)> = self
            .engines
            .iter()
            .filter(|e| e.duplicate_of.is_none())
            .filter_map(|e| Some((e.label.clone(), e.snapshot.clone()?)))
            .flat_map(|(label, s)| {
                let mut rows = crate::report::priorities::rank(&s.inventory, &s.assessment);
                rows.truncate(FIX_FIRST_KEPT);
                rows.into_iter().map(move |r| (label.clone(), r))
            })
            .collect();
        fix_first.sort_by_key(|r| std::cmp::Reverse(r.1.score));
        fix_first.truncate(FIX_FIRST_KEPT);
        self.images.fix_first = fix_first;
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

    /// Sorts by this column; choosing it again reverses the order.
    pub fn set_sort(&mut self, col: Column) {
        self.inventory.sort = if self.inventory.sort.0 == col {
            (col, !self.inventory.sort.1)
        } else {
            (col, default_ascending(col))
        };
        self.inventory.dirty = true;
    }

    /// Call after the filter changed: recomputes the visible rows.
    pub fn filter_changed(&mut self) {
        self.inventory.dirty = true;
    }

    /// Sets the chart history length and resizes every ring.
    pub fn set_history_minutes(&mut self, minutes: u32) {
        self.settings.history_minutes = minutes;
        let cap = self.settings.history_samples();
        for r in self.charts.stats.values_mut() {
            r.set_capacity(cap);
        }
        self.charts.host.set_capacity(cap);
    }

    /// Latest CPU % and memory of a container, when it streams stats.
    pub fn live(&self, key: &RowKey) -> Option<&StatsPoint> {
        self.charts.stats.get(key).and_then(Ring::latest)
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
        let live = |r: &Row| self.charts.stats.get(&r.key()).and_then(Ring::latest);
        let cpu = |r: &Row| live(r).map_or(-1.0, |p| p.cpu_pct);
        let mem = |r: &Row| live(r).map_or(-1.0, |p| p.mem_bytes);
        order.sort_by(|&a, &b| {
            let (x, y) = (&self.inventory.rows[a], &self.inventory.rows[b]);
            let o = match col {
                Column::Engine => x.engine.cmp(&y.engine),
                Column::Namespace => x.namespace.cmp(&y.namespace),
                Column::Project => x.project.cmp(&y.project),
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

    /// The open container, from its engine's snapshot.
    pub fn selected_container(&self) -> Option<&Container> {
        let key = self.inventory.selected.as_ref()?;
        self.snapshot_of(key)?
            .inventory
            .containers
            .iter()
            .find(|c| c.id == key.id)
    }

    /// Move the selection by `delta` rows in the visible order.
    pub fn move_selection(&mut self, delta: isize) {
        if self.inventory.order.is_empty() {
            return;
        }
        let pos = self.inventory.selected.as_ref().and_then(|key| {
            self.inventory.order.iter().position(|&i| {
                let r = &self.inventory.rows[i];
                r.slot == key.engine && r.id == key.id
            })
        });
        let next = match pos {
            None => 0,
            Some(p) => {
                (p as isize + delta).clamp(0, self.inventory.order.len() as isize - 1) as usize
            }
        };
        self.inventory.selected = Some(self.inventory.rows[self.inventory.order[next]].key());
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
    /// What is typed.
    pub query: String,
    /// Index into the matching entries.
    pub selected: usize,
}

#[cfg(test)]
mod tests {
    //! The one reducer: every source in one list, events applied to the
    //! slot they come from, rows keyed by (engine, id).
    use super::*;
    use crate::model::{EngineIdentity, Inventory};

    fn container(id: &str, name: &str) -> Container {
        Container {
            id: id.into(),
            name: name.into(),
            image: "img".into(),
            state: ContainerState::Running,
            ..Container::default()
        }
    }

    /// A snapshot of an engine labelled `label` holding these containers.
    fn snapshot(label: &str, containers: &[(&str, &str)]) -> Event {
        let mut inventory = Inventory::default();
        inventory.engine.label = label.into();
        inventory.containers = containers
            .iter()
            .map(|(id, name)| container(id, name))
            .collect();
        let assessment = crate::assess::assess(
            &inventory,
            &crate::model::policy::Policy::default(),
            Utc::now(),
        );
        Event::Snapshot(Arc::new(Snapshot {
            inventory,
            assessment,
            taken_at: Some(Utc::now()),
        }))
    }

    fn connected(id: &str, root: &str) -> Event {
        Event::Connected {
            found_by: "test".into(),
            endpoint: format!("unix:///{id}.sock"),
            api_version: "1.41".into(),
            engine: EngineIdentity {
                id: id.into(),
                root: root.into(),
                name: id.into(),
            },
        }
    }

    fn stats(id: &str, cpu: f32) -> Event {
        Event::Stats {
            id: id.into(),
            point: StatsPoint {
                cpu_pct: cpu,
                ..StatsPoint::default()
            },
        }
    }

    fn two(labels: [&str; 2]) -> State {
        State::with_engines(
            Mode::Live,
            Settings::default(),
            labels
                .iter()
                .map(|l| EngineSlot::new((*l).into()))
                .collect(),
        )
    }

    #[test]
    fn one_source_is_named_by_its_first_snapshot() {
        let mut s = State::new(Mode::Live, Settings::default());
        assert_eq!(s.engines.len(), 1);
        assert!(!s.is_fleet());
        s.apply(0, snapshot("laptop", &[("a", "web")]));
        assert_eq!(s.engines[0].label, "laptop");
        assert_eq!(s.inventory.rows.len(), 1);
        assert_eq!(
            s.inventory.rows[0].engine, "",
            "no engine column with one engine"
        );
        assert_eq!(s.inventory.rows[0].key(), RowKey::new(0, "a"));
    }

    #[test]
    fn the_same_id_on_two_engines_is_two_rows_that_never_mix() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("same", "web")]));
        s.apply(1, snapshot("podman", &[("same", "db")]));
        let keys: Vec<RowKey> = s.inventory.rows.iter().map(Row::key).collect();
        assert_eq!(keys, [RowKey::new(0, "same"), RowKey::new(1, "same")]);
        assert_eq!(s.inventory.rows[1].engine, "podman");

        // Stats from the second engine's worker go to its row only.
        s.apply(1, stats("same", 42.0));
        assert_eq!(
            s.live(&RowKey::new(1, "same")).map(|p| p.cpu_pct),
            Some(42.0)
        );
        assert!(s.live(&RowKey::new(0, "same")).is_none());

        // Selecting the second one opens the second one.
        s.inventory.selected = Some(RowKey::new(1, "same"));
        assert_eq!(s.selected_container().map(|c| c.name.as_str()), Some("db"));
        s.inventory.selected = Some(RowKey::new(0, "same"));
        assert_eq!(s.selected_container().map(|c| c.name.as_str()), Some("web"));
    }

    #[test]
    fn an_engine_going_down_marks_only_its_own_rows() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("a", "web")]));
        s.apply(1, snapshot("podman", &[("b", "db")]));
        s.apply(0, stats("a", 1.0));
        s.apply(1, stats("b", 2.0));
        s.apply(
            1,
            Event::Disconnected {
                reason: "gone".into(),
                retry_in: std::time::Duration::from_secs(5),
            },
        );
        assert!(matches!(s.engines[1].conn, Conn::Down { .. }));
        assert!(s.engines[1].stale);
        assert!(!s.engines[0].stale);
        assert!(matches!(s.engines[0].conn, Conn::Connecting { .. }));
        // The rows stay (engine down is never "no containers").
        assert_eq!(s.inventory.rows.len(), 2);
        // A gap in the down engine's chart only.
        let len = |k: RowKey| s.charts.stats[&k].len();
        assert_eq!(len(RowKey::new(1, "b")), 2, "a point and a gap");
        assert_eq!(len(RowKey::new(0, "a")), 1);
        // Back: fresh again.
        s.apply(1, snapshot("podman", &[("b", "db")]));
        assert!(!s.engines[1].stale);
    }

    #[test]
    fn the_same_engine_reached_twice_is_shown_once() {
        let mut s = two(["socket", "tcp"]);
        s.apply(0, connected("ENGINE", "/var/lib/docker"));
        s.apply(0, snapshot("socket", &[("a", "web")]));
        s.apply(1, connected("ENGINE", "/var/lib/docker"));
        s.apply(1, snapshot("tcp", &[("a", "web")]));
        assert_eq!(s.engines[1].duplicate_of.as_deref(), Some("socket"));
        assert!(s.engines[1].snapshot.is_none());
        assert_eq!(s.inventory.rows.len(), 1);
        // A copied engine ID with another data root is another engine.
        let mut s = two(["socket", "tcp"]);
        s.apply(0, connected("ENGINE", "/var/lib/docker"));
        s.apply(1, connected("ENGINE", "/srv/docker"));
        s.apply(1, snapshot("tcp", &[("a", "web")]));
        assert_eq!(s.engines[1].duplicate_of, None);
        assert_eq!(s.inventory.rows.len(), 1);
    }

    #[test]
    fn what_every_source_shares_is_taken_from_the_first_only() {
        let mut s = two(["docker", "cluster"]);
        let host = |cpu| {
            Event::Host(HostPoint {
                t: 1.0,
                cpu_pct: cpu,
                mem_used: 0.0,
                mem_total: 0.0,
                load1: 0.0,
            })
        };
        s.apply(1, host(99.0));
        s.apply(1, Event::DriftProgress { done: 1, total: 9 });
        s.apply(1, Event::Audit(Err("not mine".into())));
        assert_eq!(s.charts.host.len(), 0);
        assert_eq!(s.drift_progress, None);
        assert!(s.audit.is_none());
        s.apply(0, host(5.0));
        s.apply(0, Event::Audit(Err("mine".into())));
        assert_eq!(s.charts.host.len(), 1);
        assert_eq!(s.audit, Some(Err("mine".into())));
        // A warning names the engine it comes from.
        s.apply(1, Event::Warning("slow".into()));
        assert_eq!(s.notices[0].text, "Engine cluster: slow");
    }

    #[test]
    fn another_engine_at_an_address_clears_only_that_engines_charts() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("a", "web")]));
        s.apply(1, snapshot("podman", &[("b", "db")]));
        s.apply(0, stats("a", 1.0));
        s.apply(1, stats("b", 2.0));
        s.inventory.selected = Some(RowKey::new(1, "b"));
        s.apply(
            1,
            Event::EngineChanged {
                endpoint: "unix:///p.sock".into(),
                was: "OLD".into(),
                now: "NEW".into(),
                detail: "another engine".into(),
                at: Utc::now(),
            },
        );
        assert_eq!(
            s.engine_changed.as_ref().map(|c| c.label.as_str()),
            Some("podman")
        );
        assert!(s.charts.stats.contains_key(&RowKey::new(0, "a")));
        assert!(!s.charts.stats.contains_key(&RowKey::new(1, "b")));
        assert_eq!(s.inventory.selected, None);
    }

    #[test]
    fn a_containers_timeline_is_its_own_engines() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("same", "web")]));
        s.apply(1, snapshot("podman", &[("same", "db")]));
        let entry = |engine: &str| {
            let mut a = Activity::own("start", "started", None);
            a.container_id = Some("same".into());
            a.engine = engine.into();
            Event::Activity(Arc::new(a))
        };
        s.apply(1, entry("podman"));
        s.apply(1, entry("podman"));
        s.apply(0, entry("docker"));
        assert_eq!(s.activity_of(&RowKey::new(1, "same")).count(), 2);
        assert_eq!(s.activity_of(&RowKey::new(0, "same")).count(), 1);
        let last = s.timeline.entries.back().cloned();
        assert_eq!(
            last.and_then(|a| s.row_of(&a)),
            Some(RowKey::new(0, "same"))
        );
    }

    #[test]
    fn show_container_finds_it_on_any_engine_and_clears_the_filter() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("aaaa1111", "web")]));
        s.apply(1, snapshot("podman", &[("bbbb2222", "db")]));
        s.inventory.filter.text = "nothing matches".into();
        assert!(s.show_container("/db"));
        assert_eq!(s.inventory.selected, Some(RowKey::new(1, "bbbb2222")));
        assert_eq!(s.inventory.filter, Filter::default());
        assert!(s.show_container("bbbb"));
        assert!(!s.show_container("bbb"), "a prefix needs 4 characters");
        assert!(!s.show_container("nobody"));
    }

    #[test]
    fn events_for_a_slot_that_does_not_exist_change_nothing() {
        let mut s = two(["docker", "podman"]);
        s.apply(7, snapshot("ghost", &[("g", "ghost")]));
        assert!(s.inventory.rows.is_empty());
        assert!(!s.has_data());
    }

    #[test]
    fn sorting_and_selection_move_over_every_engines_rows() {
        let mut s = two(["docker", "podman"]);
        s.apply(0, snapshot("docker", &[("a", "b-web")]));
        s.apply(1, snapshot("podman", &[("b", "a-db")]));
        s.set_sort(Column::Name);
        s.refresh_order();
        let names: Vec<&str> = s
            .inventory
            .order
            .iter()
            .map(|&i| s.inventory.rows[i].name.as_str())
            .collect();
        assert_eq!(names, ["a-db", "b-web"]);
        s.move_selection(1);
        assert_eq!(s.inventory.selected, Some(RowKey::new(1, "b")));
        s.move_selection(1);
        assert_eq!(s.inventory.selected, Some(RowKey::new(0, "a")));
        s.move_selection(5);
        assert_eq!(s.inventory.selected, Some(RowKey::new(0, "a")), "clamped");
    }
}
