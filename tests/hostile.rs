//! Engine-provided strings are chosen by whoever built the container. Real
//! containers carrying script tags, attribute breakouts and spreadsheet
//! formulas in labels and env keys must come out inert in every format,
//! and secret values must appear in none.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

mod common;

use std::process::Command;

use common::*;

const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKOUT: &str = "\"><img src=x onerror=alert(1)>";
/// A label key a spreadsheet would evaluate (keys sort first: `@` < letters).
const FORMULA_KEY: &str = "@SUM(1+1)";
const FORMULA_VALUE: &str = "=HYPERLINK(\"http://evil.example/\",\"click\")";
const SECRET: &str = "hostile-secret-value-7d1e";

fn scan(format: &str, out: &std::path::Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args([
            "scan",
            "-q",
            "--host",
            "unix:///var/run/docker.sock",
            "--format",
            format,
            "-o",
            out.to_str().unwrap(),
        ])
        .env("HOME", "/nonexistent-home")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn hostile_names_labels_and_env_are_inert_everywhere() {
    let _serial = serial();
    let mut fx = Fixture::new("hostile");
    let name = fx.create(
        "x",
        &[
            "--label",
            &format!("xss={SCRIPT}"),
            "--label",
            &format!("attr={BREAKOUT}"),
            "--label",
            &format!("{FORMULA_KEY}={FORMULA_VALUE}"),
            "--label",
            &format!("api_token={SECRET}"),
            "-e",
            &format!("{SCRIPT}_TOKEN={SECRET}"),
            "-e",
            &format!("+cmd|' /C calc'!A0_PASSWORD={SECRET}"),
            BASE,
        ],
    );
    let dir = fx.tmp.path().to_path_buf();

    // JSON: the data is there verbatim (JSON escaping is the reader's job),
    // but never the secret value.
    let json = scan("json", &dir.join("r.json"));
    assert!(!json.contains(SECRET), "secret value in JSON");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap();
    assert_eq!(c["labels"]["xss"], SCRIPT);
    assert_eq!(
        c["labels"]["api_token"], "<hidden>",
        "a secret-looking label value is hidden"
    );
    let evidence: Vec<&str> = c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "container.secret-env")
        .map(|f| f["evidence"].as_str().unwrap())
        .collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");

    // HTML: parsed as a browser would, nothing can run or load.
    let html = scan("html", &dir.join("r.html"));
    assert!(!html.contains(SECRET));
    assert!(
        !html.contains(SCRIPT) && !html.contains("<img"),
        "raw markup survived"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as text"
    );
    report_formats_inert(&html);

    // CSV: no cell a spreadsheet would evaluate.
    let csv_text = scan("csv", &dir.join("r.csv"));
    assert!(!csv_text.contains(SECRET));
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let mut saw_formula_label = false;
    for rec in rd.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "formula cell: {cell}"
            );
        }
        if rec
            .iter()
            .any(|c| c.starts_with(&format!("'{FORMULA_KEY}")))
        {
            saw_formula_label = true;
        }
    }
    assert!(
        saw_formula_label,
        "the hostile label is in the CSV (neutralised)"
    );

    // Markdown: no raw HTML, table intact.
    let md = scan("md", &dir.join("r.md"));
    assert!(!md.contains(SECRET));
    assert!(!md.contains("<script") && !md.contains("<img"));
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("TOKEN"))
    {
        let unescaped_pipes = line
            .match_indices('|')
            .filter(|(i, _)| *i == 0 || &line[i - 1..*i] != "\\")
            .count();
        assert_eq!(unescaped_pipes, 6, "a hostile key broke the table: {line}");
    }

    // SARIF: valid JSON, no secret.
    let sarif = scan("sarif", &dir.join("r.sarif"));
    assert!(!sarif.contains(SECRET));
    serde_json::from_str::<serde_json::Value>(&sarif).unwrap();
}

/// Same check as in report_formats.rs, on real engine output.
fn report_formats_inert(html: &str) {
    let doc = scraper::Html::parse_document(html);
    let count = |sel: &str| doc.select(&scraper::Selector::parse(sel).unwrap()).count();
    assert_eq!(
        count("script, img, iframe, object, embed, link, base, form"),
        0
    );
    for el in doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        for (attr, value) in el.value().attrs() {
            assert!(!attr.starts_with("on"), "event handler {attr}");
            assert!(
                attr != "href" || value.starts_with('#'),
                "external link {value}"
            );
        }
    }
}

/// Characters that drive a terminal or reorder text. None may reach a
/// human-facing output as itself.
const HIDDEN: [char; 8] = [
    '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200b}', '\u{feff}',
];

