//! One full snapshot of the engine: info, version, the default bridge, every
//! container (any state) with inspect and `top`, every image with inspect and
//! history. Calls run concurrently with a bound (and every request of the
//! engine shares one bound on open connections, `bounded::limits`); objects
//! that vanish between list and inspect are skipped, and one the engine
//! refuses, or whose list entry cannot be read, is a warning: neither is
//! fatal. Lists are read up to a ceiling of entries, and a cut is said.

use chrono::Utc;
use futures_util::stream::{self, StreamExt};

use super::{Engine, EngineError, EnvSnapshot, convert};
use crate::model::{Container, ContainerState, Image, Inventory, Warning, WarningKind};

/// How many inspect calls may be in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Exec sessions inspected per container (its inspect lists their ids).
pub const MAX_EXECS: usize = 100;

/// What happened to one object.
enum Outcome<T> {
    Got(T),
    /// Removed between list and inspect.
    Vanished,
    /// The engine refused this one object; the scan goes on.
    Refused(String),
}

/// Take a full snapshot.
pub async fn snapshot(engine: &Engine, env: &EnvSnapshot) -> Result<Inventory, EngineError> {
    snapshot_with(engine, env, DEFAULT_CONCURRENCY).await
}

/// Reads one engine's snapshot, reusing what `prev` already read when it has not changed.
pub async fn snapshot_with(
    engine: &Engine,
    env: &EnvSnapshot,
    concurrency: usize,
) -> Result<Inventory, EngineError> {
    let taken_at = Utc::now();
    let version = engine.version().clone();
    let (info, bridge, containers, images) = tokio::join!(
        engine.info(),
        engine.inspect_network("bridge"),
        containers(engine, concurrency),
        images(engine, concurrency),
    );
    let info = info?;
    let bridge = bridge_or_none(bridge)?;
    let (containers, mut warnings) = containers?;
    let (mut images, image_warnings) = images?;
    warnings.extend(image_warnings);
    // The image list leaves out untagged images that a container still
    // runs (an image re-tagged since): read those too, or their containers
    // would have no image.
    let missing: std::collections::BTreeSet<String> = containers
        .iter()
        .map(|c| c.image_id.clone())
        .filter(|id| !id.is_empty() && !images.iter().any(|i| &i.id == id))
        .collect();
    if !missing.is_empty() {
        let (extra, extra_warnings) =
            image_details(engine, missing.into_iter().collect(), concurrency).await?;
        images.extend(extra);
        warnings.extend(extra_warnings);
        sort_images(&mut images);
    }
    let target = engine.target();
    Ok(Inventory {
        engine: convert::engine(info, version, bridge, target, env, engine.api_version()),
        containers,
        images,
        taken_at: Some(taken_at),
        warnings,
        cluster: None,
    })
}

/// Images in the order every view shows them: by name, then id.
fn sort_images(images: &mut [Image]) {
    images.sort_by(|a, b| {
        a.display_name()
            .cmp(&b.display_name())
            .then_with(|| a.id.cmp(&b.id))
    });
}

/// The default bridge, when there is one: Podman and some setups have no
/// network called "bridge". Only a lost engine is an error.
fn bridge_or_none(
    r: Result<bollard::models::NetworkInspect, EngineError>,
) -> Result<Option<bollard::models::NetworkInspect>, EngineError> {
    match r {
        Ok(n) => Ok(Some(n)),
        Err(EngineError::NotFound { .. }) => Ok(None),
        Err(e @ EngineError::Lost { .. }) => Err(e),
        Err(e) => {
            tracing::warn!("{e}");
            Ok(None)
        }
    }
}

/// Keep what we got, count what vanished, turn refusals into warnings and
/// stop at the first sign that the engine itself is gone.
fn collect<T>(
    kind: &str,
    results: Vec<Result<Outcome<T>, EngineError>>,
) -> Result<(Vec<T>, Vec<Warning>), EngineError> {
    let mut items = Vec::with_capacity(results.len());
    let mut warnings = Vec::new();
    let mut vanished = 0;
    for r in results {
        match r? {
            Outcome::Got(t) => items.push(t),
            Outcome::Vanished => vanished += 1,
            Outcome::Refused(why) => warnings.push(Warning::new(WarningKind::NotRead, why)),
        }
    }
    if vanished > 0 {
        warnings.push(Warning::new(
            WarningKind::NotRead,
            format!("{vanished} {kind}(s) disappeared during the scan and were skipped"),
        ));
    }
    Ok((items, warnings))
}

