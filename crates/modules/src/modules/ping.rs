//! ping: the host runs a command and answers.
use crate::spec::{s, ArgSpec, Def};
use crate::util::{failed_exec, sh};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};

pub struct Ping;

static SPEC: ArgSpec = ArgSpec::new(&[s("data").default(Def::Str("pong"))]);

#[async_trait::async_trait]
impl Module for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let data = a.req("data")?;
        // Ansible's way to test error handling
        if data == "crash" {
            bail!("boom");
        }
        let out = sh(ctx, "echo pong", None).await?;
        if out.rc != 0 {
            return Ok(Plan::done(failed_exec("ping failed", &out)));
        }
        let mut r = ModuleResult::default();
        r.data.insert("ping".into(), data.into());
        Ok(Plan::done(r))
    }
}
