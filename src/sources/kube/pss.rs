//! Pod Security Standards: which level a pod spec meets, and which checks
//! keep it from the next.
//!
//! The checks and their allowed values are the ones the Kubernetes
//! documentation lists (<https://kubernetes.io/docs/concepts/security/pod-security-standards/>,
//! policy version `latest`), for Linux pods. Pure: a spec in, a verdict out.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;

use super::spec::{Ctr, containers};
use crate::model::kube::{PssLevel, PssVerdict};
use crate::model::normalise_cap;

/// Capabilities baseline lets a container add.
const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The sysctls baseline allows ("safe" sysctls).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// SELinux types baseline allows (besides none).
const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Volume types restricted allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const APPARMOR_ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

fn who(c: &Ctr) -> String {
    format!("{} {}", c.role.as_str(), c.name)
}

/// The volume type of a volume: the one source field it sets, as the API
/// spells it. (Spelled out: serialising a volume to find it would link a
/// serializer for every volume source into the binary.)
fn volume_type(v: &k8s_openapi::api::core::v1::Volume) -> &'static str {
    let sources: [(bool, &'static str); 30] = [
        (v.aws_elastic_block_store.is_some(), "awsElasticBlockStore"),
        (v.azure_disk.is_some(), "azureDisk"),
        (v.azure_file.is_some(), "azureFile"),
        (v.cephfs.is_some(), "cephfs"),
        (v.cinder.is_some(), "cinder"),
        (v.config_map.is_some(), "configMap"),
        (v.csi.is_some(), "csi"),
        (v.downward_api.is_some(), "downwardAPI"),
        (v.empty_dir.is_some(), "emptyDir"),
        (v.ephemeral.is_some(), "ephemeral"),
        (v.fc.is_some(), "fc"),
        (v.flex_volume.is_some(), "flexVolume"),
        (v.flocker.is_some(), "flocker"),
        (v.gce_persistent_disk.is_some(), "gcePersistentDisk"),
        (v.git_repo.is_some(), "gitRepo"),
        (v.glusterfs.is_some(), "glusterfs"),
        (v.host_path.is_some(), "hostPath"),
        (v.image.is_some(), "image"),
        (v.iscsi.is_some(), "iscsi"),
        (v.nfs.is_some(), "nfs"),
        (v.persistent_volume_claim.is_some(), "persistentVolumeClaim"),
        (v.photon_persistent_disk.is_some(), "photonPersistentDisk"),
        (v.portworx_volume.is_some(), "portworxVolume"),
        (v.projected.is_some(), "projected"),
        (v.quobyte.is_some(), "quobyte"),
        (v.rbd.is_some(), "rbd"),
        (v.scale_io.is_some(), "scaleIO"),
        (v.secret.is_some(), "secret"),
        (v.storageos.is_some(), "storageos"),
        (v.vsphere_volume.is_some(), "vsphereVolume"),
    ];
    sources
        .iter()
        .find(|(set, _)| *set)
        .map_or("emptyDir", |(_, name)| name)
}

fn volume_types(spec: &PodSpec) -> Vec<(String, &'static str)> {
    spec.volumes
        .iter()
        .flatten()
        .map(|v| (v.name.clone(), volume_type(v)))
        .collect()
}

