//! Posture over time: what each `scan` record of the audit log says about
//! the whole inventory, for the Overview's chart.

use chrono::{DateTime, Utc};

use super::SeverityCounts;

/// One assessment, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosturePoint {
    /// When the point was taken.
    pub t: DateTime<Utc>,
    /// The engine it is about (empty with one engine).
    pub engine: String,
    /// Active findings by severity.
    pub findings: SeverityCounts,
    /// The containers' risk scores added up (records before it was kept
    /// have none).
    pub risk: Option<u64>,
}

impl PosturePoint {
    /// From an audit `scan` record's time and data (`None`: not one).
    pub fn from_record(t: DateTime<Utc>, data: &serde_json::Value) -> Option<Self> {
        let findings: SeverityCounts =
            serde_json::from_value(data.get("findings")?.clone()).ok()?;
        Some(Self {
            t,
            engine: data
                .get("engine")
                .and_then(|e| e.as_str())
                .unwrap_or_default()
                .to_string(),
            findings,
            risk: data.get("risk").and_then(serde_json::Value::as_u64),
        })
    }
}

/// The posture per time bucket (`bucket` seconds), summed over engines:
/// each engine's last point in or before the bucket counts, so an engine
/// that records nothing new for a while still holds its level.
pub fn buckets(points: &[PosturePoint], bucket: i64) -> Vec<(DateTime<Utc>, SeverityCounts, u64)> {
    let bucket = bucket.max(1);
    let mut sorted: Vec<&PosturePoint> = points.iter().collect();
    sorted.sort_by_key(|p| p.t);
    let mut latest: std::collections::BTreeMap<&str, &PosturePoint> = Default::default();
    let mut out: Vec<(DateTime<Utc>, SeverityCounts, u64)> = Vec::new();
    let key = |t: DateTime<Utc>| t.timestamp().div_euclid(bucket);
    let mut i = 0;
    while i < sorted.len() {
        let k = key(sorted[i].t);
        while i < sorted.len() && key(sorted[i].t) == k {
            latest.insert(sorted[i].engine.as_str(), sorted[i]);
            i += 1;
        }
        let mut counts = SeverityCounts::default();
        let mut risk = 0u64;
        for p in latest.values() {
            counts.merge(&p.findings);
            risk = risk.saturating_add(p.risk.unwrap_or(0));
        }
        let at = DateTime::from_timestamp(k * bucket, 0).unwrap_or_default();
        out.push((at, counts, risk));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(t: i64, engine: &str, high: usize, risk: u64) -> PosturePoint {
        PosturePoint {
            t: DateTime::from_timestamp(t, 0).unwrap(),
            engine: engine.into(),
            findings: SeverityCounts {
                high,
                ..Default::default()
            },
            risk: Some(risk),
        }
    }

    #[test]
    fn buckets_keep_each_engines_last_level() {
        let points = [
            p(10, "a", 5, 100),
            p(20, "a", 4, 90), // same hour: the last one counts
            p(3700, "b", 2, 10),
            p(7300, "a", 1, 50),
        ];
        let b = buckets(&points, 3600);
        let highs: Vec<usize> = b.iter().map(|(_, c, _)| c.high).collect();
        assert_eq!(
            highs,
            [4, 4 + 2, 1 + 2],
            "a holds its level while b appears"
        );
        let risks: Vec<u64> = b.iter().map(|(_, _, r)| *r).collect();
        assert_eq!(risks, [90, 100, 60]);
        assert_eq!(b[1].0.timestamp(), 3600);
    }

    #[test]
    fn records_are_read_back_and_others_refused() {
        let data = serde_json::json!({
            "findings": {"critical": 1, "high": 2, "medium": 3, "low": 4, "info": 5},
            "risk": 77, "engine": "podman"
        });
        let t = DateTime::from_timestamp(0, 0).unwrap();
        let p = PosturePoint::from_record(t, &data).unwrap();
        assert_eq!(p.findings.critical, 1);
        assert_eq!(p.findings.info, 5);
        assert_eq!(p.risk, Some(77));
        assert_eq!(p.engine, "podman");
        assert!(PosturePoint::from_record(t, &serde_json::json!({"x": 1})).is_none());
        let old = serde_json::json!({"findings": {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}});
        assert_eq!(PosturePoint::from_record(t, &old).unwrap().risk, None);
    }
}
