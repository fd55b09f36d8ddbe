//! Live charts for a container (CPU, memory vs limit, network, block I/O,
//! PIDs) and the host. Lines break at gaps; Pause freezes the view while
//! data keeps arriving.

use egui::{Color32, RichText, Ui};
use egui_plot::{Line, Plot};

use super::widgets;
use crate::model::stats::{HostPoint, Ring, StatsPoint, Timed};
use crate::model::{Container, ContainerState};
use crate::ui::state::{RowKey, State};

const BLUE: Color32 = Color32::from_rgb(0x56, 0xB4, 0xE9);
const ORANGE: Color32 = Color32::from_rgb(0xE6, 0x9F, 0x00);
const GREEN: Color32 = Color32::from_rgb(0x00, 0x9E, 0x73);

fn now_secs() -> f64 {
    chrono::Utc::now().timestamp_micros() as f64 / 1e6
}

fn pause_controls(ui: &mut Ui, state: &mut State) {
    ui.horizontal(|ui| {
        match state.charts.paused_at {
            None => {
                if ui
                    .button("Pause")
                    .on_hover_text("Freeze the charts; data keeps being collected")
                    .clicked()
                {
                    state.charts.paused_at = Some(now_secs());
                }
            }
            Some(t) => {
                if ui.button("▶ Resume").clicked() {
                    state.charts.paused_at = None;
                }
                let ago = (now_secs() - t) as i64;
                ui.label(RichText::new(format!("paused {} ago", widgets::duration(ago))).weak());
            }
        }
        ui.label(RichText::new(format!("history: {} min", state.settings.history_minutes)).weak());
    });
}

/// One line of a chart: label, colour, and the value to draw.
struct Series<'a, T>(&'static str, Color32, &'a dyn Fn(&T) -> f64);

/// The visible time range: `span` seconds up to `until`.
#[derive(Clone, Copy)]
struct Window {
    until: f64,
    span: f64,
}

