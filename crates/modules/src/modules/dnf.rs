//! dnf (alias yum; and `package` on RHEL-family hosts): installed state via `rpm -q` per requested name (so
//! `name-1.0` specs and local `.rpm` files, by their NEVRA, work too) in one exec, then one dnf call for the
//! changes. `name: '*'` with `state: latest` upgrades everything check-update lists. `installroot`,
//! `conf_file`, `releasever`, `enablerepo`/`disablerepo` pass through to dnf; with an installroot the rpm
//! database inside it is queried, so the host itself is never looked at.
use crate::host::packages::{parse_rpm, rpm_script};
use crate::ops::transaction::finish_transaction;
use crate::spec::{b, i, l, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan, Step};
use anyhow::{bail, Result};

pub struct Dnf;

static SPEC: ArgSpec = ArgSpec::new(&[
    l("name").aliases(&["pkg"]).required(),
    s("state").choices(&["present", "installed", "absent", "removed", "latest"]).default(Def::Str("present")),
    b("update_cache").aliases(&["expire-cache"]),
    l("enablerepo"),
    l("disablerepo"),
    b("disable_gpg_check"),
    b("install_weak_deps"),
    b("autoremove"),
    // dnf waits for its lock by itself
    i("lock_timeout").ignored(),
    b("allowerasing"),
    b("nobest"),
    s("installroot"),
    s("conf_file"),
    s("releasever"),
    // dnf's own options, passed through
    l("exclude"),
    b("skip_broken"),
    b("cacheonly"),
    s("disable_excludes"),
    l("enable_plugin"),
    l("disable_plugin"),
    b("sslverify").default(Def::Bool(true)),
    b("update_only"),
    // no downloads by the module itself; repoquery is part of dnf
    b("validate_certs").ignored(),
    b("install_repoquery").ignored(),
]);

/// The `what` of the transaction step (and its failure message).
pub(crate) const TXN: &str = "dnf failed";

#[async_trait::async_trait]
impl Module for Dnf {
    fn name(&self) -> &'static str {
        "dnf"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["yum"]
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        plan_dnf(a, ctx).await
    }
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        finish_transaction(planned, outcomes, TXN, false)
    }
}

/// dnf's options common to every call (query and transaction).
fn dnf_options(a: &Args) -> Result<String> {
    let mut opts = String::from("-y");
    if let Some(root) = a.str("installroot")? {
        if !root.starts_with('/') {
            bail!("dnf: installroot must be an absolute path, got '{root}'");
        }
        opts += &format!(" --installroot={}", q(&root));
    }
    if let Some(c) = a.str("conf_file")? {
        opts += &format!(" --config={}", q(&c));
    }
    if let Some(r) = a.str("releasever")? {
        opts += &format!(" --releasever={}", q(&r));
    }
    // dnf applies --disablerepo and --enablerepo in command-line order; Ansible disables first.
    for r in a.list("disablerepo")? {
        opts += &format!(" --disablerepo={}", q(&r));
    }
    for r in a.list("enablerepo")? {
        opts += &format!(" --enablerepo={}", q(&r));
    }
    if a.bool("disable_gpg_check")? {
        opts += " --nogpgcheck";
    }
    if let Some(w) = a.opt_bool("install_weak_deps")? {
        opts += &format!(" --setopt=install_weak_deps={}", if w { "True" } else { "False" });
    }
    for (k, o) in [("allowerasing", " --allowerasing"), ("nobest", " --nobest"), ("update_cache", " --refresh"), ("skip_broken", " --skip-broken"), ("cacheonly", " --cacheonly")] {
        if a.bool(k)? {
            opts += o;
        }
    }
    for (k, o) in [("exclude", "--exclude"), ("enable_plugin", "--enableplugin"), ("disable_plugin", "--disableplugin")] {
        for v in a.list(k)? {
            opts += &format!(" {o}={}", q(&v));
        }
    }
    if let Some(d) = a.str("disable_excludes")? {
        opts += &format!(" --disableexcludes={}", q(&d));
    }
    if !a.bool("sslverify")? {
        opts += " --setopt=sslverify=False";
    }
    Ok(opts)
}

