//! Kubernetes clusters as sources, without a real API server: the kubectl
//! fixtures served by a fake one on loopback (tests/common/kube.rs).
//! `scripts/kube-real-cluster.sh` runs the same expectations against a real
//! cluster (kind, k3d, …).
#![cfg(feature = "kube")]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::path::PathBuf;

use common::kube::{End, FakeApi, Hostile, MARKER, Objects, Served, WatchScript, lab};
use serde_json::json;
use shipshape::model::Inventory;
use shipshape::policy::Policy;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn serve(objects: Objects, forbidden: &[&str]) -> FakeApi {
    FakeApi::start(Served {
        objects,
        forbidden: forbidden.iter().map(|s| s.to_string()).collect(),
        resource_version: 100,
        ..Served::default()
    })
}

fn scan(api: &FakeApi, dir: &tempfile::TempDir) -> Inventory {
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    rt().block_on(shipshape::sources::kube::scan(Some(&kc), "fake"))
        .unwrap()
}

/// `subject | rule | severity | evidence`, sorted: what the expectations
/// file holds.
fn lines(inv: &Inventory, policy: &Policy) -> Vec<String> {
    let a = shipshape::assess::assess(inv, policy, chrono::Utc::now());
    let mut out = Vec::new();
    for c in &inv.containers {
        for f in &a.container(&c.id).unwrap().findings {
            out.push(format!(
                "{} | {} | {} | {}",
                c.name,
                f.rule_id,
                f.severity.as_str(),
                f.evidence
            ));
        }
    }
    out.sort();
    out
}

fn expected_path() -> PathBuf {
    common::repo_root().join("tests/fixtures/kube/expected.txt")
}

#[test]
fn every_fixture_gives_exactly_its_findings() {
    let dir = tempfile::tempdir().unwrap();
    let api = serve(lab(), &[]);
    let inv = scan(&api, &dir);
    let got = lines(&inv, &Policy::default());
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(expected_path(), got.join("\n") + "\n").unwrap();
    }
    let want: Vec<String> = std::fs::read_to_string(expected_path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        got, want,
        "findings differ from tests/fixtures/kube/expected.txt"
    );
    // Only gets: no write verb ever reached the server.
    assert!(
        api.requests().iter().all(|(r, _)| r.starts_with("GET ")),
        "{:?}",
        api.requests()
    );
}

#[test]
fn thirty_replicas_are_one_row_with_one_finding_each() {
    let dir = tempfile::tempdir().unwrap();
    let inv = scan(&serve(lab(), &[]), &dir);
    let web: Vec<_> = inv
        .containers
        .iter()
        .filter(|c| c.kube.as_ref().is_some_and(|w| w.name == "web"))
        .collect();
    assert_eq!(web.len(), 1, "one row for the Deployment's one container");
    let w = web[0].kube.as_ref().unwrap();
    assert_eq!(w.kind, shipshape::model::kube::WorkloadKind::Deployment);
    assert_eq!((w.pods.len(), w.running), (30, 30));
    let a = shipshape::assess::assess(&inv, &Policy::default(), chrono::Utc::now());
    let findings = &a.container(&web[0].id).unwrap().findings;
    let privileged_or_root: Vec<_> = findings
        .iter()
        .filter(|f| f.rule_id == "container.root-user")
        .collect();
    assert_eq!(privileged_or_root.len(), 1);
    assert!(privileged_or_root[0].evidence.ends_with("(30 pods)"));
}

