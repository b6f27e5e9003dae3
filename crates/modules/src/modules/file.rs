//! file: state file/directory/link/hard/absent/touch with owner/group/mode (and `recurse` for directories).
use crate::host::file::{gather_script, parse_gather, split_content, FileInfo, GatherOpts, Kind, Want, CONTENT_MARK};
use crate::module::default_finish;
use crate::ops::attrs::{plan_attrs, AttrPlan, Attrs, ModeSpec};
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan, Step};
use anyhow::{bail, Result};

pub struct File;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["dest", "name"]).required(),
    s("state").choices(&["absent", "directory", "file", "hard", "link", "touch"]),
    s("owner"),
    s("group"),
    raw("mode"),
    b("recurse").default(Def::Bool(false)),
    s("src"),
    b("force").default(Def::Bool(false)),
    // links are managed as links; everything else acts on what the path points to
    b("follow").default(Def::Bool(true)),
    // only "preserve" and "now" (checked in plan): explicit timestamps are not implemented
    s("modification_time"),
    s("access_time"),
    s("modification_time_format").ignored(),
    s("access_time_format").ignored(),
    b("unsafe_writes").ignored(),
])
.required_if(&[("state", "link", &["src"]), ("state", "hard", &["src"])]);

#[async_trait::async_trait]
impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?;
        let attrs = Attrs::from_args(a)?;
        let st = a.str("state")?.unwrap_or_default();
        let recurse = a.bool("recurse")?;
        if recurse && st != "directory" {
            bail!("file: recurse requires state=directory");
        }
        for k in ["modification_time", "access_time"] {
            if let Some(v) = a.str(k)?.filter(|v| v != "now" && v != "preserve") {
                bail!("file: {k} '{v}' is not supported (only 'now' and 'preserve')");
            }
        }
        let src = a.str("src")?;
        let follow = a.bool("follow")? && !matches!(st.as_str(), "link" | "hard" | "absent");
        let mut script = gather_script(&path, &GatherOpts { follow, into_dir: None, checksum: false, want: Want::No });
        if st == "hard" {
            let s = src.as_deref().unwrap_or("");
            script += &format!("if [ -e {s} ] && [ {s} -ef \"$d\" ]; then echo samefile=1; fi\n", s = q(s));
        }
        if recurse {
            // the listing comes after the content mark, so the state's key=value lines stay apart
            let mark = sh_quote_mark();
            script += &format!("if [ \"$t\" = directory ]; then printf {mark}; find \"$d\" -printf '%m\\t%u\\t%g\\t%U\\t%G\\t%y\\n'; fi\n");
        }
        let out = sh(ctx, &script, None).await?;
        if out.rc != 0 {
            bail!("file: could not inspect {path}: {}", text(&out.stderr).trim());
        }
        let info = parse_gather(&out.stdout)?;
        let tree = split_content(&out.stdout).1.map(text).unwrap_or_default();
        let (r, act) = match decide(a, &path, &st, src, &attrs, &info, &tree)? {
            Ok(x) => x,
            Err(f) => return Ok(Plan::done(f)),
        };
        let steps = if r.changed && !act.is_empty() { vec![Step::run(format!("file: changing {path} failed"), format!("set -e\n{act}"))] } else { vec![] };
        Ok(Plan::change(r, steps))
    }
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let mut r = default_finish(planned, outcomes);
        // a half-done change (chown done, chmod failed) still changed the host
        r.changed |= r.failed;
        r
    }
}

