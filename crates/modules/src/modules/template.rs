//! template: a controller-side Jinja2 file rendered with the host's variables, then written like copy.
use crate::modules::copy::common_put;
use crate::ops::local_src::find_local;
use crate::ops::put::plan_put;
use crate::spec::{b, raw, s, ArgSpec, Def};
use crate::{Args, Module, ModuleCtx, Plan};
use anyhow::{anyhow, bail, Result};

pub struct Template;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("src").required(),
    s("dest").required(),
    s("owner"),
    s("group"),
    raw("mode"),
    b("backup").default(Def::Bool(false)),
    s("validate"),
    b("force").default(Def::Bool(true)),
    b("follow").default(Def::Bool(false)),
    b("unsafe_writes").ignored(),
    // only "\n" and utf-8 (checked in plan)
    s("newline_sequence"),
    s("output_encoding"),
]);

#[async_trait::async_trait]
impl Module for Template {
    fn name(&self) -> &'static str {
        "template"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let src = a.req("src")?;
        let dest = a.req("dest")?;
        if let Some(n) = a.str("newline_sequence")? {
            if n != "\n" && n != "\\n" {
                bail!("template: only newline_sequence '\\n' is supported");
            }
        }
        if let Some(e) = a.str("output_encoding")? {
            if !matches!(e.to_ascii_lowercase().as_str(), "utf-8" | "utf8") {
                bail!("template: only output_encoding 'utf-8' is supported, got '{e}'");
            }
        }
        let local =
            find_local(&ctx.search_dirs, "templates", &src).ok_or_else(|| anyhow!("template: could not find src '{src}' (searched templates/ of {:?})", ctx.search_dirs))?;
        // the error keeps its type: the engine reports a template's file:line
        let rendered = ctx.templater.render_file(&local, ctx.vars).map_err(anyhow::Error::new)?;
        let mut p = common_put(a, &dest, rendered.into_bytes())?;
        p.into_dir = local.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut plan = plan_put(ctx, p).await?;
        plan.result.data.insert("src".into(), local.display().to_string().into());
        Ok(plan)
    }
}
