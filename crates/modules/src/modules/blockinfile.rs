//! blockinfile: a marker-delimited block inserted, replaced or removed (Ansible's algorithm).
use crate::ops::edit::{plan_edit, EditOpts};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::regex;
use crate::{Args, Module, ModuleCtx, Plan};
use anyhow::Result;

pub struct BlockInFile;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["dest", "destfile", "name"]).required(),
    s("state").default(Def::Str("present")).choices(&["absent", "present"]),
    s("marker").default(Def::Str("# {mark} ANSIBLE MANAGED BLOCK")),
    s("block").aliases(&["content"]).default(Def::Str("")),
    s("insertafter"),
    s("insertbefore"),
    b("create").default(Def::Bool(false)),
    b("backup").default(Def::Bool(false)),
    s("marker_begin").default(Def::Str("BEGIN")),
    s("marker_end").default(Def::Str("END")),
    s("owner"),
    s("group"),
    raw("mode"),
    s("validate"),
    b("unsafe_writes").ignored(),
    b("append_newline").default(Def::Bool(false)),
    b("prepend_newline").default(Def::Bool(false)),
])
.exclusive(&[&["insertbefore", "insertafter"]]);

pub struct Params {
    pub begin: String,
    pub end: String,
    pub block: String,
    pub present: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub append_newline: bool,
    pub prepend_newline: bool,
}

#[async_trait::async_trait]
impl Module for BlockInFile {
    fn name(&self) -> &'static str {
        "blockinfile"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?;
        let state = a.choice("state")?;
        let marker = a.req("marker")?;
        let (ia, ib) = (a.str("insertafter")?, a.str("insertbefore")?);
        for (n, v) in [("insertafter", &ia), ("insertbefore", &ib)] {
            if let Some(v) = v.as_deref().filter(|v| *v != "EOF" && *v != "BOF") {
                regex("blockinfile", n, v)?;
            }
        }
        let p = Params {
            begin: marker.replace("{mark}", &a.req("marker_begin")?),
            end: marker.replace("{mark}", &a.req("marker_end")?),
            block: a.req("block")?,
            present: state == "present",
            insertafter: ia,
            insertbefore: ib,
            append_newline: a.bool("append_newline")?,
            prepend_newline: a.bool("prepend_newline")?,
        };
        let opts = EditOpts::from_args(a, path, state == "absent")?;
        plan_edit(ctx, "blockinfile", opts, |t| Ok(apply(t, &p))).await
    }
}

pub fn apply(text: &str, p: &Params) -> (String, String) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let block: Vec<String> = if p.present && !p.block.is_empty() {
        let mut b = vec![p.begin.clone()];
        b.extend(p.block.lines().map(str::to_string));
        b.push(p.end.clone());
        b
    } else {
        vec![]
    };
    let (mut n0, mut n1) = (None, None);
    for (i, l) in lines.iter().enumerate() {
        if *l == p.begin {
            n0 = Some(i);
        }
        if *l == p.end {
            n1 = Some(i);
        }
    }
    let at = match (n0, n1) {
        (Some(a), Some(b)) => {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            lines.drain(lo..=hi);
            lo
        }
        _ => {
            let ins = match (&p.insertafter, &p.insertbefore) {
                (Some(a), _) if a != "EOF" => Some((a.clone(), true)),
                (_, Some(b)) if b != "BOF" => Some((b.clone(), false)),
                _ => None,
            };
            match ins {
                Some((pat, after)) => {
                    let re = regex::Regex::new(&pat).expect("validated above");
                    match lines.iter().rposition(|l| re.is_match(l)) {
                        Some(i) if after => i + 1,
                        Some(i) => i,
                        None => lines.len(),
                    }
                }
                None if p.insertbefore.as_deref() == Some("BOF") => 0,
                None => lines.len(),
            }
        }
    };
    let had_block = n0.is_some() && n1.is_some();
    let inserted = !block.is_empty();
    let mut at = at;
    // Ansible's prepend_newline/append_newline: a blank line before/after the block unless the block is
    // at the start/end of the file or one is already there (so a second run changes nothing)
    if inserted && p.prepend_newline && at != 0 && !lines[at - 1].is_empty() {
        lines.insert(at, String::new());
        at += 1;
    }
    let after = at + block.len();
    for (k, l) in block.into_iter().enumerate() {
        lines.insert(at + k, l);
    }
    if inserted && p.append_newline && after < lines.len() && !lines[after].is_empty() {
        lines.insert(after, String::new());
    }
    let mut out = lines.join("\n");
    if !lines.is_empty() {
        out.push('\n');
    }
    let msg = match (had_block, inserted) {
        (false, true) => "Block inserted",
        (true, true) => "Block replaced",
        (true, false) => "Block removed",
        (false, false) => "",
    };
    let msg = if out == text { "" } else { msg };
    (out, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn insert_replace_remove() {
        let mut p = Params {
            begin: "# BEGIN X".into(),
            end: "# END X".into(),
            block: "a=1\nb=2".into(),
            present: true,
            insertafter: None,
            insertbefore: None,
            append_newline: false,
            prepend_newline: false,
        };
        let once = apply("top\n", &p).0;
        assert_eq!(once, "top\n# BEGIN X\na=1\nb=2\n# END X\n");
        assert_eq!(apply(&once, &p).0, once);
        p.block = "a=3".into();
        assert_eq!(apply(&once, &p).0, "top\n# BEGIN X\na=3\n# END X\n");
        p.present = false;
        assert_eq!(apply(&once, &p).0, "top\n");
        p.present = true;
        p.insertbefore = Some("BOF".into());
        assert_eq!(apply("top\n", &p).0, "# BEGIN X\na=3\n# END X\ntop\n");
        p.insertbefore = Some("^mid".into());
        p.prepend_newline = true;
        p.append_newline = true;
        let spaced = apply("top\nmid\n", &p).0;
        assert_eq!(spaced, "top\n\n# BEGIN X\na=3\n# END X\n\nmid\n");
        assert_eq!(apply(&spaced, &p).0, spaced, "blank lines are added once");
        // at the start and the end of a file there is nothing to separate from
        p.insertbefore = Some("BOF".into());
        assert_eq!(apply("", &p).0, "# BEGIN X\na=3\n# END X\n");
    }
}
