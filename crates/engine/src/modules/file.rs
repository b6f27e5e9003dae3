//! file: state file/directory/link/hard/absent/touch with owner/group/mode (and `recurse` for directories).
use super::fileops::{gather_script, parse_gather, plan_attrs, AttrPlan, Attrs, FileInfo, GatherOpts, Kind, ModeSpec, Want};
use super::util::{failed, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "path|dest|name",
        "state",
        "owner",
        "group",
        "mode",
        "recurse",
        "src",
        "force",
        "follow",
        "modification_time",
        "access_time",
        "modification_time_format",
        "access_time_format",
        "unsafe_writes",
    ],
    required: &["path"],
};

const TREE_MARK: &str = "@@MDXCONF-CONTENT@@\n";

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("file", &SPEC, args)?;
    let path = a.req("path")?;
    let attrs = super::fileops::attrs_from_args(&a)?;
    let state_arg = a.str("state")?;
    if let Some(s) = &state_arg {
        if !["file", "directory", "link", "hard", "absent", "touch"].contains(&s.as_str()) {
            bail!("file: argument 'state' must be one of file, directory, link, hard, absent, touch; got '{s}'");
        }
    }
    let recurse = a.bool("recurse", false)?;
    let force = a.bool("force", false)?;
    let src = a.str("src")?;
    let st = state_arg.as_deref().unwrap_or("");
    if matches!(st, "link" | "hard") && src.is_none() {
        bail!("file: src is required for state={st}");
    }
    if recurse && st != "directory" {
        bail!("file: recurse requires state=directory");
    }
    // Links are managed as links; everything else acts on what the path points to (Ansible's follow=yes).
    let follow = a.bool("follow", true)? && !matches!(st, "link" | "hard" | "absent");
    let mut script = gather_script(&path, &GatherOpts { follow, into_dir: None, checksum: false, want: Want::No });
    if st == "hard" {
        let s = src.as_deref().unwrap_or("");
        script += &format!("if [ -e {s} ] && [ {s} -ef \"$d\" ]; then echo samefile=1; fi\n", s = q(s));
    }
    if recurse {
        script += &format!("if [ \"$t\" = directory ]; then printf '{}'; find \"$d\" -printf '%m\\t%u\\t%g\\t%U\\t%G\\t%y\\n'; fi\n", TREE_MARK.replace('\n', "\\n"));
    }
    let out = sh(ctx, &script, None).await?;
    if out.rc != 0 {
        bail!("file: could not inspect {path}: {}", text(&out.stderr).trim());
    }
    let info = parse_gather(&out.stdout)?;
    let state = match st {
        "" => match info.kind {
            Kind::Absent => "file",
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
                Kind::Absent => return Ok(failed(format!("file ({path}) is absent, cannot continue"))),
                Kind::Directory => return Ok(failed(format!("{path} is a directory, not a file"))),
                _ => {}
            }
            attr_changes(&info, &attrs, &p, &mut r, &mut act);
        }
        "directory" => match info.kind {
            Kind::Absent => {
                let mode = attrs.mode.as_ref().map(|m| m.resolve(None, true, info.default_mode(true))).unwrap_or(info.default_mode(true));
                r.changed = true;
                r.diff.push(state_diff(&info.path, "state: absent\n", format!("state: directory\nmode: {mode:04o}\n")));
                act += &format!("mkdir -p -- {p}\n");
                act += &new_attrs_script(&attrs, mode, attrs.mode.is_some(), &p);
            }
            Kind::Directory => {
                attr_changes(&info, &attrs, &p, &mut r, &mut act);
                if recurse && !attrs.is_empty() {
                    let tree = out.stdout.windows(TREE_MARK.len()).position(|w| w == TREE_MARK.as_bytes()).map(|i| text(&out.stdout[i + TREE_MARK.len()..])).unwrap_or_default();
                    let n = tree_changes(&tree, &attrs);
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
            k => return Ok(failed(format!("{path} already exists as a {} (not a directory)", k.as_str()))),
        },
        "link" | "hard" => {
            let src = src.unwrap_or_default();
            let same = if state == "link" { info.kind == Kind::Link && info.link_target.as_deref() == Some(src.as_str()) } else { info.extra.contains_key("samefile") };
            if !same {
                if info.kind == Kind::Directory || (info.exists() && info.kind != Kind::Link && !force) {
                    return Ok(failed(format!("refusing to convert {path} from {} to {state} (use force=yes for files)", info.kind.as_str())));
                }
                r.changed = true;
                let before = match (&info.kind, &info.link_target) {
                    (Kind::Link, Some(t)) => format!("state: link\nsrc: {t}\n"),
                    (k, _) => format!("state: {}\n", k.as_str()),
                };
                r.diff.push(state_diff(&info.path, before, format!("state: {state}\nsrc: {src}\n")));
                let flag = if state == "link" { "-sfn" } else { "-f" };
                act += &format!("ln {flag} -- {} {p}\n", q(&src));
                // a fresh link gets the requested owner/group (chown -h acts on the link itself)
                let mut fresh = attrs.clone();
                fresh.mode = None;
                if state == "link" {
                    act += &AttrPlan { chown: fresh.owner.clone(), chgrp: fresh.group.clone(), ..Default::default() }.script(&p);
                }
            } else {
                let mut link_attrs = attrs.clone();
                if state == "link" {
                    link_attrs.mode = None;
                }
                attr_changes(&info, &link_attrs, &p, &mut r, &mut act);
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
                act += &new_attrs_script(&attrs, mode, attrs.mode.is_some(), &p);
            } else {
                attr_changes(&info, &attrs, &p, &mut r, &mut act);
                if !preserve {
                    // like Ansible, touching an existing file updates its times and counts as a change
                    r.changed = true;
                    act += &format!("touch -- {p}\n");
                }
            }
        }
        _ => unreachable!(),
    }
    if r.changed && !ctx.check && !act.is_empty() {
        let out = sh(ctx, &format!("set -e\n{act}"), None).await?;
        if out.rc != 0 {
            let mut f = failed(format!("file: changing {path} failed: {}", text(&out.stderr).trim()));
            f.changed = true;
            return Ok(f);
        }
    }
    Ok(r)
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
