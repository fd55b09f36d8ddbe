//! The JSON report: the [`Report`] model, pretty-printed, with a trailing
//! newline. Field order is the struct order; list order is deterministic.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report model always serialises");
    s.push('\n');
    s
}

pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}
