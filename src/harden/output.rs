//! The hardened container written out for where it goes: a `docker run`
//! command for a shell, a compose service and a diff of the user's compose
//! file for YAML, and the plan in words for a terminal.
//!
//! Nearly every value in them was chosen by the container's or image's
//! author — its name, labels, paths, user, environment variable names and
//! command — and is hostile (docs/untrusted-input.md). Each is quoted for
//! its target so that it stays one value: a label cannot add a
//! `privileged: true` line to the service, a name cannot run `$(…)` when
//! the command is pasted. Every control, bidi or invisible character is
//! written as an escape that the target reads back as that character
//! (`$'\e…'` for a shell, `"\e…"` for YAML), so what a person sees on the
//! screen is what runs. Pure.

use std::fmt::Write;

use super::Plan;
use crate::model::compose::ServiceLines;
use crate::model::text::is_hidden;
use crate::model::{Container, PortBinding};

/// The characters a shell word may hold without quotes.
const SHELL_PLAIN: &str = "-_./:=@%+,";

/// A word for a POSIX shell, as it is: plain when it holds only characters
/// no shell treats specially, else in single quotes (a quote inside
/// written `'\''`). Control characters stay raw: for a shell that reads it,
/// not for a screen (a health command's words, quoted again by [`sh`]).
fn posix_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SHELL_PLAIN.contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// One shell word that a shell reads back as exactly `word`, and that shows
/// on a screen all it holds. When every character is printable: plain or
/// single-quoted ([`posix_word`]). Otherwise ANSI-C quoted, `$'…'` (bash,
/// zsh, POSIX.1-2024 sh), with each control, bidi or invisible character
/// (as [`crate::model::visible`] decides) written `\e`, `\n`, `\r`, `\t`,
/// or as the `\xNN` bytes of its UTF-8 encoding — the same word in every
/// locale, where bash's `\u` depends on the shell's. A NUL shows as `\x00`
/// and ends the word there: no command line can carry one.
pub(crate) fn sh(word: &str) -> String {
    if !word.chars().any(is_hidden) {
        return posix_word(word);
    }
    let mut out = String::with_capacity(word.len() + 8);
    out.push_str("$'");
    for c in word.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\u{1b}' => out.push_str(r"\e"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            c if is_hidden(c) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// May `s` be a plain YAML scalar that every YAML reader (1.1 and 1.2)
/// reads back as this very string? A letter or `/` first (no number, no
/// indicator such as `-`, `*`, `&`, `!`, `@`), then only letters, digits
/// and `-_./@`, and no word YAML 1.1 reads as a boolean or null.
fn yaml_plain(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@".contains(c))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
        )
}

