//! The check catalogue.
//!
//! Every check is one [`Rule`]: static metadata (id, title, severity, CIS id,
//! seed rule, why, attack, fix, references) plus a pure check function over
//! model data. [`ALL`] is the one registry: the scanner, the GUI, the reports
//! and the rule docs all read from it. Rule ids are stable forever (SARIF
//! `ruleId`, HTML anchors and policy waivers use them).
//!
//! Each rule file keeps its tests right after its rules, with cases that must
//! fire and cases that must not.

pub mod docs;
pub mod engine;
pub mod explain;
pub mod fields;
pub mod health;
pub mod images;
pub mod kube;
pub mod mounts;
pub mod namespaces;
pub mod network;
pub mod observed;
pub mod policy;
pub mod privileges;
pub mod procs;
pub mod provenance;
pub mod resources;
pub mod runtime;
pub mod score;
pub mod secrets;
pub mod steps;
pub mod threats;
pub mod vulns;

#[cfg(test)]
pub(crate) mod testing;

use chrono::{DateTime, Utc};

use crate::model::policy::Policy;
use crate::model::{Container, EngineInfo, Image, Inventory, SeedRule, Severity};

/// What a check may look at besides its subject.
pub struct Ctx<'a> {
    /// The snapshot's inventory.
    pub inventory: &'a Inventory,
    /// Lookups over `inventory`, built once.
    pub index: &'a crate::model::InventoryIndex<'a>,
    /// The policy in force.
    pub policy: &'a Policy,
    /// "Now", passed in so checks stay pure and testable.
    pub now: DateTime<Utc>,
}

/// Root in this container is not root on the host: the engine is rootless,
/// or it remaps user namespaces and the container did not opt out. Says
/// why, for the evidence.
pub fn contained_root(ctx: &Ctx, c: &Container) -> Option<&'static str> {
    let sec = &ctx.inventory.engine.security;
    if sec.rootless {
        Some("rootless engine: root in the container is your own user on the host")
    } else if sec.userns && c.userns_mode != "host" && !c.privileged {
        Some("user namespaces remapped: root in the container is an unprivileged uid on the host")
    } else {
        None
    }
}

/// A namespace mode as it really is: `container:<id>` followed through the
/// containers it joins (what a container joins, it inherits). `via` names
/// the containers on the way, first hop first; empty when the container
/// has the namespace itself. At most 8 hops; a loop or a container that is
/// not in the inventory stops the walk at the last mode seen.
pub struct Joined<'a> {
    /// The mode as written (`container:<x>`).
    pub mode: &'a str,
    /// The containers it joins, following `container:` chains.
    pub via: Vec<&'a Container>,
}

impl Joined<'_> {
    /// `` (through container a, which joins b)`` for evidence.
    pub fn describe(&self) -> String {
        match self.via.as_slice() {
            [] => String::new(),
            [one] => format!(" (through container {})", one.name),
            more => format!(
                " (through containers {})",
                more.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" → ")
            ),
        }
    }
}

/// The namespaces one container can join of another's.
#[derive(Debug, Clone, Copy)]
pub enum Ns {
    /// The network namespace.
    Network,
    /// The PID namespace.
    Pid,
    /// The IPC namespace.
    Ipc,
}

impl Ns {
    /// The container's mode for this namespace.
    pub fn mode(self, c: &Container) -> &str {
        match self {
            Self::Network => &c.network_mode,
            Self::Pid => &c.pid_mode,
            Self::Ipc => &c.ipc_mode,
        }
    }

    /// The setting, for evidence.
    pub fn setting(self) -> crate::model::Setting {
        use crate::model::Setting;
        match self {
            Self::Network => Setting::NetworkNs,
            Self::Pid => Setting::PidNs,
            Self::Ipc => Setting::IpcNs,
        }
    }

    /// The hit of the rule "shares the host's `namespace`", if any.
    pub fn host_hits(self, ctx: &Ctx, c: &Container) -> Vec<Hit> {
        self.host_evidence(ctx, c)
            .map(Hit::new)
            .into_iter()
            .collect()
    }

    /// Evidence that the container has the host's namespace, itself or
    /// through the containers it joins; `None` when it does not.
    pub fn host_evidence(self, ctx: &Ctx, c: &Container) -> Option<String> {
        let j = joined(ctx, c, self);
        let field = c.source.field(self.setting());
        (j.mode == "host").then(|| match j.via.last() {
            // A pod spec says it with a boolean.
            None if c.source == crate::model::Source::Kubernetes => format!("{field} is true"),
            None => format!("{field} is host"),
            Some(last) => format!(
                "{} joins container {}{}, whose namespace is the host's",
                field,
                last.name,
                if j.via.len() > 1 {
                    j.describe()
                } else {
                    String::new()
                }
            ),
        })
    }
}

