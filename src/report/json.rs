//! The JSON report: the [`Report`] model, pretty-printed, with a trailing
//! newline. Field order is the struct order; list order is deterministic.

use super::Report;

/// Renders the report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    let s = serde_json::to_string_pretty(report).expect("the report model always serialises");
    // Safe to `cat`: hidden characters as \u escapes, same data.
    let mut s = crate::model::json_safe(s);
    s.push('\n');
    s
}

/// Reads a JSON report back (for a baseline).
pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}
