//! Engine-provided text made safe to show to a person.
//!
//! Container names, labels, image history, commands and versions are chosen
//! by whoever built or started the container. Shown as they are, control
//! characters rewrite a terminal (`ESC ]0;…`, `ESC [2J`), bidi overrides
//! make `evil<U+202E>gpj.exe` read as `evilexe.jpg`, and zero-width characters
//! make two different names look the same. Every human-facing output (the
//! window, the terminal, HTML, Markdown, CSV) shows them as visible escapes
//! through this one function; JSON and SARIF keep the exact text, escaped
//! by their encoders.

use std::borrow::Cow;
use std::fmt::Write;

/// Does `s` hold a character [`hidden`] refuses? Plain ASCII (most of a
/// report, megabytes at a thousand containers) is checked byte by byte.
fn any_hidden(s: &str, keep_newlines: bool) -> bool {
    if s.is_ascii() {
        return s
            .bytes()
            .any(|b| b == 0x7f || (b < 0x20 && !(keep_newlines && (b == b'\n' || b == b'\t'))));
    }
    s.chars().any(|c| hidden(c, keep_newlines))
}

/// Is this a character that must not reach a person's screen as itself?
fn hidden(c: char, keep_newlines: bool) -> bool {
    match c {
        '\n' | '\t' => !keep_newlines,
        // C0, DEL and C1 controls.
        c if c.is_control() => true,
        // Bidi marks, embeddings, overrides and isolates.
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => true,
        // Zero-width and invisible formatting characters, separators that
        // break lines, the soft hyphen and the interlinear annotations.
        '\u{00AD}'
        | '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200D}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF9}'..='\u{FFFB}' => true,
        // Tag characters (invisible ASCII look-alikes).
        '\u{E0000}'..='\u{E007F}' => true,
        _ => false,
    }
}

/// Would [`visible`] escape this character?
pub fn is_hidden(c: char) -> bool {
    hidden(c, false)
}

/// Would [`visible_multiline`] escape this character?
pub fn is_hidden_multiline(c: char) -> bool {
    hidden(c, true)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !any_hidden(s, keep_newlines) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if hidden(c, keep_newlines) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of engine-provided text, with every control, bidi and invisible
/// character (newlines and tabs too) shown as an escape such as `\u{1b}`
/// or `\u{202e}`. Borrowed when there is nothing to escape.
pub fn visible(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// The same, keeping newlines and tabs (for outputs where a line break
/// stays inside its cell or block: CSV cells, HTML text).
pub fn visible_multiline(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// JSON text with every hidden character written as a `\uXXXX` escape.
///
/// The data is unchanged for any JSON reader; a person who `cat`s the file
/// (or `tail -f`s the audit log) sees escapes instead of having their
/// terminal driven. serde_json escapes C0 controls already; C1 controls,
/// DEL, bidi and invisible characters are valid raw in JSON strings. Outside
/// strings, JSON text holds only ASCII whitespace, so every such character
/// found is inside a string and may be escaped there.
pub fn json_safe(text: String) -> String {
    if !any_hidden(&text, true) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 32);
    for c in text.chars() {
        if hidden(c, true) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for HTML or XML markup (the HTML report, a notification body where
/// the service reads markup): escaped, with control, bidi and invisible
/// characters shown as escapes and line breaks kept.
pub fn escape_markup(s: &str) -> String {
    let s = visible_multiline(s);
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `512.0 MiB`, `1.5 GiB`: binary units, one decimal above bytes.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n.max(0.0);
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A ceiling for people: `512 KiB`, `32 MiB`, `2 GiB`.
pub fn ceiling(n: u64) -> String {
    match n {
        n if n >= 1 << 30 && n % (1 << 30) == 0 => format!("{} GiB", n >> 30),
        n if n >= 1 << 20 => format!("{} MiB", n >> 20),
        n => format!("{} KiB", n >> 10),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped_for_html_and_notification_bodies() {
        assert_eq!(
            escape_markup("<b>a&b</b> \"x\" 'y'\nnext"),
            "&lt;b&gt;a&amp;b&lt;/b&gt; &quot;x&quot; &#39;y&#39;\nnext"
        );
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_untouched_and_borrowed() {
        for s in ["web-1", "nginx:1.27", "ünïcödé 名前 😀", ""] {
            assert!(matches!(visible(s), Cow::Borrowed(t) if t == s));
        }
    }

    #[test]
    fn terminal_controls_bidi_and_invisibles_are_shown() {
        assert_eq!(
            visible("x\u{1b}]0;owned\u{7}\u{1b}[2J"),
            "x\\u{1b}]0;owned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(visible("a\u{9b}31m"), "a\\u{9b}31m");
        assert_eq!(visible("evil\u{202e}gpj.exe"), "evil\\u{202e}gpj.exe");
        assert_eq!(visible("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(visible("we\u{200b}b"), "we\\u{200b}b");
        assert_eq!(visible("a\nb\tc\rd"), "a\\u{a}b\\u{9}c\\u{d}d");
        assert_eq!(visible_multiline("a\nb\tc\rd"), "a\nb\tc\\u{d}d");
        assert_eq!(visible("\u{feff}\u{e0041}"), "\\u{feff}\\u{e0041}");
    }

    #[test]
    fn json_keeps_the_data_and_hides_nothing() {
        let v = serde_json::json!({
            "name": "a\u{9b}31m\u{202e}x\u{7f}\u{e0041}\n",
            "list": ["\u{200b}"],
        });
        let text = json_safe(serde_json::to_string_pretty(&v).unwrap());
        assert!(!text.chars().any(|c| hidden(c, true)), "{text}");
        assert!(
            text.contains("\\u009b") && text.contains("\\udb40\\udc41"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    proptest! {
        #[test]
        fn json_round_trips(s in any::<String>()) {
            let v = serde_json::json!({ "s": s });
            let text = json_safe(serde_json::to_string(&v).unwrap());
            prop_assert!(!text.chars().any(|c| hidden(c, true)));
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, v);
        }

        /// Whatever goes in, nothing hidden comes out, and the printable
        /// text survives in order.
        #[test]
        fn nothing_hidden_survives(s in any::<String>()) {
            let v = visible(&s);
            prop_assert!(!v.chars().any(|c| hidden(c, false)));
            let kept: String = s.chars().filter(|&c| !hidden(c, false)).collect();
            let shown: String = v.chars().collect();
            let mut rest = shown.as_str();
            for c in kept.chars() {
                let at = rest.find(c);
                prop_assert!(at.is_some());
                rest = &rest[at.unwrap_or(0) + c.len_utf8()..];
            }
        }
    }
}
