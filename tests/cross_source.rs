//! One catalogue, whatever the source: each row is one configuration said
//! twice — as `docker create` flags on the real engine, and as the
//! equivalent pod spec served by the fake Kubernetes API — and both must
//! raise the same rule ids. Only the rules that apply to both sources are
//! compared (a rule applies to Kubernetes when it has a YAML fix; the three
//! pod-only rules and the engine-only ones have nothing to compare).
#![cfg(feature = "kube")]
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeSet;

use common::kube::{FakeApi, Objects, Served, expand};
use common::*;
use serde_json::{Value, json};
use shipshape::assess::assess;
use shipshape::model::kube::PssLevel;
use shipshape::policy::Policy;
use shipshape::rules::{ALL, Check};
use shipshape::sources::docker::{Engine, EnvSnapshot, scan};

/// The rules both sources are judged by.
fn shared() -> BTreeSet<&'static str> {
    ALL.iter()
        .filter(|r| matches!(r.check, Check::Container(_)) && !r.fix.kube.is_empty())
        .map(|r| r.id)
        .collect()
}

/// One configuration in both spellings.
struct Row {
    name: &'static str,
    /// Flags added to the hardened `docker create`.
    add: &'static [&'static str],
    /// Flags taken out of it.
    remove: &'static [&'static str],
    /// Merged into the hardened container's entry of the pod spec
    /// (`securityContext` keys are merged one level down).
    container: Value,
    /// Merged into the pod spec.
    pod: Value,
    /// The shared rule ids this configuration raises (checked on both).
    raises: &'static [&'static str],
    /// The Pod Security Standards control it fails, if the standards have
    /// one: the classifier must agree with the rules.
    pss: Option<&'static str>,
}

/// Hardened in both: no shared rule fires except the mutable tag, which
/// both references have.
const DOCKER_HARDENED: &[&str] = &[
    "--user",
    "10001",
    "--read-only",
    "--memory",
    "64m",
    "--cpus",
    "0.5",
    "--security-opt",
    "no-new-privileges",
    "--health-cmd",
    "true",
    "--cap-drop",
    "ALL",
];

fn pod_hardened() -> Value {
    json!({
        "name": "app",
        "image": BASE,
        "securityContext": {
            "runAsUser": 10001,
            "runAsNonRoot": true,
            "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false,
            "seccompProfile": { "type": "RuntimeDefault" },
            "capabilities": { "drop": ["ALL"] }
        },
        "resources": { "limits": { "memory": "64Mi", "cpu": "500m" } },
        "livenessProbe": { "exec": { "command": ["true"] } }
    })
}

