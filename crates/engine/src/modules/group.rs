//! group: create/modify/remove a local group, state read in one exec.
use super::util::{failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::Result;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["name", "gid", "state", "system", "non_unique", "force", "local"], required: &["name"] };

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("group", &SPEC, args)?;
    let name = a.req("name")?;
    let state = a.choice("state", "present", &["present", "absent"])?;
    let gid = a.str("gid")?;
    let out = sh(ctx, &format!("getent group {} || true", q(&name)), None).await?;
    let line = text(&out.stdout);
    let cur_gid = line.lines().next().and_then(|l| l.split(':').nth(2)).map(str::to_string);
    let mut r = ModuleResult::default();
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("state".into(), state.clone().into());
    let cmd = match (&state[..], &cur_gid) {
        ("absent", Some(g)) => {
            r.diff.push(state_diff(format!("group {name}"), format!("state: present\ngid: {g}\n"), "state: absent\n"));
            format!("groupdel {}", q(&name))
        }
        ("present", None) => {
            let mut c = "groupadd".to_string();
            let mut after = "state: present\n".to_string();
            if let Some(g) = &gid {
                c += &format!(" -g {}", q(g));
                after += &format!("gid: {g}\n");
            }
            if a.bool("system", false)? {
                c += " -r";
            }
            if a.bool("non_unique", false)? {
                c += " -o";
            }
            r.diff.push(state_diff(format!("group {name}"), "state: absent\n", after));
            format!("{c} {}", q(&name))
        }
        ("present", Some(have)) if gid.as_ref().is_some_and(|g| g != have) => {
            let g = gid.clone().unwrap_or_default();
            r.diff.push(state_diff(format!("group {name}"), format!("gid: {have}\n"), format!("gid: {g}\n")));
            format!("groupmod -g {} {}{}", q(&g), if a.bool("non_unique", false)? { "-o " } else { "" }, q(&name))
        }
        _ => {
            if let Some(g) = cur_gid {
                r.data.insert("gid".into(), g.parse::<u64>().map(Value::from).unwrap_or(Value::Null));
            }
            return Ok(r);
        }
    };
    r.changed = true;
    if ctx.check {
        return Ok(r);
    }
    let out = sh(ctx, &cmd, None).await?;
    if out.rc != 0 {
        let mut f = failed_exec(format!("{} failed", cmd.split(' ').next().unwrap_or("group")), &out);
        f.diff = r.diff;
        return Ok(f);
    }
    Ok(r)
}