#[test]
fn owners_roles_and_pod_security_levels() {
    use shipshape::model::kube::{ContainerRole, PssLevel, WorkloadKind};
    let dir = tempfile::tempdir().unwrap();
    let inv = scan(&serve(lab(), &[]), &dir);
    let rows: Vec<(String, WorkloadKind, ContainerRole, PssLevel, usize)> = inv
        .containers
        .iter()
        .map(|c| {
            let w = c.kube.as_ref().unwrap();
            (c.name.clone(), w.kind, w.role, w.pss.level, w.pods.len())
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "dev/debug/alpine".to_string(),
                WorkloadKind::Pod,
                ContainerRole::Container,
                PssLevel::Privileged,
                1
            ),
            (
                "dev/debug/debugger".to_string(),
                WorkloadKind::Pod,
                ContainerRole::Ephemeral,
                PssLevel::Privileged,
                1
            ),
            (
                "kube-system/node-agent/agent".to_string(),
                WorkloadKind::DaemonSet,
                ContainerRole::Container,
                PssLevel::Privileged,
                2
            ),
            (
                "ops/backup/backup".to_string(),
                WorkloadKind::CronJob,
                ContainerRole::Container,
                PssLevel::Privileged,
                1
            ),
            (
                "shop/api/api".to_string(),
                WorkloadKind::Deployment,
                ContainerRole::Container,
                PssLevel::Restricted,
                3
            ),
            (
                "shop/api/migrate".to_string(),
                WorkloadKind::Deployment,
                ContainerRole::Init,
                PssLevel::Restricted,
                3
            ),
            (
                "shop/web/nginx".to_string(),
                WorkloadKind::Deployment,
                ContainerRole::Container,
                PssLevel::Baseline,
                30
            ),
        ]
    );
    let web = inv
        .containers
        .iter()
        .find(|c| c.name == "shop/web/nginx")
        .unwrap();
    let blockers = &web.kube.as_ref().unwrap().pss.blockers;
    assert!(
        blockers
            .iter()
            .any(|b| b.starts_with("Privilege Escalation")),
        "{blockers:?}"
    );
    // The namespaces' Pod Security labels.
    let cluster = inv.cluster.as_ref().unwrap();
    let shop = cluster.namespace("shop").unwrap();
    assert_eq!(shop.enforced(), Some(PssLevel::Baseline));
    assert_eq!(shop.describe(), "enforce=baseline, warn=restricted");
    assert_eq!(
        cluster.namespace("dev").unwrap().describe(),
        "no Pod Security labels"
    );
}

#[test]
fn two_clusters_with_the_same_workload_are_two_rows() {
    let api = serve(lab(), &[]);
    let dir = tempfile::tempdir().unwrap();
    let kc = common::kube::write_kubeconfig(
        dir.path(),
        &[
            ("staging", &api.url(), json!({"token": "t"})),
            ("prod", &api.url(), json!({"token": "t"})),
        ],
    );
    let rt = rt();
    let read = |context: &str| {
        rt.block_on(shipshape::sources::kube::scan(Some(&kc), context))
            .unwrap()
    };
    let (staging, prod) = (read("staging"), read("prod"));
    let ids = |inv: &Inventory| -> HashSet<String> {
        inv.containers.iter().map(|c| c.id.clone()).collect()
    };
    let names = |inv: &Inventory| -> HashSet<String> {
        inv.containers.iter().map(|c| c.name.clone()).collect()
    };
    assert_eq!(names(&staging), names(&prod), "the same workloads");
    assert!(
        ids(&staging).is_disjoint(&ids(&prod)),
        "no row id of one cluster is another's"
    );
    let web = staging
        .containers
        .iter()
        .find(|c| c.name == "shop/web/nginx")
        .unwrap();
    assert!(web.id.ends_with("@staging"), "{}", web.id);
    // Each finding belongs to its own cluster's row.
    let a = shipshape::assess::assess(&prod, &Policy::default(), chrono::Utc::now());
    assert!(a.container(&web.id).is_none());
}

#[test]
fn forbidden_resources_and_namespaces_are_notes_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    // Cluster-wide pods, ReplicaSets, Jobs and the ops namespace forbidden.
    let api = serve(lab(), &["pods", "replicasets", "jobs", "pods/ops"]);
    let inv = scan(&api, &dir);
    let notes = &inv.cluster.as_ref().unwrap().notes;
    assert_eq!(
        notes,
        &[
            "may not list pods cluster-wide: read namespace by namespace, and polled instead of watched",
            "may not list pods in namespace ops: not shown",
            "may not list replicasets: Deployments are recognised by the pods' pod-template-hash label",
            "may not list jobs: pods of CronJobs are shown under their Job",
        ]
    );
    // The same notes reach the report.
    let texts: Vec<&String> = inv.warnings.iter().map(|w| &w.text).collect();
    assert_eq!(texts, notes.iter().collect::<Vec<_>>());
    assert!(
        inv.warnings
            .iter()
            .all(|w| w.kind == shipshape::model::WarningKind::Cluster)
    );
    let names: HashSet<&str> = inv.containers.iter().map(|c| c.name.as_str()).collect();
    assert!(!names.iter().any(|n| n.starts_with("ops/")), "{names:?}");
    // Deployments are still recognised, from pod-template-hash.
    let web = inv
        .containers
        .iter()
        .find(|c| c.name == "shop/web/nginx")
        .unwrap();
    assert_eq!(
        web.kube.as_ref().unwrap().kind,
        shipshape::model::kube::WorkloadKind::Deployment
    );
}

