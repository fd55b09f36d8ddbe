//! Pods (and the ReplicaSets and Jobs that say who owns them) → shipshape's
//! model: one [`Container`] per container of each workload, with the pod
//! spec's security facts in [`Workload`]. Pure: lists in, an inventory out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::spec::{Ctr, containers};
use crate::model::kube::{
    Cluster, HostPathVolume, Namespace, Workload, WorkloadKind, parse_cpu, parse_memory,
};
use crate::model::{
    Container, ContainerState, EngineInfo, EngineProduct, EnvVar, Healthcheck, Inventory, Limits,
    Mount, MountKind, PortBinding, Sensitive, Source,
};

/// Everything one read of a cluster returned. Only pods are read whole;
/// of ReplicaSets, Jobs and namespaces only their metadata (owners and
/// labels) is asked for.
#[derive(Debug, Default, Clone)]
pub struct Lists {
    /// The pods.
    pub pods: Vec<Pod>,
    /// The ReplicaSets (to find a pod's Deployment).
    pub replica_sets: Vec<ObjectMeta>,
    /// The Jobs (to find a pod's CronJob).
    pub jobs: Vec<ObjectMeta>,
    /// The namespaces, with their labels.
    pub namespaces: Vec<ObjectMeta>,
    /// What could not be read, for people: what the cluster forbade
    /// ([`crate::model::WarningKind::Cluster`]) and lists cut at a ceiling
    /// ([`crate::model::WarningKind::Truncated`]).
    pub notes: Vec<crate::model::Warning>,
    /// ReplicaSets could not be listed: Deployments are recognised by the
    /// `pod-template-hash` label instead.
    pub no_replica_sets: bool,
}

/// Who the cluster is, for the engine row.
#[derive(Debug, Clone, Default)]
pub struct ClusterId {
    /// The kubeconfig context.
    pub context: String,
    /// The API server's address.
    pub server: String,
    /// The server's Kubernetes version.
    pub version: String,
    /// The server's platform (`linux/amd64`).
    pub platform: String,
}

type Key = (String, String); // (namespace, name)

fn key(ns: &Option<String>, name: &Option<String>) -> Key {
    (
        ns.clone().unwrap_or_default(),
        name.clone().unwrap_or_default(),
    )
}

fn controller(meta: &ObjectMeta) -> Option<(&str, &str)> {
    let refs = meta.owner_references.as_deref()?;
    let r = refs
        .iter()
        .find(|r| r.controller == Some(true))
        .or_else(|| refs.first())?;
    Some((r.kind.as_str(), r.name.as_str()))
}

/// Who owns a pod, following ReplicaSet → Deployment and Job → CronJob.
pub fn owner(pod: &Pod, lists: &Owners) -> (WorkloadKind, String) {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let Some((kind, owner)) = controller(&pod.metadata) else {
        return (WorkloadKind::Pod, name);
    };
    match kind {
        "ReplicaSet" => match lists.replica_sets.get(&(ns, owner.to_string())) {
            Some(Some(dep)) => (WorkloadKind::Deployment, dep.clone()),
            Some(None) => (WorkloadKind::ReplicaSet, owner.to_string()),
            // Not listed (forbidden, or newer than the list): a ReplicaSet
            // named `<deployment>-<hash>` whose pods carry that hash is a
            // Deployment's.
            None => match pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"))
                .and_then(|h| owner.strip_suffix(&format!("-{h}")))
            {
                Some(dep) => (WorkloadKind::Deployment, dep.to_string()),
                _ => (WorkloadKind::ReplicaSet, owner.to_string()),
            },
        },
        "Job" => match lists.jobs.get(&(ns, owner.to_string())) {
            Some(Some(cron)) => (WorkloadKind::CronJob, cron.clone()),
            _ => (WorkloadKind::Job, owner.to_string()),
        },
        "StatefulSet" => (WorkloadKind::StatefulSet, owner.to_string()),
        "DaemonSet" => (WorkloadKind::DaemonSet, owner.to_string()),
        "ReplicationController" => (WorkloadKind::ReplicationController, owner.to_string()),
        "Deployment" => (WorkloadKind::Deployment, owner.to_string()),
        "CronJob" => (WorkloadKind::CronJob, owner.to_string()),
        _ => (WorkloadKind::Pod, name),
    }
}

/// ReplicaSet → its Deployment, Job → its CronJob (`None`: no owner).
pub struct Owners {
    replica_sets: HashMap<Key, Option<String>>,
    jobs: HashMap<Key, Option<String>>,
}

