//! The `with_<lookup>` loops Ansible's own lookups give (sequence, together, nested, subelements,
//! indexed_items, flattened, lines, fileglob, first_found, random_choice): a rendered term list in,
//! loop items out. `with_items`/`with_list`/`with_dict` are in loops.rs.
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Names `with_<name>` accepts (checked at load time; anything else is refused there).
pub const LOOKUPS: &[&str] = &["sequence", "together", "nested", "cartesian", "subelements", "indexed_items", "flattened", "lines", "fileglob", "first_found", "random_choice"];

/// Where fileglob/first_found look for relative names: the role's files/, templates/ and directory,
/// then the playbook's.
pub struct LookupEnv<'a> {
    pub search_dirs: &'a [PathBuf],
}

pub fn items(name: &str, rendered: Value, env: &LookupEnv<'_>) -> Result<Vec<Value>, String> {
    let terms = || match &rendered {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    };
    match name {
        "sequence" => terms().iter().map(|t| sequence(&term_str(t)?)).collect::<Result<Vec<_>, _>>().map(|v| v.concat()),
        "together" => Ok(together(&lists(terms())?)),
        "nested" | "cartesian" => Ok(nested(&lists(terms())?)),
        "subelements" => subelements(&terms()),
        "indexed_items" => Ok(flatten_once(terms()).into_iter().enumerate().map(|(i, v)| Value::Array(vec![Value::from(i), v])).collect()),
        "flattened" => Ok(flatten_all(terms())),
        "lines" => terms().iter().map(|t| lines(&term_str(t)?)).collect::<Result<Vec<_>, _>>().map(|v| v.concat()),
        "fileglob" => terms().iter().map(|t| fileglob(&term_str(t)?, env)).collect::<Result<Vec<_>, _>>().map(|v| v.concat()),
        "first_found" => first_found(&terms(), env),
        "random_choice" => {
            let t = terms();
            if t.is_empty() {
                return Ok(vec![]);
            }
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) as usize;
            Ok(vec![t[nanos % t.len()].clone()])
        }
        other => Err(format!("with_{other}: the `{other}` lookup is not supported")),
    }
}

fn term_str(t: &Value) -> Result<String, String> {
    match t {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!("expected a string term, got {other}")),
    }
}

fn lists(terms: Vec<Value>) -> Result<Vec<Vec<Value>>, String> {
    terms
        .into_iter()
        .map(|t| match t {
            Value::Array(a) => Ok(a),
            Value::Null => Err("a term is undefined or null".to_string()),
            x => Ok(vec![x]),
        })
        .collect()
}

/// `with_sequence: start=1 end=5 stride=2 format=host%02d`, `count=3`, or the shortcut `[start-]end[/stride][:format]`.
fn sequence(spec: &str) -> Result<Vec<Value>, String> {
    let bad = |why: &str| format!("with_sequence `{spec}`: {why}");
    let (mut start, mut end, mut stride, mut count, mut format) = (1i64, None, 1i64, None, "%d".to_string());
    let num = |s: &str| -> Result<i64, String> {
        let s = s.trim();
        let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(h) => (h, 16),
            None => match s.strip_prefix("0o") {
                Some(o) => (o, 8),
                None => (s, 10),
            },
        };
        i64::from_str_radix(digits, radix).map_err(|_| bad(&format!("`{s}` is not a number")))
    };
    if spec.contains('=') {
        for kv in spec.split_whitespace() {
            let (k, v) = kv.split_once('=').ok_or_else(|| bad(&format!("`{kv}` is not key=value")))?;
            match k {
                "start" => start = num(v)?,
                "end" => end = Some(num(v)?),
                "stride" => stride = num(v)?,
                "count" => count = Some(num(v)?),
                "format" => format = v.to_string(),
                _ => return Err(bad(&format!("unknown key `{k}`"))),
            }
        }
    } else {
        let (range, fmt) = match spec.split_once(':') {
            Some((r, f)) => (r, Some(f)),
            None => (spec, None),
        };
        let (range, st) = match range.split_once('/') {
            Some((r, s)) => (r, Some(num(s)?)),
            None => (range, None),
        };
        match range.trim().split_once('-') {
            Some((a, b)) if !a.is_empty() => {
                start = num(a)?;
                end = Some(num(b)?);
            }
            _ => end = Some(num(range)?),
        }
        if let Some(s) = st {
            stride = s;
        }
        if let Some(f) = fmt {
            format = f.to_string();
        }
    }
    if let Some(c) = count {
        if end.is_some() {
            return Err(bad("count and end are mutually exclusive"));
        }
        end = Some(if c == 0 { start - stride.signum() } else { start + (c - 1) * stride });
    }
    let end = end.ok_or_else(|| bad("must specify count or end"))?;
    if stride == 0 {
        return if start == end { Ok(vec![]) } else { Err(bad("stride must not be 0")) };
    }
    if (stride > 0 && end < start) || (stride < 0 && end > start) {
        return Err(bad("to count backwards make stride negative"));
    }
    let n = ((end - start) / stride + 1) as u64;
    if n > 1_000_000 {
        return Err(bad(&format!("{n} items; at most 1000000")));
    }
    (0..n as i64).map(|i| printf(&format, start + i * stride).map(Value::String).map_err(|e| bad(&e))).collect()
}

