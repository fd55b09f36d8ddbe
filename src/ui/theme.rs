//! Colours and shapes. Severity is never colour alone: each level also has
//! its own shape and a text label, so it reads for colour-blind people and
//! in grayscale print.

use egui::Color32;

use crate::model::Severity;

/// Palette chosen to stay distinct under common colour-vision deficiencies
/// (based on the Okabe–Ito set), tuned for dark and light backgrounds.
pub fn severity_color(s: Severity, dark: bool) -> Color32 {
    match (s, dark) {
        (Severity::Critical, true) => Color32::from_rgb(0xE6, 0x4B, 0x8C),
        (Severity::Critical, false) => Color32::from_rgb(0xB0, 0x1E, 0x5A),
        (Severity::High, true) => Color32::from_rgb(0xE6, 0x9F, 0x00),
        (Severity::High, false) => Color32::from_rgb(0xB3, 0x62, 0x00),
        (Severity::Medium, true) => Color32::from_rgb(0xF0, 0xE4, 0x42),
        (Severity::Medium, false) => Color32::from_rgb(0x8A, 0x7A, 0x00),
        (Severity::Low, true) => Color32::from_rgb(0x56, 0xB4, 0xE9),
        (Severity::Low, false) => Color32::from_rgb(0x00, 0x6B, 0xA8),
        (Severity::Info, true) => Color32::from_gray(0xA0),
        (Severity::Info, false) => Color32::from_gray(0x70),
    }
}

/// The mark beside a severity, so it is told apart without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Critical.
    Diamond,
    /// High.
    TriangleUp,
    /// Medium.
    Circle,
    /// Low.
    TriangleDown,
    /// Info.
    Square,
}

/// The mark of a severity.
pub fn severity_shape(s: Severity) -> Shape {
    match s {
        Severity::Critical => Shape::Diamond,
        Severity::High => Shape::TriangleUp,
        Severity::Medium => Shape::Circle,
        Severity::Low => Shape::TriangleDown,
        Severity::Info => Shape::Square,
    }
}

/// The label of a severity, as shown.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
    }
}

/// Risk score colour: the colour of the severity band the score falls in.
pub fn score_color(score: u8, dark: bool) -> Color32 {
    let s = match score {
        60.. => Severity::Critical,
        30..=59 => Severity::High,
        12..=29 => Severity::Medium,
        1..=11 => Severity::Low,
        0 => Severity::Info,
    };
    severity_color(s, dark)
}

/// Connected, clean.
pub const OK_GREEN: Color32 = Color32::from_rgb(0x00, 0x9E, 0x73);
/// The demo lab.
pub const DEMO_PURPLE: Color32 = Color32::from_rgb(0x8E, 0x44, 0xAD);
/// An engine down.
pub const DOWN_RED: Color32 = Color32::from_rgb(0xC0, 0x39, 0x2B);
/// Data from before the engine went away.
pub const STALE_AMBER: Color32 = Color32::from_rgb(0xB9, 0x77, 0x0E);
/// A removed container.
pub const GONE_GREY: Color32 = Color32::from_gray(0x8C);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_severity_has_its_own_shape_label_and_colour() {
        let mut shapes = std::collections::HashSet::new();
        for dark in [true, false] {
            let mut colors = std::collections::HashSet::new();
            for s in Severity::ALL {
                colors.insert(severity_color(s, dark));
                if dark {
                    assert!(shapes.insert(format!("{:?}", severity_shape(s))));
                }
                assert!(!severity_label(s).is_empty());
            }
            assert_eq!(colors.len(), 5);
        }
    }
}
