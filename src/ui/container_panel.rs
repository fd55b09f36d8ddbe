//! The selected container: its findings (evidence, why, attack, fix) grouped
//! by severity, the raw facts behind them, and live charts.

use crate::model::{visible, visible_multiline};
use egui::{RichText, Ui};

use super::{activity, charts, theme, widgets};
use crate::model::compose::{ComposeFile, FileLocation, ServiceLines};
use crate::model::{Container, Finding, Image, MountKind, Severity};
use crate::rules;
use crate::ui::state::{DetailTab, State};

/// Draws the selected container's panel.
pub fn show(ui: &mut Ui, state: &mut State) -> Option<super::Action> {
    let mut action = None;
    let (Some(key), Some(c)) = (
        state.inventory.selected.clone(),
        state.selected_container().cloned(),
    ) else {
        return None;
    };
    // Its own engine's snapshot (several engines may be watched).
    let snapshot = state.snapshot_of(&key).cloned()?;
    let stale = state.engines.get(key.engine).is_some_and(|e| e.stale);
    let assessment = snapshot
        .assessment
        .container(&c.id)
        .cloned()
        .unwrap_or_default();
    let image = snapshot.inventory.image_by_id(&c.image_id).cloned();

    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.heading(RichText::new(visible(&c.name)).strong());
        if ui.small_button("×").on_hover_text("Close (Esc)").clicked() {
            state.inventory.selected = None;
        }
    });
    ui.horizontal(|ui| {
        ui.label(RichText::new(c.state_label()).strong());
        // A workload row's id is shipshape's own; the workload line below names it.
        let shown = if c.kube.is_some() {
            format!("· {}", c.image)
        } else {
            format!("· {} · {}", c.short_id(), c.image)
        };
        ui.label(RichText::new(visible(&shown)).weak());
        if state.is_fleet() {
            ui.label(
                RichText::new(visible(&format!(
                    "· on {}",
                    snapshot.inventory.engine.label
                )))
                .weak(),
            );
        }
    });
    if let Some(g) = c.gone {
        ui.horizontal(|ui| {
            let lived = c
                .lifetime()
                .map(|d| format!(", lived {}", widgets::duration_precise(d)))
                .unwrap_or_default();
            ui.label(
                RichText::new(format!(
                    "Removed at {}{lived}. Its findings are kept for the record.",
                    g.at.with_timezone(&chrono::Local).format("%H:%M:%S")
                ))
                .color(theme::GONE_GREY),
            );
            if ui
                .small_button("Dismiss")
                .on_hover_text("Stop showing this removed container")
                .clicked()
            {
                state.pending_dismiss = Some(vec![c.id.clone()]);
            }
        });
    }
    ui.horizontal(|ui| {
        ui.label("Risk score");
        widgets::risk_bar(ui, assessment.score);
        if let Some(s) = assessment.highest() {
            widgets::severity_badge(ui, s);
        }
    });
    if let Some(w) = &c.kube {
        workload(ui, w, snapshot.inventory.cluster.as_ref());
    }
    if stale {
        ui.label(
            RichText::new("Stale: the engine is unreachable; this is the last known state.")
                .color(theme::STALE_AMBER),
        );
    }
    ui.separator();
    ui.horizontal(|ui| {
        let n = assessment.findings.len();
        for (tab, label) in [
            (DetailTab::Risk, format!("Risk ({n})")),
            (DetailTab::Facts, "Facts".into()),
            (DetailTab::Harden, "Harden".into()),
            (DetailTab::Charts, "Charts".into()),
            (
                DetailTab::Activity,
                match state.activity_of(&key).count() + c.execs.len() {
                    0 => "Activity".into(),
                    n => format!("Activity ({n})"),
                },
            ),
        ] {
            if ui
                .selectable_label(state.detail_tab == tab, label)
                .clicked()
            {
                state.detail_tab = tab;
            }
        }
    });
    ui.separator();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| match state.detail_tab {
            DetailTab::Risk => {
                let new: Vec<bool> = assessment
                    .findings
                    .iter()
                    .map(|f| state.is_new(&key, f.rule_id, &f.evidence))
                    .collect();
                if let Some(f) = &assessment.from_image {
                    ui.add_space(4.0);
                    ui.horizontal_wrapped(|ui| {
                        ui.label(RichText::new("From its image").strong());
                        ui.label(
                            RichText::new(
                                "(counted in the risk score; the image's full list is in the Images view)",
                            )
                            .weak(),
                        );
                    });
                    finding(ui, f, 0, false, None);
                    ui.separator();
                }
                let compose = c.compose_file.as_deref();
                match compose {
                    Some(ComposeFile::NotRead(why)) => {
                        ui.label(
                            RichText::new(format!(
                                "Its compose file was not read, so findings are not located in it: {}",
                                visible(why)
                            ))
                            .weak(),
                        );
                    }
                    Some(ComposeFile::Read {
                        changed: Some(note),
                        ..
                    }) => {
                        ui.label(RichText::new(visible(note)).color(theme::STALE_AMBER));
                    }
                    _ => {}
                }
                findings_in(ui, &assessment.findings, &new, compose.and_then(ComposeFile::lines));
            }
            DetailTab::Facts => facts(ui, &c, image.as_ref(), &assessment.findings),
            DetailTab::Charts => charts::container(ui, state, &key, &c),
            DetailTab::Activity => activity::container(ui, state, &key, &c),
            DetailTab::Harden => {
                if let Some(a) = harden_tab(ui, state, &key, &snapshot, &c) {
                    action = Some(a);
                }
            }
        });
    action
}

