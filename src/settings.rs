//! GUI settings, persisted as TOML in the user's config directory
//! (`~/.config/shipshape/settings.toml`). Loaded once at start-up (before the
//! window opens); saved by the runtime, never on the UI thread.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeChoice {
    #[default]
    System,
    Dark,
    Light,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub theme: ThemeChoice,
    /// How often the inventory is polled (events refresh it in between).
    pub refresh_secs: u64,
    /// How much chart history to keep, in minutes (1 Hz samples).
    pub history_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        // Engine events refresh the inventory as things happen; the poll is
        // the safety net for what no event announces.
        Self {
            theme: ThemeChoice::System,
            refresh_secs: 30,
            history_minutes: 15,
        }
    }
}

pub const REFRESH_CHOICES: [u64; 5] = [2, 5, 10, 30, 60];
pub const HISTORY_CHOICES: [u32; 5] = [5, 15, 30, 60, 120];

impl Settings {
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "shipshape")
            .map(|d| d.config_dir().join("settings.toml"))
    }

    /// Load, falling back to defaults. A damaged file is reported (and left
    /// alone until the user changes a setting), never fatal.
    pub fn load(path: &Path) -> (Self, Option<String>) {
        match std::fs::read_to_string(path) {
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

    pub fn sanitised(mut self) -> Self {
        self.refresh_secs = self.refresh_secs.clamp(1, 3600);
        self.history_minutes = self.history_minutes.clamp(1, 24 * 60);
        self
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("settings always serialise")
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
        };
        std::fs::write(&p, s.to_toml()).unwrap();
        assert_eq!(Settings::load(&p).0, s);
        std::fs::write(&p, "theme = \"purple\"\n").unwrap();
        let (loaded, warning) = Settings::load(&p);
        assert_eq!(loaded, Settings::default());
        assert!(warning.unwrap().contains("settings.toml"));
        std::fs::write(&p, "refresh_secs = 0\n").unwrap();
        assert_eq!(Settings::load(&p).0.refresh_secs, 1);
    }
}