#[test]
fn pods_are_read_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let api = serve(lab(), &[]);
    let inv = scan(&api, &dir);
    let pods: usize = inv
        .containers
        .iter()
        .filter(|c| c.kube.as_ref().unwrap().role != shipshape::model::kube::ContainerRole::Init)
        .filter(|c| {
            c.kube.as_ref().unwrap().role != shipshape::model::kube::ContainerRole::Ephemeral
        })
        .map(|c| c.kube.as_ref().unwrap().pods.len())
        .sum();
    assert_eq!(pods, 37, "every pod of every page");
    let pages = api
        .requests()
        .iter()
        .filter(|(r, _)| r.starts_with("GET /api/v1/pods?"))
        .count();
    assert_eq!(pages, 6, "37 pods in pages of 7");
}

#[test]
fn an_exec_plugin_provides_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let api = FakeApi::start(Served {
        objects: lab(),
        token: Some("from-exec".into()),
        resource_version: 100,
        ..Served::default()
    });
    let credential = r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-exec"}}"#;
    let kc = api.kubeconfig(
        dir.path(),
        json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh", "args": ["-c", format!("echo '{credential}'")],
            "interactiveMode": "Never",
        }}),
    );
    let inv = rt()
        .block_on(shipshape::sources::kube::scan(Some(&kc), "fake"))
        .unwrap();
    assert_eq!(inv.containers.len(), 7);
    assert!(
        api.requests()
            .iter()
            .all(|(_, auth)| auth == "Bearer from-exec")
    );
}

