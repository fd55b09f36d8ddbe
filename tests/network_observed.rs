//! Observed connections against the real engine: containers that connect
//! to each other (busybox `nc`), to the host's gateway, one that listens
//! without a publish, two Compose projects where one's container reaches
//! the other's database, a quiet pair — `shipshape scan` names both ends of
//! exactly those connections and raises exactly those findings.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

const OBSERVED_RULES: &[&str] = &[
    "container.lateral-connection",
    "container.reaches-host",
    "container.default-bridge-talk",
    "container.suspicious-port",
    "container.unpublished-listener",
];

fn inspect(name: &str, format: &str) -> String {
    common::docker(&["inspect", "-f", format, name])
}

/// Whether `/proc/PID/net/tcp` of the container's namespace has a line
/// for `port` (as local port if `listen`, else as remote) in `state`.
fn has_socket(name: &str, port: u16, listen: bool) -> bool {
    // `listen`: a listener on local `port`; else an established socket
    // with `port` at either end.
    let pid = inspect(name, "{{.State.Pid}}");
    let text = ["tcp", "tcp6"]
        .map(|t| std::fs::read_to_string(format!("/proc/{pid}/net/{t}")).unwrap_or_default())
        .join("\n");
    text.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3
            && if listen {
                f[1].ends_with(&format!(":{port:04X}")) && f[3] == "0A"
            } else {
                (f[1].ends_with(&format!(":{port:04X}")) || f[2].ends_with(&format!(":{port:04X}")))
                    && f[3] == "01"
            }
    })
}

/// Waits (bounded) until the socket is there: a readiness check, not a timing.
fn wait_socket(name: &str, port: u16, listen: bool) {
    for _ in 0..200 {
        if has_socket(name, port, listen) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{name}: no socket for port {port} (listen: {listen})");
}

fn container<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{name} is not in the report"))
}

/// The observed-network findings of a container: (rule, evidence).
fn findings(c: &Value) -> Vec<(String, String)> {
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| OBSERVED_RULES.contains(&f["rule_id"].as_str().unwrap()))
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn rules(c: &Value) -> Vec<String> {
    findings(c).into_iter().map(|(r, _)| r).collect()
}

/// Outbound connections as `(peer kind, peer name or address, remote port)`.
fn outbound(c: &Value) -> BTreeSet<(String, String, u64)> {
    c["network"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["direction"] == "outbound")
        .map(|x| {
            let peer = &x["peer"];
            let who = peer["name"]
                .as_str()
                .or(peer["address"].as_str())
                .unwrap_or("")
                .to_string();
            let port: u64 = x["remote"]
                .as_str()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (peer["kind"].as_str().unwrap().to_string(), who, port)
        })
        .collect()
}

