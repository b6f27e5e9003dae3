//! blockinfile: a marker-delimited block inserted, replaced or removed (Ansible's algorithm).
use super::edit::{edit, EditOpts};
use super::util::{regex, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "path|dest|destfile|name",
        "state",
        "marker",
        "block|content",
        "insertafter",
        "insertbefore",
        "create",
        "backup",
        "marker_begin",
        "marker_end",
        "owner",
        "group",
        "mode",
        "validate",
        "unsafe_writes",
        "append_newline",
        "prepend_newline",
    ],
    required: &["path"],
};

pub struct Params {
    pub begin: String,
    pub end: String,
    pub block: String,
    pub present: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("blockinfile", &SPEC, args)?;
    let path = a.req("path")?;
    let state = a.choice("state", "present", &["present", "absent"])?;
    let marker = a.str("marker")?.unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
    let (ia, ib) = (a.str("insertafter")?, a.str("insertbefore")?);
    if ia.is_some() && ib.is_some() {
        bail!("blockinfile: insertafter and insertbefore are mutually exclusive");
    }
    for (n, v) in [("insertafter", &ia), ("insertbefore", &ib)] {
        if let Some(v) = v {
            if v != "EOF" && v != "BOF" {
                regex("blockinfile", n, v)?;
            }
        }
    }
    let p = Params {
        begin: marker.replace("{mark}", &a.str("marker_begin")?.unwrap_or_else(|| "BEGIN".into())),
        end: marker.replace("{mark}", &a.str("marker_end")?.unwrap_or_else(|| "END".into())),
        block: a.str("block")?.unwrap_or_default(),
        present: state == "present",
        insertafter: ia,
        insertbefore: ib,
    };
    let opts = EditOpts::from_args(&a, path, state == "absent")?;
    edit(ctx, "blockinfile", opts, |t| Ok(apply(t, &p))).await
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
    for (k, l) in block.into_iter().enumerate() {
        lines.insert(at + k, l);
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
        let mut p = Params { begin: "# BEGIN X".into(), end: "# END X".into(), block: "a=1\nb=2".into(), present: true, insertafter: None, insertbefore: None };
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
    }
}