#[test]
fn a_login_it_cannot_do_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let api = serve(lab(), &[]);
    // The exec plugin fails, as `aws eks get-token` does without a session.
    let kc = api.kubeconfig(
        dir.path(),
        json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "sh", "args": ["-c", "echo 'Error: no SSO session; run aws sso login' >&2; exit 1"],
            "interactiveMode": "Never",
        }}),
    );
    let err = rt()
        .block_on(shipshape::sources::kube::scan(Some(&kc), "fake"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("context 'fake' needs a login shipshape cannot do"),
        "{err}"
    );
    assert!(err.contains("no SSO session"), "{err}");
    // A token the server refuses is a login too.
    let api = FakeApi::start(Served {
        objects: lab(),
        token: Some("right".into()),
        ..Served::default()
    });
    let kc = api.kubeconfig(dir.path(), json!({"token": "wrong"}));
    let err = rt()
        .block_on(shipshape::sources::kube::scan(Some(&kc), "fake"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("refused the credentials (401"), "{err}");
}

#[test]
fn an_unreachable_cluster_is_an_error_not_an_empty_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let kc = common::kube::write_kubeconfig(dir.path(), &[("gone", &url, json!({"token": "t"}))]);
    let err = rt()
        .block_on(shipshape::sources::kube::scan(Some(&kc), "gone"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot reach the API server of 'gone'"),
        "{err}"
    );
    let err = rt()
        .block_on(shipshape::sources::kube::scan(Some(&kc), "nope"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no context named 'nope'"), "{err}");
}

#[test]
fn waivers_target_a_namespace_or_a_workload() {
    let dir = tempfile::tempdir().unwrap();
    let inv = scan(&serve(lab(), &[]), &dir);
    let policy = Policy::from_toml_str(
        r#"
[[waiver]]
rule = "container.writable-rootfs"
target = "shop/*"
reason = "shop images write to /tmp; tracked in SHOP-12"

[[waiver]]
rule = "container.privileged"
target = "kube-system/daemonset/node-agent"
reason = "the node agent needs the host"
"#,
        None,
    )
    .unwrap();
    let a = shipshape::assess::assess(&inv, &policy, chrono::Utc::now());
    let waived: Vec<(String, &str)> = inv
        .containers
        .iter()
        .flat_map(|c| {
            a.container(&c.id)
                .unwrap()
                .findings
                .iter()
                .filter(|f| f.is_waived())
                .map(|f| (c.name.clone(), f.rule_id))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        waived,
        [
            (
                "kube-system/node-agent/agent".to_string(),
                "container.privileged"
            ),
            ("shop/web/nginx".to_string(), "container.writable-rootfs"),
        ]
    );
}

/// The list stays current through the watch: an added pod appears, a
/// dropped watch resumes from the last resourceVersion, a deleted pod goes.
#[test]
fn the_watch_keeps_the_list_current_and_resumes_after_a_drop() {
    let objects = lab();
    let mut added = Objects::default();
    let mut renamed = common::kube::fixture("debug");
    renamed["metadata"]["name"] = json!("debug-2");
    common::kube::expand(&renamed, &mut added);
    let mut new_pod = added.pods[0].clone();
    new_pod["metadata"]["resourceVersion"] = json!("101");
    let mut gone = objects
        .pods
        .iter()
        .find(|p| p["metadata"]["name"] == "debug")
        .unwrap()
        .clone();
    gone["metadata"]["resourceVersion"] = json!("102");
    let api = FakeApi::start(Served {
        objects,
        resource_version: 100,
        watches: [
            WatchScript {
                events: vec![json!({"type": "ADDED", "object": new_pod})],
                end: End::Drop,
            },
            WatchScript {
                events: vec![json!({"type": "DELETED", "object": gone})],
                end: End::Hold,
            },
        ]
        .into(),
        ..Served::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    let rt = rt();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cfg = shipshape::watch::kube::KubeConfig {
        kubeconfig: Some(kc),
        context: "fake".into(),
        policy: std::sync::Arc::new(Policy::default()),
        poll_interval: std::time::Duration::from_secs(3600),
        settle: std::time::Duration::from_millis(50),
        audit: Some(dir.path().join("audit.jsonl")),
        audit_retention: Default::default(),
        mode: "test",
        limits: shipshape::sources::kube::LIMITS,
    };
    let task = rt.spawn(shipshape::watch::kube::run(cfg, tx));
    let names = |s: &shipshape::watch::messages::Snapshot| -> Vec<String> {
        s.inventory
            .containers
            .iter()
            .filter(|c| c.name.starts_with("dev/"))
            .map(|c| format!("{} {}", c.name, c.kube.as_ref().unwrap().pods.len()))
            .collect()
    };
    let mut seen = Vec::new();
    let mut timeline = Vec::new();
    let mut posture = 0;
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            match ev {
                shipshape::watch::messages::Event::Snapshot(s) => {
                    let n = names(&s);
                    if seen.last() != Some(&n) {
                        seen.push(n);
                    }
                    if seen.len() == 3 {
                        break;
                    }
                }
                shipshape::watch::messages::Event::Activity(a) => {
                    timeline.push((a.action.clone(), a.name.clone(), a.engine.clone()))
                }
                shipshape::watch::messages::Event::Posture(p) => posture += p.len(),
                _ => {}
            }
        }
        // Nobody listens any more: the worker ends its session and flushes
        // the audit log.
        drop(rx);
        tokio::time::timeout(std::time::Duration::from_secs(10), task)
            .await
            .expect("the worker stops when its receiver goes away")
            .unwrap();
    });
    assert_eq!(
        seen,
        [
            vec!["dev/debug/alpine 1", "dev/debug/debugger 1"],
            vec![
                "dev/debug-2/alpine 1",
                "dev/debug-2/debugger 1",
                "dev/debug/alpine 1",
                "dev/debug/debugger 1"
            ],
            vec!["dev/debug-2/alpine 1", "dev/debug-2/debugger 1"],
        ]
    );
    // The cluster's timeline, like an engine's: the pod that came and went,
    // and the new workload assessed, each named with its context.
    let pod = |action: &str, name: &str| {
        timeline
            .iter()
            .any(|(a, n, e)| a == action && n == name && e == "fake")
    };
    assert!(pod("pod_added", "dev/debug-2"), "{timeline:?}");
    assert!(pod("pod_removed", "dev/debug"), "{timeline:?}");
    assert!(
        timeline
            .iter()
            .any(|(a, n, _)| a == "assessed" && n == "dev/debug-2/debugger"),
        "{timeline:?}"
    );
    assert!(
        posture >= 2,
        "a posture point per scan that moved: {posture}"
    );
    // … and its audit trail: the same entries, in an intact chain.
    let log = dir.path().join("audit.jsonl");
    let records = shipshape::audit::tail(&log, 1000).unwrap();
    let kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    for kind in [
        "session_start",
        "connect",
        "scan",
        "event",
        "finding",
        "session_end",
    ] {
        assert!(kinds.contains(&kind), "no {kind} record: {kinds:?}");
    }
    assert!(
        records.iter().any(|r| r.kind == "event"
            && r.data["action"] == "pod_added"
            && r.data["engine"] == "fake"),
        "{records:?}"
    );
    assert!(
        shipshape::audit::verify(&log).unwrap().is_ok(),
        "the chain verifies"
    );
    let watches: Vec<String> = api
        .requests()
        .into_iter()
        .map(|(r, _)| r)
        .filter(|r| r.contains("watch=true"))
        .collect();
    assert_eq!(watches.len(), 2, "{watches:?}");
    assert!(watches[0].contains("resourceVersion=100"), "{watches:?}");
    assert!(
        watches[1].contains("resourceVersion=101"),
        "the second watch resumes after the last event seen: {watches:?}"
    );
}

/// `shipshape --kubeconfig … scan --kube-context fake --no-vulns` and
/// `extra`, as a user runs it.
fn scan_cli(api: &FakeApi, dir: &tempfile::TempDir, extra: &[&str]) -> std::process::Output {
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["--kubeconfig", kc.to_str().unwrap()])
        .args(["scan", "--kube-context", "fake", "--no-vulns"])
        .args(extra)
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("SHIPSHAPE_LOG")
        .output()
        .unwrap()
}

/// The pod watch is bounded as the lists are: it follows no more pods
/// than a list may hold (the rest are said to be cut), and an event over
/// the answer ceiling is not read — the cluster is polled until its next
/// list instead of resuming into the same event.
#[test]
fn the_watch_is_bounded_like_the_lists() {
    use shipshape::watch::messages::Event;
    let objects = lab();
    let base = objects.pods[0].clone();
    let mut events: Vec<serde_json::Value> = (0..5)
        .map(|i| {
            let mut p = base.clone();
            p["metadata"]["name"] = json!(format!("extra-{i}"));
            p["metadata"]["resourceVersion"] = json!((101 + i).to_string());
            json!({"type": "ADDED", "object": p})
        })
        .collect();
    let mut big = base.clone();
    big["metadata"]["name"] = json!("big");
    big["metadata"]["annotations"] = json!({ "padding": "x".repeat(200_000) });
    events.push(json!({"type": "ADDED", "object": big}));
    let api = FakeApi::start(Served {
        objects,
        resource_version: 100,
        watches: [WatchScript {
            events,
            end: End::Hold,
        }]
        .into(),
        ..Served::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = shipshape::watch::kube::KubeConfig {
        kubeconfig: Some(api.kubeconfig(dir.path(), json!({"token": "t"}))),
        context: "fake".into(),
        policy: std::sync::Arc::new(Policy::default()),
        poll_interval: std::time::Duration::from_secs(3600),
        settle: std::time::Duration::from_millis(50),
        audit: None,
        audit_retention: Default::default(),
        mode: "test",
        // 37 pods listed, room for 3 more; a page of 7 fits, the big
        // pod's event does not.
        limits: shipshape::sources::kube::Limits {
            items: 40,
            answer_bytes: 128 << 10,
            ..shipshape::sources::kube::LIMITS
        },
    };
    let rt = rt();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = rt.spawn(shipshape::watch::kube::run(cfg, tx));
    let note = "the cluster's list of pods was truncated at the ceiling of 40 objects: 40 pods \
                read, the rest are not shown";
    let (mut added, mut warnings, mut noted) = (Vec::new(), Vec::new(), false);
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            match ev {
                Event::Activity(a) if a.action == "pod_added" => added.push(a.name.clone()),
                Event::Warning(w) => warnings.push(w),
                Event::Snapshot(s) => {
                    noted |= s.inventory.warnings.iter().any(|w| {
                        w.text == note && w.kind == shipshape::model::WarningKind::Truncated
                    })
                }
                _ => {}
            }
            if noted && !warnings.is_empty() {
                break;
            }
        }
        drop(rx);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), task).await;
    });
    assert_eq!(added, ["shop/extra-0", "shop/extra-1", "shop/extra-2"]);
    assert!(noted, "no snapshot says the pods are cut");
    assert_eq!(
        warnings,
        [
            "watch of pods: 'fake': the API server's answer is larger than 128 KiB (not read); \
          the cluster is polled until its next full list"
        ]
    );
    let watches = api
        .requests()
        .iter()
        .filter(|(r, _)| r.contains("watch=true"))
        .count();
    assert_eq!(watches, 1, "polled, not watched again");
}