/// The printf subset sequence formats use: one `%d`/`%i`/`%x`/`%X`/`%o`/`%s`, with flags and width.
fn printf(format: &str, v: i64) -> Result<String, String> {
    let Some(at) = format.find('%') else { return Err("format has no %".into()) };
    let rest = &format[at + 1..];
    let spec_len = rest.find(|c: char| c.is_ascii_alphabetic()).ok_or("format has no conversion")?;
    let (flags, conv) = (&rest[..spec_len], &rest[spec_len..spec_len + 1]);
    let zero = flags.starts_with('0');
    let width: usize = flags.trim_start_matches(['0', '-']).parse().unwrap_or(0);
    let body = match conv {
        "d" | "i" | "s" => v.to_string(),
        "x" => format!("{v:x}"),
        "X" => format!("{v:X}"),
        "o" => format!("{v:o}"),
        c => return Err(format!("unsupported conversion %{c}")),
    };
    let padded = if flags.starts_with('-') {
        format!("{body:<width$}")
    } else if zero {
        format!("{body:0>width$}")
    } else {
        format!("{body:>width$}")
    };
    Ok(format!("{}{}{}", &format[..at], padded, &rest[spec_len + 1..]))
}

fn together(lists: &[Vec<Value>]) -> Vec<Value> {
    let n = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..n).map(|i| Value::Array(lists.iter().map(|l| l.get(i).cloned().unwrap_or(Value::Null)).collect())).collect()
}

fn nested(lists: &[Vec<Value>]) -> Vec<Value> {
    let mut out: Vec<Vec<Value>> = vec![vec![]];
    for l in lists {
        out = out.into_iter().flat_map(|prefix| l.iter().map(move |x| [prefix.clone(), vec![x.clone()]].concat())).collect();
    }
    if lists.is_empty() {
        return vec![];
    }
    out.into_iter().map(Value::Array).collect()
}

fn flatten_once(v: Vec<Value>) -> Vec<Value> {
    v.into_iter()
        .flat_map(|x| match x {
            Value::Array(a) => a,
            x => vec![x],
        })
        .collect()
}

fn flatten_all(v: Vec<Value>) -> Vec<Value> {
    let mut out = vec![];
    for x in v {
        match x {
            Value::Array(a) => out.extend(flatten_all(a)),
            Value::Null => {}
            x => out.push(x),
        }
    }
    out
}

/// `with_subelements: [users, authorized]` (or `[users, a.b, {skip_missing: true}]`): [outer, inner] pairs.
fn subelements(terms: &[Value]) -> Result<Vec<Value>, String> {
    let (list, key) = match (terms.first(), terms.get(1)) {
        (Some(l), Some(Value::String(k))) => (l, k),
        _ => return Err("with_subelements needs [a list (or dict) of mappings, a key]".into()),
    };
    let skip_missing = terms.get(2).and_then(|f| f.get("skip_missing")).and_then(Value::as_bool).unwrap_or(false);
    let outer: Vec<Value> = match list {
        Value::Array(a) => a.clone(),
        Value::Object(m) => m.values().cloned().collect(),
        other => return Err(format!("with_subelements: the first term must be a list or a dict, got {other}")),
    };
    let mut out = vec![];
    for o in outer {
        let mut v = Some(&o);
        for part in key.split('.') {
            v = v.and_then(|x| x.get(part));
        }
        match v {
            Some(Value::Array(inner)) => out.extend(inner.iter().map(|i| Value::Array(vec![o.clone(), i.clone()]))),
            None if skip_missing => {}
            None => return Err(format!("with_subelements: could not find '{key}' key in iterated item {o}")),
            Some(other) => return Err(format!("with_subelements: the key '{key}' should point to a list, got {other}")),
        }
    }
    Ok(out)
}

