//! One self-contained HTML file: no scripts at all, no external fonts,
//! styles or images (works offline, safe to mail around). A summary with
//! inline-SVG charts of findings by severity and by seed rule, the riskiest
//! containers, a table of contents, then a section per container, image and
//! the engine with every finding's evidence, why, attack and fix. Readable
//! when printed. Every engine-provided string is HTML-escaped.

use std::fmt::Write;

use super::{FindingReport, Report};
use crate::model::{SeedRule, Severity};
use crate::rules;

/// Escape for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    crate::model::text::escape_markup(s)
}

fn color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b01e5a",
        Severity::High => "#b36200",
        Severity::Medium => "#8a7a00",
        Severity::Low => "#006ba8",
        Severity::Info => "#707070",
    }
}

/// The severity's shape as a tiny inline SVG (colour is never the only cue).
fn shape(s: Severity) -> String {
    let c = color(s);
    let body = match s {
        Severity::Critical => format!("<polygon points='6,0 12,6 6,12 0,6' fill='{c}'/>"),
        Severity::High => format!("<polygon points='6,0 12,11 0,11' fill='{c}'/>"),
        Severity::Medium => format!("<circle cx='6' cy='6' r='5.5' fill='{c}'/>"),
        Severity::Low => format!("<polygon points='0,1 12,1 6,12' fill='{c}'/>"),
        Severity::Info => format!("<rect x='1' y='1' width='10' height='10' fill='{c}'/>"),
    };
    format!(
        "<svg class='shape' width='12' height='12' viewBox='0 0 12 12' aria-hidden='true'>{body}</svg>"
    )
}

fn badge(s: Severity) -> String {
    format!(
        "<span class='sev' style='color:{}'>{}{}</span>",
        color(s),
        shape(s),
        s.as_str().to_uppercase()
    )
}

