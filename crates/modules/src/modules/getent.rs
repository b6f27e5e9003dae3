//! getent: a getent(1) database as facts (`ansible_facts.getent_<database>`), as Ansible's getent module;
//! exit codes 1, 2 and 3 are Ansible's messages, `fail_key: false` turns a missing key into a null entry.
use crate::host::getent::parse_getent;
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::Result;
use serde_json::{json, Map, Value};

pub struct Getent;

static SPEC: ArgSpec = ArgSpec::new(&[s("database").required(), s("key"), s("service"), s("split"), b("fail_key").default(Def::Bool(true))]);

#[async_trait::async_trait]
impl Module for Getent {
    fn name(&self) -> &'static str {
        "getent"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let db = a.req("database")?;
        let key = a.str("key")?;
        let mut cmd = String::from("getent");
        if let Some(svc) = a.str("service")? {
            cmd += &format!(" -s {}", q(&svc));
        }
        cmd += &format!(" {}", q(&db));
        if let Some(k) = &key {
            cmd += &format!(" {}", q(k));
        }
        let out = sh(ctx, &cmd, None).await?;
        let tree_name = format!("getent_{db}");
        let facts = |tree: Map<String, Value>| json!({ tree_name.clone(): tree });
        let mut r = ModuleResult::default();
        match out.rc {
            0 => {
                r.data.insert("ansible_facts".into(), facts(parse_getent(&db, a.str("split")?.as_deref(), &text(&out.stdout))));
                Ok(Plan::done(r))
            }
            2 if !a.bool("fail_key")? => {
                let mut tree = Map::new();
                tree.insert(key.unwrap_or_default(), Value::Null);
                r.msg = "One or more supplied key could not be found in the database.".into();
                r.data.insert("ansible_facts".into(), facts(tree));
                Ok(Plan::done(r))
            }
            rc => Ok(Plan::done(failed(match rc {
                1 => "Missing arguments, or database unknown.".to_string(),
                2 => "One or more supplied key could not be found in the database.".into(),
                3 => "Enumeration not supported on this database.".into(),
                127 => format!("getent is not installed on the host: {}", text(&out.stderr).trim()),
                _ => format!("Unexpected failure! (rc {rc}): {}", text(&out.stderr).trim()),
            }))),
        }
    }
}