/// The containers whose namespace `c` joins, through `container:` modes.
pub fn joined<'a>(ctx: &Ctx<'a>, c: &'a Container, ns: Ns) -> Joined<'a> {
    let mode_of = |c: &'a Container| ns.mode(c);
    let mut mode = mode_of(c);
    let mut via: Vec<&'a Container> = Vec::new();
    while let Some(target) = mode.strip_prefix("container:") {
        if via.len() >= 8 || target.is_empty() {
            break;
        }
        // The engine stores the full id; a name or an id prefix only from
        // other sources (the prefix needs a walk, so it comes last).
        let Some(t) = ctx.index.container(target).or_else(|| {
            (target.len() >= 12)
                .then(|| {
                    ctx.inventory
                        .containers
                        .iter()
                        .find(|o| o.id.starts_with(target))
                })
                .flatten()
        }) else {
            break;
        };
        if t.id == c.id || via.iter().any(|v| v.id == t.id) {
            break;
        }
        via.push(t);
        mode = mode_of(t);
    }
    Joined { mode, via }
}

/// The engine enforces AppArmor and this container runs under a profile.
/// Without it (or SELinux), several capabilities go straight to the host.
pub fn apparmor_confined(ctx: &Ctx, c: &Container) -> bool {
    ctx.inventory.engine.security.apparmor
        && !c.privileged
        && c.apparmor_profile != "unconfined"
        && !c
            .security_opts()
            .any(|(k, v)| k == "apparmor" && v == "unconfined")
}

/// The engine enforces SELinux and this container keeps its label.
pub fn selinux_confined(ctx: &Ctx, c: &Container) -> bool {
    ctx.inventory.engine.security.selinux
        && !c.privileged
        && !c
            .security_opts()
            .any(|(k, v)| k == "label" && (v == "disable" || v.starts_with("type:spc_t")))
}

/// One reason a rule fired. `severity` overrides the rule's default when a
/// rule grades its own hits (a read-only mount is less bad than read-write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What was seen, for a person (never a secret's value).
    pub evidence: String,
    /// A severity for this hit instead of the rule's.
    pub severity: Option<Severity>,
}

impl Hit {
    /// A hit at the rule's severity.
    pub fn new(evidence: impl Into<String>) -> Self {
        Self {
            evidence: evidence.into(),
            severity: None,
        }
    }

    /// A hit at its own severity.
    pub fn graded(severity: Severity, evidence: impl Into<String>) -> Self {
        Self {
            evidence: evidence.into(),
            severity: Some(severity),
        }
    }
}

/// The subject a rule looks at, and its check function.
#[derive(Clone, Copy)]
pub enum Check {
    /// Decides on a container's facts, whatever its source.
    Container(fn(&Ctx, &Container) -> Vec<Hit>),
    /// Decides on an image.
    Image(fn(&Ctx, &Image) -> Vec<Hit>),
    /// Decides on the engine.
    Engine(fn(&Ctx, &EngineInfo) -> Vec<Hit>),
    /// Raised by the policy evaluation itself, not by a check function.
    Policy,
    /// A container rule only Kubernetes pod specs have: checked on the
    /// workload's pod-spec facts besides the container's.
    Workload(fn(&Ctx, &Container, &crate::model::kube::Workload) -> Vec<Hit>),
}

impl Check {
    /// What the check is about (`container`, `image`, `engine`, …), for the docs.
    pub fn scope(&self) -> &'static str {
        match self {
            Self::Container(_) | Self::Workload(_) => "container",
            Self::Image(_) => "image",
            Self::Engine(_) => "engine",
            Self::Policy => "policy",
        }
    }
}

/// Which part of the configuration a rule is about (for grouping in views).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// Privileges and capabilities.
    Privileges,
    /// Namespaces.
    Namespaces,
    /// Mounts.
    Mounts,
    /// Network.
    Network,
    /// Resource limits.
    Resources,
    /// Health and logging.
    Health,
    /// Where the image comes from.
    Provenance,
    /// Images.
    Images,
    /// Secrets.
    Secrets,
    /// Known vulnerabilities of installed packages (rule 1).
    Vulnerabilities,
    /// What happened after start: exec sessions, filesystem drift.
    Runtime,
    /// The engine.
    Engine,
    /// The policy file.
    Policy,
}

impl Family {
    /// The family's heading.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privileges => "privileges",
            Self::Namespaces => "namespaces",
            Self::Mounts => "mounts",
            Self::Network => "network",
            Self::Resources => "resources",
            Self::Health => "health",
            Self::Provenance => "provenance",
            Self::Images => "images",
            Self::Secrets => "secrets",
            Self::Vulnerabilities => "vulnerabilities",
            Self::Runtime => "runtime",
            Self::Engine => "engine",
            Self::Policy => "policy",
        }
    }
}

