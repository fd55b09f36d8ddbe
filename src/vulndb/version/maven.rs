//! Maven's version order: `ComparableVersion` of maven-artifact 3.8
//! (lists split at `.`, `-` and digit/letter transitions; the qualifiers
//! alpha < beta < milestone < rc < snapshot < release < sp; unknown
//! qualifiers after those, alphabetically; trailing zeros and release
//! qualifiers dropped).
//!
//! Checked against Maven itself: `tests/data/versions/oracle.tsv` holds
//! pairs that `scripts/version-oracles.sh` had maven-artifact compare.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number, leading zeros stripped (compared by length, then digits).
    Int(String),
    /// A qualifier, already in its comparable form (`"0"`…`"6"`, or
    /// `"7-name"` for one Maven does not know).
    Str(String),
    /// What follows a `-` (or a digit/letter transition).
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
/// The comparable form of the release qualifier `""`.
const RELEASE: &str = "5";

fn qualifier(raw: &str, followed_by_digit: bool) -> Item {
    let mut v = raw;
    if followed_by_digit && raw.len() == 1 {
        v = match raw {
            "a" => "alpha",
            "b" => "beta",
            "m" => "milestone",
            _ => raw,
        };
    }
    v = match v {
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        _ => v,
    };
    Item::Str(match QUALIFIERS.iter().position(|q| *q == v) {
        Some(i) => i.to_string(),
        None => format!("{}-{v}", QUALIFIERS.len()),
    })
}

fn number(raw: &str) -> Item {
    Item::Int(raw.trim_start_matches('0').to_string())
}

fn item(digit: bool, raw: &str) -> Item {
    if digit {
        number(raw)
    } else {
        qualifier(raw, false)
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Int(n) => n.is_empty(),
            Item::Str(s) => s == RELEASE,
            Item::List(l) => l.is_empty(),
        }
    }

    /// `compareTo(null)`: against the end of the other list.
    fn cmp_end(&self) -> Ordering {
        match self {
            Item::Int(n) => {
                if n.is_empty() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Item::Str(s) => s.as_str().cmp(RELEASE),
            Item::List(l) => l.first().map_or(Ordering::Equal, Item::cmp_end),
        }
    }

    fn cmp(&self, other: &Item) -> Ordering {
        use Item::*;
        match (self, other) {
            (Int(a), Int(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            (Int(_), _) => Ordering::Greater,
            (Str(_), Int(_)) | (Str(_), List(_)) => Ordering::Less,
            (Str(a), Str(b)) => a.cmp(b),
            (List(_), Int(_)) => Ordering::Less,
            (List(_), Str(_)) => Ordering::Greater,
            (List(a), List(b)) => {
                for k in 0..a.len().max(b.len()) {
                    let o = match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (Some(x), None) => x.cmp_end(),
                        (None, Some(y)) => y.cmp_end().reverse(),
                        (None, None) => Ordering::Equal,
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Drops the trailing null items of a list (`1.0` is `1`, `1-ga` is `1`),
/// stopping at the first that is not null and not a list.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// The list being filled: the innermost.
fn top(stack: &mut [Vec<Item>]) -> &mut Vec<Item> {
    let n = stack.len() - 1;
    &mut stack[n]
}

/// Parses as `ComparableVersion.parseVersion` does. Each new list is the
/// last item of the one before it, so the open lists are a stack.
fn parse(version: &str) -> Item {
    let v = version.to_lowercase();
    let chars: Vec<char> = v.chars().collect();
    // Lists from the root to the one being filled.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let push_list = |stack: &mut Vec<Vec<Item>>| stack.push(Vec::new());
    let mut digit = false;
    let mut start = 0;
    let text = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' {
            let it = if i == start {
                Item::Int(String::new())
            } else {
                item(digit, &text(start, i))
            };
            top(&mut stack).push(it);
            start = i + 1;
        } else if c == '-' {
            let it = if i == start {
                Item::Int(String::new())
            } else {
                item(digit, &text(start, i))
            };
            top(&mut stack).push(it);
            start = i + 1;
            push_list(&mut stack);
        } else if c.is_ascii_digit() {
            if !digit && i > start {
                // `1.0.0.X1` < `1.0.0-X2`: a qualifier before a number opens a list.
                if !top(&mut stack).is_empty() {
                    push_list(&mut stack);
                }
                top(&mut stack).push(qualifier(&text(start, i), true));
                start = i;
                push_list(&mut stack);
            }
            digit = true;
        } else {
            if digit && i > start {
                top(&mut stack).push(number(&text(start, i)));
                start = i;
                push_list(&mut stack);
            }
            digit = false;
        }
    }
    if chars.len() > start {
        if !digit && !top(&mut stack).is_empty() {
            push_list(&mut stack);
        }
        top(&mut stack).push(item(digit, &text(start, chars.len())));
    }
    // Each list is an item of the one before it; normalise from the
    // innermost out, as the parser's stack unwinds.
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        top(&mut stack).push(Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    Item::List(root)
}

/// Two Maven versions in Maven's order.
pub fn compare(a: &str, b: &str) -> Ordering {
    parse(a.trim()).cmp(&parse(b.trim()))
}
