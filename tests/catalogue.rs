//! The catalogue, table-driven, on a real engine: each row describes a
//! container by its `docker create` flags, and names the rules it must raise
//! (with the severity where the grade matters) and the ones it must not.
//! Every engine answer those containers produce is also checked against the
//! field table (`docs/fields.md`): a field no row judges fails here.
//!
//! To cover a new rule, add a row to `cases()`; see CONTRIBUTING.md.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Write};

use common::*;
use shipshape::assess::assess;
use shipshape::model::Severity::{self, *};
use shipshape::policy::Policy;
use shipshape::rules::fields::{Object, unjudged};
use shipshape::sources::docker::{Engine, EnvSnapshot, scan};

/// One container of the table.
struct Case {
    name: &'static str,
    /// `docker create` flags, before the image.
    flags: Vec<String>,
    /// The image (default `BASE`).
    image: Option<String>,
    /// Command after the image.
    cmd: Vec<String>,
    /// Rule ids it must raise, and the severity when `Some`.
    must: Vec<(&'static str, Option<Severity>)>,
    must_not: Vec<&'static str>,
    /// Text that must appear in the evidence of the first `must` rule.
    evidence: Option<String>,
}

fn case(name: &'static str, flags: &[&str]) -> Case {
    Case {
        name,
        flags: flags.iter().map(|s| s.to_string()).collect(),
        image: None,
        cmd: Vec::new(),
        must: Vec::new(),
        must_not: Vec::new(),
        evidence: None,
    }
}

impl Case {
    fn must(mut self, id: &'static str, sev: Severity) -> Self {
        self.must.push((id, Some(sev)));
        self
    }
    fn raises(mut self, id: &'static str) -> Self {
        self.must.push((id, None));
        self
    }
    fn not(mut self, ids: &[&'static str]) -> Self {
        self.must_not.extend(ids);
        self
    }
    fn cmd(mut self, cmd: &[&str]) -> Self {
        self.cmd = cmd.iter().map(|s| s.to_string()).collect();
        self
    }
    fn image(mut self, image: &str) -> Self {
        self.image = Some(image.to_string());
        self
    }
    fn evidence(mut self, text: &str) -> Self {
        self.evidence = Some(text.to_string());
        self
    }
}

/// Secret values the rows pass; none may appear in any finding.
const SECRETS: &[&str] = &[
    "ssit-cmd-secret",
    "ssit-label-secret",
    "ssit-hc-secret",
    "ssit-img-secret",
    "ssit-img-token",
];

fn cases(tmp: &std::path::Path, secret_image: &str, e: &EngineFacts) -> Vec<Case> {
    let sock = tmp.join("app.sock");
    let link = tmp.join("tools.sock");
    let allow_all = tmp.join("seccomp-allow-all.json");
    std::fs::write(
        &allow_all,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[]}"#,
    )
    .unwrap();
    let strict = tmp.join("seccomp-strict.json");
    std::fs::write(
        &strict,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","exit_group","nanosleep","clock_nanosleep","rt_sigreturn","execve","brk","mmap","arch_prctl"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .unwrap();
    std::fs::create_dir_all(tmp.join("bin")).unwrap();
    // The fixture image sets PATH=/bin:/usr/sbin.
    let path_volume = format!("{}:/usr/sbin", tmp.join("bin").display());
    let mut rows = vec![
        // Logging
        case("log-none", &["--log-driver", "none"])
            .must("container.logging-disabled", Medium)
            .not(&["container.log-unbounded"]),
        case("log-rotated", &["--log-opt", "max-size=10m"])
            .not(&["container.log-unbounded", "container.logging-disabled"]),
        case("log-local", &["--log-driver", "local"]).not(&["container.log-unbounded"]),
        // OOM and ulimits
        case("oom-off", &["--oom-kill-disable"]).must("container.oom-kill-disabled", Medium),
        case(
            "oom-off-limited",
            &["--oom-kill-disable", "--memory", "64m"],
        )
        .must("container.oom-kill-disabled", Low)
        .not(&["container.no-memory-limit"]),
        case("oom-score", &["--oom-score-adj", "-800"]).must("container.oom-score-adj", Medium),
        case(
            "ulimits",
            &["--ulimit", "memlock=-1:-1", "--ulimit", "nofile=4096:8192"],
        )
        .must("container.ulimits", Medium)
        .must("container.ulimits", Low),
        // Devices
        case("device-rule", &["--device-cgroup-rule", "b *:* rwm"])
            .must("container.device-cgroup-rule", Critical),
        case("device-null", &["--device", "/dev/null:/dev/xnull"])
            .must("container.host-devices", High),
        case("gpus", &["--gpus", "all"]).raises("container.device-requests"),
        case("unmasked", &["--security-opt", "systempaths=unconfined"])
            .must("container.unmasked-paths", High)
            .evidence("MaskedPaths is empty"),
        // Namespaces and kernel parameters
        case(
            "sysctl",
            &["--sysctl", "net.ipv4.conf.all.route_localnet=1"],
        )
        .must("container.sysctls", Medium),
        case("userns-host", &["--userns", "host"]).must("container.host-userns", Low),
        case("uts-host", &["--uts", "host"]).must("container.host-uts", Low),
        // Capabilities by what they give
        case("cap-module", &["--cap-add", "SYS_MODULE"]).must("container.cap-add", Critical),
        case("cap-net-admin", &["--cap-add", "NET_ADMIN"]).must("container.cap-add", Medium),
        case(
            "cap-net-admin-host",
            &["--cap-add", "NET_ADMIN", "--network", "host"],
        )
        .must("container.cap-add", High),
        // Host paths and sockets, graded by case
        case("localtime", &["-v", "/etc/localtime:/etc/localtime:ro"])
            .must("container.sensitive-mount", Low),
        case("proc-ro", &["-v", "/proc:/host-proc:ro"]).must("container.sensitive-mount", High),
        case("etc-rw", &["-v", "/etc:/host-etc"]).must("container.sensitive-mount", Critical),
        case("run-dir", &["-v", "/run:/host-run:ro"])
            .must("container.engine-socket", Critical)
            .evidence("reaches the engine socket /run/docker.sock as /host-run/docker.sock"),
        case(
            "socket-link",
            &["-v", &format!("{}:/tools.sock", link.display())],
        )
        .must("container.engine-socket", Critical)
        .evidence("(→ /run/docker.sock)")
        .not(&["container.host-socket"]),
        case(
            "host-socket",
            &["-v", &format!("{}:/run/app.sock", sock.display())],
        )
        .must("container.host-socket", Medium)
        .not(&["container.engine-socket", "container.sensitive-mount-extra"]),
        // Secrets in the configuration: named, never shown
        case("secret-cmd", &[])
            .cmd(&["sh", "-c", "mysqld --password=ssit-cmd-secret"])
            .raises("container.secret-in-config")
            .evidence("container command line: --password=<hidden>"),
        case("secret-label", &["--label", "API_TOKEN=ssit-label-secret"])
            .raises("container.secret-in-config")
            .evidence("container label API_TOKEN"),
        case(
            "secret-health",
            &[
                "--health-cmd",
                "wget -q http://admin:ssit-hc-secret@localhost/",
            ],
        )
        .raises("container.secret-in-config")
        .evidence("container healthcheck: http://admin:<hidden>@localhost/")
        .not(&["container.no-healthcheck"]),
        // An image's own secrets are the image's finding, not its containers'.
        case("secret-image", &[])
            .image(secret_image)
            .not(&["container.secret-in-config"]),
    ];
    // Issue 26: what a configuration really grants, not each flag alone.
    // Effective privilege: a capability whose escape only AppArmor/SELinux
    // or the cgroup version stops, where nothing stops it.
    let takeover = |row: Case, fires: bool| {
        if fires {
            row.must("container.host-takeover", Critical)
        } else {
            row.not(&["container.host-takeover"])
        }
    };
    rows.extend([
        takeover(
            case(
                "sysadmin-unconfined",
                &[
                    "--cap-add",
                    "SYS_ADMIN",
                    "--security-opt",
                    "apparmor=unconfined",
                ],
            ),
            e.cgroup_v1 && !e.selinux,
        ),
        takeover(
            case("sysadmin", &["--cap-add", "SYS_ADMIN"]),
            e.cgroup_v1 && !e.apparmor && !e.selinux,
        ),
        takeover(
            case(
                "ptrace-host-pid",
                &[
                    "--cap-add",
                    "SYS_PTRACE",
                    "--pid",
                    "host",
                    "--security-opt",
                    "apparmor=unconfined",
                ],
            ),
            !e.selinux,
        ),
        takeover(
            case("shocker", &["--cap-add", "DAC_READ_SEARCH"]),
            !e.selinux,
        ),
        // Traps: half a chain is graded by its own rules, not as a takeover.
        case("ptrace-alone", &["--cap-add", "SYS_PTRACE"])
            .must("container.cap-add", High)
            .not(&["container.host-takeover"]),
        case("pid-host-alone", &["--pid", "host"])
            .must("container.host-pid", High)
            .not(&["container.host-takeover"]),
        case(
            "shocker-read-only",
            &["--cap-add", "DAC_READ_SEARCH", "--cap-drop", "DAC_OVERRIDE"],
        )
        .must("container.cap-add", High)
        .not(&["container.host-takeover"]),
        case(
            "sysadmin-nonroot-nnp",
            &[
                "--cap-add",
                "SYS_ADMIN",
                "--user",
                "10001",
                "--security-opt",
                "no-new-privileges",
                "--security-opt",
                "apparmor=unconfined",
            ],
        )
        .not(&["container.host-takeover"]),
        // What a container joins, it inherits.
        case("ns-owner", &["--network", "host", "--pid", "host"]),
        case(
            "ns-joiner",
            &[
                "--network",
                "container:{row:ns-owner}",
                "--pid",
                "container:{row:ns-owner}",
            ],
        )
        .must("container.host-network", High)
        .evidence("joins container")
        .must("container.host-pid", High)
        .raises("container.joins-namespace"),
        case("port-owner", &["-p", "18082:80"]),
        case("port-joiner", &["--network", "container:{row:port-owner}"])
            .must("container.port-all-interfaces", Medium)
            .evidence("shares the network namespace of container")
            .raises("container.published-ports"),
        case(
            "bridge-joiner",
            &["--network", "container:{row:log-rotated}"],
        )
        .not(&["container.host-network", "container.port-all-interfaces"]),
        // Profiles and limits judged by what they do.
        case(
            "seccomp-allow-all",
            &[
                "--security-opt",
                &format!("seccomp={}", allow_all.display()),
            ],
        )
        .must("container.seccomp-unconfined", High)
        .evidence("it is no profile"),
        case(
            "seccomp-strict",
            &["--security-opt", &format!("seccomp={}", strict.display())],
        )
        .not(&["container.seccomp-unconfined"]),
        case(
            "swap-unlimited",
            &["--memory", "64m", "--memory-swap", "-1"],
        )
        .must("container.no-memory-limit", Medium)
        .evidence("MemorySwap is -1"),
        case("swap-equal", &["--memory", "64m", "--memory-swap", "64m"])
            .not(&["container.no-memory-limit"]),
        // Read-only that isn't.
        case("ro-exec-tmpfs", &["--read-only", "--tmpfs", "/work:exec"])
            .must("container.writable-rootfs", Low)
            .evidence("tmpfs at /work allows execution"),
        case("ro-path-volume", &["--read-only", "-v", &path_volume])
            .must("container.writable-rootfs", Low)
            .evidence("covers /usr/sbin"),
        case("ro-noexec-tmpfs", &["--read-only", "--tmpfs", "/tmp"])
            .not(&["container.writable-rootfs"]),
    ]);
    let cgroupns = case("cgroupns-host", &["--cgroupns", "host"]);
    rows.push(if e.cgroup_v1 {
        // On cgroup v1 `host` is the engine's default, not the container's choice:
        // judged once, as engine.cgroupns-host-default (tests/real_engine.rs).
        cgroupns.not(&["container.cgroupns-host"])
    } else {
        cgroupns.raises("container.cgroupns-host")
    });
    rows
}

/// `GET path` on the engine's unix socket, as raw JSON (HTTP/1.0: no
/// chunking, the engine closes when done).
fn raw_get(path: &str) -> serde_json::Value {
    let mut s = std::os::unix::net::UnixStream::connect("/var/run/docker.sock").unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{path}: {head}"
    );
    serde_json::from_str(body).unwrap()
}

#[test]
fn each_row_raises_exactly_what_it_names() {
    let _serial = serial();
    engine();
    let mut fx = Fixture::new("cat");
    let tmp = fx.tmp.path().to_path_buf();
    let _listener = std::os::unix::net::UnixListener::bind(tmp.join("app.sock")).unwrap();
    std::os::unix::fs::symlink("/var/run/docker.sock", tmp.join("tools.sock")).unwrap();
    let secret_image = fx.build(
        "secret:1",
        &format!(
            "FROM {BASE}\nLABEL DB_PASSWORD=ssit-img-secret\nCMD [\"app\", \"--token=ssit-img-token-0123456789\"]\n"
        ),
    );

    let rt = runtime();
    let engine = rt
        .block_on(Engine::discover_and_connect(
            Some("unix:///var/run/docker.sock"),
            &EnvSnapshot::from_process(),
        ))
        .unwrap();
    let info = raw_get("/info");
    let facts = engine_facts();
    let rows = cases(&tmp, &secret_image, &facts);
    let examples = shipshape::rules::docs::score_examples();
    let mut names = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        // `{row:NAME}`: the container of an earlier row (namespaces joined).
        let flags: Vec<String> = row
            .flags
            .iter()
            .map(|f| match f.split_once("{row:") {
                Some((head, rest)) => {
                    let (other, tail) = rest.split_once('}').unwrap();
                    let j = rows.iter().position(|r| r.name == other).unwrap();
                    assert!(j < i, "{}: row {other} must come first", row.name);
                    format!("{head}{}{tail}", names[j])
                }
                None => f.clone(),
            })
            .collect();
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.push(row.image.as_deref().unwrap_or(BASE));
        args.extend(row.cmd.iter().map(String::as_str));
        names.push(fx.create(&format!("{i}-{}", row.name), &args));
    }
    let mut example_names = Vec::new();
    for (i, ex) in examples.iter().enumerate() {
        let mut args: Vec<&str> = ex.flags.to_vec();
        args.push(BASE);
        example_names.push(fx.create(&format!("ex{i}"), &args));
    }

