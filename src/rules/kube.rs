//! The catalogue on Kubernetes pod specs.
//!
//! A workload container is judged by the same rules as a Docker container:
//! same ids, severities, explanations and policy overrides. What differs is
//! where the facts come from — the pod spec, with pod-level defaults — and
//! so the evidence, which names the YAML field, and the fix, which is the
//! rule's [`super::Fix::kube`]. [`CHECKS`] lists every rule that applies
//! with the check that reads the spec; a rule with an empty `fix.kube` does
//! not apply (restart policies, log drivers, the default bridge: Kubernetes
//! decides those elsewhere). Three rules exist only here: hostPath volumes
//! in general, capabilities not dropped, and service-account tokens.

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::kube::Workload;
use crate::model::{Container, SeedRule, Severity};

/// A check over one workload container: the model row (its mounts, env,
/// image and sysctls filled from the spec) and its pod-spec facts.
pub type KubeCheck = fn(&Ctx, &Container, &Workload) -> Vec<Hit>;

/// One catalogue rule on Kubernetes.
#[derive(Clone, Copy)]
pub struct KubeRule {
    pub rule: &'static Rule,
    pub check: KubeCheck,
}

const PSS: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";
const SEC_CTX: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/";

/// Run a Docker check whose evidence speaks of the model, not of Docker's
/// field names (mounts, image references, env, sysctls).
fn same_as_docker(rule: &Rule, ctx: &Ctx, c: &Container) -> Vec<Hit> {
    match rule.check {
        Check::Container(f) => f(ctx, c),
        _ => vec![],
    }
}

pub const HOST_PATH: Rule = Rule {
    id: "container.host-path",
    title: "Host directory mounted (hostPath)",
    severity: Severity::Medium,
    family: super::Family::Mounts,
    cis: None,
    seed: SeedRule::Whitelisting,
    why: "A hostPath volume puts a directory of whichever node runs the pod into the container. \
          The pod now depends on that node and reads, or writes, files no other workload can \
          see or audit. The Pod Security Standards' baseline level forbids every hostPath. \
          Paths that hold the kubelet's or the runtime's data, or host system directories, are \
          graded higher (and the runtime sockets and system directories are their own rules).",
    attack: "A compromised container reads what the node keeps there — the kubelet's pod volumes \
             hold every pod's secrets and service-account tokens — and, read-write, plants files \
             the node or other pods later trust.",
    fix: Fix {
        summary: "Use a volume the cluster manages (configMap, secret, emptyDir, a PersistentVolumeClaim) instead of a path on the node.",
        run: "",
        compose: "",
        kube: "volumes:\n- name: data\n  persistentVolumeClaim: { claimName: app-data }  # instead of hostPath",
    },
    references: &[
        PSS,
        "https://kubernetes.io/docs/concepts/storage/volumes/#hostpath",
    ],
    check: Check::Kube,
};

pub const CAPS_NOT_DROPPED: Rule = Rule {
    id: "container.caps-not-dropped",
    title: "Capabilities not dropped",
    severity: Severity::Low,
    family: Family::Privileges,
    cis: None,
    seed: SeedRule::LeastPrivilege,
    why: "Without `capabilities.drop: [ALL]` the container keeps the runtime's default set: \
          fourteen capabilities, NET_RAW among them, that almost no application uses. The Pod \
          Security Standards' restricted level requires dropping ALL.",
    attack: "NET_RAW lets a compromised container forge packets on the pod network (ARP and DNS \
             spoofing of its neighbours); CHOWN, DAC_OVERRIDE and FOWNER help it rewrite files \
             it does not own.",
    fix: Fix {
        summary: "Drop every capability and add back only the one the process needs (usually none, or NET_BIND_SERVICE).",
        run: "",
        compose: "",
        kube: "securityContext:\n  capabilities:\n    drop: [\"ALL\"]",
    },
    references: &[PSS, SEC_CTX],
    check: Check::Kube,
};