/// Findings grouped by severity, worst first. Also used by the image and
/// engine views.
pub fn findings(ui: &mut Ui, list: &[Finding]) {
    findings_marked(ui, list, &vec![false; list.len()]);
}

/// Same, with findings that are new since the baseline marked.
pub fn findings_marked(ui: &mut Ui, list: &[Finding], new: &[bool]) {
    findings_in(ui, list, new, None);
}

/// Same, each finding with the compose file line that causes it, when the
/// container's compose file was read.
fn findings_in(ui: &mut Ui, list: &[Finding], new: &[bool], lines: Option<&ServiceLines>) {
    if list.is_empty() {
        ui.label(RichText::new("No findings. Every check passed.").color(theme::OK_GREEN));
        return;
    }
    for sev in Severity::ALL {
        let group: Vec<(&Finding, bool)> = list
            .iter()
            .zip(new.iter().copied().chain(std::iter::repeat(false)))
            .filter(|(f, _)| f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            widgets::severity_badge(ui, sev);
            ui.label(RichText::new(format!("{}", group.len())).weak());
        });
        for (i, (f, is_new)) in group.into_iter().enumerate() {
            finding(ui, f, i, is_new, lines.and_then(|l| l.locate(f.rule_id)));
        }
    }
}

fn finding(ui: &mut Ui, f: &Finding, i: usize, is_new: bool, at: Option<FileLocation>) {
    let Some(rule) = rules::by_id(f.rule_id) else {
        ui.label(visible(&format!("{}: {}", f.rule_id, f.evidence)));
        return;
    };
    let mut title = if f.is_waived() {
        format!("{} (waived)", rule.title)
    } else {
        rule.title.to_string()
    };
    if is_new {
        title = format!("NEW · {title}");
    }
    let text = if f.is_waived() {
        RichText::new(title).weak()
    } else {
        RichText::new(title).strong()
    };
    egui::CollapsingHeader::new(text)
        .id_salt((f.rule_id, i, &f.evidence))
        .default_open(f.severity >= Severity::High && !f.is_waived())
        .show(ui, |ui| {
            ui.label(RichText::new(visible(&f.evidence)).monospace());
            if let Some(at) = &at {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new("In").weak());
                    ui.label(
                        RichText::new(visible(&format!("{}:{}", at.file, at.line))).monospace(),
                    )
                    .on_hover_text("The compose file and line to change");
                });
            }
            if let Some(w) = &f.waiver {
                ui.label(
                    RichText::new(format!(
                        "Waived: {}{}",
                        w.reason,
                        w.expires
                            .as_ref()
                            .map(|e| format!(" (until {e})"))
                            .unwrap_or_default()
                    ))
                    .color(theme::STALE_AMBER),
                );
            }
            use crate::rules::explain;
            for (heading, text) in explain::sections(rule) {
                section(ui, heading, text);
            }
            for fix in explain::fixes(rule, explain::FixFor::of(&f.subject)) {
                code(ui, fix.label, fix.code);
            }
            ui.label(
                RichText::new(format!(
                    "{} · CIS {} · seed rule {}: {}",
                    rule.id,
                    rule.cis.unwrap_or("—"),
                    rule.seed.number(),
                    rule.seed.title()
                ))
                .small()
                .weak(),
            );
        });
}

