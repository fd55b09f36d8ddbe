//! The rule catalogue as Markdown, rendered from the registry — the source
//! of `docs/rules.md` (a test keeps that file current).

use std::fmt::Write;

use super::{ALL, Check};

pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# shipshape rule catalogue\n\n\
         Generated from the rule registry (`src/rules/`) by `shipshape rules --markdown`. \
         Do not edit by hand.\n\n\
         | id | severity | CIS | seed rule | title |\n|---|---|---|---|---|\n",
    );
    for r in ALL {
        let _ = writeln!(
            out,
            "| [`{id}`](#{anchor}) | {sev} | {cis} | {seed} | {title} |",
            id = r.id,
            anchor = r.id.replace('.', ""),
            sev = r.severity,
            cis = r.cis.unwrap_or("—"),
            seed = r.seed.number(),
            title = r.title
        );
    }
    for r in ALL {
        let _ = write!(
            out,
            "\n## {id}\n\n**{title}** — {scope} check, default severity **{sev}**, CIS {cis}, seed rule {n} ({seed}).\n\n\
             **Why it matters.** {why}\n\n**How an attacker uses it.** {attack}\n\n**Fix.** {fix}\n",
            id = r.id,
            title = r.title,
            scope = r.check.scope(),
            sev = r.severity,
            cis = r.cis.unwrap_or("—"),
            n = r.seed.number(),
            seed = r.seed.title(),
            why = r.why,
            attack = r.attack,
            fix = r.fix.summary,
        );
        if !r.fix.run.is_empty() {
            let _ = writeln!(out, "\n- `docker run`: `{}`", r.fix.run);
        }
        if !r.fix.compose.is_empty() {
            let _ = writeln!(out, "- compose: `{}`", r.fix.compose.replace('\n', " "));
        }
        let _ = writeln!(out, "\nReferences: {}", r.references.join(", "));
        if matches!(r.check, Check::Policy) {
            let _ = writeln!(
                out,
                "\nRaised by the policy evaluation, not by a check function."
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_rules_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        let fresh = super::catalogue_markdown();
        if on_disk != fresh {
            if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
                std::fs::write(path, fresh).unwrap();
                return;
            }
            panic!(
                "docs/rules.md is out of date: run `SHIPSHAPE_BLESS=1 cargo test --lib docs_rules_md_is_current`"
            );
        }
    }
}
