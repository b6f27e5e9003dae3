//! user: create/modify/remove a local account (useradd/usermod/userdel), the state read in one exec.
use crate::host::account::{parse_user, user_script, User};
use crate::plan::Step;
use crate::spec::{b, i, l, raw, s, ArgSpec, Def};
use crate::util::{failed, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use serde_json::Value;

pub struct UserModule;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("name").aliases(&["user"]).required(),
    i("uid"),
    s("group"),
    l("groups"),
    b("append").default(Def::Bool(false)),
    s("shell"),
    s("home"),
    b("create_home").aliases(&["createhome"]).default(Def::Bool(true)),
    s("password"),
    s("update_password").choices(&["always", "on_create"]).default(Def::Str("always")),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    b("system").default(Def::Bool(false)),
    b("remove").default(Def::Bool(false)),
    b("force").default(Def::Bool(false)),
    s("comment"),
    b("move_home").default(Def::Bool(false)),
    b("non_unique").default(Def::Bool(false)),
    s("skeleton"),
    b("password_lock"),
    // epoch seconds (a float in Ansible); negative: never expires
    raw("expires"),
])
// as Ansible (a bool given as a string other than yes/no is caught in plan)
.required_if(&[("append", "yes", &["groups"])]);

#[async_trait::async_trait]
impl Module for UserModule {
    fn name(&self) -> &'static str {
        "user"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let name = a.req("name")?;
        let state = a.req("state")?;
        let group = a.str("group")?;
        let groups: Option<Vec<String>> = if a.get("groups").is_some() { Some(a.list("groups")?) } else { None };
        if a.bool("append")? && groups.is_none() {
            bail!("user: append is True but all of the following are missing: groups");
        }
        let expires = expires_days(a)?;
        let named: Vec<String> = if state == "present" { group.iter().chain(groups.iter().flatten()).cloned().collect() } else { vec![] };
        let out = sh(ctx, &user_script(&name, &named), None).await?;
        let probe = parse_user(&text(&out.stdout));
        let mut r = ModuleResult::default();
        r.data.insert("name".into(), name.clone().into());
        r.data.insert("state".into(), state.clone().into());
        if state == "absent" {
            let Some(c) = probe.user else { return Ok(Plan::done(r)) };
            r.diff.push(state_diff(format!("user {name}"), format!("state: present\nuid: {}\n", c.uid), "state: absent\n"));
            let mut cmd = "userdel".to_string();
            if a.bool("remove")? {
                cmd += " -r";
            }
            if a.bool("force")? {
                cmd += " -f";
            }
            return Ok(Plan::change(r, vec![Step::run("userdel failed", format!("{cmd} {}", q(&name)))]));
        }
        if let Some(missing) = probe.missing_groups.first() {
            return Ok(Plan::done(failed(format!("Group {missing} does not exist"))));
        }
        let want = Want {
            uid: a.str("uid")?,
            group,
            groups,
            shell: a.str("shell")?,
            home: a.str("home")?,
            comment: a.str("comment")?,
            password: a.str("password")?,
            lock: a.opt_bool("password_lock")?,
            expires,
        };
        let (cmd, before, after) = match &probe.user {
            None => {
                let (cmd, after) = useradd(a, &name, &want)?;
                (cmd, "state: absent\n".to_string(), format!("state: present\n{after}"))
            }
            Some(c) => {
                r.data.insert("uid".into(), c.uid.parse::<u64>().map(Value::from).unwrap_or(Value::Null));
                r.data.insert("home".into(), c.home.clone().into());
                r.data.insert("shell".into(), c.shell.clone().into());
                let Some(x) = usermod(a, &name, &want, c)? else { return Ok(Plan::done(r)) };
                x
            }
        };
        r.diff.push(state_diff(format!("user {name}"), before, after));
        let what = format!("{} failed", cmd.split_whitespace().next().unwrap_or("user"));
        Ok(Plan::change(r, vec![Step::run(what, cmd)]))
    }
}

struct Want {
    uid: Option<String>,
    group: Option<String>,
    groups: Option<Vec<String>>,
    shell: Option<String>,
    home: Option<String>,
    comment: Option<String>,
    password: Option<String>,
    lock: Option<bool>,
    expires: Option<i64>,
}

/// The `useradd` command line and the diff's "after" lines.
fn useradd(a: &Args, name: &str, w: &Want) -> Result<(String, String)> {
    let mut cmd = vec!["useradd".to_string()];
    let mut after = String::new();
    let skeleton = a.str("skeleton")?;
    for (flag, v, label) in
        [("-u", &w.uid, "uid"), ("-g", &w.group, "group"), ("-s", &w.shell, "shell"), ("-d", &w.home, "home"), ("-c", &w.comment, "comment"), ("-k", &skeleton, "skeleton")]
    {
        if let Some(v) = v {
            cmd.push(format!("{flag} {}", q(v)));
            after.push_str(&format!("{label}: {v}\n"));
        }
    }
    if let Some(p) = &w.password {
        // as Ansible: a locked account gets the hash with '!' in front
        let p = if w.lock == Some(true) { format!("!{p}") } else { p.clone() };
        cmd.push(format!("-p {}", q(&p)));
        after.push_str("password: (set)\n");
    }
    if let Some(d) = w.expires {
        cmd.push(format!("-e {}", q(&expire_arg(d))));
        after.push_str(&format!("expires: {}\n", expire_text(d)));
    }
    if let Some(gs) = w.groups.as_ref().filter(|g| !g.is_empty()) {
        cmd.push(format!("-G {}", q(&gs.join(","))));
        after.push_str(&format!("groups: {}\n", gs.join(",")));
    }
    if a.bool("system")? {
        cmd.push("-r".into());
    }
    if a.bool("non_unique")? {
        cmd.push("-o".into());
    }
    cmd.push(if a.bool("create_home")? { "-m".into() } else { "-M".into() });
    cmd.push(q(name));
    Ok((cmd.join(" "), after))
}

