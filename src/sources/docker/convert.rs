//! bollard's all-`Option` API types → shipshape's model, once.
//!
//! Every "the engine did not say" becomes an explicit default here, so the
//! rules never deal with `Option<Option<…>>`.

use std::collections::BTreeMap;

use bollard::models::{
    ContainerInspectResponse, ContainerTopResponse, ImageHistoryResponseItem, ImageInspect,
    NetworkInspect, PortMap, SystemInfo, SystemVersion,
};
use chrono::{DateTime, Utc};

use super::connect::{Endpoint, EnvSnapshot, Target};
use crate::model::*;

/// Parse an engine timestamp; the zero time (`0001-01-01…`) means "never".
pub fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    if s.is_empty() || s.starts_with("0001-01-01") {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

fn opt_string(s: Option<String>) -> String {
    s.unwrap_or_default()
}

/// `"80/tcp"` → `(80, "tcp")`.
fn parse_port_key(key: &str) -> Option<(u16, String)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, proto.to_string()))
}

fn ports_from(map: &PortMap) -> Vec<PortBinding> {
    let mut out = Vec::new();
    for (key, bindings) in map {
        let Some((container_port, protocol)) = parse_port_key(key) else {
            continue;
        };
        match bindings {
            Some(list) if !list.is_empty() => {
                for b in list {
                    out.push(PortBinding {
                        container_port,
                        protocol: protocol.clone(),
                        host_ip: b.host_ip.clone().unwrap_or_default(),
                        // "" means "pick a free port": published, number unknown yet.
                        host_port: b.host_port.as_deref().map(|p| p.parse().unwrap_or(0)),
                    });
                }
            }
            _ => out.push(PortBinding {
                container_port,
                protocol: protocol.clone(),
                host_ip: String::new(),
                host_port: None,
            }),
        }
    }
    out.sort();
    out
}

/// A container's networks with its addresses there, sorted by name.
fn endpoints(
    nets: std::collections::HashMap<String, bollard::models::EndpointSettings>,
) -> Vec<crate::model::flows::NetEndpoint> {
    let ip = |s: Option<String>| s.and_then(|s| s.parse().ok());
    let list = |v: Option<Vec<String>>| {
        v.unwrap_or_default()
            .into_iter()
            .take(limits::ITEMS)
            .map(bounded)
            .collect::<Vec<_>>()
    };
    let mut out: Vec<_> = nets
        .into_iter()
        .take(limits::ITEMS)
        .map(|(network, e)| crate::model::flows::NetEndpoint {
            network: bounded(network),
            ip: ip(e.ip_address),
            ipv6: ip(e.global_ipv6_address),
            gateway: ip(e.gateway),
            ipv6_gateway: ip(e.ipv6_gateway),
            aliases: list(e.aliases),
            links: list(e.links),
        })
        .collect();
    out.sort_by(|a, b| a.network.cmp(&b.network));
    out
}

/// `HostConfig.Links` (`/db:/web/db`): the linked containers' names.
fn links(raw: &[String]) -> Vec<String> {
    raw.iter()
        .take(limits::ITEMS)
        .filter_map(|l| l.split(':').next())
        .map(|n| bounded(n.trim_start_matches('/').to_string()))
        .filter(|n| !n.is_empty())
        .collect()
}

fn has_published(ports: &[PortBinding]) -> bool {
    ports.iter().any(|p| p.host_port.is_some())
}

fn healthcheck(h: Option<bollard::models::HealthConfig>) -> Option<Healthcheck> {
    h.and_then(|h| h.test).map(|test| Healthcheck { test })
}

/// Ceilings on what one engine object may hold, applied here, once. The
/// engine relays whatever the image's author or the container's creator
/// wrote; nothing real comes near these.
pub mod limits {
    /// Bytes of one label value, env entry, history line or command argument.
    pub const VALUE: usize = 64 << 10;
    /// Labels, env entries, history entries, processes, exec ids.
    pub const ITEMS: usize = 10_000;
}