pub const SERVICE_ACCOUNT_TOKEN: Rule = Rule {
    id: "container.service-account-token",
    title: "API token mounted for nothing",
    severity: Severity::Low,
    family: Family::Secrets,
    cis: None,
    seed: SeedRule::AuditAdminAccess,
    why: "Unless `automountServiceAccountToken: false`, every container gets a token for the \
          pod's service account at /var/run/secrets/kubernetes.io/serviceaccount. A workload \
          that runs as the namespace's `default` account has no API access of its own to \
          need, so the token is only a credential to steal. (A named service account is taken \
          to need its token, and is not reported.)",
    attack: "Code execution in the container reads the token and calls the API server as the \
             service account: whatever RBAC grants `default` in that namespace — often more \
             than anyone meant after a broad RoleBinding — is the attacker's.",
    fix: Fix {
        summary: "Turn the token off for workloads that never call the Kubernetes API.",
        run: "",
        compose: "",
        kube: "automountServiceAccountToken: false  # pod spec",
    },
    references: &[
        "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting",
    ],
    check: Check::Kube,
};

/// Paths on a node that hold the cluster's own data, beyond the host's
/// system directories: graded high.
const NODE_DATA: &[&str] = &[
    "/var/lib/kubelet",
    "/etc/kubernetes",
    "/var/lib/etcd",
    "/var/lib/containerd",
    "/var/lib/cri-o",
    "/var/lib/rancher",
    "/var/log/pods",
    "/var/log",
    "/run/containerd",
    "/var/run/containerd",
];

fn host_path(ctx: &Ctx, c: &Container, w: &Workload) -> Vec<Hit> {
    // Sockets and system directories have rules of their own.
    let covered: Vec<String> = [
        &super::mounts::ENGINE_SOCKET,
        &super::mounts::SENSITIVE_MOUNT,
        &super::mounts::HOST_SOCKET,
    ]
    .iter()
    .flat_map(|r| same_as_docker(r, ctx, c))
    .map(|h| h.evidence)
    .collect();
    w.host_paths
        .iter()
        .filter(|h| {
            !covered.iter().any(|e| e.contains(&h.path))
                && !super::mounts::is_engine_socket(&h.path)
        })
        .map(|h| {
            let node_data = NODE_DATA
                .iter()
                .find(|base| super::mounts::is_under(&h.path, base));
            let mode = if h.read_only {
                "read-only"
            } else {
                "read-write"
            };
            let evidence = format!(
                "volume {} is hostPath {} mounted at {} ({mode})",
                h.volume, h.path, h.mount_path
            );
            match (node_data, h.read_only) {
                (Some(base), _) => Hit::graded(
                    Severity::High,
                    format!("{evidence}: {base} holds the node's cluster data"),
                ),
                (None, true) => Hit::graded(Severity::Low, evidence),
                (None, false) => Hit::new(evidence),
            }
        })
        .collect()
}

fn privileged(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    if w.privileged {
        vec![Hit::new("securityContext.privileged is true")]
    } else {
        vec![]
    }
}

fn host_namespace(on: bool, field: &str) -> Vec<Hit> {
    if on {
        vec![Hit::new(format!("{field} is true"))]
    } else {
        vec![]
    }
}

fn root_user(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    match (w.run_as_user, w.run_as_non_root) {
        (Some(0), _) => vec![Hit::new("securityContext.runAsUser is 0")],
        (Some(_), _) | (None, Some(true)) => vec![],
        (None, Some(false)) => vec![Hit::new(
            "runAsNonRoot is false and runAsUser is not set: the image's USER decides, and nothing stops root",
        )],
        (None, None) => vec![Hit::new(
            "neither runAsNonRoot nor runAsUser is set: the image's USER decides, and nothing stops root",
        )],
    }
}

fn cap_add(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    use super::privileges::{DEFAULT_CAPS, cap_grade, normalise_cap};
    w.caps_add
        .iter()
        .map(|c| normalise_cap(c))
        .filter(|c| !DEFAULT_CAPS.contains(&c.as_str()))
        .map(|cap| {
            Hit::graded(
                cap_grade(&cap, w.host_network),
                format!("securityContext.capabilities.add includes {cap}"),
            )
        })
        .collect()
}

fn caps_not_dropped(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    let all = w
        .caps_drop
        .iter()
        .any(|c| super::privileges::normalise_cap(c) == "ALL");
    if all || w.privileged {
        return vec![];
    }
    let what = if w.caps_drop.is_empty() {
        "securityContext.capabilities.drop is not set".to_string()
    } else {
        format!(
            "securityContext.capabilities.drop is [{}], not ALL",
            w.caps_drop.join(", ")
        )
    };
    vec![Hit::new(format!(
        "{what}: the runtime's default capabilities stay"
    ))]
}

