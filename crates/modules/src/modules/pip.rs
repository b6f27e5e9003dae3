//! pip: packages in a virtualenv (created with `python3 -m venv` by default) or for a given pip. Installed
//! versions come from `pip list` in the same exec as the venv check; `latest` and `requirements` ask pip
//! itself (`install --dry-run`) while planning, so check mode predicts what pip would do.
use crate::host::pip::{list_script, norm, parse_list, parse_req, satisfied};
use crate::ops::transaction::finish_transaction;
use crate::spec::{b, l, parse_bool, s, ArgSpec, Def, Phase, SpecError};
use crate::util::{failed_exec, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan, Step};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

pub struct Pip;

static SPEC: ArgSpec = ArgSpec::new(&[
    l("name"),
    s("version"),
    s("requirements"),
    s("virtualenv"),
    s("virtualenv_command"),
    s("virtualenv_python"),
    b("virtualenv_site_packages"),
    s("state").choices(&["present", "absent", "latest", "forcereinstall"]).default(Def::Str("present")),
    s("extra_args"),
    b("editable"),
    s("chdir"),
    s("executable"),
    s("umask"),
    b("break_system_packages"),
])
.one_of(&[&["name", "requirements"]])
.exclusive(&[&["name", "requirements"], &["executable", "virtualenv"]]);

const TXN: &str = "pip failed";

pub(crate) fn rules(args: &Map<String, Value>, _phase: Phase) -> Result<(), SpecError> {
    if SPEC.value_of(args, "editable").and_then(parse_bool) == Some(true) {
        return Err(SpecError { key: Some("editable".into()), msg: "pip: editable installs are not supported".into() });
    }
    Ok(())
}

#[async_trait::async_trait]
impl Module for Pip {
    fn name(&self) -> &'static str {
        "pip"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        plan_pip(a, ctx).await
    }
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        finish_transaction(planned, outcomes, TXN, false)
    }
}

/// The command creating the virtualenv.
fn venv_command(a: &Args) -> Result<String> {
    let mut vc = a.str("virtualenv_command")?.unwrap_or_else(|| "python3 -m venv".into());
    if let Some(py) = a.str("virtualenv_python")? {
        if vc.contains("venv") && !vc.contains("virtualenv") {
            vc = format!("{} -m venv", q(&py));
        } else {
            vc += &format!(" -p {}", q(&py));
        }
    }
    if a.bool("virtualenv_site_packages")? {
        vc += " --system-site-packages";
    }
    Ok(vc)
}

async fn plan_pip(a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
    rules(a.values(), Phase::Run).map_err(|e| anyhow!(e.msg))?;
    let mut names = a.list("name")?;
    let reqs = a.str("requirements")?;
    if let Some(v) = a.str("version")? {
        if names.len() != 1 {
            bail!("pip: version needs exactly one name");
        }
        names[0] = format!("{}=={v}", names[0]);
    }
    let state = a.choice("state")?;
    let venv = a.str("virtualenv")?;
    let pip = match (&venv, a.str("executable")?) {
        (Some(v), _) => format!("{}/bin/pip", q(v)),
        (None, Some(e)) => q(&e),
        (None, None) => "python3 -m pip".to_string(),
    };
    let mut pre = String::new();
    if let Some(d) = a.str("chdir")? {
        pre += &format!("cd -- {} && ", q(&d));
    }
    if let Some(u) = a.str("umask")? {
        pre += &format!("umask {} && ", q(&u));
    }
    let mut extra = a.str("extra_args")?.unwrap_or_default();
    if a.bool("break_system_packages")? {
        extra += " --break-system-packages";
    }
    let st = parse_list(&text(&sh(ctx, &list_script(&pre, &pip, venv.as_deref()), None).await?.stdout));
    let mut r = ModuleResult::default();
    let mut cmds: Vec<String> = vec![];
    if let (Some(v), false) = (&venv, st.venv_exists) {
        r.diff.push(state_diff(format!("virtualenv {v}"), "state: absent\n", "state: present\n"));
        cmds.push(format!("{pre}{} {}", venv_command(a)?, q(v)));
    }
    let (mut before, mut after) = (String::new(), String::new());
    let mut todo: Vec<String> = vec![];
    match state.as_str() {
        "present" | "forcereinstall" => {
            for n in &names {
                let (name, specs) = parse_req(n);
                let have = st.installed.get(&norm(&name));
                if state == "forcereinstall" || !have.is_some_and(|h| satisfied(h, &specs)) {
                    todo.push(q(n));
                    before += &format!("{name}: {}\n", have.map(String::as_str).unwrap_or("absent"));
                    after += &format!("{n}\n");
                }
            }
            if !todo.is_empty() {
                let force = if state == "forcereinstall" { " --force-reinstall" } else { "" };
                cmds.push(format!("{pre}{pip} install --disable-pip-version-check{force} {extra} {}", todo.join(" ")));
            }
        }
        "absent" => {
            for n in &names {
                let (name, _) = parse_req(n);
                if let Some(h) = st.installed.get(&norm(&name)) {
                    todo.push(q(&name));
                    before += &format!("{name}: {h}\n");
                    after += &format!("{name}: absent\n");
                }
            }
            if !todo.is_empty() {
                cmds.push(format!("{pre}{pip} uninstall -y --disable-pip-version-check {}", todo.join(" ")));
            }
        }
        _ => {}
    }
    // latest and requirements: pip decides; a dry run tells whether it would install anything
    let mut dry: Vec<String> = vec![];
    if state == "latest" && !names.is_empty() {
        let quoted: Vec<String> = names.iter().map(|n| q(n)).collect();
        dry.push(format!("install -U {extra} {}", quoted.join(" ")));
    }
    if let Some(rf) = &reqs {
        if state != "absent" {
            dry.push(format!("install {extra} -r {}", q(rf)));
        } else {
            cmds.push(format!("{pre}{pip} uninstall -y -r {}", q(rf)));
        }
    }
    for d in dry {
        let would: Vec<String> = if venv.is_some() && !st.venv_exists {
            // a fresh virtualenv will need everything
            vec!["(all)".to_string()]
        } else {
            let out = sh(ctx, &format!("{pre}{pip} {d} --dry-run --disable-pip-version-check"), None).await?;
            if out.rc != 0 {
                return Ok(Plan::done(failed_exec("pip (dry run) failed", &out)));
            }
            text(&out.stdout).lines().filter_map(|l| l.strip_prefix("Would install ")).flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>()).collect()
        };
        if !would.is_empty() {
            after += &format!("{}\n", would.join("\n"));
            cmds.push(format!("{pre}{pip} {d} --disable-pip-version-check"));
        }
    }
    if !before.is_empty() || !after.is_empty() {
        r.diff.push(state_diff("pip packages", before, after));
    }
    if cmds.is_empty() {
        return Ok(Plan::done(r));
    }
    Ok(Plan::change(r, vec![Step::run(TXN, cmds.join(" && "))]))
}
