//! apt (and `package` on Debian/Ubuntu): installed state from dpkg-query in one exec, then at most one
//! apt-get call for all missing packages. Check mode simulates (`apt-get -s`) so it fails exactly when the
//! real run would.
use super::util::{failed, failed_exec, put_output, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const SPEC: Spec = Spec {
    args: &[
        "name|package|pkg",
        "state",
        "update_cache|update-cache",
        "cache_valid_time",
        "install_recommends|install-recommends",
        "purge",
        "autoremove",
        "upgrade",
        "default_release|default-release",
        "force",
        "allow_downgrade|allow-downgrade|allow_downgrades|allow-downgrades",
        "dpkg_options",
        "only_upgrade",
        "lock_timeout",
        "autoclean",
        "clean",
        "force_apt_get",
        "allow_unauthenticated|allow-unauthenticated",
        "allow_change_held_packages",
        "fail_on_autoremove",
    ],
    required: &[],
};

pub const NO_APT: &str = "mdxconf_no_apt";
const FRONT: &str = "DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a";

/// Status of one package as dpkg sees it.
#[derive(Debug, Clone, Default)]
pub struct Pkg {
    pub installed: bool,
    /// config files left behind (`rc`): purge would still change something
    pub config_only: bool,
    pub version: String,
    pub candidate: Option<String>,
}

/// `name`, `name=version` (version may end in `*`), `name:arch`.
fn split_spec(s: &str) -> (&str, Option<&str>) {
    match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    }
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

pub fn gather_script(names: &[String], policy: bool) -> String {
    let bare: Vec<String> = names.iter().map(|n| q(split_spec(n).0)).collect();
    let mut s = String::from("if ! command -v dpkg-query >/dev/null 2>&1; then echo mgr=none; exit 0; fi\necho mgr=apt\n");
    s += "echo now=$(date +%s); st=0; for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists; do if [ -e $f ]; then m=$(stat -c %Y $f); [ $m -gt $st ] && st=$m; fi; done; echo stamp=$st\n";
    s += "ls /var/lib/apt/lists | grep -q '_Packages' && echo lists=1\n";
    if !bare.is_empty() {
        s += &format!("dpkg-query -W -f='P\\t${{Package}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' {} 2>/dev/null\n", bare.join(" "));
        if policy {
            s += &format!("LC_ALL=C apt-cache policy {} 2>/dev/null | awk '/^[^ ]/{{p=$1; sub(/:$/,\"\",p)}} /Candidate:/{{print \"C\\t\" p \"\\t\" $2}}'\n", bare.join(" "));
        }
    }
    s += "true\n";
    s
}

pub struct Gathered {
    pub has_apt: bool,
    pub now: i64,
    pub stamp: i64,
    pub lists: bool,
    pub pkgs: HashMap<String, Pkg>,
}

pub fn parse(out: &str) -> Gathered {
    let kv = super::util::kv(out);
    let mut pkgs: HashMap<String, Pkg> = HashMap::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        match f.as_slice() {
            ["P", name, status, version] => {
                let e = pkgs.entry(name.to_string()).or_default();
                // an arch-qualified duplicate (multiarch) counts if any instance is installed
                if status.starts_with("ii") || status.starts_with("hi") {
                    e.installed = true;
                    e.version = version.to_string();
                } else if status.starts_with("rc") {
                    e.config_only = true;
                }
            }
            ["C", name, cand] => {
                let name = name.split(':').next().unwrap_or(name);
                pkgs.entry(name.to_string()).or_default().candidate = (*cand != "(none)").then(|| cand.to_string());
            }
            _ => {}
        }
    }
    Gathered {
        has_apt: kv.get("mgr").map(String::as_str) == Some("apt"),
        now: kv.get("now").and_then(|v| v.parse().ok()).unwrap_or(0),
        stamp: kv.get("stamp").and_then(|v| v.parse().ok()).unwrap_or(0),
        lists: kv.contains_key("lists"),
        pkgs,
    }
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("apt", &SPEC, args)?;
    let names = a.list("name")?;
    let state = match a.str("state")?.as_deref().unwrap_or("present") {
        "present" | "installed" => "present",
        "absent" | "removed" => "absent",
        "latest" => "latest",
        "fixed" | "build-dep" => bail!("apt: state={} is not supported", a.str("state")?.unwrap_or_default()),
        s => bail!("apt: argument 'state' must be one of present, absent, latest; got '{s}'"),
    };
    let upgrade = match a.str("upgrade")?.as_deref() {
        None | Some("no") | Some("false") | Some("False") => None,
        Some("yes") | Some("true") | Some("True") | Some("safe") => Some("upgrade"),
        Some("dist") | Some("full") => Some("dist-upgrade"),
        Some(u) => bail!("apt: argument 'upgrade' must be one of no, yes, safe, full, dist; got '{u}'"),
    };
    let update_cache = a.bool("update_cache", false)?;
    let valid = a.int("cache_valid_time")?;
    let autoremove = a.bool("autoremove", false)?;
    let purge = a.bool("purge", false)?;
    if names.is_empty() && !update_cache && upgrade.is_none() && !autoremove && !a.bool("autoclean", false)? && !a.bool("clean", false)? {
        bail!("apt: one of name, update_cache, upgrade, autoremove, autoclean or clean is required");
    }
    let lock = a.int("lock_timeout")?.unwrap_or(60);
    let mut opts = format!("-y -q -o DPkg::Lock::Timeout={lock} -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold");
    match a.opt_bool("install_recommends")? {
        Some(true) => opts += " -o APT::Install-Recommends=true",
        Some(false) => opts += " --no-install-recommends",
        None => {}
    }
    if let Some(r) = a.str("default_release")? {
        opts += &format!(" -t {}", q(&r));
    }
    if a.bool("allow_downgrade", false)? {
        opts += " --allow-downgrades";
    }
    if a.bool("allow_unauthenticated", false)? {
        opts += " --allow-unauthenticated";
    }
    if a.bool("allow_change_held_packages", false)? {
        opts += " --allow-change-held-packages";
    }
    if a.bool("force", false)? {
        opts += " --allow-downgrades --allow-remove-essential --allow-change-held-packages";
    }
    for o in a.list("dpkg_options")? {
        opts += &format!(" -o Dpkg::Options::=--{}", q(o.trim_start_matches('-')));
    }

    let want_policy = state == "latest";
    let out = sh(ctx, &gather_script(&names, want_policy), None).await?;
    let mut g = parse(&text(&out.stdout));
    if !g.has_apt {
        let mut f = failed("apt: dpkg/apt-get not found on this host (not Debian/Ubuntu?)");
        // lets `package` fall back to dnf without a separate probe
        f.data.insert(NO_APT.into(), true.into());
        return Ok(f);
    }
    let mut r = ModuleResult::default();
    // cache: fresh enough unless cache_valid_time is exceeded (or lists are missing altogether)
    let needs_update = update_cache && (valid.is_none() || !g.lists || g.now - g.stamp > valid.unwrap_or(0));
    if needs_update {
        r.data.insert("cache_updated".into(), true.into());
        if !ctx.check {
            let out = sh(
                ctx,
                &format!("{FRONT} apt-get -q -o DPkg::Lock::Timeout={lock} update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp"),
                None,
            )
            .await?;
            if out.rc != 0 {
                return Ok(failed_exec("apt-get update failed", &out));
            }
            if want_policy || !g.lists {
                g = parse(&text(&sh(ctx, &gather_script(&names, want_policy), None).await?.stdout));
            }
        }
    } else {
        r.data.insert("cache_updated".into(), false.into());
    }
    r.data.insert("cache_update_time".into(), g.stamp.into());

    let mut install: Vec<String> = vec![];
    let mut remove: Vec<String> = vec![];
    let (mut before, mut after) = (String::new(), String::new());
    for n in &names {
        let (bare, ver) = split_spec(n);
        let key = bare.split(':').next().unwrap_or(bare);
        let p = g.pkgs.get(key).cloned().unwrap_or_default();
        let have = if p.installed { p.version.clone() } else { "absent".into() };
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
            "absent" if p.installed || (purge && p.config_only) => {
                remove.push(bare.to_string());
                before += &format!("{key}: {}\n", if p.installed { p.version.as_str() } else { "config files" });
                after += &format!("{key}: {}\n", if purge { "purged" } else { "absent" });
            }
            _ => {}
        }
    }
    let mut actions: Vec<String> = vec![];
    if !install.is_empty() {
        let words: Vec<String> = install.iter().map(|n| q(n)).collect();
        actions.push(format!("{FRONT} apt-get {opts} install {}", words.join(" ")));
    }
    if !remove.is_empty() {
        let words: Vec<String> = remove.iter().map(|n| q(n)).collect();
        actions.push(format!("{FRONT} apt-get {opts} {} remove {}", if purge { "--purge" } else { "" }, words.join(" ")));
    }
    if !before.is_empty() {
        r.changed = true;
        r.diff.push(state_diff("packages", before, after));
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
            return Ok(failed_exec(format!("apt-get {what} (simulated) failed"), &sim));
        }
        let st = text(&sim.stdout);
        let lines: Vec<&str> = st.lines().filter(|l| l.starts_with("Inst ") || l.starts_with("Remv ")).collect();
        if !lines.is_empty() {
            r.changed = true;
            r.diff.push(state_diff(format!("apt-get {what}"), "", lines.iter().map(|l| format!("{l}\n")).collect::<String>()));
            actions.push(cmd);
        }
    }
    if ctx.check {
        // predict failures too: simulate the install/remove (not possible before a pending cache update)
        if (!install.is_empty() || !remove.is_empty()) && (!needs_update || g.lists) {
            let sim: Vec<String> = actions.iter().filter(|c| c.contains(" install ") || c.contains(" remove ")).map(|c| c.replacen("apt-get", "apt-get -s", 1)).collect();
            let out = sh(ctx, &sim.join(" && "), None).await?;
            // With a cache update pending, the current lists may lack the packages a source added
            // earlier in this run provides: the real run updates first, so only the change is predicted.
            if out.rc != 0 && !needs_update {
                return Ok(failed_exec("apt-get (simulated) failed", &out));
            }
        }
        if names.is_empty() && needs_update {
            r.changed = true;
        }
        return Ok(r);
    }
    if !actions.is_empty() {
        let out = sh(ctx, &actions.join(" && "), None).await?;
        put_output(&mut r.data, &out);
        if out.rc != 0 {
            let mut f = failed_exec("apt-get failed", &out);
            f.changed = true;
            f.diff = r.diff;
            return Ok(f);
        }
    }
    for c in ["autoclean", "clean"] {
        if a.bool(c, false)? {
            let out = sh(ctx, &format!("apt-get {c}"), None).await?;
            if out.rc != 0 {
                return Ok(failed_exec(format!("apt-get {c} failed"), &out));
            }
        }
    }
    if names.is_empty() && needs_update {
        r.changed = true;
    }
    Ok(r)
}
