//! Reading a Compose project from disk, as `docker compose` finds it: the
//! files named (or `COMPOSE_FILE`, or the compose file of the current
//! folder and its override), the `extends` files they name, the project's
//! `.env`, the environment, `COMPOSE_PROFILES`, and each service's
//! `env_file`s — every read through [`file::read`]: regular files only,
//! bounded in size and time, a refused file an error naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::load;
use crate::file;
use crate::model::text::visible;

/// The files `docker compose` reads when none is named, in its order.
const DEFAULT_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
/// And the override beside the first one found.
const OVERRIDES: [&str; 4] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];
/// The largest `.env` or `env_file` read.
const MAX_ENV_FILE: u64 = 1 << 20;

/// What a compose file (or an `extends` file) may be.
const COMPOSE_FILE: file::Limit = file::Limit {
    what: "a compose file",
    bytes: super::yaml::MAX_BYTES as u64,
};
/// What an `.env` or `env_file` may be.
const ENV_FILE: file::Limit = file::Limit {
    what: "an env file",
    bytes: MAX_ENV_FILE,
};

/// Read a file with the checks and ceilings of [`file::read`] (a regular
/// file only, within a size and a time); an error names the file, escaped
/// (the name may come from a container's labels).
fn read_bounded(path: &Path, limit: file::Limit) -> Result<String, String> {
    file::read(path, limit)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| format!("{}: {e}", visible(&path.to_string_lossy())))
}

/// The files to read: the ones named, else what `docker compose` finds in
/// the current folder (`COMPOSE_FILE` first).
fn files(named: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if !named.is_empty() {
        return Ok(named.to_vec());
    }
    if let Ok(list) = std::env::var("COMPOSE_FILE")
        && !list.is_empty()
    {
        return Ok(list.split(':').map(PathBuf::from).collect());
    }
    let first = DEFAULT_FILES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or("no compose file here (compose.yaml, docker-compose.yml, …): name one")?;
    let mut out = vec![first];
    if let Some(o) = OVERRIDES.iter().map(PathBuf::from).find(|p| p.is_file()) {
        out.push(o);
    }
    Ok(out)
}

/// The `extends: {file: …}` files the texts name, relative to their file.
fn extends_files(path: &str, text: &str) -> Vec<String> {
    let Ok(root) = super::yaml::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(super::yaml::Value::Map(services)) = root.get("services").map(|s| &s.value) {
        for (_, _, s) in services {
            if let Some(f) = s
                .get("extends")
                .and_then(|e| e.get("file"))
                .and_then(super::yaml::Node::as_str)
            {
                out.push(load::beside(path, f));
            }
        }
    }
    out
}

/// A project read from disk.
#[derive(Debug)]
pub struct Loaded {
    /// The project.
    pub project: load::Project,
    /// Its folder, absolute.
    pub dir: String,
    /// Each service's env files' texts.
    pub env_files: BTreeMap<String, Vec<String>>,
    /// Every file read (compose files, `extends` files, `.env`, env files),
    /// to tell later whether any changed.
    pub read: Vec<PathBuf>,
    /// What could not be read but did not stop the rest (a missing
    /// `env_file`).
    pub notes: Vec<String>,
}

/// Read and load the project of `named` files (or the default ones), with
/// `profiles` enabled.
pub fn project(named: &[PathBuf], profiles: &[String]) -> Result<Loaded, String> {
    project_of(&files(named)?, profiles)
}

/// Read and load the project of exactly these files, in merge order, with
/// `profiles` enabled (`*`: all).
pub fn project_of(paths: &[PathBuf], profiles: &[String]) -> Result<Loaded, String> {
    if paths.is_empty() {
        return Err("no compose file named".into());
    }
    let mut read: Vec<PathBuf> = paths.to_vec();
    let mut notes = Vec::new();
    // Paths as the user gave them (a report uploaded to code scanning
    // wants them relative to the repository).
    let shown = |p: &Path| p.to_string_lossy().trim_start_matches("./").to_string();
    let mut input = load::Input::default();
    for p in paths {
        input.files.push((shown(p), read_bounded(p, COMPOSE_FILE)?));
    }
    let dir_of = |p: &Path| {
        p.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    };
    let project_dir = dir_of(&paths[0]);
    let abs_dir = std::fs::canonicalize(&project_dir).unwrap_or(project_dir.clone());
    let mut others: Vec<String> = Vec::new();
    for (path, text) in &input.files {
        for f in extends_files(path, text) {
            if !others.contains(&f) && !input.files.iter().any(|(p, _)| *p == f) {
                others.push(f);
            }
        }
    }
    for f in others.into_iter().take(load::MAX_FILES) {
        let t = read_bounded(Path::new(&f), COMPOSE_FILE)?;
        read.push(PathBuf::from(&f));
        input.others.push((f, t));
    }
    // The environment: the process's over the project's .env.
    let dot_env = project_dir.join(".env");
    if dot_env.exists() {
        read.push(dot_env.clone());
        match read_bounded(&dot_env, ENV_FILE) {
            Ok(t) => input.env = load::dotenv(&t),
            Err(e) => notes.push(format!(".env not read: {e}")),
        }
    }
    input.env.extend(std::env::vars());
    input.profiles = profiles.to_vec();
    if let Some(p) = input.env.get("COMPOSE_PROFILES") {
        input.profiles.extend(
            p.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        );
    }
    input.folder = abs_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_else(|| "project".into());
    let project = load::load(&input).map_err(|e| e.to_string())?;
    let mut env_files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in &project.services {
        let listed: Vec<String> = match s.node.get("env_file").map(|n| &n.value) {
            Some(super::yaml::Value::Scalar(f)) => vec![f.clone()],
            Some(super::yaml::Value::Seq(items)) => items
                .iter()
                .filter_map(|i| {
                    i.as_str()
                        .or_else(|| i.get("path")?.as_str())
                        .map(str::to_string)
                })
                .collect(),
            _ => Vec::new(),
        };
        for f in listed {
            // A missing env file is Compose's error too; here it is said
            // and the rest is checked.
            let path = project_dir.join(&f);
            read.push(path.clone());
            match read_bounded(&path, ENV_FILE) {
                Ok(t) => env_files.entry(s.name.clone()).or_default().push(t),
                Err(e) => notes.push(format!(
                    "{}: env_file not read, its variables are not checked: {e}",
                    s.name
                )),
            }
        }
    }
    Ok(Loaded {
        project,
        dir: abs_dir.to_string_lossy().into_owned(),
        env_files,
        read,
        notes,
    })
}

/// The diff of a hardening plan against the compose file its container
/// was created from, as that file is on disk now (blocking: reads it).
pub fn harden_diff(plan: &crate::harden::Plan) -> Result<(String, Vec<String>), String> {
    use crate::model::compose::ComposeFile;
    let lines = match plan.original.compose_file.as_deref() {
        Some(ComposeFile::Read { lines, .. }) => lines,
        Some(ComposeFile::NotRead(why)) => {
            return Err(format!("its compose file was not read here ({why})"));
        }
        None => return Err("Compose did not create it".into()),
    };
    let file = &lines
        .service
        .as_ref()
        .ok_or("its service's line is not known")?
        .file;
    let text = read_bounded(Path::new(file), COMPOSE_FILE)?;
    crate::harden::compose_diff(plan, lines, &text).map_err(|e| format!("{file}: {e}"))
}
