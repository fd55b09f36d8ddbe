//! Which Compose project and service a container belongs to, from the
//! labels Compose puts on every container it creates (Compose v2 and
//! Debian's `docker-compose` 1.29 alike):
//! `com.docker.compose.project`, `.service`, `.container-number`,
//! `.oneoff`, `.project.working_dir` and `.project.config_files` — the
//! latter relative to the working directory in 1.29 (`compose.yaml`),
//! absolute and comma-separated in v2. Plain data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The Compose labels.
pub mod label {
    /// The project's name.
    pub const PROJECT: &str = "com.docker.compose.project";
    /// The service's name.
    pub const SERVICE: &str = "com.docker.compose.service";
    /// The folder the project was started from.
    pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
    /// The compose files, comma-separated.
    pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
    /// Which replica (from 1).
    pub const NUMBER: &str = "com.docker.compose.container-number";
    /// A `run` container, not the service's own.
    pub const ONEOFF: &str = "com.docker.compose.oneoff";
}

/// A container's place in a Compose project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposeRef {
    /// The project (`shop`).
    pub project: String,
    /// The service (`api`).
    pub service: String,
    /// The folder it was started from, on the engine's machine.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// The compose files, absolute, in the order they were merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_files: Vec<String>,
    /// Which replica of the service (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// A one-off `compose run` container.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub oneoff: bool,
}

impl ComposeRef {
    /// From a container's labels; `None` when Compose did not create it.
    pub fn of(labels: &BTreeMap<String, String>) -> Option<Self> {
        let project = labels.get(label::PROJECT)?.trim();
        let service = labels.get(label::SERVICE)?.trim();
        if project.is_empty() || service.is_empty() {
            return None;
        }
        let working_dir = labels
            .get(label::WORKING_DIR)
            .map(|w| w.trim().to_string())
            .unwrap_or_default();
        let config_files = labels
            .get(label::CONFIG_FILES)
            .map(|f| {
                f.split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(|f| absolute(&working_dir, f))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            project: project.to_string(),
            service: service.to_string(),
            working_dir,
            config_files,
            number: labels
                .get(label::NUMBER)
                .and_then(|n| n.trim().parse().ok()),
            oneoff: labels
                .get(label::ONEOFF)
                .is_some_and(|o| o.eq_ignore_ascii_case("true")),
        })
    }

    /// `shop/api` (`shop/api #2` for a second replica).
    pub fn label(&self) -> String {
        match self.number {
            Some(n) if n > 1 => format!("{}/{} #{n}", self.project, self.service),
            _ => format!("{}/{}", self.project, self.service),
        }
    }
}

/// A place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLocation {
    /// The file, as given or as the labels name it.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
}

impl FileLocation {
    /// `compose.yaml:14` (the file's name and line, for a table cell).
    pub fn short(&self) -> String {
        let name = self.file.rsplit('/').next().unwrap_or(&self.file);
        format!("{name}:{}", self.line)
    }
}

/// Where one service is written in its compose files: the service's own
/// line and the line of each key it sets (merged files, `extends` and
/// merge keys resolved: the line that wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceLines {
    /// The service's key (`  api:`) in the last file that defines it.
    pub service: Option<FileLocation>,
    /// Each top-level key of the service that is set.
    pub keys: BTreeMap<String, FileLocation>,
}

impl ServiceLines {
    /// The line a finding of `rule_id` points at: the first of its keys
    /// ([`keys_of`]) the service sets, else the service (the key to add);
    /// `None` for a rule no compose key decides (drift, exec sessions,
    /// known vulnerabilities: the running container or its image do).
    pub fn locate(&self, rule_id: &str) -> Option<FileLocation> {
        let keys = keys_of(rule_id);
        if keys.is_empty() {
            return None;
        }
        keys.iter()
            .find_map(|k| self.keys.get(*k).cloned())
            .or_else(|| self.service.clone())
    }
}

/// What reading a container's compose files gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeFile {
    /// Read: where its service's keys are.
    Read {
        /// The lines.
        lines: ServiceLines,
        /// Set when a file changed after the container was created: the
        /// lines are the file's as it is now, which may not be what runs.
        changed: Option<String>,
    },
    /// Not read, and why (gone, unreadable, over a ceiling, invalid, the
    /// engine on another machine).
    NotRead(String),
}

impl ComposeFile {
    /// The lines, when the files were read.
    pub fn lines(&self) -> Option<&ServiceLines> {
        match self {
            Self::Read { lines, .. } => Some(lines),
            Self::NotRead(_) => None,
        }
    }
}