/// Names no enabled repository provides (and .rpm files that do not exist; groups and URLs are left to dnf),
/// so check mode refuses what dnf would refuse. One exec, only when something is to be installed.
async fn unavailable(ctx: &ModuleCtx<'_>, names: &[String], opts: &str) -> Result<Option<ModuleResult>> {
    let quoted: Vec<String> = names.iter().map(|n| q(n)).collect();
    let script = format!(
        "for n in {}; do case $n in @*|*://*) ;; *.rpm) [ -f \"$n\" ] || echo \"$n\";; \
         *) [ -n \"$(dnf -q {opts} repoquery \"$n\" 2>/dev/null)\" ] || echo \"$n\";; esac; done",
        quoted.join(" ")
    );
    let out = sh(ctx, &script, None).await?;
    let missing: Vec<String> = text(&out.stdout).lines().map(str::to_string).filter(|l| !l.is_empty()).collect();
    Ok((out.rc != 0 || !missing.is_empty()).then(|| failed(format!("dnf: no package matching {} is available", missing.join(", ")))))
}

pub(crate) async fn plan_dnf(a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
    let names = a.list("name")?;
    let state = match a.choice("state")?.as_str() {
        "present" | "installed" => "present",
        "absent" | "removed" => "absent",
        _ => "latest",
    };
    if names.is_empty() {
        bail!("dnf: name is required");
    }
    let all = names == ["*"];
    let update_only = a.bool("update_only")?;
    if all && state != "latest" {
        bail!("dnf: name '*' is only meaningful with state: latest (upgrade everything)");
    }
    let mut opts = dnf_options(a)?;
    if state == "absent" && a.bool("autoremove")? {
        opts += " --setopt=clean_requirements_on_remove=True";
    }
    let root = a.str("installroot")?.map(|r| format!("--root {}", q(&r))).unwrap_or_default();
    let out = sh(ctx, &rpm_script(&names, &root, &opts, state == "latest"), None).await?;
    let st = match parse_rpm(&text(&out.stdout), &names, state == "latest") {
        Ok(Some(st)) => st,
        Ok(None) => return Ok(Plan::failed("dnf: rpm not found on this host (not a RHEL-family system?)")),
        Err(e) => return Ok(Plan::failed(format!("dnf check-update failed: {e}"))),
    };
    let (mut install, mut upgrade, mut remove) = (vec![], vec![], vec![]);
    let (mut before, mut after) = (String::new(), String::new());
    // `name: '*'` with latest: every package check-update names (sorted for a stable diff).
    let targets: Vec<String> = if all {
        let mut t: Vec<String> = st.outdated.keys().cloned().collect();
        t.sort();
        t
    } else {
        names.clone()
    };
    for n in &targets {
        let have = st.installed.get(n).map(String::as_str).or(all.then_some("installed"));
        let list = match (state, have) {
            ("absent", Some(_)) => &mut remove,
            // update_only: latest upgrades what is installed and installs nothing new
            ("latest", None) if update_only => continue,
            ("present" | "latest", None) => &mut install,
            ("latest", Some(_)) if st.outdated.contains_key(n) => &mut upgrade,
            _ => continue,
        };
        list.push(n.clone());
        let new = match (state, st.outdated.get(n)) {
            ("absent", _) => "absent",
            (_, Some(v)) => v.as_str(),
            _ => "installed",
        };
        before += &format!("{n}: {}\n", have.unwrap_or("absent"));
        after += &format!("{n}: {new}\n");
    }
    if install.is_empty() && upgrade.is_empty() && remove.is_empty() {
        return Ok(Plan::done(ModuleResult::default()));
    }
    if !install.is_empty() {
        if let Some(f) = unavailable(ctx, &install, &opts).await? {
            return Ok(Plan::done(f));
        }
    }
    let mut r = ModuleResult::default();
    r.diff.push(state_diff("packages", before, after));
    let join = |v: &[String]| v.iter().map(|n| q(n)).collect::<Vec<_>>().join(" ");
    // `dnf install` leaves an installed package alone and `dnf upgrade` does not install, so latest may
    // need both; `&&` keeps a failed install from being followed by more changes.
    let mut cmds = vec![];
    for (verb, list) in [("remove", &remove), ("install", &install), ("upgrade", &upgrade)] {
        if !list.is_empty() {
            cmds.push(format!("dnf {opts} {verb} {}", join(list)));
        }
    }
    Ok(Plan::change(r, vec![Step::run(TXN, cmds.join(" && "))]))
}
