//! A fake Kubernetes API server on loopback, and the fixtures it serves.
//!
//! No API server can be installed here, so the tests talk HTTP to this one:
//! it serves `/version`, namespaces, pods, ReplicaSets and Jobs (list, with
//! pages), answers 403 for what a test forbids, and serves pod watches from
//! a script — events, then a clean end or a dropped connection — so a test
//! can see shipshape resume. Every request is recorded.
//!
//! It can also be hostile ([`Hostile`], issue 39's D11–D13): paging that
//! never ends, a pod list of millions that ignores `limit`, an answer that
//! is no Kubernetes object, an error page instead of a Status.
//!
//! The workloads come from `tests/fixtures/kube/*.json` (made by kubectl,
//! see make.sh); [`expand`] turns each into the objects its controller
//! would create (a Deployment's ReplicaSet and pods, a CronJob's Job and
//! pod), with owner references and labels as Kubernetes sets them.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

pub fn fixture(name: &str) -> Value {
    let p = super::repo_root()
        .join("tests/fixtures/kube")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

/// What the fake cluster holds.
#[derive(Default, Clone)]
pub struct Objects {
    pub namespaces: Vec<Value>,
    pub pods: Vec<Value>,
    pub replica_sets: Vec<Value>,
    pub jobs: Vec<Value>,
}

fn hash(s: &str) -> String {
    let mut h: u32 = 2166136261;
    for b in s.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(16777619);
    }
    format!("{h:08x}")[..8].to_string()
}

fn owner(kind: &str, name: &str, api: &str) -> Value {
    json!([{ "apiVersion": api, "kind": kind, "name": name, "uid": hash(name),
             "controller": true, "blockOwnerDeletion": true }])
}

fn pod(
    ns: &str,
    name: &str,
    template: &Value,
    owners: Value,
    extra_labels: Value,
    phase: &str,
    age_s: i64,
) -> Value {
    let mut labels = template["metadata"]["labels"].clone();
    if let (Some(l), Some(x)) = (labels.as_object_mut(), extra_labels.as_object()) {
        for (k, v) in x {
            l.insert(k.clone(), v.clone());
        }
    }
    let created = chrono::Utc::now() - chrono::Duration::seconds(age_s);
    let spec = template["spec"].clone();
    let statuses: Vec<Value> = spec["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({
            "name": c["name"], "image": c["image"], "ready": phase == "Running",
            "restartCount": 0,
            "imageID": format!("docker.io/library/x@sha256:{}{}", hash(c["image"].as_str().unwrap_or("")), "0".repeat(56)),
        }))
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": ns, "uid": hash(name),
            "creationTimestamp": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "labels": labels, "ownerReferences": owners,
            "annotations": template["metadata"]["annotations"].clone(),
            "resourceVersion": "1",
        },
        "spec": spec,
        "status": { "phase": phase, "containerStatuses": statuses,
                    "startTime": created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
    })
}