/// The `usermod` command line and the diff, None when the account already is as asked.
fn usermod(a: &Args, name: &str, w: &Want, c: &User) -> Result<Option<(String, String, String)>> {
    let (mut before, mut after) = (String::new(), String::new());
    let mut flags: Vec<String> = vec![];
    for (flag, want, have, label) in
        [("-u", &w.uid, &c.uid, "uid"), ("-s", &w.shell, &c.shell, "shell"), ("-d", &w.home, &c.home, "home"), ("-c", &w.comment, &c.comment, "comment")]
    {
        if let Some(v) = want.as_ref().filter(|v| *v != have) {
            flags.push(format!("{flag} {}", q(v)));
            before.push_str(&format!("{label}: {have}\n"));
            after.push_str(&format!("{label}: {v}\n"));
        }
    }
    if let Some(g) = w.group.as_ref().filter(|g| **g != c.primary && **g != c.gid) {
        flags.push(format!("-g {}", q(g)));
        before.push_str(&format!("group: {}\n", c.primary));
        after.push_str(&format!("group: {g}\n"));
    }
    let append = a.bool("append")?;
    if let Some(want) = &w.groups {
        let want: Vec<String> = want.iter().filter(|g| **g != c.primary).cloned().collect();
        let missing = want.iter().any(|g| !c.groups.contains(g));
        let extra = !append && c.groups.iter().any(|g| !want.contains(g));
        if missing || extra {
            let mut all = if append { c.groups.clone() } else { vec![] };
            for g in &want {
                if !all.contains(g) {
                    all.push(g.clone());
                }
            }
            flags.push(format!("{}-G {}", if append { "-a " } else { "" }, q(&if append { want.join(",") } else { all.join(",") })));
            before.push_str(&format!("groups: {}\n", c.groups.join(",")));
            after.push_str(&format!("groups: {}\n", all.join(",")));
        }
    }
    let locked = c.hash.as_deref().is_some_and(|h| h.starts_with('!'));
    let mut lock_flag = match w.lock {
        Some(true) if !locked => Some("-L"),
        Some(false) if locked => Some("-U"),
        _ => None,
    };
    let update_always = a.req("update_password")? == "always";
    if let (Some(p), true) = (&w.password, update_always) {
        // the lock mark is not part of the hash (as Ansible compares)
        if c.hash.as_deref().map(|h| h.trim_start_matches('!')) != Some(p.trim_start_matches('!')) {
            // -p and -L/-U do not mix: a locked account gets the hash with '!' in front
            let lock = w.lock.unwrap_or(locked);
            lock_flag = None;
            flags.push(format!("-p {}", q(&if lock { format!("!{p}") } else { p.clone() })));
            before.push_str("password: (old)\n");
            after.push_str("password: (new)\n");
        }
    }
    if let Some(f) = lock_flag {
        flags.push(f.to_string());
        before.push_str(&format!("password_lock: {locked}\n"));
        after.push_str(&format!("password_lock: {}\n", !locked));
    }
    if let (Some(d), Some(have)) = (w.expires, c.expires_days) {
        let differs = if d < 0 { have >= 0 } else { have != d };
        if differs {
            flags.push(format!("-e {}", q(&expire_arg(d))));
            before.push_str(&format!("expires: {}\n", expire_text(have)));
            after.push_str(&format!("expires: {}\n", expire_text(d)));
        }
    }
    if a.bool("move_home")? && flags.iter().any(|f| f.starts_with("-d ")) {
        flags.push("-m".into());
    }
    if flags.is_empty() {
        return Ok(None);
    }
    if a.bool("non_unique")? {
        flags.push("-o".into());
    }
    Ok(Some((format!("usermod {} {}", flags.join(" "), q(name)), before, after)))
}

/// `expires` (epoch seconds) as a day number since 1970; negative: never.
fn expires_days(a: &Args) -> Result<Option<i64>> {
    let secs = match a.get("expires") {
        None => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let Some(secs) = secs else { bail!("user: expires must be a number (seconds since the epoch)") };
    Ok(Some(if secs < 0.0 { -1 } else { (secs / 86400.0).floor() as i64 }))
}

/// usermod/useradd `-e` argument: YYYY-MM-DD, or empty for "never expires".
fn expire_arg(days: i64) -> String {
    if days < 0 {
        return String::new();
    }
    mdxconf_transport::host_cert::civil_date(days)
}

fn expire_text(days: i64) -> String {
    if days < 0 {
        "never".into()
    } else {
        expire_arg(days)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::expire_arg(0), "1970-01-01");
        assert_eq!(super::expire_arg(19_723), "2024-01-01");
        assert_eq!(super::expire_arg(11_016), "2000-02-29");
        assert_eq!(super::expire_arg(-1), "");
    }
}
