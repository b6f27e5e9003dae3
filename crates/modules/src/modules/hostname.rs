//! hostname: /etc/hostname plus the running hostname (hostnamectl under systemd, `hostname` otherwise),
//! both read in one exec.
use crate::host::file::{gather_script, parse_gather, GatherOpts, Want};
use crate::ops::attrs::ModeSpec;
use crate::ops::put::{plan_put_with_info, Put};
use crate::plan::Step;
use crate::spec::{s, ArgSpec};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;

pub struct Hostname;

static SPEC: ArgSpec = ArgSpec::new(&[s("name").required(), s("use").choices(&["auto", "systemd", "debian", "generic"])]);

const FILE: &str = "/etc/hostname";

#[async_trait::async_trait]
impl Module for Hostname {
    fn name(&self) -> &'static str {
        "hostname"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            bail!("hostname: invalid name '{name}'");
        }
        let use_ = a.str("use")?.unwrap_or_else(|| "auto".into());
        let mut probe = String::from("echo \"live=$(hostname)\"; [ -d /run/systemd/system ] && command -v hostnamectl >/dev/null && echo systemd=1\n");
        probe += &gather_script(FILE, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content });
        let out = sh(ctx, &probe, None).await?;
        if out.rc != 0 {
            bail!("hostname: reading the hostname failed: {}", text(&out.stderr).trim());
        }
        let info = parse_gather(&out.stdout)?;
        let live = info.extra.get("live").cloned().unwrap_or_default();
        let file = info.content.as_deref().map(text).unwrap_or_default().lines().next().unwrap_or("").to_string();
        let systemd = info.extra.contains_key("systemd") && use_ != "debian" && use_ != "generic";
        let mut r = ModuleResult::default();
        r.data.insert("name".into(), name.clone().into());
        r.data.insert("ansible_facts".into(), serde_json::json!({"ansible_hostname": name.split('.').next().unwrap_or(&name), "ansible_nodename": name}));
        if live == name && file == name {
            return Ok(Plan::done(r));
        }
        r.diff.push(state_diff("hostname", format!("hostname: {live}\n/etc/hostname: {file}\n"), format!("hostname: {name}\n/etc/hostname: {name}\n")));
        let mut steps = vec![];
        if file != name {
            let content = format!("{name}\n");
            let sha = sha256_hex(content.as_bytes());
            let mut p = Put::new(FILE, content.into_bytes());
            p.attrs.mode = Some(ModeSpec::Octal(0o644));
            p.follow = true;
            let w = plan_put_with_info(ctx, p, info, sha);
            if w.result.failed {
                return Ok(w);
            }
            // the state diff above says it all; the file's own diff would repeat it
            steps.extend(w.steps);
        }
        if live != name {
            let cmd = if systemd { format!("hostnamectl set-hostname {}", q(&name)) } else { format!("hostname {}", q(&name)) };
            steps.push(Step::run("setting the hostname failed", cmd));
        }
        Ok(Plan::change(r, steps))
    }
}