    let inv = rt
        .block_on(scan::snapshot(&engine, &EnvSnapshot::from_process()))
        .unwrap();
    let a = assess(&inv, &Policy::default(), chrono::Utc::now());
    let findings = |name: &str| {
        let c = inv.containers.iter().find(|c| c.name == name).unwrap();
        a.container(&c.id).unwrap().clone()
    };

    let mut failures = Vec::new();
    for (row, name) in rows.iter().zip(&names) {
        let got = findings(name);
        for (id, sev) in &row.must {
            let hit = got
                .findings
                .iter()
                .any(|f| f.rule_id == *id && sev.is_none_or(|s| f.severity == s));
            if !hit {
                failures.push(format!(
                    "{}: missing {id} {sev:?}; got {:?}",
                    row.name,
                    got.findings
                        .iter()
                        .map(|f| (f.rule_id, f.severity))
                        .collect::<Vec<_>>()
                ));
            }
        }
        for id in &row.must_not {
            if got.findings.iter().any(|f| f.rule_id == *id) {
                failures.push(format!("{}: must not raise {id}", row.name));
            }
        }
        if let (Some(text), Some((id, _))) = (&row.evidence, row.must.first())
            && !got
                .findings
                .iter()
                .any(|f| f.rule_id == *id && f.evidence.contains(text.as_str()))
        {
            failures.push(format!("{}: no {id} evidence with {text:?}", row.name));
        }
    }
    // The documented score examples: exactly these findings, this score —
    // as documented for an engine with no daemon.json. An engine that
    // rotates json-file logs for every container (`log-opts` with
    // max-size, as this project's Engine 20.10 machines do) copies that
    // into each container, and container.log-unbounded rightly stays quiet.
    let rotated = facts.rotates_logs;
    let examples: Vec<shipshape::rules::docs::ScoreExample> = examples
        .into_iter()
        .map(|mut ex| {
            if rotated {
                ex.findings
                    .retain(|(id, _)| *id != "container.log-unbounded");
            }
            ex
        })
        .collect();
    for (ex, name) in examples.iter().zip(&example_names) {
        let got = findings(name);
        let mut pairs: Vec<(&str, Severity)> = got
            .findings
            .iter()
            .map(|f| (f.rule_id, f.severity))
            .collect();
        pairs.sort();
        if pairs != ex.findings || got.score != ex.score() {
            failures.push(format!(
                "score example {}: got {pairs:?} = {}, documented {:?} = {}",
                ex.name,
                got.score,
                ex.findings,
                ex.score()
            ));
        }
    }
    // The image row: the image's secrets on the image.
    let img = inv
        .images
        .iter()
        .find(|i| i.tags.iter().any(|t| t == &secret_image))
        .unwrap();
    let img_ev: Vec<&str> = a
        .image(&img.id)
        .iter()
        .filter(|f| f.rule_id == "image.secret-in-config")
        .map(|f| f.evidence.as_str())
        .collect();
    if img_ev.len() != 2 {
        failures.push(format!("image.secret-in-config: {img_ev:?}"));
    }
    let everything = format!("{a:?}");
    for secret in SECRETS {
        if everything.contains(secret) {
            failures.push(format!("a secret value reached the assessment: {secret}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every field the engine returned for all of this is judged.
    let mut unseen = BTreeSet::new();
    for name in names.iter().chain(&example_names) {
        let v = raw_get(&format!("/containers/{name}/json"));
        unseen.extend(
            unjudged(Object::Container, &v)
                .into_iter()
                .map(|p| format!("container {p}")),
        );
    }
    for image in [BASE, HARDENED, LEAKY, secret_image.as_str()] {
        let v = raw_get(&format!("/images/{image}/json"));
        unseen.extend(
            unjudged(Object::Image, &v)
                .into_iter()
                .map(|p| format!("image {p}")),
        );
        for entry in raw_get(&format!("/images/{image}/history"))
            .as_array()
            .unwrap()
        {
            unseen.extend(
                unjudged(Object::History, entry)
                    .into_iter()
                    .map(|p| format!("history {p}")),
            );
        }
    }
    unseen.extend(
        unjudged(Object::Info, &info)
            .into_iter()
            .map(|p| format!("info {p}")),
    );
    unseen.extend(
        unjudged(Object::Version, &raw_get("/version"))
            .into_iter()
            .map(|p| format!("version {p}")),
    );
    assert!(
        unseen.is_empty(),
        "fields no row of src/rules/fields.rs judges (add a row, then regenerate docs/fields.md):\n{}",
        unseen.into_iter().collect::<Vec<_>>().join("\n")
    );
}