/// `s`, cut at [`limits::VALUE`] bytes (on a character boundary) with a
/// marker saying how much was left out.
pub fn bounded(s: String) -> String {
    if s.len() <= limits::VALUE {
        return s;
    }
    let cut = s.floor_char_boundary(limits::VALUE);
    format!("{}… [{} more bytes not read]", &s[..cut], s.len() - cut)
}

fn env(list: Option<Vec<String>>) -> Vec<EnvVar> {
    list.unwrap_or_default()
        .into_iter()
        .take(limits::ITEMS)
        .map(|e| EnvVar::parse(&bounded(e)))
        .collect()
}

fn labels(map: Option<std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    let mut m = map.unwrap_or_default();
    if m.len() > limits::ITEMS {
        // Keep a deterministic subset: the first keys in order.
        let mut keys: Vec<String> = m.keys().cloned().collect();
        keys.sort();
        let keep: std::collections::HashSet<String> =
            keys.into_iter().take(limits::ITEMS).collect();
        m.retain(|k, _| keep.contains(k));
    }
    m.into_iter()
        .map(|(k, v)| (bounded(k), bounded(v)))
        .collect()
}

/// Fills the source-neutral facts from an engine's container inspect.
pub fn container(r: ContainerInspectResponse) -> Container {
    let hc = r.host_config.unwrap_or_default();
    let cfg = r.config.unwrap_or_default();
    let state = r.state.unwrap_or_default();
    let ns = r.network_settings.unwrap_or_default();

    // A running container reports its actual bindings; a created or stopped
    // one only its configured PortBindings.
    let live_ports = ns.ports.as_ref().map(ports_from).unwrap_or_default();
    let ports = if has_published(&live_ports) {
        live_ports
    } else {
        let configured = hc
            .port_bindings
            .as_ref()
            .map(ports_from)
            .unwrap_or_default();
        if configured.is_empty() {
            live_ports
        } else {
            configured
        }
    };

    let nets = ns.networks.unwrap_or_default();
    let mut networks: Vec<String> = nets.keys().cloned().collect();
    networks.sort();
    let endpoints = endpoints(nets);
    let links = links(hc.links.as_deref().unwrap_or_default());

    let mounts = r
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| Mount {
            kind: match m.typ.as_deref().unwrap_or("") {
                "bind" => MountKind::Bind,
                "volume" => MountKind::Volume,
                "tmpfs" => MountKind::Tmpfs,
                "npipe" => MountKind::Npipe,
                "cluster" => MountKind::Cluster,
                _ => MountKind::Other,
            },
            source: opt_string(m.source),
            destination: opt_string(m.destination),
            read_write: m.rw.unwrap_or(true),
            propagation: opt_string(m.propagation),
            name: m.name,
            host: None,
        })
        .collect();

    let tmpfs = tmpfs_mounts(&hc);

    let devices = hc
        .devices
        .unwrap_or_default()
        .into_iter()
        .map(|d| Device {
            host_path: opt_string(d.path_on_host),
            container_path: opt_string(d.path_in_container),
            permissions: opt_string(d.cgroup_permissions),
        })
        .collect();

    let restart = hc.restart_policy.unwrap_or_default();
    let restart = RestartPolicy {
        name: restart.name.map(|n| n.to_string()).unwrap_or_default(),
        max_retries: restart.maximum_retry_count.unwrap_or(0),
    };

    let health = state
        .health
        .and_then(|h| h.status)
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty() && s != "none");

    let log = hc.log_config.clone().unwrap_or_default();
    let log = LogConfig {
        driver: log.typ.unwrap_or_default(),
        options: log
            .config
            .unwrap_or_default()
            .into_iter()
            .take(limits::ITEMS)
            .map(|(k, v)| (bounded(k), crate::model::Sensitive::new(bounded(v))))
            .collect(),
    };
    let ulimits = hc
        .ulimits
        .clone()
        .unwrap_or_default()
        .into_iter()
        .take(limits::ITEMS)
        .map(|u| Ulimit {
            name: opt_string(u.name),
            soft: u.soft.unwrap_or(0),
            hard: u.hard.unwrap_or(0),
        })
        .collect();
    let device_requests = hc
        .device_requests
        .clone()
        .unwrap_or_default()
        .into_iter()
        .take(limits::ITEMS)
        .map(|d| {
            let count = match d.count {
                Some(-1) => "all devices".to_string(),
                Some(n) if n > 0 => format!("{n} device(s)"),
                _ => match &d.device_ids {
                    Some(ids) if !ids.is_empty() => format!("devices {}", ids.join(",")),
                    _ => "devices".to_string(),
                },
            };
            let caps: Vec<String> = d
                .capabilities
                .unwrap_or_default()
                .into_iter()
                .map(|set| set.join("+"))
                .collect();
            let driver = d
                .driver
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into());
            if caps.is_empty() {
                format!("{count} of driver {driver}")
            } else {
                format!("{count} of driver {driver} ({})", caps.join(", "))
            }
        })
        .collect();

    let mut command = cfg.entrypoint.unwrap_or_default();
    command.extend(cfg.cmd.unwrap_or_default());

    Container {
        source: crate::model::Source::Engine,
        id: opt_string(r.id),
        name: opt_string(r.name).trim_start_matches('/').to_string(),
        image: cfg.image.unwrap_or_default(),
        image_id: opt_string(r.image),
        state: ContainerState::parse(&state.status.map(|s| s.to_string()).unwrap_or_default()),
        created: r.created,
        started_at: state.started_at.as_deref().and_then(timestamp),
        finished_at: state.finished_at.as_deref().and_then(timestamp),
        exit_code: state.exit_code,
        health,
        command,
        user: cfg.user.unwrap_or_default(),
        labels: labels(cfg.labels),
        env: env(cfg.env),
        privileged: hc.privileged.unwrap_or(false),
        cap_add: hc.cap_add.unwrap_or_default(),
        cap_drop: hc.cap_drop.unwrap_or_default(),
        network_mode: hc.network_mode.unwrap_or_default(),
        pid_mode: hc.pid_mode.unwrap_or_default(),
        ipc_mode: hc.ipc_mode.unwrap_or_default(),
        uts_mode: hc.uts_mode.unwrap_or_default(),
        userns_mode: hc.userns_mode.unwrap_or_default(),
        cgroup_parent: hc.cgroup_parent.unwrap_or_default(),
        security_opt: hc.security_opt.unwrap_or_default(),
        apparmor_profile: opt_string(r.app_armor_profile),
        process_label: opt_string(r.process_label),
        readonly_rootfs: hc.readonly_rootfs.unwrap_or(false),
        limits: Limits {
            memory_bytes: hc.memory.unwrap_or(0),
            memory_swap: hc.memory_swap.unwrap_or(0),
            nano_cpus: hc.nano_cpus.unwrap_or(0),
            cpu_quota: hc.cpu_quota.unwrap_or(0),
            cpu_shares: hc.cpu_shares.unwrap_or(0),
            pids: hc.pids_limit,
        },
        restart,
        devices,
        mounts,
        tmpfs,
        ports,
        networks,
        endpoints,
        links,
        sockets: crate::model::flows::NetObserved::NotRead,
        healthcheck: healthcheck(cfg.healthcheck),
        log,
        oom_kill_disable: hc.oom_kill_disable.unwrap_or(false),
        oom_score_adj: hc.oom_score_adj.unwrap_or(0),
        ulimits,
        device_cgroup_rules: hc
            .device_cgroup_rules
            .unwrap_or_default()
            .into_iter()
            .take(limits::ITEMS)
            .map(bounded)
            .collect(),
        device_requests,
        sysctls: labels(hc.sysctls),
        masked_paths: hc.masked_paths,
        readonly_paths: hc.readonly_paths,
        cgroupns_mode: hc.cgroupns_mode.map(|m| m.to_string()).unwrap_or_default(),
        runtime: hc.runtime.unwrap_or_default(),
        restart_count: r.restart_count.unwrap_or(0),
        oom_killed: state.oom_killed.unwrap_or(false),
        pid: state.pid.unwrap_or(0),
        storage: r
            .graph_driver
            .map(|g| crate::model::StorageDirs::of(&g.name, &g.data)),
        processes: None,
        processes_from: "",
        observed: None,
        files_in_use: None,
        exec_ids: r
            .exec_ids
            .unwrap_or_default()
            .into_iter()
            .take(limits::ITEMS)
            .collect(),
        execs: Vec::new(),
        drift: None,
        gone: None,
        packages: None,
        vulns: Default::default(),
        kube: None,
        compose_file: None,
    }
}