#[test]
fn scan_cli_reports_a_cluster_with_kubernetes_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let api = serve(lab(), &[]);
    let out = scan_cli(&api, &dir, &["-q"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["engines"][0]["name"], "fake");
    assert_eq!(report["engine"]["product"], "Kubernetes");
    let web = report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "shop/web/nginx")
        .unwrap();
    assert_eq!(web["kubernetes"]["kind"], "Deployment");
    assert_eq!(web["kubernetes"]["pods"].as_array().unwrap().len(), 30);
    assert_eq!(web["kubernetes"]["pod_security_level"], "baseline");
    assert_eq!(
        web["kubernetes"]["namespace_pod_security"]["enforce"],
        "baseline"
    );
    let root = web["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "container.root-user")
        .unwrap();
    assert_eq!(
        root["remediation"]["kubernetes"],
        "securityContext:\n  runAsNonRoot: true\n  runAsUser: 10001"
    );
    assert_eq!(root["remediation"]["docker_run"], "");
    // No engine rules on a cluster.
    assert_eq!(report["engine_findings"].as_array().unwrap().len(), 0);
    // The secret's value never reaches the report.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("hunter2"), "a secret value leaked");
}

fn hostile(h: Hostile) -> FakeApi {
    FakeApi::start(Served {
        objects: lab(),
        resource_version: 100,
        hostile: Some(h),
        ..Served::default()
    })
}