/// The result and the script making it so, or the failure to report.
fn decide(a: &Args, path: &str, st: &str, src: Option<String>, attrs: &Attrs, info: &FileInfo, tree: &str) -> Result<Result<(ModuleResult, String), ModuleResult>> {
    let state = match st {
        "" => match info.kind {
            Kind::Directory => "directory",
            Kind::Link => "link",
            _ => "file",
        },
        s => s,
    };
    let mut r = ModuleResult::default();
    r.data.insert("path".into(), info.path.clone().into());
    r.data.insert("state".into(), state.into());
    if info.exists() {
        r.data.insert("size".into(), info.size.into());
        r.data.insert("owner".into(), info.owner.clone().into());
        r.data.insert("group".into(), info.group.clone().into());
    }
    let p = q(&info.path);
    let mut act = String::new();
    match state {
        "absent" => {
            if info.exists() {
                r.changed = true;
                r.diff.push(state_diff(&info.path, format!("state: {}\n", info.kind.as_str()), "state: absent\n"));
                act += &format!("rm -rf -- {p}\n");
            }
        }
        "file" => {
            match info.kind {
                Kind::Absent => return Ok(Err(failed(format!("file ({path}) is absent, cannot continue")))),
                Kind::Directory => return Ok(Err(failed(format!("{path} is a directory, not a file")))),
                _ => {}
            }
            attr_changes(info, attrs, &p, &mut r, &mut act);
        }
        "directory" => match info.kind {
            Kind::Absent => {
                let mode = attrs.mode.as_ref().map(|m| m.resolve(None, true, info.default_mode(true))).unwrap_or(info.default_mode(true));
                r.changed = true;
                r.diff.push(state_diff(&info.path, "state: absent\n", format!("state: directory\nmode: {mode:04o}\n")));
                act += &format!("mkdir -p -- {p}\n");
                act += &new_attrs_script(attrs, mode, attrs.mode.is_some(), &p);
            }
            Kind::Directory => {
                attr_changes(info, attrs, &p, &mut r, &mut act);
                if a.bool("recurse")? && !attrs.is_empty() {
                    let n = tree_changes(tree, attrs);
                    if n > 0 {
                        r.changed = true;
                        r.diff.push(state_diff(format!("{} (recursive)", info.path), "", format!("{n} entries get new owner/group/mode\n")));
                        if let Some(o) = &attrs.owner {
                            act += &format!("chown -R -- {} {p}\n", q(o));
                        }
                        if let Some(g) = &attrs.group {
                            act += &format!("chgrp -R -- {} {p}\n", q(g));
                        }
                        if let Some(m) = &attrs.mode {
                            act += &recursive_chmod(m, &p);
                        }
                    }
                }
            }
            k => return Ok(Err(failed(format!("{path} already exists as a {} (not a directory)", k.as_str())))),
        },
        "link" | "hard" => {
            let src = src.unwrap_or_default();
            let same = if state == "link" { info.kind == Kind::Link && info.link_target.as_deref() == Some(src.as_str()) } else { info.extra.contains_key("samefile") };
            if !same {
                if info.kind == Kind::Directory || (info.exists() && info.kind != Kind::Link && !a.bool("force")?) {
                    return Ok(Err(failed(format!("refusing to convert {path} from {} to {state} (use force=yes for files)", info.kind.as_str()))));
                }
                r.changed = true;
                let before = match (&info.kind, &info.link_target) {
                    (Kind::Link, Some(t)) => format!("state: link\nsrc: {t}\n"),
                    (k, _) => format!("state: {}\n", k.as_str()),
                };
                r.diff.push(state_diff(&info.path, before, format!("state: {state}\nsrc: {src}\n")));
                let flag = if state == "link" { "-sfn" } else { "-f" };
                act += &format!("ln {flag} -- {} {p}\n", q(&src));
                // a fresh symlink gets the requested owner/group (chown -h acts on the link itself)
                if state == "link" {
                    act += &AttrPlan { chown: attrs.owner.clone(), chgrp: attrs.group.clone(), ..Default::default() }.script(&p);
                }
            } else {
                let mut link_attrs = attrs.clone();
                if state == "link" {
                    link_attrs.mode = None;
                }
                attr_changes(info, &link_attrs, &p, &mut r, &mut act);
            }
            r.data.insert("src".into(), src.into());
        }
        "touch" => {
            let preserve = a.str("modification_time")?.as_deref() == Some("preserve") && a.str("access_time")?.as_deref() == Some("preserve");
            if !info.exists() {
                let mode = attrs.mode.as_ref().map(|m| m.resolve(None, false, info.default_mode(false))).unwrap_or(info.default_mode(false));
                r.changed = true;
                r.diff.push(state_diff(&info.path, "state: absent\n", format!("state: file\nmode: {mode:04o}\n")));
                act += &format!("touch -- {p}\n");
                act += &new_attrs_script(attrs, mode, attrs.mode.is_some(), &p);
            } else {
                attr_changes(info, attrs, &p, &mut r, &mut act);
                if !preserve {
                    // like Ansible, touching an existing file updates its times and counts as a change
                    r.changed = true;
                    act += &format!("touch -- {p}\n");
                }
            }
        }
        _ => unreachable!("state is checked by the spec"),
    }
    Ok(Ok((r, act)))
}

/// The content mark as a printf format.
fn sh_quote_mark() -> String {
    format!("'{}'", CONTENT_MARK.replace('\n', "\\n"))
}

fn attr_changes(info: &FileInfo, attrs: &Attrs, p: &str, r: &mut ModuleResult, act: &mut String) {
    let plan = plan_attrs(info, attrs);
    if plan.changed() {
        r.changed = true;
        r.diff.push(plan.diff(&info.path));
        *act += &plan.script(p);
    }
}

fn new_attrs_script(attrs: &Attrs, mode: u32, set_mode: bool, p: &str) -> String {
    AttrPlan { chown: attrs.owner.clone(), chgrp: attrs.group.clone(), chmod: set_mode.then_some(mode), ..Default::default() }.script(p)
}

fn recursive_chmod(m: &ModeSpec, p: &str) -> String {
    match m {
        ModeSpec::Octal(o) => format!("chmod -R -- {o:04o} {p}\n"),
        ModeSpec::Symbolic(s) => format!("chmod -R -- {} {p}\n", q(s)),
        ModeSpec::Preserve => String::new(),
    }
}

/// How many entries of a `find -printf '%m\t%u\t%g\t%U\t%G\t%y'` listing differ from `attrs`.
fn tree_changes(listing: &str, attrs: &Attrs) -> usize {
    listing
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() < 6 {
                return false;
            }
            let mode = u32::from_str_radix(f[0], 8).unwrap_or(0);
            let own = attrs.owner.as_ref().is_some_and(|o| o != f[1] && o != f[3]);
            let grp = attrs.group.as_ref().is_some_and(|g| g != f[2] && g != f[4]);
            let md = f[5] != "l" && attrs.mode.as_ref().is_some_and(|m| m.resolve(Some(mode), f[5] == "d", mode) != mode);
            own || grp || md
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn tree_listing() {
        let attrs = Attrs { owner: Some("root".into()), group: None, mode: Some(ModeSpec::Octal(0o755)) };
        assert_eq!(tree_changes("755\troot\troot\t0\t0\td\n644\troot\troot\t0\t0\tf\n777\tbob\tbob\t1\t1\tl\n", &attrs), 2);
        assert_eq!(tree_changes("", &attrs), 0);
    }
}
