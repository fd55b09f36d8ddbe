//! Markdown for tickets: a summary, then findings tables. Engine-provided
//! text is escaped so it cannot break a table or inject HTML or links.

use std::fmt::Write;

use super::Report;
use crate::model::Severity;

/// Escape text for a Markdown table cell. Line breaks and tabs become
/// spaces (a command spread over lines stays readable); every other
/// control, bidi or invisible character is shown as an escape.
pub fn esc(s: &str) -> String {
    let s = crate::model::visible(&s.replace(['\n', '\r', '\t'], " ")).into_owned();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Inline code that cannot be broken out of (backticks become quotes).
fn code(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(
            "`{}`",
            crate::model::visible(&s.replace(['\n', '\r', '\t'], " "))
                .replace('`', "'")
                .replace('|', "\\|")
        )
    }
}

fn sev(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "◆ critical",
        Severity::High => "▲ high",
        Severity::Medium => "● medium",
        Severity::Low => "▼ low",
        Severity::Info => "■ info",
    }
}

fn table(out: &mut String, findings: &[super::FindingReport]) {
    let _ = writeln!(
        out,
        "| severity | check | CIS | evidence | fix |\n|---|---|---|---|---|"
    );
    for f in findings {
        let mut fix = esc(&f.remediation.summary);
        if !f.remediation.docker_run.is_empty() {
            let _ = write!(fix, " Run: {}", code(&f.remediation.docker_run));
        }
        if !f.remediation.kubernetes.is_empty() {
            let yaml = f.remediation.kubernetes.replace('\n', " ");
            let _ = write!(fix, " Set: {}", code(&yaml));
        }
        let mut check = format!("{} ({})", esc(&f.title), code(&f.rule_id));
        if let Some(w) = &f.waiver {
            let _ = write!(check, " — *waived: {}*", esc(&w.reason));
        }
        if let Some(b) = f.baseline {
            let _ = write!(check, " — {}", format!("{b:?}").to_lowercase());
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            sev(f.severity),
            check,
            f.cis.as_deref().map_or("—".to_string(), esc),
            match &f.location {
                Some(l) => format!("`{}` {}", esc(&l.short()), esc(&f.evidence)),
                None => esc(&f.evidence),
            },
            fix
        );
    }
}

