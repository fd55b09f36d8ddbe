//! GUI settings, persisted as TOML in the user's config directory
//! (`~/.config/shipshape/settings.toml`). Loaded once at start-up (before the
//! window opens); saved by the runtime, never on the UI thread.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Which colours the window uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    /// Follow the desktop.
    #[default]
    System,
    /// Dark.
    Dark,
    /// Light.
    Light,
}

/// The user's settings, kept in `settings.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Which colours the window uses.
    pub theme: ThemeChoice,
    /// How often the inventory is polled (events refresh it in between).
    pub refresh_secs: u64,
    /// How much chart history to keep, in minutes (1 Hz samples).
    pub history_minutes: u32,
    /// Closing the window keeps shipshape watching in the tray (when a
    /// tray host runs). Off by default.
    pub keep_watching: bool,
    /// Desktop notifications (`[alerts]`).
    pub alerts: crate::alerts::AlertSettings,
    /// The engines to watch, when the user keeps a list (empty: the ones
    /// found on this machine). `--host` on the command line wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty", rename = "engine")]
    pub engines: Vec<EngineEntry>,
    /// Kubernetes contexts (of the kubeconfig) to watch beside the engines.
    /// Empty by default: a cluster is contacted only when asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kube_contexts: Vec<String>,
    /// The audit log (`[audit]`).
    pub audit: AuditSettings,
}

/// The audit log's settings (`[audit]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// Keep the whole log (the current file and its rotated ones) within
    /// this many MiB: the oldest files are removed first, and the chain
    /// stays verifiable. 0 keeps everything. `--audit-keep` wins.
    pub keep_mib: u64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            keep_mib: crate::audit::DEFAULT_KEEP_MIB,
        }
    }
}

/// One engine of the user's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineEntry {
    /// Its name in the window and in reports.
    pub name: String,
    /// `unix:///…`, `tcp://…`, `https://…` or `ssh://…`.
    pub address: String,
    /// Whether it is watched.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Folder with `ca.pem`, `cert.pem` and `key.pem` for a TLS address
    /// (a docker context's `contexts/tls/<sha256>/docker`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_dir: Option<PathBuf>,
}

impl EngineEntry {
    /// An entry for an engine found on this machine.
    pub fn of(target: &crate::sources::docker::Target) -> Self {
        use crate::sources::docker::Endpoint;
        let (address, tls_dir) = match &target.endpoint {
            Endpoint::Tcp {
                addr,
                tls: Some(tls),
            } => (
                format!("https://{addr}"),
                tls.ca.parent().map(Path::to_path_buf),
            ),
            other => (other.to_string(), None),
        };
        Self {
            name: target.label(),
            address,
            enabled: true,
            tls_dir,
        }
    }
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        // Engine events refresh the inventory as things happen; the poll is
        // the safety net for what no event announces.
        Self {
            theme: ThemeChoice::System,
            refresh_secs: 30,
            history_minutes: 15,
            keep_watching: false,
            alerts: crate::alerts::AlertSettings::default(),
            engines: Vec::new(),
            kube_contexts: Vec::new(),
            audit: AuditSettings::default(),
        }
    }
}

/// The refresh intervals the settings offer, in seconds.
pub const REFRESH_CHOICES: [u64; 5] = [2, 5, 10, 30, 60];
/// The chart history lengths the settings offer, in minutes.
pub const HISTORY_CHOICES: [u32; 5] = [5, 15, 30, 60, 120];