impl Owners {
    /// Indexes the owners of the lists' pods.
    pub fn new(lists: &Lists) -> Self {
        let of = |meta: &ObjectMeta, kind: &str| {
            controller(meta)
                .filter(|(k, _)| *k == kind)
                .map(|(_, n)| n.to_string())
        };
        Self {
            replica_sets: lists
                .replica_sets
                .iter()
                .map(|m| (key(&m.namespace, &m.name), of(m, "Deployment")))
                .collect(),
            jobs: lists
                .jobs
                .iter()
                .map(|m| (key(&m.namespace, &m.name), of(m, "CronJob")))
                .collect(),
        }
    }
}

fn time(t: &Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Time>) -> Option<DateTime<Utc>> {
    let ts = &t.as_ref()?.0;
    DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("Unknown")
}

/// A pod's revision: the label its controller stamps on every pod of one
/// template, else nothing.
fn revision(pod: &Pod) -> Option<&str> {
    let labels = pod.metadata.labels.as_ref()?;
    labels
        .get("pod-template-hash")
        .or_else(|| labels.get("controller-revision-hash"))
        .map(String::as_str)
}

/// The facts of one container of `pod`, with the pod-level defaults.
fn facts(pod: &Pod, spec: &PodSpec, c: &Ctr, kind: WorkloadKind, name: &str) -> Workload {
    let psc = spec.security_context.as_ref();
    let sc = c.security;
    let caps = sc.and_then(|s| s.capabilities.as_ref());
    let annotations = pod.metadata.annotations.clone().unwrap_or_default();
    let seccomp = sc
        .and_then(|s| s.seccomp_profile.as_ref())
        .map(|p| (p.type_.clone(), "container"))
        .or_else(|| {
            psc.and_then(|p| p.seccomp_profile.as_ref())
                .map(|p| (p.type_.clone(), "pod"))
        });
    let apparmor = sc
        .and_then(|s| s.app_armor_profile.as_ref())
        .map(|a| a.type_.clone())
        .or_else(|| {
            annotations
                .get(&format!(
                    "container.apparmor.security.beta.kubernetes.io/{}",
                    c.name
                ))
                .map(|v| match v.as_str() {
                    "runtime/default" => "RuntimeDefault".to_string(),
                    v if v.starts_with("localhost/") => "Localhost".to_string(),
                    "unconfined" => "Unconfined".to_string(),
                    other => other.to_string(),
                })
        })
        .or_else(|| {
            psc.and_then(|p| p.app_armor_profile.as_ref())
                .map(|a| a.type_.clone())
        });
    let volumes: HashMap<&str, &str> = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| Some((v.name.as_str(), v.host_path.as_ref()?.path.as_str())))
        .collect();
    let host_paths = c
        .mounts
        .iter()
        .filter_map(|m| {
            let path = volumes.get(m.name.as_str())?;
            Some(HostPathVolume {
                volume: m.name.clone(),
                path: (*path).to_string(),
                mount_path: m.mount_path.clone(),
                read_only: m.read_only == Some(true),
            })
        })
        .collect();
    let host_ports = c
        .ports
        .iter()
        .filter_map(|p| {
            let hp = u16::try_from(p.host_port.filter(|h| *h > 0)?).ok()?;
            Some((
                hp,
                u16::try_from(p.container_port).unwrap_or(0),
                p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                p.host_ip.clone().unwrap_or_default(),
            ))
        })
        .collect();
    let limits = c
        .resources
        .and_then(|r| r.limits.as_ref())
        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default();
    Workload {
        // Filled by `inventory`, which knows the context.
        cluster: String::new(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        kind,
        name: name.to_string(),
        container: c.name.to_string(),
        role: c.role,
        pods: Vec::new(),
        running: 0,
        revisions: 1,
        service_account: spec.service_account_name.clone().unwrap_or_default(),
        automount_token: spec.automount_service_account_token,
        host_network: spec.host_network == Some(true),
        host_pid: spec.host_pid == Some(true),
        host_ipc: spec.host_ipc == Some(true),
        privileged: sc.and_then(|s| s.privileged) == Some(true),
        run_as_non_root: sc
            .and_then(|s| s.run_as_non_root)
            .or(psc.and_then(|p| p.run_as_non_root)),
        run_as_user: sc
            .and_then(|s| s.run_as_user)
            .or(psc.and_then(|p| p.run_as_user)),
        allow_privilege_escalation: sc.and_then(|s| s.allow_privilege_escalation),
        read_only_root: sc.and_then(|s| s.read_only_root_filesystem) == Some(true),
        seccomp,
        apparmor,
        caps_add: caps.and_then(|k| k.add.clone()).unwrap_or_default(),
        caps_drop: caps.and_then(|k| k.drop.clone()).unwrap_or_default(),
        host_paths,
        host_ports,
        limits,
        liveness_probe: c.liveness,
        readiness_probe: c.readiness,
        proc_mount: sc
            .and_then(|s| s.proc_mount.clone())
            .filter(|p| p != "Default"),
        pss: super::pss::classify(spec, &annotations),
    }
}

