//! What a Kubernetes cluster told us about one workload's container:
//! plain data, filled by `sources::kube` from Pod specs, read by
//! `rules::kube`, the views and the reports. Nothing here knows about
//! kube-rs or k8s-openapi, so it exists with or without the `kube` feature.
//!
//! A [`crate::model::Container`] of a cluster stands for one container of
//! one workload (all its pods): 30 replicas of a Deployment are one
//! inventory row and give one finding each, which says "30 pods".

use std::collections::BTreeMap;

/// What owns the pods: the object a person edits to fix them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum WorkloadKind {
    /// A Deployment (through its ReplicaSets).
    Deployment,
    /// A StatefulSet.
    StatefulSet,
    /// A DaemonSet.
    DaemonSet,
    /// A Job.
    Job,
    /// A CronJob.
    CronJob,
    /// A ReplicaSet no Deployment owns.
    ReplicaSet,
    /// A ReplicationController.
    ReplicationController,
    /// A pod nothing owns (or something shipshape does not know).
    #[default]
    Pod,
}

impl WorkloadKind {
    /// The kind's name as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "Deployment",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::Job => "Job",
            Self::CronJob => "CronJob",
            Self::ReplicaSet => "ReplicaSet",
            Self::ReplicationController => "ReplicationController",
            Self::Pod => "Pod",
        }
    }

    /// Lower case, for names and waiver targets (`shop/deployment/web`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Deployment => "deployment",
            Self::StatefulSet => "statefulset",
            Self::DaemonSet => "daemonset",
            Self::Job => "job",
            Self::CronJob => "cronjob",
            Self::ReplicaSet => "replicaset",
            Self::ReplicationController => "replicationcontroller",
            Self::Pod => "pod",
        }
    }

    /// Where the pod spec sits in this kind's YAML (for fixes).
    pub fn spec_path(self) -> &'static str {
        match self {
            Self::Pod => "spec",
            Self::CronJob => "spec.jobTemplate.spec.template.spec",
            _ => "spec.template.spec",
        }
    }

    /// Runs to completion: a liveness probe is not expected.
    pub fn runs_to_completion(self) -> bool {
        matches!(self, Self::Job | Self::CronJob)
    }
}

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ContainerRole {
    /// A regular container of the pod.
    #[default]
    Container,
    /// An init container.
    Init,
    /// Added to a running pod by `kubectl debug`.
    Ephemeral,
}

impl ContainerRole {
    /// `container` or `init`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Init => "init container",
            Self::Ephemeral => "ephemeral container",
        }
    }

    /// The pod spec's field for this list.
    pub fn field(self) -> &'static str {
        match self {
            Self::Container => "containers",
            Self::Init => "initContainers",
            Self::Ephemeral => "ephemeralContainers",
        }
    }
}

/// A Pod Security Standards level.
/// <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PssLevel {
    /// Meets neither baseline nor restricted.
    #[default]
    Privileged,
    /// The baseline level: blocks the known privilege escalations.
    Baseline,
    /// The restricted level: current pod hardening practice.
    Restricted,
}

impl PssLevel {
    /// The level's name as the namespace label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }

    /// Parses a `pod-security.kubernetes.io/enforce` label value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "privileged" => Some(Self::Privileged),
            "baseline" => Some(Self::Baseline),
            "restricted" => Some(Self::Restricted),
            _ => None,
        }
    }

    /// The next stricter level, if there is one.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Privileged => Some(Self::Baseline),
            Self::Baseline => Some(Self::Restricted),
            Self::Restricted => None,
        }
    }
}

/// A pod's Pod Security Standards level, and what keeps it from the next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PssVerdict {
    /// The strictest level the pod meets.
    pub level: PssLevel,
    /// The checks of the next level up that the pod fails, each with the
    /// field that fails it (empty at restricted).
    pub blockers: Vec<String>,
}