fn assert_no_hidden(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|c| HIDDEN.contains(c)) {
        panic!("{what} carries U+{:04X} unescaped", c as u32);
    }
}

/// Issue 17 (4): escape sequences, C1 controls, bidi overrides and
/// zero-width characters in labels, image history and exec command lines of
/// real containers come out visible (`\u{1b}`) in HTML, Markdown, CSV and on
/// the terminal; JSON and SARIF keep them, properly escaped.
#[test]
fn control_and_bidi_characters_are_shown_never_obeyed() {
    let _serial = serial();
    let mut fx = Fixture::new("ctrl");
    let title = "\u{1b}]0;pwned\u{7}\u{1b}[2J";
    let image = fx.build(
        "ctrl:1",
        &format!(
            "FROM {BASE}\nRUN echo '{title}' >/dev/null\nLABEL note=\"cut\u{202e}gpj.exe\"\nCMD [\"sleep\",\"3600\"]\n"
        ),
    );
    let name = fx.run(
        "c",
        &[
            "--label",
            &format!("title={title}"),
            "--label",
            "csi=a\u{9b}31mred",
            "--label",
            "look=web\u{200b}\u{feff}-1",
            "--label",
            "iso=\u{2066}x\u{2069}",
            // A secret-named key: its finding names the key in every format.
            "-e",
            &format!("API{title}\u{202e}_TOKEN={SECRET}"),
            "--cap-add",
            "SYS_ADMIN",
            &image,
        ],
    );
    let dir = fx.tmp.path().to_path_buf();

    // JSON keeps the exact text (escaped by the encoder).
    let json = scan("json", &dir.join("r.json"));
    assert_no_hidden("the JSON file", &json);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = r["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name.as_str())
        .unwrap();
    assert_eq!(c["labels"]["title"], title);

    for (format, file) in [("html", "r.html"), ("md", "r.md"), ("csv", "r.csv")] {
        let text = scan(format, &dir.join(file));
        assert_no_hidden(format, &text);
        // Markdown escapes the backslash and the bracket once more.
        let shown = if format == "md" {
            "\\\\u{1b}\\]0;pwned\\\\u{7}\\\\u{1b}"
        } else {
            "\\u{1b}]0;pwned\\u{7}\\u{1b}"
        };
        assert!(text.contains(shown), "{format} shows the escape visibly");
        assert!(
            text.contains("\\u{202e}"),
            "{format} shows the bidi override"
        );
    }

    // The terminal: the exec's command line is printed by `watch`, and the
    // scan summary goes to stderr.
    let log = dir.join("audit.jsonl");
    let mut watch = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args([
            "watch",
            "--no-drift",
            "--host",
            "unix:///var/run/docker.sock",
            "--audit-log",
        ])
        .arg(&log)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let wait_log = |needle: &str, what: &str| {
        while !std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains(needle)
        {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "{what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    wait_log("\"kind\":\"scan\"", "watch never scanned");
    fx.docker(&[
        "exec",
        &name,
        "sh",
        "-c",
        &format!("echo '{title}' >/dev/null"),
    ]);
    wait_log("\"kind\":\"exec\"", "the exec was not recorded");
    let _ = Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status();
    let _ = watch.wait();
    let mut out = String::new();
    let mut err = String::new();
    use std::io::Read;
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    watch
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_no_hidden("watch's output", &out);
    assert_no_hidden("watch's messages", &err);
    assert!(
        out.contains("\\u{1b}]0;pwned"),
        "the exec is printed, visibly: {out}"
    );
    let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
        .args(["scan", "--host", "unix:///var/run/docker.sock", "-o"])
        .arg(dir.join("t.json"))
        .output()
        .unwrap();
    assert_no_hidden("scan's summary", &String::from_utf8_lossy(&o.stderr));
}

/// An inspect answer of 20 MB (400 labels of 50 KB): shipshape stops
/// reading at its ceiling, reports the container as not read with the
/// reason, and scans everything else.
#[test]
fn an_oversized_inspect_answer_is_refused_with_a_reason() {
    let _serial = serial();
    engine();
    let mut fx = Fixture::new("big");
    let labels = fx.tmp.path().join("labels");
    let mut text = String::new();
    for i in 0..400 {
        text.push_str(&format!("big{i}={}\n", "x".repeat(50_000)));
    }
    std::fs::write(&labels, text).unwrap();
    let big = fx.create("big", &["--label-file", labels.to_str().unwrap(), BASE]);
    let small = fx.create("small", &[BASE]);

    let out = fx.tmp.path().join("r.json");
    let report: serde_json::Value = serde_json::from_str(&scan("json", &out)).unwrap();
    let names: Vec<&str> = report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&small.as_str()), "the rest is scanned");
    assert!(
        !names.contains(&big.as_str()),
        "the oversized one is not read"
    );
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("not read: the engine's answer is larger than 16 MiB")),
        "{warnings:?}"
    );
}

