//! Small reusable widgets: severity badge, risk bar, finding counts.

use egui::{Color32, Pos2, Rect, RichText, Sense, Stroke, Ui, Vec2, epaint};

use super::theme::{self, Shape};
use crate::model::{Severity, SeverityCounts};

/// Paint a severity shape centred in `rect`.
pub fn paint_shape(painter: &egui::Painter, rect: Rect, shape: Shape, color: Color32) {
    let c = rect.center();
    let r = rect.width().min(rect.height()) * 0.42;
    match shape {
        Shape::Circle => {
            painter.circle_filled(c, r, color);
        }
        Shape::Square => {
            painter.rect_filled(Rect::from_center_size(c, Vec2::splat(r * 1.6)), 1.0, color);
        }
        Shape::Diamond => {
            let pts = vec![
                Pos2::new(c.x, c.y - r * 1.15),
                Pos2::new(c.x + r * 1.15, c.y),
                Pos2::new(c.x, c.y + r * 1.15),
                Pos2::new(c.x - r * 1.15, c.y),
            ];
            painter.add(epaint::PathShape::convex_polygon(pts, color, Stroke::NONE));
        }
        Shape::TriangleUp => {
            let pts = vec![
                Pos2::new(c.x, c.y - r),
                Pos2::new(c.x + r * 1.1, c.y + r * 0.8),
                Pos2::new(c.x - r * 1.1, c.y + r * 0.8),
            ];
            painter.add(epaint::PathShape::convex_polygon(pts, color, Stroke::NONE));
        }
        Shape::TriangleDown => {
            let pts = vec![
                Pos2::new(c.x - r * 1.1, c.y - r * 0.8),
                Pos2::new(c.x + r * 1.1, c.y - r * 0.8),
                Pos2::new(c.x, c.y + r),
            ];
            painter.add(epaint::PathShape::convex_polygon(pts, color, Stroke::NONE));
        }
    }
}

/// Shape + label, e.g. "◆ CRITICAL".
pub fn severity_badge(ui: &mut Ui, s: Severity) -> egui::Response {
    let dark = ui.visuals().dark_mode;
    let color = theme::severity_color(s, dark);
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
        paint_shape(ui.painter(), rect, theme::severity_shape(s), color);
        ui.label(
            RichText::new(theme::severity_label(s))
                .color(color)
                .strong()
                .small(),
        )
    })
    .inner
}

/// A Pod Security Standards level, coloured like the severity it stands
/// for (privileged as high, baseline as low, restricted as clean).
pub fn pss_badge(ui: &mut Ui, level: crate::model::kube::PssLevel) -> egui::Response {
    use crate::model::kube::PssLevel;
    let dark = ui.visuals().dark_mode;
    let color = match level {
        PssLevel::Privileged => theme::severity_color(Severity::High, dark),
        PssLevel::Baseline => theme::severity_color(Severity::Low, dark),
        PssLevel::Restricted => theme::OK_GREEN,
    };
    ui.label(RichText::new(level.as_str()).color(color).strong().small())
}

/// Just the shape, with the label as tooltip (dense places).
pub fn severity_icon(ui: &mut Ui, s: Severity) -> egui::Response {
    let color = theme::severity_color(s, ui.visuals().dark_mode);
    let (rect, resp) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
    paint_shape(ui.painter(), rect, theme::severity_shape(s), color);
    resp.on_hover_text(theme::severity_label(s))
}

/// A horizontal bar filled to `score`%, with the number.
pub fn risk_bar(ui: &mut Ui, score: u8) -> egui::Response {
    let dark = ui.visuals().dark_mode;
    let w = 56.0;
    let h = ui.spacing().interact_size.y * 0.55;
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 6.0;
        let (rect, resp) = ui.allocate_exact_size(Vec2::new(w, h), Sense::hover());
        let bg = ui.visuals().faint_bg_color.gamma_multiply(2.0);
        ui.painter().rect_filled(rect, 2.0, bg);
        let mut fill = rect;
        fill.set_width(w * f32::from(score) / 100.0);
        ui.painter()
            .rect_filled(fill, 2.0, theme::score_color(score, dark));
        ui.label(RichText::new(format!("{score:>3}")).monospace());
        resp
    })
    .inner
}

/// "2 ◆ 1 ▲ 3 ●" — active findings by severity, zeros left out.
pub fn counts(ui: &mut Ui, counts: &SeverityCounts) {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 3.0;
        for (s, n) in counts.iter() {
            if n > 0 && s != Severity::Info {
                ui.label(RichText::new(n.to_string()).small());
                severity_icon(ui, s);
                ui.add_space(3.0);
            }
        }
    });
}

pub use crate::model::text::bytes;

/// A duration for people (`3 d 4 h`, `12 min`).
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Short lifetimes need sub-second precision: `1.2s`, `45s`, `3m 5s`.
pub fn duration_precise(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds().max(0);
    match ms {
        0..=9_999 => format!("{:.1}s", ms as f64 / 1000.0),
        10_000..=599_999 => {
            let s = ms / 1000;
            if s < 60 {
                format!("{s}s")
            } else {
                format!("{}m {}s", s / 60, s % 60)
            }
        }
        _ => duration(ms / 1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precise_durations() {
        assert_eq!(
            duration_precise(chrono::Duration::milliseconds(1234)),
            "1.2s"
        );
        assert_eq!(duration_precise(chrono::Duration::seconds(45)), "45s");
        assert_eq!(duration_precise(chrono::Duration::seconds(185)), "3m 5s");
        assert_eq!(duration_precise(chrono::Duration::seconds(7200)), "2h 0m");
    }

    #[test]
    fn formatting() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(64.0 * 1024.0 * 1024.0), "64.0 MiB");
        assert_eq!(duration(59), "59s");
        assert_eq!(duration(3 * 3600 + 120), "3h 2m");
        assert_eq!(duration(2 * 86_400 + 3600), "2d 1h");
    }
}
