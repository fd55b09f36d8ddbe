//! CSV: one row per finding, a stable column order, RFC 4180 quoting (CRLF
//! line ends, fields quoted when needed). Cells that a spreadsheet would
//! read as a formula (starting with `=`, `+`, `-`, `@`, tab or CR, also
//! after leading whitespace, which some programs trim) get a leading `'`,
//! so engine-provided text can never run as a formula. Control, bidi and
//! invisible characters are shown as escapes. A container's labels are
//! capped per row (whoever builds an image chooses how many labels it has,
//! and every finding row repeats them): the CSV stays linear in its input.

use super::{Report, Subject};

/// The CSV header: one row per finding.
pub const COLUMNS: [&str; 21] = [
    "engine",
    "subject_type",
    "subject",
    "subject_id",
    "image",
    "state",
    "labels",
    "rule_id",
    "title",
    "severity",
    "cis",
    "seed_rule",
    "evidence",
    "waived",
    "waiver_reason",
    "baseline",
    "remediation",
    "docker_run",
    "compose",
    "kubernetes",
    "location",
];

/// Neutralise spreadsheet formulas (OWASP CSV injection guidance) and show
/// hidden characters.
pub fn cell(s: &str) -> String {
    let s = crate::model::visible_multiline(s);
    let first = s.chars().find(|c| !matches!(c, ' ' | '\n' | '\u{a0}'));
    match (s.chars().next(), first) {
        (Some('\t' | '\r'), _) | (_, Some('=' | '+' | '-' | '@' | '\t' | '\r')) => format!("'{s}"),
        _ => s.into_owned(),
    }
}

/// At most this much of a container's labels goes into each row; the JSON
/// report has them all.
pub const LABELS_CELL_MAX: usize = 1024;

/// `k=v; k=v; …`, whole labels only, cut at [`LABELS_CELL_MAX`] with a
/// marker that says how many were left out.
fn labels_cell(labels: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        let item = format!("{k}={v}");
        let sep = if out.is_empty() { 0 } else { 2 };
        if out.len() + sep + item.len() > LABELS_CELL_MAX {
            let left = labels.len() - i;
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(&format!("… {left} more label(s), see the JSON report"));
            return out;
        }
        if sep > 0 {
            out.push_str("; ");
        }
        out.push_str(&item);
    }
    out
}

/// Renders the report as CSV (RFC 4180, formulas defused).
pub fn render(report: &Report) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    for (subject, f) in report.subjects() {
        let (image, state, labels) = match subject {
            Subject::Container(c) => (c.image.clone(), c.state.clone(), labels_cell(&c.labels)),
            _ => (String::new(), String::new(), String::new()),
        };
        let record = [
            subject.engine().to_string(),
            subject.kind().to_string(),
            subject.name(),
            subject.id().to_string(),
            image,
            state,
            labels,
            f.rule_id.clone(),
            f.title.clone(),
            f.severity.to_string(),
            f.cis.clone().unwrap_or_default(),
            f.seed_rule.to_string(),
            f.evidence.clone(),
            f.waived.to_string(),
            f.waiver
                .as_ref()
                .map(|w| w.reason.clone())
                .unwrap_or_default(),
            f.baseline
                .map(|b| format!("{b:?}").to_lowercase())
                .unwrap_or_default(),
            f.remediation.summary.clone(),
            f.remediation.docker_run.clone(),
            f.remediation.compose.clone(),
            f.remediation.kubernetes.clone(),
            f.location
                .as_ref()
                .map(|l| format!("{}:{}", l.file, l.line))
                .unwrap_or_default(),
        ];
        w.write_record(record.iter().map(|s| cell(s)))
            .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("flushing memory")).expect("UTF-8 in, UTF-8 out")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(
            cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("web"), "web");
        // Issue 17: some spreadsheet programs trim before evaluating.
        assert_eq!(cell("  =1+1"), "'  =1+1");
        assert_eq!(cell("\n@SUM(A1)"), "'\n@SUM(A1)");
        assert_eq!(cell(" \u{a0}-2"), "' \u{a0}-2");
        assert_eq!(cell("a = b"), "a = b");
    }

    #[test]
    fn hidden_characters_are_shown() {
        assert_eq!(cell("web\u{1b}[2J\u{202e}"), "web\\u{1b}[2J\\u{202e}");
        assert_eq!(cell("two\nlines"), "two\nlines");
    }

    #[test]
    fn labels_are_capped_with_a_marker() {
        let labels: std::collections::BTreeMap<String, String> = (0..500)
            .map(|i| (format!("label.{i:04}"), "x".repeat(20)))
            .collect();
        let cell = labels_cell(&labels);
        assert!(cell.len() <= LABELS_CELL_MAX + 60, "{}", cell.len());
        assert!(
            cell.ends_with("more label(s), see the JSON report"),
            "{cell}"
        );
        let shown = cell.matches("=x").count();
        assert!(cell.contains(&format!("… {} more", 500 - shown)), "{cell}");
        let few: std::collections::BTreeMap<String, String> =
            [("a".to_string(), "1".to_string()), ("b".into(), "2".into())].into();
        assert_eq!(labels_cell(&few), "a=1; b=2");
    }

    #[test]
    fn rfc4180_quoting_and_stable_columns() {
        let mut r = crate::report::testing::demo_report();
        r.containers[0].findings[0].evidence = "a \"quoted\", comma\nnewline".into();
        let text = render(&r);
        let mut rd = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        assert_eq!(rd.headers().unwrap().iter().collect::<Vec<_>>(), COLUMNS);
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), r.all_findings().count());
        assert!(
            rows.iter()
                .any(|row| &row[12] == "a \"quoted\", comma\nnewline")
        );
        assert!(text.contains("\"a \"\"quoted\"\", comma\nnewline\""));
        assert!(text.ends_with("\r\n"));
    }
}
