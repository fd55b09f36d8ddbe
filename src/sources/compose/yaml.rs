//! A compose file's YAML as a tree that remembers the line of every key —
//! what a finding points at — built from granit-parser's events with
//! ceilings a hostile file cannot pass: its size, the nesting depth, and
//! the nodes its aliases expand to (a "billion laughs" file stops at the
//! ceiling instead of filling memory). A duplicate key is an error that
//! names both lines; YAML merge keys (`<<: *defaults`) are applied, as
//! Compose applies them. Pure (fuzz target `fuzz::compose_file`).

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

/// The largest compose file read.
pub const MAX_BYTES: usize = 10 << 20;
/// The deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 64;
/// The most nodes a file may hold, aliases expanded.
pub const MAX_NODES: usize = 1_000_000;

/// One node, with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Where it starts.
    pub line: usize,
    /// Which of the project's files it comes from (its place in the list).
    pub file: usize,
    /// What it is.
    pub value: Value,
}

/// A node's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar, as written (numbers and booleans too).
    Scalar(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping: keys in order, each with its line.
    Map(Vec<(String, usize, Node)>),
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, _, n)| n),
            _ => None,
        }
    }

    /// The line of `key` in a mapping.
    pub fn key_line(&self, key: &str) -> Option<usize> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _, _)| k == key).map(|(_, l, _)| *l),
            _ => None,
        }
    }

    /// A scalar's text.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// Mark it and everything in it as coming from file `file`.
    pub fn set_file(&mut self, file: usize) {
        self.file = file;
        match &mut self.value {
            Value::Seq(s) => s.iter_mut().for_each(|n| n.set_file(file)),
            Value::Map(m) => m.iter_mut().for_each(|(_, _, n)| n.set_file(file)),
            _ => {}
        }
    }

    /// How many nodes it holds, itself included.
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(s) => s.iter().map(Node::count).sum(),
            Value::Map(m) => m.iter().map(|(_, _, n)| n.count()).sum(),
            _ => 0,
        }
    }
}

/// Why a file is not a compose file shipshape can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    /// Not YAML.
    #[error("line {line}: {message}")]
    Syntax {
        /// Where.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// A ceiling stopped the read.
    #[error("{what} is over the ceiling of {limit}")]
    Ceiling {
        /// Which.
        what: &'static str,
        /// Its value.
        limit: String,
    },
    /// The same key twice in one mapping.
    #[error("line {line}: duplicate key '{key}' (first at line {first})")]
    DuplicateKey {
        /// The key.
        key: String,
        /// The second one's line.
        line: usize,
        /// The first one's line.
        first: usize,
    },
}

enum Frame {
    Seq(usize, usize, Vec<Node>),
    /// line, anchor, entries, a key waiting for its value.
    Map(
        usize,
        usize,
        Vec<(String, usize, Node)>,
        Option<(String, usize)>,
    ),
}

