//! What runs inside containers, against the real engine: process starts
//! from the kernel connector and from polling `/proc`, attributed to the
//! right container; and the runtime rules on what `scan` reads.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{BASE, Fixture};
use shipshape::sources::runtime::events::{self, Seen, Source};

/// A fixture whose objects are named `procs-…`.
fn fixture(label: &str) -> Fixture {
    let mut f = Fixture::new(label);
    f.prefix = f.prefix.replacen("ssit-", "procs-", 1);
    f
}

/// Watches with `source` until a start of `name` in container `id` is
/// seen, or 20 s pass.
fn sees(source: Source, connector: Option<events::Connector>, id: &str, name: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut found = false;
    events::watch(Path::new("/proc"), &source, connector, |s| {
        if let Seen::Start(p) = &s
            && p.container_id.as_deref() == Some(id)
            && p.name == name
        {
            assert!(p.parents.iter().any(|a| a.in_container), "{p:?}");
            found = true;
        }
        !found && Instant::now() < deadline
    });
    found
}

#[test]
fn the_kernel_connector_and_polling_both_see_starts_in_a_container() {
    let _s = common::serial();
    let mut f = fixture("events");
    let name = f.run("loop", &[BASE, "sh", "-c", "while true; do sleep 1; done"]);
    let id = common::docker(&["inspect", "-f", "{{.Id}}", &name]);
    // As root the connector opens.
    let (source, connector) = events::choose();
    assert_eq!(source, Source::Connector, "{}", source.describe());
    assert!(sees(source, connector, &id, "sleep"));
    let poll = Source::Poll {
        every: events::POLL_PERIOD,
        why: "test".into(),
    };
    assert!(sees(poll, None, &id, "sleep"));
}

/// The scan's JSON findings of container `name`, as `(rule id, evidence)`.
fn findings(report: &serde_json::Value, name: &str) -> Vec<(String, String, String)> {
    let c = report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report"));
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["evidence"].as_str().unwrap().to_string(),
            )
        })
        .filter(|(id, _, _)| shipshape::rules::procs::is_process_rule(id))
        .collect()
}

fn has(f: &[(String, String, String)], rule: &str, text: &str) -> bool {
    f.iter().any(|(id, _, e)| id == rule && e.contains(text))
}

/// The attack lab: each behaviour in its own container, and the traps.
struct Lab {
    f: Fixture,
    web: String,
    bind: String,
    dropper: String,
    pkg: String,
    quiet: String,
}

