//! The engine's list answers (`GET /containers/json`, `GET /images/json`),
//! read one entry at a time.
//!
//! A list is written by the engine, but a hostile, broken or merely
//! different engine can put anything in one entry: a number past `i64`
//! (`SizeRootFs` = `u64::MAX`), bytes that are not UTF-8, an id that is a
//! path (`../../images/json?x=`). Parsed whole, one such entry lost every
//! other container of the scan. Here the array is split into its entries
//! without decoding them ([`entries`]); each is parsed on its own, into
//! only the fields a scan reads from a list (the rest comes from inspect),
//! and an entry that cannot be read is one warning naming it. Ids must be
//! what an engine gives ([`super::is_engine_id`]): they go into request
//! paths. At most a ceiling of entries is kept; what was cut is said, so a
//! cut list is never taken for the whole.

use std::collections::HashSet;

use serde::Deserialize;

use crate::model::{ContainerState, Warning, WarningKind};

/// Entries that could not be read are named one by one up to this many;
/// the rest are counted in one more warning.
pub const NAMED_WARNINGS: usize = 20;

/// A container as the list gives it: what a scan needs before inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedContainer {
    /// Its id (an engine id: [`super::is_engine_id`]).
    pub id: String,
    /// Its state as listed.
    pub state: ContainerState,
}

/// An image as the list gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedImage {
    /// Its id (an engine id: [`super::is_engine_id`]).
    pub id: String,
    /// `repo:tag` names, without `<none>:<none>`.
    pub tags: Vec<String>,
    /// `repo@digest` names, without `<none>@<none>` (what inspect says of
    /// an image with none: a light pass compares the two).
    pub digests: Vec<String>,
}

/// What was read of one list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listed<T> {
    /// The entries kept, at most the ceiling.
    pub items: Vec<T>,
    /// Entries not read, entries cut, a list cut short: one line each.
    /// When `items` is less than the engine listed, one of them says so
    /// (of kind [`WarningKind::Truncated`]).
    pub warnings: Vec<Warning>,
}

/// The top-level entries of a JSON array, each as the bytes of one value,
/// without decoding or validating what is inside strings. `null` is an
/// empty list. An array that breaks off (or is not one) ends with one
/// error: the entries before it are still given.
pub fn entries(body: &[u8]) -> Entries<'_> {
    Entries {
        body,
        pos: 0,
        state: Scan::Start,
    }
}

/// See [`entries`].
#[derive(Debug)]
pub struct Entries<'a> {
    body: &'a [u8],
    pos: usize,
    state: Scan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    Start,
    /// Before an entry (after `[` or `,`).
    Entry {
        first: bool,
    },
    /// After the last whole entry: why the list cannot be read on.
    Broken(&'static str),
    Done,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Entries<'a> {
    fn skip_ws(&mut self) {
        while self.body.get(self.pos).copied().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    fn fail(&mut self, what: &str) -> Option<Result<&'a [u8], String>> {
        self.state = Scan::Done;
        Some(Err(format!("{what} at byte {}", self.pos)))
    }

    /// The end of the value starting at `self.pos` (exclusive).
    fn value_end(&self) -> Result<usize, &'static str> {
        let b = self.body;
        let mut i = self.pos;
        let mut depth = 0usize;
        let mut in_string = false;
        while i < b.len() {
            let c = b[i];
            if in_string {
                match c {
                    b'\\' => i += 1,
                    b'"' => {
                        in_string = false;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
            } else if depth == 0 && i > self.pos && (is_ws(c) || c == b',') {
                // The end of a number, `true`, `false` or `null`.
                return Ok(i);
            } else {
                match c {
                    b'"' => in_string = true,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => {
                        if depth == 0 {
                            // The end of the outer array: a scalar ends here.
                            return if i > self.pos {
                                Ok(i)
                            } else {
                                Err("an empty entry")
                            };
                        }
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    b',' if depth == 0 => {
                        return if i > self.pos {
                            Ok(i)
                        } else {
                            Err("an empty entry")
                        };
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        Err("the list breaks off")
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<&'a [u8], String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.state {
                Scan::Done => return None,
                Scan::Broken(why) => return self.fail(why),
                Scan::Start => {
                    self.skip_ws();
                    let rest = &self.body[self.pos..];
                    if rest.starts_with(b"null") {
                        self.state = Scan::Done;
                        return None;
                    }
                    if rest.first() != Some(&b'[') {
                        return self.fail("not a list");
                    }
                    self.pos += 1;
                    self.state = Scan::Entry { first: true };
                }
                Scan::Entry { first } => {
                    self.skip_ws();
                    match self.body.get(self.pos) {
                        None => return self.fail("the list breaks off"),
                        Some(b']') if first => {
                            self.state = Scan::Done;
                            return None;
                        }
                        _ => {}
                    }
                    let end = match self.value_end() {
                        Ok(e) => e,
                        Err(why) => return self.fail(why),
                    };
                    let mut value = &self.body[self.pos..end];
                    while value.last().copied().is_some_and(is_ws) {
                        value = &value[..value.len() - 1];
                    }
                    self.pos = end;
                    self.skip_ws();
                    match self.body.get(self.pos) {
                        Some(b',') => {
                            self.pos += 1;
                            self.state = Scan::Entry { first: false };
                        }
                        Some(b']') => self.state = Scan::Done,
                        // The entry is whole; the missing rest is said by
                        // the next call.
                        None => self.state = Scan::Entry { first: false },
                        Some(_) => self.state = Scan::Broken("a list entry is followed by garbage"),
                    }
                    return Some(Ok(value));
                }
            }
        }
    }
}

/// A name for an entry that could not be read: its first name or its id
/// when those can be made out, else its place in the list. Made safe to
/// show, and short.
fn entry_name(entry: &[u8], index: usize) -> String {
    let text = String::from_utf8_lossy(entry);
    let guess = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            let name = v["Names"][0].as_str().map(|n| n.trim_start_matches('/'));
            let tag = v["RepoTags"][0].as_str();
            name.or(tag)
                .or(v["Id"].as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        });
    match guess {
        Some(g) => {
            let shown = crate::model::text::visible(&g).into_owned();
            let mut short: String = shown.chars().take(80).collect();
            if short.len() < shown.len() {
                short.push('…');
            }
            short
        }
        None => format!("number {} in the list", index + 1),
    }
}

/// The `null`-tolerant list of strings engines write (`"RepoTags": null`).
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
struct RawContainer {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "State", default)]
    state: Option<String>,
}

#[derive(Deserialize)]
struct RawImage {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "strings")]
    tags: Vec<String>,
    #[serde(rename = "RepoDigests", default, deserialize_with = "strings")]
    digests: Vec<String>,
}

