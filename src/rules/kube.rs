//! The three rules only Kubernetes pod specs have.
//!
//! Every other rule judges a workload container the way it judges an
//! engine's: the pod spec fills the same [`Container`] facts
//! (`sources::kube::convert`), the rule decides once, and its evidence
//! names the YAML field ([`crate::model::Source::field`]). A rule applies to
//! Kubernetes exactly when it has a [`super::Fix::kube`]. What only a pod
//! spec can say — hostPath volumes in general, capabilities not dropped,
//! service-account tokens — is checked here on its [`Workload`].

use super::{Check, Ctx, Family, Fix, Hit, Rule};
use crate::model::kube::Workload;
use crate::model::{Container, SeedRule, Severity};

const PSS: &str = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";
const SEC_CTX: &str = "https://kubernetes.io/docs/tasks/configure-pod-container/security-context/";

/// The `container.host-path` rule: Host directory mounted (hostPath).
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
    check: Check::Workload(host_path),
};

/// The `container.caps-not-dropped` rule: Capabilities not dropped.
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
    check: Check::Workload(caps_not_dropped),
};

/// The `container.service-account-token` rule: API token mounted for nothing.
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
    check: Check::Workload(token),
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
    .flat_map(|r| r.check_container(ctx, c).unwrap_or_default())
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

fn caps_not_dropped(_: &Ctx, c: &Container, _: &Workload) -> Vec<Hit> {
    let all = c
        .cap_drop
        .iter()
        .any(|d| super::privileges::normalise_cap(d) == "ALL");
    if all || c.privileged {
        return vec![];
    }
    let what = if c.cap_drop.is_empty() {
        "securityContext.capabilities.drop is not set".to_string()
    } else {
        format!(
            "securityContext.capabilities.drop is [{}], not ALL",
            c.cap_drop.join(", ")
        )
    };
    vec![Hit::new(format!(
        "{what}: the runtime's default capabilities stay"
    ))]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_only_rules_have_only_a_yaml_fix() {
        let mut only: Vec<_> = super::super::ALL
            .iter()
            .filter(|r| matches!(r.check, Check::Workload(_)))
            .map(|r| r.id)
            .collect();
        only.sort_unstable();
        assert_eq!(
            only,
            [CAPS_NOT_DROPPED.id, HOST_PATH.id, SERVICE_ACCOUNT_TOKEN.id],
            "the rules only a pod spec has"
        );
        for r in [&HOST_PATH, &CAPS_NOT_DROPPED, &SERVICE_ACCOUNT_TOKEN] {
            assert!(!r.fix.kube.is_empty() && r.fix.run.is_empty(), "{}", r.id);
        }
    }
}