/// The model row for one workload container.
fn row(w: Workload, c: &Ctr, spec: &PodSpec, newest: &Pod, image_id: String) -> Container {
    let user = match (w.run_as_user, w.run_as_non_root) {
        (Some(u), _) => u.to_string(),
        (None, Some(true)) => "non-root (image's USER)".into(),
        _ => String::new(),
    };
    let mounts = w
        .host_paths
        .iter()
        .map(|h| Mount {
            kind: MountKind::Bind,
            source: h.path.clone(),
            destination: h.mount_path.clone(),
            read_write: !h.read_only,
            propagation: String::new(),
            name: Some(h.volume.clone()),
            host: None,
        })
        .collect();
    let env = c
        .env
        .iter()
        .filter_map(|e| {
            // Only literal values can leak; valueFrom is the right way.
            Some(EnvVar {
                key: e.name.clone(),
                value: Sensitive::new(e.value.as_deref()?),
            })
        })
        .collect();
    let mut security_opt = Vec::new();
    if let Some((t, _)) = &w.seccomp {
        security_opt.push(format!("seccomp={}", t.to_ascii_lowercase()));
    }
    match w.allow_privilege_escalation {
        Some(false) => security_opt.push("no-new-privileges".into()),
        Some(true) => security_opt.push("no-new-privileges:false".into()),
        None => {}
    }
    let state = if w.running > 0 {
        ContainerState::Running
    } else {
        match phase(newest) {
            "Pending" => ContainerState::Created,
            "Succeeded" | "Failed" => ContainerState::Exited,
            _ => ContainerState::Unknown,
        }
    };
    Container {
        source: Source::Kubernetes,
        id: w.row_id(),
        name: format!("{}/{}", w.workload_name(), w.container),
        image: c.image.to_string(),
        image_id,
        state,
        created: time(&newest.metadata.creation_timestamp),
        started_at: newest.status.as_ref().and_then(|s| time(&s.start_time)),
        user,
        labels: newest.metadata.labels.clone().unwrap_or_default(),
        env,
        privileged: w.privileged,
        cap_add: w.caps_add.clone(),
        cap_drop: w.caps_drop.clone(),
        network_mode: if w.host_network { "host" } else { "pod" }.into(),
        pid_mode: if w.host_pid { "host" } else { "" }.into(),
        ipc_mode: if w.host_ipc { "host" } else { "" }.into(),
        security_opt,
        apparmor_profile: w.apparmor.clone().unwrap_or_default(),
        readonly_rootfs: w.read_only_root,
        limits: Limits {
            memory_bytes: w
                .limits
                .get("memory")
                .and_then(|m| parse_memory(m))
                .unwrap_or(0),
            nano_cpus: w
                .limits
                .get("cpu")
                .and_then(|m| parse_cpu(m))
                .map_or(0, |c| (c * 1e9) as i64),
            ..Limits::default()
        },
        mounts,
        ports: w
            .host_ports
            .iter()
            .map(|(hp, cp, proto, ip)| PortBinding {
                container_port: *cp,
                protocol: proto.to_ascii_lowercase(),
                host_ip: ip.clone(),
                host_port: Some(*hp),
            })
            .collect(),
        healthcheck: w.liveness_probe.then(|| Healthcheck {
            test: vec!["livenessProbe".into()],
        }),
        sysctls: spec
            .security_context
            .as_ref()
            .and_then(|p| p.sysctls.as_ref())
            .into_iter()
            .flatten()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect(),
        // `Unmasked` is the only other value the API knows.
        masked_paths: (w.proc_mount.as_deref() == Some("Unmasked")).then(Vec::new),
        runtime: spec.runtime_class_name.clone().unwrap_or_default(),
        kube: Some(Arc::new(w)),
        ..Container::default()
    }
}

/// The image id a container of this pod runs (`imageID` of its status).
fn image_id(pod: &Pod, name: &str) -> String {
    let Some(s) = &pod.status else {
        return String::new();
    };
    [
        &s.container_statuses,
        &s.init_container_statuses,
        &s.ephemeral_container_statuses,
    ]
    .into_iter()
    .flatten()
    .flatten()
    .find(|cs| cs.name == name)
    .map(|cs| cs.image_id.clone())
    .unwrap_or_default()
}