/// The objects a controller makes from a workload fixture.
pub fn expand(workload: &Value, objects: &mut Objects) {
    let kind = workload["kind"].as_str().unwrap();
    let name = workload["metadata"]["name"].as_str().unwrap();
    let ns = workload["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    match kind {
        "Namespace" => objects.namespaces.push(workload.clone()),
        "Deployment" => {
            let h = hash(name);
            let rs = format!("{name}-{h}");
            objects.replica_sets.push(json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": { "name": rs, "namespace": ns, "uid": hash(&rs),
                              "ownerReferences": owner("Deployment", name, "apps/v1") },
                "spec": { "selector": workload["spec"]["selector"].clone() },
            }));
            let n = workload["spec"]["replicas"].as_i64().unwrap_or(1);
            for i in 0..n {
                let pname = format!("{rs}-{}", &hash(&format!("{rs}{i}"))[..5]);
                objects.pods.push(pod(
                    ns,
                    &pname,
                    &workload["spec"]["template"],
                    owner("ReplicaSet", &rs, "apps/v1"),
                    json!({"pod-template-hash": h}),
                    "Running",
                    600,
                ));
            }
        }
        "DaemonSet" => {
            for node in ["node-1", "node-2"] {
                let pname = format!("{name}-{}", &hash(node)[..5]);
                objects.pods.push(pod(
                    ns,
                    &pname,
                    &workload["spec"]["template"],
                    owner("DaemonSet", name, "apps/v1"),
                    json!({"controller-revision-hash": hash(name)}),
                    "Running",
                    900,
                ));
            }
        }
        "CronJob" => {
            let job = format!("{name}-29000000");
            objects.jobs.push(json!({
                "apiVersion": "batch/v1", "kind": "Job",
                "metadata": { "name": job, "namespace": ns, "uid": hash(&job),
                              "ownerReferences": owner("CronJob", name, "batch/v1") },
                "spec": { "template": workload["spec"]["jobTemplate"]["spec"]["template"].clone() },
            }));
            objects.pods.push(pod(
                ns,
                &format!("{job}-{}", &hash(&job)[..5]),
                &workload["spec"]["jobTemplate"]["spec"]["template"],
                owner("Job", &job, "batch/v1"),
                json!({}),
                "Succeeded",
                3600,
            ));
        }
        "Pod" => {
            let template = json!({ "metadata": workload["metadata"].clone(), "spec": workload["spec"].clone() });
            objects.pods.push(pod(
                ns,
                name,
                &template,
                Value::Null,
                json!({}),
                "Running",
                120,
            ));
        }
        other => panic!("no controller for {other}"),
    }
}

/// Every fixture, as a cluster.
pub fn lab() -> Objects {
    let mut o = Objects::default();
    for f in [
        "ns-shop",
        "ns-ops",
        "ns-dev",
        "ns-kube-system",
        "web",
        "api",
        "node-agent",
        "backup",
        "debug",
    ] {
        expand(&fixture(f), &mut o);
    }
    o
}

/// How one served watch ends.
#[derive(Clone, Debug)]
pub enum End {
    /// The terminal chunk: the server ended the watch normally.
    Clean,
    /// The connection is cut mid-stream.
    Drop,
    /// Keep the connection open (until the test ends).
    Hold,
}

/// One served watch: its events (`{"type":…,"object":…}`) and its end.
#[derive(Clone, Debug)]
pub struct WatchScript {
    pub events: Vec<Value>,
    pub end: End,
}

/// How the fake lies about the cluster-wide pod list (`/api/v1/pods`).
#[derive(Clone, Debug)]
pub enum Hostile {
    /// The first page has the first 7 pods; every page, then, an empty one
    /// with a new `continue` token, forever.
    EndlessContinue,
    /// Every page the same 7 pods and the same `continue` token.
    SameContinue,
    /// The first page answers at once with a `continue` token; the next
    /// one takes 60 s.
    SlowAfterFirst,
    /// One chunked PodList of this many pods, whatever `limit` says.
    Huge(usize),
    /// Pages of this many distinct pods, each with an annotation of this
    /// many bytes, whatever `limit` says, each page with a new `continue`
    /// token, forever (the most a client can be made to hold:
    /// scripts/bench-kube-hostile.sh).
    FatPages(usize, usize),
    /// A 200 answer of about this many bytes that is no PodList: one pod
    /// whose name is [`MARKER`] (with an ESC), then arrays nested deeper
    /// and deeper.
    Invalid(usize),
    /// A 500 answer of about this many bytes of HTML (no Status), with
    /// [`MARKER`] at its end.
    ErrorPage(usize),
}

/// Text a hostile answer carries, that must never reach the terminal.
pub const MARKER: &str = "RAW-SERVER-BODY-MARKER";

