//! apt (alias apt_get; and `package` on Debian/Ubuntu): installed state from dpkg-query in one exec, then at
//! most one apt-get call for every change. Installs and removals are simulated (`apt-get -s`) while planning,
//! so check mode fails exactly when the real run would.
use crate::host::packages::{apt_script, deb_file_script, parse_apt, parse_deb_file, split_apt_spec, AptState};
use crate::ops::transaction::finish_transaction;
use crate::spec::{b, i, is_templated, l, s, ArgSpec, Def, Phase, SpecError};
use crate::util::{failed_exec, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Outcome, Plan, Step};
use anyhow::{anyhow, Result};
use serde_json::{Map, Value};

pub struct Apt;

static SPEC: ArgSpec = ArgSpec::new(&[
    l("name").aliases(&["package", "pkg"]),
    s("state").choices(&["present", "installed", "absent", "removed", "latest", "fixed", "build-dep"]).default(Def::Str("present")),
    b("update_cache").aliases(&["update-cache"]),
    i("cache_valid_time"),
    b("install_recommends").aliases(&["install-recommends"]),
    b("purge"),
    b("autoremove"),
    s("upgrade").choices(&["no", "yes", "safe", "full", "dist", "true", "false", "True", "False"]),
    s("default_release").aliases(&["default-release"]),
    b("force"),
    b("allow_downgrade").aliases(&["allow-downgrade", "allow_downgrades", "allow-downgrades"]),
    l("dpkg_options"),
    b("only_upgrade"),
    i("lock_timeout").default(Def::Int(60)),
    b("autoclean"),
    b("clean"),
    // mdxconf always runs apt-get
    b("force_apt_get").ignored(),
    b("allow_unauthenticated").aliases(&["allow-unauthenticated"]),
    b("allow_change_held_packages"),
    b("fail_on_autoremove"),
    s("deb"),
    i("policy_rc_d"),
    // a failed update fails the task at once
    i("update_cache_retries").ignored(),
    i("update_cache_retry_max_delay").ignored(),
])
.one_of(&[&["name", "update_cache", "upgrade", "autoremove", "autoclean", "clean", "deb"]])
.exclusive(&[&["deb", "name", "upgrade"]]);

const FRONT: &str = "DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a";
/// The `what` of the install/remove/upgrade step (and its failure message).
pub(crate) const TXN: &str = "apt-get failed";

/// Arguments mdxconf knows and refuses (parse time through the registry, and again when planning).
pub(crate) fn rules(args: &Map<String, Value>, phase: Phase) -> Result<(), SpecError> {
    let refuse = |key: &str, msg: &str| Err(SpecError { key: Some(key.into()), msg: msg.into() });
    if let Some(v) = SPEC.value_of(args, "state").filter(|v| !(phase == Phase::Parse && is_templated(v))) {
        if let Some(st @ ("fixed" | "build-dep")) = v.as_str() {
            return refuse("state", &format!("apt: state={st} is not supported"));
        }
    }
    if SPEC.value_of(args, "deb").and_then(Value::as_str).is_some_and(|d| d.contains("://")) {
        return refuse("deb", "apt: deb must be a file on the host: mdxconf does not download (copy the .deb first)");
    }
    if SPEC.value_of(args, "policy_rc_d").is_some() {
        return refuse("policy_rc_d", "apt: policy_rc_d is not supported");
    }
    Ok(())
}

#[async_trait::async_trait]
impl Module for Apt {
    fn name(&self) -> &'static str {
        "apt"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["apt_get"]
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        Ok(plan_apt(a, ctx).await?.unwrap_or_else(|| Plan::failed("apt: dpkg/apt-get not found on this host (not Debian/Ubuntu?)")))
    }
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        finish_apt(planned, outcomes)
    }
}

/// The transaction's output, its failure (still `changed`: dpkg may have unpacked some), and a change
/// the plan could not see (latest after a pending cache update) read from apt-get's summary line.
pub(crate) fn finish_apt(planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
    let mut r = finish_transaction(planned, outcomes, TXN, true);
    let txn_changed = outcomes.iter().any(|o| matches!(o, Outcome::Ran { what, out } if what == TXN && out.rc == 0 && summary_changed(&text(&out.stdout))));
    r.changed |= !r.failed && txn_changed;
    r
}

/// `N upgraded, N newly installed, N to remove and N not upgraded.`: anything but zeros is a change.
fn summary_changed(out: &str) -> bool {
    out.lines().filter(|l| l.contains(" upgraded, ") && l.contains(" newly installed")).any(|l| {
        let counts: Vec<u64> = l.split(", ").take(3).filter_map(|p| p.split_whitespace().next()?.parse().ok()).collect();
        counts.iter().any(|n| *n > 0)
    })
}