fn inbound_from(c: &Value) -> BTreeSet<String> {
    c["network"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["direction"] == "inbound")
        .map(|x| x["peer"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Listeners on addresses other than loopback (Docker's DNS resolver
/// listens on 127.0.0.11 in every user-defined network): (port, exposed).
/// The host's end of a connection, in the engine's network namespace:
/// this process's own sockets on the system engine; a `busybox nc` in
/// the namespace under `scripts/on-engine-28.sh`, whose private engine
/// has its own (`SHIPSHAPE_ENGINE_NETNS`). Closed when dropped.
enum HostEnd {
    Stream(#[allow(dead_code)] std::net::TcpStream),
    Listener(#[allow(dead_code)] std::net::TcpListener),
    Child(std::process::Child),
}

impl HostEnd {
    fn netns() -> Option<String> {
        std::env::var("SHIPSHAPE_ENGINE_NETNS")
            .ok()
            .filter(|n| !n.is_empty())
    }

    fn nc(ns: &str, args: &[&str]) -> Self {
        let child = std::process::Command::new("nsenter")
            .arg(format!("--net={ns}"))
            .args(["busybox", "nc"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Self::Child(child)
    }

    /// A connection from the host to a published port on loopback.
    fn connect(port: u16) -> Self {
        match Self::netns() {
            Some(ns) => Self::nc(&ns, &["127.0.0.1", &port.to_string()]),
            None => Self::Stream(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap()),
        }
    }

    /// A listener of the host reachable at `address` (a network's
    /// gateway), and its port.
    fn listen(address: &str) -> (Self, u16) {
        match Self::netns() {
            Some(ns) => {
                let port = 20_000 + (std::process::id() % 20_000) as u16;
                (Self::nc(&ns, &["-l", "-p", &port.to_string()]), port)
            }
            None => {
                let l = std::net::TcpListener::bind((address, 0)).unwrap();
                let port = l.local_addr().unwrap().port();
                (Self::Listener(l), port)
            }
        }
    }
}

impl Drop for HostEnd {
    fn drop(&mut self) {
        if let Self::Child(c) = self {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn listeners(c: &Value) -> Vec<(u64, bool)> {
    c["network"]["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !l["address"].as_str().unwrap().starts_with("127."))
        .map(|l| (l["port"].as_u64().unwrap(), l["exposed"].as_bool().unwrap()))
        .collect()
}

#[test]
fn observed_connections_and_findings_are_exactly_those() {
    let _serial = common::serial();
    let mut f = common::Fixture::new("net");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    f.prefix = format!("netw-{}-{nanos:x}", std::process::id());
    let base = common::BASE;
    let listen = |port: u16| format!("sleep 3600 | nc -l -p {port}");
    let connect = |ip: &str, port: u16| format!("sleep 3600 | nc {ip} {port}");
    let ip = |name: &str| {
        inspect(
            name,
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        )
    };

    let app = f.network("app");
    let quiet = f.network("quiet");
    let (project_a, project_b) = (f.name("a"), f.name("b"));
    // Compose names a project's default network `<project>_default`.
    let b_net = f.network("b_default");

    let srv = f.run(
        "srv",
        &[
            "--network",
            &app,
            "--expose",
            "7000",
            base,
            "sh",
            "-c",
            &listen(7000),
        ],
    );
    let lone = f.run(
        "lone",
        &["--network", &app, base, "sh", "-c", &listen(7100)],
    );
    let label_a = format!("com.docker.compose.project={project_a}");
    let label_b = format!("com.docker.compose.project={project_b}");
    let db = f.run(
        "db",
        &[
            "--network",
            &b_net,
            "--expose",
            "5432",
            "--label",
            &label_b,
            "--label",
            "com.docker.compose.service=db",
            base,
            "sh",
            "-c",
            &listen(5432),
        ],
    );
    // Published ports: one nothing listens behind, one the host connects to.
    let pub_idle = f.run(
        "pubidle",
        &[
            "--network",
            &app,
            "-p",
            "127.0.0.1::7300",
            base,
            "sleep",
            "3600",
        ],
    );
    let pub_used = f.run(
        "pubused",
        &[
            "--network",
            &app,
            "-p",
            "127.0.0.1::7200",
            base,
            "sh",
            "-c",
            &listen(7200),
        ],
    );
    wait_socket(&pub_used, 7200, true);
    let used_port = inspect(
        &pub_used,
        "{{(index (index .NetworkSettings.Ports \"7200/tcp\") 0).HostPort}}",
    );
    let _from_outside = HostEnd::connect(used_port.parse::<u16>().unwrap());
    wait_socket(&pub_used, 7200, false);
    wait_socket(&srv, 7000, true);
    wait_socket(&lone, 7100, true);
    wait_socket(&db, 5432, true);

    // The host: a listener of this test on the app network's gateway.
    let gateway = inspect(
        &srv,
        "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}",
    );
    let (host_listener, host_port) = HostEnd::listen(&gateway);

    let cli = f.run(
        "cli",
        &[
            "--network",
            &app,
            base,
            "sh",
            "-c",
            &connect(&ip(&srv), 7000),
        ],
    );
    let to_host = f.run(
        "tohost",
        &[
            "--network",
            &app,
            base,
            "sh",
            "-c",
            &connect(&gateway, host_port),
        ],
    );
    let web = f.run(
        "web",
        &[
            "--network",
            &b_net,
            "--label",
            &label_a,
            "--label",
            "com.docker.compose.service=web",
            base,
            "sh",
            "-c",
            &connect(&ip(&db), 5432),
        ],
    );
    let q1 = f.run("q1", &["--network", &quiet, base, "sleep", "3600"]);
    let q2 = f.run("q2", &["--network", &quiet, base, "sleep", "3600"]);
    let hostnet = f.run("hostnet", &["--network", "host", base, "sleep", "3600"]);
    wait_socket(&cli, 7000, false);
    wait_socket(&to_host, host_port, false);
    wait_socket(&web, 5432, false);

    let r = common::scan::scan_json(&common::scratch_vulndb(), f.tmp.path(), "report.json", &[]);
    drop(host_listener);

    let ours = [
        &srv, &lone, &db, &cli, &to_host, &web, &q1, &q2, &pub_idle, &pub_used,
    ];
    for name in ours {
        assert_eq!(container(&r, name)["network"]["status"], "seen", "{name}");
    }
    // Exactly these connections were opened, each end named.
    let opened: BTreeSet<(String, String, String, u64)> = ours
        .iter()
        .flat_map(|n| {
            outbound(container(&r, n))
                .into_iter()
                .map(move |(k, who, port)| (n.to_string(), k, who, port))
        })
        .collect();
    let want: BTreeSet<(String, String, String, u64)> = [
        (cli.clone(), "container".to_string(), srv.clone(), 7000),
        (
            to_host.clone(),
            "host".into(),
            gateway.clone(),
            u64::from(host_port),
        ),
        (web.clone(), "container".into(), db.clone(), 5432),
    ]
    .into_iter()
    .collect();
    assert_eq!(opened, want);
    // The far ends saw them coming in, from the containers by name.
    assert_eq!(inbound_from(container(&r, &srv)), [cli.clone()].into());
    assert_eq!(inbound_from(container(&r, &db)), [web.clone()].into());
    let cli_conn = &container(&r, &cli)["network"]["connections"][0];
    assert_eq!(cli_conn["peer"]["network"], app.as_str());
    assert_eq!(cli_conn["process"]["comm"], "nc", "{cli_conn}");

    // Listeners: busybox `nc -l` closes its listener once it accepted, so
    // only the one nobody connected to is left.
    assert_eq!(listeners(container(&r, &lone)), [(7100, false)]);
    assert_eq!(
        container(&r, &lone)["network"]["listeners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["port"] == 7100)
            .unwrap()["process"]["comm"],
        "nc"
    );
    assert!(listeners(container(&r, &srv)).is_empty());
    assert!(listeners(container(&r, &db)).is_empty());

    // Exactly these findings.
    assert_eq!(
        rules(container(&r, &lone)),
        ["container.unpublished-listener"]
    );
    assert_eq!(rules(container(&r, &to_host)), ["container.reaches-host"]);
    let web_findings = findings(container(&r, &web));
    assert_eq!(web_findings.len(), 1, "{web_findings:?}");
    assert_eq!(web_findings[0].0, "container.lateral-connection");
    assert!(web_findings[0].1.contains(&db), "{}", web_findings[0].1);
    // Published ports: whether anything listens behind, whether outside connected.
    let published = |name: &str| container(&r, name)["network"]["published"][0].clone();
    assert_eq!(published(&pub_idle)["container_port"], 7300);
    assert_eq!(published(&pub_idle)["listening"], false);
    assert_eq!(published(&pub_idle)["connected_from_outside"], false);
    assert_eq!(published(&pub_used)["container_port"], 7200);
    assert_eq!(
        published(&pub_used)["connected_from_outside"],
        true,
        "{}",
        container(&r, &pub_used)["network"]
    );
    let proxied = &container(&r, &pub_used)["network"]["connections"][0];
    assert_eq!(proxied["direction"], "inbound");
    assert_eq!(proxied["peer"]["kind"], "host");
    for name in [&srv, &db, &cli, &q1, &q2, &pub_idle, &pub_used] {
        assert!(
            rules(container(&r, name)).is_empty(),
            "{name}: {:?}",
            findings(container(&r, name))
        );
    }
    // The quiet pair: nothing at all.
    for name in [&q1, &q2] {
        let c = container(&r, name);
        assert!(
            outbound(c).is_empty() && inbound_from(c).is_empty(),
            "{name}"
        );
        assert!(listeners(c).is_empty(), "{name}");
    }
    // The host's namespace is not the container's to report: not available, with why.
    let h = container(&r, &hostnet);
    assert_eq!(h["network"]["status"], "not_available");
    assert!(
        h["network"]["reason"].as_str().unwrap().contains("host"),
        "{h}"
    );
    assert!(rules(h).is_empty());
}