fn seccomp(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    match &w.seccomp {
        Some((t, where_)) if t == "Unconfined" => vec![Hit::new(format!(
            "seccompProfile.type is Unconfined (set on the {where_})"
        ))],
        Some(_) => vec![],
        None if w.privileged => vec![],
        None => vec![Hit::graded(
            Severity::Medium,
            "seccompProfile is not set on the pod or the container: it runs Unconfined unless the \
             kubelet was started with --seccomp-default",
        )],
    }
}

fn no_new_privileges(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    match w.allow_privilege_escalation {
        Some(false) => vec![],
        // Privileged implies it; that rule says more.
        _ if w.privileged => vec![],
        Some(true) => vec![Hit::new("allowPrivilegeEscalation is true")],
        None => vec![Hit::new(
            "allowPrivilegeEscalation is not set (it defaults to true): setuid programs can gain privileges",
        )],
    }
}

fn apparmor(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    match w.apparmor.as_deref() {
        Some(p) if p.eq_ignore_ascii_case("unconfined") => {
            vec![Hit::new("AppArmor profile is Unconfined")]
        }
        _ => vec![],
    }
}

fn unmasked(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    match w.proc_mount.as_deref() {
        Some("Unmasked") => vec![Hit::new(
            "securityContext.procMount is Unmasked: /proc/kcore, /proc/sys and the rest are not masked",
        )],
        _ => vec![],
    }
}

fn writable_rootfs(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    if w.read_only_root {
        vec![]
    } else {
        vec![Hit::new(
            "securityContext.readOnlyRootFilesystem is not true",
        )]
    }
}

fn host_ports(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    if w.host_ports.is_empty() {
        return vec![];
    }
    let list: Vec<String> = w
        .host_ports
        .iter()
        .map(|(hp, cp, proto, ip)| {
            let ip = if ip.is_empty() { "every address" } else { ip };
            format!("hostPort {hp} → {cp}/{proto} on {ip} of its node")
        })
        .collect();
    vec![Hit::graded(Severity::Low, list.join(", "))]
}

fn limit(w: &Workload, key: &str) -> Vec<Hit> {
    // Ephemeral containers may not set resources: nothing to fix there.
    if w.limits.contains_key(key) || w.role == crate::model::kube::ContainerRole::Ephemeral {
        vec![]
    } else {
        vec![Hit::new(format!("resources.limits.{key} is not set"))]
    }
}

fn probe(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    use crate::model::kube::ContainerRole;
    if w.liveness_probe || w.kind.runs_to_completion() || w.role != ContainerRole::Container {
        return vec![];
    }
    let readiness = if w.readiness_probe {
        "; it has a readinessProbe, which takes it out of Services but never restarts it"
    } else {
        ""
    };
    vec![Hit::new(format!("no livenessProbe{readiness}"))]
}

fn secret_env(_: &Ctx, c: &Container, _: &Workload) -> Vec<Hit> {
    let mut seen = std::collections::BTreeSet::new();
    c.env
        .iter()
        .filter_map(|e| {
            let reason = super::secrets::classify(&e.key, e.value.expose_for_analysis())?;
            seen.insert(e.key.clone()).then(|| {
                Hit::new(format!(
                    "env {} has a literal value ({reason}; value hidden): use valueFrom.secretKeyRef",
                    e.key
                ))
            })
        })
        .collect()
}

fn token(_: &Ctx, _: &Container, w: &Workload) -> Vec<Hit> {
    let default_account = w.service_account.is_empty() || w.service_account == "default";
    if w.automount_token == Some(false) || !default_account {
        return vec![];
    }
    vec![Hit::new(
        "the default service account's token is mounted (automountServiceAccountToken is not false)",
    )]
}

