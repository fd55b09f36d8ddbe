//! A hostile, broken or overloaded engine (issue 39; D5–D8 of the hostile
//! input report of 2026-12-07). A fake engine sits in front of the real
//! one on a unix socket: it forwards every request to the system engine,
//! except the paths a test rewrites — an endless `/info`, a list answer
//! that never ends, is dripped one byte at a time, holds more containers
//! than shipshape reads, or carries entries that cannot be read — and it
//! writes down every request line and how many requests were in flight at
//! once. `shipshape scan --host unix://…` runs against it as a user runs
//! it, and each test asserts the named outcome: the ceiling, the deadline,
//! the warning, the escaped path, the bound on connections, the scan that
//! completes through connects refused for a while.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::*;

/// What the fake engine sends instead of the real answer.
enum Reply {
    /// A whole HTTP answer.
    Whole(Vec<u8>),
    /// This head, then bytes for as long as the client reads (chunked or
    /// not): an answer that never ends.
    Endless { head: Vec<u8>, chunked: bool },
    /// This head, then one byte every `every`.
    Drip { head: Vec<u8>, every: Duration },
}

/// Which requests the fake answers itself: `(method, path without the
/// `/v1.NN` prefix)` → a reply, or `None` to forward to the real engine.
type Rule = Arc<dyn Fn(&str, &str) -> Option<Reply> + Send + Sync>;

/// How the fake accepts connections.
#[derive(Clone)]
enum Accept {
    /// At once.
    Normal,
    /// With a backlog of one, and no accepting for `pause` once each
    /// number of connections in `after` has been accepted: connects made
    /// meanwhile are refused with EAGAIN, as a busy socket proxy does.
    Hiccups { after: Vec<usize>, pause: Duration },
    /// After this many connections, the listener closes (the socket file
    /// stays): every later connect is refused.
    CloseAfter(usize),
}

struct Fake {
    _dir: tempfile::TempDir,
    sock: PathBuf,
    /// Request lines, in order.
    seen: Arc<Mutex<Vec<String>>>,
    /// Requests in flight (from the fake reading one to its answer
    /// written): now and the most. Each needs a connection of the
    /// client's held open all along, so the most bounds from below how
    /// many the client had open at once (counting open sockets here
    /// would also count those the client has closed and the fake not yet
    /// seen close).
    busy: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    /// Bytes of the fake's own endless or dripped answers written.
    sent: Arc<AtomicUsize>,
}

impl Fake {
    fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// The path without its API version.
fn route(target: &str) -> &str {
    match target.strip_prefix("/v") {
        Some(rest) => match rest.find('/') {
            Some(i) if rest[..i].bytes().all(|b| b.is_ascii_digit() || b == b'.') => &rest[i..],
            _ => target,
        },
        None => target,
    }
}

/// A request line with its API version dropped: `GET /v1.51/info HTTP/1.1`
/// → `GET /info HTTP/1.1`, so a test reads the same on every engine.
fn unversioned(line: &str) -> String {
    match line.split_once(' ') {
        Some((method, rest)) => format!("{method} {}", route(rest)),
        None => line.to_string(),
    }
}

fn json_answer(status: &str, body: &[u8]) -> Vec<u8> {
    let mut a = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    a.extend_from_slice(body);
    a
}

fn start(rt: &tokio::runtime::Runtime, rule: Rule, accept: Accept) -> Fake {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("engine.sock");
    let socket = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&socket2::SockAddr::unix(&sock).unwrap())
        .unwrap();
    let backlog = if matches!(accept, Accept::Normal) {
        1024
    } else {
        1
    };
    socket.listen(backlog).unwrap();
    socket.set_nonblocking(true).unwrap();
    let std_listener: std::os::unix::net::UnixListener = socket.into();
    let fake = Fake {
        _dir: dir,
        sock,
        seen: Default::default(),
        busy: Default::default(),
        most: Default::default(),
        sent: Default::default(),
    };
    let (seen, busy, most, sent) = (
        fake.seen.clone(),
        fake.busy.clone(),
        fake.most.clone(),
        fake.sent.clone(),
    );
    rt.spawn(async move {
        let listener = tokio::net::UnixListener::from_std(std_listener).unwrap();
        let mut accepted = 0usize;
        loop {
            match &accept {
                Accept::Hiccups { after, pause } if after.contains(&accepted) => {
                    tokio::time::sleep(*pause).await;
                }
                Accept::CloseAfter(n) if accepted >= *n => return,
                _ => {}
            }
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            accepted += 1;
            let (seen, busy, most, sent, rule) = (
                seen.clone(),
                busy.clone(),
                most.clone(),
                sent.clone(),
                rule.clone(),
            );
            tokio::spawn(async move {
                serve(client, &seen, (&busy, &most), &sent, &rule).await;
            });
        }
    });
    fake
}