/// A GitHub-shaped token, different for each field it is planted in.
fn token(tag: &str) -> String {
    format!("ghp_{tag}{}", "7".repeat(36 - tag.len()))
}

/// Issue 39 (D14): a secret anywhere in what an author writes — a label
/// value under an innocent key, the command line, the healthcheck, an
/// image's LABEL and RUN steps — is a finding that names the field and the
/// kind, and its value reaches no report file, in any format, and not the
/// terminal; every report file is 0600.
#[test]
fn secrets_in_labels_commands_and_build_steps_are_named_never_shown() {
    use std::os::unix::fs::PermissionsExt;
    let _serial = serial();
    let mut fx = Fixture::new("redact");
    let (in_label, in_cmd, in_health, in_image_label, in_run) = (
        token("ContainerLabel"),
        token("CommandLine"),
        token("HealthCheck"),
        token("ImageLabel"),
        token("RunStep"),
    );
    let run_password = "Run-pw-7f3a9c1e";
    let image = fx.build(
        "redact:1",
        &format!(
            "FROM {BASE}\n\
             LABEL build.note=\"rotated {in_image_label}\"\n\
             RUN true {in_run} https://bot:{run_password}@git.example.com/x.git\n"
        ),
    );
    let name = fx.create(
        "c",
        &[
            "--label",
            &format!("deploy.note=rotated {in_label} on monday"),
            "--health-cmd",
            &format!("curl -fsS -H 'Authorization: token {in_health}' http://localhost/"),
            &image,
            "sh",
            "-c",
            &format!("deploy --note 'rotated {in_cmd}'"),
        ],
    );
    let secrets = [
        in_label.as_str(),
        in_cmd.as_str(),
        in_health.as_str(),
        in_image_label.as_str(),
        in_run.as_str(),
        run_password,
    ];
    let dir = fx.tmp.path().to_path_buf();
    for format in ["json", "sarif", "html", "csv", "md"] {
        let out = dir.join(format!("r.{format}"));
        let o = Command::new(env!("CARGO_BIN_EXE_shipshape"))
            .env("SHIPSHAPE_VULNDB", common::scratch_vulndb())
            .env("HOME", "/nonexistent-home")
            .args([
                "scan",
                "--no-drift",
                "--host",
                "unix:///var/run/docker.sock",
            ])
            .args(["--format", format, "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{stderr}");
        let text = std::fs::read_to_string(&out).unwrap();
        for s in secrets {
            assert!(
                !text.contains(s),
                "{format}: a secret's value in the report"
            );
            assert!(!stderr.contains(s), "{format}: a secret's value on stderr");
        }
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{format}: the report is private");
        if format != "json" {
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&text).unwrap();
        let c = r["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap();
        assert_eq!(c["labels"]["deploy.note"], "rotated <hidden> on monday");
        let evidence = |findings: &serde_json::Value, rule: &str| -> Vec<String> {
            findings
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule_id"] == rule)
                .map(|f| f["evidence"].as_str().unwrap().to_string())
                .collect()
        };
        let ev = evidence(&c["findings"], "container.secret-in-config");
        for field in [
            "container label deploy.note: a GitHub token (value hidden)",
            "container command line: 'rotated <hidden>' (a GitHub token)",
            "container healthcheck: 'Authorization: token <hidden>' (a GitHub token)",
        ] {
            assert!(ev.iter().any(|e| e == field), "{field} in {ev:#?}");
        }
        assert!(
            !ev.iter().any(|e| e.contains("build.note")),
            "the image's own label is the image's finding: {ev:#?}"
        );
        let img = common::scan::image(&r, &image);
        let ev = evidence(&img["findings"], "image.secret-in-config");
        assert!(
            ev.iter()
                .any(|e| e == "image label build.note: a GitHub token (value hidden)"),
            "{ev:#?}"
        );
        let ev = evidence(&img["findings"], "image.secret-env");
        for spot in [
            "<hidden> (a GitHub token)",
            "https://bot:<hidden>@git.example.com/x.git (a password in a URL)",
        ] {
            assert!(
                ev.iter()
                    .any(|e| e.starts_with("build history layer") && e.ends_with(spot)),
                "{spot} in {ev:#?}"
            );
        }
    }
}