/// Connect to `api` with `limits`, and read once.
fn read_with(
    api: &FakeApi,
    dir: &tempfile::TempDir,
    limits: shipshape::sources::kube::Limits,
) -> Result<(shipshape::sources::kube::Lists, Option<String>), String> {
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    rt().block_on(async {
        let cluster = shipshape::sources::kube::connect_with(Some(&kc), "fake", limits)
            .await
            .map_err(|e| e.to_string())?;
        cluster.read().await.map_err(|e| e.to_string())
    })
}

/// The texts of notes, each checked to say a list was cut.
fn cut_texts(notes: &[shipshape::model::Warning]) -> Vec<&str> {
    assert!(
        notes
            .iter()
            .all(|n| n.kind == shipshape::model::WarningKind::Truncated),
        "{notes:?}"
    );
    notes.iter().map(|n| n.text.as_str()).collect()
}

fn pod_pages(api: &FakeApi) -> usize {
    api.requests()
        .iter()
        .filter(|(r, _)| r.starts_with("GET /api/v1/pods?"))
        .count()
}

/// D11: a `continue` token that never ends. The scan ends at the page
/// ceiling, keeps what it read, and says — in the report and on the
/// terminal — that the list is cut and where.
#[test]
fn endless_paging_ends_at_its_ceiling_and_the_list_is_said_to_be_cut() {
    let dir = tempfile::tempdir().unwrap();
    let api = hostile(Hostile::EndlessContinue);
    let out = scan_cli(&api, &dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let note = "the cluster's list of pods was truncated at the ceiling of 1,000 pages (the API \
                server's paging did not end): 7 pods read, the rest are not shown";
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["warnings"], json!([note]), "{stderr}");
    assert!(stderr.contains(&format!("warning: {note}")), "{stderr}");
    assert_eq!(pod_pages(&api), 1000, "no page past the ceiling");
    // What was read is shown: the first page's pods.
    assert!(!report["containers"].as_array().unwrap().is_empty());
}

/// D11: a token given twice would page forever: it ends the list there.
#[test]
fn a_repeated_continue_token_ends_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let api = hostile(Hostile::SameContinue);
    let (lists, rv) = read_with(&api, &dir, shipshape::sources::kube::LIMITS).unwrap();
    assert_eq!(
        cut_texts(&lists.notes),
        [
            "the cluster's list of pods was truncated at a repeated continue token (the API \
          server's paging would never end): 14 pods read, the rest are not shown"
        ]
    );
    assert_eq!(pod_pages(&api), 2);
    assert_eq!(rv, None, "a cut list is polled, never watched from");
}