/// One hostPath volume a container mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPathVolume {
    /// The volume's name in the pod spec.
    pub volume: String,
    /// The host path it mounts.
    pub path: String,
    /// Where the container sees it.
    pub mount_path: String,
    /// Whether the container mounts it read-only.
    pub read_only: bool,
}

/// The security facts of one container of a workload, read from its pod
/// spec with the pod-level defaults applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// The kubeconfig context it was read through: part of its row id, so
    /// two clusters running the same workload stay two rows.
    pub cluster: String,
    /// The workload's namespace.
    pub namespace: String,
    /// The workload's kind.
    pub kind: WorkloadKind,
    /// The workload's name.
    pub name: String,
    /// The container's name in the pod spec.
    pub container: String,
    /// Whether this is a regular or an init container.
    pub role: ContainerRole,
    /// Every pod of the workload running this container, by name.
    pub pods: Vec<String>,
    /// Of those, how many are running.
    pub running: usize,
    /// The pod templates the pods come from differ (a rollout in
    /// progress): the newest pod is judged.
    pub revisions: usize,
    /// The service account the pod runs as.
    pub service_account: String,
    /// `automountServiceAccountToken` (pod level); `None`: not set.
    pub automount_token: Option<bool>,
    /// The pod uses the host's network namespace.
    pub host_network: bool,
    /// The pod uses the host's PID namespace.
    pub host_pid: bool,
    /// The pod uses the host's IPC namespace.
    pub host_ipc: bool,
    /// The container is privileged.
    pub privileged: bool,
    /// `runAsNonRoot` (container, else pod).
    pub run_as_non_root: Option<bool>,
    /// `runAsUser` (container, else pod).
    pub run_as_user: Option<i64>,
    /// `allowPrivilegeEscalation` as written; `None` when unset.
    pub allow_privilege_escalation: Option<bool>,
    /// `readOnlyRootFilesystem` is true.
    pub read_only_root: bool,
    /// Effective seccomp profile type (`RuntimeDefault`, `Localhost`,
    /// `Unconfined`) and where it was set; `None`: not set at all.
    pub seccomp: Option<(String, &'static str)>,
    /// Effective AppArmor profile type (field or the older annotation).
    pub apparmor: Option<String>,
    /// Capabilities the container adds.
    pub caps_add: Vec<String>,
    /// Capabilities the container drops.
    pub caps_drop: Vec<String>,
    /// The hostPath volumes the container mounts.
    pub host_paths: Vec<HostPathVolume>,
    /// `(hostPort, containerPort, protocol, hostIP)`.
    pub host_ports: Vec<(u16, u16, String, String)>,
    /// `resources.limits` as written (`cpu: 500m`, `memory: 128Mi`).
    pub limits: BTreeMap<String, String>,
    /// A liveness probe is set.
    pub liveness_probe: bool,
    /// A readiness probe is set.
    pub readiness_probe: bool,
    /// `securityContext.procMount` when not `Default`.
    pub proc_mount: Option<String>,
    /// The pod's Pod Security Standards level.
    pub pss: PssVerdict,
}

impl Workload {
    /// `shop/web`: the workload, as people name it.
    pub fn workload_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// "30 pods", "1 pod", "no pods".
    pub fn pods_phrase(&self) -> String {
        match self.pods.len() {
            0 => "no pods".into(),
            1 => "1 pod".into(),
            n => format!("{n} pods"),
        }
    }

    /// The YAML path of this container's entry (`spec.template.spec.containers[name=web]`).
    pub fn container_path(&self) -> String {
        format!(
            "{}.{}[name={}]",
            self.kind.spec_path(),
            self.role.field(),
            self.container
        )
    }

    /// The stable id of the inventory row: one per workload container of
    /// one cluster. The context comes last, after `@`: namespaces, names
    /// and container names are DNS labels (no `@`), a context name may be
    /// anything.
    pub fn row_id(&self) -> String {
        format!(
            "k8s:{}/{}/{}/{}:{}@{}",
            self.namespace,
            self.kind.key(),
            self.name,
            self.role.field(),
            self.container,
            self.cluster
        )
    }