/// `--tmpfs` (`HostConfig.Tmpfs`: destination → `exec,size=…`, the last of
/// `exec`/`noexec` winning) and `--mount type=tmpfs` (`HostConfig.Mounts`,
/// `TmpfsOptions.Options` `[["exec"]]` on API 1.46+). Both are `noexec`
/// unless told otherwise.
fn tmpfs_mounts(hc: &bollard::models::HostConfig) -> Vec<crate::model::TmpfsMount> {
    let mut out: Vec<crate::model::TmpfsMount> = hc
        .tmpfs
        .iter()
        .flatten()
        .take(limits::ITEMS)
        .map(|(dest, opts)| crate::model::TmpfsMount {
            destination: bounded(dest.clone()),
            exec: opts
                .split(',')
                .map(str::trim)
                .rfind(|o| *o == "exec" || *o == "noexec")
                == Some("exec"),
        })
        .collect();
    out.extend(
        hc.mounts
            .iter()
            .flatten()
            .filter(|m| matches!(m.typ, Some(bollard::models::MountType::TMPFS)))
            .take(limits::ITEMS)
            .map(|m| crate::model::TmpfsMount {
                destination: bounded(m.target.clone().unwrap_or_default()),
                exec: m
                    .tmpfs_options
                    .as_ref()
                    .and_then(|t| t.options.as_ref())
                    .is_some_and(|o| {
                        o.iter()
                            .filter_map(|kv| kv.first().map(String::as_str))
                            .rfind(|k| *k == "exec" || *k == "noexec")
                            == Some("exec")
                    }),
            }),
    );
    out.sort_by(|a, b| a.destination.cmp(&b.destination));
    out
}

