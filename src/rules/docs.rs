//! The rule catalogue as Markdown, rendered from the registry — the source
//! of `docs/rules.md` (a test keeps that file current).

use std::fmt::Write;

use super::{ALL, Check};
use crate::model::{Finding, Severity, Subject};

/// The severity scale every rule is graded by.
pub const SEVERITY_SCALE: &[(Severity, &str)] = &[
    (
        Severity::Critical,
        "host takeover with no further step (privileged, the engine socket, the host's / or /etc writable)",
    ),
    (
        Severity::High,
        "host takeover with one more weakness, or access to other containers' or the host's data (seccomp off, host PID, / read-only)",
    ),
    (
        Severity::Medium,
        "weakens a defence (root without user namespaces, no memory limit, no-new-privileges unset)",
    ),
    (
        Severity::Low,
        "hygiene (no healthcheck, unpinned tag, unrotated logs)",
    ),
    (
        Severity::Info,
        "worth knowing, no risk by itself (published ports, unused image)",
    ),
];

/// A container whose score the rule docs show, with the findings it gets on
/// a rootful engine without AppArmor (the test engine). The real-engine
/// catalogue test creates each one and checks findings and score.
pub struct ScoreExample {
    /// What the example is.
    pub name: &'static str,
    /// `docker create` flags before the image (`shipshape-test/base:1`).
    pub flags: &'static [&'static str],
    /// Its findings' rule ids and severities.
    pub findings: Vec<(&'static str, Severity)>,
}

impl ScoreExample {
    /// The risk score of its findings.
    pub fn score(&self) -> u8 {
        let findings: Vec<Finding> = self
            .findings
            .iter()
            .map(|(id, severity)| Finding {
                rule_id: id,
                severity: *severity,
                subject: Subject::Engine,
                evidence: String::new(),
                waiver: None,
            })
            .collect();
        super::score::risk_score(&findings)
    }
}

/// What a plain `docker create image:1` is flagged for.
pub const DEFAULT_CONTAINER: &[(&str, Severity)] = &[
    ("container.default-bridge", Severity::Low),
    ("container.log-unbounded", Severity::Low),
    ("container.mutable-image-ref", Severity::Low),
    ("container.no-cpu-limit", Severity::Low),
    ("container.no-healthcheck", Severity::Low),
    ("container.no-memory-limit", Severity::Medium),
    ("container.no-new-privileges", Severity::Medium),
    ("container.no-pids-limit", Severity::Medium),
    ("container.root-user", Severity::Medium),
    ("container.writable-rootfs", Severity::Low),
];

