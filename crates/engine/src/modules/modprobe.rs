//! modprobe: load/unload a kernel module and optionally persist it (modules-load.d / modprobe.d).
use super::copy::{put_content, Put};
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name", "state", "params", "persistent"], required: &["name"] };

const MARK_LOAD: &str = "@@LOAD@@";
const MARK_OPTS: &str = "@@OPTS@@";

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("modprobe", &SPEC, args)?;
    let name = a.req("name")?;
    if name.contains('/') || name.contains(char::is_whitespace) {
        bail!("modprobe: invalid module name '{name}'");
    }
    let state = a.choice("state", "present", &["present", "absent"])?;
    let params = a.str("params")?.unwrap_or_default();
    let persistent = a.choice("persistent", "disabled", &["disabled", "present", "absent"])?;
    let kname = name.replace('-', "_");
    let load_file = format!("/etc/modules-load.d/{name}.conf");
    let opts_file = format!("/etc/modprobe.d/{name}.conf");
    let script = format!(
        "grep -q '^{k} ' /proc/modules && echo loaded=1\ngrep -qE '/{k}\\.ko|/{n}\\.ko' /lib/modules/$(uname -r)/modules.builtin 2>/dev/null && echo builtin=1\n[ -e {lf} ] && echo has_load=1\n[ -e {of} ] && echo has_opts=1\necho {MARK_LOAD}; cat {lf} 2>/dev/null; echo {MARK_OPTS}; cat {of} 2>/dev/null; true\n",
        k = kname, n = name, lf = q(&load_file), of = q(&opts_file)
    );
    let out = text(&sh(ctx, &script, None).await?.stdout);
    let (head, rest) = out.split_once(&format!("{MARK_LOAD}\n")).unwrap_or((&out, ""));
    let (load_txt, opts_txt) = rest.split_once(&format!("{MARK_OPTS}\n")).unwrap_or((rest, ""));
    let kv = super::util::kv(head);
    let loaded = kv.contains_key("loaded") || kv.contains_key("builtin");
    let mut r = ModuleResult::default();
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("params".into(), params.clone().into());
    r.data.insert("state".into(), state.clone().into());
    let mut cmd = None;
    if state == "present" && !loaded {
        cmd = Some(format!("modprobe {} {params}", q(&name)));
    } else if state == "absent" && kv.contains_key("loaded") {
        cmd = Some(format!("modprobe -r {}", q(&name)));
    }
    if let Some(c) = &cmd {
        r.changed = true;
        r.diff.push(state_diff(format!("module {name}"), format!("loaded: {loaded}\n"), format!("loaded: {}\n", state == "present")));
        if !ctx.check {
            let out = sh(ctx, c, None).await?;
            if out.rc != 0 {
                return Ok(failed_exec(format!("{c} failed"), &out));
            }
        }
    }
    // persistence files are compared with what the first exec returned; they are only written when different
    let want_load = format!("{name}\n");
    let want_opts = format!("options {name} {params}\n");
    let mut files: Vec<(String, Option<String>, bool, &str)> = vec![];
    match persistent.as_str() {
        "present" => {
            files.push((load_file.clone(), Some(want_load.clone()), kv.contains_key("has_load"), load_txt));
            if !params.is_empty() {
                files.push((opts_file.clone(), Some(want_opts.clone()), kv.contains_key("has_opts"), opts_txt));
            }
        }
        "absent" => {
            files.push((load_file.clone(), None, kv.contains_key("has_load"), load_txt));
            files.push((opts_file.clone(), None, kv.contains_key("has_opts"), opts_txt));
        }
        _ => {}
    }
    for (path, want, exists, have) in files {
        match want {
            Some(w) if !exists || have != w => {
                let w2 = put_content(
                    ctx,
                    Put {
                        attrs: super::fileops::Attrs { mode: Some(super::fileops::ModeSpec::Octal(0o644)), ..Default::default() },
                        make_parents: true,
                        ..Put::new(&path, w.into_bytes())
                    },
                )
                .await?;
                if w2.failed {
                    return Ok(w2);
                }
                r.changed |= w2.changed;
                r.diff.extend(w2.diff);
            }
            None if exists => {
                r.changed = true;
                r.diff.push(state_diff(&path, have.to_string(), ""));
                if !ctx.check {
                    sh(ctx, &format!("rm -f -- {}", q(&path)), None).await?;
                }
            }
            _ => {}
        }
    }
    Ok(r)
}