#[derive(Default)]
pub struct Served {
    pub objects: Objects,
    /// Resources answered with 403: `namespaces`, `pods` (cluster-wide),
    /// `pods/<ns>`, `replicasets`, `jobs`.
    pub forbidden: HashSet<String>,
    pub watches: VecDeque<WatchScript>,
    /// `METHOD path?query` and the Authorization header of each request.
    pub requests: Vec<(String, String)>,
    /// Answer 401 unless this bearer token is sent.
    pub token: Option<String>,
    pub resource_version: u64,
    /// Lie about the cluster-wide pod list.
    pub hostile: Option<Hostile>,
    /// Bytes of hostile answers written (what the client took in).
    pub hostile_bytes: u64,
}

pub struct FakeApi {
    pub addr: std::net::SocketAddr,
    pub state: Arc<Mutex<Served>>,
}

fn list(kind: &str, api: &str, items: Vec<Value>, rv: u64) -> Value {
    json!({ "apiVersion": api, "kind": kind, "metadata": { "resourceVersion": rv.to_string() }, "items": items })
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({ "apiVersion": "v1", "kind": "Status", "status": "Failure", "message": message, "reason": reason, "code": code })
}

impl FakeApi {
    pub fn start(served: Served) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(served));
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = handle(stream, &st);
                });
            }
        });
        Self { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<(String, String)> {
        self.state.lock().unwrap().requests.clone()
    }

    /// A kubeconfig with one context `fake` for this server, authenticated
    /// with `user` (a kubeconfig `users[].user` object).
    pub fn kubeconfig(&self, dir: &Path, user: Value) -> PathBuf {
        write_kubeconfig(dir, &[("fake", &self.url(), user)])
    }
}