    /// The names a waiver target may match: the namespace's glob
    /// (`shop/*`), the workload (`shop/web`, `shop/deployment/web`) and the
    /// container (`shop/web/nginx`).
    pub fn waiver_names(&self) -> Vec<String> {
        vec![
            format!("{}/{}", self.namespace, self.name),
            format!("{}/{}/{}", self.namespace, self.kind.key(), self.name),
            format!("{}/{}/{}", self.namespace, self.name, self.container),
        ]
    }
}

/// Is this inventory id a workload container's ([`Workload::row_id`])?
pub fn is_workload_id(id: &str) -> bool {
    id.starts_with("k8s:")
}

/// The Pod Security admission labels of one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespace {
    /// The namespace's name.
    pub name: String,
    /// `pod-security.kubernetes.io/enforce`, `audit`, `warn` → level (and
    /// the `-version` label, when set).
    pub pod_security: BTreeMap<String, String>,
}

impl Namespace {
    /// The enforced level; none set means privileged (anything goes),
    /// unless the cluster's admission configuration says otherwise.
    pub fn enforced(&self) -> Option<PssLevel> {
        self.pod_security
            .get("enforce")
            .and_then(|l| PssLevel::parse(l))
    }

    /// `enforce=baseline, warn=restricted`, or "none".
    pub fn describe(&self) -> String {
        if self.pod_security.is_empty() {
            return "no Pod Security labels".into();
        }
        self.pod_security
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Cluster-wide facts, for an inventory whose engine is a cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    /// The kubeconfig context.
    pub context: String,
    /// The API server's address.
    pub server: String,
    /// Its namespaces, with their Pod Security labels.
    pub namespaces: Vec<Namespace>,
    /// Notes on what could not be read (a forbidden namespace or resource),
    /// for the view and the report. Never a failure.
    pub notes: Vec<String>,
}

impl Cluster {
    /// The namespace with this name, if it was read.
    pub fn namespace(&self, name: &str) -> Option<&Namespace> {
        self.namespaces.iter().find(|n| n.name == name)
    }
}

/// `500m` → 0.5 CPUs, `2` → 2.0; `None` if unparsable.
pub fn parse_cpu(q: &str) -> Option<f64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<f64>().ok().map(|v| v / 1000.0);
    }
    q.parse::<f64>().ok()
}

/// `128Mi` → bytes, `1G` → 10⁹, `1e3` → 1000; `None` if unparsable.
pub fn parse_memory(q: &str) -> Option<i64> {
    let q = q.trim();
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    for (s, mul) in SUFFIXES {
        if let Some(n) = q.strip_suffix(s) {
            return n.parse::<f64>().ok().map(|v| (v * mul) as i64);
        }
    }
    q.parse::<f64>().ok().map(|v| v as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_cpu("500m"), Some(0.5));
        assert_eq!(parse_cpu("2"), Some(2.0));
        assert_eq!(parse_cpu("x"), None);
        assert_eq!(parse_memory("128Mi"), Some(134_217_728));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("1e3"), Some(1000));
        assert_eq!(parse_memory("lots"), None);
    }

    #[test]
    fn names_for_waivers_and_rows() {
        let w = Workload {
            namespace: "shop".into(),
            kind: WorkloadKind::Deployment,
            name: "web".into(),
            container: "nginx".into(),
            pods: vec!["a".into(), "b".into()],
            ..Workload::default()
        };
        assert_eq!(w.row_id(), "k8s:shop/deployment/web/containers:nginx@");
        let other = Workload {
            cluster: "prod".into(),
            ..w.clone()
        };
        assert_eq!(
            other.row_id(),
            "k8s:shop/deployment/web/containers:nginx@prod"
        );
        assert_eq!(
            w.waiver_names(),
            ["shop/web", "shop/deployment/web", "shop/web/nginx"]
        );
        assert_eq!(w.pods_phrase(), "2 pods");
        assert_eq!(
            w.container_path(),
            "spec.template.spec.containers[name=nginx]"
        );
    }
}
