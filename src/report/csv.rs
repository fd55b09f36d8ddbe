//! CSV: one row per finding, a stable column order, RFC 4180 quoting (CRLF
//! line ends, fields quoted when needed). Cells that a spreadsheet would
//! read as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) get a
//! leading `'`, so engine-provided text can never run as a formula.

use super::{Report, Subject};

pub const COLUMNS: [&str; 18] = [
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
];

/// Neutralise spreadsheet formulas (OWASP CSV injection guidance).
pub fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub fn render(report: &Report) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS).expect("writing to memory");
    for (subject, f) in report.subjects() {
        let (image, state, labels) = match subject {
            Subject::Container(c) => (
                c.image.clone(),
                c.state.clone(),
                c.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => (String::new(), String::new(), String::new()),
        };
        let record = [
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
                .any(|row| &row[11] == "a \"quoted\", comma\nnewline")
        );
        assert!(text.contains("\"a \"\"quoted\"\", comma\nnewline\""));
        assert!(text.ends_with("\r\n"));
    }
}