/// How to fix it: in words, as a `docker run` flag, as a compose key, and
/// as the field of a Kubernetes pod spec.
#[derive(Debug, Clone, Copy)]
pub struct Fix {
    /// The fix in one sentence.
    pub summary: &'static str,
    /// The `docker run` flag(s), or "" when the fix is not a run flag.
    pub run: &'static str,
    /// The compose-file key(s), or "" when there is none.
    pub compose: &'static str,
    /// The Kubernetes YAML field(s) to set, or "" when the rule does not
    /// apply to Kubernetes workloads ([`Rule::check_container`]).
    pub kube: &'static str,
}

/// One check with everything a person needs to understand and fix it.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Stable forever: `container.privileged`, `image.root-user`, …
    pub id: &'static str,
    /// The rule's title.
    pub title: &'static str,
    /// Default severity (a rule may grade individual hits, and the policy
    /// file may override it).
    pub severity: Severity,
    /// The family it is listed under.
    pub family: Family,
    /// CIS Docker Benchmark 1.6 id, where one exists.
    pub cis: Option<&'static str>,
    /// The seed rule it serves.
    pub seed: SeedRule,
    /// Why it matters.
    pub why: &'static str,
    /// How an attacker uses it.
    pub attack: &'static str,
    /// How to fix it, per source.
    pub fix: Fix,
    /// Where to read more.
    pub references: &'static [&'static str],
    /// What it decides on, and how.
    pub check: Check,
}

impl Rule {
    /// The hits of this rule on one container, from whichever source
    /// filled it: `None` when the rule does not apply there. A container
    /// rule applies to a Kubernetes workload exactly when it has a
    /// [`Fix::kube`] (restart policies, log drivers or the default bridge
    /// are decided elsewhere in a cluster); a workload rule only to one.
    pub fn check_container(&self, ctx: &Ctx, c: &Container) -> Option<Vec<Hit>> {
        match (self.check, c.kube.as_deref()) {
            (Check::Container(f), None) => Some(f(ctx, c)),
            (Check::Container(f), Some(_)) => (!self.fix.kube.is_empty()).then(|| f(ctx, c)),
            (Check::Workload(f), Some(w)) => Some(f(ctx, c, w)),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The registry: every rule shipshape knows, in catalogue order.
pub const ALL: &[&Rule] = &[
    // Privileges (seed rule 4)
    &privileges::ROOT_USER,
    &privileges::PRIVILEGED,
    &privileges::CAP_ADD,
    &privileges::HOST_TAKEOVER,
    &privileges::SECCOMP_UNCONFINED,
    &privileges::NO_NEW_PRIVILEGES,
    &privileges::APPARMOR,
    &privileges::SELINUX,
    &privileges::HOST_DEVICES,
    &privileges::DEVICE_CGROUP_RULE,
    &privileges::GPU_ACCESS,
    &privileges::UNMASKED_PATHS,
    &privileges::SSHD,
    &kube::CAPS_NOT_DROPPED,
    // Namespaces
    &namespaces::HOST_PID,
    &namespaces::HOST_IPC,
    &namespaces::HOST_UTS,
    &namespaces::HOST_USERNS,
    &namespaces::JOINS_NAMESPACE,
    &namespaces::CGROUPNS_HOST,
    &namespaces::SYSCTLS,
    // Mounts and filesystem
    &mounts::ENGINE_SOCKET,
    &mounts::SENSITIVE_MOUNT,
    &mounts::SENSITIVE_MOUNT_EXTRA,
    &mounts::HOST_SOCKET,
    &mounts::SHARED_PROPAGATION,
    &mounts::WRITABLE_ROOTFS,
    &kube::HOST_PATH,
    // Network
    &network::HOST_NETWORK,
    &network::PRIVILEGED_PORT,
    &network::PUBLISHED_PORTS,
    &network::ALL_INTERFACES,
    &network::DEFAULT_BRIDGE,
    // Network, as observed (sockets read in each container's namespace)
    &observed::LATERAL_CONNECTION,
    &observed::REACHES_HOST,
    &observed::DEFAULT_BRIDGE_TALK,
    &observed::SUSPICIOUS_PORT,
    &observed::UNPUBLISHED_LISTENER,
    // Resources (denial of service)
    &resources::NO_MEMORY_LIMIT,
    &resources::NO_CPU_LIMIT,
    &resources::NO_PIDS_LIMIT,
    &resources::RESTART_POLICY,
    &resources::CGROUP_PARENT,
    &resources::OOM_KILL_DISABLED,
    &resources::OOM_SCORE_ADJ,
    &resources::ULIMITS,
    // Health and monitoring
    &health::NO_HEALTHCHECK,
    &health::LOGGING_DISABLED,
    &health::LOG_UNBOUNDED,
    // Provenance of the image a container runs
    &provenance::MUTABLE_IMAGE_REF,
    &provenance::STALE_IMAGE,
    &provenance::UNAPPROVED_IMAGE,
    &provenance::IMAGE_SIGNATURE,
    // Secrets
    &secrets::CONTAINER_SECRET_ENV,
    &secrets::IMAGE_SECRET,
    &secrets::CONTAINER_SECRET_CONFIG,
    &secrets::IMAGE_SECRET_CONFIG,
    &secrets::IMAGE_SECRET_FILE,
    &kube::SERVICE_ACCOUNT_TOKEN,
    // Runtime: exec sessions and drift
    &runtime::EXEC_PRIVILEGED,
    &runtime::EXEC_ROOT,
    &runtime::DRIFT_PROGRAM,
    &runtime::DRIFT_SENSITIVE,
    // Runtime: what the processes inside do
    &procs::SHELL_FROM_SERVICE,
    &procs::PACKAGE_MANAGER_RUN,
    &procs::NETWORK_TOOL_RUN,
    &procs::RUN_FROM_SCRATCH,
    &procs::SOCKET_STDIO,
    &procs::ROOT_PROCESS,
    // Vulnerabilities (seed rule 1)
    &vulns::KNOWN_VULNERABILITIES,
    &vulns::CONTAINER_VULNERABILITIES,
    &vulns::NOT_ASSESSED,
    &vulns::END_OF_LIFE,
    // Images
    &images::ROOT_USER,
    &images::NO_HEALTHCHECK,
    &images::UPDATE_ALONE,
    &images::ADD_INSTEAD_OF_COPY,
    &steps::UNVERIFIED_DOWNLOAD,
    &steps::SIGNATURE_CHECKS_OFF,
    &images::OLD_IMAGE,
    &images::DANGLING,
    &images::UNUSED,
    &vulns::SETUID_FILES,
    &vulns::WORLD_WRITABLE,
    // Engine
    &engine::NOT_ROOTLESS,
    &engine::ICC,
    &engine::INSECURE_REGISTRY,
    &engine::TCP_WITHOUT_TLS,
    &engine::NO_USERNS,
    &engine::CGROUPNS_HOST_DEFAULT,
    &engine::NO_AUTHZ_PLUGIN,
    &engine::LOCAL_LOGGING,
    &engine::NO_DAEMON_NNP,
    &engine::NO_LIVE_RESTORE,
    &engine::EXPERIMENTAL,
    &engine::OLD_VERSION,
    &engine::NO_CONTENT_TRUST,
    &engine::SWARM,
    &engine::NO_MAC,
    &engine::WARNINGS,
    &engine::DEBUG,
    &engine::SECCOMP_OFF,
    // Policy
    &policy::WAIVER_EXPIRED,
];

/// Look a rule up by its id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    // Asked once per finding by the views and the assessment: an index,
    // not a walk of the catalogue.
    static INDEX: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static Rule>> =
        std::sync::LazyLock::new(|| ALL.iter().map(|r| (r.id, *r)).collect());
    INDEX.get(id).copied()
}

#[cfg(test)]
mod registry_tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for r in ALL {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            let (scope, name) = r.id.split_once('.').expect("id is scope.name");
            assert_eq!(scope, r.check.scope(), "{} is in the wrong scope", r.id);
            assert!(
                !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                r.id
            );
        }
    }