/// Warnings of one list, the named ones bounded.
struct Notes {
    kind: &'static str,
    named: Vec<Warning>,
    more: usize,
}

impl Notes {
    fn new(kind: &'static str) -> Self {
        Self {
            kind,
            named: Vec::new(),
            more: 0,
        }
    }

    fn unreadable(&mut self, entry: &[u8], index: usize, why: &str) {
        if self.named.len() < NAMED_WARNINGS {
            self.named.push(Warning::new(
                WarningKind::NotRead,
                format!(
                    "the engine's entry for {} {} could not be read: {}",
                    self.kind,
                    entry_name(entry, index),
                    crate::model::text::visible(why)
                ),
            ));
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<Warning> {
        if self.more > 0 {
            self.named.push(Warning::new(
                WarningKind::NotRead,
                format!(
                    "{} more entries of the engine's {} list could not be read",
                    self.more, self.kind
                ),
            ));
        }
        self.named
    }
}

/// Read entries of one list: each parsed alone, its id checked, repeats
/// dropped. `keep` decides, per good entry, whether there is room for it.
fn read<T, R: serde::de::DeserializeOwned>(
    body: &[u8],
    kind: &'static str,
    mut convert: impl FnMut(R) -> (String, T),
    mut keep: impl FnMut(T) -> bool,
) -> (usize, Vec<Warning>) {
    let mut notes = Notes::new(kind);
    let mut seen: HashSet<String> = HashSet::new();
    let mut repeats = 0usize;
    let mut good = 0usize;
    let mut tail = None;
    for (index, entry) in entries(body).enumerate() {
        let entry = match entry {
            Ok(e) => e,
            Err(why) => {
                tail = Some(why);
                break;
            }
        };
        let parsed = match serde_json::from_slice::<R>(entry) {
            Ok(r) => convert(r),
            Err(e) => {
                notes.unreadable(entry, index, &e.to_string());
                continue;
            }
        };
        let (id, item) = parsed;
        if !super::is_engine_id(&id) {
            notes.unreadable(entry, index, "its id is not an engine's id");
            continue;
        }
        // Only kept ids are remembered: bounded by the ceiling.
        if seen.contains(&id) {
            repeats += 1;
            continue;
        }
        good += 1;
        if keep(item) {
            seen.insert(id);
        }
    }
    let mut warnings = notes.finish();
    if repeats > 0 {
        warnings.push(Warning::new(
            WarningKind::Other,
            format!(
                "{repeats} entries of the engine's {kind} list repeat an id listed before (read once)"
            ),
        ));
    }
    if let Some(why) = tail {
        warnings.push(Warning::new(
            WarningKind::Truncated,
            format!(
                "the engine's {kind} list could not be read to its end ({}): only the {good} {kind}s before that were read, so this scan is not complete",
                crate::model::text::visible(&why)
            ),
        ));
    }
    (good, warnings)
}

/// The container list: at most `max` containers, the running ones first.
pub fn containers(body: &[u8], max: usize) -> Listed<ListedContainer> {
    let mut running = Vec::new();
    let mut others = Vec::new();
    let (good, mut warnings) = read(
        body,
        "container",
        |r: RawContainer| {
            let state = ContainerState::parse(r.state.as_deref().unwrap_or_default());
            (r.id.clone(), ListedContainer { id: r.id, state })
        },
        |c| {
            let room = if c.state == ContainerState::Running {
                &mut running
            } else {
                &mut others
            };
            let kept = room.len() < max;
            if kept {
                room.push(c);
            }
            kept
        },
    );
    let mut items = running;
    let room = max.saturating_sub(items.len());
    items.extend(others.into_iter().take(room));
    let cut = good.saturating_sub(items.len());
    if cut > 0 {
        warnings.push(Warning::new(
            WarningKind::Truncated,
            format!(
                "the engine lists {good} containers, more than the {max} shipshape reads in one scan: \
                 {cut} (stopped ones first) were not read or assessed, so this scan is not complete"
            ),
        ));
    }
    Listed { items, warnings }
}

/// The image list: at most `max` images, in the engine's order.
pub fn images(body: &[u8], max: usize) -> Listed<ListedImage> {
    let mut items = Vec::new();
    let (good, mut warnings) = read(
        body,
        "image",
        |r: RawImage| {
            (
                r.id.clone(),
                ListedImage {
                    id: r.id,
                    tags: r
                        .tags
                        .into_iter()
                        .filter(|t| t != "<none>:<none>")
                        .collect(),
                    digests: r
                        .digests
                        .into_iter()
                        .filter(|d| d != "<none>@<none>")
                        .collect(),
                },
            )
        },
        |i| {
            let kept = items.len() < max;
            if kept {
                items.push(i);
            }
            kept
        },
    );
    let cut = good.saturating_sub(items.len());
    if cut > 0 {
        warnings.push(Warning::new(
            WarningKind::Truncated,
            format!(
                "the engine lists {good} images, more than the {max} shipshape reads in one scan: \
                 {cut} were not read or assessed (those a container uses are read all the same), \
                 so this scan is not complete"
            ),
        ));
    }
    Listed { items, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const C: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    fn split(s: &[u8]) -> Vec<Result<String, String>> {
        entries(s)
            .map(|e| e.map(|b| String::from_utf8_lossy(b).into_owned()))
            .collect()
    }

    #[test]
    fn entries_are_split_without_being_decoded() {
        assert_eq!(
            split(br#" [ {"a":"x,]}"} , [1,[2]] ,"s\"]" , 7 ,null ] "#),
            [
                Ok(r#"{"a":"x,]}"}"#.to_string()),
                Ok("[1,[2]]".into()),
                Ok(r#""s\"]""#.into()),
                Ok("7".into()),
                Ok("null".into())
            ]
        );
        assert!(split(b"[]").is_empty());
        assert!(split(b"null").is_empty());
        // Bytes that are not UTF-8 stay inside their entry.
        let mut odd = br#"[{"Names":["/x"#.to_vec();
        odd.extend_from_slice(b"\xff\xfe\xc0");
        odd.extend_from_slice(br#""]},{"b":1}]"#);
        let got: Vec<_> = entries(&odd).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], Ok(&br#"{"b":1}"#[..]));
    }

    #[test]
    fn a_broken_list_gives_what_came_before_and_says_so() {
        let got = split(br#"[{"a":1},{"b":"#);
        assert_eq!(got[0], Ok(r#"{"a":1}"#.to_string()));
        assert!(
            got[1].as_ref().unwrap_err().contains("breaks off"),
            "{got:?}"
        );
        assert_eq!(got.len(), 2);
        assert!(split(b"{}")[0].is_err());
        assert!(split(b"[1 2]")[1].is_err());
        assert!(split(b"[,]")[0].is_err());
        assert!(split(br#"[{"a":1}"#)[1].is_err(), "no closing bracket");
    }

    fn list(entries: &[&str]) -> Vec<u8> {
        format!("[{}]", entries.join(",")).into_bytes()
    }

    /// Docker 20.10's own answers, captured.
    #[test]
    fn the_engines_own_lists_are_read_whole() {
        let c = containers(
            include_bytes!("../../../tests/fixtures/containers-list.json"),
            100,
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let states: Vec<ContainerState> = c.items.iter().map(|c| c.state).collect();
        assert_eq!(states, [ContainerState::Running, ContainerState::Created]);
        let i = images(
            include_bytes!("../../../tests/fixtures/images-list.json"),
            100,
        );
        assert!(i.warnings.is_empty(), "{:?}", i.warnings);
        assert_eq!(i.items.len(), 2);
        assert!(i.items[0].tags.is_empty(), "no <none>:<none>");
        assert!(i.items[0].digests.is_empty(), "no <none>@<none>");
        assert_eq!(
            i.items[1].tags,
            ["shipshape-test/base:1", "shipshape-test/base:latest"]
        );
    }

    #[test]
    fn one_bad_entry_is_a_warning_and_the_others_are_read() {
        let mut body = list(&[
            &format!(
                r#"{{"Id":"{A}","Names":["/web"],"State":"running","SizeRootFs":18446744073709551615}}"#
            ),
            r#"{"Id":12,"Names":["/numbered"]}"#,
            r#"{"Id":"../../images/json?x=","Names":["/pathy"]}"#,
        ]);
        // One entry whose id has bytes that are not UTF-8.
        body.pop();
        body.extend_from_slice(br#",{"Names":["/odd"],"Id":"a"#);
        body.extend_from_slice(b"\xff\xfe\xc0");
        body.extend_from_slice(format!(r#""}},{{"Id":"{B}","State":"exited"}}]"#).as_bytes());
        let got = containers(&body, 100);
        assert_eq!(
            got.items,
            [
                ListedContainer {
                    id: A.into(),
                    state: ContainerState::Running
                },
                ListedContainer {
                    id: B.into(),
                    state: ContainerState::Exited
                }
            ]
        );
        assert_eq!(got.warnings.len(), 3, "{:#?}", got.warnings);
        assert!(got.warnings[0].text.starts_with(
            "the engine's entry for container numbered could not be read: invalid type"
        ));
        assert_eq!(
            got.warnings[1].text,
            "the engine's entry for container pathy could not be read: its id is not an engine's id"
        );
        assert!(
            got.warnings[2]
                .text
                .starts_with("the engine's entry for container odd could not be read"),
            "{}",
            got.warnings[2].text
        );
    }

    #[test]
    fn a_long_list_is_cut_running_first_and_said() {
        let entry = |id: &str, state: &str| format!(r#"{{"Id":"{id}","State":"{state}"}}"#);
        let body = list(&[
            &entry(A, "exited"),
            &entry(B, "running"),
            &entry(C, "created"),
            &entry(B, "running"),
        ]);
        let got = containers(&body, 2);
        let ids: Vec<&str> = got.items.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, [B, A], "running first, then in the engine's order");
        assert!(
            got.warnings.iter().any(|w| w.text
                == "the engine lists 3 containers, more than the 2 shipshape reads in one scan: \
                    1 (stopped ones first) were not read or assessed, so this scan is not complete"),
            "{:#?}",
            got.warnings
        );
        assert!(
            got.warnings.iter().any(|w| w
                .text
                .starts_with("1 entries of the engine's container list repeat")),
            "{:#?}",
            got.warnings
        );
    }

    #[test]
    fn named_warnings_are_bounded() {
        let bad: Vec<String> = (0..100).map(|_| "{}".to_string()).collect();
        let refs: Vec<&str> = bad.iter().map(String::as_str).collect();
        let got = containers(&list(&refs), 10);
        assert!(got.items.is_empty());
        assert_eq!(got.warnings.len(), NAMED_WARNINGS + 1);
        assert_eq!(
            got.warnings.last().unwrap().text,
            "80 more entries of the engine's container list could not be read"
        );
        assert!(got.warnings[0].text.contains("number 1 in the list"));
    }

    #[test]
    fn images_keep_tags_and_digests_without_placeholders() {
        let body = list(&[
            &format!(
                r#"{{"Id":"sha256:{A}","RepoTags":["<none>:<none>","x:1"],"RepoDigests":null,"Size":-5}}"#
            ),
            &format!(r#"{{"Id":"sha256:../{A}"}}"#),
        ]);
        let got = images(&body, 10);
        assert_eq!(
            got.items,
            [ListedImage {
                id: format!("sha256:{A}"),
                tags: vec!["x:1".into()],
                digests: vec![],
            }]
        );
        assert_eq!(got.warnings.len(), 1);
        let broken = images(format!(r#"[{{"Id":"{A}"}},"#).as_bytes(), 10);
        assert_eq!(broken.items.len(), 1);
        assert!(
            broken.warnings[0]
                .text
                .contains("could not be read to its end")
        );
        assert_eq!(broken.warnings[0].kind, WarningKind::Truncated);
    }
}
