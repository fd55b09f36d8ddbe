//! One full snapshot of the engine: info, version, the default bridge, every
//! container (any state) with inspect and `top`, every image with inspect and
//! history. Calls run concurrently with a bound; objects that vanish between
//! list and inspect are skipped, not fatal.

use chrono::Utc;
use futures_util::stream::{self, StreamExt};

use super::{Engine, EngineError, EnvSnapshot, convert};
use crate::model::{Container, ContainerState, Image, Inventory};

/// How many inspect calls may be in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 32;

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

pub async fn snapshot_with(
    engine: &Engine,
    env: &EnvSnapshot,
    concurrency: usize,
) -> Result<Inventory, EngineError> {
    let taken_at = Utc::now();
    let (info, version, bridge, containers, images) = tokio::join!(
        engine.info(),
        engine.version(),
        engine.inspect_network("bridge"),
        containers(engine, concurrency),
        images(engine, concurrency),
    );
    let (info, version) = (info?, version?);
    // Podman and some setups have no network called "bridge".
    let bridge = match bridge {
        Ok(n) => Some(n),
        Err(EngineError::NotFound { .. }) => None,
        Err(e @ EngineError::Lost { .. }) => return Err(e),
        Err(e) => {
            tracing::warn!("{e}");
            None
        }
    };
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
        images.sort_by(|a, b| {
            a.display_name()
                .cmp(&b.display_name())
                .then_with(|| a.id.cmp(&b.id))
        });
    }
    let target = engine.target();
    Ok(Inventory {
        engine: convert::engine(info, version, bridge, target, env, engine.api_version()),
        containers,
        images,
        taken_at: Some(taken_at),
        warnings,
    })
}

/// Keep what we got, count what vanished, turn refusals into warnings and
/// stop at the first sign that the engine itself is gone.
fn collect<T>(
    kind: &str,
    results: Vec<Result<Outcome<T>, EngineError>>,
) -> Result<(Vec<T>, Vec<String>), EngineError> {
    let mut items = Vec::with_capacity(results.len());
    let mut warnings = Vec::new();
    let mut vanished = 0;
    for r in results {
        match r? {
            Outcome::Got(t) => items.push(t),
            Outcome::Vanished => vanished += 1,
            Outcome::Refused(why) => warnings.push(why),
        }
    }
    if vanished > 0 {
        warnings.push(format!(
            "{vanished} {kind}(s) disappeared during the scan and were skipped"
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
) -> Result<(Vec<Container>, Vec<String>), EngineError> {
    let list = engine.list_containers().await?;
    let ids: Vec<String> = list.into_iter().filter_map(|c| c.id).collect();
    let results: Vec<_> = stream::iter(ids)
        .map(|id| async move { classify(inspect_one(engine, &id).await) })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let (mut items, warnings) = collect("container", results)?;
    items.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok((items, warnings))
}

/// Inspect one container and, when it runs, list its processes.
pub async fn inspect_one(engine: &Engine, id: &str) -> Result<Container, EngineError> {
    let mut c = engine.container(id).await?;
    if c.state == ContainerState::Running {
        // An engine on this machine: its processes from /proc, without
        // making the engine run `ps` across the host.
        if engine.is_local() {
            let (pid, cid) = (c.pid, c.id.clone());
            let read = tokio::task::spawn_blocking(move || {
                super::procs::read(std::path::Path::new("/proc"), pid, &cid)
            })
            .await
            .ok()
            .flatten();
            if let Some(list) = read {
                c.processes = Some(list);
                c.processes_from = super::procs::FROM_PROC;
            }
        }
    }
    if c.state == ContainerState::Running && c.processes.is_none() {
        c.processes_from = super::procs::FROM_TOP;
        c.processes = match engine.top(id).await {
            Ok(top) => Some(convert::processes(top)),
            // Stopped between inspect and top, or the engine would not say:
            // the container is still reported, without a process list.
            Err(EngineError::Lost { what, reason }) => {
                return Err(EngineError::Lost { what, reason });
            }
            Err(e) => {
                tracing::debug!("no process list: {e}");
                None
            }
        };
    }
    // Exec sessions the engine still holds (running ones): who and what.
    let now = Utc::now();
    for exec_id in c.exec_ids.clone() {
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
    Ok(c)
}

async fn images(
    engine: &Engine,
    concurrency: usize,
) -> Result<(Vec<Image>, Vec<String>), EngineError> {
    let list = engine.list_images().await?;
    let ids: Vec<String> = list.into_iter().map(|i| i.id).collect();
    image_details(engine, ids, concurrency).await
}

/// Inspect and read the history of these images.
async fn image_details(
    engine: &Engine,
    ids: Vec<String>,
    concurrency: usize,
) -> Result<(Vec<Image>, Vec<String>), EngineError> {
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
    items.sort_by(|a, b| {
        a.display_name()
            .cmp(&b.display_name())
            .then_with(|| a.id.cmp(&b.id))
    });
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
                "the engine refused container c: HTTP 500: boom",
                "2 container(s) disappeared during the scan and were skipped"
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