/// A character YAML lets a file hold as itself (`c-printable`).
fn yaml_printable(c: char) -> bool {
    matches!(c,
        '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}'
        | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

/// YAML for a scalar, read back as exactly `s`: plain when
/// [`yaml_plain`], else double-quoted, with `\` and `"` escaped and every
/// control, bidi or invisible character (and any YAML may not hold raw)
/// written as a YAML escape — `\e`, `\n`, `\r`, `\t`, `\x9b`, `\u202E` —
/// so it stays on its line and shows what it holds.
pub(crate) fn y(s: &str) -> String {
    if yaml_plain(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str(r"\0"),
            '\u{7}' => out.push_str(r"\a"),
            '\u{8}' => out.push_str(r"\b"),
            '\t' => out.push_str(r"\t"),
            '\n' => out.push_str(r"\n"),
            '\u{b}' => out.push_str(r"\v"),
            '\u{c}' => out.push_str(r"\f"),
            '\r' => out.push_str(r"\r"),
            '\u{1b}' => out.push_str(r"\e"),
            c if is_hidden(c) || !yaml_printable(c) => {
                let _ = match u32::from(c) {
                    n @ ..=0xff => write!(out, "\\x{n:02X}"),
                    n @ ..=0xffff => write!(out, "\\u{n:04X}"),
                    n => write!(out, "\\U{n:08X}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The longest key YAML reads as an implicit key (`key:`) is 1,024
/// characters; a longer one is written as an explicit key.
const IMPLICIT_KEY_MAX: usize = 1000;

/// The line(s) that open the mapping key `k` at `indent`: `key:`, or for a
/// key too long to be implicit, `? key` and `:` on the next line (the
/// value's block follows, indented deeper).
fn key_lines(indent: &str, k: &str) -> Vec<String> {
    let k = y(k);
    if k.chars().count() <= IMPLICIT_KEY_MAX {
        vec![format!("{indent}{k}:")]
    } else {
        vec![format!("{indent}? {k}"), format!("{indent}:")]
    }
}

fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items.iter().map(|s| y(s)).collect::<Vec<_>>().join(", ")
    )
}

fn port(p: &PortBinding) -> String {
    let proto = if p.protocol.is_empty() || p.protocol == "tcp" {
        String::new()
    } else {
        format!("/{}", p.protocol)
    };
    let host = match (p.host_ip.as_str(), p.host_port) {
        ("", Some(h)) | ("0.0.0.0", Some(h)) => format!("{h}:"),
        (ip, Some(h)) => format!("{ip}:{h}:"),
        ("", None) => String::new(),
        (ip, None) => format!("{ip}::"),
    };
    format!("{host}{}{proto}", p.container_port)
}

fn mount(m: &crate::model::Mount) -> String {
    let src = m.name.clone().unwrap_or_else(|| m.source.clone());
    let mut opts = Vec::new();
    if !m.read_write {
        opts.push("ro".to_string());
    }
    if !m.propagation.is_empty() && m.propagation != "rprivate" {
        opts.push(m.propagation.clone());
    }
    let head = if src.is_empty() {
        m.destination.clone()
    } else {
        format!("{src}:{}", m.destination)
    };
    if opts.is_empty() {
        head
    } else {
        format!("{head}:{}", opts.join(","))
    }
}

/// The env keys the container sets beyond its image's: passed through
/// (`-e KEY`), so no value is written. A name that holds `=` cannot be
/// passed by name (`-e A=B` sets `A`): it is left out.
fn own_env<'a>(c: &'a Container, image: Option<&crate::model::Image>) -> Vec<&'a str> {
    c.env
        .iter()
        .filter(|e| !e.key.is_empty() && !e.key.contains('='))
        .filter(|e| {
            !image.is_some_and(|i| {
                i.env.iter().any(|ie| {
                    ie.key == e.key
                        && ie.value.expose_for_analysis() == e.value.expose_for_analysis()
                })
            })
        })
        .map(|e| e.key.as_str())
        .collect()
}

/// The container's command, when it is not its image's, with every
/// secret value replaced by `<hidden>` (shipshape never prints one, not
/// even in a command to paste: [`SECRET_NOTE`] says what to do).
fn own_command(c: &Container, image: Option<&crate::model::Image>) -> Option<Vec<String>> {
    (image.is_none_or(|i| i.command != c.command) && !c.command.is_empty())
        .then(|| crate::model::redact::redact_args(&c.command))
}

/// Said under a command or service that had a secret value hidden.
pub const SECRET_NOTE: &str = "<hidden> stands for a secret value shipshape never prints: put it \
    back from where you keep it — better, pass it to the program as a file (a secret or a \
    read-only mount) so it is not in the container's configuration at all";

/// A flag and its value, quoted, as one line of the command.
fn flag(lines: &mut Vec<String>, f: &str, v: &str) {
    lines.push(format!("{f} {}", sh(v)));
}

/// The `docker run` command that creates the hardened container: every
/// word quoted by [`sh`], so a shell runs exactly the plan, and the
/// screen shows all of it.
pub fn run_command(p: &Plan, image: Option<&crate::model::Image>) -> String {
    let h = &p.hardened;
    // One flag a line, then the image and its command, as a person would
    // write it.
    let mut a: Vec<String> = Vec::new();
    if !h.user.is_empty() {
        flag(&mut a, "--user", &h.user);
    }
    for d in &h.cap_drop {
        flag(&mut a, "--cap-drop", d);
    }
    for c in &h.cap_add {
        flag(&mut a, "--cap-add", c);
    }
    for o in &h.security_opt {
        flag(&mut a, "--security-opt", o);
    }
    if h.readonly_rootfs {
        a.push("--read-only".into());
    }
    for t in &h.tmpfs {
        flag(
            &mut a,
            "--tmpfs",
            &format!("{}{}", t.destination, if t.exec { ":exec" } else { "" }),
        );
    }
    for m in &h.mounts {
        flag(&mut a, "-v", &mount(m));
    }
    for p in &h.ports {
        flag(&mut a, "-p", &port(p));
    }
    if !h.network_mode.is_empty() && h.network_mode != "default" {
        flag(&mut a, "--network", &h.network_mode);
    }
    for (f, v) in [
        ("--pid", &h.pid_mode),
        ("--ipc", &h.ipc_mode),
        ("--uts", &h.uts_mode),
        ("--userns", &h.userns_mode),
    ] {
        if !v.is_empty() && v != "private" && v != "shareable" {
            flag(&mut a, f, v);
        }
    }
    if h.limits.memory_bytes > 0 {
        flag(
            &mut a,
            "--memory",
            &format!("{}m", h.limits.memory_bytes >> 20),
        );
    }
    if h.limits.nano_cpus > 0 {
        flag(
            &mut a,
            "--cpus",
            &format!("{}", h.limits.nano_cpus as f64 / 1e9),
        );
    }
    if let Some(n) = h.limits.pids.filter(|n| *n > 0) {
        flag(&mut a, "--pids-limit", &n.to_string());
    }
    if !h.restart.name.is_empty() && h.restart.name != "no" {
        let r = if h.restart.name == "on-failure" && h.restart.max_retries > 0 {
            format!("on-failure:{}", h.restart.max_retries)
        } else {
            h.restart.name.clone()
        };
        flag(&mut a, "--restart", &r);
    }
    if !h.log.driver.is_empty() {
        flag(&mut a, "--log-driver", &h.log.driver);
        for (k, v) in &h.log.options {
            if matches!(k.as_str(), "max-size" | "max-file" | "mode" | "tag") {
                // Size and count options only: not secrets.
                flag(
                    &mut a,
                    "--log-opt",
                    &format!(
                        "{k}={}",
                        crate::model::redact::label_value(k, v.expose_for_analysis())
                    ),
                );
            }
        }
    }
    if let Some(hc) = h.healthcheck.as_ref().filter(|hc| !hc.is_disabled()) {
        let test = crate::model::redact::redact_args(&hc.test);
        if test.first().is_some_and(|t| t == "CMD-SHELL") {
            flag(&mut a, "--health-cmd", &test[1..].join(" "));
        } else if test.first().is_some_and(|t| t == "CMD") {
            // Words for the container's own shell, then quoted as one word
            // for the person's.
            flag(
                &mut a,
                "--health-cmd",
                &test[1..]
                    .iter()
                    .map(|w| posix_word(w))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
    }
    for k in own_env(h, image) {
        flag(&mut a, "-e", k);
    }
    let command = own_command(h, image);
    if let Some(cmd) = &command {
        flag(&mut a, "--entrypoint", &cmd[0]);
    }
    let mut last = vec![sh(&h.image)];
    if let Some(cmd) = &command {
        last.extend(cmd[1..].iter().map(|w| sh(w)));
    }
    a.push(last.join(" "));
    // The name is the engine's, and an engine may lie: quoted like the rest
    // (Docker refuses a name outside `[a-zA-Z0-9][a-zA-Z0-9_.-]*` itself).
    let mut out = format!("docker run -d --name {}", sh(&h.name));
    for line in a {
        out.push_str(" \\\n  ");
        out.push_str(&line);
    }
    out.push('\n');
    if out.contains(crate::model::redact::HIDDEN) {
        out.push_str(&format!("# {SECRET_NOTE}\n"));
    }
    out
}

/// The hardened value of one compose key, as lines at `indent` (`None`:
/// the key is removed).
fn compose_value(h: &Container, key: &str, indent: &str) -> Option<Vec<String>> {
    let one = |v: String| Some(vec![format!("{indent}{key}: {v}")]);
    match key {
        "privileged" => None,
        "cap_drop" => one(list(&h.cap_drop)),
        "cap_add" => {
            (!h.cap_add.is_empty()).then(|| vec![format!("{indent}cap_add: {}", list(&h.cap_add))])
        }
        "security_opt" => (!h.security_opt.is_empty())
            .then(|| vec![format!("{indent}security_opt: {}", list(&h.security_opt))]),
        "read_only" => one("true".into()),
        "tmpfs" => (!h.tmpfs.is_empty()).then(|| {
            vec![format!(
                "{indent}tmpfs: {}",
                list(
                    &h.tmpfs
                        .iter()
                        .map(|t| t.destination.clone())
                        .collect::<Vec<_>>()
                )
            )]
        }),
        "ports" => (!h.ports.is_empty()).then(|| {
            let mut v = vec![format!("{indent}ports:")];
            v.extend(
                h.ports
                    .iter()
                    .map(|p| format!("{indent}  - {}", y(&port(p)))),
            );
            v
        }),
        "mem_limit" => one(format!("{}m", h.limits.memory_bytes >> 20)),
        "cpus" => one(y(&format!("{}", h.limits.nano_cpus as f64 / 1e9))),
        "pids_limit" => h.limits.pids.and_then(|p| one(p.to_string())),
        // As `docker run` says it; none when it is not restarted (Compose's
        // `on-failure:0` would restart it without end).
        "restart" => match h.restart.name.as_str() {
            "" | "no" => None,
            "on-failure" if h.restart.max_retries > 0 => {
                one(y(&format!("on-failure:{}", h.restart.max_retries)))
            }
            name => one(y(name)),
        },
        "logging" => Some(vec![
            format!("{indent}logging:"),
            format!("{indent}  driver: json-file"),
            format!("{indent}  options:"),
            format!("{indent}    max-size: 10m"),
            format!("{indent}    max-file: \"3\""),
        ]),
        "image" => one(y(&h.image)),
        "volumes" => (!h.mounts.is_empty()).then(|| {
            let mut v = vec![format!("{indent}volumes:")];
            v.extend(
                h.mounts
                    .iter()
                    .map(|m| format!("{indent}  - {}", y(&mount(m)))),
            );
            v
        }),
        "cgroup" => one("private".into()),
        // Removed: back to the engine's default.
        _ => None,
    }
}

/// The compose keys the plan sets, each once, in the order of changes.
fn keys(p: &Plan) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for c in &p.changes {
        // A change's key, and the keys that go with it.
        let with: &[&'static str] = match c.key {
            "cap_drop" => &["cap_add"],
            "read_only" => &["tmpfs"],
            "devices" => &["device_cgroup_rules"],
            _ => &[],
        };
        for k in std::iter::once(c.key).chain(with.iter().copied()) {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The hardened container as a compose service. Every key and scalar the
/// container's author chose (the service's name, from the
/// `com.docker.compose.service` label, environment variable names, paths,
/// the command) is written by [`y`] and [`key_lines`]: it stays one value
/// on its line, whatever it holds.
pub fn compose_service(p: &Plan, image: Option<&crate::model::Image>) -> String {
    let h = &p.hardened;
    let name = h
        .compose()
        .map_or_else(|| p.original.name.clone(), |r| r.service);
    let mut out = vec!["services:".to_string()];
    out.extend(key_lines("  ", &name));
    out.push(format!("    image: {}", y(&h.image)));
    if let Some(cmd) = own_command(h, image) {
        out.push(format!("    entrypoint: {}", list(&cmd[..1])));
        if cmd.len() > 1 {
            out.push(format!("    command: {}", list(&cmd[1..])));
        }
    }
    if !h.user.is_empty() {
        out.push(format!("    user: {}", y(&h.user)));
    }
    for k in [
        "cap_drop",
        "cap_add",
        "security_opt",
        "read_only",
        "tmpfs",
        "volumes",
        "ports",
        "mem_limit",
        "cpus",
        "pids_limit",
        "restart",
        "logging",
    ] {
        if let Some(lines) = compose_value(h, k, "    ") {
            out.extend(lines);
        }
    }
    let env = own_env(h, image);
    if !env.is_empty() {
        out.push("    environment:".into());
        out.extend(
            env.iter()
                .map(|k| format!("      - {}  # the value from your environment", y(k))),
        );
    }
    if out.iter().any(|l| l.contains(crate::model::redact::HIDDEN)) {
        out.insert(0, format!("# {SECRET_NOTE}"));
    }
    format!("{}\n", out.join("\n"))
}

/// The end (exclusive, 0-based) of the block that starts at `start`: the
/// next line indented no deeper than it that is not blank or a comment.
fn block_end(lines: &[&str], start: usize) -> usize {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines[start]);
    let mut end = start + 1;
    while end < lines.len() {
        let l = lines[end];
        let t = l.trim();
        if !t.is_empty() && !t.starts_with('#') && indent(l) <= own {
            break;
        }
        end += 1;
    }
    // Trailing blank and comment lines belong to what follows.
    while end > start + 1 && {
        let t = lines[end - 1].trim();
        t.is_empty() || t.starts_with('#')
    } {
        end -= 1;
    }
    end
}

/// A unified diff of the user's compose file that hardens the service:
/// the keys the plan changes replaced where the service sets them,
/// removed where it must not set them, added at its end where it does
/// not; every other line, comment and order kept. `text` is the file the
/// service is defined in (its lines known from `lines`). Keys set in
/// another file (`extends`, an anchor) are noted, not edited.
pub fn compose_diff(
    p: &Plan,
    lines: &ServiceLines,
    text: &str,
) -> Result<(String, Vec<String>), String> {
    let service = lines
        .service
        .as_ref()
        .ok_or("the service's line is not known")?;
    let src: Vec<&str> = text.lines().collect();
    let start = service
        .line
        .checked_sub(1)
        .filter(|&s| s < src.len())
        .ok_or("the file changed: the service's line is past its end")?;
    let end = block_end(&src, start);
    let body_indent = src[start + 1..end]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .map_or_else(
            || {
                format!(
                    "{}  ",
                    &src[start][..src[start].len() - src[start].trim_start().len()]
                )
            },
            |l| l[..l.len() - l.trim_start().len()].to_string(),
        );
    // (first line, end line, replacement) edits within the service block.
    let mut edits: Vec<(usize, usize, Vec<String>)> = Vec::new();
    let mut added: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    for key in keys(p) {
        let want = compose_value(&p.hardened, key, &body_indent);
        let here = lines
            .keys
            .get(key)
            .filter(|l| l.file == service.file && l.line > service.line && l.line <= end);
        match (here, want) {
            (Some(l), want) => {
                let s = l.line - 1;
                if !src[s].trim_start().starts_with(&format!("{key}:")) {
                    notes.push(format!(
                        "{key}: line {} is not where the file says it (edited since it was read?)",
                        l.line
                    ));
                    continue;
                }
                edits.push((s, block_end(&src, s), want.unwrap_or_default()));
            }
            (None, want) => {
                if let Some(elsewhere) = lines.keys.get(key) {
                    notes.push(format!(
                        "{key} also comes from {}:{} (extends or an anchor): {}",
                        elsewhere.file,
                        elsewhere.line,
                        if want.is_some() && !matches!(key, "cap_add" | "volumes" | "ports" | "security_opt" | "tmpfs" | "devices") {
                            "overridden in the service"
                        } else {
                            "edit it there; Compose merges lists, so the service cannot take items away"
                        }
                    ));
                    if matches!(
                        key,
                        "cap_add" | "volumes" | "ports" | "security_opt" | "tmpfs" | "devices"
                    ) {
                        continue;
                    }
                }
                if let Some(w) = want {
                    added.extend(w);
                }
            }
        }
    }
    if !added.is_empty() {
        edits.push((end, end, added));
    }
    edits.sort_by_key(|e| e.0);
    let mut out: Vec<String> = Vec::new();
    let mut at = 0;
    for (s, e, with) in edits {
        if s < at {
            continue;
        }
        out.extend(src[at..s].iter().map(|l| l.to_string()));
        out.extend(with);
        at = e;
    }
    out.extend(src[at..].iter().map(|l| l.to_string()));
    let mut new = out.join("\n");
    if text.ends_with('\n') {
        new.push('\n');
    }
    // `a/compose.yaml`: applies with `git apply` or `patch -p1` in the
    // project's folder.
    let wd = p
        .original
        .compose()
        .map(|r| r.working_dir)
        .unwrap_or_default();
    let name = match service
        .file
        .strip_prefix(&format!("{}/", wd.trim_end_matches('/')))
    {
        Some(rel) if !wd.is_empty() => format!("/{rel}"),
        _ if service.file.starts_with('/') => service.file.clone(),
        _ => format!("/{}", service.file),
    };
    let diff = similar::TextDiff::from_lines(text, &new)
        .unified_diff()
        .context_radius(3)
        .header(&diff_path("a", &name), &diff_path("b", &name))
        .to_string();
    Ok((diff, notes))
}

/// A file name in a diff header, as git writes one: `a/compose.yaml`, or
/// C-quoted (`"a/x\nb.yaml"`, other bytes as octal) when it holds a
/// control, bidi or invisible character, a `"` or a `\` — so a name cannot
/// end the header line early. `git apply` and GNU patch read both.
fn diff_path(side: &str, name: &str) -> String {
    let path = format!("{side}{name}");
    if !path.chars().any(|c| is_hidden(c) || c == '"' || c == '\\') {
        return path;
    }
    let mut out = String::from("\"");
    for c in path.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str(r"\\"),
            '\u{7}' => out.push_str(r"\a"),
            '\u{8}' => out.push_str(r"\b"),
            '\t' => out.push_str(r"\t"),
            '\n' => out.push_str(r"\n"),
            '\u{b}' => out.push_str(r"\v"),
            '\u{c}' => out.push_str(r"\f"),
            '\r' => out.push_str(r"\r"),
            c if is_hidden(c) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:03o}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The plan in words, for a terminal: each change, what it clears and what
/// could break; what is left and why; the counts before and after. What
/// the container's author chose (its name, paths in a change, evidence)
/// is shown through [`crate::model::visible`], one line each.
pub fn explain(p: &Plan) -> String {
    use crate::model::visible;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} finding(s) before, {} after hardening",
        visible(&p.original.name),
        p.before.len(),
        p.after.len()
    );
    for c in &p.changes {
        let clears = if c.clears.is_empty() {
            "defence in depth".to_string()
        } else {
            format!("clears {}", c.clears.join(", "))
        };
        let _ = writeln!(
            out,
            "  + {} ({clears})\n      may break: {}",
            visible(&c.what),
            c.breaks
        );
    }
    for (f, why) in &p.after {
        let _ = writeln!(
            out,
            "  ! left: {} [{}] {}\n      {why}",
            f.rule_id,
            f.severity,
            visible(&f.evidence)
        );
    }
    for e in p.hardened.env.iter().filter(|e| e.key.contains('=')) {
        let _ = writeln!(
            out,
            "  ! not passed: the environment variable {} (a name with `=` cannot be passed by name)",
            visible(&e.key)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harden::Observed;
    use crate::model::policy::Policy;
    use crate::model::{EnvVar, Healthcheck, Inventory, Mount, MountKind, Sensitive, TmpfsMount};
    use crate::sources::compose::yaml::{self, Node, Value};
    use proptest::prelude::*;
    use std::process::Command;

    /// Values a container's or image's author may choose, each made to
    /// break out of its quoting or to drive the terminal.
    fn hostile() -> Vec<String> {
        let mut v: Vec<String> = [
            "app:\n    privileged: true\n    network_mode: host\n  app2",
            "NL\n    privileged: true\n    labels:\n      - B=1",
            "/:/srv\u{1b}[2K\r  --tmpfs /cache",
            "echo \u{1b}]52;c;ZWNobyBvd25lZA==\u{7}\u{1b}[2J",
            "1000\u{1b}]0;TITLE\u{7}",
            "bell\u{7}back\u{8}space\u{7f}del",
            "evil\u{202e}gpj.exe",
            "\u{2066}isolate\u{2069} zero\u{200b}width \u{feff}bom \u{e0041}tag",
            "c1\u{9b}31m \u{85}next \u{2028}line \u{2029}para \u{a0}nbsp",
            "quote\"s' and \\ back\\",
            "x$(touch /tmp/pwned)`id`;rm -rf ~ #",
            "hash # comment",
            "colon: value",
            "- leading dash",
            "-",
            "*alias",
            "&anchor x",
            "!!tag x",
            "!local",
            "@at",
            "`tick",
            "%percent",
            "|block",
            ">folded",
            "? question",
            "{a: b}",
            "[a, b]",
            "true",
            "null",
            "~",
            "0x1F",
            "1e3",
            "0o17",
            "1_000",
            ".inf",
            "yes",
            "N",
            "2001-12-14",
            " leading and trailing ",
            "\t",
            "\r\n",
            "\u{fffe}\u{ffff}",
            "ünïcödé 名前 😀",
            "---",
            "...",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("x".repeat(5000));
        v.push("a\n".repeat(700));
        v
    }

    /// A privileged container on the host's network whose every free-text
    /// field is `word`, made by Compose service `service`, with `env`.
    fn plan_of(service: &str, env: &[String], word: &str) -> Plan {
        let mut c = Container {
            id: "c1".into(),
            name: "web".into(),
            image: "lab/busybox:1".into(),
            privileged: true,
            network_mode: "host".into(),
            user: word.into(),
            command: vec![word.into(), "plain".into(), word.into()],
            env: env
                .iter()
                .map(|k| EnvVar {
                    key: k.clone(),
                    value: Sensitive::new("v"),
                })
                .collect(),
            mounts: vec![Mount {
                kind: MountKind::Bind,
                source: "/".into(),
                destination: format!("/srv{word}"),
                read_write: true,
                propagation: String::new(),
                name: None,
                host: None,
            }],
            tmpfs: vec![TmpfsMount {
                destination: format!("/cache{word}"),
                exec: false,
            }],
            healthcheck: Some(Healthcheck {
                test: vec!["CMD".into(), "sh".into(), word.into()],
            }),
            ..Container::default()
        };
        c.labels
            .insert("com.docker.compose.project".into(), "p".into());
        c.labels
            .insert("com.docker.compose.service".into(), service.into());
        let inv = Inventory {
            containers: vec![c],
            ..Inventory::default()
        };
        crate::harden::plan(
            &inv,
            "c1",
            &Policy::default(),
            &Observed::default(),
            chrono::Utc::now(),
        )
        .expect("the container is in the inventory")
    }

    fn scalar(n: &Node) -> Result<&str, String> {
        match &n.value {
            Value::Scalar(s) => Ok(s),
            v => Err(format!("not a scalar: {v:?}")),
        }
    }

    fn seq(n: &Node) -> Result<Vec<&str>, String> {
        match &n.value {
            Value::Seq(items) => items.iter().map(scalar).collect(),
            v => Err(format!("not a sequence: {v:?}")),
        }
    }

    /// The keys a hardened service may hold: what `compose_service` writes.
    const SERVICE_KEYS: [&str; 17] = [
        "image",
        "entrypoint",
        "command",
        "user",
        "cap_drop",
        "cap_add",
        "security_opt",
        "read_only",
        "tmpfs",
        "volumes",
        "ports",
        "mem_limit",
        "cpus",
        "pids_limit",
        "restart",
        "logging",
        "environment",
    ];

    /// The compose service of `p`, read back by a YAML parser, is the
    /// plan: one service, named as its label says, with only the keys the
    /// plan writes and each value as data.
    fn compose_round_trip(p: &Plan) -> Result<(), String> {
        let h = &p.hardened;
        let text = compose_service(p, None);
        if text
            .chars()
            .any(|c| c != '\n' && (is_hidden(c) || !yaml_printable(c)))
        {
            return Err(format!("a hidden character is printed raw:\n{text}"));
        }
        let root = yaml::parse(&text).map_err(|e| format!("{e}:\n{text}"))?;
        let Value::Map(top) = &root.value else {
            return Err(format!("not a mapping:\n{text}"));
        };
        let [(services_key, _, services)] = top.as_slice() else {
            return Err(format!("more than `services` at the top:\n{text}"));
        };
        let Value::Map(services) = &services.value else {
            return Err(format!("services is not a mapping:\n{text}"));
        };
        let [(name, _, service)] = services.as_slice() else {
            return Err(format!("not exactly one service:\n{text}"));
        };
        let Value::Map(body) = &service.value else {
            return Err(format!("the service is not a mapping:\n{text}"));
        };
        let want = h.compose().expect("made by Compose").service;
        let get = |k: &str| service.get(k).ok_or(format!("no {k}:\n{text}"));
        // A list the plan leaves empty is not written.
        let items = |k: &str| service.get(k).map_or(Ok(Vec::new()), seq);
        let env = own_env(h, None);
        let checks = [
            (services_key == "services", "the top key"),
            (*name == want, "the service's name"),
            (
                body.iter()
                    .all(|(k, _, _)| SERVICE_KEYS.contains(&k.as_str())),
                "only the keys it writes",
            ),
            (scalar(get("image")?)? == h.image, "image"),
            (
                service.get("user").map_or(Ok(""), scalar)? == h.user,
                "user",
            ),
            (
                seq(get("entrypoint")?)? == [h.command[0].as_str()],
                "entrypoint",
            ),
            (items("command")? == h.command[1..], "command"),
            (
                items("tmpfs")?
                    == h.tmpfs
                        .iter()
                        .map(|t| t.destination.as_str())
                        .collect::<Vec<_>>(),
                "tmpfs",
            ),
            (
                items("volumes")? == h.mounts.iter().map(mount).collect::<Vec<_>>(),
                "volumes",
            ),
            (
                items("environment")? == env,
                "each environment variable's name",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(format!("{what} differs from the plan:\n{text}")),
            None => Ok(()),
        }
    }

    /// D2: hostile service names (the `com.docker.compose.service` label,
    /// which an image's LABEL sets too) and environment variable names
    /// cannot add keys or services to the hardened compose service.
    /// Never show a secret's value, not even in a command to paste: a
    /// password in the command line or the healthcheck is `<hidden>` and
    /// the output says why.
    #[test]
    fn secrets_in_the_command_are_hidden_with_a_note() {
        let token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
        let mut c = Container {
            id: "c1".into(),
            name: "app".into(),
            image: "lab/app:1".into(),
            ..Container::default()
        };
        c.command = vec![
            "app".into(),
            "--password".into(),
            "hunter2-not-shown".into(),
            format!("--note=rotated {token}"),
        ];
        c.healthcheck = Some(crate::model::Healthcheck {
            test: vec![
                "CMD-SHELL".into(),
                format!("curl -H 'Authorization: Bearer {token}' localhost"),
            ],
        });
        let inv = Inventory {
            containers: vec![c],
            ..Inventory::default()
        };
        let plan = crate::harden::plan(
            &inv,
            "c1",
            &Policy::default(),
            &Observed::default(),
            chrono::Utc::now(),
        )
        .expect("the container is in the inventory");
        for out in [run_command(&plan, None), compose_service(&plan, None)] {
            assert!(!out.contains("hunter2-not-shown"), "{out}");
            assert!(!out.contains(token), "{out}");
            assert!(out.contains("<hidden>"), "{out}");
            assert!(out.contains(SECRET_NOTE), "{out}");
        }
    }

    #[test]
    fn d2_the_compose_service_reads_back_as_the_plan() {
        let all = hostile();
        let env: Vec<String> = all.iter().filter(|s| !s.is_empty()).cloned().collect();
        for word in &all {
            let service = if word.trim().is_empty() { "s" } else { word };
            let p = plan_of(service, &env, word);
            compose_round_trip(&p).unwrap_or_else(|e| panic!("{word:?}: {e}"));
        }
        // The report's reproduction: nothing privileged comes back.
        let p = plan_of(
            "app:\n    privileged: true\n    network_mode: host\n  app2",
            &["NL\n    privileged: true".into()],
            "x",
        );
        let text = compose_service(&p, None);
        assert!(
            text.starts_with(
                "services:\n  \"app:\\n    privileged: true\\n    network_mode: host\\n  app2\":\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "      - \"NL\\n    privileged: true\"  # the value from your environment\n"
            ),
            "{text}"
        );
    }

    /// D2: a service name longer than an implicit YAML key may be.
    #[test]
    fn d2_a_long_service_name_is_an_explicit_key() {
        let long = "s".repeat(3000);
        let text = compose_service(&plan_of(&long, &[], "x"), None);
        assert!(text.starts_with(&format!("services:\n  ? {long}\n  :\n    image:")));
        compose_round_trip(&plan_of(&long, &[], "x")).unwrap();
    }

    /// D2, D3: scalars read back as themselves; what YAML could take for
    /// another type, an indicator or a line break is quoted and escaped.
    #[test]
    fn d2_yaml_scalars_are_quoted_and_escaped() {
        for (s, want) in [
            ("ALL", "ALL"),
            ("/tmp", "/tmp"),
            ("lab/busybox", "lab/busybox"),
            ("nginx:1.27", "\"nginx:1.27\""),
            ("true", "\"true\""),
            ("No", "\"No\""),
            ("1.0", "\"1.0\""),
            ("0x1F", "\"0x1F\""),
            ("-x", "\"-x\""),
            ("@x", "\"@x\""),
            ("", "\"\""),
            (
                "a\u{1b}[31m\u{7}\r\n\t\u{9b}\u{202e}\u{1f600}\u{e0041}\"\\",
                "\"a\\e[31m\\a\\r\\n\\t\\x9B\\u202E\u{1f600}\\U000E0041\\\"\\\\\"",
            ),
        ] {
            assert_eq!(y(s), want, "{s:?}");
        }
        for s in hostile() {
            let doc = format!("k: {}\n", y(&s));
            let back = yaml::parse(&doc).unwrap_or_else(|e| panic!("{s:?}: {e}: {doc}"));
            assert_eq!(
                back.get("k").and_then(Node::as_str),
                Some(s.as_str()),
                "{doc}"
            );
        }
    }

    /// D3: a word shows every control and bidi character as an escape.
    #[test]
    fn d3_shell_words_show_what_they_hold() {
        for (s, want) in [
            ("ALL", "ALL"),
            ("/var/cache:exec", "/var/cache:exec"),
            ("", "''"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("$(id)`id`", "'$(id)`id`'"),
            ("ünï", "'ünï'"),
            (
                "/:/srv\u{1b}[2K\r  --tmpfs /cache",
                r"$'/:/srv\e[2K\r  --tmpfs /cache'",
            ),
            ("a\nb\tc\u{7}", r"$'a\nb\tc\x07'"),
            ("it's\u{202e}\\", r"$'it\'s\xe2\x80\xae\\'"),
        ] {
            assert_eq!(sh(s), want, "{s:?}");
        }
    }

    /// The words as bash reads them, by a `docker` stub that prints its
    /// arguments; `None` for a word that holds a NUL (no argv can).
    fn through_bash(script: &str) -> Vec<Vec<u8>> {
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "docker(){{ printf '%s\\0' \"$@\"; }}\nset -e\n{script}"
            ))
            .env("LC_ALL", "C")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut words: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
        words.pop();
        words
    }

    /// D3: bash reads each quoted word back as exactly the word, and
    /// `printf %q` of what the stub got is `printf %q` of the word itself.
    #[test]
    fn d3_bash_reads_the_words_back_exactly() {
        let words: Vec<String> = hostile()
            .into_iter()
            .filter(|w| !w.contains('\0'))
            .collect();
        let quoted: Vec<String> = words.iter().map(|w| sh(w)).collect();
        let got = through_bash(&format!("docker {}", quoted.join(" ")));
        let want: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        assert_eq!(got, want);
        let q = |script: &str, args: &[String]| {
            Command::new("bash")
                .arg("-c")
                .arg(script)
                .arg("_")
                .args(args)
                .env("LC_ALL", "C.UTF-8")
                .output()
                .expect("bash runs")
                .stdout
        };
        let stub = q(
            &format!(
                "docker(){{ printf '%q\\n' \"$@\"; }}; docker {}",
                quoted.join(" ")
            ),
            &[],
        );
        assert_eq!(stub, q("printf '%q\\n' \"$@\"", &words));
    }

    /// D3, D4: the pasted command runs exactly the plan, passes `bash -n`,
    /// and shows no raw control or bidi character; the name is quoted.
    #[test]
    fn d4_the_run_command_is_the_plan_word_for_word() {
        for word in hostile().into_iter().filter(|w| !w.contains('\0')) {
            let mut p = plan_of("s", std::slice::from_ref(&word), &word);
            p.hardened.name = format!("x$(touch /tmp/pwned){word}-hardened");
            let cmd = run_command(&p, None);
            assert!(
                !cmd.chars().any(|c| c != '\n' && is_hidden(c)),
                "{word:?}: {cmd}"
            );
            let check = Command::new("bash")
                .args(["-n", "-c", &cmd])
                .output()
                .expect("bash runs");
            assert!(check.status.success(), "bash -n: {cmd}");
            let argv = through_bash(&cmd);
            let s = |w: &[u8]| String::from_utf8(w.to_vec()).expect("UTF-8 in, UTF-8 out");
            let argv: Vec<String> = argv.iter().map(|w| s(w)).collect();
            let h = &p.hardened;
            let after = |f: &str| {
                argv.iter()
                    .position(|a| a == f)
                    .map(|i| argv[i + 1].as_str())
            };
            assert_eq!(&argv[..3], ["run", "-d", "--name"], "{cmd}");
            assert_eq!(argv[3], h.name, "{cmd}");
            assert_eq!(after("--user"), Some(h.user.as_str()), "{cmd}");
            assert_eq!(after("-v"), Some(mount(&h.mounts[0]).as_str()), "{cmd}");
            let passed = !word.is_empty() && !word.contains('=');
            assert_eq!(after("-e"), passed.then_some(word.as_str()), "{cmd}");
            assert_eq!(after("--entrypoint"), Some(h.command[0].as_str()), "{cmd}");
            assert!(argv.contains(&format!("/cache{word}")), "{cmd}");
            assert!(
                !argv.iter().any(|a| a == "--privileged" || a == "host"),
                "{cmd}"
            );
            let image_at = argv.len() - h.command.len();
            assert_eq!(argv[image_at], h.image, "{cmd}");
            assert_eq!(argv[image_at + 1..], h.command[1..], "{cmd}");
        }
        // The report's example: a name from an engine that lies.
        let mut p = plan_of("s", &[], "x");
        p.hardened.name = "x$(id)-hardened".into();
        assert!(run_command(&p, None).starts_with("docker run -d --name 'x$(id)-hardened' \\\n"));
    }

    /// The file name in a diff's header stays on its line.
    #[test]
    fn diff_headers_quote_names_as_git_does() {
        assert_eq!(diff_path("a", "/compose.yaml"), "a/compose.yaml");
        assert_eq!(
            diff_path("b", "/x\ny\u{1b}\"\u{202e}.yml"),
            r#""b/x\ny\033\"\342\200\256.yml""#
        );
    }

    proptest! {
        /// D2: any service name and environment variable names.
        #[test]
        fn d2_any_text_reads_back_as_the_plan(
            service in any::<String>().prop_filter("Compose needs a name", |s| !s.trim().is_empty() && s.trim() != "<<"),
            env in proptest::collection::vec(any::<String>(), 0..4),
            word in any::<String>(),
        ) {
            let p = plan_of(&service, &env, &word);
            prop_assert!(compose_round_trip(&p).is_ok(), "{:?}", compose_round_trip(&p));
        }

        /// D3: any words, read back by bash exactly.
        #[test]
        fn d3_any_words_read_back_by_bash(
            words in proptest::collection::vec(any::<String>().prop_map(|s| s.replace('\0', "")), 1..6),
        ) {
            let quoted: Vec<String> = words.iter().map(|w| sh(w)).collect();
            for q in &quoted {
                prop_assert!(!q.chars().any(is_hidden), "{q}");
            }
            let got = through_bash(&format!("docker {}", quoted.join(" ")));
            let want: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