/// An exec inspect → an [`ExecSession`], the user resolved against the
/// container's own user.
pub fn exec_session(
    r: bollard::models::ExecInspectResponse,
    container: Option<&Container>,
    started: DateTime<Utc>,
) -> ExecSession {
    let pc = r.process_config.unwrap_or_default();
    let user = pc.user.unwrap_or_default();
    let container_user = container.map(|c| c.user.as_str()).unwrap_or_default();
    let mut command = vec![pc.entrypoint.unwrap_or_default()];
    command.extend(pc.arguments.unwrap_or_default());
    command.retain(|a| !a.is_empty());
    command.truncate(limits::ITEMS);
    let command: Vec<String> = command.into_iter().map(bounded).collect();
    // Commands carry passwords (`mysql -p…`, `TOKEN=… run`): never kept.
    let command = crate::rules::secrets::redact_args(&command);
    let running = r.running.unwrap_or(false);
    ExecSession {
        id: r.id.unwrap_or_default(),
        container_id: r.container_id.unwrap_or_default(),
        container_name: container.map(|c| c.name.clone()).unwrap_or_default(),
        effective_user: crate::model::activity::effective_user(&user, container_user),
        user: Some(user),
        command,
        privileged: pc.privileged.unwrap_or(false),
        tty: pc.tty.unwrap_or(false),
        started,
        ended: None,
        exit_code: if running { None } else { r.exit_code },
    }
}