fn version_ok(have: &str, want: Option<&str>) -> bool {
    match want {
        None => true,
        Some(w) => match w.strip_suffix('*') {
            Some(prefix) => have.starts_with(prefix),
            None => have == w,
        },
    }
}

/// apt-get's options from the arguments.
fn apt_options(a: &Args, lock: i64) -> Result<String> {
    let mut opts = format!("-y -q -o DPkg::Lock::Timeout={lock} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold");
    match a.opt_bool("install_recommends")? {
        Some(true) => opts += " -o APT::Install-Recommends=true",
        Some(false) => opts += " --no-install-recommends",
        None => {}
    }
    if let Some(r) = a.str("default_release")? {
        opts += &format!(" -t {}", q(&r));
    }
    for (k, o) in
        [("allow_downgrade", " --allow-downgrades"), ("allow_unauthenticated", " --allow-unauthenticated"), ("allow_change_held_packages", " --allow-change-held-packages")]
    {
        if a.bool(k)? {
            opts += o;
        }
    }
    if a.bool("force")? {
        opts += " --allow-downgrades --allow-remove-essential --allow-change-held-packages";
    }
    if a.bool("fail_on_autoremove")? {
        opts += " --no-remove";
    }
    for o in a.list("dpkg_options")? {
        opts += &format!(" -o Dpkg::Options::=--{}", q(o.trim_start_matches('-')));
    }
    Ok(opts)
}