/// One connection: read the request head, answer or forward, then wait
/// for the client to close its end.
async fn serve(
    mut client: tokio::net::UnixStream,
    seen: &Mutex<Vec<String>>,
    (busy, most): (&AtomicUsize, &AtomicUsize),
    sent: &AtomicUsize,
    rule: &Rule,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let line = text.lines().next().unwrap_or_default().to_string();
    seen.lock().unwrap().push(line.clone());
    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(now, Ordering::SeqCst);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match rule(method, route(target)) {
        Some(Reply::Whole(bytes)) => {
            let _ = client.write_all(&bytes).await;
        }
        Some(Reply::Endless { head, chunked }) => {
            if client.write_all(&head).await.is_ok() {
                let chunk = vec![b' '; 64 << 10];
                loop {
                    let r = if chunked {
                        let mut c = format!("{:x}\r\n", chunk.len()).into_bytes();
                        c.extend_from_slice(&chunk);
                        c.extend_from_slice(b"\r\n");
                        client.write_all(&c).await
                    } else {
                        client.write_all(&chunk).await
                    };
                    if r.is_err() {
                        break;
                    }
                    sent.fetch_add(chunk.len(), Ordering::SeqCst);
                }
            }
        }
        Some(Reply::Drip { head, every }) => {
            if client.write_all(&head).await.is_ok() {
                while client.write_all(b" ").await.is_ok() {
                    sent.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(every).await;
                }
            }
        }
        None => {
            let Ok(mut engine) = tokio::net::UnixStream::connect("/var/run/docker.sock").await
            else {
                busy.fetch_sub(1, Ordering::SeqCst);
                return;
            };
            // One request per connection: the engine closes after it.
            let end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let mut forwarded = head[..end].to_vec();
            forwarded.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
            if engine.write_all(&forwarded).await.is_ok() {
                let _ = tokio::io::copy(&mut engine, &mut client).await;
            }
        }
    }
    busy.fetch_sub(1, Ordering::SeqCst);
    let _ = client.shutdown().await;
    // Until the client lets go.
    while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// `GET path` from the real engine (HTTP/1.0: the whole body, no chunks).
fn real_engine_get(path: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect("/var/run/docker.sock").unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    all[at + 4..].to_vec()
}

struct Scanned {
    code: Option<i32>,
    stderr: String,
    report: Option<Value>,
}

/// `shipshape scan --host <fake> --format json -o …` with these flags and
/// variables.
fn scan(fake: &Fake, extra: &[&str], env: &[(&str, &str)]) -> Scanned {
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("report.json");
    let host = fake.host();
    let mut args = vec![
        "scan",
        "--host",
        &host,
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = scan::shipshape_env(&scratch_vulndb(), &args, env);
    Scanned {
        code: o.status.code(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        report: std::fs::read_to_string(&out)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap()),
    }
}

fn names(report: &Value) -> Vec<String> {
    report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn warnings(report: &Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect()
}

/// D5: `/info` announces 2 GB and sends for as long as it is read; a
/// container list that never ends (chunked). Each is refused with its
/// ceiling named, having read no more than the ceiling.
#[test]
fn endless_answers_stop_at_their_named_ceiling() {
    let _serial = serial();
    engine();
    let rt = runtime();

    let fake = start(
        &rt,
        Arc::new(|_, path| {
            (path == "/info").then(|| Reply::Endless {
                head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2000000000\r\n\r\n".to_vec(),
                chunked: false,
            })
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["-q", "--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(3), "{}", s.stderr);
    assert!(
        s.stderr.contains(
            "engine info not read: the engine's answer is larger than 16 MiB, the most shipshape reads of it"
        ),
        "{}",
        s.stderr
    );
    // Refused on its Content-Length: what was written is what the socket
    // buffers took, far below the ceiling.
    let sent = fake.sent.load(Ordering::SeqCst);
    assert!(sent < 16 << 20, "{sent} bytes sent");

    let fake = start(
        &rt,
        Arc::new(|_, path| {
            path.starts_with("/containers/json").then(|| Reply::Endless {
                head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
                chunked: true,
            })
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["-q", "--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(3), "{}", s.stderr);
    assert!(
        s.stderr.contains(
            "the container list not read: the engine's answer is larger than 64 MiB, the most shipshape reads of it"
        ),
        "{}",
        s.stderr
    );
    // Read up to the ceiling and no further (plus what the sockets hold).
    let sent = fake.sent.load(Ordering::SeqCst);
    assert!(
        (63 << 20..72 << 20).contains(&sent),
        "{sent} bytes sent before shipshape stopped reading"
    );
}

/// D6: a container list dripped one byte at a time ends at the deadline,
/// and the error names it (set to 2 s here by its variable).
#[test]
fn a_dripped_answer_ends_at_the_named_deadline() {
    let _serial = serial();
    engine();
    let rt = runtime();
    let fake = start(
        &rt,
        Arc::new(|_, path| {
            path.starts_with("/containers/json").then(|| Reply::Drip {
                head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n".to_vec(),
                every: Duration::from_millis(100),
            })
        }),
        Accept::Normal,
    );
    let s = scan(
        &fake,
        &["-q", "--no-vulns", "--no-drift"],
        &[("SHIPSHAPE_ENGINE_DEADLINE", "2")],
    );
    assert_eq!(s.code, Some(3), "{}", s.stderr);
    assert!(
        s.stderr.contains(
            "lost the engine while reading the container list: no complete answer within 2 s, \
             the deadline for one request to the engine ("
        ),
        "{}",
        s.stderr
    );
    assert!(
        s.stderr.contains(" of 100000 bytes of the answer came"),
        "{}",
        s.stderr
    );
    assert!(s.report.is_none(), "no report from a list not read");
}

/// D7 and D8: in the real container list, one entry has an id that is a
/// number, one an id that is a path, one a size past `i64` and one a name
/// that is not UTF-8. The two unreadable ones are a warning each, naming
/// the container; every other container is scanned (the odd size and
/// name are in fields a list is not read for); no request path climbs.
#[test]
fn unreadable_list_entries_are_warnings_and_the_scan_goes_on() {
    let _serial = serial();
    let mut fx = Fixture::new("hostile-list");
    let absurd = fx.create("absurd", &[BASE]);
    let odd = fx.create("odd", &[BASE]);
    let numbered = fx.create("numbered", &[BASE]);
    let pathy = fx.create("pathy", &[BASE]);
    let list: Value =
        serde_json::from_slice(&real_engine_get("/v1.41/containers/json?all=1")).unwrap();
    let mut entries = list.as_array().unwrap().clone();
    for e in &mut entries {
        let name = e["Names"][0].as_str().unwrap().trim_start_matches('/');
        if name == absurd {
            e["SizeRootFs"] = Value::from(u64::MAX);
        } else if name == odd {
            e["Names"] = serde_json::json!(["/@@NOT-UTF-8@@"]);
        } else if name == numbered {
            e["Id"] = Value::from(12345);
        } else if name == pathy {
            e["Id"] = Value::from("../../images/json?x=");
        }
    }
    let mut body = serde_json::to_vec(&entries).unwrap();
    let marker = b"@@NOT-UTF-8@@";
    let at = body
        .windows(marker.len())
        .position(|w| w == marker)
        .unwrap();
    body.splice(at..at + marker.len(), b"x\xff\xfe\xc0".iter().copied());
    let answer = json_answer("200 OK", &body);

    let rt = runtime();
    let fake = start(
        &rt,
        Arc::new(move |_, path| {
            path.starts_with("/containers/json")
                .then(|| Reply::Whole(answer.clone()))
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    let report = s.report.unwrap();
    let got = names(&report);
    assert!(got.contains(&absurd), "{got:?}");
    assert!(got.contains(&odd), "{got:?}");
    assert!(!got.contains(&numbered) && !got.contains(&pathy), "{got:?}");
    let w = warnings(&report);
    assert!(
        w.iter().any(|w| w.starts_with(&format!(
            "the engine's entry for container {numbered} could not be read: invalid type: integer `12345`, expected a string"
        ))),
        "{w:#?}"
    );
    assert!(
        w.contains(&format!(
            "the engine's entry for container {pathy} could not be read: its id is not an engine's id"
        )),
        "{w:#?}"
    );
    // The same lines in the terminal summary.
    assert!(
        s.stderr.contains(&format!(
            "the engine's entry for container {pathy} could not be read"
        )),
        "{}",
        s.stderr
    );
    let seen = fake.seen();
    assert!(
        seen.iter().all(|l| !l.contains("..")
            && !l.to_ascii_lowercase().contains("%2e%2e")
            && !l.contains("images/json?x")),
        "{seen:#?}"
    );
    assert!(
        seen.iter()
            .map(|l| unversioned(l))
            .any(|l| l.starts_with("GET /containers/")
                && l.ends_with("/json HTTP/1.1")
                && !l.contains("containers/json")),
        "the others are inspected: {seen:#?}"
    );
}

/// D5 (count) and the bound on connections: a list of 10,050 containers is
/// cut at 10,000, the running ones kept first, the cut said in the report
/// and the summary; with ten thousand inspects (and the images') to make,
/// at most 32 requests are in flight at once, however the scan's stages
/// overlap.
#[test]
fn a_huge_list_is_cut_said_and_read_through_a_bounded_number_of_connections() {
    let _serial = serial();
    engine();
    let total = 10_050;
    let id = |i: usize| format!("{i:064x}");
    // The last 20 run: kept even though they come after the ceiling.
    let running: Vec<String> = (total - 20..total).map(id).collect();
    let entries: Vec<Value> = (0..total)
        .map(|i| {
            let state = if i >= total - 20 { "running" } else { "exited" };
            serde_json::json!({"Id": id(i), "Names": [format!("/huge-{i}")], "State": state})
        })
        .collect();
    let answer = json_answer("200 OK", &serde_json::to_vec(&entries).unwrap());
    let gone = json_answer("404 Not Found", br#"{"message":"No such container"}"#);
    let rt = runtime();
    let fake = start(
        &rt,
        Arc::new(move |_, path| {
            if path.starts_with("/containers/json") {
                Some(Reply::Whole(answer.clone()))
            } else if path.starts_with("/containers/") {
                // None of them exists: answered here, not by the engine.
                Some(Reply::Whole(gone.clone()))
            } else {
                None
            }
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    let report = s.report.unwrap();
    let cut = "the engine lists 10050 containers, more than the 10000 shipshape reads in one scan: \
               50 (stopped ones first) were not read or assessed, so this scan is not complete";
    assert!(
        warnings(&report).iter().any(|w| w == cut),
        "{:#?}",
        warnings(&report)
    );
    assert!(s.stderr.contains(cut), "{}", s.stderr);
    let seen = fake.seen();
    let inspected = |id: &str| {
        seen.iter()
            .any(|l| l.contains(&format!("/containers/{id}/json")))
    };
    assert!(
        running.iter().all(|r| inspected(r)),
        "the running ones are read"
    );
    assert!(!inspected(&id(total - 21)), "the last stopped one is cut");
    let inspects = seen
        .iter()
        .filter(|l| l.contains("/containers/") && !l.contains("/containers/json"))
        .count();
    assert_eq!(inspects, 10_000, "each kept container inspected once");
    let most = fake.most.load(Ordering::SeqCst);
    assert!(
        (2..=32).contains(&most),
        "{most} requests were in flight at once"
    );
}

/// An inspect that lists more exec sessions than are read: the first
/// [`MAX_EXECS`](shipshape::sources::docker::scan::MAX_EXECS) are
/// inspected, and the rest is said.
#[test]
fn exec_sessions_past_the_ceiling_are_said() {
    let _serial = serial();
    let mut fx = Fixture::new("hostile-execs");
    let name = fx.create("busy", &[BASE]);
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    let mut inspect: Value =
        serde_json::from_slice(&real_engine_get(&format!("/v1.41/containers/{id}/json"))).unwrap();
    inspect["ExecIDs"] = (0..150).map(|i| Value::from(format!("{i:064x}"))).collect();
    let answer = json_answer("200 OK", &serde_json::to_vec(&inspect).unwrap());
    let gone = json_answer("404 Not Found", br#"{"message":"No such exec instance"}"#);
    let rt = runtime();
    let own = format!("/containers/{id}/json");
    let fake = start(
        &rt,
        Arc::new(move |_, path| {
            if path == own {
                Some(Reply::Whole(answer.clone()))
            } else if path.starts_with("/exec/") {
                Some(Reply::Whole(gone.clone()))
            } else {
                None
            }
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["-q", "--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    let w = warnings(&s.report.unwrap());
    let said = format!(
        "container {name}: the engine lists 150 exec sessions; the first {} were read",
        shipshape::sources::docker::scan::MAX_EXECS
    );
    assert!(w.contains(&said), "{w:#?}");
    let execs = fake.seen().iter().filter(|l| l.contains("/exec/")).count();
    assert_eq!(execs, shipshape::sources::docker::scan::MAX_EXECS);
}

/// D7: an engine whose `HEAD …/archive` answers carry no
/// `X-Docker-Container-Path-Stat` header: each is one file's stat failing,
/// and the scan (with drift) completes. The stat paths, taken from the
/// engine's change list, are escaped in the query.
#[test]
fn a_stat_without_its_header_is_one_file_not_the_scan() {
    let _serial = serial();
    let mut fx = Fixture::new("hostile-stat");
    let name = fx.run(
        "drifted",
        &[BASE, "sh", "-c", "cp /bin/sh '/tmp/a b#c?d' && sleep 600"],
    );
    wait_state(&name, "running");
    // The copy is in the writable layer before the scan.
    let id = docker(&["inspect", "-f", "{{.Id}}", &name]);
    for _ in 0..50 {
        if docker(&["diff", &id]).contains("/tmp/a b#c?d") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let rt = runtime();
    let fake = start(
        &rt,
        Arc::new(|method, path| {
            (method == "HEAD" && path.contains("/archive?"))
                .then(|| Reply::Whole(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()))
        }),
        Accept::Normal,
    );
    let s = scan(&fake, &["--no-vulns"], &[]);
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    let report = s.report.unwrap();
    assert!(names(&report).contains(&name));
    let seen: Vec<String> = fake.seen().iter().map(|l| unversioned(l)).collect();
    let stat = format!("HEAD /containers/{id}/archive?path=%2Ftmp%2Fa%20b%23c%3Fd HTTP/1.1");
    assert!(seen.contains(&stat), "{stat} in {seen:#?}");
}

/// One refused connection is not a lost engine: through a proxy with a
/// backlog of one that stops accepting for half a second, twice, the
/// connects made meanwhile are refused (EAGAIN), tried again, and the scan
/// completes. A proxy that is gone for good is a lost engine, with the
/// tries said.
#[test]
fn connects_refused_for_a_while_are_tried_again_and_for_good_end_the_scan() {
    let _serial = serial();
    let mut fx = Fixture::new("hostile-backlog");
    let name = fx.create("one", &[BASE]);
    let rt = runtime();
    let fake = start(
        &rt,
        Arc::new(|_, _| None),
        // After the probe and `/version`, and again mid-scan.
        Accept::Hiccups {
            after: vec![2, 12],
            pause: Duration::from_millis(500),
        },
    );
    let s = scan(
        &fake,
        &["--no-vulns", "--no-drift"],
        &[("SHIPSHAPE_LOG", "shipshape::sources::docker=debug")],
    );
    assert_eq!(s.code, Some(0), "{}", s.stderr);
    assert!(names(&s.report.unwrap()).contains(&name));
    assert!(
        s.stderr.contains("Resource temporarily unavailable") && s.stderr.contains("trying again"),
        "the connects were refused and tried again: {}",
        s.stderr
    );

    let gone = start(&rt, Arc::new(|_, _| None), Accept::CloseAfter(2));
    let s = scan(&gone, &["-q", "--no-vulns", "--no-drift"], &[]);
    assert_eq!(s.code, Some(3), "{}", s.stderr);
    assert!(
        s.stderr.contains("lost the engine while reading")
            && s.stderr.contains("Connection refused")
            && s.stderr.contains("(tried 8 times in "),
        "{}",
        s.stderr
    );
}

#[test]
fn routes_drop_the_api_version() {
    assert_eq!(
        route("/v1.41/containers/json?all=1"),
        "/containers/json?all=1"
    );
    assert_eq!(route("/version"), "/version");
    assert_eq!(route("/volumes"), "/volumes");
    assert_eq!(
        unversioned("GET /v1.51/info HTTP/1.1"),
        "GET /info HTTP/1.1"
    );
}