/// The baseline checks the spec fails, each with the field that fails it.
pub fn baseline_failures(spec: &PodSpec, annotations: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    let pod = spec.security_context.as_ref();
    let ctrs = containers(spec);

    // HostProcess
    let host_process_pod = pod
        .and_then(|p| p.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true);
    if host_process_pod
        || ctrs.iter().any(|c| {
            c.security
                .and_then(|s| s.windows_options.as_ref())
                .and_then(|w| w.host_process)
                == Some(true)
        })
    {
        out.push("HostProcess: windowsOptions.hostProcess is true".into());
    }
    // Host namespaces
    for (on, field) in [
        (spec.host_network, "hostNetwork"),
        (spec.host_pid, "hostPID"),
        (spec.host_ipc, "hostIPC"),
    ] {
        if on == Some(true) {
            out.push(format!("Host Namespaces: {field} is true"));
        }
    }
    for c in &ctrs {
        let sc = c.security;
        // Privileged
        if sc.and_then(|s| s.privileged) == Some(true) {
            out.push(format!("Privileged Containers: {} is privileged", who(c)));
        }
        // Capabilities
        let added: Vec<String> = sc
            .and_then(|s| s.capabilities.as_ref())
            .and_then(|k| k.add.as_ref())
            .into_iter()
            .flatten()
            .map(|a| normalise_cap(a))
            .filter(|a| !BASELINE_CAPS.contains(&a.as_str()))
            .collect();
        if !added.is_empty() {
            out.push(format!(
                "Capabilities: {} adds {}",
                who(c),
                added.join(", ")
            ));
        }
        // Host ports
        for p in c.ports {
            if let Some(hp) = p.host_port.filter(|hp| *hp != 0) {
                out.push(format!("Host Ports: {} uses hostPort {hp}", who(c)));
            }
        }
        // AppArmor (field)
        if let Some(t) = sc
            .and_then(|s| s.app_armor_profile.as_ref())
            .map(|a| a.type_.as_str())
            .filter(|t| *t == "Unconfined")
        {
            out.push(format!("AppArmor: {} has appArmorProfile.type {t}", who(c)));
        }
        // SELinux
        if let Some(se) = sc.and_then(|s| s.se_linux_options.as_ref()) {
            out.extend(selinux(se, &who(c)));
        }
        // /proc mount
        if let Some(pm) = sc
            .and_then(|s| s.proc_mount.as_deref())
            .filter(|pm| *pm != "Default")
        {
            out.push(format!("/proc Mount Type: {} has procMount {pm}", who(c)));
        }
        // Seccomp (container)
        if sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .is_some_and(|p| p.type_ == "Unconfined")
        {
            out.push(format!(
                "Seccomp: {} has seccompProfile.type Unconfined",
                who(c)
            ));
        }
    }
    // HostPath volumes
    for v in spec.volumes.iter().flatten() {
        if let Some(hp) = &v.host_path {
            out.push(format!(
                "HostPath Volumes: volume {} is hostPath {}",
                v.name, hp.path
            ));
        }
    }
    // AppArmor (pod field and the older annotation)
    if pod
        .and_then(|p| p.app_armor_profile.as_ref())
        .is_some_and(|a| a.type_ == "Unconfined")
    {
        out.push("AppArmor: the pod's appArmorProfile.type is Unconfined".into());
    }
    for (k, v) in annotations {
        if let Some(name) = k.strip_prefix(APPARMOR_ANNOTATION)
            && v != "runtime/default"
            && !v.starts_with("localhost/")
        {
            out.push(format!(
                "AppArmor: annotation sets container {name}'s profile to {v}"
            ));
        }
    }
    // SELinux (pod)
    if let Some(se) = pod.and_then(|p| p.se_linux_options.as_ref()) {
        out.extend(selinux(se, "the pod"));
    }
    // Seccomp (pod)
    if pod
        .and_then(|p| p.seccomp_profile.as_ref())
        .is_some_and(|p| p.type_ == "Unconfined")
    {
        out.push("Seccomp: the pod's seccompProfile.type is Unconfined".into());
    }
    // Sysctls
    for s in pod.and_then(|p| p.sysctls.as_ref()).into_iter().flatten() {
        if !SAFE_SYSCTLS.contains(&s.name.as_str()) {
            out.push(format!("Sysctls: {} is not a safe sysctl", s.name));
        }
    }
    out
}

fn selinux(se: &k8s_openapi::api::core::v1::SELinuxOptions, who: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = se.type_.as_deref().filter(|t| !t.is_empty())
        && !SELINUX_TYPES.contains(&t)
    {
        out.push(format!("SELinux: {who} sets seLinuxOptions.type {t}"));
    }
    for (field, v) in [("user", &se.user), ("role", &se.role)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            out.push(format!("SELinux: {who} sets seLinuxOptions.{field} {v}"));
        }
    }
    out
}

