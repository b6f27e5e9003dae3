//! modprobe: load/unload a kernel module and optionally persist it (modules-load.d / modprobe.d); the
//! loaded state and both files are read in one exec.
use crate::host::kernel::{load_file, modprobe_script, opts_file, parse_modprobe};
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::ops::put::{plan_put, Put};
use crate::plan::Step;
use crate::spec::{s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};

pub struct Modprobe;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").required(),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    s("params").default(Def::Str("")),
    s("persistent").choices(&["disabled", "present", "absent"]).default(Def::Str("disabled")),
]);

#[async_trait::async_trait]
impl Module for Modprobe {
    fn name(&self) -> &'static str {
        "modprobe"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        if name.is_empty() || name.contains('/') || name.contains(char::is_whitespace) {
            bail!("modprobe: invalid module name '{name}'");
        }
        let state = a.req("state")?;
        let params = a.req("params")?;
        let persistent = a.req("persistent")?;
        let out = sh(ctx, &modprobe_script(&name), None).await?;
        let m = parse_modprobe(&out.stdout);
        let loaded = m.loaded || m.builtin;
        let mut r = ModuleResult::default();
        r.data.insert("name".into(), name.clone().into());
        r.data.insert("params".into(), params.clone().into());
        r.data.insert("state".into(), state.clone().into());
        let mut steps = vec![];
        let cmd = match state.as_str() {
            "present" if !loaded => Some(format!("modprobe {} {params}", q(&name))),
            "absent" if m.loaded => Some(format!("modprobe -r {}", q(&name))),
            _ => None,
        };
        if let Some(c) = cmd {
            r.diff.push(state_diff(format!("module {name}"), format!("loaded: {loaded}\n"), format!("loaded: {}\n", state == "present")));
            steps.push(Step::run(format!("{c} failed"), c));
        }
        // the persistence files are compared with what the probe read; only a difference costs an exec
        let (lf, of) = (load_file(&name), opts_file(&name));
        let mut files: Vec<(String, Option<String>, &Option<String>)> = vec![];
        match persistent.as_str() {
            "present" => {
                files.push((lf, Some(format!("{name}\n")), &m.load_file));
                if !params.is_empty() {
                    files.push((of, Some(format!("options {name} {params}\n")), &m.opts_file));
                }
            }
            "absent" => {
                files.push((lf, None, &m.load_file));
                files.push((of, None, &m.opts_file));
            }
            _ => {}
        }
        for (path, want, have) in files {
            match (want, have) {
                (Some(w), h) if h.as_deref() != Some(w.as_str()) => {
                    let put = Put { attrs: Attrs { mode: Some(ModeSpec::Octal(0o644)), ..Default::default() }, make_parents: true, ..Put::new(path, w.into_bytes()) };
                    let p = plan_put(ctx, put).await?;
                    if p.result.failed {
                        return Ok(p);
                    }
                    r.diff.extend(p.result.diff);
                    steps.extend(p.steps);
                }
                (None, Some(h)) => {
                    r.diff.push(state_diff(&path, h.clone(), ""));
                    steps.push(Step::run(format!("removing {path} failed"), format!("rm -f -- {}", q(&path))));
                }
                _ => {}
            }
        }
        Ok(Plan::change(r, steps))
    }
}
