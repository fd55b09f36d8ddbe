//! SARIF 2.1.0, as GitHub code scanning accepts it: one rule per check (with
//! help text, level and `security-severity`), one result per finding with a
//! location (containers and images have no source file: each result gets a
//! stable artifact URI and a logical location naming the container or
//! image), waived findings as suppressions, baseline state when compared.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::baseline::Status;
use super::{Report, Subject};
use crate::model::Severity;
use crate::rules::{self, Rule};

/// The SARIF 2.1.0 JSON schema the output names.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's scale: ≥9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule_name(r: &Rule) -> String {
    r.id.split(['.', '-'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn help(r: &Rule) -> (String, String) {
    use crate::rules::explain;
    let sections = explain::sections(r);
    let mut text = sections
        .iter()
        .map(|(h, t)| format!("{h}: {t}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut md = sections
        .iter()
        .map(|(h, t)| format!("**{h}.** {t}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    for fix in explain::fixes(r, explain::FixFor::Any) {
        text.push_str(&format!("\n\n{}: {}", fix.label, fix.code));
        if fix.yaml {
            md.push_str(&format!("\n\n{}:\n```yaml\n{}\n```", fix.label, fix.code));
        } else {
            md.push_str(&format!("\n\n`{}`: `{}`", fix.label, fix.code));
        }
    }
    (text, md)
}

fn rule_descriptor(r: &Rule) -> Value {
    let (text, markdown) = help(r);
    let mut tags = vec![
        "security".to_string(),
        r.family.as_str().to_string(),
        format!("seed-rule-{}", r.seed.number()),
    ];
    if let Some(cis) = r.cis {
        tags.push(format!("CIS-Docker-{cis}"));
    }
    json!({
        "id": r.id,
        "name": rule_name(r),
        "shortDescription": { "text": r.title },
        "fullDescription": { "text": r.why },
        "help": { "text": text, "markdown": markdown },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "security-severity": security_severity(r.severity),
            "precision": "high",
            "tags": tags,
            "cis": r.cis,
            "seed_rule": r.seed.number(),
        }
    })
}

fn encode(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._~".contains(c) {
                c.to_string()
            } else {
                format!("%{:02X}", c as u32 & 0xff)
            }
        })
        .collect()
}

/// Artifact URI for a subject: no file exists, so a stable pseudo-path.
/// With several engines the engine's name comes first (`web` on two
/// engines is two artifacts); a one-engine report keeps the short form.
fn uri(subject: &Subject, multi: bool) -> String {
    let name = encode(&subject.name());
    if multi && !subject.engine().is_empty() {
        format!(
            "shipshape/{}/{}/{}",
            encode(subject.engine()),
            subject.kind(),
            name
        )
    } else {
        format!("shipshape/{}/{}", subject.kind(), name)
    }
}

/// Renders the report as SARIF 2.1.0.
pub fn render(report: &Report) -> String {
    let rules_list: Vec<Value> = rules::ALL.iter().map(|r| rule_descriptor(r)).collect();
    let multi = report.engines.len() > 1;
    let results: Vec<Value> = report
        .subjects()
        .into_iter()
        .map(|(subject, f)| {
            let index = rules::ALL.iter().position(|r| r.id == f.rule_id);
            let identity = if multi {
                format!("{}@{}", subject.key(), subject.engine())
            } else {
                subject.key()
            };
            let fingerprint = hex(&Sha256::digest(format!("{}\n{}\n{}", identity, f.rule_id, f.evidence).as_bytes()));
            // A finding from a compose file points at its key's line there.
            let (artifact, region) = match &f.location {
                Some(l) => {
                    let rel = !l.file.starts_with('/');
                    let mut a = json!({ "uri": if rel { l.file.clone() } else { format!("file://{}", l.file) } });
                    if rel {
                        a["uriBaseId"] = json!("%SRCROOT%");
                    }
                    (a, json!({ "startLine": l.line }))
                }
                None => (json!({ "uri": uri(&subject, multi) }), json!({ "startLine": 1 })),
            };
            let mut result = json!({
                "ruleId": f.rule_id,
                "level": level(f.severity),
                "message": { "text": format!("{} — {} ({} {})", f.title, f.evidence, subject.kind(), subject.name()) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": region
                    },
                    "logicalLocations": [{
                        "name": subject.name(),
                        "fullyQualifiedName": format!("{}:{}", subject.kind(), subject.name()),
                        "kind": "resource"
                    }]
                }],
                "partialFingerprints": { "shipshapeFinding/v1": fingerprint },
                "properties": {
                    "severity": f.severity,
                    "security-severity": security_severity(f.severity),
                    "cis": f.cis,
                    "seed_rule": f.seed_rule,
                    "subject_id": subject.id(),
                    "engine": subject.engine(),
                }
            });
            if let Some(i) = index {
                result["ruleIndex"] = json!(i);
            }
            if let Some(w) = &f.waiver {
                result["suppressions"] = json!([{ "kind": "external", "status": "accepted", "justification": w.reason }]);
            }
            if let Some(b) = f.baseline {
                result["baselineState"] = json!(match b {
                    Status::New => "new",
                    Status::Unchanged => "unchanged",
                });
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "shipshape",
                "version": report.tool.version,
                "semanticVersion": report.tool.version,
                "rules": rules_list,
            }},
            "automationDetails": { "id": format!("shipshape/{}/", report.engine.endpoint) },
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": report.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "toolExecutionNotifications": report.warnings.iter().map(|w| json!({ "level": "warning", "message": { "text": w } })).collect::<Vec<_>>(),
            }],
            "properties": {
                "engine": { "product": report.engine.product, "version": report.engine.version, "found_by": report.engine.found_by },
            },
            "results": results,
        }]
    });
    let mut s = crate::model::json_safe(
        serde_json::to_string_pretty(&doc).expect("SARIF always serialises"),
    );
    s.push('\n');
    s
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