/// The restricted checks (beyond baseline) the spec fails.
pub fn restricted_failures(spec: &PodSpec) -> Vec<String> {
    let mut out = Vec::new();
    let pod = spec.security_context.as_ref();
    let ctrs = containers(spec);

    for (name, kind) in volume_types(spec) {
        if !RESTRICTED_VOLUMES.contains(&kind) {
            out.push(format!("Volume Types: volume {name} is {kind}"));
        }
    }
    let pod_non_root = pod.and_then(|p| p.run_as_non_root);
    let pod_seccomp = pod
        .and_then(|p| p.seccomp_profile.as_ref())
        .map(|p| p.type_.as_str());
    if pod.and_then(|p| p.run_as_user) == Some(0) {
        out.push("Running as Non-root user: the pod's runAsUser is 0".into());
    }
    for c in &ctrs {
        let sc = c.security;
        if sc.and_then(|s| s.allow_privilege_escalation) != Some(false) {
            out.push(format!(
                "Privilege Escalation: {} does not set allowPrivilegeEscalation: false",
                who(c)
            ));
        }
        let non_root = sc.and_then(|s| s.run_as_non_root).or(pod_non_root);
        if non_root != Some(true) {
            out.push(format!(
                "Running as Non-root: {} does not set runAsNonRoot: true (nor does the pod)",
                who(c)
            ));
        }
        if sc.and_then(|s| s.run_as_user) == Some(0) {
            out.push(format!(
                "Running as Non-root user: {} has runAsUser 0",
                who(c)
            ));
        }
        let seccomp = sc
            .and_then(|s| s.seccomp_profile.as_ref())
            .map(|p| p.type_.as_str())
            .or(pod_seccomp);
        match seccomp {
            Some("RuntimeDefault" | "Localhost") => {}
            // Unconfined fails baseline already.
            Some("Unconfined") => {}
            Some(other) => out.push(format!(
                "Seccomp: {} has seccompProfile.type {other}",
                who(c)
            )),
            None => out.push(format!(
                "Seccomp: neither {} nor the pod sets seccompProfile.type RuntimeDefault or Localhost",
                who(c)
            )),
        }
        let caps = sc.and_then(|s| s.capabilities.as_ref());
        let drops_all = caps
            .and_then(|k| k.drop.as_ref())
            .is_some_and(|d| d.iter().any(|x| normalise_cap(x) == "ALL"));
        if !drops_all {
            out.push(format!("Capabilities: {} does not drop ALL", who(c)));
        }
        let extra: Vec<String> = caps
            .and_then(|k| k.add.as_ref())
            .into_iter()
            .flatten()
            .map(|a| normalise_cap(a))
            .filter(|a| a != "NET_BIND_SERVICE")
            .collect();
        if !extra.is_empty() {
            out.push(format!(
                "Capabilities: {} adds {} (only NET_BIND_SERVICE may be added)",
                who(c),
                extra.join(", ")
            ));
        }
    }
    out
}

/// The level the spec meets and what keeps it from the next one.
pub fn classify(spec: &PodSpec, annotations: &BTreeMap<String, String>) -> PssVerdict {
    let baseline = baseline_failures(spec, annotations);
    if !baseline.is_empty() {
        return PssVerdict {
            level: PssLevel::Privileged,
            blockers: baseline,
        };
    }
    let restricted = restricted_failures(spec);
    if restricted.is_empty() {
        PssVerdict {
            level: PssLevel::Restricted,
            blockers: vec![],
        }
    } else {
        PssVerdict {
            level: PssLevel::Baseline,
            blockers: restricted,
        }
    }
}

#[cfg(test)]
mod tests {
    //! The cases of the Pod Security Standards page: for each control, its
    //! allowed values keep the level, each restricted value drops it.
    use super::*;
    use serde_json::{Value, json};