/// D11: the ceilings on objects and on the time of one read, each named.
#[test]
fn a_list_is_cut_at_its_object_and_time_ceilings() {
    use shipshape::sources::kube::{LIMITS, Limits};
    let dir = tempfile::tempdir().unwrap();
    // 37 pods in pages of 7, at most 10 kept.
    let api = serve(lab(), &[]);
    let (lists, rv) = read_with(
        &api,
        &dir,
        Limits {
            items: 10,
            ..LIMITS
        },
    )
    .unwrap();
    assert_eq!(lists.pods.len(), 10);
    assert_eq!(
        cut_texts(&lists.notes),
        [
            "the cluster's list of pods was truncated at the ceiling of 10 objects: 10 pods read, \
          the rest are not shown"
        ]
    );
    assert_eq!(rv, None);
    assert_eq!(pod_pages(&api), 2, "no page after the one that passed it");
    // The second page takes a minute: the read ends at its deadline.
    let api = hostile(Hostile::SlowAfterFirst);
    let (lists, _) = read_with(
        &api,
        &dir,
        Limits {
            read_time: std::time::Duration::from_secs(3),
            ..LIMITS
        },
    )
    .unwrap();
    // The lists after it have no time left: cut with nothing read, and said.
    assert_eq!(
        cut_texts(&lists.notes),
        [
            "the cluster's list of pods was truncated at the ceiling of 3 s for reading a \
             cluster: 7 pods read, the rest are not shown",
            "the cluster's list of replicasets was truncated at the ceiling of 3 s for reading \
             a cluster: 0 replicasets read, the rest are not shown",
            "the cluster's list of jobs was truncated at the ceiling of 3 s for reading a \
             cluster: 0 jobs read, the rest are not shown",
        ]
    );
    assert_eq!(lists.pods.len(), 7);
    assert!(lists.replica_sets.is_empty() && lists.jobs.is_empty());
}

/// D12: a pod list of millions that ignores `limit=500`. The answer is
/// read to its ceiling and no further, and with no pod read the cluster is
/// an error naming the ceiling, never an empty cluster. (Peak memory:
/// scripts/bench-kube-hostile.sh, bench/kube-hostile-results.md.)
#[test]
fn a_huge_list_answer_is_read_to_its_ceiling_and_no_further() {
    let dir = tempfile::tempdir().unwrap();
    let api = hostile(Hostile::Huge(3_000_000));
    let out = scan_cli(&api, &dir, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "shipshape: 'fake': no pod could be read: the list was cut at the ceiling of 64 MiB \
         for one answer (a larger answer was not read)"
    );
    let sent = api.state.lock().unwrap().hostile_bytes;
    assert!(
        sent < (64 + 16) << 20,
        "the client read on past its ceiling: {sent} bytes sent"
    );
    // A smaller ceiling is the same path: the read stops there.
    let api = hostile(Hostile::Huge(3_000_000));
    let err = read_with(
        &api,
        &dir,
        shipshape::sources::kube::Limits {
            answer_bytes: 1 << 20,
            ..shipshape::sources::kube::LIMITS
        },
    )
    .unwrap_err();
    assert!(err.contains("ceiling of 1 MiB for one answer"), "{err}");
}

/// D13: an answer that is no Kubernetes object, and an error page instead
/// of a Status. One error line each, through shipshape's own path; no
/// byte of the server's body beyond a bounded, escaped excerpt of an
/// error message, and nothing from kube-client's logging.
#[test]
fn a_broken_answer_is_one_error_line_without_the_servers_body() {
    let dir = tempfile::tempdir().unwrap();
    for (h, says) in [
        (
            Hostile::Invalid(200_000),
            "shipshape: 'fake': the API server's answer is not what Kubernetes sends: ",
        ),
        (
            Hostile::ErrorPage(200_000),
            "shipshape: 'fake': <html><body><h1>502 Bad Gateway</h1><p>upstream</p>",
        ),
    ] {
        let api = hostile(h.clone());
        let out = scan_cli(&api, &dir, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{h:?}: {stderr}");
        assert!(
            api.state.lock().unwrap().hostile_bytes > 100_000 || matches!(h, Hostile::ErrorPage(_)),
            "the body was sent"
        );
        assert_eq!(stderr.lines().count(), 1, "{h:?}: {stderr}");
        assert!(stderr.starts_with(says), "{h:?}: {stderr}");
        assert!(!stderr.contains(MARKER), "{h:?}: the body reached stderr");
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
            "{h:?}: {stderr}"
        );
        assert!(
            stderr.len() < 1500,
            "{h:?}: {} bytes on stderr",
            stderr.len()
        );
    }
    // Debug logging asked for, kube-client still not named: still quiet.
    let api = hostile(Hostile::Invalid(200_000));
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["--kubeconfig", kc.to_str().unwrap()])
        .args(["scan", "--kube-context", "fake", "--no-vulns"])
        .env("XDG_CONFIG_HOME", dir.path())
        .env("SHIPSHAPE_LOG", "debug")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains(MARKER));
}

