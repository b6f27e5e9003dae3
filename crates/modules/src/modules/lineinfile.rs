//! lineinfile: ensure a line is present (replacing a regexp/search_string match) or absent, with Ansible's
//! insertafter/insertbefore (regex, EOF, BOF), firstmatch and backrefs semantics.
use crate::ops::edit::{plan_edit, EditOpts};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::{py_repl, regex};
use crate::{Args, Module, ModuleCtx, Plan};
use anyhow::{bail, Result};
use regex::Regex;

pub struct LineInFile;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["dest", "destfile", "name"]).required(),
    s("regexp").aliases(&["regex"]),
    s("search_string"),
    s("state").default(Def::Str("present")).choices(&["absent", "present"]),
    s("line").aliases(&["value"]),
    b("backrefs").default(Def::Bool(false)),
    s("insertafter"),
    s("insertbefore"),
    b("create").default(Def::Bool(false)),
    b("backup").default(Def::Bool(false)),
    b("firstmatch").default(Def::Bool(false)),
    s("owner"),
    s("group"),
    raw("mode"),
    s("validate"),
    b("unsafe_writes").ignored(),
    raw("others").ignored(),
])
.exclusive(&[&["insertbefore", "insertafter"], &["regexp", "search_string"], &["backrefs", "search_string"]]);

pub struct Params {
    pub regexp: Option<Regex>,
    pub search: Option<String>,
    pub line: String,
    pub backrefs: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub firstmatch: bool,
}

#[async_trait::async_trait]
impl Module for LineInFile {
    fn name(&self) -> &'static str {
        "lineinfile"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?;
        let state = a.choice("state")?;
        let regexp = a.str("regexp")?.map(|r| regex("lineinfile", "regexp", &r)).transpose()?;
        let search = a.str("search_string")?;
        let (ia, ib) = (a.str("insertafter")?, a.str("insertbefore")?);
        let line = a.str("line")?;
        let backrefs = a.bool("backrefs")?;
        if state == "present" && line.is_none() {
            bail!("lineinfile: line is required with state=present");
        }
        if backrefs && regexp.is_none() {
            bail!("lineinfile: regexp is required with backrefs=true");
        }
        if state == "absent" && regexp.is_none() && search.is_none() && line.is_none() {
            bail!("lineinfile: one of line, regexp or search_string is required with state=absent");
        }
        for (n, v) in [("insertafter", &ia), ("insertbefore", &ib)] {
            if let Some(v) = v.as_deref().filter(|v| *v != "EOF" && *v != "BOF") {
                regex("lineinfile", n, v)?;
            }
        }
        let p = Params { regexp, search, line: line.unwrap_or_default(), backrefs, insertafter: ia, insertbefore: ib, firstmatch: a.bool("firstmatch")? };
        let opts = EditOpts::from_args(a, path, state == "absent")?;
        if state == "present" {
            plan_edit(ctx, "lineinfile", opts, |t| Ok(present(t, &p))).await
        } else {
            plan_edit(ctx, "lineinfile", opts, |t| Ok(absent(t, &p))).await
        }
    }
}

fn split_lines(t: &str) -> Vec<String> {
    t.split_inclusive('\n').map(str::to_string).collect()
}

fn strip_eol(l: &str) -> &str {
    l.trim_end_matches(['\r', '\n'])
}