/// The compose keys a rule's finding is about, most specific first: its
/// line is the first of them the service sets; a finding about a key that
/// is missing points at the service. Empty: no compose key decides it.
pub fn keys_of(rule_id: &str) -> &'static [&'static str] {
    match rule_id {
        "container.privileged" | "container.host-takeover" => &["privileged"],
        "container.cap-add" | "container.caps-not-dropped" => &["cap_add", "cap_drop"],
        "container.root-user" => &["user"],
        "container.host-network" => &["network_mode"],
        "container.default-bridge" => &["network_mode", "networks"],
        "container.lateral-connection"
        | "container.reaches-host"
        | "container.default-bridge-talk" => &["networks", "network_mode"],
        "container.unpublished-listener" => &["expose", "ports"],
        "container.host-pid" => &["pid"],
        "container.host-ipc" => &["ipc"],
        "container.host-uts" => &["uts"],
        "container.host-userns" => &["userns_mode"],
        "container.joins-namespace" => &["network_mode", "pid", "ipc"],
        "container.cgroupns-host" => &["cgroup"],
        "container.cgroup-parent" => &["cgroup_parent"],
        "container.seccomp-unconfined"
        | "container.apparmor-unconfined"
        | "container.selinux-unlabelled"
        | "container.no-new-privileges"
        | "container.unmasked-paths" => &["security_opt"],
        "container.host-devices" => &["devices"],
        "container.device-cgroup-rule" => &["device_cgroup_rules"],
        "container.device-requests" => &["deploy"],
        "container.sysctls" => &["sysctls"],
        "container.engine-socket"
        | "container.sensitive-mount"
        | "container.sensitive-mount-extra"
        | "container.host-socket"
        | "container.shared-propagation"
        | "container.host-path" => &["volumes"],
        "container.writable-rootfs" => &["read_only"],
        "container.privileged-port"
        | "container.published-ports"
        | "container.port-all-interfaces" => &["ports"],
        "container.no-memory-limit" => &["mem_limit", "deploy"],
        "container.no-cpu-limit" => &["cpus", "deploy"],
        "container.no-pids-limit" => &["pids_limit", "deploy"],
        "container.restart-policy" => &["restart"],
        "container.oom-kill-disabled" => &["oom_kill_disable"],
        "container.oom-score-adj" => &["oom_score_adj"],
        "container.ulimits" => &["ulimits"],
        "container.no-healthcheck" => &["healthcheck"],
        "container.logging-disabled" | "container.log-unbounded" => &["logging"],
        "container.mutable-image-ref" | "container.unapproved-image" | "container.stale-image" => {
            &["image"]
        }
        "container.secret-env" => &["environment", "env_file"],
        "container.secret-in-config" => &["command", "entrypoint", "healthcheck", "labels"],
        "container.sshd" => &["command", "entrypoint"],
        _ => &[],
    }
}

/// A compose file's path as written in the label, made absolute against
/// the working directory (Compose 1.29 writes them relative).
fn absolute(working_dir: &str, file: &str) -> String {
    if file.starts_with('/') || working_dir.is_empty() {
        file.to_string()
    } else {
        format!("{}/{file}", working_dir.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn compose_labels_of_v1_and_v2() {
        // Debian's docker-compose 1.29: files relative to the working dir.
        let v1 = ComposeRef::of(&labels(&[
            (label::PROJECT, "shop"),
            (label::SERVICE, "api"),
            (label::WORKING_DIR, "/home/dev/shop"),
            (label::CONFIG_FILES, "compose.yaml,compose.override.yaml"),
            (label::NUMBER, "2"),
            (label::ONEOFF, "False"),
        ]))
        .unwrap();
        assert_eq!(
            v1.config_files,
            [
                "/home/dev/shop/compose.yaml",
                "/home/dev/shop/compose.override.yaml"
            ]
        );
        assert_eq!(v1.label(), "shop/api #2");
        assert!(!v1.oneoff);
        // Compose v2: absolute.
        let v2 = ComposeRef::of(&labels(&[
            (label::PROJECT, "shop"),
            (label::SERVICE, "db"),
            (label::WORKING_DIR, "/home/dev/shop"),
            (label::CONFIG_FILES, "/home/dev/shop/compose.yaml"),
            (label::ONEOFF, "True"),
        ]))
        .unwrap();
        assert_eq!(v2.config_files, ["/home/dev/shop/compose.yaml"]);
        assert_eq!(v2.label(), "shop/db");
        assert!(v2.oneoff);
        assert_eq!(ComposeRef::of(&labels(&[(label::PROJECT, "x")])), None);
    }
}
