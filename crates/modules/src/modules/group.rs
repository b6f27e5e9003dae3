//! group: create/modify/remove a local group, the state read in one exec.
use crate::host::account::{group_script, parse_group};
use crate::plan::Step;
use crate::spec::{b, i, s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::Result;
use serde_json::Value;

pub struct Group;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").required(),
    i("gid"),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    b("system").default(Def::Bool(false)),
    b("non_unique").default(Def::Bool(false)),
    // groupdel -f: delete even when it is a user's primary group
    b("force").default(Def::Bool(false)),
    // lgroupadd & co. for hosts with central accounts; plain groupadd creates local groups anyway
    b("local").ignored(),
]);

#[async_trait::async_trait]
impl Module for Group {
    fn name(&self) -> &'static str {
        "group"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        let state = a.req("state")?;
        let gid = a.str("gid")?;
        let out = sh(ctx, &group_script(&name), None).await?;
        let cur_gid = parse_group(&text(&out.stdout));
        let mut r = ModuleResult::default();
        r.data.insert("name".into(), name.clone().into());
        r.data.insert("state".into(), state.clone().into());
        let o = if a.bool("non_unique")? { " -o" } else { "" };
        let cmd = match (state.as_str(), &cur_gid) {
            ("absent", Some(g)) => {
                r.diff.push(state_diff(format!("group {name}"), format!("state: present\ngid: {g}\n"), "state: absent\n"));
                format!("groupdel{} {}", if a.bool("force")? { " -f" } else { "" }, q(&name))
            }
            ("present", None) => {
                let mut c = "groupadd".to_string();
                let mut after = "state: present\n".to_string();
                if let Some(g) = &gid {
                    c += &format!(" -g {}", q(g));
                    after += &format!("gid: {g}\n");
                }
                if a.bool("system")? {
                    c += " -r";
                }
                c += o;
                r.diff.push(state_diff(format!("group {name}"), "state: absent\n", after));
                format!("{c} {}", q(&name))
            }
            ("present", Some(have)) if gid.as_ref().is_some_and(|g| g != have) => {
                let g = gid.clone().unwrap_or_default();
                r.diff.push(state_diff(format!("group {name}"), format!("gid: {have}\n"), format!("gid: {g}\n")));
                format!("groupmod -g {}{o} {}", q(&g), q(&name))
            }
            _ => {
                if let Some(g) = cur_gid {
                    r.data.insert("gid".into(), g.parse::<u64>().map(Value::from).unwrap_or(Value::Null));
                }
                return Ok(Plan::done(r));
            }
        };
        let what = format!("{} failed", cmd.split(' ').next().unwrap_or("group"));
        Ok(Plan::change(r, vec![Step::run(what, cmd)]))
    }
}