/// Renders the report as Markdown.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    let _ = writeln!(out, "# shipshape report\n");
    let multi = r.engines.len() > 1;
    if multi {
        let _ = writeln!(
            out,
            "Scanned {} engines at {} — {} containers, {} images.\n",
            r.engines.len(),
            r.generated_at.format("%Y-%m-%d %H:%M UTC"),
            s.containers,
            s.images
        );
        let _ = writeln!(
            out,
            "| engine | address | engine version | containers | findings |\n|---|---|---|---:|---|"
        );
        for e in &r.engines {
            let version = e.details.as_ref().map_or_else(
                || {
                    format!(
                        "not scanned: {}",
                        e.error.as_deref().unwrap_or("unreachable")
                    )
                },
                |d| format!("{} {}", d.product, d.version),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                esc(&e.name),
                esc(&e.endpoint),
                esc(&version),
                e.summary.containers,
                e.summary.findings.summary()
            );
        }
        out.push('\n');
    } else {
        let _ = writeln!(
            out,
            "Scanned {} {} ({}) at {} — {} containers, {} images.\n",
            esc(&r.engine.product),
            esc(&r.engine.version),
            esc(&r.engine.found_by),
            r.generated_at.format("%Y-%m-%d %H:%M UTC"),
            s.containers,
            s.images
        );
    }
    // "web" on two engines is two containers: name them with their engine.
    let on = |engine: &str| {
        if multi {
            format!(" on {}", esc(engine))
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        out,
        "| critical | high | medium | low | info | waived |\n|---:|---:|---:|---:|---:|---:|"
    );
    let c = &s.findings;
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |\n",
        c.critical, c.high, c.medium, c.low, c.info, s.waived
    );
    if let Some(b) = &r.baseline {
        let _ = writeln!(
            out,
            "Compared with the report of {}: **{} new**, {} unchanged, **{} fixed**.\n",
            b.baseline_generated_at.format("%Y-%m-%d %H:%M UTC"),
            b.new,
            b.unchanged,
            b.fixed.len()
        );
    }
    let risky = r.riskiest(10);
    if !risky.is_empty() {
        let _ = writeln!(
            out,
            "## Riskiest containers\n\n| container | image | state | risk | worst |\n|---|---|---|---:|---|"
        );
        for c in risky {
            let _ = writeln!(
                out,
                "| {}{} | {} | {} | {} | {} |",
                esc(&c.name),
                on(&c.engine),
                esc(&c.image),
                esc(&c.state),
                c.risk_score,
                c.highest_severity.map_or("—", sev)
            );
        }
        out.push('\n');
    }
    if multi {
        for e in r.engines.iter().filter(|e| !e.engine_findings.is_empty()) {
            let _ = writeln!(out, "## Engine {}\n", esc(&e.name));
            table(&mut out, &e.engine_findings);
            out.push('\n');
        }
    } else if !r.engine_findings.is_empty() {
        let _ = writeln!(out, "## Engine\n");
        table(&mut out, &r.engine_findings);
        out.push('\n');
    }
    if !r.policy_findings.is_empty() {
        let _ = writeln!(out, "## Policy\n");
        table(&mut out, &r.policy_findings);
        out.push('\n');
    }
    for c in r.containers.iter().filter(|c| !c.findings.is_empty()) {
        let _ = writeln!(
            out,
            "## Container {}{}\n\n{} · {} · risk {}\n",
            esc(&c.name),
            on(&c.engine),
            esc(&c.image),
            esc(&c.state),
            c.risk_score
        );
        table(&mut out, &c.findings);
        out.push('\n');
    }
    for i in r.images.iter().filter(|i| !i.findings.is_empty()) {
        let name = i.display_name();
        let _ = writeln!(out, "## Image {}{}\n", esc(&name), on(&i.engine));
        table(&mut out, &i.findings);
        out.push('\n');
    }
    if let Some(b) = &r.baseline
        && !b.fixed.is_empty()
    {
        let _ = writeln!(
            out,
            "## Fixed since the baseline\n\n| subject | check | evidence |\n|---|---|---|"
        );
        for f in &b.fixed {
            let _ = writeln!(
                out,
                "| {} {} | {} | {} |",
                esc(&f.subject_type),
                esc(&f.subject),
                esc(&f.title),
                esc(&f.evidence)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_break_tables_or_inject() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(esc("line\nbreak"), "line break");
        assert_eq!(esc("a\u{1b}[2Jb\u{202e}"), "a\\\\u{1b}\\[2Jb\\\\u{202e}");
        assert_eq!(code("a`b|c"), "`a'b\\|c`");
    }

    /// Issue 17 (5): a report read back from JSON (a baseline, a future
    /// `report render`) is outside input: `state` and `cis` used to be
    /// written raw.
    #[test]
    fn every_field_of_a_parsed_report_is_escaped() {
        let mut r = crate::report::testing::demo_report();
        let hostile = "<img src=x onerror=alert(1)>|x";
        let c = r
            .containers
            .iter_mut()
            .find(|c| !c.findings.is_empty())
            .unwrap();
        c.state = hostile.into();
        c.findings[0].cis = Some(hostile.into());
        let text = render(&r);
        assert!(!text.contains("<img"), "raw tag in the Markdown");
        for line in text.lines().filter(|l| l.contains("onerror")) {
            assert!(
                !line.replace("\\|", "").contains("|x"),
                "an unescaped pipe breaks the table: {line}"
            );
        }
        assert!(text.contains("&lt;img src=x onerror=alert(1)&gt;\\|x"));
    }
}
