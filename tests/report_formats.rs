//! Every report format over the bundled demo lab (real engine output,
//! fixed clock): golden files, the SARIF 2.1.0 schema, parseable CSV, and
//! HTML that a real HTML parser finds free of scripts and external loads.
//! Regenerate goldens with `SHIPSHAPE_BLESS=1 cargo test --test report_formats`.

#![allow(clippy::unwrap_used)] // test and bench code: a panic is the failure report

use chrono::TimeZone;
use shipshape::report::{Format, Report};

fn demo_report() -> Report {
    let mut inv = shipshape::watch::demo::inventory().unwrap();
    let now = chrono::Utc
        .with_ymd_and_hms(2026, 11, 28, 12, 0, 0)
        .unwrap();
    inv.taken_at = Some(now);
    let policy = shipshape::policy::Policy::default();
    let a = shipshape::assess::assess(&inv, &policy, now);
    Report::build(&inv, &a, &policy, now)
}

fn golden(format: Format) {
    let path = format!(
        "{}/tests/golden/demo.{}",
        env!("CARGO_MANIFEST_DIR"),
        format.extension()
    );
    let fresh = format.render(&demo_report());
    if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (bless with SHIPSHAPE_BLESS=1)"));
    if on_disk != fresh {
        let line = on_disk
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(0, |l| l + 1);
        panic!(
            "{path} differs from the {} output (first at line {line}); bless with SHIPSHAPE_BLESS=1 if intended",
            format.name()
        );
    }
}

#[test]
fn golden_json() {
    golden(Format::Json);
}

#[test]
fn golden_sarif() {
    golden(Format::Sarif);
}

#[test]
fn golden_html() {
    golden(Format::Html);
}

#[test]
fn golden_csv() {
    golden(Format::Csv);
}

#[test]
fn golden_markdown() {
    golden(Format::Markdown);
}

#[test]
fn json_round_trips() {
    let r = demo_report();
    let back = shipshape::report::json::parse(&Format::Json.render(&r)).unwrap();
    assert_eq!(back, r);
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    // The official 2.1.0 schema (vendored unchanged) has one `language`
    // pattern with a stray `]` that strict regex engines reject; SARIF's
    // errata correct it to the pattern below. Apply that erratum here.
    let text = include_str!("fixtures/sarif-schema-2.1.0.json").replace(
        r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
        r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft7::new(&schema).expect("the official schema compiles");
    let doc: serde_json::Value =
        serde_json::from_str(&Format::Sarif.render(&demo_report())).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF schema errors:\n{}",
        errors.join("\n")
    );

    // What GitHub code scanning needs beyond the schema.
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(
        rules.len(),
        shipshape::rules::ALL.len(),
        "one rule per check"
    );
    for r in rules {
        assert!(r["help"]["text"].as_str().is_some_and(|t| t.len() > 20));
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        let loc = &res["locations"][0];
        assert!(
            loc["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| !u.is_empty())
        );
        assert!(loc["logicalLocations"][0]["name"].is_string());
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(res["partialFingerprints"]["shipshapeFinding/v1"].is_string());
    }
}

#[test]
fn csv_parses_with_one_row_per_finding() {
    let r = demo_report();
    let text = Format::Csv.render(&r);
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().len(),
        shipshape::report::csv::COLUMNS.len()
    );
    assert_eq!(rd.records().count(), r.all_findings().count());
}

/// Parse the HTML as a browser would and check nothing in it can run or
/// load anything.
pub fn assert_inert_html(html: &str) {
    let doc = scraper::Html::parse_document(html);
    let any = |sel: &str| doc.select(&scraper::Selector::parse(sel).unwrap()).count();
    assert_eq!(any("script"), 0, "no script elements");
    assert_eq!(
        any("img, iframe, object, embed, link, base, form, video, audio"),
        0,
        "no loading elements"
    );
    for el in doc
        .root_element()
        .descendants()
        .filter_map(scraper::ElementRef::wrap)
    {
        for (name, value) in el.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "event handler attribute {name} on <{}>",
                el.value().name()
            );
            if name == "href" {
                assert!(value.starts_with('#'), "only in-page links: {value}");
            }
            if name == "src" {
                panic!("a src attribute on <{}>", el.value().name());
            }
        }
    }
}

#[test]
fn html_is_inert_and_complete() {
    let r = demo_report();
    let html = Format::Html.render(&r);
    assert_inert_html(&html);
    let doc = scraper::Html::parse_document(&html);
    let sections = doc
        .select(&scraper::Selector::parse("h2[id^=c]:not(#contents)").unwrap())
        .count();
    assert_eq!(sections, r.containers.len(), "a section per container");
    let findings = doc
        .select(&scraper::Selector::parse("div.finding").unwrap())
        .count();
    assert_eq!(
        findings,
        r.all_findings().count(),
        "every finding is in the report"
    );
}
