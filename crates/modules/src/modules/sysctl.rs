//! sysctl: a key in a sysctl file (a keyed-line edit, written atomically) and optionally in the running
//! kernel; the file and the running value are read in one exec.
use crate::host::kernel::{norm_blanks, parse_sysctl, sysctl_script};
use crate::ops::attrs::ModeSpec;
use crate::ops::edit::{set_keyed_line, split_eq};
use crate::ops::put::{plan_put_with_info, Put};
use crate::plan::{Outcome, Step};
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;
use serde_json::Value;

pub struct Sysctl;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").aliases(&["key"]).required(),
    s("value").aliases(&["val"]),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    s("sysctl_file").default(Def::Str("/etc/sysctl.conf")),
    b("reload").default(Def::Bool(true)),
    b("sysctl_set").default(Def::Bool(false)),
    b("ignoreerrors").default(Def::Bool(false)),
])
.required_if(&[("state", "present", &["value"])]);

#[async_trait::async_trait]
impl Module for Sysctl {
    fn name(&self) -> &'static str {
        "sysctl"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let key = a.req("name")?.trim().to_string();
        let state = a.req("state")?;
        // yes/no values are 1/0 (Ansible's sysctl does the same)
        let value = match a.get("value") {
            Some(Value::Bool(b)) => Some(if *b { "1".to_string() } else { "0".to_string() }),
            _ => a.str("value")?.map(|v| v.trim().to_string()),
        };
        let present = state == "present";
        if present && value.is_none() {
            bail!("sysctl: value is required with state=present");
        }
        let file = a.req("sysctl_file")?;
        let set_live = a.bool("sysctl_set")?;
        let out = sh(ctx, &sysctl_script(&key, set_live, &file), None).await?;
        if out.rc != 0 {
            bail!("sysctl: reading {file} failed: {}", text(&out.stderr).trim());
        }
        let (live, info) = parse_sysctl(&out.stdout)?;
        let before = info.content.as_deref().map(text).unwrap_or_default();
        let after = set_keyed_line(&before, &key, if present { value.as_deref() } else { None }, "=", split_eq);
        let file_changed = (info.exists() || present) && after != before;
        let mut r = ModuleResult::default();
        let mut steps = vec![];
        if file_changed {
            let mut p = Put::new(file.clone(), after.clone().into_bytes());
            p.follow = true;
            if !info.exists() {
                p.attrs.mode = Some(ModeSpec::Octal(0o644));
            }
            let sha = sha256_hex(after.as_bytes());
            let w = plan_put_with_info(ctx, p, info, sha);
            if w.result.failed {
                return Ok(w);
            }
            r.diff.extend(w.result.diff);
            steps.extend(w.steps);
        }
        let mut cmds = vec![];
        let want_live = value.as_deref().map(norm_blanks);
        if set_live && present && live != want_live {
            r.diff.push(state_diff(format!("sysctl {key} (running kernel)"), format!("{}\n", live.unwrap_or_default()), format!("{}\n", value.clone().unwrap_or_default())));
            cmds.push(format!("sysctl -w {}={}", q(&key), q(value.as_deref().unwrap_or(""))));
        }
        if file_changed && a.bool("reload")? {
            cmds.push(format!("sysctl {}-p {}", if a.bool("ignoreerrors")? { "-e " } else { "" }, q(&file)));
        }
        if !cmds.is_empty() {
            steps.push(Step::run("sysctl failed", cmds.join(" && ")));
        }
        Ok(Plan::change(r, steps))
    }
    /// A failed `sysctl -w`/`-p` still reports the change that was decided (as the old module did).
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let changed = planned.changed;
        let mut r = crate::module::default_finish(planned, outcomes);
        if r.failed {
            r.changed = changed;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_failed_sysctl_keeps_the_change() {
        let bad = Outcome::Ran { what: "sysctl failed".into(), out: mdxconf_transport::ExecOutput { rc: 255, stdout: vec![], stderr: b"unknown key\n".to_vec() } };
        let r = Sysctl.finish(ModuleResult { changed: true, ..Default::default() }, &[Outcome::Written { backup: None }, bad]);
        assert!(r.failed && r.changed && r.msg == "sysctl failed: unknown key");
    }
}