impl Settings {
    /// Where the settings file lives (the platform's config folder), when there is one.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape")
            .map(|d| d.config_dir().join("settings.toml"))
    }

    /// Load, falling back to defaults. A damaged file is reported (and left
    /// alone until the user changes a setting), never fatal.
    pub fn load(path: &Path) -> (Self, Option<String>) {
        const FILE: crate::file::Limit = crate::file::Limit {
            what: "a settings file",
            bytes: 1 << 20,
        };
        match crate::file::read_to_string(path, FILE) {
            Ok(text) => match toml::from_str::<Settings>(&text) {
                Ok(s) => (s.sanitised(), None),
                Err(e) => (
                    Self::default(),
                    Some(format!("ignored {}: {}", path.display(), e.message())),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Self::default(), None),
            Err(e) => (
                Self::default(),
                Some(format!("cannot read {}: {e}", path.display())),
            ),
        }
    }

    /// The same settings with every value brought into its allowed range.
    pub fn sanitised(mut self) -> Self {
        self.refresh_secs = self.refresh_secs.clamp(1, 3600);
        self.history_minutes = self.history_minutes.clamp(1, 24 * 60);
        self
    }

    /// The settings as TOML, as saved.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("settings always serialise")
    }

    /// The enabled engines of the list as targets, named as the user named
    /// them; entries whose address does not parse are returned as problems.
    pub fn engine_targets(
        &self,
        env: &crate::sources::docker::EnvSnapshot,
    ) -> (Vec<crate::sources::docker::Target>, Vec<String>) {
        let mut targets = Vec::new();
        let mut problems = Vec::new();
        for e in self.engines.iter().filter(|e| e.enabled) {
            match crate::sources::docker::connect::parse_host(&e.address, env) {
                Ok(mut endpoint) => {
                    if let (crate::sources::docker::Endpoint::Tcp { tls, .. }, Some(dir)) =
                        (&mut endpoint, &e.tls_dir)
                    {
                        *tls = Some(crate::sources::docker::connect::TlsFiles::in_dir(dir));
                    }
                    targets.push(crate::sources::docker::Target {
                        endpoint,
                        found_by: crate::sources::docker::FoundBy::Listed {
                            name: e.name.clone(),
                        },
                    });
                }
                Err(err) => problems.push(format!("engine '{}' in the settings: {err}", e.name)),
            }
        }
        (targets, problems)
    }

    /// Chart samples kept per series.
    pub fn history_samples(&self) -> usize {
        self.history_minutes as usize * 60
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.toml");
        assert_eq!(Settings::load(&p), (Settings::default(), None));
        let s = Settings {
            theme: ThemeChoice::Dark,
            refresh_secs: 30,
            history_minutes: 60,
            keep_watching: true,
            alerts: crate::alerts::AlertSettings {
                enabled: false,
                min_severity: crate::model::Severity::Critical,
            },
            engines: vec![EngineEntry {
                name: "vm".into(),
                address: "tcp://10.0.0.5:2375".into(),
                enabled: true,
                tls_dir: None,
            }],
            kube_contexts: vec!["kind-dev".into()],
            audit: AuditSettings { keep_mib: 64 },
        };
        std::fs::write(&p, s.to_toml()).unwrap();
        assert!(
            s.to_toml().contains("[audit]\nkeep_mib = 64"),
            "{}",
            s.to_toml()
        );
        assert_eq!(Settings::load(&p).0, s);
        assert!(s.to_toml().contains("[alerts]"), "{}", s.to_toml());
        std::fs::write(&p, "theme = \"purple\"\n").unwrap();
        let (loaded, warning) = Settings::load(&p);
        assert_eq!(loaded, Settings::default());
        assert!(warning.unwrap().contains("settings.toml"));
        std::fs::write(&p, "refresh_secs = 0\n").unwrap();
        assert_eq!(Settings::load(&p).0.refresh_secs, 1);
    }

    #[test]
    fn the_engine_list_round_trips_and_becomes_targets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.toml");
        std::fs::write(
            &p,
            "[[engine]]\nname = \"laptop\"\naddress = \"unix:///var/run/docker.sock\"\n\n\
             [[engine]]\nname = \"build-vm\"\naddress = \"https://10.0.0.5:2376\"\ntls_dir = \"/certs/vm\"\n\n\
             [[engine]]\nname = \"old\"\naddress = \"tcp://10.0.0.9\"\nenabled = false\n\n\
             [[engine]]\nname = \"broken\"\naddress = \"gopher://x\"\n",
        )
        .unwrap();
        let (s, warning) = Settings::load(&p);
        assert_eq!(warning, None);
        assert_eq!(s.engines.len(), 4);
        std::fs::write(&p, s.to_toml()).unwrap();
        assert_eq!(Settings::load(&p).0, s, "written back as read");

        let env = crate::sources::docker::EnvSnapshot::default();
        let (targets, problems) = s.engine_targets(&env);
        let labels: Vec<String> = targets.iter().map(|t| t.label()).collect();
        assert_eq!(
            labels,
            ["laptop", "build-vm"],
            "enabled ones, by their names"
        );
        match &targets[1].endpoint {
            crate::sources::docker::Endpoint::Tcp {
                addr,
                tls: Some(tls),
            } => {
                assert_eq!(addr, "10.0.0.5:2376");
                assert_eq!(tls.ca, std::path::Path::new("/certs/vm/ca.pem"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("engine 'broken' in the settings"));
    }
}