/// The examples of the scoring page, from the real rules.
pub fn score_examples() -> Vec<ScoreExample> {
    let with = |extra: &[(&'static str, Severity)]| {
        let mut v: Vec<(&'static str, Severity)> = DEFAULT_CONTAINER.to_vec();
        v.extend_from_slice(extra);
        v.sort();
        v
    };
    vec![
        ScoreExample {
            name: "privileged",
            flags: &["--privileged"],
            findings: with(&[("container.privileged", Severity::Critical)]),
        },
        ScoreExample {
            name: "host / writable",
            flags: &["-v", "/:/host"],
            findings: with(&[
                ("container.sensitive-mount", Severity::Critical),
                ("container.engine-socket", Severity::Critical),
            ]),
        },
        ScoreExample {
            name: "host /etc read-only",
            flags: &["-v", "/etc:/host-etc:ro"],
            findings: with(&[("container.sensitive-mount", Severity::High)]),
        },
        ScoreExample {
            name: "default",
            flags: &[],
            findings: with(&[]),
        },
        ScoreExample {
            name: "hardened",
            flags: &[
                "--read-only",
                "--user",
                "10001:10001",
                "--memory",
                "64m",
                "--cpus",
                "0.5",
                "--pids-limit",
                "64",
                "--security-opt",
                "no-new-privileges",
                "--cap-drop",
                "ALL",
                "--network",
                "none",
                "--log-driver",
                "local",
                "--health-cmd",
                "true",
            ],
            findings: vec![("container.mutable-image-ref", Severity::Low)],
        },
    ]
}

fn severity_section() -> String {
    let mut out = String::from(
        "\n## Severity scale and risk score\n\n\
         Every rule is graded by what an attacker gains. Where one rule covers cases of \
         different impact, each finding is graded by its case (the rule's text says how), and \
         on a rootless engine, or with user-namespace remapping, findings that depend on root \
         in the container being root on the host are graded lower.\n\n\
         | severity | meaning |\n|---|---|\n",
    );
    for (sev, meaning) in SEVERITY_SCALE {
        let _ = writeln!(out, "| {sev} | {meaning} |");
    }
    out.push_str(
        "\nA container's **risk score** (0–100) lies in the band of its worst active finding — \
         critical 75–100, high 50–74, medium 25–49, low 1–24, none or info 0 — and inside \
         the band rises with every other finding: `low + round((high − low) × (1 − Π(1 − w)))` \
         with weights critical 0.60, high 0.30, medium 0.12, low 0.04. So one critical finding \
         always outranks any number of high ones, and waived findings do not count.\n\n\
         Examples, on a rootful engine without AppArmor (checked against a real engine by \
         `tests/catalogue.rs`):\n\n\
         | container | `docker create` flags | findings | score |\n|---|---|---|---|\n",
    );
    for ex in score_examples() {
        let mut counts = crate::model::SeverityCounts::default();
        for (_, sev) in &ex.findings {
            counts.add(*sev);
        }
        let flags = if ex.flags.is_empty() {
            "(none)".to_string()
        } else {
            format!("`{}`", ex.flags.join(" "))
        };
        let _ = writeln!(
            out,
            "| {} | {flags} | {} | **{}** |",
            ex.name,
            counts.summary(),
            ex.score()
        );
    }
    out
}

/// The rule catalogue as Markdown, for `docs/rules.md`.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# shipshape rule catalogue\n\n\
         Generated from the rule registry (`src/rules/`) by `shipshape rules --markdown`. \
         Do not edit by hand.\n\n\
         | id | severity | CIS | seed rule | title |\n|---|---|---|---|---|\n",
    );

    for r in ALL {
        let _ = writeln!(
            out,
            "| [`{id}`](#{anchor}) | {sev} | {cis} | {seed} | {title} |",
            id = r.id,
            anchor = r.id.replace('.', ""),
            sev = r.severity,
            cis = r.cis.unwrap_or("—"),
            seed = r.seed.number(),
            title = r.title
        );
    }
    out.push_str(&severity_section());
    for r in ALL {
        let _ = write!(
            out,
            "\n## {id}\n\n**{title}** — {scope} check, default severity **{sev}**, CIS {cis}, seed rule {n} ({seed}).\n\n\
             {explanation}\n",
            id = r.id,
            title = r.title,
            scope = r.check.scope(),
            sev = r.severity,
            cis = r.cis.unwrap_or("—"),
            n = r.seed.number(),
            seed = r.seed.title(),
            explanation = super::explain::sections(r)
                .iter()
                .map(|(h, t)| format!("**{h}.** {t}"))
                .collect::<Vec<_>>()
                .join("\n\n"),
        );
        for (i, fix) in super::explain::fixes(r, super::explain::FixFor::Any)
            .iter()
            .enumerate()
        {
            let label = if fix.yaml {
                fix.label.to_string()
            } else {
                format!("`{}`", fix.label)
            };
            let _ = writeln!(
                out,
                "{}- {label}: `{}`",
                if i == 0 { "\n" } else { "" },
                fix.code.replace('\n', " ")
            );
        }
        let _ = writeln!(out, "\nReferences: {}", r.references.join(", "));
        if matches!(r.check, Check::Policy) {
            let _ = writeln!(
                out,
                "\nRaised by the policy evaluation, not by a check function."
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_rules_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        let fresh = super::catalogue_markdown();
        if on_disk != fresh {
            if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
                std::fs::write(path, fresh).unwrap();
                return;
            }
            panic!(
                "docs/rules.md is out of date: run `SHIPSHAPE_BLESS=1 cargo test --lib docs_rules_md_is_current`"
            );
        }
    }
}