pub fn write_kubeconfig(dir: &Path, contexts: &[(&str, &str, Value)]) -> PathBuf {
    let cfg = json!({
        "apiVersion": "v1", "kind": "Config",
        "current-context": contexts.first().map(|c| c.0),
        "clusters": contexts.iter().map(|(n, url, _)| json!({"name": n, "cluster": {"server": url}})).collect::<Vec<_>>(),
        "users": contexts.iter().map(|(n, _, u)| json!({"name": n, "user": u})).collect::<Vec<_>>(),
        "contexts": contexts.iter().map(|(n, _, _)| json!({"name": n, "context": {"cluster": n, "user": n}})).collect::<Vec<_>>(),
    });
    let p = dir.join("kubeconfig");
    // JSON is YAML: kube reads it as a kubeconfig.
    std::fs::write(&p, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    p
}

fn respond(s: &mut TcpStream, code: u16, body: &Value) -> std::io::Result<()> {
    let text = body.to_string();
    let reason = match code {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    write!(
        s,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    s.flush()
}

fn chunk(s: &mut TcpStream, line: &str) -> std::io::Result<()> {
    let data = format!("{line}\n");
    write!(s, "{:x}\r\n{data}\r\n", data.len())?;
    s.flush()
}

fn handle(mut stream: TcpStream, st: &Arc<Mutex<Served>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut auth = String::new();
    let mut accept = String::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                auth = v.trim().to_string();
            } else if k.eq_ignore_ascii_case("accept") {
                accept = v.trim().to_string();
            } else if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (path, query) = (path.to_string(), query.to_string());
    let watch = query
        .split('&')
        .any(|q| q == "watch=true" || q == "watch=1");
    let script = {
        let mut g = st.lock().unwrap();
        g.requests
            .push((format!("{method} {target}"), auth.clone()));
        if let Some(t) = &g.token
            && auth != format!("Bearer {t}")
        {
            drop(g);
            return respond(
                &mut stream,
                401,
                &status(401, "Unauthorized", "Unauthorized"),
            );
        }
        if method != "GET" {
            drop(g);
            return respond(
                &mut stream,
                405,
                &status(405, "MethodNotAllowed", "read-only fake"),
            );
        }
        let resource = match path.as_str() {
            "/api/v1/namespaces" => "namespaces".to_string(),
            "/api/v1/pods" => "pods".to_string(),
            "/apis/apps/v1/replicasets" => "replicasets".to_string(),
            "/apis/batch/v1/jobs" => "jobs".to_string(),
            p if p.starts_with("/api/v1/namespaces/") && p.ends_with("/pods") => {
                format!(
                    "pods/{}",
                    p.trim_start_matches("/api/v1/namespaces/")
                        .trim_end_matches("/pods")
                )
            }
            p => p.to_string(),
        };
        if g.forbidden.contains(&resource) {
            drop(g);
            return respond(
                &mut stream,
                403,
                &status(
                    403,
                    "Forbidden",
                    &format!("{resource} is forbidden: User \"test\" cannot list resource"),
                ),
            );
        }
        if watch {
            g.watches.pop_front()
        } else if let (Some(h), "pods") = (g.hostile.clone(), resource.as_str()) {
            let pods = g.objects.pods.clone();
            let rv = g.resource_version;
            drop(g);
            return hostile(&mut stream, st, &h, &query, pods, rv);
        } else {
            let rv = g.resource_version;
            let o = &g.objects;
            let body = match resource.as_str() {
                "/version" => json!({"major": "1", "minor": "34", "gitVersion": "v1.34.1-fake",
                    "gitCommit": "0", "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
                    "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}),
                "namespaces" => list("NamespaceList", "v1", o.namespaces.clone(), rv),
                "pods" => page(&query, list("PodList", "v1", o.pods.clone(), rv)),
                "replicasets" => list("ReplicaSetList", "apps/v1", o.replica_sets.clone(), rv),
                "jobs" => list("JobList", "batch/v1", o.jobs.clone(), rv),
                r if r.starts_with("pods/") => {
                    let ns = &r[5..];
                    let items = o
                        .pods
                        .iter()
                        .filter(|p| p["metadata"]["namespace"] == ns)
                        .cloned()
                        .collect();
                    list("PodList", "v1", items, rv)
                }
                _ => {
                    drop(g);
                    return respond(&mut stream, 404, &status(404, "NotFound", "not found"));
                }
            };
            drop(g);
            // A metadata-only list, as the API server answers one.
            let body = if accept.contains("as=PartialObjectMetadataList") {
                let items: Vec<Value> = body["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": o["metadata"]}))
                    .collect();
                json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadataList",
                       "metadata": body["metadata"], "items": items})
            } else {
                body
            };
            return respond(&mut stream, 200, &body);
        }
    };
    // A watch.
    let Some(script) = script else {
        // Nothing scripted: hold the watch open, as a quiet cluster does.
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )?;
        stream.flush()?;
        std::thread::sleep(std::time::Duration::from_secs(600));
        return Ok(());
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )?;
    stream.flush()?;
    for ev in &script.events {
        chunk(&mut stream, &ev.to_string())?;
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    match script.end {
        End::Clean => {
            write!(stream, "0\r\n\r\n")?;
            stream.flush()
        }
        End::Drop => stream.shutdown(std::net::Shutdown::Both),
        End::Hold => {
            std::thread::sleep(std::time::Duration::from_secs(600));
            Ok(())
        }
    }
}

/// Pages of two pods when a limit is asked for, so the client's paging is
/// exercised: `continue` is the index of the next pod.
fn page(query: &str, mut full: Value) -> Value {
    let limit = query
        .split('&')
        .find_map(|q| q.strip_prefix("limit="))
        .and_then(|l| l.parse::<usize>().ok());
    let Some(_) = limit else { return full };
    let from = query
        .split('&')
        .find_map(|q| q.strip_prefix("continue="))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0);
    let items = full["items"].as_array().cloned().unwrap_or_default();
    let to = (from + 7).min(items.len());
    full["items"] = Value::Array(items[from..to].to_vec());
    if to < items.len() {
        full["metadata"]["continue"] = json!(to.to_string());
    }
    full
}