/// `top` output → processes, finding columns by title.
pub fn processes(top: ContainerTopResponse) -> Vec<Process> {
    let titles = top.titles.unwrap_or_default();
    let col = |names: &[&str]| titles.iter().position(|t| names.contains(&t.as_str()));
    let user = col(&["USER", "UID"]);
    let pid = col(&["PID"]);
    let comm = col(&["COMM"]);
    let args = col(&["ARGS", "CMD", "COMMAND"]).or(titles.len().checked_sub(1));
    top.processes
        .unwrap_or_default()
        .into_iter()
        .take(limits::ITEMS)
        .map(|row| {
            let get =
                |i: Option<usize>| bounded(i.and_then(|i| row.get(i)).cloned().unwrap_or_default());
            Process {
                user: get(user),
                pid: get(pid),
                comm: get(comm),
                command: get(args),
                cap_eff: None,
            }
        })
        .collect()
}

/// Converts an image inspect and its history.
pub fn image(i: ImageInspect, history: Vec<ImageHistoryResponseItem>) -> Image {
    let cfg = i.config.unwrap_or_default();
    Image {
        id: opt_string(i.id),
        tags: i
            .repo_tags
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t != "<none>:<none>")
            .collect(),
        digests: i.repo_digests.unwrap_or_default(),
        created: i.created,
        size: i.size.unwrap_or(0),
        user: cfg.user.unwrap_or_default(),
        healthcheck: healthcheck(cfg.healthcheck),
        command: cfg
            .entrypoint
            .unwrap_or_default()
            .into_iter()
            .chain(cfg.cmd.unwrap_or_default())
            .take(limits::ITEMS)
            .map(bounded)
            .collect(),
        env: env(cfg.env),
        labels: labels(cfg.labels),
        os: opt_string(i.os),
        architecture: opt_string(i.architecture),
        history: history
            .into_iter()
            .take(limits::ITEMS)
            .map(|h| HistoryEntry {
                created_by: bounded(h.created_by),
                created: DateTime::from_timestamp(h.created, 0),
                size: h.size,
            })
            .collect(),
        packages: None,
        vulns: Default::default(),
        special_files: Default::default(),
        integrity: None,
    }
}

