//! A Compose project as the compose specification builds it from its
//! files: each file parsed ([`super::yaml`]), its values interpolated
//! (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
//! `${VAR:+alt}`, `$$`) from the environment and the project's `.env`,
//! `extends` resolved (in the same file or another), the files merged in
//! order, and the services whose `profiles` are not enabled left out —
//! every key keeping the file and line it came from. Pure: the files'
//! texts come in with their paths.

use std::collections::BTreeMap;

use super::yaml::{self, Node, Value, YamlError};

/// The most files a project may name (several `-f`, and `extends` files).
pub const MAX_FILES: usize = 32;
/// How deep `extends` may chain.
pub const MAX_EXTENDS: usize = 10;

/// Why a project could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// A file is not YAML shipshape can read.
    #[error("{file}: {error}")]
    Yaml {
        /// The file.
        file: String,
        /// Why.
        error: YamlError,
    },
    /// A file is not a compose file.
    #[error("{file}:{line}: {why}")]
    Invalid {
        /// The file.
        file: String,
        /// Where.
        line: usize,
        /// Why.
        why: String,
    },
    /// A file could not be read.
    #[error("{file}: {why}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        why: String,
    },
}

/// One service of the project, merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Its name.
    pub name: String,
    /// Its definition, every node with its file and line.
    pub node: Node,
    /// The file and line of its key (`  api:`) in the last file that
    /// defines it.
    pub at: (usize, usize),
}

/// A loaded project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The project's name (`name:`, else the folder's).
    pub name: String,
    /// The files, in the order their index in nodes refers to.
    pub files: Vec<String>,
    /// The enabled services, in name order.
    pub services: Vec<Service>,
    /// Services left out: their profiles are not enabled.
    pub disabled: Vec<String>,
    /// Variables used but not set (interpolated as empty).
    pub unset: Vec<String>,
}

/// The path of file `f` named in file `here` (relative to `here`'s folder).
pub fn beside(here: &str, f: &str) -> String {
    let f = f.trim_start_matches("./");
    match here.rsplit_once('/') {
        _ if f.starts_with('/') => f.to_string(),
        None => f.to_string(),
        Some((dir, _)) => format!("{dir}/{f}"),
    }
}

/// What a project is loaded from.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The compose files, in merge order: (path, text).
    pub files: Vec<(String, String)>,
    /// Other files `extends` may name, by path: (path, text).
    pub others: Vec<(String, String)>,
    /// The environment: the process's, over the project's `.env`.
    pub env: BTreeMap<String, String>,
    /// The profiles enabled (`--profile`, `COMPOSE_PROFILES`).
    pub profiles: Vec<String>,
    /// The project's folder name (the default project name).
    pub folder: String,
}

/// The `KEY=value` lines of a `.env` file (comments, `export ` and quotes
/// as Compose reads them).
pub fn dotenv(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().take(10_000) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = if (v.starts_with('"') && v.ends_with('"') && v.len() >= 2)
            || (v.starts_with('\'') && v.ends_with('\'') && v.len() >= 2)
        {
            &v[1..v.len() - 1]
        } else {
            v.split(" #").next().unwrap_or(v).trim()
        };
        out.insert(k.trim().to_string(), v.to_string());
    }
    out
}