fn classify<T>(r: Result<T, EngineError>) -> Result<Outcome<T>, EngineError> {
    match r {
        Ok(t) => Ok(Outcome::Got(t)),
        Err(EngineError::NotFound { .. }) => Ok(Outcome::Vanished),
        Err(e @ (EngineError::Api { .. } | EngineError::TooLarge { .. })) => {
            Ok(Outcome::Refused(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

async fn containers(
    engine: &Engine,
    concurrency: usize,
) -> Result<(Vec<Container>, Vec<Warning>), EngineError> {
    let listed = engine.list_containers().await?;
    let ids: Vec<String> = listed.items.into_iter().map(|c| c.id).collect();
    let results: Vec<_> = stream::iter(ids)
        .map(|id| async move { classify(inspect_bare(engine, &id).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let (items, mut warnings) = collect("container", results)?;
    warnings.splice(0..0, listed.warnings);
    let mut items = noted(items, &mut warnings);
    fill_processes(engine, &mut items).await?;
    fill_sockets(engine, &mut items).await;
    warnings.extend(fill_compose_files(engine, &mut items).await);
    items.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok((items, warnings))
}

/// Inspect one container and, when it runs, list its processes.
pub async fn inspect_one(engine: &Engine, id: &str) -> Result<Container, EngineError> {
    let (mut c, note) = inspect_bare(engine, id).await?;
    if let Some(note) = note {
        tracing::warn!("{note}");
    }
    fill_processes(engine, std::slice::from_mut(&mut c)).await?;
    Ok(c)
}

/// Containers inspected, their notes moved to `warnings`.
fn noted(items: Vec<(Container, Option<String>)>, warnings: &mut Vec<Warning>) -> Vec<Container> {
    items
        .into_iter()
        .map(|(c, note)| {
            warnings.extend(note.map(|n| Warning::new(WarningKind::Truncated, n)));
            c
        })
        .collect()
}

/// Inspect one container, with its exec sessions, without its processes;
/// and a note when it has more exec sessions than are read.
async fn inspect_bare(
    engine: &Engine,
    id: &str,
) -> Result<(Container, Option<String>), EngineError> {
    let mut c = engine.container(id).await?;
    // Exec sessions the engine still holds (running ones): who and what.
    let now = Utc::now();
    let note = (c.exec_ids.len() > MAX_EXECS).then(|| {
        format!(
            "container {}: the engine lists {} exec sessions; the first {MAX_EXECS} were read",
            c.name,
            c.exec_ids.len()
        )
    });
    for exec_id in c
        .exec_ids
        .iter()
        .take(MAX_EXECS)
        .cloned()
        .collect::<Vec<_>>()
    {
        match engine.inspect_exec(&exec_id).await {
            Ok(r) => {
                let session = convert::exec_session(r, Some(&c), now);
                if !session.is_healthcheck(&c, crate::rules::secrets::redact_command) {
                    c.execs.push(session);
                }
            }
            Err(e @ EngineError::Lost { .. }) => return Err(e),
            Err(e) => tracing::debug!("exec {exec_id}: {e}"),
        }
    }
    Ok((c, note))
}

/// Running containers' processes: from `/proc` where the engine runs on
/// this machine (one blocking task for all of them, one pass over `/proc`:
/// the engine runs no `ps`), else from the engine's `top`, concurrently.
/// Anything else: no list. Returns how many `top` calls were made.
async fn fill_processes(engine: &Engine, cs: &mut [Container]) -> Result<usize, EngineError> {
    for c in cs.iter_mut() {
        c.processes = None;
        c.observed = None;
    }
    let running: Vec<usize> = (0..cs.len())
        .filter(|&i| cs[i].state == ContainerState::Running)
        .collect();
    if running.is_empty() {
        return Ok(0);
    }
    if engine.is_local() {
        let asks: Vec<(i64, String)> = running
            .iter()
            .map(|&i| (cs[i].pid, cs[i].id.clone()))
            .collect();
        let (read, mut observed) = tokio::task::spawn_blocking(move || {
            let proc = std::path::Path::new("/proc");
            let ids: Vec<String> = asks.iter().map(|(_, id)| id.clone()).collect();
            let observed = crate::sources::runtime::procfs::read(
                proc,
                &ids,
                crate::sources::runtime::procfs::Caps::default(),
            );
            let read = asks
                .iter()
                .map(|(pid, id)| {
                    super::procs::read(proc, *pid, id).map(|list| {
                        let pids: Vec<String> = list.iter().map(|p| p.pid.clone()).collect();
                        (list, super::procs::files_in_use(proc, &pids))
                    })
                })
                .collect::<Vec<_>>();
            (read, observed)
        })
        .await
        .unwrap_or_default();
        for &i in &running {
            let o = observed.remove(&cs[i].id).unwrap_or_else(|| {
                crate::model::runtime::Observed::not_available(crate::sources::runtime::NOT_FOUND)
            });
            cs[i].observed = Some(std::sync::Arc::new(o));
        }
        for (&i, read) in running.iter().zip(read) {
            if let Some((list, files)) = read {
                cs[i].processes = Some(list);
                cs[i].processes_from = super::procs::FROM_PROC;
                cs[i].files_in_use = Some(std::sync::Arc::new(files));
            }
        }
    } else {
        let na = std::sync::Arc::new(crate::model::runtime::Observed::not_available(
            crate::sources::runtime::NOT_LOCAL,
        ));
        for &i in &running {
            cs[i].observed = Some(na.clone());
        }
    }
    let need: Vec<(usize, String)> = running
        .into_iter()
        .filter(|&i| cs[i].processes.is_none())
        .map(|i| (i, cs[i].id.clone()))
        .collect();
    let tops = need.len();
    let results: Vec<_> = stream::iter(need)
        .map(|(i, id)| async move { (i, engine.top(&id).await) })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .collect()
        .await;
    for (i, r) in results {
        cs[i].processes_from = super::procs::FROM_TOP;
        cs[i].processes = match r {
            Ok(top) => Some(convert::processes(top)),
            // Stopped between inspect and top, or the engine would not
            // say: the container is still reported, without a list.
            Err(e @ EngineError::Lost { .. }) => return Err(e),
            Err(e) => {
                tracing::debug!("no process list: {e}");
                None
            }
        };
    }
    Ok(tops)
}

/// Running containers' sockets, read once per network namespace from
/// `/proc` where the engine runs on this machine (one blocking task for
/// all), each connection's far end named; "not available" with the reason
/// for every running container otherwise. No engine request. A
/// [`refresh`] calls it only when [`crate::sources::runtime::sockets::refresh_due`]
/// (the last pass took at most a tenth of the time since): otherwise the
/// containers it did not inspect again keep what was read last.
async fn fill_sockets(engine: &Engine, cs: &mut [Container]) {
    use crate::model::flows::NetObserved;
    use crate::sources::runtime::{peers, sockets};
    for c in cs.iter_mut() {
        c.sockets = NetObserved::NotRead;
    }
    let running: Vec<usize> = (0..cs.len())
        .filter(|&i| cs[i].state == ContainerState::Running)
        .collect();
    if running.is_empty() {
        return;
    }
    let reads: Vec<(usize, peers::Read)> = if engine.is_local() {
        let asks: Vec<sockets::Ask> = running
            .iter()
            .map(|&i| sockets::Ask {
                id: cs[i].id.clone(),
                pid: cs[i].pid,
                network_mode: cs[i].network_mode.clone(),
                pids: if cs[i].processes_from == super::procs::FROM_PROC {
                    cs[i]
                        .processes
                        .iter()
                        .flatten()
                        .map(|p| p.pid.clone())
                        .collect()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let n = asks.len();
        let read = tokio::task::spawn_blocking(move || {
            sockets::read_all(std::path::Path::new("/proc"), &asks)
        })
        .await
        .unwrap_or_else(|e| vec![Err(format!("the reading task failed: {e}")); n]);
        running.into_iter().zip(read).collect()
    } else {
        running
            .into_iter()
            .map(|i| {
                (
                    i,
                    Err("the engine is not on this machine: its containers' network namespaces are out of reach".to_string()),
                )
            })
            .collect()
    };
    peers::fill(cs, reads);
}

/// Compose-created containers' compose files, where the engine runs on
/// this machine (the labels name files on the engine's machine): where
/// each service's keys are, so findings point at their line. One blocking
/// task; files read again only when they changed. Returns the warnings.
async fn fill_compose_files(engine: &Engine, cs: &mut [Container]) -> Vec<Warning> {
    let asks = crate::sources::compose::live::asks(cs);
    if asks.iter().all(Option::is_none) {
        return Vec::new();
    }
    if !engine.is_local() {
        for (c, _) in cs.iter_mut().zip(&asks).filter(|(_, a)| a.is_some()) {
            c.compose_file = Some(std::sync::Arc::new(
                crate::model::compose::ComposeFile::NotRead(
                    "the engine runs on another machine, where its compose files are".into(),
                ),
            ));
        }
        return Vec::new();
    }
    match tokio::task::spawn_blocking(move || crate::sources::compose::live::located(&asks)).await {
        Ok((found, warnings)) => {
            for (c, f) in cs.iter_mut().zip(found) {
                c.compose_file = f;
            }
            warnings
        }
        Err(e) => vec![Warning::new(
            WarningKind::Compose,
            format!("compose files not read: {e}"),
        )],
    }
}

/// What the engine's events say changed since the last scan.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Containers named by an event that changes what inspect says.
    pub containers: std::collections::HashSet<String>,
    /// The engine's own settings (a `daemon` event): `/info` and the
    /// default bridge are read again.
    pub engine: bool,
}

/// How much a [`refresh`] read again.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reread {
    /// Containers inspected again.
    pub containers: usize,
    /// Images inspected again.
    pub images: usize,
    /// Engine requests made, processes from `top` included.
    pub requests: usize,
}

/// A scan that reads again only what changed since `prev`, the last scan:
/// the two lists (containers, images), then inspect only the containers that
/// are new, named in `changed`, or whose listed state differs from `prev`,
/// and only the images that are new or whose tags moved. Running containers'
/// processes are read again (from `/proc`: no engine request, where the
/// engine is local), since they change without an event. `/info` and the
/// bridge are kept unless `changed.engine`. The result is what a full
/// [`snapshot`] would say, given that events announce every other change —
/// a slow full scan stays the safety net.
pub async fn refresh(
    engine: &Engine,
    env: &EnvSnapshot,
    prev: &Inventory,
    changed: &Changed,
) -> Result<(Inventory, Reread), EngineError> {
    let taken_at = Utc::now();
    let mut reread = Reread {
        requests: 2,
        ..Reread::default()
    };
    let (list, image_list) = tokio::join!(engine.list_containers(), engine.list_images());
    let (list, image_list) = (list?, image_list?);
    let known: std::collections::HashMap<&str, &Container> =
        prev.containers.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut reuse = Vec::new();
    let mut inspect = Vec::new();
    let mut list_warnings = list.warnings;
    list_warnings.extend(image_list.warnings);
    for s in list.items {
        match known.get(s.id.as_str()) {
            Some(c) if !changed.containers.contains(&s.id) && c.state == s.state => {
                reuse.push((*c).clone());
            }
            _ => inspect.push(s.id),
        }
    }
    reread.containers = inspect.len();
    reread.requests += inspect.len();
    let results: Vec<_> = stream::iter(inspect)
        .map(|id| async move { classify(inspect_bare(engine, &id).await) })
        .buffer_unordered(DEFAULT_CONCURRENCY)
        .collect()
        .await;
    let (containers, mut warnings) = collect("container", results)?;
    warnings.splice(0..0, list_warnings);
    let mut containers = noted(containers, &mut warnings);
    containers.extend(reuse);
    reread.requests += fill_processes(engine, &mut containers).await?;
    if crate::sources::runtime::sockets::refresh_due() {
        fill_sockets(engine, &mut containers).await;
    }
    warnings.extend(fill_compose_files(engine, &mut containers).await);
    containers.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));

    // Images: an image id names its content; only its tags can move.
    let known: std::collections::HashMap<&str, &Image> =
        prev.images.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut images = Vec::new();
    let mut read = Vec::new();
    for s in image_list.items {
        match known.get(s.id.as_str()) {
            Some(i) if i.tags == s.tags && i.digests == s.digests => {
                images.push((*i).clone());
            }
            _ => read.push(s.id),
        }
    }
    // Untagged images that containers still run (left out of the list).
    for id in containers.iter().map(|c| &c.image_id) {
        if id.is_empty() || images.iter().any(|i| &i.id == id) || read.contains(id) {
            continue;
        }
        match known.get(id.as_str()) {
            Some(i) => images.push((*i).clone()),
            None => read.push(id.clone()),
        }
    }
    reread.images = read.len();
    reread.requests += 2 * read.len();
    if !read.is_empty() {
        let (extra, extra_warnings) = image_details(engine, read, DEFAULT_CONCURRENCY).await?;
        images.extend(extra);
        warnings.extend(extra_warnings);
    }
    sort_images(&mut images);

    let engine_info = if changed.engine {
        reread.requests += 2;
        let (info, bridge) = tokio::join!(engine.info(), engine.inspect_network("bridge"));
        let bridge = bridge_or_none(bridge)?;
        convert::engine(
            info?,
            engine.version().clone(),
            bridge,
            engine.target(),
            env,
            engine.api_version(),
        )
    } else {
        prev.engine.clone()
    };
    Ok((
        Inventory {
            engine: engine_info,
            containers,
            images,
            taken_at: Some(taken_at),
            warnings,
            cluster: None,
        },
        reread,
    ))
}

async fn images(
    engine: &Engine,
    concurrency: usize,
) -> Result<(Vec<Image>, Vec<Warning>), EngineError> {
    let listed = engine.list_images().await?;
    let ids: Vec<String> = listed.items.into_iter().map(|i| i.id).collect();
    let (items, mut warnings) = image_details(engine, ids, concurrency).await?;
    warnings.splice(0..0, listed.warnings);
    Ok((items, warnings))
}

/// Inspect and read the history of these images.
async fn image_details(
    engine: &Engine,
    ids: Vec<String>,
    concurrency: usize,
) -> Result<(Vec<Image>, Vec<Warning>), EngineError> {
    let results: Vec<_> = stream::iter(ids)
        .map(|id| async move {
            let (inspect, history) =
                tokio::join!(engine.inspect_image(&id), engine.image_history(&id));
            classify(inspect.and_then(|i| Ok(convert::image(i, history?))))
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let (mut items, warnings) = collect("image", results)?;
    sort_images(&mut items);
    Ok((items, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vanished_objects_are_counted_refusals_warned_lost_engine_fails() {
        let results = vec![
            classify(Ok(1)),
            classify::<i32>(Err(EngineError::NotFound {
                what: "container a".into(),
            })),
            classify::<i32>(Err(EngineError::NotFound {
                what: "container b".into(),
            })),
            classify::<i32>(Err(EngineError::Api {
                what: "container c".into(),
                reason: "HTTP 500: boom".into(),
            })),
        ];
        let (items, warnings) = collect("container", results).unwrap();
        assert_eq!(items, [1]);
        assert_eq!(
            warnings,
            [
                Warning::new(
                    WarningKind::NotRead,
                    "the engine refused container c: HTTP 500: boom"
                ),
                Warning::new(
                    WarningKind::NotRead,
                    "2 container(s) disappeared during the scan and were skipped"
                )
            ]
        );
        let lost = vec![classify::<i32>(Err(EngineError::Lost {
            what: "x".into(),
            reason: "EOF".into(),
        }))];
        assert!(matches!(
            collect("container", lost),
            Err(EngineError::Lost { .. })
        ));
    }
}
