//! stat: everything about a path in one exec, returned under `stat` like Ansible's module.
use crate::host::stat::{parse_stat, stat_script, StatOpts};
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{sh, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};

pub struct Stat;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["dest", "name"]).required(),
    b("follow").default(Def::Bool(false)),
    b("get_checksum").default(Def::Bool(true)),
    s("checksum_algorithm").aliases(&["checksum", "checksum_algo"]).default(Def::Str("sha1")).choices(&["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]),
    b("get_mime").aliases(&["mime", "mime_type", "mime-type"]).default(Def::Bool(true)),
    // lsattr flags are not reported; leaving them out changes nothing on the host
    b("get_attributes").aliases(&["attr", "attributes"]).ignored(),
    b("get_md5").ignored(),
]);

#[async_trait::async_trait]
impl Module for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?;
        let algo = a.choice("checksum_algorithm")?;
        let o = StatOpts { follow: a.bool("follow")?, checksum: a.bool("get_checksum")?.then_some(algo.as_str()), mime: a.bool("get_mime")? };
        let out = sh(ctx, &stat_script(&path, &o), None).await?;
        if out.rc != 0 {
            bail!("stat: inspecting {path} failed: {}", text(&out.stderr).trim());
        }
        let mut r = ModuleResult::default();
        r.data.insert("stat".into(), parse_stat(&path, &text(&out.stdout)));
        Ok(Plan::done(r))
    }
}