fn lab() -> Lab {
    let mut f = fixture("lab");
    let image = f.build_in(
        "lab:1",
        "FROM shipshape-test/base:1\n\
         RUN /bin/busybox mkdir -p /www/cgi-bin /sbin /usr/local/bin && \
             for a in httpd cp chmod wget nc; do /bin/busybox ln -sf /bin/busybox /bin/$a; done\n\
         COPY run /www/cgi-bin/run\n\
         COPY apk /sbin/apk\n\
         COPY entry.sh /entry.sh\n\
         COPY worker.sh /usr/local/bin/worker.sh\n\
         RUN chmod 755 /www/cgi-bin/run /sbin/apk /entry.sh /usr/local/bin/worker.sh\n",
        |dir| {
            let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
            // The CGI script: a shell started by httpd, held open.
            w(
                "run",
                "#!/bin/sh\necho 'Content-Type: text/plain'\necho\nsleep 3600\n",
            );
            // A package manager by name that changes nothing.
            w("apk", "#!/bin/sh\nsleep 3600\n");
            // A service that runs its own scripts from the image.
            w(
                "entry.sh",
                "#!/bin/sh\n/usr/local/bin/worker.sh &\nexec sleep 3600\n",
            );
            w("worker.sh", "#!/bin/sh\nwhile true; do sleep 5; done\n");
        },
    );
    let web = f.run(
        "web",
        &[&image, "sh", "-c", "httpd -f -p 8080 -h /www & wait"],
    );
    let bind = f.run(
        "bind",
        &[&image, "sh", "-c", "nc -l -p 4444 -e /bin/sh & wait"],
    );
    let dropper = f.run(
        "dropper",
        &[
            "--tmpfs",
            "/dev/shm:rw,exec",
            &image,
            "sh",
            "-c",
            "cp /bin/busybox /dev/shm/sleep && cp /bin/busybox /tmp/sleep && \
             (/dev/shm/sleep 3600 & /tmp/sleep 3600 & wait)",
        ],
    );
    let pkg = f.run("pkg", &[&image, "sleep", "3600"]);
    let quiet = f.run(
        "quiet",
        &[
            "--health-cmd",
            "wget -q -O /dev/null http://127.0.0.1:1/ || true",
            "--health-interval",
            "1s",
            "--entrypoint",
            "/entry.sh",
            &image,
        ],
    );
    // The attacks: a request to the CGI script, a client of the bind
    // shell (sharing its network), `apk add` through exec.
    f.docker(&[
        "exec",
        "-d",
        &web,
        "wget",
        "-q",
        "-O",
        "/dev/null",
        "http://127.0.0.1:8080/cgi-bin/run",
    ]);
    let client = f.name("client");
    f.run(
        "client",
        &[
            "--network",
            &format!("container:{bind}"),
            BASE,
            "sh",
            "-c",
            "sleep 3600 | nc 127.0.0.1 4444",
        ],
    );
    let _ = client;
    f.docker(&["exec", "-d", &pkg, "/sbin/apk", "add", "nmap"]);
    // Let them start, and the healthcheck run a few times.
    std::thread::sleep(Duration::from_secs(4));
    Lab {
        f,
        web,
        bind,
        dropper,
        pkg,
        quiet,
    }
}

fn scan(lab: &Lab, setpriv: bool) -> serde_json::Value {
    let db = common::scratch_vulndb();
    let out = lab
        .f
        .tmp
        .path()
        .join(if setpriv { "nobody.json" } else { "root.json" });
    let mut cmd = if setpriv {
        let docker_gid = std::fs::metadata("/var/run/docker.sock")
            .map(|m| std::os::unix::fs::MetadataExt::gid(&m))
            .unwrap();
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--groups",
            &docker_gid.to_string(),
            "--",
        ])
        .arg(common::scan::bin());
        c
    } else {
        std::process::Command::new(common::scan::bin())
    };
    // The folders the binary writes: readable and writable by nobody.
    let _ = std::process::Command::new("chmod")
        .args([
            "a+rwx",
            lab.f.tmp.path().to_str().unwrap(),
            db.to_str().unwrap(),
        ])
        .status();
    let o = cmd
        .arg("--vulndb")
        .arg(&db)
        .args(["scan", "-o", out.to_str().unwrap()])
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        std::fs::metadata(&out).is_ok(),
        "no report written: {terminal}"
    );
    assert!(
        terminal.contains("processes of"),
        "the terminal names the source: {terminal}"
    );
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

#[test]
fn scan_finds_each_attack_on_its_container_and_the_traps_stay_quiet() {
    let _s = common::serial();
    let lab = lab();
    let r = scan(&lab, false);

    let web = findings(&r, &lab.web);
    assert!(
        has(
            &web,
            "container.shell-from-service",
            "shell started by httpd"
        ),
        "{web:#?}"
    );
    let bind = findings(&r, &lab.bind);
    assert!(
        bind.iter()
            .any(|(id, sev, e)| id == "container.socket-stdio"
                && sev == "critical"
                && e.contains("stdin socket:[")),
        "{bind:#?}"
    );
    let dropper = findings(&r, &lab.dropper);
    assert!(
        has(
            &dropper,
            "container.run-from-scratch-dir",
            "runs /tmp/sleep"
        ),
        "{dropper:#?}"
    );
    assert!(
        has(
            &dropper,
            "container.run-from-scratch-dir",
            "runs /dev/shm/sleep"
        ),
        "{dropper:#?}"
    );
    let pkg = findings(&r, &lab.pkg);
    assert!(
        has(&pkg, "container.package-manager-run", "apk"),
        "{pkg:#?}"
    );
    assert!(
        pkg.iter()
            .all(|(id, _, _)| id == "container.package-manager-run"),
        "{pkg:#?}"
    );
    // Traps: an entrypoint script running its own scripts and sleep, a
    // healthcheck every second.
    let quiet = findings(&r, &lab.quiet);
    assert!(quiet.is_empty(), "{quiet:#?}");
    // The source is named per container, and nothing secret is shown.
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == lab.web.as_str())
        .unwrap();
    assert!(
        c["processes"]["source"]
            .as_str()
            .unwrap()
            .starts_with("one reading of /proc"),
        "{c}"
    );
    assert_eq!(c["processes"]["available"], true);
}