/// Interpolate one value.
fn interpolate(
    s: &str,
    env: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let end = r.find('}').ok_or("an unclosed ${")?;
            let expr = &r[..end];
            rest = &r[end + 1..];
            let name_end = expr
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(expr.len());
            let (name, op) = expr.split_at(name_end);
            let val = env.get(name).map(String::as_str);
            let set_nonempty = val.is_some_and(|v| !v.is_empty());
            let piece = match op {
                "" => val.map(str::to_string),
                _ if op.starts_with(":-") => Some(if set_nonempty {
                    val.unwrap_or("").to_string()
                } else {
                    op[2..].to_string()
                }),
                _ if op.starts_with('-') => {
                    Some(val.map_or_else(|| op[1..].to_string(), str::to_string))
                }
                _ if op.starts_with(":?") => {
                    if set_nonempty {
                        val.map(str::to_string)
                    } else {
                        return Err(format!("{name} is required: {}", &op[2..]));
                    }
                }
                _ if op.starts_with('?') => match val {
                    Some(v) => Some(v.to_string()),
                    None => return Err(format!("{name} is required: {}", &op[1..])),
                },
                _ if op.starts_with(":+") => Some(if set_nonempty {
                    op[2..].to_string()
                } else {
                    String::new()
                }),
                _ if op.starts_with('+') => Some(if val.is_some() {
                    op[1..].to_string()
                } else {
                    String::new()
                }),
                _ => return Err(format!("${{{expr}}} is not an interpolation Compose knows")),
            };
            match piece {
                Some(p) => out.push_str(&p),
                None => {
                    if !unset.iter().any(|u| u == name) {
                        unset.push(name.to_string());
                    }
                }
            }
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if end == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            let name = &after[..end];
            match env.get(name) {
                Some(v) => out.push_str(v),
                None => {
                    if !unset.iter().any(|u| u == name) {
                        unset.push(name.to_string());
                    }
                }
            }
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn interpolate_node(
    n: &mut Node,
    env: &BTreeMap<String, String>,
    unset: &mut Vec<String>,
) -> Result<(), (usize, String)> {
    match &mut n.value {
        Value::Scalar(s) if s.contains('$') => {
            *s = interpolate(s, env, unset).map_err(|e| (n.line, e))?;
        }
        Value::Seq(items) => {
            for i in items {
                interpolate_node(i, env, unset)?;
            }
        }
        Value::Map(m) => {
            for (_, _, v) in m {
                interpolate_node(v, env, unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Keys whose sequences are merged (appended, without repeats) across
/// files and `extends`; any other sequence is replaced.
const APPENDED: [&str; 14] = [
    "ports",
    "expose",
    "volumes",
    "secrets",
    "configs",
    "cap_add",
    "cap_drop",
    "devices",
    "dns",
    "security_opt",
    "env_file",
    "tmpfs",
    "extra_hosts",
    "external_links",
];

/// `environment`, `labels` and the like written as a list of `K=V` are a
/// mapping: written either way, they merge by key.
fn as_map(n: Node) -> Node {
    match n.value {
        Value::Seq(items) => {
            let mut m: Vec<(String, usize, Node)> = Vec::new();
            for i in items {
                let Some(s) = i.as_str() else { continue };
                let (k, v) = match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), Value::Scalar(v.to_string())),
                    None => (s.to_string(), Value::Null),
                };
                m.retain(|(x, _, _)| *x != k);
                m.push((
                    k,
                    i.line,
                    Node {
                        line: i.line,
                        file: i.file,
                        value: v,
                    },
                ));
            }
            Node {
                value: Value::Map(m),
                ..n
            }
        }
        _ => n,
    }
}

/// `over` laid on `base`, as Compose merges a service defined twice.
fn merge(base: Node, over: Node, key: &str) -> Node {
    let keyed = matches!(
        key,
        "environment" | "labels" | "sysctls" | "annotations" | "extra_hosts"
    );
    let (base, over) = if keyed {
        (as_map(base), as_map(over))
    } else {
        (base, over)
    };
    match (base.value, over.value) {
        (Value::Map(mut b), Value::Map(o)) => {
            for (k, l, v) in o {
                match b.iter().position(|(x, _, _)| *x == k) {
                    Some(i) => {
                        let (_, _, old) = b.remove(i);
                        let merged = merge(old, v, &k);
                        b.insert(i, (k, l, merged));
                    }
                    None => b.push((k, l, v)),
                }
            }
            Node {
                line: over.line,
                file: over.file,
                value: Value::Map(b),
            }
        }
        (Value::Seq(mut b), Value::Seq(o)) if APPENDED.contains(&key) => {
            for v in o {
                if !b.iter().any(|x| x.value == v.value) {
                    b.push(v);
                }
            }
            Node {
                line: over.line,
                file: over.file,
                value: Value::Seq(b),
            }
        }
        (_, value) => Node {
            line: over.line,
            file: over.file,
            value,
        },
    }
}

/// The services mapping of a parsed file.
fn services(root: &Node) -> Vec<(String, usize, Node)> {
    match root.get("services").map(|s| &s.value) {
        Some(Value::Map(m)) => m.clone(),
        _ => Vec::new(),
    }
}

/// Load a project.
pub fn load(input: &Input) -> Result<Project, ComposeError> {
    if input.files.len() + input.others.len() > MAX_FILES {
        return Err(ComposeError::Read {
            file: input.files.first().map(|f| f.0.clone()).unwrap_or_default(),
            why: format!("more than {MAX_FILES} compose files"),
        });
    }
    let mut files: Vec<String> = Vec::new();
    let mut parsed: Vec<Node> = Vec::new();
    let mut unset = Vec::new();
    let mut parse_one =
        |path: &str, text: &str, files: &mut Vec<String>| -> Result<Node, ComposeError> {
            let mut root = yaml::parse(text).map_err(|error| ComposeError::Yaml {
                file: path.to_string(),
                error,
            })?;
            let idx = files.len();
            files.push(path.to_string());
            root.set_file(idx);
            interpolate_node(&mut root, &input.env, &mut unset).map_err(|(line, why)| {
                ComposeError::Invalid {
                    file: path.to_string(),
                    line,
                    why,
                }
            })?;
            if !matches!(root.value, Value::Map(_) | Value::Null) {
                return Err(ComposeError::Invalid {
                    file: path.to_string(),
                    line: root.line,
                    why: "a compose file is a mapping (services:, networks:, …)".into(),
                });
            }
            Ok(root)
        };
    for (path, text) in &input.files {
        let root = parse_one(path, text, &mut files)?;
        parsed.push(root);
    }
    let mut others: BTreeMap<String, Node> = BTreeMap::new();
    for (path, text) in &input.others {
        let root = parse_one(path, text, &mut files)?;
        others.insert(path.clone(), root);
    }
    // Merge the files in order.
    let mut merged: Vec<(String, usize, Node)> = Vec::new();
    let mut name = String::new();
    for root in &parsed {
        if let Some(n) = root.get("name").and_then(Node::as_str) {
            name = n.to_string();
        }
        for (svc, line, node) in services(root) {
            match merged.iter().position(|(s, _, _)| *s == svc) {
                Some(i) => {
                    let (_, _, old) = merged.remove(i);
                    let m = merge(old, node, "");
                    merged.insert(i, (svc, line, m));
                }
                None => merged.push((svc, line, node)),
            }
        }
    }
    // `extends`, innermost first.
    let by_name: BTreeMap<String, Node> = merged
        .iter()
        .map(|(s, _, n)| (s.clone(), n.clone()))
        .collect();
    let file_of = |n: &Node| files.get(n.file).cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut disabled = Vec::new();
    for (svc, line, node) in merged {
        let mut node = node;
        let mut seen = Vec::new();
        while let Some(ext) = node.get("extends").cloned() {
            if seen.len() >= MAX_EXTENDS {
                return Err(ComposeError::Invalid {
                    file: file_of(&ext),
                    line: ext.line,
                    why: format!("extends chains more than {MAX_EXTENDS} deep"),
                });
            }
            let (base_name, base_file) = match &ext.value {
                Value::Scalar(s) => (s.clone(), None),
                Value::Map(_) => (
                    ext.get("service")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_string(),
                    ext.get("file").and_then(Node::as_str).map(str::to_string),
                ),
                _ => (String::new(), None),
            };
            let key = format!("{}#{base_name}", base_file.clone().unwrap_or_default());
            if seen.contains(&key) {
                return Err(ComposeError::Invalid {
                    file: file_of(&ext),
                    line: ext.line,
                    why: format!("extends loops back to {base_name}"),
                });
            }
            seen.push(key);
            let base = match &base_file {
                None => by_name.get(&base_name).cloned(),
                Some(f) => {
                    let path = beside(&file_of(&ext), f);
                    others
                        .get(&path)
                        .or_else(|| {
                            parsed
                                .iter()
                                .zip(&input.files)
                                .find(|(_, (p, _))| *p == path)
                                .map(|(n, _)| n)
                        })
                        .and_then(|root| root.get("services")?.get(&base_name).cloned())
                }
            };
            let Some(base) = base else {
                return Err(ComposeError::Invalid {
                    file: file_of(&ext),
                    line: ext.line,
                    why: format!(
                        "extends names service '{base_name}'{}, which is not there",
                        base_file.map(|f| format!(" in {f}")).unwrap_or_default()
                    ),
                });
            };
            let mut own = node.clone();
            if let Value::Map(m) = &mut own.value {
                m.retain(|(k, _, _)| k != "extends");
            }
            node = merge(base, own, "");
        }
        let profiles: Vec<String> = match node.get("profiles").map(|p| &p.value) {
            Some(Value::Seq(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        if !profiles.is_empty()
            && !profiles
                .iter()
                .any(|p| input.profiles.contains(p) || input.profiles.iter().any(|e| e == "*"))
        {
            disabled.push(svc);
            continue;
        }
        let at = (node.file, line);
        out.push(Service {
            name: svc,
            node,
            at,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    if name.is_empty() {
        name = input.folder.clone();
    }
    Ok(Project {
        name,
        files,
        services: out,
        disabled,
        unset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(files: &[(&str, &str)]) -> Input {
        Input {
            files: files
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            folder: "shop".into(),
            ..Input::default()
        }
    }

    #[test]
    fn interpolation_as_compose_does_it() {
        let env: BTreeMap<String, String> = [
            ("TAG".to_string(), "1.4".to_string()),
            ("EMPTY".to_string(), String::new()),
        ]
        .into();
        let mut unset = Vec::new();
        let i = |s: &str, unset: &mut Vec<String>| interpolate(s, &env, unset).unwrap();
        assert_eq!(i("shop/api:${TAG}", &mut unset), "shop/api:1.4");
        assert_eq!(i("$TAG-$$HOME", &mut unset), "1.4-$HOME");
        assert_eq!(i("${EMPTY:-x} ${EMPTY-y} ${NOPE-z}", &mut unset), "x  z");
        assert_eq!(i("${TAG:+set} ${NOPE:+set}", &mut unset), "set ");
        assert_eq!(i("${MISSING}", &mut unset), "");
        assert_eq!(unset, ["MISSING"]);
        assert!(
            interpolate("${NOPE:?give it}", &env, &mut unset)
                .unwrap_err()
                .contains("give it")
        );
        assert!(interpolate("${TAG", &env, &mut unset).is_err());
    }

    #[test]
    fn files_merge_extend_and_profiles_keep_their_lines() {
        let base = "name: shop\nservices:\n  api:\n    image: shop/api:${TAG:-1.0}\n    cap_add: [NET_ADMIN]\n    environment:\n      - LOG=info\n  debug:\n    image: busybox\n    profiles: [debug]\n  worker:\n    extends: api\n    command: work\n";
        let over = "services:\n  api:\n    privileged: true\n    cap_add: [SYS_ADMIN]\n    environment:\n      LOG: debug\n";
        let p = load(&input(&[
            ("/p/compose.yaml", base),
            ("/p/compose.override.yaml", over),
        ]))
        .unwrap();
        assert_eq!(p.name, "shop");
        assert_eq!(p.disabled, ["debug"]);
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "worker"]);
        let api = &p.services[0].node;
        assert_eq!(api.get("image").unwrap().as_str(), Some("shop/api:1.0"));
        let priv_ = api.get("privileged").unwrap();
        assert_eq!(
            (p.files[priv_.file].as_str(), priv_.line),
            ("/p/compose.override.yaml", 3)
        );
        let caps: Vec<&str> = match &api.get("cap_add").unwrap().value {
            Value::Seq(s) => s.iter().filter_map(Node::as_str).collect(),
            _ => vec![],
        };
        assert_eq!(caps, ["NET_ADMIN", "SYS_ADMIN"], "appended");
        assert_eq!(
            api.get("environment").unwrap().get("LOG").unwrap().as_str(),
            Some("debug")
        );
        let worker = &p.services[1].node;
        assert_eq!(worker.get("command").unwrap().as_str(), Some("work"));
        assert!(worker.get("extends").is_none());
        let img = worker.get("image").unwrap();
        assert_eq!((img.file, img.line), (0, 4), "from the service it extends");
        // With the profile on.
        let mut with = input(&[("/p/compose.yaml", base)]);
        with.profiles = vec!["debug".into()];
        assert_eq!(load(&with).unwrap().services.len(), 3);
        // extends of a service in another file.
        let mut x = input(&[(
            "/p/compose.yaml",
            "services:\n  web:\n    extends:\n      file: common.yaml\n      service: base\n",
        )]);
        x.others = vec![(
            "/p/common.yaml".into(),
            "services:\n  base:\n    image: nginx\n    read_only: true\n".into(),
        )];
        let p = load(&x).unwrap();
        assert_eq!(
            p.services[0].node.get("read_only").unwrap().as_str(),
            Some("true")
        );
        let loops = input(&[(
            "/p/c.yaml",
            "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
        )]);
        assert!(load(&loops).unwrap_err().to_string().contains("loops"));
    }

    #[test]
    fn dotenv_as_compose_reads_it() {
        let e = dotenv("# comment\nTAG=1.4\nexport NAME=\"shop api\"\nX='y' \nY=z # trailing\n");
        assert_eq!(e["TAG"], "1.4");
        assert_eq!(e["NAME"], "shop api");
        assert_eq!(e["Y"], "z");
    }
}
