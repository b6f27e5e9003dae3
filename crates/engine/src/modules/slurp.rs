//! slurp: a file's content, base64-encoded on the host (no dependency on the controller's side).
use super::util::{failed, q, sh, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::Result;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["src|path"], required: &["src"] };

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("slurp", &SPEC, args)?;
    let src = a.req("src")?;
    let out = sh(ctx, &format!("base64 -w0 < {}", q(&src)), None).await?;
    if out.rc != 0 {
        return Ok(failed(format!("file not found or unreadable: {src}: {}", text(&out.stderr).trim())));
    }
    let mut r = ModuleResult::default();
    r.data.insert("content".into(), text(&out.stdout).trim().into());
    r.data.insert("encoding".into(), "base64".into());
    r.data.insert("source".into(), src.into());
    Ok(r)
}