/// One row per container of each workload.
pub fn workloads(lists: &Lists) -> Vec<Container> {
    let owners = Owners::new(lists);
    // (namespace, kind, name) → its pods.
    let mut groups: BTreeMap<(String, WorkloadKind, String), Vec<&Pod>> = BTreeMap::new();
    for pod in &lists.pods {
        if pod.spec.is_none() {
            continue;
        }
        let (kind, name) = owner(pod, &owners);
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        groups.entry((ns, kind, name)).or_default().push(pod);
    }
    let mut out = Vec::new();
    for ((_, kind, name), mut pods) in groups {
        // The newest pod is judged: in a rollout, it has the new template.
        pods.sort_by(|a, b| {
            time(&b.metadata.creation_timestamp)
                .cmp(&time(&a.metadata.creation_timestamp))
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
        });
        let Some(newest) = pods.first().copied() else {
            continue;
        };
        let Some(spec) = newest.spec.as_ref() else {
            continue;
        };
        let revisions = pods
            .iter()
            .filter_map(|p| revision(p))
            .collect::<BTreeSet<_>>()
            .len()
            .max(1);
        let mut seen = BTreeSet::new();
        // Ephemeral containers belong to single pods: take them from every
        // pod, each row covering the pods that have it.
        let mut ctrs: Vec<(&Pod, Ctr)> = containers(spec)
            .into_iter()
            .filter(|c| c.role != crate::model::kube::ContainerRole::Ephemeral)
            .map(|c| (newest, c))
            .collect();
        for p in &pods {
            if let Some(s) = &p.spec {
                ctrs.extend(
                    containers(s)
                        .into_iter()
                        .filter(|c| c.role == crate::model::kube::ContainerRole::Ephemeral)
                        .map(|c| (*p, c)),
                );
            }
        }
        for (pod, c) in ctrs {
            if !seen.insert((c.role, c.name.to_string())) {
                continue;
            }
            let Some(pspec) = pod.spec.as_ref() else {
                continue;
            };
            let mut w = facts(pod, pspec, &c, kind, &name);
            let holders: Vec<&&Pod> = pods
                .iter()
                .filter(|p| {
                    c.role != crate::model::kube::ContainerRole::Ephemeral
                        || p.spec.as_ref().is_some_and(|s| {
                            s.ephemeral_containers
                                .iter()
                                .flatten()
                                .any(|e| e.name == c.name)
                        })
                })
                .collect();
            w.pods = holders
                .iter()
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect();
            w.running = holders.iter().filter(|p| phase(p) == "Running").count();
            w.revisions = revisions;
            let id = image_id(pod, c.name);
            out.push(row(w, &c, pspec, pod, id));
        }
    }
    out
}

/// Namespaces with their Pod Security labels.
pub fn namespaces(list: &[ObjectMeta]) -> Vec<Namespace> {
    let mut out: Vec<Namespace> = list
        .iter()
        .map(|n| Namespace {
            name: n.name.clone().unwrap_or_default(),
            pod_security: n
                .labels
                .iter()
                .flatten()
                .filter_map(|(k, v)| {
                    Some((
                        k.strip_prefix("pod-security.kubernetes.io/")?.to_string(),
                        v.clone(),
                    ))
                })
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The whole inventory of one read.
pub fn inventory(id: &ClusterId, lists: &Lists, taken_at: DateTime<Utc>) -> Inventory {
    let mut containers = workloads(lists);
    for c in &mut containers {
        if let Some(w) = c.kube.as_mut() {
            Arc::make_mut(w).cluster.clone_from(&id.context);
            c.id = w.row_id();
        }
    }
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    Inventory {
        engine: EngineInfo {
            label: id.context.clone(),
            id: format!("k8s:{}", id.server),
            found_by: "kubeconfig context".into(),
            endpoint: id.server.clone(),
            product: EngineProduct::Kubernetes,
            name: id.context.clone(),
            version: id.version.clone(),
            os: id.platform.clone(),
            ..EngineInfo::default()
        },
        containers,
        images: Vec::new(),
        taken_at: Some(taken_at),
        warnings: lists.notes.clone(),
        cluster: Some(Cluster {
            context: id.context.clone(),
            server: id.server.clone(),
            namespaces: namespaces(&lists.namespaces),
            notes: lists.notes.iter().map(|n| n.text.clone()).collect(),
        }),
    }
}
