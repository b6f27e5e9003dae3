//! slurp: a file's content, base64-encoded on the host (nothing needed on the controller's side).
use crate::spec::{s, ArgSpec};
use crate::util::{failed, sh, sh_quote, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::Result;

pub struct Slurp;

static SPEC: ArgSpec = ArgSpec::new(&[s("src").aliases(&["path"]).required()]);

#[async_trait::async_trait]
impl Module for Slurp {
    fn name(&self) -> &'static str {
        "slurp"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let src = a.req("src")?;
        let out = sh(ctx, &format!("base64 -w0 < {}", sh_quote(&src)), None).await?;
        if out.rc != 0 {
            return Ok(Plan::done(failed(format!("file not found or unreadable: {src}: {}", text(&out.stderr).trim()))));
        }
        let mut r = ModuleResult::default();
        r.data.insert("content".into(), text(&out.stdout).trim().into());
        r.data.insert("encoding".into(), "base64".into());
        r.data.insert("source".into(), src.into());
        Ok(Plan::done(r))
    }
}