/// Answer the pod list as `h` says.
fn hostile(
    s: &mut TcpStream,
    st: &Arc<Mutex<Served>>,
    h: &Hostile,
    query: &str,
    pods: Vec<Value>,
    rv: u64,
) -> std::io::Result<()> {
    let token = query
        .split('&')
        .find_map(|q| q.strip_prefix("continue="))
        .map(str::to_string);
    let first: Vec<Value> = pods.iter().take(7).cloned().collect();
    match h {
        Hostile::EndlessContinue => {
            let n = st.lock().unwrap().requests.len();
            let mut body = list("PodList", "v1", Vec::new(), rv);
            if token.is_none() {
                body["items"] = Value::Array(first);
            }
            body["metadata"]["continue"] = json!(format!("more{n}"));
            respond(s, 200, &body)
        }
        Hostile::SameContinue => {
            let mut body = list("PodList", "v1", first, rv);
            body["metadata"]["continue"] = json!("again");
            respond(s, 200, &body)
        }
        Hostile::SlowAfterFirst => {
            if token.is_some() {
                std::thread::sleep(std::time::Duration::from_secs(60));
            }
            let mut body = list("PodList", "v1", first, rv);
            body["metadata"]["continue"] = json!("next");
            respond(s, 200, &body)
        }
        Hostile::Huge(n) => {
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )?;
            let head = format!(
                r#"{{"apiVersion":"v1","kind":"PodList","metadata":{{"resourceVersion":"{rv}"}},"items":["#
            );
            raw_chunk(s, st, head.as_bytes())?;
            // Many pods a chunk, the same bytes each time but for the name.
            let one = pods[0].to_string();
            let name = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
            let mut i = 0;
            while i < *n {
                let mut buf = String::new();
                for _ in 0..1000.min(*n - i) {
                    if i > 0 {
                        buf.push(',');
                    }
                    buf.push_str(&one.replacen(&name, &format!("huge-{i}"), 1));
                    i += 1;
                }
                // The client hung up: it read no further.
                raw_chunk(s, st, buf.as_bytes())?;
            }
            raw_chunk(s, st, b"]}")?;
            write!(s, "0\r\n\r\n")?;
            s.flush()
        }
        Hostile::FatPages(n, pad) => {
            let page = st.lock().unwrap().requests.len();
            let mut one = pods[0].clone();
            one["metadata"]["annotations"] = json!({ "padding": "x".repeat(*pad) });
            let one = one.to_string();
            let name = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
            let mut body = format!(
                r#"{{"apiVersion":"v1","kind":"PodList","metadata":{{"resourceVersion":"{rv}","continue":"page{page}"}},"items":["#
            );
            for i in 0..*n {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&one.replacen(&name, &format!("fat-{page}-{i}"), 1));
            }
            body.push_str("]}");
            st.lock().unwrap().hostile_bytes += body.len() as u64;
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            s.flush()
        }
        Hostile::Invalid(n) => {
            let mut pod = pods[0].clone();
            pod["metadata"]["name"] = json!(format!("\u{1b}[31m{MARKER}"));
            let depth = n / 2;
            let body = format!(
                r#"{{"apiVersion":"v1","kind":"PodList","metadata":{{"resourceVersion":"{rv}"}},"items":[{pod},{}{}]}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            st.lock().unwrap().hostile_bytes += body.len() as u64;
            write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            s.flush()
        }
        Hostile::ErrorPage(n) => {
            let body = format!(
                "<html><body><h1>502 Bad Gateway</h1>{}\u{1b}]0;title\u{7}{MARKER}</body></html>",
                "<p>upstream</p>".repeat(n / 15)
            );
            write!(
                s,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            s.flush()
        }
    }
}

fn raw_chunk(s: &mut TcpStream, st: &Arc<Mutex<Served>>, data: &[u8]) -> std::io::Result<()> {
    write!(s, "{:x}\r\n", data.len())?;
    s.write_all(data)?;
    write!(s, "\r\n")?;
    st.lock().unwrap().hostile_bytes += data.len() as u64;
    Ok(())
}