/// The plan, `None` on a host without dpkg (`package` then asks dnf).
pub(crate) async fn plan_apt(a: &Args, ctx: &ModuleCtx<'_>) -> Result<Option<Plan>> {
    rules(a.values(), Phase::Run).map_err(|e| anyhow!(e.msg))?;
    let names = a.list("name")?;
    let state = match a.choice("state")?.as_str() {
        "present" | "installed" => "present",
        "absent" | "removed" => "absent",
        _ => "latest",
    };
    let upgrade = match a.str("upgrade")?.as_deref() {
        None | Some("no" | "false" | "False") => None,
        Some("dist" | "full") => Some("dist-upgrade"),
        Some(_) => Some("upgrade"),
    };
    let valid = a.int("cache_valid_time")?;
    // as in Ansible, an explicit cache_valid_time implies update_cache
    let update_cache = a.opt_bool("update_cache")?.unwrap_or(valid.is_some());
    let (autoremove, purge, only_upgrade) = (a.bool("autoremove")?, a.bool("purge")?, a.bool("only_upgrade")?);
    let lock = a.int("lock_timeout")?.unwrap_or(60);
    let opts = apt_options(a, lock)?;

    let deb = a.str("deb")?;
    let mut script = apt_script(&names, state == "latest");
    if let Some(f) = &deb {
        script += &deb_file_script(f);
    }
    let out = sh(ctx, &script, None).await?;
    let g: AptState = parse_apt(&text(&out.stdout));
    if !g.has_apt {
        return Ok(None);
    }
    let mut r = ModuleResult::default();
    let mut steps = vec![];
    // fresh enough unless cache_valid_time is exceeded (or the lists are missing altogether)
    let needs_update = update_cache && (valid.is_none() || !g.lists || g.now - g.stamp > valid.unwrap_or(0));
    r.data.insert("cache_updated".into(), needs_update.into());
    r.data.insert("cache_update_time".into(), g.stamp.into());
    if needs_update {
        let script = format!("{FRONT} apt-get -q -o DPkg::Lock::Timeout={lock} update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp");
        steps.push(Step::run("apt-get update failed", script));
    }

    let (mut install, mut remove) = (vec![], vec![]);
    let (mut before, mut after) = (String::new(), String::new());
    if let Some(f) = &deb {
        let d = parse_deb_file(&text(&out.stdout));
        if !d.exists {
            // it may come from an earlier task check mode did not run: predicted, and a real run fails
            r.diff.push(state_diff("packages", "", format!("{f}: installed\n")));
            return Ok(Some(Plan::change(r, vec![Step::Fail(format!("apt: deb file {f} does not exist on the host"))])));
        }
        if d.name.is_empty() {
            return Ok(Some(Plan::failed(format!("apt: {f} is not a .deb package"))));
        }
        if d.installed.as_deref() != Some(d.version.as_str()) {
            // apt-get installs a file (with its dependencies) when the argument is a path
            install.push(if f.contains('/') { f.clone() } else { format!("./{f}") });
            before += &format!("{}: {}\n", d.name, d.installed.as_deref().unwrap_or("absent"));
            after += &format!("{}: {}\n", d.name, d.version);
        }
    }
    for n in &names {
        let (bare, ver) = split_apt_spec(n);
        let key = bare.split(':').next().unwrap_or(bare);
        let p = g.pkgs.get(key).cloned().unwrap_or_default();
        let have = if p.installed { p.version.clone() } else { "absent".into() };
        if only_upgrade && !p.installed && state != "absent" {
            continue;
        }
        match state {
            "present" if !p.installed || !version_ok(&p.version, ver) => {
                install.push(n.clone());
                before += &format!("{key}: {have}\n");
                after += &format!("{key}: {}\n", ver.unwrap_or("installed"));
            }
            "latest" if !p.installed || p.candidate.as_deref().is_some_and(|c| c != p.version) => {
                install.push(n.clone());
                before += &format!("{key}: {have}\n");
                after += &format!("{key}: {}\n", p.candidate.as_deref().unwrap_or("latest"));
            }
            // after a pending cache update the candidates may be newer: apt-get decides (finish reads its summary)
            "latest" if needs_update => install.push(n.clone()),
            "absent" if p.installed || (purge && p.config_only) => {
                remove.push(bare.to_string());
                before += &format!("{key}: {}\n", if p.installed { p.version.as_str() } else { "config files" });
                after += &format!("{key}: {}\n", if purge { "purged" } else { "absent" });
            }
            _ => {}
        }
    }
    let words = |v: &[String]| v.iter().map(|n| q(n)).collect::<Vec<_>>().join(" ");
    let mut actions: Vec<String> = vec![];
    if !install.is_empty() {
        let only = if only_upgrade { " --only-upgrade" } else { "" };
        actions.push(format!("{FRONT} apt-get {opts}{only} install {}", words(&install)));
    }
    if !remove.is_empty() {
        actions.push(format!("{FRONT} apt-get {opts} {} remove {}", if purge { "--purge" } else { "" }, words(&remove)));
    }
    if !before.is_empty() {
        r.changed = true;
        r.diff.push(state_diff("packages", before, after));
    }
    // predict failures (a package that does not exist): simulate; before a pending cache update the
    // current lists may lack what a source added earlier in this run provides, so only the change is predicted
    if !actions.is_empty() && !needs_update {
        let sim: Vec<String> = actions.iter().map(|c| c.replacen("apt-get", "apt-get -s", 1)).collect();
        let out = sh(ctx, &sim.join(" && "), None).await?;
        if out.rc != 0 {
            return Ok(Some(Plan::done(failed_exec("apt-get (simulated) failed", &out))));
        }
    }
    // upgrade/autoremove change something only if a simulation says so
    let mut sims: Vec<(&str, String)> = vec![];
    if let Some(u) = upgrade {
        sims.push((u, format!("{FRONT} apt-get {opts} {u}")));
    }
    if autoremove {
        sims.push(("autoremove", format!("{FRONT} apt-get {opts} {} autoremove", if purge { "--purge" } else { "" })));
    }
    for (what, cmd) in sims {
        let sim = sh(ctx, &format!("LC_ALL=C {}", cmd.replacen("apt-get", "apt-get -s", 1)), None).await?;
        if sim.rc != 0 {
            return Ok(Some(Plan::done(failed_exec(format!("apt-get {what} (simulated) failed"), &sim))));
        }
        let st = text(&sim.stdout);
        let lines: String = st.lines().filter(|l| l.starts_with("Inst ") || l.starts_with("Remv ")).map(|l| format!("{l}\n")).collect();
        if !lines.is_empty() {
            r.changed = true;
            r.diff.push(state_diff(format!("apt-get {what}"), "", lines));
            actions.push(cmd);
        }
    }
    if !actions.is_empty() {
        steps.push(Step::run(TXN, actions.join(" && ")));
    }
    for c in ["autoclean", "clean"] {
        if a.bool(c)? {
            steps.push(Step::run(format!("apt-get {c} failed"), format!("apt-get {c}")));
        }
    }
    // a cache update alone is a change; with packages named, only their changes count
    if names.is_empty() && needs_update {
        r.changed = true;
    }
    Ok(Some(Plan { result: r, steps }))
}

#[cfg(test)]
mod tests {
    use crate::plan::{ModuleResult, Outcome};
    use mdxconf_transport::ExecOutput;

    #[test]
    fn finish_reads_the_summary() {
        let out = |s: &str| Outcome::Ran { what: super::TXN.into(), out: ExecOutput { rc: 0, stdout: s.into(), stderr: vec![] } };
        // latest after a pending update: apt-get upgraded what the plan could not see
        assert!(super::finish_apt(ModuleResult::default(), &[out("1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")]).changed);
        assert!(!super::finish_apt(ModuleResult::default(), &[out("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")]).changed);
    }

    #[test]
    fn summary() {
        assert!(!super::summary_changed("0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\n"));
        assert!(super::summary_changed("1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"));
        assert!(!super::summary_changed("hello is already the newest version\n"));
    }
}
