//! The compose files of containers that Compose created, read where the
//! engine runs on this machine: the labels name the files
//! (`com.docker.compose.project.config_files`), [`super::read`] reads them
//! (bounded, every service, the environment as it is now), and each
//! container learns where its service's keys are — so a scan's finding
//! points at the line to change, as `compose check`'s do.
//!
//! Blocking (files): the caller runs it off the async threads. A project
//! is read once per change of its files (length and modification time of
//! every file it read, `.env` and env files included); a file written
//! after the container was created is said, since the lines are then the
//! file's as it is now, not what the container was created from.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;

use chrono::{DateTime, Utc};

use crate::model::compose::{ComposeFile, ComposeRef, ServiceLines};
use crate::model::text::visible;
use crate::model::{Container, Warning, WarningKind};

/// The most projects whose lines are kept between scans.
const MAX_CACHED: usize = 64;

/// Length and modification time of each file a project read (`None`: gone).
type Stamp = Vec<Option<(u64, SystemTime)>>;

/// One project read: its services' lines, or why it could not be read.
#[derive(Debug, Clone)]
struct Entry {
    /// Every file it read, and their stamps then.
    read: Vec<PathBuf>,
    stamp: Stamp,
    /// The newest modification time among them.
    newest: Option<SystemTime>,
    lines: Result<BTreeMap<String, Arc<ServiceLines>>, String>,
    notes: Vec<String>,
}

static CACHE: LazyLock<Mutex<HashMap<Vec<String>, Entry>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn stamp(paths: &[PathBuf]) -> Stamp {
    paths
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).ok()?;
            Some((m.len(), m.modified().ok()?))
        })
        .collect()
}

fn read_project(files: &[String]) -> Entry {
    let paths: Vec<PathBuf> = files.iter().map(PathBuf::from).collect();
    match super::read::project_of(&paths, &["*".to_string()]) {
        Ok(loaded) => {
            let lines = loaded
                .project
                .services
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        Arc::new(super::convert::lines(&loaded.project, s)),
                    )
                })
                .collect();
            let stamp = stamp(&loaded.read);
            Entry {
                newest: stamp.iter().flatten().map(|(_, t)| *t).max(),
                read: loaded.read,
                stamp,
                lines: Ok(lines),
                notes: loaded.notes,
            }
        }
        Err(e) => {
            let stamp = stamp(&paths);
            Entry {
                newest: None,
                read: paths,
                stamp,
                lines: Err(e),
                notes: Vec::new(),
            }
        }
    }
}