/// Every rule that applies to Kubernetes workloads, with the check that
/// reads the pod spec. A rule here has a `fix.kube`; a rule with one is
/// here (a test holds both ways).
pub const CHECKS: &[KubeRule] = &[
    KubeRule {
        rule: &super::privileges::PRIVILEGED,
        check: privileged,
    },
    KubeRule {
        rule: &super::privileges::ROOT_USER,
        check: root_user,
    },
    KubeRule {
        rule: &super::privileges::CAP_ADD,
        check: cap_add,
    },
    KubeRule {
        rule: &CAPS_NOT_DROPPED,
        check: caps_not_dropped,
    },
    KubeRule {
        rule: &super::privileges::HOST_TAKEOVER,
        check: |ctx, c, _| same_as_docker(&super::privileges::HOST_TAKEOVER, ctx, c),
    },
    KubeRule {
        rule: &super::privileges::SECCOMP_UNCONFINED,
        check: seccomp,
    },
    KubeRule {
        rule: &super::privileges::NO_NEW_PRIVILEGES,
        check: no_new_privileges,
    },
    KubeRule {
        rule: &super::privileges::APPARMOR,
        check: apparmor,
    },
    KubeRule {
        rule: &super::privileges::UNMASKED_PATHS,
        check: unmasked,
    },
    KubeRule {
        rule: &super::namespaces::HOST_PID,
        check: |_, _, w| host_namespace(w.host_pid, "hostPID"),
    },
    KubeRule {
        rule: &super::namespaces::HOST_IPC,
        check: |_, _, w| host_namespace(w.host_ipc, "hostIPC"),
    },
    KubeRule {
        rule: &super::network::HOST_NETWORK,
        check: |_, _, w| host_namespace(w.host_network, "hostNetwork"),
    },
    KubeRule {
        rule: &super::namespaces::SYSCTLS,
        check: |ctx, c, _| same_as_docker(&super::namespaces::SYSCTLS, ctx, c),
    },
    KubeRule {
        rule: &super::mounts::ENGINE_SOCKET,
        check: |ctx, c, _| same_as_docker(&super::mounts::ENGINE_SOCKET, ctx, c),
    },
    KubeRule {
        rule: &super::mounts::SENSITIVE_MOUNT,
        check: |ctx, c, _| same_as_docker(&super::mounts::SENSITIVE_MOUNT, ctx, c),
    },
    KubeRule {
        rule: &super::mounts::SENSITIVE_MOUNT_EXTRA,
        check: |ctx, c, _| same_as_docker(&super::mounts::SENSITIVE_MOUNT_EXTRA, ctx, c),
    },
    KubeRule {
        rule: &super::mounts::HOST_SOCKET,
        check: |ctx, c, _| same_as_docker(&super::mounts::HOST_SOCKET, ctx, c),
    },
    KubeRule {
        rule: &HOST_PATH,
        check: host_path,
    },
    KubeRule {
        rule: &super::mounts::WRITABLE_ROOTFS,
        check: writable_rootfs,
    },
    KubeRule {
        rule: &super::network::PUBLISHED_PORTS,
        check: host_ports,
    },
    KubeRule {
        rule: &super::resources::NO_MEMORY_LIMIT,
        check: |_, _, w| limit(w, "memory"),
    },
    KubeRule {
        rule: &super::resources::NO_CPU_LIMIT,
        check: |_, _, w| limit(w, "cpu"),
    },
    KubeRule {
        rule: &super::health::NO_HEALTHCHECK,
        check: probe,
    },
    KubeRule {
        rule: &super::provenance::MUTABLE_IMAGE_REF,
        check: |ctx, c, _| same_as_docker(&super::provenance::MUTABLE_IMAGE_REF, ctx, c),
    },
    KubeRule {
        rule: &super::provenance::UNAPPROVED_IMAGE,
        check: |ctx, c, _| same_as_docker(&super::provenance::UNAPPROVED_IMAGE, ctx, c),
    },
    KubeRule {
        rule: &super::secrets::CONTAINER_SECRET_ENV,
        check: secret_env,
    },
    KubeRule {
        rule: &SERVICE_ACCOUNT_TOKEN,
        check: token,
    },
];

/// Every check's hits on one workload container.
pub fn judge(ctx: &Ctx, c: &Container, w: &Workload) -> Vec<(&'static Rule, Vec<Hit>)> {
    CHECKS
        .iter()
        .map(|k| (k.rule, (k.check)(ctx, c, w)))
        .filter(|(_, hits)| !hits.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_applies_to_kubernetes_exactly_when_it_has_a_yaml_fix() {
        for r in super::super::ALL {
            let checked = CHECKS.iter().any(|k| k.rule.id == r.id);
            assert_eq!(
                checked,
                !r.fix.kube.is_empty(),
                "{}: a Kubernetes check and a Kubernetes fix go together",
                r.id
            );
            if matches!(r.check, Check::Kube) {
                assert!(checked, "{} is Kubernetes-only but not checked", r.id);
            }
        }
        let mut ids: Vec<_> = CHECKS.iter().map(|k| k.rule.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len(), "a rule is listed twice");
    }
}
