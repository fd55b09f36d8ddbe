//! A compose service as the container facts Docker would create from it
//! (`model::Container`, source `Compose`): the one catalogue then judges
//! it exactly as it judges a running container, before anything is
//! created. And the way back: the file and line of the key a finding is
//! about (or of the service, when the finding is about a key that is
//! missing, as `read_only`).

use std::collections::BTreeMap;

use super::load::{Project, Service};
use super::yaml::{Node, Value};
use crate::model::compose::{FileLocation, ServiceLines};
use crate::model::{
    Container, ContainerState, Device, EnvVar, Healthcheck, LogConfig, Mount, MountKind,
    PortBinding, RestartPolicy, Sensitive, Source, TmpfsMount, Ulimit,
};

fn strings(n: Option<&Node>) -> Vec<String> {
    match n.map(|n| &n.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Some(Value::Scalar(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

fn text(n: Option<&Node>) -> String {
    n.and_then(Node::as_str).unwrap_or("").to_string()
}

fn truthy(n: Option<&Node>) -> bool {
    n.and_then(Node::as_str)
        .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1"))
}

/// `512m`, `1g`, `1073741824`, `1.5GB` → bytes.
pub fn bytes(s: &str) -> Option<i64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.trim_end_matches('b');
    let (num, mult) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1i64 << 10),
        'm' => (&s[..s.len() - 1], 1 << 20),
        'g' => (&s[..s.len() - 1], 1 << 30),
        't' => (&s[..s.len() - 1], 1 << 40),
        _ => (s, 1),
    };
    let v: f64 = num.trim().parse().ok()?;
    (v >= 0.0).then_some((v * mult as f64) as i64)
}

/// A map written as a mapping or as a list of `K=V`.
fn pairs(n: Option<&Node>) -> Vec<(String, Option<String>)> {
    match n.map(|n| &n.value) {
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, _, v)| (k.clone(), v.as_str().map(str::to_string)))
            .collect(),
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(|i| i.as_str())
            .map(|s| match s.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (s.to_string(), None),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A `ports` entry: short (`8080:80`, `127.0.0.1:8080:80/udp`, `80`) or
/// long (`target`, `published`, `host_ip`, `protocol`).
fn port(n: &Node) -> Option<PortBinding> {
    if let Some(s) = n.as_str() {
        let (spec, proto) = s.split_once('/').unwrap_or((s, "tcp"));
        // IPv6 host addresses are bracketed: [::1]:8080:80.
        let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
            let (ip, r) = r.split_once("]:")?;
            (ip.to_string(), r.to_string())
        } else {
            let parts: Vec<&str> = spec.split(':').collect();
            match parts.len() {
                3 => (parts[0].to_string(), format!("{}:{}", parts[1], parts[2])),
                _ => (String::new(), spec.to_string()),
            }
        };
        let (host, target) = match rest.split_once(':') {
            Some((h, t)) => (Some(h.split('-').next()?.parse::<u16>().unwrap_or(0)), t),
            None => (Some(0), rest.as_str()),
        };
        return Some(PortBinding {
            container_port: target.split('-').next()?.parse().ok()?,
            protocol: proto.to_string(),
            host_ip: ip,
            host_port: host,
        });
    }
    Some(PortBinding {
        container_port: n.get("target")?.as_str()?.parse().ok()?,
        protocol: n
            .get("protocol")
            .and_then(Node::as_str)
            .unwrap_or("tcp")
            .to_string(),
        host_ip: text(n.get("host_ip")),
        host_port: Some(
            n.get("published")
                .and_then(Node::as_str)
                .and_then(|p| p.split('-').next()?.parse().ok())
                .unwrap_or(0),
        ),
    })
}

/// A `volumes` entry: short (`./data:/data:ro`, `db:/var/lib/db`,
/// `/var/run/docker.sock:/var/run/docker.sock`) or long (`type`,
/// `source`, `target`, `read_only`, `bind.propagation`). Relative bind
/// sources are the project folder's.
fn mount(n: &Node, dir: &str) -> Option<Mount> {
    let abs = |s: &str| -> String {
        if let Some(r) = s.strip_prefix("./") {
            format!("{dir}/{r}")
        } else if s == "." {
            dir.to_string()
        } else if s.starts_with("..") {
            format!("{dir}/{s}")
        } else {
            s.to_string()
        }
    };
    if let Some(s) = n.as_str() {
        let parts: Vec<&str> = s.split(':').collect();
        let (src, dst, mode) = match parts.as_slice() {
            [dst] => ("", *dst, ""),
            [src, dst] => (*src, *dst, ""),
            [src, dst, mode, ..] => (*src, *dst, *mode),
            [] => return None,
        };
        let bind = src.starts_with('/') || src.starts_with('.') || src.starts_with('~');
        return Some(Mount {
            kind: if bind {
                MountKind::Bind
            } else {
                MountKind::Volume
            },
            source: if bind { abs(src) } else { src.to_string() },
            destination: dst.to_string(),
            read_write: !mode.split(',').any(|m| m == "ro"),
            propagation: mode
                .split(',')
                .find(|m| m.contains("shared") || m.contains("slave") || m.contains("private"))
                .unwrap_or("")
                .to_string(),
            name: (!bind && !src.is_empty()).then(|| src.to_string()),
            host: None,
        });
    }
    let kind = match n.get("type").and_then(Node::as_str).unwrap_or("volume") {
        "bind" => MountKind::Bind,
        "tmpfs" => MountKind::Tmpfs,
        "npipe" => MountKind::Npipe,
        "cluster" => MountKind::Cluster,
        _ => MountKind::Volume,
    };
    let src = text(n.get("source"));
    Some(Mount {
        source: if kind == MountKind::Bind {
            abs(&src)
        } else {
            src.clone()
        },
        destination: text(n.get("target")),
        read_write: !truthy(n.get("read_only")),
        propagation: n
            .get("bind")
            .and_then(|b| b.get("propagation"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string(),
        name: (kind == MountKind::Volume && !src.is_empty()).then_some(src),
        host: None,
        kind,
    })
}

/// A namespace mode: `service:db` is that service's container
/// (`container:<project>-db-1`, as Compose names it).
fn ns(n: Option<&Node>, project: &str) -> String {
    let s = text(n);
    match s.strip_prefix("service:") {
        Some(svc) => format!("container:{project}-{svc}-1"),
        None => s,
    }
}

/// The container Docker would create from a service of `project`, whose
/// folder is `dir`; `env_files` are the texts of its `env_file`s (names
/// only are ever shown).
pub fn container(project: &Project, s: &Service, dir: &str, env_files: &[String]) -> Container {
    let n = &s.node;
    let get = |k: &str| n.get(k);
    let deploy_limit = |k: &str| {
        n.get("deploy")
            .and_then(|d| d.get("resources"))
            .and_then(|r| r.get("limits"))
            .and_then(|l| l.get(k))
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    let mut env: Vec<EnvVar> = Vec::new();
    for text in env_files {
        for (k, v) in super::load::dotenv(text) {
            env.retain(|e| e.key != k);
            env.push(EnvVar {
                key: k,
                value: Sensitive::new(v),
            });
        }
    }
    for (k, v) in pairs(get("environment")) {
        env.retain(|e| e.key != k);
        env.push(EnvVar {
            key: k,
            value: Sensitive::new(v.unwrap_or_default()),
        });
    }
    let labels: BTreeMap<String, String> = pairs(get("labels"))
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    let restart = text(get("restart"));
    let (restart_name, retries) = match restart.split_once(':') {
        Some((name, n)) => (name.to_string(), n.parse().unwrap_or(0)),
        None => (restart, 0),
    };
    let healthcheck = get("healthcheck").map(|h| {
        if truthy(h.get("disable")) {
            Healthcheck {
                test: vec!["NONE".into()],
            }
        } else {
            Healthcheck {
                test: match h.get("test").map(|t| &t.value) {
                    Some(Value::Scalar(s)) => vec!["CMD-SHELL".into(), s.clone()],
                    _ => strings(h.get("test")),
                },
            }
        }
    });
    let network_mode = match text(get("network_mode")) {
        m if m.is_empty() => {
            // Compose attaches a service to the project's own network(s).
            match get("networks").map(|x| &x.value) {
                Some(Value::Seq(nets)) => nets
                    .first()
                    .and_then(Node::as_str)
                    .map_or(format!("{}_default", project.name), |n| {
                        format!("{}_{n}", project.name)
                    }),
                Some(Value::Map(nets)) => nets
                    .first()
                    .map_or(format!("{}_default", project.name), |(n, _, _)| {
                        format!("{}_{n}", project.name)
                    }),
                _ => format!("{}_default", project.name),
            }
        }
        m => match m.strip_prefix("service:") {
            Some(svc) => format!("container:{}-{svc}-1", project.name),
            None => m,
        },
    };
    let mut c = Container {
        source: Source::Compose,
        id: format!("{}-{}-1", project.name, s.name),
        name: text(get("container_name"))
            .chars()
            .take(256)
            .collect::<String>()
            .to_string(),
        image: text(get("image")),
        state: ContainerState::Created,
        command: strings(get("entrypoint"))
            .into_iter()
            .chain(strings(get("command")))
            .collect(),
        user: text(get("user")),
        labels,
        env,
        privileged: truthy(get("privileged")),
        cap_add: strings(get("cap_add")),
        cap_drop: strings(get("cap_drop")),
        network_mode,
        pid_mode: ns(get("pid"), &project.name),
        ipc_mode: ns(get("ipc"), &project.name),
        uts_mode: text(get("uts")),
        userns_mode: text(get("userns_mode")),
        cgroup_parent: text(get("cgroup_parent")),
        cgroupns_mode: text(get("cgroup")),
        security_opt: strings(get("security_opt")),
        readonly_rootfs: truthy(get("read_only")),
        restart: RestartPolicy {
            name: restart_name,
            max_retries: retries,
        },
        devices: strings(get("devices"))
            .into_iter()
            .map(|d| {
                let p: Vec<&str> = d.split(':').collect();
                Device {
                    host_path: p.first().unwrap_or(&"").to_string(),
                    container_path: p.get(1).or(p.first()).unwrap_or(&"").to_string(),
                    permissions: p.get(2).unwrap_or(&"rwm").to_string(),
                }
            })
            .collect(),
        tmpfs: strings(get("tmpfs"))
            .into_iter()
            .map(|t| TmpfsMount {
                destination: t.split(':').next().unwrap_or("").to_string(),
                exec: t
                    .split(':')
                    .nth(1)
                    .is_some_and(|o| o.split(',').any(|x| x == "exec")),
            })
            .collect(),
        healthcheck,
        log: get("logging")
            .map(|l| LogConfig {
                driver: text(l.get("driver")),
                options: pairs(l.get("options"))
                    .into_iter()
                    .map(|(k, v)| (k, Sensitive::new(v.unwrap_or_default())))
                    .collect(),
            })
            .unwrap_or_default(),
        oom_kill_disable: truthy(get("oom_kill_disable")),
        oom_score_adj: text(get("oom_score_adj")).parse().unwrap_or(0),
        sysctls: pairs(get("sysctls"))
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect(),
        runtime: text(get("runtime")),
        device_cgroup_rules: strings(get("device_cgroup_rules")),
        ..Container::default()
    };
    if c.name.is_empty() {
        c.name = format!("{}-{}-1", project.name, s.name);
    }
    for v in match get("volumes").map(|x| &x.value) {
        Some(Value::Seq(items)) => items.as_slice(),
        _ => &[],
    } {
        if let Some(m) = mount(v, dir) {
            if m.kind == MountKind::Tmpfs {
                c.tmpfs.push(TmpfsMount {
                    destination: m.destination,
                    exec: false,
                });
            } else {
                c.mounts.push(m);
            }
        }
    }
    for p in match get("ports").map(|x| &x.value) {
        Some(Value::Seq(items)) => items.as_slice(),
        _ => &[],
    } {
        if let Some(b) = port(p) {
            c.ports.push(b);
        }
    }
    c.limits.memory_bytes = text(get("mem_limit"))
        .parse::<String>()
        .ok()
        .and_then(|m| bytes(&m))
        .or_else(|| deploy_limit("memory").and_then(|m| bytes(&m)))
        .unwrap_or(0);
    c.limits.nano_cpus = text(get("cpus"))
        .parse::<f64>()
        .ok()
        .or_else(|| deploy_limit("cpus").and_then(|v| v.parse().ok()))
        .map_or(0, |v| (v * 1e9) as i64);
    c.limits.pids = text(get("pids_limit"))
        .parse()
        .ok()
        .or_else(|| deploy_limit("pids").and_then(|v| v.parse().ok()));
    c.ulimits = match get("ulimits").map(|x| &x.value) {
        Some(Value::Map(m)) => m
            .iter()
            .map(|(k, _, v)| {
                let single = v.as_str().and_then(|s| s.parse().ok());
                Ulimit {
                    name: k.clone(),
                    soft: single
                        .or_else(|| v.get("soft").and_then(Node::as_str)?.parse().ok())
                        .unwrap_or(0),
                    hard: single
                        .or_else(|| v.get("hard").and_then(Node::as_str)?.parse().ok())
                        .unwrap_or(0),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    // systempaths=unconfined unmasks /proc and /sys.
    if c.security_opt.iter().any(|o| o == "systempaths=unconfined") {
        c.masked_paths = Some(Vec::new());
        c.readonly_paths = Some(Vec::new());
    }
    c
}

/// Where service `s`'s keys are written: each file index resolved to the
/// project's file name.
pub fn lines(project: &Project, s: &Service) -> ServiceLines {
    let at = |file: usize, line: usize| FileLocation {
        file: project.files.get(file).cloned().unwrap_or_default(),
        line,
    };
    let mut keys = BTreeMap::new();
    if let Value::Map(m) = &s.node.value {
        for (k, line, node) in m {
            keys.insert(k.clone(), at(node.file, *line));
        }
    }
    ServiceLines {
        service: Some(at(s.at.0, s.at.1)),
        keys,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::compose::load::{Input, load};

    #[test]
    fn a_service_becomes_the_container_docker_would_create() {
        let text = "services:\n  api:\n    image: shop/api:1.4\n    privileged: true\n    user: \"1000:1000\"\n    cap_add: [NET_ADMIN]\n    ports:\n      - \"8080:80\"\n      - \"127.0.0.1:9090:9090/udp\"\n      - target: 443\n        published: 8443\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n      - ./data:/data:ro\n      - db:/var/lib/db\n    pid: host\n    network_mode: service:db\n    mem_limit: 512m\n    deploy:\n      resources:\n        limits:\n          cpus: \"0.5\"\n    restart: on-failure:3\n    environment:\n      DB_PASSWORD: hunter2\n    security_opt: [\"seccomp=unconfined\"]\n    read_only: true\n";
        let p = load(&Input {
            files: vec![("/home/dev/shop/compose.yaml".into(), text.into())],
            folder: "shop".into(),
            ..Input::default()
        })
        .unwrap();
        let c = container(&p, &p.services[0], "/home/dev/shop", &[]);
        assert_eq!(c.source, Source::Compose);
        assert_eq!(c.name, "shop-api-1");
        assert!(c.privileged && c.readonly_rootfs);
        assert_eq!(c.user, "1000:1000");
        assert_eq!(c.ports.len(), 3);
        assert_eq!(
            (
                c.ports[0].host_ip.as_str(),
                c.ports[0].host_port,
                c.ports[0].container_port
            ),
            ("", Some(8080), 80)
        );
        assert_eq!(
            (c.ports[1].host_ip.as_str(), c.ports[1].protocol.as_str()),
            ("127.0.0.1", "udp")
        );
        assert_eq!(c.ports[2].host_port, Some(8443));
        assert_eq!(c.mounts[0].kind, MountKind::Bind);
        assert_eq!(c.mounts[1].source, "/home/dev/shop/data");
        assert!(!c.mounts[1].read_write);
        assert_eq!(c.mounts[2].kind, MountKind::Volume);
        assert_eq!(c.pid_mode, "host");
        assert_eq!(c.network_mode, "container:shop-db-1");
        assert_eq!(c.limits.memory_bytes, 512 << 20);
        assert_eq!(c.limits.nano_cpus, 500_000_000);
        assert_eq!(
            (c.restart.name.as_str(), c.restart.max_retries),
            ("on-failure", 3)
        );
        assert_eq!(c.env[0].key, "DB_PASSWORD");
        // The way back to the file.
        let lines = lines(&p, &p.services[0]);
        let at = |rule: &str| lines.locate(rule).map(|l| l.short());
        assert_eq!(
            at("container.privileged").as_deref(),
            Some("compose.yaml:4")
        );
        assert_eq!(
            at("container.engine-socket").as_deref(),
            Some("compose.yaml:12")
        );
        assert_eq!(
            at("container.no-healthcheck").as_deref(),
            Some("compose.yaml:2"),
            "missing: the service's line"
        );
        assert_eq!(at("container.drift-program"), None, "runtime: no line");
        assert_eq!(
            lines.keys["privileged"].file, "/home/dev/shop/compose.yaml",
            "the file as the project names it"
        );
        assert_eq!(bytes("1.5g"), Some((1.5 * (1u64 << 30) as f64) as i64));
        assert_eq!(bytes("1073741824"), Some(1 << 30));
    }
}
