//! Ansible's Jinja tests: match/search/regex, version, subset/superset/contains, file/directory/
//! exists/link/abs (on the controller), and task-result tests success/failed/changed/skipped.
use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};
use regex::RegexBuilder;
use std::cmp::Ordering;
use std::path::Path;

pub fn register(env: &mut Environment<'static>) {
    env.add_test("match", |v: String, p: String, kw: Kwargs| regex_test(&v, &p, kw, "match"));
    env.add_test("search", |v: String, p: String, kw: Kwargs| regex_test(&v, &p, kw, "search"));
    env.add_test("regex", |v: String, p: String, kw: Kwargs| {
        let mt: Option<String> = kw.get("match_type")?;
        let mt = mt.unwrap_or_else(|| "search".into());
        regex_test(&v, &p, kw, &mt)
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_test("subset", |a: Value, b: Value| -> Result<bool, Error> {
        let bl: Vec<Value> = b.try_iter()?.collect();
        Ok(a.try_iter()?.all(|x| bl.contains(&x)))
    });
    env.add_test("superset", |a: Value, b: Value| -> Result<bool, Error> {
        let al: Vec<Value> = a.try_iter()?.collect();
        Ok(b.try_iter()?.all(|x| al.contains(&x)))
    });
    env.add_test("contains", |a: Value, x: Value| -> Result<bool, Error> { Ok(a.try_iter()?.any(|i| i == x)) });
    env.add_test("file", |p: String| Path::new(&p).is_file());
    env.add_test("directory", |p: String| Path::new(&p).is_dir());
    env.add_test("exists", |p: String| Path::new(&p).exists());
    env.add_test("link", |p: String| Path::new(&p).is_symlink());
    env.add_test("abs", |p: String| Path::new(&p).is_absolute());
    for name in ["success", "succeeded"] {
        env.add_test(name, |r: Value| -> Result<bool, Error> { Ok(!failed(&r)?) });
    }
    for name in ["failed", "failure"] {
        env.add_test(name, |r: Value| failed(&r));
    }
    for name in ["changed", "change"] {
        env.add_test(name, |r: Value| flag(&r, "changed", "changed"));
    }
    for name in ["skipped", "skip"] {
        env.add_test(name, |r: Value| flag(&r, "skipped", "skipped"));
    }
    env.add_test("truthy", |v: Value, kw: Kwargs| truthy(v, kw));
    env.add_test("falsy", |v: Value, kw: Kwargs| truthy(v, kw).map(|b| !b));
}

fn regex_test(v: &str, p: &str, kw: Kwargs, mode: &str) -> Result<bool, Error> {
    let ignorecase: Option<bool> = kw.get("ignorecase")?;
    let multiline: Option<bool> = kw.get("multiline")?;
    let _: Option<String> = kw.get("match_type")?;
    kw.assert_all_used()?;
    // Python's re.match anchors at the start only
    let pat = if mode == "match" {
        format!("^(?:{p})")
    } else if mode == "fullmatch" {
        format!("^(?:{p})$")
    } else {
        p.to_string()
    };
    let re = RegexBuilder::new(&pat)
        .case_insensitive(ignorecase.unwrap_or(false))
        .multi_line(multiline.unwrap_or(false))
        .build()
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("invalid regular expression '{p}': {e}")))?;
    Ok(re.is_match(v))
}

fn result_map(r: &Value, test: &str) -> Result<(), Error> {
    if r.kind() != ValueKind::Map {
        return Err(Error::new(ErrorKind::InvalidOperation, format!("the '{test}' test expects a registered task result (a dictionary), got {r}")));
    }
    Ok(())
}

fn failed(r: &Value) -> Result<bool, Error> {
    result_map(r, "failed")?;
    Ok(r.get_attr("failed").map(|v| v.is_true()).unwrap_or(false))
}

fn flag(r: &Value, key: &str, test: &str) -> Result<bool, Error> {
    result_map(r, test)?;
    let v = r.get_attr(key)?;
    if v.is_true() {
        return Ok(true);
    }
    // a looped result: any item
    if let Ok(results) = r.get_attr("results") {
        if results.kind() == ValueKind::Seq {
            for item in results.try_iter()? {
                if item.get_attr(key).map(|v| v.is_true()).unwrap_or(false) {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

fn truthy(v: Value, kw: Kwargs) -> Result<bool, Error> {
    let convert: Option<bool> = kw.get("convert_bool")?;
    kw.assert_all_used()?;
    if convert.unwrap_or(false) {
        if let Some(s) = v.as_str() {
            let l = s.to_ascii_lowercase();
            if ["yes", "on", "1", "true"].contains(&l.as_str()) {
                return Ok(true);
            }
            if ["no", "off", "0", "false"].contains(&l.as_str()) {
                return Ok(false);
            }
        }
    }
    Ok(v.is_true())
}

/// `ansible_distribution_version is version('22.04', '>=')`; operators as Ansible:
/// `<, lt, <=, le, >, gt, >=, ge, ==, =, eq, !=, <>, ne`. Loose comparison (LooseVersion).
fn version_test(v: Value, other: Value, op: Option<String>, kw: Kwargs) -> Result<bool, Error> {
    let strict: Option<bool> = kw.get("strict")?;
    let vt: Option<String> = kw.get("version_type")?;
    let op = match op {
        Some(o) => o,
        None => kw.get::<Option<String>>("operator")?.unwrap_or_else(|| "eq".into()),
    };
    kw.assert_all_used()?;
    let (a, b) = (super::filters::text_of_pub(&v), super::filters::text_of_pub(&other));
    if strict.unwrap_or(false) || vt.as_deref() == Some("strict") {
        let ok = |s: &str| regex::Regex::new(r"^\d+\.\d+(\.\d+)?([ab]\d+)?$").unwrap().is_match(s);
        if !ok(&a) || !ok(&b) {
            return Err(Error::new(ErrorKind::InvalidOperation, format!("version: invalid strict version '{}'", if ok(&a) { &b } else { &a })));
        }
    }
    let ord = loose_cmp(&a, &b);
    Ok(match op.as_str() {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => return Err(Error::new(ErrorKind::InvalidOperation, format!("version: invalid operator '{other}'"))),
    })
}

/// distutils LooseVersion: split into numbers and letter runs; numbers compare numerically
/// and (as an approximation of Python 2-style mixing) sort before letters.
fn loose_cmp(a: &str, b: &str) -> Ordering {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    enum Part {
        Num(u64),
        Str(String),
    }
    fn parts(s: &str) -> Vec<Part> {
        let re = regex::Regex::new(r"\d+|[a-zA-Z]+").unwrap();
        re.find_iter(s)
            .map(|m| match m.as_str().parse::<u64>() {
                Ok(n) => Part::Num(n),
                Err(_) => Part::Str(m.as_str().to_string()),
            })
            .collect()
    }
    parts(a).cmp(&parts(b))
}
