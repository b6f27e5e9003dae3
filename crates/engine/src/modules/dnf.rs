//! dnf (RHEL family): installed state via `rpm -q` (per requested name, so `name-1.0` specs and
//! local `.rpm` files, by their NEVRA, work too) in one exec, then one dnf call for the changes.
//! `name: '*'` with `state: latest` upgrades everything check-update lists. `installroot`, `conf_file`,
//! `releasever`, `enablerepo`/`disablerepo` pass through to dnf as Ansible's module does; with an
//! installroot the rpm database inside it is queried, so the host itself is never looked at.
//! Tested with real RPMs (rpmbuild) from a createrepo_c repository into a temp installroot.
use super::util::{failed, failed_exec, put_output, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const SPEC: Spec = Spec {
    args: &[
        "name|pkg",
        "state",
        "update_cache|expire-cache",
        "enablerepo",
        "disablerepo",
        "disable_gpg_check",
        "install_weak_deps",
        "autoremove",
        "lock_timeout",
        "allowerasing",
        "nobest",
        "installroot",
        "conf_file",
        "releasever",
    ],
    required: &[],
};

/// Marks the probe's lines: installed packages, then (for `latest`) check-update's answer.
const INSTALLED: &str = "P\t";
const UPDATES: &str = "@@MDXCONF-UPDATES@@";

struct Plan {
    /// name -> installed version-release
    installed: HashMap<String, String>,
    /// names (as requested) with a newer version in the enabled repos -> that version
    outdated: HashMap<String, String>,
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
    if a.bool("disable_gpg_check", false)? {
        opts += " --nogpgcheck";
    }
    if let Some(w) = a.opt_bool("install_weak_deps")? {
        opts += &format!(" --setopt=install_weak_deps={}", if w { "True" } else { "False" });
    }
    if a.bool("allowerasing", false)? {
        opts += " --allowerasing";
    }
    if a.bool("nobest", false)? {
        opts += " --nobest";
    }
    if a.bool("update_cache", false)? {
        opts += " --refresh";
    }
    // lock_timeout is accepted for compatibility: dnf 4 waits for its lock by itself.
    let _ = a.int("lock_timeout")?;
    Ok(opts)
}

/// One exec: which requested names are installed (and, for latest, which have updates).
/// `names == ["*"]` (latest only) asks check-update about every installed package.
async fn probe(ctx: &ModuleCtx<'_>, names: &[String], root: &str, opts: &str, latest: bool) -> Result<Result<Plan, ModuleResult>> {
    let all = names == ["*"];
    let quoted: Vec<String> = if all { vec![] } else { names.iter().map(|n| q(n)).collect() };
    let mut script = format!(
        "command -v rpm >/dev/null 2>&1 || {{ echo NORPM; exit 0; }}\n\
         for n in {}; do p=$n; case $n in *.rpm) p=$(rpm -qp --qf '%{{NAME}}-%{{VERSION}}-%{{RELEASE}}.%{{ARCH}}' \"$n\" 2>/dev/null) || p=$n;; esac; \
         v=$(rpm {root} -q --qf '%{{VERSION}}-%{{RELEASE}}\\n' \"$p\" 2>/dev/null) && \
         printf '{INSTALLED}%s\\t%s\\n' \"$n\" \"$(printf '%s\\n' \"$v\" | head -n1)\"; done\n",
        if all { String::new() } else { quoted.join(" ") }
    );
    if latest {
        // check-update exits 100 with a `name.arch evr repo` line per update, 0 without, 1 on error.
        script += &format!("echo {UPDATES}; dnf -q {opts} check-update {} 2>&1; echo \"{UPDATES}rc=$?\"\n", quoted.join(" "));
    }
    let out = sh(ctx, &script, None).await?;
    let stdout = text(&out.stdout);
    if stdout.starts_with("NORPM") {
        return Ok(Err(failed("dnf: rpm not found on this host (not a RHEL-family system?)")));
    }
    let (head, updates) = stdout.split_once(&format!("{UPDATES}\n")).unwrap_or((&stdout, ""));
    let installed = head.lines().filter_map(|l| l.strip_prefix(INSTALLED)?.split_once('\t')).map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let mut outdated = HashMap::new();
    if latest {
        let (list, rc) = updates.rsplit_once(&format!("{UPDATES}rc=")).unwrap_or((updates, ""));
        match rc.trim() {
            "0" => {}
            "100" => {
                for line in list.lines() {
                    let mut f = line.split_whitespace();
                    let (Some(na), Some(evr)) = (f.next(), f.next()) else { continue };
                    let name = na.rsplit_once('.').map_or(na, |(n, _)| n);
                    if all {
                        outdated.insert(name.to_string(), evr.to_string());
                    } else if let Some(n) = names.iter().find(|n| *n == name || *n == na) {
                        outdated.insert(n.clone(), evr.to_string());
                    }
                }
            }
            _ => return Ok(Err(failed(format!("dnf check-update failed: {}", list.trim())))),
        }
    }
    Ok(Ok(Plan { installed, outdated }))
}

/// Check mode cannot let dnf resolve the transaction, but it can refuse what dnf would refuse:
/// names no enabled repository provides (and .rpm files that do not exist; groups and URLs are
/// left to the real run).
async fn unavailable(ctx: &ModuleCtx<'_>, names: &[String], opts: &str) -> Result<Result<(), ModuleResult>> {
    let quoted: Vec<String> = names.iter().map(|n| q(n)).collect();
    let script = format!(
        "for n in {}; do case $n in @*|*://*) ;; *.rpm) [ -f \"$n\" ] || echo \"$n\";; \
         *) [ -n \"$(dnf -q {opts} repoquery \"$n\" 2>/dev/null)\" ] || echo \"$n\";; esac; done",
        quoted.join(" ")
    );
    let out = sh(ctx, &script, None).await?;
    let missing: Vec<String> = text(&out.stdout).lines().map(str::to_string).filter(|l| !l.is_empty()).collect();
    if out.rc != 0 || !missing.is_empty() {
        return Ok(Err(failed(format!("dnf: no package matching {} is available", missing.join(", ")))));
    }
    Ok(Ok(()))
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("dnf", &SPEC, args)?;
    let names = a.list("name")?;
    let state = match a.str("state")?.as_deref().unwrap_or("present") {
        "present" | "installed" => "present",
        "absent" | "removed" => "absent",
        "latest" => "latest",
        s => bail!("dnf: argument 'state' must be one of present, absent, latest; got '{s}'"),
    };
    if names.is_empty() {
        bail!("dnf: name is required");
    }
    let all = names == ["*"];
    if all && state != "latest" {
        bail!("dnf: name '*' is only meaningful with state: latest (upgrade everything)");
    }
    let mut opts = dnf_options(&a)?;
    if state == "absent" && a.bool("autoremove", false)? {
        opts += " --setopt=clean_requirements_on_remove=True";
    }
    let root = a.str("installroot")?.map(|r| format!("--root {}", q(&r))).unwrap_or_default();
    let plan = match probe(ctx, &names, &root, &opts, state == "latest").await? {
        Ok(p) => p,
        Err(f) => return Ok(f),
    };
    let mut install = vec![];
    let mut upgrade = vec![];
    let mut remove = vec![];
    let (mut before, mut after) = (String::new(), String::new());
    // `name: '*'` with latest: every package check-update names (sorted for a stable diff).
    let targets: Vec<String> = if all {
        let mut t: Vec<String> = plan.outdated.keys().cloned().collect();
        t.sort();
        t
    } else {
        names.clone()
    };
    for n in &targets {
        let have = plan.installed.get(n).map(String::as_str).or(all.then_some("installed"));
        let list = match (state, have) {
            ("absent", Some(_)) => &mut remove,
            ("present" | "latest", None) => &mut install,
            ("latest", Some(_)) if plan.outdated.contains_key(n) => &mut upgrade,
            _ => continue,
        };
        list.push(n.clone());
        let new = match (state, plan.outdated.get(n)) {
            ("absent", _) => "absent",
            (_, Some(v)) => v.as_str(),
            _ => "installed",
        };
        before += &format!("{n}: {}\n", have.unwrap_or("absent"));
        after += &format!("{n}: {new}\n");
    }
    let mut r = ModuleResult::default();
    if install.is_empty() && upgrade.is_empty() && remove.is_empty() {
        return Ok(r);
    }
    if ctx.check && !install.is_empty() {
        if let Err(f) = unavailable(ctx, &install, &opts).await? {
            return Ok(f);
        }
    }
    r.changed = true;
    r.diff.push(state_diff("packages", before, after));
    if ctx.check {
        return Ok(r);
    }
    let join = |v: &[String]| v.iter().map(|n| q(n)).collect::<Vec<_>>().join(" ");
    // `dnf install` leaves an installed package alone and `dnf upgrade` does not install, so
    // latest may need both; `&&` keeps a failed install from being followed by more changes.
    let mut cmds = vec![];
    if !remove.is_empty() {
        cmds.push(format!("dnf {opts} remove {}", join(&remove)));
    }
    if !install.is_empty() {
        cmds.push(format!("dnf {opts} install {}", join(&install)));
    }
    if !upgrade.is_empty() {
        cmds.push(format!("dnf {opts} upgrade {}", join(&upgrade)));
    }
    let out = sh(ctx, &cmds.join(" && "), None).await?;
    put_output(&mut r.data, &out);
    if out.rc != 0 {
        return Ok(failed_exec("dnf failed", &out));
    }
    Ok(r)
}