/// Horizontal bar chart as inline SVG.
fn bars(title: &str, rows: &[(String, usize, &str)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let row_h = 22.0;
    let h = rows.len() as f64 * row_h + 8.0;
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg class='chart' width='520' height='{h}' viewBox='0 0 520 {h}' role='img' aria-label='{}'>",
        esc(title),
        esc(title)
    );
    for (i, (label, n, c)) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 4.0;
        let w = 230.0 * (*n as f64) / max;
        let _ = write!(
            svg,
            "<text x='0' y='{ty}' font-size='12'>{label}</text><rect x='250' y='{y}' width='{w:.1}' height='15' fill='{c}'/><text x='{tx:.1}' y='{ty}' font-size='12'>{n}</text>",
            ty = y + 12.0,
            label = esc(label),
            tx = 256.0 + w,
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

const STYLE: &str = r#"
:root { --fg:#1b1f24; --muted:#5b6470; --line:#d8dde3; --bg:#ffffff; --soft:#f4f6f8; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin-top: 32px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.muted { color: var(--muted); } code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: var(--soft); padding: 1px 4px; border-radius: 3px; white-space: pre-wrap; word-break: break-word; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; } th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
.counts td, .counts th { text-align: center; }
.sev { font-weight: 700; font-size: 12px; white-space: nowrap; } .shape { vertical-align: -1px; margin-right: 4px; }
.charts { display: flex; flex-wrap: wrap; gap: 24px; } figure { margin: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
.finding { border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 4px; padding: 8px 12px; margin: 10px 0; break-inside: avoid; page-break-inside: avoid; }
.finding.waived { opacity: .7; } .finding dl { display: grid; grid-template-columns: 150px 1fr; gap: 2px 12px; margin: 6px 0 0; }
.finding dt { font-weight: 600; color: var(--muted); } .finding dd { margin: 0; }
.tag { display: inline-block; background: var(--soft); border-radius: 3px; padding: 0 6px; margin: 0 4px 2px 0; font-size: 12px; }
.new { background: #fde2e2; color: #8a1c1c; } .toc { columns: 2; } .toc a { color: inherit; }
.score { font-weight: 700; }
@media print { body { max-width: none; padding: 0; font-size: 11pt; } h2 { page-break-after: avoid; } a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } .toc { columns: 1; } }
"#;

fn finding(out: &mut String, f: &FindingReport) {
    let rule = rules::by_id(&f.rule_id);
    let waived = if f.waived { " waived" } else { "" };
    let _ = write!(
        out,
        "<div class='finding{waived}' style='border-left-color:{}'>",
        color(f.severity)
    );
    let _ = write!(
        out,
        "<div>{} <strong>{}</strong> <span class='muted mono'>{}</span>",
        badge(f.severity),
        esc(&f.title),
        esc(&f.rule_id)
    );
    if let Some(b) = f.baseline {
        let label = format!("{b:?}").to_lowercase();
        let cls = if label == "new" { "tag new" } else { "tag" };
        let _ = write!(out, " <span class='{cls}'>{label}</span>");
    }
    out.push_str("</div><dl>");
    let _ = write!(
        out,
        "<dt>Evidence</dt><dd><code>{}</code></dd>",
        esc(&f.evidence)
    );
    if let Some(l) = &f.location {
        let _ = write!(
            out,
            "<dt>Where</dt><dd><code>{}</code> <span class='muted'>{}</span></dd>",
            esc(&l.short()),
            esc(&l.file)
        );
    }
    if let Some(w) = &f.waiver {
        let until = w
            .expires
            .as_ref()
            .map(|e| format!(" (until {})", esc(e)))
            .unwrap_or_default();
        let _ = write!(out, "<dt>Waived</dt><dd>{}{until}</dd>", esc(&w.reason));
    }
    if let Some(r) = rule {
        // Every heading but the fix's, whose text is the finding's own.
        for (heading, text) in crate::rules::explain::sections(r)
            .iter()
            .filter(|(h, _)| *h != crate::rules::explain::FIX)
        {
            let _ = write!(out, "<dt>{heading}</dt><dd>{}</dd>", esc(text));
        }
    }
    let _ = write!(
        out,
        "<dt>{}</dt><dd>{}",
        crate::rules::explain::FIX,
        esc(&f.remediation.summary)
    );
    if !f.remediation.docker_run.is_empty() {
        let _ = write!(
            out,
            "<br>docker run: <code>{}</code>",
            esc(&f.remediation.docker_run)
        );
    }
    if !f.remediation.compose.is_empty() {
        let _ = write!(
            out,
            "<br>compose: <code>{}</code>",
            esc(&f.remediation.compose)
        );
    }
    if !f.remediation.kubernetes.is_empty() {
        let _ = write!(
            out,
            "<br>Kubernetes:<pre><code>{}</code></pre>",
            esc(&f.remediation.kubernetes)
        );
    }
    out.push_str("</dd>");
    let seed = SeedRule::ALL
        .iter()
        .find(|s| s.number() == f.seed_rule)
        .map_or("", |s| s.title());
    let _ = write!(
        out,
        "<dt>Reference</dt><dd>CIS {} · seed rule {}: {}</dd>",
        f.cis.as_deref().map_or("—".into(), esc),
        f.seed_rule,
        esc(seed)
    );
    out.push_str("</dl></div>");
}

fn findings(out: &mut String, list: &[FindingReport]) {
    if list.is_empty() {
        out.push_str("<p class='muted'>No findings.</p>");
    }
    for f in list {
        finding(out, f);
    }
}

/// The eight rules and seven threats, as the window's Overview shows them.
fn overview(out: &mut String, r: &Report) {
    let o = crate::report::overview::of_report(r);
    let broken = o.rules.iter().filter(|c| c.breaking() > 0).count();
    let _ = write!(
        out,
        "<h2 id='overview'>The eight rules</h2><p>{broken} of 8 rules broken.</p>\
         <table><tr><th>Rule</th><th>Worst</th><th>Breaking it</th><th>Top offenders</th></tr>"
    );
    for card in &o.rules {
        let worst = card
            .worst()
            .map_or("<span class='muted'>none</span>".to_string(), badge);
        let mut who = Vec::new();
        if card.containers > 0 {
            who.push(format!("{} container(s)", card.containers));
        }
        if card.images > 0 {
            who.push(format!("{} image(s)", card.images));
        }
        if card.engines > 0 {
            who.push(format!("{} engine(s)", card.engines));
        }
        let top: Vec<String> = card.top.iter().map(|t| esc(&t.label())).collect();
        let _ = write!(
            out,
            "<tr><td><strong>{} · {}</strong><br><span class='muted'>{}</span></td><td>{worst}</td><td>{}</td><td>{}</td></tr>",
            card.seed.number(),
            esc(card.seed.title()),
            esc(card.seed.asks()),
            if who.is_empty() {
                "—".to_string()
            } else {
                who.join(", ")
            },
            if top.is_empty() {
                "—".to_string()
            } else {
                top.join(", ")
            },
        );
    }
    out.push_str("</table><h2 id='threats'>The seven threats</h2><table><tr><th>Threat</th><th>Findings</th><th>Containers</th><th>Fed by</th></tr>");
    for t in &o.threats {
        let fed: Vec<String> = t
            .rules
            .iter()
            .take(4)
            .map(|(id, n)| format!("<code>{}</code> ×{n}", esc(id)))
            .collect();
        let _ = write!(
            out,
            "<tr><td><strong>{}</strong><br><span class='muted'>{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(t.threat.title()),
            esc(t.threat.about()),
            esc(&t.counts.summary()),
            t.containers,
            fed.join(", "),
        );
    }
    out.push_str("</table>");
}

/// Renders the report as one self-contained HTML page.
pub fn render(r: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\
         <meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name='viewport' content='width=device-width, initial-scale=1'>\
         <title>shipshape report — {}</title><style>{STYLE}</style></head><body>",
        esc(&r.generated_at.format("%Y-%m-%d %H:%M UTC").to_string())
    );
    let s = &r.summary;
    let _ = write!(
        out,
        "<h1>shipshape security report</h1><p class='muted'>{} {} via {} ({}) · API {} · {} · generated {} by shipshape {}</p>",
        esc(&r.engine.product),
        esc(&r.engine.version),
        esc(&r.engine.found_by),
        esc(&r.engine.endpoint),
        esc(&r.engine.api_version),
        esc(&r.engine.os),
        esc(&r
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        esc(&r.tool.version)
    );
    overview(&mut out, r);
    out.push_str("<h2 id='summary'>Summary</h2>");
    let _ = write!(
        out,
        "<p>{} containers and {} images scanned. Policy: {}.</p>",
        s.containers,
        s.images,
        esc(&r.policy.source)
    );
    out.push_str("<table class='counts'><tr>");
    for sev in Severity::ALL {
        let _ = write!(out, "<th>{}</th>", badge(sev));
    }
    out.push_str("<th>waived</th></tr><tr>");
    for sev in Severity::ALL {
        let _ = write!(out, "<td>{}</td>", s.findings.get(sev));
    }
    let _ = write!(out, "<td>{}</td></tr></table>", s.waived);
    if let Some(b) = &r.baseline {
        let _ = write!(
            out,
            "<p>Compared with the report of {} ({}): <strong>{} new</strong>, {} unchanged, <strong>{} fixed</strong>.</p>",
            esc(&b
                .baseline_generated_at
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()),
            esc(&b.source),
            b.new,
            b.unchanged,
            b.fixed.len()
        );
    }
    let active: Vec<&FindingReport> = r.all_findings().filter(|f| !f.waived).collect();
    let by_sev: Vec<(String, usize, &str)> = Severity::ALL
        .iter()
        .map(|&sv| {
            (
                sv.as_str().to_string(),
                active.iter().filter(|f| f.severity == sv).count(),
                color(sv),
            )
        })
        .collect();
    let by_seed: Vec<(String, usize, &str)> = SeedRule::ALL
        .iter()
        .map(|sr| {
            (
                format!("{}. {}", sr.number(), sr.title()),
                active.iter().filter(|f| f.seed_rule == sr.number()).count(),
                "#4a6fa5",
            )
        })
        .collect();
    let _ = write!(
        out,
        "<div class='charts'>{}{}</div>",
        bars("Active findings by severity", &by_sev),
        bars("Active findings by seed rule", &by_seed)
    );
    let risky = r.riskiest(10);
    if !risky.is_empty() {
        out.push_str("<h3>Riskiest containers</h3><table><tr><th>Container</th><th>Image</th><th>State</th><th>Risk</th><th>Worst</th></tr>");
        for c in &risky {
            let idx = r
                .containers
                .iter()
                .position(|x| std::ptr::eq(x, *c))
                .unwrap_or(0);
            let _ = write!(
                out,
                "<tr><td><a href='#c{idx}'>{}</a></td><td class='mono'>{}</td><td>{}</td><td class='score'>{}</td><td>{}</td></tr>",
                esc(&c.name),
                esc(&c.image),
                esc(&c.state),
                c.risk_score,
                c.highest_severity.map_or_else(|| "—".to_string(), badge)
            );
        }
        out.push_str("</table>");
    }
    // Table of contents.
    out.push_str(
        "<h2 id='contents'>Contents</h2><ul class='toc'><li><a href='#overview'>The eight rules</a></li><li><a href='#threats'>The seven threats</a></li><li><a href='#engine'>Engine</a></li>",
    );
    if !r.policy_findings.is_empty() {
        out.push_str("<li><a href='#policy'>Policy</a></li>");
    }
    for (i, c) in r.containers.iter().enumerate() {
        let _ = write!(
            out,
            "<li><a href='#c{i}'>Container {}</a> <span class='muted'>({})</span></li>",
            esc(&c.name),
            c.risk_score
        );
    }
    for (i, img) in r.images.iter().enumerate() {
        let name = img.display_name();
        let _ = write!(out, "<li><a href='#i{i}'>Image {}</a></li>", esc(&name));
    }
    if r.baseline.as_ref().is_some_and(|b| !b.fixed.is_empty()) {
        out.push_str("<li><a href='#fixed'>Fixed since the baseline</a></li>");
    }
    out.push_str("</ul>");

    out.push_str("<h2 id='engine'>Engine</h2>");
    let _ = write!(
        out,
        "<p>Security options: {}. Rootless: {}. User namespaces: {}.</p>",
        if r.engine.security_options.is_empty() {
            "none".into()
        } else {
            r.engine
                .security_options
                .iter()
                .map(|o| format!("<code>{}</code>", esc(o)))
                .collect::<Vec<_>>()
                .join(" ")
        },
        if r.engine.rootless { "yes" } else { "no" },
        if r.engine.userns {
            "remapped"
        } else {
            "not remapped"
        }
    );
    let multi = r.engines.len() > 1;
    if multi {
        out.push_str("<table><tr><th>Engine</th><th>Address</th><th>Version</th><th>Containers</th><th>Findings</th></tr>");
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
            let _ = write!(
                out,
                "<tr><td>{}</td><td class='mono'>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.name),
                esc(&e.endpoint),
                esc(&version),
                e.summary.containers,
                esc(&e.summary.findings.summary())
            );
        }
        out.push_str("</table>");
        for e in r.engines.iter().filter(|e| !e.engine_findings.is_empty()) {
            let _ = write!(out, "<h3>Engine {}</h3>", esc(&e.name));
            findings(&mut out, &e.engine_findings);
        }
    } else {
        findings(&mut out, &r.engine_findings);
    }
    if !r.policy_findings.is_empty() {
        out.push_str("<h2 id='policy'>Policy</h2>");
        findings(&mut out, &r.policy_findings);
    }
    for (i, c) in r.containers.iter().enumerate() {
        let _ = write!(
            out,
            "<h2 id='c{i}'>Container {}{}</h2><p><span class='score'>Risk {}</span> · {} · image <code>{}</code> · <span class='mono muted'>{}</span></p>",
            esc(&c.name),
            if multi {
                format!(" on {}", esc(&c.engine))
            } else {
                String::new()
            },
            c.risk_score,
            esc(&c.state),
            esc(&c.image),
            esc(super::short_id(&c.id))
        );
        if !c.labels.is_empty() {
            out.push_str("<p>Labels: ");
            for (k, v) in &c.labels {
                let _ = write!(out, "<span class='tag mono'>{}={}</span>", esc(k), esc(v));
            }
            out.push_str("</p>");
        }
        findings(&mut out, &c.findings);
    }
    for (i, img) in r.images.iter().enumerate() {
        let name = img.display_name();
        let _ = write!(
            out,
            "<h2 id='i{i}'>Image {}{}</h2><p class='muted'>{} · tags: {} · used by: {}</p>",
            esc(&name),
            if multi {
                format!(" on {}", esc(&img.engine))
            } else {
                String::new()
            },
            esc(super::short_id(&img.id)),
            if img.tags.is_empty() {
                "none".into()
            } else {
                esc(&img.tags.join(", "))
            },
            if img.used_by.is_empty() {
                "no container".into()
            } else {
                esc(&img.used_by.join(", "))
            }
        );
        findings(&mut out, &img.findings);
    }
    if let Some(b) = &r.baseline
        && !b.fixed.is_empty()
    {
        out.push_str("<h2 id='fixed'>Fixed since the baseline</h2><table><tr><th>Subject</th><th>Check</th><th>Severity</th><th>Evidence</th></tr>");
        for f in &b.fixed {
            let _ = write!(
                out,
                "<tr><td>{} {}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                esc(&f.subject_type),
                esc(&f.subject),
                esc(&f.title),
                badge(f.severity),
                esc(&f.evidence)
            );
        }
        out.push_str("</table>");
    }
    if !r.warnings.is_empty() {
        out.push_str("<h2>Scan warnings</h2><ul>");
        for w in &r.warnings {
            let _ = write!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul>");
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc("\"><img src=x onerror=alert(1)>"),
            "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(esc("a'b&c"), "a&#39;b&amp;c");
    }

    #[test]
    fn self_contained_and_script_free() {
        let html = render(&crate::report::testing::demo_report());
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script"), "no scripts");
        assert!(
            !lower.contains("http://") || !lower.contains("src=\"http"),
            "no external resources"
        );
        for needle in ["src='http", "src=\"http", "href='http", "@import", "url("] {
            assert!(!lower.contains(needle), "external reference {needle}");
        }
        assert!(html.contains("Content-Security-Policy"));
        assert!(html.contains("<svg class='chart'"));
        assert!(html.contains("Why it matters") && html.contains("How an attacker uses it"));
    }
}