/// Parse one document (the first) into a tree.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.len() > MAX_BYTES {
        return Err(YamlError::Ceiling {
            what: "the file's size",
            limit: format!("{} MiB", MAX_BYTES >> 20),
        });
    }
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    for ev in Parser::new_from_str(text) {
        let (ev, span) = ev.map_err(|e| YamlError::Syntax {
            line: e.marker().line(),
            message: e.info().to_string(),
        })?;
        let line = span.start.line();
        let done: Option<(Node, usize)> = match ev {
            Event::StreamStart | Event::DocumentStart(..) | Event::Anchor(..) => None,
            Event::StreamEnd | Event::DocumentEnd => {
                if root.is_some() {
                    break;
                }
                None
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError::Ceiling {
                        what: "the nesting depth",
                        limit: MAX_DEPTH.to_string(),
                    });
                }
                stack.push(if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq(line, anchor, Vec::new())
                } else {
                    Frame::Map(line, anchor, Vec::new(), None)
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(l, anchor, items)) => Some((
                    Node {
                        line: l,
                        file: 0,
                        value: Value::Seq(items),
                    },
                    anchor,
                )),
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(l, anchor, entries, _)) => Some((
                    Node {
                        line: l,
                        file: 0,
                        value: Value::Map(merge_keys(entries)),
                    },
                    anchor,
                )),
                _ => None,
            },
            Event::Scalar(v, style, anchor, _) => {
                let null = style == ScalarStyle::Plain
                    && matches!(&*v, "" | "~" | "null" | "Null" | "NULL");
                Some((
                    Node {
                        line,
                        file: 0,
                        value: if null {
                            Value::Null
                        } else {
                            Value::Scalar(v.into_owned())
                        },
                    },
                    anchor,
                ))
            }
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id) else {
                    return Err(YamlError::Syntax {
                        line,
                        message: "an alias to an unknown anchor".into(),
                    });
                };
                let size = n.count();
                if nodes + size > MAX_NODES {
                    return Err(YamlError::Ceiling {
                        what: "the nodes its aliases expand to",
                        limit: MAX_NODES.to_string(),
                    });
                }
                nodes += size;
                Some((Node { line, ..n.clone() }, 0))
            }
            _ => None,
        };
        let Some((node, anchor)) = done else { continue };
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(YamlError::Ceiling {
                what: "the nodes of the file",
                limit: MAX_NODES.to_string(),
            });
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq(_, _, items)) => items.push(node),
            Some(Frame::Map(_, _, entries, pending)) => match pending.take() {
                None => {
                    let key = match &node.value {
                        Value::Scalar(s) => s.clone(),
                        Value::Null => String::new(),
                        _ => {
                            return Err(YamlError::Syntax {
                                line: node.line,
                                message: "a mapping key that is not a scalar".into(),
                            });
                        }
                    };
                    if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == key) {
                        return Err(YamlError::DuplicateKey {
                            key,
                            line: node.line,
                            first: *first,
                        });
                    }
                    *pending = Some((key, node.line));
                }
                Some((key, key_line)) => entries.push((key, key_line, node)),
            },
        }
    }
    Ok(root.unwrap_or(Node {
        line: 1,
        file: 0,
        value: Value::Null,
    }))
}

/// A mapping's `<<` merge keys applied: the merged mappings' entries come
/// in where the mapping does not set them itself.
fn merge_keys(entries: Vec<(String, usize, Node)>) -> Vec<(String, usize, Node)> {
    if !entries.iter().any(|(k, _, _)| k == "<<") {
        return entries;
    }
    let mut own: Vec<(String, usize, Node)> = Vec::new();
    let mut merged: Vec<Node> = Vec::new();
    for (k, l, n) in entries {
        if k == "<<" {
            match n.value {
                Value::Seq(items) => merged.extend(items),
                _ => merged.push(n),
            }
        } else {
            own.push((k, l, n));
        }
    }
    for m in merged {
        if let Value::Map(from) = m.value {
            for (k, l, n) in from {
                if !own.iter().any(|(o, _, _)| *o == k) {
                    own.push((k, l, n));
                }
            }
        }
    }
    own
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_remember_their_lines_and_merge_keys_apply() {
        let text = "x-defaults: &defaults\n  restart: always\n  read_only: true\nservices:\n  api:\n    <<: *defaults\n    image: shop/api:1.4\n    read_only: false\n    ports:\n      - \"8080:80\"\n";
        let root = parse(text).unwrap();
        let api = root.get("services").unwrap().get("api").unwrap();
        assert_eq!(api.key_line("image"), Some(7));
        assert_eq!(
            api.get("read_only").unwrap().as_str(),
            Some("false"),
            "its own value wins"
        );
        assert_eq!(api.get("restart").unwrap().as_str(), Some("always"));
        assert_eq!(api.key_line("ports"), Some(9));
        assert_eq!(root.get("services").unwrap().key_line("api"), Some(5));
    }

    #[test]
    fn hostile_files_stop_with_a_reason() {
        let dup = "services:\n  api:\n    image: a\n    image: b\n";
        assert_eq!(
            parse(dup),
            Err(YamlError::DuplicateKey {
                key: "image".into(),
                line: 4,
                first: 3
            })
        );
        // Billion laughs.
        let mut laughs = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
        let mut prev = "a";
        for n in names {
            laughs.push_str(&format!("{n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = n;
        }
        assert!(matches!(
            parse(&laughs),
            Err(YamlError::Ceiling {
                what: "the nodes its aliases expand to",
                ..
            })
        ));
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(matches!(
            parse(&deep),
            Err(YamlError::Ceiling {
                what: "the nesting depth",
                ..
            })
        ));
        let big = "a: b\n".repeat(MAX_BYTES / 5 + 10);
        assert!(matches!(
            parse(&big),
            Err(YamlError::Ceiling {
                what: "the file's size",
                ..
            })
        ));
        assert!(matches!(parse("a: [b\n"), Err(YamlError::Syntax { .. })));
    }
}