/// A Kubernetes workload container: what it is, how many pods, and its Pod
/// Security Standards level with what keeps it from the next one.
fn workload(
    ui: &mut Ui,
    w: &crate::model::kube::Workload,
    cluster: Option<&crate::model::kube::Cluster>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(
            RichText::new(format!(
                "{} {}",
                w.kind.as_str(),
                visible(&w.workload_name())
            ))
            .strong(),
        );
        ui.label(
            RichText::new(visible(&format!(
                "· {} {} · {} ({} running){}",
                w.role.as_str(),
                w.container,
                w.pods_phrase(),
                w.running,
                if w.revisions > 1 {
                    format!(" · {} revisions: the newest is judged", w.revisions)
                } else {
                    String::new()
                }
            )))
            .weak(),
        );
    });
    ui.horizontal_wrapped(|ui| {
        ui.label("Pod Security");
        widgets::pss_badge(ui, w.pss.level);
        if let Some(ns) = cluster.and_then(|c| c.namespace(&w.namespace)) {
            ui.label(
                RichText::new(visible(&format!(
                    "· namespace {}: {}",
                    ns.name,
                    ns.describe()
                )))
                .weak(),
            );
        }
    });
    if let Some(next) = w.pss.level.next()
        && !w.pss.blockers.is_empty()
    {
        egui::CollapsingHeader::new(format!(
            "Kept from {} by {} check{}",
            next.as_str(),
            w.pss.blockers.len(),
            if w.pss.blockers.len() == 1 { "" } else { "s" }
        ))
        .id_salt(("pss", &w.namespace, &w.name, &w.container))
        .show(ui, |ui| {
            for b in &w.pss.blockers {
                ui.label(visible(&format!("• {b}")));
            }
        });
    }
}

fn section(ui: &mut Ui, title: &str, body: &str) {
    ui.add_space(2.0);
    ui.label(RichText::new(title).strong().small());
    ui.label(body);
}

fn code(ui: &mut Ui, label: &str, body: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(format!("{label}:")).small());
        egui::Frame::new()
            .fill(ui.visuals().extreme_bg_color)
            .corner_radius(3.0)
            .inner_margin(egui::Margin::symmetric(4, 2))
            .show(ui, |ui| {
                ui.label(RichText::new(body).monospace());
            });
    });
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn or_default<'a>(s: &'a str, d: &'a str) -> &'a str {
    if s.is_empty() { d } else { s }
}