    #[test]
    fn every_rule_explains_itself() {
        for r in ALL {
            assert!(r.title.len() > 5, "{} has no title", r.id);
            assert!(r.why.len() > 40, "{} has no real why", r.id);
            assert!(r.attack.len() > 30, "{} has no attack", r.id);
            assert!(r.fix.summary.len() > 10, "{} has no remediation", r.id);
            assert!(!r.references.is_empty(), "{} has no references", r.id);
            if matches!(r.check, Check::Container(_)) {
                assert!(
                    !r.fix.run.is_empty() || !r.fix.compose.is_empty(),
                    "{} is a container rule without a run flag or compose key",
                    r.id
                );
            }
            if matches!(r.check, Check::Workload(_)) {
                assert!(!r.fix.kube.is_empty(), "{} has no Kubernetes fix", r.id);
            }
        }
    }

    #[test]
    fn cis_ids_look_like_cis_ids() {
        for r in ALL {
            if let Some(cis) = r.cis {
                assert!(
                    cis.split('.').all(|p| p.parse::<u32>().is_ok()),
                    "{}: bad CIS id {cis}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn every_seed_rule_is_served() {
        for seed in SeedRule::ALL {
            assert!(
                ALL.iter().any(|r| r.seed == seed),
                "no rule serves seed rule {seed:?}"
            );
        }
    }

    #[test]
    fn lookup_by_id() {
        assert_eq!(
            by_id("container.privileged").map(|r| r.cis),
            Some(Some("5.5"))
        );
        assert!(by_id("nope").is_none());
    }
}