    /// A pod that meets restricted: every case changes one field of it.
    fn restricted_pod() -> Value {
        json!({
            "securityContext": {
                "runAsNonRoot": true,
                "seccompProfile": {"type": "RuntimeDefault"}
            },
            "containers": [{
                "name": "app",
                "image": "registry.example/app@sha256:0123",
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]}
                }
            }],
            "volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}]
        })
    }

    fn level_with(change: impl FnOnce(&mut Value)) -> (PssLevel, Vec<String>) {
        level_with_annotations(change, &BTreeMap::new())
    }

    fn level_with_annotations(
        change: impl FnOnce(&mut Value),
        annotations: &BTreeMap<String, String>,
    ) -> (PssLevel, Vec<String>) {
        let mut v = restricted_pod();
        change(&mut v);
        let spec: PodSpec = serde_json::from_value(v).expect("a pod spec");
        let verdict = classify(&spec, annotations);
        (verdict.level, verdict.blockers)
    }

    fn ctr_sc(v: &mut Value) -> &mut Value {
        &mut v["containers"][0]["securityContext"]
    }

    #[test]
    fn the_reference_pod_is_restricted() {
        assert_eq!(level_with(|_| {}), (PssLevel::Restricted, vec![]));
    }

    #[test]
    fn baseline_host_process() {
        let (l, b) = level_with(|v| {
            ctr_sc(v)["windowsOptions"] = json!({"hostProcess": true});
        });
        assert_eq!(l, PssLevel::Privileged);
        assert!(b[0].starts_with("HostProcess"), "{b:?}");
        assert_eq!(
            level_with(|v| ctr_sc(v)["windowsOptions"] = json!({"hostProcess": false})).0,
            PssLevel::Restricted
        );
    }

    #[test]
    fn baseline_host_namespaces() {
        for field in ["hostNetwork", "hostPID", "hostIPC"] {
            let (l, b) = level_with(|v| v[field] = json!(true));
            assert_eq!(l, PssLevel::Privileged, "{field}");
            assert_eq!(b, [format!("Host Namespaces: {field} is true")]);
            assert_eq!(
                level_with(|v| v[field] = json!(false)).0,
                PssLevel::Restricted
            );
        }
    }

    #[test]
    fn baseline_privileged() {
        assert_eq!(
            level_with(|v| ctr_sc(v)["privileged"] = json!(true)).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["privileged"] = json!(false)).0,
            PssLevel::Restricted
        );
        // Init and ephemeral containers count too.
        let (l, b) = level_with(|v| {
            v["initContainers"] =
                json!([{"name": "setup", "securityContext": {"privileged": true}}]);
        });
        assert_eq!(l, PssLevel::Privileged);
        assert!(
            b.iter().any(|x| x.contains("init container setup")),
            "{b:?}"
        );
        let (l, _) = level_with(|v| {
            v["ephemeralContainers"] =
                json!([{"name": "debug", "securityContext": {"privileged": true}}]);
        });
        assert_eq!(l, PssLevel::Privileged);
    }

    #[test]
    fn baseline_capabilities() {
        // Every capability of the baseline list may be added (restricted
        // then fails on all but NET_BIND_SERVICE).
        for c in BASELINE_CAPS {
            let (l, _) = level_with(|v| ctr_sc(v)["capabilities"]["add"] = json!([c]));
            let want = if *c == "NET_BIND_SERVICE" {
                PssLevel::Restricted
            } else {
                PssLevel::Baseline
            };
            assert_eq!(l, want, "{c}");
        }
        for c in ["NET_RAW", "SYS_ADMIN", "NET_ADMIN", "ALL", "CAP_SYS_PTRACE"] {
            let (l, _) = level_with(|v| ctr_sc(v)["capabilities"]["add"] = json!([c]));
            assert_eq!(l, PssLevel::Privileged, "{c}");
        }
    }

    #[test]
    fn baseline_host_path_and_host_ports() {
        let (l, b) = level_with(|v| {
            v["volumes"] = json!([{"name": "root", "hostPath": {"path": "/"}}]);
        });
        assert_eq!(l, PssLevel::Privileged);
        assert_eq!(b, ["HostPath Volumes: volume root is hostPath /"]);
        let (l, b) = level_with(|v| {
            v["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 8080}]);
        });
        assert_eq!(l, PssLevel::Privileged);
        assert_eq!(b, ["Host Ports: container app uses hostPort 8080"]);
        assert_eq!(
            level_with(
                |v| v["containers"][0]["ports"] = json!([{"containerPort": 80, "hostPort": 0}])
            )
            .0,
            PssLevel::Restricted
        );
    }

    #[test]
    fn baseline_apparmor() {
        for t in ["RuntimeDefault", "Localhost"] {
            assert_eq!(
                level_with(
                    |v| ctr_sc(v)["appArmorProfile"] = json!({"type": t, "localhostProfile": "p"})
                )
                .0,
                PssLevel::Restricted,
                "{t}"
            );
        }
        assert_eq!(
            level_with(|v| ctr_sc(v)["appArmorProfile"] = json!({"type": "Unconfined"})).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| v["securityContext"]["appArmorProfile"] = json!({"type": "Unconfined"}))
                .0,
            PssLevel::Privileged
        );
        let key = format!("{APPARMOR_ANNOTATION}app");
        for (value, want) in [
            ("runtime/default", PssLevel::Restricted),
            ("localhost/mine", PssLevel::Restricted),
            ("unconfined", PssLevel::Privileged),
        ] {
            let ann = BTreeMap::from([(key.clone(), value.to_string())]);
            assert_eq!(level_with_annotations(|_| {}, &ann).0, want, "{value}");
        }
    }

    #[test]
    fn baseline_selinux() {
        for t in [
            "",
            "container_t",
            "container_init_t",
            "container_kvm_t",
            "container_engine_t",
        ] {
            assert_eq!(
                level_with(|v| ctr_sc(v)["seLinuxOptions"] = json!({"type": t, "level": "s0:c1"}))
                    .0,
                PssLevel::Restricted,
                "{t:?}"
            );
        }
        assert_eq!(
            level_with(|v| ctr_sc(v)["seLinuxOptions"] = json!({"type": "spc_t"})).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| v["securityContext"]["seLinuxOptions"] = json!({"user": "system_u"})).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["seLinuxOptions"] = json!({"role": "sysadm_r"})).0,
            PssLevel::Privileged
        );
    }

    #[test]
    fn baseline_proc_mount_seccomp_sysctls() {
        assert_eq!(
            level_with(|v| ctr_sc(v)["procMount"] = json!("Default")).0,
            PssLevel::Restricted
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["procMount"] = json!("Unmasked")).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["seccompProfile"] = json!({"type": "Unconfined"})).0,
            PssLevel::Privileged
        );
        assert_eq!(
            level_with(|v| v["securityContext"]["seccompProfile"] = json!({"type": "Unconfined"}))
                .0,
            PssLevel::Privileged
        );
        for s in SAFE_SYSCTLS {
            assert_eq!(
                level_with(|v| v["securityContext"]["sysctls"] = json!([{"name": s, "value": "1"}])).0,
                PssLevel::Restricted,
                "{s}"
            );
        }
        let (l, b) = level_with(|v| {
            v["securityContext"]["sysctls"] = json!([{"name": "kernel.msgmax", "value": "1"}]);
        });
        assert_eq!(l, PssLevel::Privileged);
        assert_eq!(b, ["Sysctls: kernel.msgmax is not a safe sysctl"]);
    }

    #[test]
    fn restricted_volume_types() {
        for t in RESTRICTED_VOLUMES {
            let (l, b) = level_with(|v| v["volumes"] = json!([{"name": "x", *t: {}}]));
            assert_eq!(l, PssLevel::Restricted, "{t} {b:?}");
        }
        for t in ["nfs", "gitRepo", "iscsi", "cephfs"] {
            let (l, b) = level_with(
                |v| v["volumes"] = json!([{"name": "x", t: {"server": "s", "path": "/", "repository": "r", "targetPortal": "t", "iqn": "i", "lun": 0, "monitors": []}}]),
            );
            assert_eq!(l, PssLevel::Baseline, "{t}");
            assert_eq!(b, [format!("Volume Types: volume x is {t}")]);
        }
    }

    #[test]
    fn restricted_privilege_escalation_and_non_root() {
        let (l, b) = level_with(|v| {
            ctr_sc(v)
                .as_object_mut()
                .map(|o| o.remove("allowPrivilegeEscalation"));
        });
        assert_eq!(l, PssLevel::Baseline);
        assert_eq!(
            b,
            ["Privilege Escalation: container app does not set allowPrivilegeEscalation: false"]
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["allowPrivilegeEscalation"] = json!(true)).0,
            PssLevel::Baseline
        );
        // runAsNonRoot: pod-level true, or every container true.
        let (l, _) = level_with(|v| {
            v["securityContext"]["runAsNonRoot"] = json!(false);
        });
        assert_eq!(l, PssLevel::Baseline);
        let (l, _) = level_with(|v| {
            v["securityContext"]
                .as_object_mut()
                .map(|o| o.remove("runAsNonRoot"));
            ctr_sc(v)["runAsNonRoot"] = json!(true);
        });
        assert_eq!(l, PssLevel::Restricted);
        let (l, _) = level_with(|v| ctr_sc(v)["runAsNonRoot"] = json!(false));
        assert_eq!(l, PssLevel::Baseline, "a container may not turn it off");
        // runAsUser 0 at either level; any other uid is fine.
        assert_eq!(
            level_with(|v| ctr_sc(v)["runAsUser"] = json!(0)).0,
            PssLevel::Baseline
        );
        assert_eq!(
            level_with(|v| v["securityContext"]["runAsUser"] = json!(0)).0,
            PssLevel::Baseline
        );
        assert_eq!(
            level_with(|v| ctr_sc(v)["runAsUser"] = json!(1000)).0,
            PssLevel::Restricted
        );
    }

    #[test]
    fn restricted_seccomp_and_capabilities() {
        // The container may set it when the pod does not.
        let (l, _) = level_with(|v| {
            v["securityContext"]
                .as_object_mut()
                .map(|o| o.remove("seccompProfile"));
            ctr_sc(v)["seccompProfile"] =
                json!({"type": "Localhost", "localhostProfile": "p.json"});
        });
        assert_eq!(l, PssLevel::Restricted);
        let (l, b) = level_with(|v| {
            v["securityContext"]
                .as_object_mut()
                .map(|o| o.remove("seccompProfile"));
        });
        assert_eq!(l, PssLevel::Baseline);
        assert!(b[0].starts_with("Seccomp: neither container app"), "{b:?}");
        // drop must include ALL.
        let (l, b) = level_with(|v| ctr_sc(v)["capabilities"] = json!({"drop": ["NET_RAW"]}));
        assert_eq!(l, PssLevel::Baseline);
        assert_eq!(b, ["Capabilities: container app does not drop ALL"]);
        assert_eq!(
            level_with(|v| ctr_sc(v)["capabilities"]["add"] = json!(["CHOWN"])).0,
            PssLevel::Baseline
        );
    }

    #[test]
    fn an_empty_pod_is_baseline() {
        let spec: PodSpec =
            serde_json::from_value(json!({"containers": [{"name": "c", "image": "nginx"}]}))
                .expect("spec");
        let v = classify(&spec, &BTreeMap::new());
        assert_eq!(v.level, PssLevel::Baseline);
        assert_eq!(v.blockers.len(), 4, "{:?}", v.blockers);
    }
}