/// The raw facts behind the findings.
fn facts(ui: &mut Ui, c: &Container, image: Option<&Image>, list: &[Finding]) {
    let flagged = |needle: &str| {
        list.iter()
            .any(|f| f.rule_id.contains("mount") && f.evidence.contains(needle))
    };
    egui::Grid::new("facts")
        .num_columns(2)
        .striped(true)
        .spacing([12.0, 4.0])
        .show(ui, |ui| {
            let row = |ui: &mut Ui, k: &str, v: String| {
                ui.label(RichText::new(k).strong());
                ui.label(visible_multiline(&v));
                ui.end_row();
            };
            row(ui, "User", or_default(&c.user, "(unset: root)").to_string());
            row(ui, "Privileged", yes_no(c.privileged).into());
            row(
                ui,
                "Capabilities added",
                if c.cap_add.is_empty() {
                    "none".into()
                } else {
                    c.cap_add.join(", ")
                },
            );
            row(
                ui,
                "Capabilities dropped",
                if c.cap_drop.is_empty() {
                    "none".into()
                } else {
                    c.cap_drop.join(", ")
                },
            );
            row(
                ui,
                "Namespaces",
                format!(
                    "network {} · pid {} · ipc {} · uts {} · userns {}",
                    or_default(&c.network_mode, "default"),
                    or_default(&c.pid_mode, "private"),
                    or_default(&c.ipc_mode, "private"),
                    or_default(&c.uts_mode, "private"),
                    or_default(&c.userns_mode, "default")
                ),
            );
            row(
                ui,
                "Security options",
                if c.security_opt.is_empty() {
                    "none".into()
                } else {
                    c.security_opt.join(", ")
                },
            );
            row(
                ui,
                "AppArmor profile",
                or_default(&c.apparmor_profile, "(none)").into(),
            );
            row(
                ui,
                "Read-only root fs",
                if c.readonly_rootfs {
                    "yes — protected from drift".into()
                } else {
                    "no".into()
                },
            );
            row(
                ui,
                "Drift",
                match &c.drift {
                    Some(d) if d.protected => "nothing can change (read-only)".into(),
                    Some(d) => format!(
                        "{} changed path(s), {} that matter",
                        d.total_changes,
                        d.items.len()
                    ),
                    None => "not checked (only running containers are)".into(),
                },
            );
            row(
                ui,
                "docker exec",
                match c.execs.len() {
                    0 => "none seen".into(),
                    n => format!(
                        "{n} session(s), {} as root, {} privileged",
                        c.execs.iter().filter(|e| e.as_root()).count(),
                        c.execs.iter().filter(|e| e.privileged).count()
                    ),
                },
            );
            let l = &c.limits;
            row(
                ui,
                "Limits",
                format!(
                    "memory {} · cpus {} · shares {} · pids {}",
                    if l.memory_bytes > 0 {
                        widgets::bytes(l.memory_bytes as f64)
                    } else {
                        "unlimited".into()
                    },
                    if l.nano_cpus > 0 {
                        format!("{:.2}", l.nano_cpus as f64 / 1e9)
                    } else if l.cpu_quota > 0 {
                        format!("quota {}", l.cpu_quota)
                    } else {
                        "unlimited".into()
                    },
                    if l.cpu_shares > 0 {
                        l.cpu_shares.to_string()
                    } else {
                        "default".into()
                    },
                    l.pids
                        .filter(|p| *p > 0)
                        .map_or("unlimited".into(), |p| p.to_string())
                ),
            );
            row(
                ui,
                "Restart policy",
                match c.restart.name.as_str() {
                    "" | "no" => "no".into(),
                    "on-failure" => format!("on-failure:{}", c.restart.max_retries),
                    other => other.to_string(),
                },
            );
            row(
                ui,
                "Networks",
                if c.networks.is_empty() {
                    "none".into()
                } else {
                    c.networks.join(", ")
                },
            );
            let ports: Vec<String> = c.ports.iter().map(|p| p.describe()).collect();
            row(
                ui,
                "Ports",
                if ports.is_empty() {
                    "none".into()
                } else {
                    ports.join("\n")
                },
            );
            row(
                ui,
                "Devices",
                if c.devices.is_empty() {
                    "none".into()
                } else {
                    c.devices
                        .iter()
                        .map(|d| format!("{} → {}", d.host_path, d.container_path))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
            );
            row(
                ui,
                "Healthcheck",
                c.healthcheck.as_ref().map_or("none".into(), |h| {
                    crate::model::redact::redact_args(&h.test).join(" ")
                }),
            );
            row(
                ui,
                "Logging",
                match c.log.driver.as_str() {
                    "" => "engine default".into(),
                    d => {
                        let opts: Vec<&str> = c.log.options.keys().map(String::as_str).collect();
                        if opts.is_empty() {
                            d.to_string()
                        } else {
                            format!("{d} ({})", opts.join(", "))
                        }
                    }
                },
            );
            row(
                ui,
                "Kernel",
                format!(
                    "OOM killer {} · OOM score adj {} · cgroupns {} · runtime {}",
                    if c.oom_kill_disable { "off" } else { "on" },
                    c.oom_score_adj,
                    or_default(&c.cgroupns_mode, "default"),
                    or_default(&c.runtime, "default")
                ),
            );
            if !c.ulimits.is_empty() {
                row(
                    ui,
                    "Ulimits",
                    c.ulimits
                        .iter()
                        .map(|u| format!("{}={}:{}", u.name, u.soft, u.hard))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            if !c.sysctls.is_empty() {
                row(
                    ui,
                    "Sysctls",
                    c.sysctls
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            if !c.device_cgroup_rules.is_empty() || !c.device_requests.is_empty() {
                row(
                    ui,
                    "Device rules",
                    c.device_cgroup_rules
                        .iter()
                        .chain(&c.device_requests)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n"),
                );
            }
            row(ui, "Image", format!("{}\n{}", c.image, c.image_id));
            if let Some(img) = image {
                let age = img.created.map_or("unknown age".into(), |t| {
                    format!(
                        "built {} ago",
                        widgets::duration((chrono::Utc::now() - t).num_seconds())
                    )
                });
                row(ui, "Image age", age);
            }
        });
    ui.add_space(6.0);
    ui.label(RichText::new("Mounts").strong());
    if c.mounts.is_empty() {
        ui.label("none");
    }
    for m in &c.mounts {
        ui.horizontal_wrapped(|ui| {
            let sensitive = m.kind == MountKind::Bind && flagged(&m.source);
            if sensitive {
                widgets::severity_icon(ui, Severity::High);
                ui.label(
                    RichText::new("sensitive")
                        .small()
                        .color(theme::severity_color(
                            Severity::High,
                            ui.visuals().dark_mode,
                        )),
                );
            }
            ui.label(
                RichText::new(visible(&format!(
                    "{} → {}",
                    if m.source.is_empty() {
                        m.name.clone().unwrap_or_else(|| "?".into())
                    } else {
                        m.describe_source()
                    },
                    m.destination
                )))
                .monospace(),
            );
            ui.label(
                RichText::new(format!(
                    "{} · {}{}",
                    m.kind.as_str(),
                    if m.read_write { "rw" } else { "ro" },
                    if m.propagation.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", m.propagation)
                    }
                ))
                .weak(),
            );
        });
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Environment (keys only; values are never shown)").strong());
    let keys: Vec<&str> = c.env.iter().map(|e| e.key.as_str()).collect();
    ui.label(
        RichText::new(if keys.is_empty() {
            "none".into()
        } else {
            visible(&keys.join("  ")).into_owned()
        })
        .monospace(),
    );
    ui.add_space(6.0);
    ui.label(RichText::new("Labels").strong());
    if c.labels.is_empty() {
        ui.label("none");
    }
    for (k, v) in &c.labels {
        let v = crate::model::redact::label_value(k, v);
        ui.label(RichText::new(visible(&format!("{k}={v}"))).monospace());
    }
    if let Some(procs) = &c.processes {
        ui.add_space(6.0);
        ui.label(RichText::new("Processes").strong());
        if !c.processes_from.is_empty() {
            ui.label(
                RichText::new(format!("read from {}", c.processes_from))
                    .weak()
                    .small(),
            );
        }
        for p in procs {
            ui.label(
                RichText::new(visible(&format!(
                    "{:>7} {:<8} {}",
                    p.pid,
                    p.user,
                    crate::model::redact::hide(&p.command)
                )))
                .monospace(),
            );
        }
    }
}

/// The Harden tab: the hardened version of the container, judged again.
fn harden_tab(
    ui: &mut Ui,
    state: &mut State,
    key: &crate::ui::state::RowKey,
    snapshot: &std::sync::Arc<crate::watch::messages::Snapshot>,
    c: &Container,
) -> Option<super::Action> {
    let inv = &snapshot.inventory;
    use crate::harden;
    if c.kube.is_some() {
        ui.label("A workload is hardened in its manifest: the Risk tab gives each field to set.");
        return None;
    }
    // The peaks of the charts' window: what it used while it was watched.
    let mut seen = harden::Observed::default();
    if let Some(ring) = state.charts.stats.get(key) {
        let (mut mem, mut cpu) = (0f32, 0f32);
        for p in ring.points() {
            mem = mem.max(p.mem_bytes);
            cpu = cpu.max(p.cpu_pct);
        }
        seen.memory_peak = (mem > 0.0).then_some(mem as u64);
        seen.cpu_peak = (cpu > 0.0).then_some(f64::from(cpu) / 100.0);
    }
    seen.caps_held = c.caps_held();
    seen.pids_peak = c
        .processes
        .as_ref()
        .map(|p| p.len() as u64)
        .filter(|n| *n > 0);
    let plan = match &state.harden_plan {
        Some(h)
            if &h.key == key
                && h.seen == seen
                && std::ptr::eq(h.snapshot.as_ptr(), std::sync::Arc::as_ptr(snapshot)) =>
        {
            h.plan.clone()
        }
        _ => {
            let policy = crate::model::policy::Policy::default();
            let plan = std::sync::Arc::new(harden::plan(
                inv,
                &c.id,
                &policy,
                &seen,
                chrono::Utc::now(),
            )?);
            state.harden_plan = Some(crate::ui::state::HardenPlan {
                key: key.clone(),
                snapshot: std::sync::Arc::downgrade(snapshot),
                seen: seen.clone(),
                plan: plan.clone(),
            });
            plan
        }
    };
    let image = inv.image_by_id(&c.image_id);
    let mut action = None;
    ui.add_space(4.0);
    ui.label(
        RichText::new(format!(
            "{} finding(s) now, {} after these {} change(s) (the catalogue run again on the result, default policy).",
            plan.before.len(),
            plan.after.len(),
            plan.changes.len()
        ))
        .strong(),
    );
    for ch in &plan.changes {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(visible(&ch.what)).monospace());
            if !ch.clears.is_empty() {
                ui.label(
                    RichText::new(format!("clears {}", ch.clears.join(", ")))
                        .color(theme::OK_GREEN),
                );
            }
        });
        ui.label(
            RichText::new(format!("May break: {}", ch.breaks))
                .weak()
                .small(),
        );
    }
    if !plan.after.is_empty() {
        ui.add_space(6.0);
        ui.label(RichText::new("Left for you").strong());
        for (f, why) in &plan.after {
            ui.horizontal_wrapped(|ui| {
                widgets::severity_badge(ui, f.severity);
                ui.label(RichText::new(f.rule_id).monospace());
            });
            ui.label(RichText::new(*why).weak().small());
        }
    }
    ui.add_space(6.0);
    let run = harden::run_command(&plan, image);
    code_copy(ui, "docker run", &run);
    let service = harden::compose_service(&plan, image);
    code_copy(ui, "compose service", &service);
    match (c.compose_file.as_deref(), harden::service_lines(c)) {
        (_, Some(lines)) => match &state.harden_diff {
            Some((id, diff, notes)) if id == &c.id => {
                code_copy(ui, "diff of its compose file", diff);
                for n in notes {
                    ui.label(RichText::new(visible(n)).weak().small());
                }
                if ui.button("Save as patch…").clicked() {
                    action = Some(super::Action::SavePatch {
                        name: format!(
                            "{}-harden.patch",
                            c.compose().map_or_else(|| c.name.clone(), |r| r.service)
                        ),
                        text: diff.clone(),
                    });
                }
            }
            _ => {
                let file = lines
                    .service
                    .as_ref()
                    .map_or(String::new(), |s| s.file.clone());
                if ui
                    .button("Diff of its compose file")
                    .on_hover_text(visible(&file))
                    .clicked()
                {
                    action = Some(super::Action::HardenDiff {
                        key: key.clone(),
                        seen,
                    });
                }
            }
        },
        (Some(crate::model::compose::ComposeFile::NotRead(why)), None) => {
            ui.label(
                RichText::new(format!(
                    "No diff: its compose file was not read ({}).",
                    visible(why)
                ))
                .weak(),
            );
        }
        _ => {}
    }
    action
}

/// A block of code with a copy button.
fn code_copy(ui: &mut Ui, label: &str, body: &str) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(label).strong());
        if ui.small_button("Copy").clicked() {
            ui.ctx().copy_text(body.to_string());
        }
    });
    ui.label(RichText::new(visible_multiline(body)).monospace());
    ui.add_space(4.0);
}