/// `with_lines`: a command run on the controller, one item per output line (as Ansible's lookup).
fn lines(cmd: &str) -> Result<Vec<Value>, String> {
    let out = std::process::Command::new("sh").arg("-c").arg(cmd).output().map_err(|e| format!("with_lines `{cmd}`: {e}"))?;
    if !out.status.success() {
        return Err(format!("with_lines: lookup_plugin.lines({cmd}) returned {}", out.status.code().unwrap_or(-1)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| Value::String(l.to_string())).collect())
}

fn search(name: &str, env: &LookupEnv<'_>) -> Vec<PathBuf> {
    if Path::new(name).is_absolute() {
        return vec![PathBuf::from(name)];
    }
    env.search_dirs.iter().map(|d| d.join(name)).collect()
}

/// `with_fileglob`: files (not directories) matching the pattern's last component, in the first search
/// directory where its parent exists, sorted.
fn fileglob(pattern: &str, env: &LookupEnv<'_>) -> Result<Vec<Value>, String> {
    let re = glob_regex(Path::new(pattern).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default().as_str());
    for candidate in search(pattern, env) {
        let Some(dir) = candidate.parent() else { continue };
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        let mut hits: Vec<String> = rd.flatten().filter(|e| e.path().is_file() && re.is_match(&e.file_name().to_string_lossy())).map(|e| e.path().display().to_string()).collect();
        hits.sort();
        return Ok(hits.into_iter().map(Value::String).collect());
    }
    Ok(vec![])
}

fn glob_regex(glob: &str) -> regex::Regex {
    let mut re = String::from("^");
    for c in glob.chars() {
        match c {
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).unwrap_or_else(|_| regex::Regex::new("^$").expect("a valid regex"))
}

/// `with_first_found`: the first existing file among the names (or `{files, paths, skip}`).
fn first_found(terms: &[Value], env: &LookupEnv<'_>) -> Result<Vec<Value>, String> {
    let mut candidates: Vec<PathBuf> = vec![];
    let mut skip = false;
    for t in terms {
        match t {
            Value::String(s) => candidates.extend(search(s, env)),
            Value::Object(m) => {
                skip |= m.get("skip").and_then(Value::as_bool).unwrap_or(false);
                let files = strings(m.get("files"));
                let paths = strings(m.get("paths"));
                for f in &files {
                    if paths.is_empty() {
                        candidates.extend(search(f, env));
                    } else {
                        candidates.extend(paths.iter().map(|p| Path::new(p).join(f)));
                    }
                }
            }
            _ => {}
        }
    }
    match candidates.into_iter().find(|p| p.is_file()) {
        Some(p) => Ok(vec![Value::String(p.display().to_string())]),
        None if skip => Ok(vec![]),
        None => Err("No file was found when using first_found.".into()),
    }
}

/// A list of strings, also given as one string with commas/semicolons (as first_found takes them).
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split([',', ';']).map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect(),
        _ => vec![],
    }
}

