//! replace: every match of a (multiline) regexp replaced, optionally only between `after` and `before`.
use crate::ops::edit::{plan_edit, EditOpts};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::{py_repl, regex};
use crate::{Args, Module, ModuleCtx, Plan};
use anyhow::{bail, Result};
use regex::Regex;

pub struct Replace;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["dest", "destfile", "name"]).required(),
    s("regexp").required(),
    s("replace").default(Def::Str("")),
    s("after"),
    s("before"),
    b("backup").default(Def::Bool(false)),
    s("owner"),
    s("group"),
    raw("mode"),
    s("validate"),
    // files are read as UTF-8; another encoding is refused in plan
    s("encoding").default(Def::Str("utf-8")),
    b("unsafe_writes").ignored(),
    raw("others").ignored(),
]);

#[async_trait::async_trait]
impl Module for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?;
        let enc = a.req("encoding")?;
        if !matches!(enc.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
            bail!("replace: only encoding 'utf-8' is supported, got '{enc}'");
        }
        // Python's re.MULTILINE: ^ and $ match at line boundaries
        let re = regex("replace", "regexp", &format!("(?m){}", a.req("regexp")?))?;
        let repl = py_repl(&a.req("replace")?);
        let after = a.str("after")?.map(|p| regex("replace", "after", &format!("(?m){p}"))).transpose()?;
        let before = a.str("before")?.map(|p| regex("replace", "before", &format!("(?m){p}"))).transpose()?;
        let opts = EditOpts::from_args(a, path, false)?;
        plan_edit(ctx, "replace", opts, |t| Ok(replace_section(t, &re, &repl, after.as_ref(), before.as_ref()))).await
    }
}

/// Replace every match between the first `after` match and the next `before` match (no change when
/// either is given and does not match).
fn replace_section(t: &str, re: &Regex, repl: &str, after: Option<&Regex>, before: Option<&Regex>) -> (String, String) {
    let start = match after {
        Some(r) => match r.find(t) {
            Some(m) => m.end(),
            None => return (t.to_string(), String::new()),
        },
        None => 0,
    };
    let end = match before {
        Some(r) => match r.find(&t[start..]) {
            Some(m) => start + m.start(),
            None => return (t.to_string(), String::new()),
        },
        None => t.len(),
    };
    let section = &t[start..end];
    let n = re.find_iter(section).count();
    let new = re.replace_all(section, repl);
    let out = format!("{}{}{}", &t[..start], new, &t[end..]);
    (out, if n > 0 { format!("{n} replacements made") } else { String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sections() {
        let re = Regex::new("(?m)^x=(\\d)$").unwrap();
        let repl = py_repl(r"y=\1");
        assert_eq!(replace_section("x=1\nx=2\n", &re, &repl, None, None), ("y=1\ny=2\n".into(), "2 replacements made".into()));
        let after = Regex::new("(?m)^\\[b\\]").unwrap();
        assert_eq!(replace_section("x=1\n[b]\nx=2\n", &re, &repl, Some(&after), None).0, "x=1\n[b]\ny=2\n");
        assert_eq!(replace_section("x=1\n", &re, &repl, Some(&after), None), ("x=1\n".into(), String::new()));
    }
}