/// "A cluster cannot be watched headless": `watch --kube-context` follows
/// the cluster as the window does, and writes the audit trail.
#[test]
fn watch_cli_follows_a_cluster_and_records_a_pod_added() {
    let objects = lab();
    let mut added = Objects::default();
    let mut renamed = common::kube::fixture("debug");
    renamed["metadata"]["name"] = json!("debug-2");
    common::kube::expand(&renamed, &mut added);
    let mut new_pod = added.pods[0].clone();
    new_pod["metadata"]["resourceVersion"] = json!("101");
    let api = FakeApi::start(Served {
        objects,
        resource_version: 100,
        watches: [WatchScript {
            events: vec![json!({"type": "ADDED", "object": new_pod})],
            end: End::Hold,
        }]
        .into(),
        ..Served::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let kc = api.kubeconfig(dir.path(), json!({"token": "t"}));
    let log = dir.path().join("audit.jsonl");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["--kubeconfig", kc.to_str().unwrap()])
        .args(["watch", "--kube-context", "fake", "--audit-log"])
        .arg(&log)
        .env("XDG_CONFIG_HOME", dir.path())
        // No engine is asked for, so none is looked at.
        .env("DOCKER_HOST", "unix:///nonexistent-kube-test.sock")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let records = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let start = std::time::Instant::now();
    let added = |r: &serde_json::Value| {
        r["kind"] == "event" && r["data"]["action"] == "pod_added" && r["data"]["engine"] == "fake"
    };
    while !records().iter().any(added) && start.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records = records();
    assert!(records.iter().any(added), "{records:?}\n{stderr}");
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "shipshape: watching {} (kubeconfig context fake)",
            api.url()
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("nonexistent-kube-test"),
        "an engine was looked for: {stderr}"
    );
    assert!(stdout.contains("dev/debug-2"), "{stdout}");
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    for kind in ["session_start", "connect", "scan", "event", "session_end"] {
        assert!(kinds.contains(&kind), "no {kind} record: {kinds:?}");
    }
    assert!(
        shipshape::audit::verify(&log).unwrap().is_ok(),
        "the chain verifies"
    );
}

/// Not a test: serves the fixtures for a person or a script (the README
/// screenshot, scripts/bench-kube-hostile.sh) until HOLD seconds pass, with
/// a kubeconfig (context `lab`) written to $KUBE_FAKE_DIR; KUBE_FAKE_MODE
/// `huge`, `endless`, `fat` (pages of $PODS_PER_PAGE pods, each with an
/// annotation of $POD_PADDING bytes, forever) or
/// `invalid` serves a hostile pod list instead.
///   KUBE_FAKE_DIR=/tmp/k HOLD=600 cargo test --test kube serve_fake_cluster -- --ignored
#[test]
#[ignore = "a helper for scripts/screenshot-kube.sh, not a test"]
fn serve_fake_cluster() {
    let dir = PathBuf::from(std::env::var("KUBE_FAKE_DIR").unwrap());
    let hold: u64 = std::env::var("HOLD")
        .ok()
        .and_then(|h| h.parse().ok())
        .unwrap_or(600);
    let api = match std::env::var("KUBE_FAKE_MODE").as_deref() {
        Ok("huge") => hostile(Hostile::Huge(3_000_000)),
        Ok("endless") => hostile(Hostile::EndlessContinue),
        Ok("fat") => {
            let var = |name: &str, or: usize| {
                std::env::var(name)
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(or)
            };
            hostile(Hostile::FatPages(
                var("PODS_PER_PAGE", 20_000),
                var("POD_PADDING", 0),
            ))
        }
        Ok("invalid") => hostile(Hostile::Invalid(200_000)),
        _ => serve(lab(), &["pods/kube-public"]),
    };
    let kc = common::kube::write_kubeconfig(&dir, &[("lab", &api.url(), json!({"token": "t"}))]);
    eprintln!("kubeconfig {}", kc.display());
    std::thread::sleep(std::time::Duration::from_secs(hold));
}