/// `loop_control: extended`: the `ansible_loop` variable of item `i` of `all`.
pub fn extended_vars(all: &[Value], i: usize, allitems: bool) -> Value {
    let n = all.len();
    let mut m = Map::new();
    m.insert("index".into(), Value::from(i + 1));
    m.insert("index0".into(), Value::from(i));
    m.insert("revindex".into(), Value::from(n - i));
    m.insert("revindex0".into(), Value::from(n - i - 1));
    m.insert("first".into(), Value::Bool(i == 0));
    m.insert("last".into(), Value::Bool(i + 1 == n));
    m.insert("length".into(), Value::from(n));
    if i > 0 {
        m.insert("previtem".into(), all[i - 1].clone());
    }
    if i + 1 < n {
        m.insert("nextitem".into(), all[i + 1].clone());
    }
    if allitems {
        m.insert("allitems".into(), Value::Array(all.to_vec()));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env() -> LookupEnv<'static> {
        LookupEnv { search_dirs: &[] }
    }

    #[test]
    fn sequences_as_ansible() {
        let s = |spec: &str| items("sequence", json!(spec), &env()).unwrap();
        assert_eq!(s("start=1 end=3"), vec![json!("1"), json!("2"), json!("3")]);
        assert_eq!(s("start=0 end=10 stride=5 format=host%02d"), vec![json!("host00"), json!("host05"), json!("host10")]);
        assert_eq!(s("count=3"), vec![json!("1"), json!("2"), json!("3")]);
        assert_eq!(s("4-6/2"), vec![json!("4"), json!("6")]);
        assert_eq!(s("2:x%dy"), vec![json!("x1y"), json!("x2y")]);
        assert_eq!(s("start=0x0a end=0x0c format=%x"), vec![json!("a"), json!("b"), json!("c")]);
        assert_eq!(s("start=5 end=3 stride=-1"), vec![json!("5"), json!("4"), json!("3")]);
        assert!(items("sequence", json!("start=5 end=3"), &env()).unwrap_err().contains("backwards"));
        assert!(items("sequence", json!("count=2 end=3"), &env()).is_err());
        assert!(items("sequence", json!("end=99999999999"), &env()).unwrap_err().contains("at most"));
    }

    #[test]
    fn together_nested_indexed_subelements_flattened() {
        assert_eq!(items("together", json!([[1, 2], ["a"]]), &env()).unwrap(), vec![json!([1, "a"]), json!([2, null])]);
        assert_eq!(items("nested", json!([[1, 2], ["a", "b"]]), &env()).unwrap(), vec![json!([1, "a"]), json!([1, "b"]), json!([2, "a"]), json!([2, "b"])]);
        assert_eq!(items("indexed_items", json!(["a", "b"]), &env()).unwrap(), vec![json!([0, "a"]), json!([1, "b"])]);
        let users = json!([{"name": "a", "keys": ["k1", "k2"]}, {"name": "b", "keys": ["k3"]}]);
        let got = items("subelements", json!([users, "keys"]), &env()).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], json!([{"name": "b", "keys": ["k3"]}, "k3"]));
        assert!(items("subelements", json!([[{"x": 1}], "keys"]), &env()).unwrap_err().contains("could not find"));
        assert_eq!(items("subelements", json!([[{"x": 1}], "keys", {"skip_missing": true}]), &env()).unwrap(), Vec::<Value>::new());
        assert_eq!(items("flattened", json!([1, [2, [3, [4]]]]), &env()).unwrap(), vec![json!(1), json!(2), json!(3), json!(4)]);
        assert!(items("bogus", json!([]), &env()).unwrap_err().contains("not supported"));
    }

    #[test]
    fn lines_fileglob_first_found() {
        assert_eq!(items("lines", json!("printf 'a\\nb\\n'"), &env()).unwrap(), vec![json!("a"), json!("b")]);
        let d = tempfile::tempdir().unwrap();
        for f in ["x.conf", "y.conf", "z.txt"] {
            mdxconf_config::fs::write_atomic(&d.path().join(f), b"").unwrap();
        }
        let dirs = [d.path().to_path_buf()];
        let e = LookupEnv { search_dirs: &dirs };
        let got = items("fileglob", json!("*.conf"), &e).unwrap();
        assert_eq!(got, vec![json!(d.path().join("x.conf").display().to_string()), json!(d.path().join("y.conf").display().to_string())]);
        assert_eq!(items("first_found", json!(["missing.yml", "z.txt"]), &e).unwrap(), vec![json!(d.path().join("z.txt").display().to_string())]);
        assert!(items("first_found", json!(["missing.yml"]), &e).unwrap_err().contains("No file was found"));
        assert_eq!(items("first_found", json!([{"files": ["missing.yml"], "skip": true}]), &e).unwrap(), Vec::<Value>::new());
    }

    #[test]
    fn extended_loop_vars() {
        let all = vec![json!("a"), json!("b"), json!("c")];
        let v = extended_vars(&all, 1, false);
        assert_eq!(v["index"], 2);
        assert_eq!(v["revindex0"], 1);
        assert_eq!(v["previtem"], "a");
        assert_eq!(v["nextitem"], "c");
        assert!(v.get("allitems").is_none());
        assert_eq!(extended_vars(&all, 2, true)["last"], true);
    }
}