/// The project of `files`, from the cache while none of its files changed.
fn project(files: &[String]) -> Entry {
    let cache = || {
        CACHE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    // The lock is held for the lookup only: the files are looked at and
    // read without it, so one engine's scan never waits on another's reads.
    let known = cache().get(files).cloned();
    if let Some(e) = known
        && stamp(&e.read) == e.stamp
    {
        return e;
    }
    let e = read_project(files);
    let mut cache = cache();
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(files.to_vec(), e.clone());
    e
}

/// Fill each Compose-created container's [`Container::compose_file`] from
/// its files on this machine; see [`located`].
pub fn fill(cs: &mut [Container]) -> Vec<Warning> {
    let (found, warnings) = located(&asks(cs));
    for (c, f) in cs.iter_mut().zip(found) {
        c.compose_file = f;
    }
    warnings
}

/// A container's Compose labels and creation time.
pub type Ask = Option<(ComposeRef, Option<DateTime<Utc>>)>;

/// What [`located`] asks of each container (`None`: Compose did not
/// create it).
pub fn asks(cs: &[Container]) -> Vec<Ask> {
    cs.iter()
        .map(|c| c.compose().map(|r| (r, c.created)))
        .collect()
}

/// Where each asked container's service is written (`None` for one Compose
/// did not create). Returns one warning per project whose files could not
/// be read or say less than they should; the rest of the scan does not
/// depend on them.
pub fn located(asks: &[Ask]) -> (Vec<Option<Arc<ComposeFile>>>, Vec<Warning>) {
    let mut found = vec![None; asks.len()];
    let mut warnings = Vec::new();
    let mut by_files: BTreeMap<&[String], Vec<usize>> = BTreeMap::new();
    for (i, a) in asks.iter().enumerate() {
        if let Some((r, _)) = a
            && !r.config_files.is_empty()
        {
            by_files.entry(&r.config_files).or_default().push(i);
        }
    }
    for (files, members) in by_files {
        let e = project(files);
        // Names from labels: shown with their control characters escaped.
        let shown = visible(&files.join(", ")).into_owned();
        let mut projects: Vec<&str> = members
            .iter()
            .filter_map(|&i| asks[i].as_ref().map(|(r, _)| r.project.as_str()))
            .collect();
        projects.dedup();
        let projects = visible(&projects.join(", ")).into_owned();
        match &e.lines {
            Err(why) => warnings.push(Warning::new(
                WarningKind::Compose,
                format!(
                    "compose files of project {projects} not read, its findings are not located \
                     in them: {why}"
                ),
            )),
            Ok(_) if !e.notes.is_empty() => {
                warnings.push(Warning::new(
                    WarningKind::Compose,
                    format!("compose files {shown}: {}", e.notes.join("; ")),
                ));
            }
            Ok(_) => {}
        }
        let (mut gone, mut changed) = (Vec::new(), Vec::new());
        for i in members {
            let Some((r, created)) = &asks[i] else {
                continue;
            };
            found[i] = Some(Arc::new(match &e.lines {
                Err(why) => ComposeFile::NotRead(why.clone()),
                Ok(lines) => match lines.get(&r.service) {
                    None => {
                        gone.push(r.service.clone());
                        ComposeFile::NotRead(format!(
                            "service {} is no longer in {shown}",
                            r.service
                        ))
                    }
                    Some(l) => {
                        let note = changed_after(e.newest, *created, &shown);
                        if note.is_some() {
                            changed.push(r.service.clone());
                        }
                        ComposeFile::Read {
                            lines: (**l).clone(),
                            changed: note,
                        }
                    }
                },
            }));
        }
        for list in [&mut gone, &mut changed] {
            list.sort();
            list.dedup();
        }
        if !gone.is_empty() {
            warnings.push(Warning::new(
                WarningKind::Compose,
                format!(
                    "project {projects}: services no longer in {shown}, their findings are not \
                     located: {}",
                    visible(&gone.join(", "))
                ),
            ));
        }
        if !changed.is_empty() {
            warnings.push(Warning::new(
                WarningKind::Compose,
                format!(
                    "project {projects}: {shown} changed after {} were created; their findings \
                     point at the files as they are now",
                    visible(&changed.join(", "))
                ),
            ));
        }
    }
    (found, warnings)
}

/// A note when the files were written after the container was created.
fn changed_after(
    newest: Option<SystemTime>,
    created: Option<DateTime<Utc>>,
    shown: &str,
) -> Option<String> {
    let (newest, created) = (newest?, created?);
    let newest: DateTime<Utc> = newest.into();
    // Compose writes nothing; a second's slack covers clocks' rounding.
    (newest > created + chrono::Duration::seconds(1)).then(|| {
        format!(
            "{shown} changed at {} after the container was created at {}: lines are the file's as it is now",
            newest.format("%Y-%m-%d %H:%M:%S UTC"),
            created.format("%Y-%m-%d %H:%M:%S UTC")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::compose::label;

    fn container(id: &str, files: &str, service: &str) -> Container {
        let mut c = Container {
            id: id.into(),
            name: id.into(),
            created: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
            ..Container::default()
        };
        for (k, v) in [
            (label::PROJECT, "shop"),
            (label::SERVICE, service),
            (label::CONFIG_FILES, files),
        ] {
            c.labels.insert(k.into(), v.into());
        }
        c
    }

    #[test]
    fn containers_learn_their_lines_and_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("compose.yaml");
        std::fs::write(
            &f,
            "services:\n  api:\n    image: shop/api:1.4\n    privileged: true\n",
        )
        .unwrap();
        let files = f.to_string_lossy().into_owned();
        let mut cs = vec![
            container("a", &files, "api"),
            container("b", &files, "gone"),
            container("c", "/nonexistent/compose.yaml", "api"),
            Container::default(),
        ];
        let warnings = fill(&mut cs);
        let ComposeFile::Read { lines, changed } = cs[0].compose_file.as_deref().unwrap() else {
            panic!("{:?}", cs[0].compose_file)
        };
        assert_eq!(
            lines.locate("container.privileged").unwrap().line,
            4,
            "{lines:?}"
        );
        assert!(
            changed.as_deref().is_some_and(|c| c.contains("changed at")),
            "written after the container's creation: {changed:?}"
        );
        assert!(matches!(
            cs[1].compose_file.as_deref(),
            Some(ComposeFile::NotRead(w)) if w.contains("no longer")
        ));
        assert!(matches!(
            cs[2].compose_file.as_deref(),
            Some(ComposeFile::NotRead(w)) if w.contains("/nonexistent/compose.yaml")
        ));
        assert!(cs[3].compose_file.is_none(), "not from Compose");
        assert_eq!(warnings.len(), 3, "unreadable, gone, changed: {warnings:?}");
        // Edited: read again, not served from the cache.
        std::fs::write(
            &f,
            "services:\n  api:\n    image: shop/api:1.4\n\n\n    privileged: true\n",
        )
        .unwrap();
        fill(&mut cs);
        let l = cs[0].compose_file.as_deref().unwrap().lines().unwrap();
        assert_eq!(l.locate("container.privileged").unwrap().line, 6);
    }
}