/// One metric as a chart of `series`, x in seconds relative to the right edge.
fn chart<T: Copy + Timed>(
    ui: &mut Ui,
    id: &str,
    title: &str,
    ring: &Ring<T>,
    win: Window,
    series: &[Series<T>],
    fmt: fn(f64) -> String,
) {
    let Window {
        until,
        span: window,
    } = win;
    let latest: Vec<String> = series
        .iter()
        .map(|Series(name, _, v)| {
            ring.points()
                .filter(|p| p.t() <= until)
                .last()
                .map_or("—".into(), |p| format!("{name} {}", fmt(v(p))))
        })
        .collect();
    ui.label(RichText::new(format!("{title}   {}", latest.join("  "))).strong());
    Plot::new(id)
        .height(110.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        .show_axes([true, true])
        .include_x(-window)
        .include_x(0.0)
        .include_y(0.0)
        .x_grid_spacer(egui_plot::uniform_grid_spacer(time_steps))
        .x_axis_formatter(|m, _| {
            if m.value.abs() < 0.5 {
                "now".into()
            } else {
                format!("-{}", widgets::duration((-m.value) as i64))
            }
        })
        .y_axis_formatter(move |m, _| fmt(m.value))
        .show(ui, |plot| {
            for Series(name, color, value) in series {
                for (i, seg) in ring.segments(until, |p| value(p)).into_iter().enumerate() {
                    let pts: Vec<[f64; 2]> = seg
                        .into_iter()
                        .map(|[t, v]| [t - until, v])
                        .filter(|[x, _]| *x >= -window)
                        .collect();
                    plot.line(
                        Line::new(*name, pts)
                            .color(*color)
                            .width(1.5)
                            .id((id, name, i)),
                    );
                }
            }
        });
}

/// Grid steps in seconds (major, medium, minor) so that about four labelled
/// marks span the visible window: 10 s … 1 h.
fn time_steps(input: egui_plot::GridInput) -> [f64; 3] {
    const NICE: [f64; 10] = [
        10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0,
    ];
    let span = (input.bounds.1 - input.bounds.0).abs().max(1.0);
    let major = NICE
        .iter()
        .copied()
        .find(|s| span / s <= 5.0)
        .unwrap_or(7200.0);
    [major, major / 5.0, major / 10.0]
}

fn pct(v: f64) -> String {
    format!("{v:.0}%")
}

fn bytes(v: f64) -> String {
    widgets::bytes(v)
}

fn rate(v: f64) -> String {
    format!("{}/s", widgets::bytes(v))
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

/// Draws a container's charts.
pub fn container(ui: &mut Ui, state: &mut State, key: &RowKey, c: &Container) {
    pause_controls(ui, state);
    let win = Window {
        until: state.charts.paused_at.unwrap_or_else(now_secs),
        span: f64::from(state.settings.history_minutes) * 60.0,
    };
    let Some(ring) = state.charts.stats.get(key) else {
        let why = match c.state {
            ContainerState::Running => "Waiting for the first statistics (about two seconds)…",
            _ => "No statistics: the container is not running.",
        };
        ui.label(RichText::new(why).weak());
        host(ui, state, win);
        return;
    };
    if c.state != ContainerState::Running {
        ui.label(
            RichText::new(format!(
                "The container is {}: the charts show its history up to when it stopped.",
                c.state.as_str()
            ))
            .weak(),
        );
    }
    let id = c.id.as_str();
    let cpu = |p: &StatsPoint| f64::from(p.cpu_pct);
    let mem = |p: &StatsPoint| f64::from(p.mem_bytes);
    let limit = |p: &StatsPoint| f64::from(p.mem_limit);
    chart(
        ui,
        &format!("{id}-cpu"),
        "CPU",
        ring,
        win,
        &[Series("cpu", BLUE, &cpu)],
        pct,
    );
    if ring.latest().is_some_and(|p| p.mem_limit > 0.0) {
        chart(
            ui,
            &format!("{id}-mem"),
            "Memory",
            ring,
            win,
            &[Series("used", GREEN, &mem), Series("limit", ORANGE, &limit)],
            bytes,
        );
    } else {
        chart(
            ui,
            &format!("{id}-mem"),
            "Memory (no limit)",
            ring,
            win,
            &[Series("used", GREEN, &mem)],
            bytes,
        );
    }
    let rx = |p: &StatsPoint| f64::from(p.net_rx_bps);
    let tx = |p: &StatsPoint| f64::from(p.net_tx_bps);
    chart(
        ui,
        &format!("{id}-net"),
        "Network",
        ring,
        win,
        &[Series("rx", BLUE, &rx), Series("tx", ORANGE, &tx)],
        rate,
    );
    let read = |p: &StatsPoint| f64::from(p.blk_read_bps);
    let write = |p: &StatsPoint| f64::from(p.blk_write_bps);
    chart(
        ui,
        &format!("{id}-blk"),
        "Block I/O",
        ring,
        win,
        &[Series("read", BLUE, &read), Series("write", ORANGE, &write)],
        rate,
    );
    let pids = |p: &StatsPoint| f64::from(p.pids);
    chart(
        ui,
        &format!("{id}-pids"),
        "PIDs",
        ring,
        win,
        &[Series("pids", GREEN, &pids)],
        count,
    );
    host(ui, state, win);
}

fn host(ui: &mut Ui, state: &State, win: Window) {
    ui.add_space(8.0);
    ui.separator();
    if state.charts.host.is_empty() {
        ui.label(RichText::new("Host load: waiting for sysinfo…").weak());
        return;
    }
    let cpu = |p: &HostPoint| f64::from(p.cpu_pct);
    let used = |p: &HostPoint| f64::from(p.mem_used);
    let total = |p: &HostPoint| f64::from(p.mem_total);
    chart(
        ui,
        "host-cpu",
        "Host CPU",
        &state.charts.host,
        win,
        &[Series("cpu", BLUE, &cpu)],
        pct,
    );
    chart(
        ui,
        "host-mem",
        "Host memory",
        &state.charts.host,
        win,
        &[
            Series("used", GREEN, &used),
            Series("total", ORANGE, &total),
        ],
        bytes,
    );
}