/// Converts `/version` and `/info` into the engine's description.
pub fn engine(
    info: SystemInfo,
    version: SystemVersion,
    bridge: Option<NetworkInspect>,
    target: &Target,
    env: &EnvSnapshot,
    api_version: &str,
) -> EngineInfo {
    let components = version.components.clone().unwrap_or_default();
    let product = if components
        .iter()
        .any(|c| c.name.to_ascii_lowercase().contains("podman"))
    {
        EngineProduct::Podman
    } else {
        EngineProduct::Docker
    };
    let registry = info.registry_config.unwrap_or_default();
    let mut insecure_registries: Vec<String> = registry
        .index_configs
        .unwrap_or_default()
        .into_values()
        .filter(|c| c.secure == Some(false))
        .filter_map(|c| c.name)
        .collect();
    insecure_registries.sort();
    let default_bridge = bridge.map(|n| BridgeNetwork {
        name: n.name.unwrap_or_default(),
        icc: n
            .options
            .unwrap_or_default()
            .get("com.docker.network.bridge.enable_icc")
            .map(|v| v == "true"),
    });
    EngineInfo {
        label: target.label(),
        id: info.id.clone().unwrap_or_default(),
        found_by: target.found_by.to_string(),
        endpoint: target.endpoint.to_string(),
        plaintext_tcp: matches!(&target.endpoint, Endpoint::Tcp { addr, tls: None } if !is_loopback_host(addr)),
        product,
        name: opt_string(info.name),
        version: version.version.or(info.server_version).unwrap_or_default(),
        api_version: api_version.to_string(),
        min_api_version: opt_string(version.min_api_version),
        os: opt_string(info.operating_system),
        os_type: opt_string(info.os_type),
        kernel: opt_string(info.kernel_version),
        architecture: opt_string(info.architecture),
        ncpu: info.ncpu.unwrap_or(0),
        mem_total: info.mem_total.unwrap_or(0),
        docker_root_dir: opt_string(info.docker_root_dir),
        security: SecurityOptions::parse(&info.security_options.unwrap_or_default()),
        logging_driver: opt_string(info.logging_driver),
        live_restore: info.live_restore_enabled.unwrap_or(false),
        debug: info.debug.unwrap_or(false),
        cgroup_version: info
            .cgroup_version
            .map(|v| v.to_string())
            .unwrap_or_default(),
        experimental: info.experimental_build.unwrap_or(false)
            || version.experimental.unwrap_or(false),
        swarm_state: info
            .swarm
            .and_then(|s| s.local_node_state)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        authorization_plugins: info
            .plugins
            .and_then(|p| p.authorization)
            .unwrap_or_default(),
        insecure_registry_cidrs: registry.insecure_registry_cidrs.unwrap_or_default(),
        insecure_registries,
        warnings: info.warnings.unwrap_or_default(),
        default_bridge,
        client_content_trust: env.content_trust,
        system_time: info.system_time.as_deref().and_then(timestamp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::docker::connect::FoundBy;

    fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn created_privileged_container() {
        let c = container(fixture("container-cap-priv.json"));
        assert_eq!(c.name, "cap-priv");
        assert_eq!(c.state, ContainerState::Created);
        assert_eq!(c.image, "shipshape-test/base:latest");
        assert!(c.image_id.starts_with("sha256:"));
        assert!(c.privileged);
        assert_eq!(c.started_at, None, "the zero time means never started");
        assert_eq!(c.cap_add, ["CAP_NET_ADMIN", "CAP_SYS_ADMIN"]);
        assert_eq!(
            (
                c.pid_mode.as_str(),
                c.ipc_mode.as_str(),
                c.uts_mode.as_str()
            ),
            ("host", "host", "host")
        );
        assert_eq!(
            c.restart,
            RestartPolicy {
                name: "always".into(),
                max_retries: 0
            }
        );
        assert_eq!(c.limits.pids, None);
        assert_eq!(c.devices[0].host_path, "/dev/null");
        assert_eq!(c.mounts.len(), 2);
        assert!(
            c.mounts
                .iter()
                .any(|m| m.source == "/" && m.read_write && m.kind == MountKind::Bind)
        );
        // Created: ports come from the configured PortBindings.
        let shown: Vec<String> = c.ports.iter().map(PortBinding::describe).collect();
        assert_eq!(shown, ["0.0.0.0:80->80/tcp", "127.0.0.1:8080->8080/tcp"]);
        assert_eq!(c.networks, ["bridge"]);
        assert_eq!(c.network_mode, "default");
        let keys: Vec<&str> = c.env.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["DB_PASSWORD", "PLAIN", "PATH"]);
        assert!(
            !format!("{c:?}").contains("hunter2"),
            "Debug output never shows env values"
        );
    }

    #[test]
    fn running_hardened_container() {
        let c = container(fixture("container-cap-hard.json"));
        assert_eq!(c.state, ContainerState::Running);
        assert!(c.started_at.is_some());
        assert_eq!(c.user, "10001");
        assert!(c.readonly_rootfs);
        assert_eq!(c.limits.memory_bytes, 64 << 20);
        assert_eq!(c.limits.nano_cpus, 500_000_000);
        assert_eq!(c.limits.pids, Some(50));
        assert_eq!(c.cap_drop, ["ALL"]);
        assert!(c.healthcheck.as_ref().is_some_and(|h| !h.is_disabled()));
        assert_eq!(c.network_mode, "none");
    }

    #[test]
    fn top_columns_by_title() {
        let p = processes(fixture("top-cap-run.json"));
        assert_eq!(
            p,
            [Process {
                user: "root".into(),
                pid: "4090".into(),
                comm: "sleep".into(),
                command: "sleep 3600".into(),
                cap_eff: None,
            }]
        );
        // Default `ps -ef` layout.
        let p = processes(ContainerTopResponse {
            titles: Some(vec![
                "UID".into(),
                "PID".into(),
                "PPID".into(),
                "C".into(),
                "STIME".into(),
                "TTY".into(),
                "TIME".into(),
                "CMD".into(),
            ]),
            processes: Some(vec![vec![
                "root".into(),
                "1".into(),
                "0".into(),
                "0".into(),
                "12:00".into(),
                "?".into(),
                "00:00:00".into(),
                "/usr/sbin/sshd -D".into(),
            ]]),
        });
        assert_eq!(p[0].command, "/usr/sbin/sshd -D");
        assert_eq!(p[0].user, "root");
    }

    #[test]
    fn image_with_history() {
        let img = image(fixture("image-leaky.json"), fixture("history-leaky.json"));
        assert_eq!(img.tags, ["shipshape-test/leaky:1"]);
        assert_eq!(img.user, "");
        assert!(img.healthcheck.is_none());
        assert!(img.env.iter().any(|e| e.key == "API_TOKEN"));
        assert_eq!(img.history.len(), 5);
        assert!(img.history[0].created_by.contains("CMD"), "newest first");
        let hardened = image(fixture("image-hardened.json"), vec![]);
        assert_eq!(hardened.user, "10001:10001");
        assert!(hardened.healthcheck.is_some());
    }

    #[test]
    fn engine_info() {
        let target = Target {
            endpoint: Endpoint::Unix("/var/run/docker.sock".into()),
            found_by: FoundBy::Socket("Docker system"),
        };
        let e = engine(
            fixture("info.json"),
            fixture("version.json"),
            Some(fixture("network-bridge.json")),
            &target,
            &EnvSnapshot::default(),
            "1.41",
        );
        assert_eq!(e.product, EngineProduct::Docker);
        assert!(e.version.starts_with("20.10"));
        assert_eq!(e.found_by, "Docker system socket");
        assert_eq!(e.endpoint, "unix:///var/run/docker.sock");
        assert_eq!(e.security.seccomp.as_deref(), Some("default"));
        assert!(!e.security.apparmor && !e.security.rootless);
        assert_eq!(e.logging_driver, "json-file");
        assert_eq!(e.swarm_state, "inactive");
        assert_eq!(
            e.default_bridge,
            Some(BridgeNetwork {
                name: "bridge".into(),
                icc: Some(true)
            })
        );
        assert_eq!(e.insecure_registry_cidrs, ["127.0.0.0/8"]);
        assert!(!e.plaintext_tcp);
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp("0001-01-01T00:00:00Z"), None);
        assert!(timestamp("2026-11-28T12:39:24.614112293Z").is_some());
        assert_eq!(timestamp("garbage"), None);
    }

    /// Issue 15: whoever builds an image chooses how much it holds.
    #[test]
    fn hostile_sizes_are_bounded_once_here() {
        let huge = "v".repeat(limits::VALUE * 3);
        let many: std::collections::HashMap<String, String> = (0..limits::ITEMS + 500)
            .map(|i| (format!("l{i:06}"), "x".into()))
            .collect();
        let r: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Id": "a".repeat(64),
            "Config": {
                "Labels": many,
                "Env": (0..limits::ITEMS + 10).map(|i| format!("K{i}=1")).collect::<Vec<_>>(),
            },
        }))
        .unwrap();
        let c = container(r);
        assert_eq!(c.labels.len(), limits::ITEMS);
        assert_eq!(c.env.len(), limits::ITEMS);
        let r: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Id": "a".repeat(64),
            "Config": { "Labels": { "big": huge }, "Env": [format!("BIG={huge}")] },
        }))
        .unwrap();
        let c = container(r);
        let v = &c.labels["big"];
        assert!(v.len() < limits::VALUE + 64, "{}", v.len());
        assert!(v.ends_with("more bytes not read]"));
        // A multi-byte character at the cut does not panic.
        let s = bounded("é".repeat(limits::VALUE));
        assert!(s.is_char_boundary(s.len()));
    }
}