fn rows() -> Vec<Row> {
    let row = |name, add, remove, container: Value, pod: Value, raises| Row {
        name,
        add,
        remove,
        container,
        pod,
        raises,
        pss: None,
    };
    let none = || json!({});
    let sc = |v: Value| json!({ "securityContext": v });
    let pss = |mut r: Row, control| {
        r.pss = Some(control);
        r
    };
    vec![
        row("hardened", &[], &[], none(), none(), &[]),
        pss(
            row(
                "privileged",
                &["--privileged"],
                // The API refuses privileged with allowPrivilegeEscalation:
                // false; an engine keeps no-new-privileges beside it.
                &[],
                sc(json!({"privileged": true, "allowPrivilegeEscalation": null})),
                none(),
                &["container.privileged"],
            ),
            "Privileged Containers",
        ),
        pss(
            row(
                "root",
                &["--user", "0"],
                &[],
                sc(json!({"runAsUser": 0})),
                none(),
                &["container.root-user"],
            ),
            "Running as Non-root user",
        ),
        pss(
            row(
                "cap-add",
                &["--cap-add", "NET_ADMIN"],
                &[],
                sc(json!({"capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}})),
                none(),
                &["container.cap-add"],
            ),
            "Capabilities",
        ),
        pss(
            row(
                "host-pid",
                &["--pid", "host"],
                &[],
                none(),
                json!({"hostPID": true}),
                &["container.host-pid"],
            ),
            "Host Namespaces",
        ),
        pss(
            row(
                "host-ipc",
                &["--ipc", "host"],
                &[],
                none(),
                json!({"hostIPC": true}),
                &["container.host-ipc"],
            ),
            "Host Namespaces",
        ),
        pss(
            row(
                "host-network",
                &["--network", "host"],
                &[],
                none(),
                json!({"hostNetwork": true}),
                &["container.host-network"],
            ),
            "Host Namespaces",
        ),
        pss(
            row(
                "seccomp",
                &["--security-opt", "seccomp=unconfined"],
                &[],
                sc(json!({"seccompProfile": {"type": "Unconfined"}})),
                none(),
                &["container.seccomp-unconfined"],
            ),
            "Seccomp",
        ),
        pss(
            row(
                "escalation",
                &[],
                &["--security-opt", "no-new-privileges"],
                sc(json!({"allowPrivilegeEscalation": true})),
                none(),
                &["container.no-new-privileges"],
            ),
            "Privilege Escalation",
        ),
        pss(
            row(
                "systempaths",
                &["--security-opt", "systempaths=unconfined"],
                &[],
                sc(json!({"procMount": "Unmasked"})),
                none(),
                &["container.unmasked-paths"],
            ),
            "/proc Mount Type",
        ),
        row(
            "writable-root",
            &[],
            &["--read-only"],
            sc(json!({"readOnlyRootFilesystem": false})),
            none(),
            &["container.writable-rootfs"],
        ),
        row(
            "no-limits",
            &[],
            &["--memory", "64m", "--cpus", "0.5"],
            json!({"resources": {}}),
            none(),
            &["container.no-memory-limit", "container.no-cpu-limit"],
        ),
        row(
            "no-health",
            &[],
            &["--health-cmd", "true"],
            json!({"livenessProbe": null}),
            none(),
            &["container.no-healthcheck"],
        ),
        row(
            "secret-env",
            &["-e", "DB_PASSWORD=correct-horse-battery"],
            &[],
            json!({"env": [{"name": "DB_PASSWORD", "value": "correct-horse-battery"}]}),
            none(),
            &["container.secret-env"],
        ),
        pss(
            row(
                "host-port",
                &["-p", "127.0.0.1:18931:80"],
                &[],
                json!({"ports": [{"containerPort": 80, "hostPort": 18931, "hostIP": "127.0.0.1"}]}),
                none(),
                &["container.published-ports"],
            ),
            "Host Ports",
        ),
        pss(
            row(
                "sysctl",
                &["--sysctl", "kernel.msgmax=65536"],
                &[],
                none(),
                json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}}),
                &["container.sysctls"],
            ),
            "Sysctls",
        ),
        pss(
            row(
                "etc-mount",
                &["-v", "/etc:/host/etc:ro"],
                &[],
                json!({"volumeMounts": [{"name": "etc", "mountPath": "/host/etc", "readOnly": true}]}),
                json!({"volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]}),
                &["container.sensitive-mount"],
            ),
            "HostPath Volumes",
        ),
        pss(
            row(
                "engine-socket",
                &["-v", "/var/run/docker.sock:/var/run/docker.sock"],
                &[],
                json!({"volumeMounts": [{"name": "sock", "mountPath": "/var/run/docker.sock"}]}),
                json!({"volumes": [{"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}]}),
                &["container.engine-socket"],
            ),
            "HostPath Volumes",
        ),
    ]
}

/// `b` merged into `a`; `null` removes a key; objects under
/// `securityContext` merge one level deeper.
fn merge(a: &mut Value, b: &Value) {
    let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) else {
        return;
    };
    for (k, v) in b {
        match (a.get_mut(k), v) {
            (_, Value::Null) => {
                a.remove(k);
            }
            (Some(old @ Value::Object(_)), Value::Object(_)) if k == "securityContext" => {
                merge(old, v)
            }
            _ => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

fn docker_flags(row: &Row) -> Vec<String> {
    // Take out each flag of `remove` with its value (pairs as written).
    let mut flags: Vec<&str> = DOCKER_HARDENED.to_vec();
    let mut i = 0;
    while i < row.remove.len() {
        let flag = row.remove[i];
        let value = row.remove.get(i + 1).filter(|v| !v.starts_with("--"));
        if let Some(at) = flags.iter().position(|f| *f == flag) {
            let takes = match (value, flags.get(at + 1)) {
                (Some(v), Some(f)) if f == v => 2,
                (None, _) => 1,
                _ => 1,
            };
            flags.drain(at..at + takes);
        }
        i += if value.is_some() { 2 } else { 1 };
    }
    // Later flags win (`--user 0` after `--user 10001`).
    flags.iter().chain(row.add).map(|s| s.to_string()).collect()
}

fn pod_spec(row: &Row, name: &str) -> Value {
    let mut ctr = pod_hardened();
    merge(&mut ctr, &row.container);
    let mut spec = json!({
        "containers": [ctr],
        "automountServiceAccountToken": false,
    });
    merge(&mut spec, &row.pod);
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": name, "namespace": "cross" },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": name } },
            "template": { "metadata": { "labels": { "app": name } }, "spec": spec }
        }
    })
}

#[test]
fn one_configuration_through_every_source_raises_the_same_rules() {
    let _serial = serial();
    engine();
    let shared = shared();
    let rows = rows();

    // The engine side: one created container per row.
    let mut fx = Fixture::new("xsrc");
    for row in &rows {
        let mut args = docker_flags(row);
        args.push(BASE.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fx.create(row.name, &args);
    }
    let rt = runtime();
    let engine = rt
        .block_on(Engine::discover_and_connect(
            Some("unix:///var/run/docker.sock"),
            &EnvSnapshot::from_process(),
        ))
        .expect("connect to the test engine");
    let inv = rt
        .block_on(scan::snapshot(&engine, &EnvSnapshot::from_process()))
        .unwrap();
    let a = assess(&inv, &Policy::default(), chrono::Utc::now());
    let ids_of = |a: &shipshape::assess::Assessment, id: &str| -> BTreeSet<String> {
        a.container(id)
            .unwrap()
            .findings
            .iter()
            .map(|f| f.rule_id.to_string())
            .filter(|r| shared.contains(r.as_str()))
            .collect()
    };

    // The cluster side: one Deployment per row.
    let mut objects = Objects::default();
    for row in &rows {
        expand(&pod_spec(row, row.name), &mut objects);
    }
    let api = FakeApi::start(Served {
        objects,
        resource_version: 1,
        ..Served::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    let cluster = rt
        .block_on(shipshape::sources::kube::scan(Some(&kc), "fake"))
        .unwrap();
    let ka = assess(&cluster, &Policy::default(), chrono::Utc::now());

    for row in &rows {
        let docker_name = fx.name(row.name);
        let c = inv
            .containers
            .iter()
            .find(|c| c.name == docker_name)
            .unwrap_or_else(|| panic!("{} not scanned", row.name));
        let on_engine = ids_of(&a, &c.id);
        let w = cluster
            .containers
            .iter()
            .find(|c| c.name == format!("cross/{}/app", row.name))
            .unwrap_or_else(|| panic!("workload {} not scanned", row.name));
        let on_cluster = ids_of(&ka, &w.id);

        let mut want: BTreeSet<String> = row.raises.iter().map(|s| s.to_string()).collect();
        // Both reference the image by a tag.
        want.insert("container.mutable-image-ref".into());
        assert_eq!(on_engine, want, "{}: the engine's findings", row.name);
        assert_eq!(on_cluster, want, "{}: the pod spec's findings", row.name);

        // The Pod Security Standards, classified on the same pod, agree.
        let verdict = &w.kube.as_ref().unwrap().pss;
        match row.pss {
            None => assert_eq!(
                verdict.level,
                PssLevel::Restricted,
                "{}: no control of the standards fails, yet {:?}",
                row.name,
                verdict.blockers
            ),
            Some(control) => assert!(
                verdict.level < PssLevel::Restricted
                    && verdict.blockers.iter().any(|b| b.starts_with(control)),
                "{}: the standards' control {control} should fail: {verdict:?}",
                row.name
            ),
        }
    }
}