/// Ansible's `present()`: a regexp/search_string match is replaced; otherwise an exact line counts as
/// present; otherwise the line is inserted after/before the last (or first) insert-regexp match, or at EOF.
pub fn present(text: &str, p: &Params) -> (String, String) {
    let mut lines = split_lines(text);
    let mut found: Option<usize> = None;
    let mut ins: Option<usize> = None;
    let mut caps_line: Option<String> = None;
    let mut matched = false;
    if let Some(re) = &p.regexp {
        for (i, l) in lines.iter().enumerate() {
            if let Some(c) = re.captures(strip_eol(l)) {
                found = Some(i);
                matched = true;
                let mut out = String::new();
                c.expand(&py_repl(&p.line), &mut out);
                caps_line = Some(out);
                if p.firstmatch {
                    break;
                }
            }
        }
    } else if let Some(s) = &p.search {
        for (i, l) in lines.iter().enumerate() {
            if l.contains(s.as_str()) {
                found = Some(i);
                matched = true;
                if p.firstmatch {
                    break;
                }
            }
        }
    }
    let ins_re = match (&p.insertafter, &p.insertbefore) {
        (Some(a), _) if a != "EOF" && a != "BOF" => Regex::new(a).ok(),
        (_, Some(b)) if b != "BOF" => Regex::new(b).ok(),
        _ => None,
    };
    if !matched {
        for (i, l) in lines.iter().enumerate() {
            if strip_eol(l) == p.line {
                found = Some(i);
            } else if let Some(re) = &ins_re {
                if re.is_match(strip_eol(l)) {
                    ins = Some(if p.insertafter.is_some() { i + 1 } else { i });
                    if p.firstmatch {
                        break;
                    }
                }
            }
        }
    }
    let added = "line added".to_string();
    let with_nl = |s: &str| format!("{s}\n");
    let ensure_last_nl = |lines: &mut Vec<String>| {
        if let Some(last) = lines.last_mut() {
            if !last.ends_with('\n') && !last.ends_with('\r') {
                last.push('\n');
            }
        }
    };
    let mut msg = String::new();
    if let Some(idx) = found {
        let new_line = if p.backrefs && matched { caps_line.clone().unwrap_or_default() } else { p.line.clone() };
        let new_line = if new_line.ends_with('\n') { new_line } else { with_nl(&new_line) };
        if lines[idx] != new_line {
            lines[idx] = new_line;
            msg = "line replaced".into();
        }
    } else if p.backrefs {
        // without a match there is nothing to expand the backrefs from: leave the file alone
    } else if p.insertbefore.as_deref() == Some("BOF") || p.insertafter.as_deref() == Some("BOF") {
        lines.insert(0, with_nl(&p.line));
        msg = added;
    } else if p.insertafter.as_deref() == Some("EOF") || ins.is_none() {
        ensure_last_nl(&mut lines);
        lines.push(with_nl(&p.line));
        msg = added;
    } else if let Some(i) = ins {
        if p.insertafter.is_some() {
            ensure_last_nl(&mut lines);
            let neighbour = if i == lines.len() { lines.get(i.wrapping_sub(1)) } else { lines.get(i) };
            if neighbour.map(|l| strip_eol(l)) != Some(p.line.as_str()) {
                lines.insert(i, with_nl(&p.line));
                msg = added;
            }
        } else {
            let neighbour = if i == 0 { lines.first() } else { lines.get(i - 1) };
            if neighbour.map(|l| strip_eol(l)) != Some(p.line.as_str()) {
                lines.insert(i, with_nl(&p.line));
                msg = added;
            }
        }
    }
    (lines.concat(), msg)
}

pub fn absent(text: &str, p: &Params) -> (String, String) {
    let lines = split_lines(text);
    let before = lines.len();
    let kept: Vec<String> = lines
        .into_iter()
        .filter(|l| {
            let s = strip_eol(l);
            !(if let Some(re) = &p.regexp {
                re.is_match(s)
            } else if let Some(ss) = &p.search {
                l.contains(ss.as_str())
            } else {
                s == p.line
            })
        })
        .collect();
    let n = before - kept.len();
    (kept.concat(), if n > 0 { format!("{n} line(s) removed") } else { String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    fn p(line: &str) -> Params {
        Params { regexp: None, search: None, line: line.into(), backrefs: false, insertafter: None, insertbefore: None, firstmatch: false }
    }
    #[test]
    fn semantics() {
        let mut x = p("PermitRootLogin no");
        x.regexp = Some(Regex::new("^#?PermitRootLogin").unwrap());
        assert_eq!(present("a\n#PermitRootLogin yes\nb\n", &x).0, "a\nPermitRootLogin no\nb\n");
        assert_eq!(present("a\nb", &p("c")).0, "a\nb\nc\n");
        assert_eq!(present("a\nc\n", &p("c")).1, "");
        let mut y = p("new");
        y.insertafter = Some("^a".into());
        assert_eq!(present("a\nb\na2\nz\n", &y).0, "a\nb\na2\nnew\nz\n");
        y.firstmatch = true;
        assert_eq!(present("a\nb\na2\nz\n", &y).0, "a\nnew\nb\na2\nz\n");
        let mut z = p("first");
        z.insertbefore = Some("BOF".into());
        assert_eq!(present("a\n", &z).0, "first\na\n");
        let mut b = p(r"listen \1:80");
        b.regexp = Some(Regex::new(r"^listen (\S+):\d+$").unwrap());
        b.backrefs = true;
        assert_eq!(present("listen 1.2.3.4:8080\n", &b).0, "listen 1.2.3.4:80\n");
        assert_eq!(present("nothing\n", &b).0, "nothing\n");
        let mut r = p("x");
        r.regexp = Some(Regex::new("^x").unwrap());
        assert_eq!(absent("x1\ny\nx2\n", &r).0, "y\n");
    }
}
