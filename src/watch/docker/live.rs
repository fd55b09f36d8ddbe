//! Live numbers: one stats stream per container the window shows (and the
//! busiest), a sampler for the rest, and the host's load line.

use super::*;

pub(super) async fn host_loop(sink: Sink) {
    let info = tokio::task::spawn_blocking(HostSampler::static_info)
        .await
        .unwrap_or_default();
    sink.send(Event::HostInfo(info));
    let mut sampler = match tokio::task::spawn_blocking(HostSampler::new).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            sink.send(Event::Warning(e));
            return;
        }
        Err(_) => return,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Ok((s, point)) = tokio::task::spawn_blocking(move || {
            let p = sampler.sample();
            (sampler, p)
        })
        .await
        else {
            return;
        };
        sampler = s;
        if !sink.send_soon(Event::Host(point)) {
            return;
        }
    }
}

/// Stats streams held at once, per engine. 32 streams cost the engine 32
/// cgroup reads a second; the other running containers are sampled.
pub const MAX_STREAMS: usize = 32;

/// The latest CPU share of each running container, written by its stream
/// or by the sampler, read when streams are chosen.
pub(super) type CpuShares = Arc<std::sync::Mutex<HashMap<String, f32>>>;

pub(super) fn note_cpu(cpu: &CpuShares, id: &str, pct: f32) {
    cpu.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.to_string(), pct);
}

/// How often a running container without a stream gets a reading.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// One-shot readings at once, while sampling. The engine answers a one-shot
/// reading at its stats collector's next tick (about a second), so this
/// many at a time cover a few hundred containers within [`SAMPLE_EVERY`].
pub(super) const SAMPLE_CONCURRENCY: usize = 32;

/// Which running containers stream: those in `focus` (the window's
/// selection and visible rows, in that order) first, then the busiest by
/// their latest CPU share. A container already streaming keeps its place
/// against one only slightly busier, so streams do not flap.
pub(super) fn choose_streams<'a>(
    running: impl Iterator<Item = &'a str>,
    focus: &[String],
    cpu: &HashMap<String, f32>,
    streaming: &HashSet<&str>,
    budget: usize,
) -> HashSet<String> {
    let running: HashSet<&str> = running.collect();
    let mut chosen: Vec<&str> = Vec::new();
    for id in focus {
        if chosen.len() >= budget {
            break;
        }
        if running.contains(id.as_str()) && !chosen.contains(&id.as_str()) {
            chosen.push(id);
        }
    }
    let rank = |id: &str| {
        let c = cpu.get(id).copied().unwrap_or(0.0);
        if streaming.contains(id) {
            c * 1.5 + 1.0
        } else {
            c
        }
    };
    let mut rest: Vec<&str> = running
        .iter()
        .copied()
        .filter(|id| !chosen.contains(id))
        .collect();
    rest.sort_by(|a, b| rank(b).total_cmp(&rank(a)).then_with(|| a.cmp(b)));
    let free = budget.saturating_sub(chosen.len());
    chosen.extend(rest.into_iter().take(free));
    chosen.into_iter().map(str::to_string).collect()
}

/// Read the containers in `ids` (as it is when each round starts) once
/// every [`SAMPLE_EVERY`], computing the CPU share and byte rates from the
/// previous reading of each.
pub(super) async fn sampler(
    engine: Engine,
    ids: Arc<std::sync::Mutex<Vec<(String, bool)>>>,
    cpu: CpuShares,
    sink: Sink,
) {
    let mut prev: HashMap<String, StatsReading> = HashMap::new();
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if now.is_empty() {
            return;
        }
        prev.retain(|id, _| now.iter().any(|(i, _)| i == id));
        let engine = &engine;
        let results: Vec<_> = futures_util::stream::iter(now)
            .map(|(id, limited)| async move {
                let r = engine.stats_once(&id).await;
                (id, limited, r)
            })
            .buffer_unordered(SAMPLE_CONCURRENCY)
            .collect()
            .await;
        for (id, limited, r) in results {
            let Ok(resp) = r else { continue };
            let mut r = stats::reading(&resp);
            if let Some(p) = prev.get(&id) {
                r.precpu_total_ns = p.cpu_total_ns;
                r.presystem_ns = p.system_ns;
            }
            if crate::model::stats::cpu_percent(&r).is_some() {
                let point = derive(prev.get(&id), &r, limited);
                note_cpu(&cpu, &id, point.cpu_pct);
                if !sink.send_soon(Event::Sampled {
                    id: id.clone(),
                    point,
                }) {
                    return;
                }
            }
            prev.insert(id, r);
        }
    }
}

pub(super) async fn stats_stream(
    engine: Engine,
    id: String,
    limited: bool,
    cpu: CpuShares,
    sink: Sink,
) {
    let mut prev: Option<StatsReading> = None;
    let mut stream = std::pin::pin!(engine.stats_stream(&id));
    while let Some(item) = stream.next().await {
        let Ok(resp) = item else { break };
        let r = stats::reading(&resp);
        // The first frame has no previous CPU sample: nothing to draw yet.
        if crate::model::stats::cpu_percent(&r).is_some() {
            let point = derive(prev.as_ref(), &r, limited);
            note_cpu(&cpu, &id, point.cpu_pct);
            if !sink.send_soon(Event::Stats {
                id: id.clone(),
                point,
            }) {
                return;
            }
        }
        prev = Some(r);
    }
    sink.send(Event::StatsEnded { id });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: the window's containers stream first, then the busiest;
    /// a streaming container keeps its place against one barely busier.
    #[test]
    fn streams_go_to_what_the_window_shows_then_to_the_busiest() {
        let ids: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        let running = || ids.iter().map(String::as_str);
        let cpu: HashMap<String, f32> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as f32))
            .collect();
        let none = HashSet::new();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        // No focus: the busiest three.
        assert_eq!(
            choose_streams(running(), &[], &cpu, &none, 3),
            set(&["c9", "c8", "c7"])
        );
        // Focus first (stopped ones skipped), then the busiest.
        let focus = vec!["c1".to_string(), "gone".to_string(), "c2".to_string()];
        assert_eq!(
            choose_streams(running(), &focus, &cpu, &none, 3),
            set(&["c1", "c2", "c9"])
        );
        // More in focus than the budget: the first ones.
        assert_eq!(
            choose_streams(running(), &focus, &cpu, &none, 1),
            set(&["c1"])
        );
        // c6 streams: it keeps its place against c7, a point busier.
        let streaming: HashSet<&str> = ["c6"].into_iter().collect();
        assert_eq!(
            choose_streams(running(), &[], &cpu, &streaming, 3),
            set(&["c9", "c8", "c6"])
        );
        // Enough budget for all: every running container streams.
        assert_eq!(choose_streams(running(), &[], &cpu, &none, 32).len(), 10);
    }
}