#[test]
fn without_root_the_scan_sees_less_and_says_so() {
    let _s = common::serial();
    let lab = lab();
    let r = scan(&lab, true);
    // Names, parents and arguments are readable by anyone.
    let web = findings(&r, &lab.web);
    assert!(
        has(
            &web,
            "container.shell-from-service",
            "shell started by httpd"
        ),
        "{web:#?}"
    );
    let dropper = findings(&r, &lab.dropper);
    assert!(
        has(
            &dropper,
            "container.run-from-scratch-dir",
            "runs /tmp/sleep"
        ),
        "{dropper:#?}"
    );
    assert!(has(
        &findings(&r, &lab.pkg),
        "container.package-manager-run",
        "apk"
    ),);
    // Standard streams are not: no socket finding, and the report says why.
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == lab.bind.as_str())
        .unwrap();
    let limits = c["processes"]["limits"].to_string();
    assert!(limits.contains("not root"), "{c}");
    assert!(findings(&r, &lab.quiet).is_empty());
}

/// CPU seconds this process used so far (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (11 and 12 after the state).
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / 100.0
}

/// Runs `script` in container `name` while `source` watches: how many
/// starts of `true` it caught (one by one or counted by the throttle),
/// and the CPU it used per wall second.
fn measure(source: Source, name: &str, id: &str, script: &str) -> (u64, u64, f64, f64) {
    let connector = match source {
        Source::Connector => Some(events::Connector::open().unwrap()),
        _ => None,
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let caught = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (s2, c2, g2, id2) = (stop.clone(), caught.clone(), gone.clone(), id.to_string());
    let watcher = std::thread::spawn(move || {
        events::watch(Path::new("/proc"), &source, connector, |s| {
            use std::sync::atomic::Ordering::Relaxed;
            match &s {
                Seen::Start(p) if p.container_id.as_deref() == Some(&id2) && p.name == "true" => {
                    c2.fetch_add(1, Relaxed);
                }
                Seen::Start(p)
                    if p.container_id.as_deref() == Some(&id2) && p.name == events::GONE =>
                {
                    g2.fetch_add(1, Relaxed);
                }
                Seen::More {
                    container,
                    program,
                    count,
                } if *container == id2 && program == events::GONE => {
                    g2.fetch_add(*count, Relaxed);
                }
                Seen::Lost(n) if *n > 0 => {
                    eprintln!("BENCH-LOST {n}");
                }
                Seen::More {
                    container,
                    program,
                    count,
                } if *container == id2 && program.starts_with("true") => {
                    c2.fetch_add(*count, Relaxed);
                }
                _ => {}
            }
            !s2.load(Relaxed)
        });
    });
    std::thread::sleep(Duration::from_millis(1_500));
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    common::docker(&["exec", name, "sh", "-c", script]);
    let (cpu, wall) = (cpu_seconds() - cpu0, t0.elapsed().as_secs_f64());
    // Let the last window flush.
    std::thread::sleep(Duration::from_millis(2_500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    (
        caught.load(std::sync::atomic::Ordering::Relaxed),
        gone.load(std::sync::atomic::Ordering::Relaxed),
        cpu,
        wall,
    )
}

/// Not a test: the measurements of `scripts/bench-runtime.sh`
/// (`BENCH_N` very short processes; then 100 starts per second for 10 s).
#[test]
#[ignore = "a benchmark: run by scripts/bench-runtime.sh"]
fn bench_sources() {
    let _s = common::serial();
    let n: u64 = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let mut f = fixture("bench");
    let name = f.run("c", &[BASE, "sleep", "3600"]);
    let id = common::docker(&["inspect", "-f", "{{.Id}}", &name]);
    let burst = format!("i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i+1)); done");
    let steady =
        "i=0; while [ $i -lt 1000 ]; do /bin/true; /bin/busybox usleep 10000; i=$((i+1)); done";
    for (label, source) in [
        ("kernel connector", Source::Connector),
        (
            "polling /proc every 500 ms",
            Source::Poll {
                every: events::POLL_PERIOD,
                why: "bench".into(),
            },
        ),
    ] {
        let (got, gone, cpu, wall) = measure(source.clone(), &name, &id, &burst);
        println!(
            "BENCH | {label} | {n} starts of /bin/true in {wall:.1} s ({:.0}/s) | read and named {got} ({:.1} %) | counted, ended before read: {gone} | CPU {:.1} %",
            n as f64 / wall,
            100.0 * got as f64 / n as f64,
            100.0 * cpu / wall
        );
        let (got, gone, cpu, wall) = measure(source, &name, &id, steady);
        println!(
            "BENCH | {label} | 1000 starts of /bin/true + 1000 of usleep in {wall:.1} s ({:.0} starts/s) | read and named {got} of 1000 ({:.1} %) | counted, ended before read: {gone} (both programs) | CPU {:.1} %",
            2000.0 / wall,
            100.0 * got as f64 / 1000.0,
            100.0 * cpu / wall
        );
    }
}

/// `shipshape watch` (headless, polling the engine every 2 s) records a
/// shell started by a service as a timeline entry in the audit log: the
/// process rules ride the same path as exec sessions and drift (a new
/// piece of evidence of a runtime rule is a new finding).
#[test]
fn watch_records_a_shell_started_by_a_service_in_the_audit_log() {
    let _s = common::serial();
    let mut f = fixture("watch");
    let image = f.build_in(
        "cgi:1",
        "FROM shipshape-test/base:1\n\
         RUN /bin/busybox mkdir -p /www/cgi-bin && /bin/busybox ln -sf /bin/busybox /bin/httpd\n\
         COPY run /www/cgi-bin/run\n\
         RUN chmod 755 /www/cgi-bin/run\n",
        |dir| {
            std::fs::write(
                dir.join("run"),
                "#!/bin/sh\necho 'Content-Type: text/plain'\necho\nsleep 3600\n",
            )
            .unwrap();
        },
    );
    let web = f.run(
        "web",
        &[&image, "sh", "-c", "httpd -f -p 8080 -h /www & wait"],
    );
    let log = f.tmp.path().join("audit.jsonl");
    let mut child = std::process::Command::new(common::scan::bin())
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .env("HOME", "/nonexistent-home")
        .args(["watch", "--poll", "2", "--audit-log"])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _ = &mut child;
    let _guard = Kill(child);
    let records = || -> Vec<serde_json::Value> {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let wait = |what: &str, pred: &dyn Fn(&serde_json::Value) -> bool| {
        let start = Instant::now();
        loop {
            if let Some(r) = records().into_iter().find(|r| pred(r)) {
                return r;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "no audit record for {what}:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    wait("the first scan", &|r| r["kind"] == "scan");
    // The attack, after the watcher knows the container.
    f.docker(&[
        "exec",
        "-d",
        &web,
        "wget",
        "-q",
        "-O",
        "/dev/null",
        "http://127.0.0.1:8080/cgi-bin/run",
    ]);
    let r = wait("the shell finding", &|r| {
        r["kind"] == "finding"
            && r["data"]["name"] == web.as_str()
            && r["data"]["rule"] == "container.shell-from-service"
    });
    let detail = r["data"]["detail"].as_str().unwrap();
    assert!(detail.contains("shell started by httpd"), "{r}");
    assert_eq!(r["data"]["severity"], "high", "{r}");
}
