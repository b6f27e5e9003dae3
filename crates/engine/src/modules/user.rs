//! user: create/modify/remove a local account (useradd/usermod/userdel), state read in one exec.
use super::util::{failed, failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::Result;
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "name|user",
        "uid",
        "group",
        "groups",
        "append",
        "shell",
        "home",
        "create_home|createhome",
        "password",
        "update_password",
        "state",
        "system",
        "remove",
        "force",
        "comment",
        "move_home",
        "non_unique",
        "skeleton",
        "password_lock",
        "expires",
    ],
    required: &["name"],
};

struct Current {
    uid: String,
    gid: String,
    comment: String,
    home: String,
    shell: String,
    primary: String,
    groups: Vec<String>,
    hash: Option<String>,
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("user", &SPEC, args)?;
    let name = a.req("name")?;
    let state = a.choice("state", "present", &["present", "absent"])?;
    let group = a.str("group")?;
    let groups: Option<Vec<String>> = if a.has("groups") { Some(a.list("groups")?) } else { None };
    let mut script = format!("u={}\nif e=$(getent passwd \"$u\"); then echo \"pw=$e\"; echo \"groups=$(id -Gn \"$u\")\"; echo \"pgroup=$(id -gn \"$u\")\"; if s=$(getent shadow \"$u\" 2>/dev/null); then echo \"sh=$s\"; fi; fi\n", q(&name));
    if state == "present" {
        for g in group.iter().chain(groups.iter().flatten()) {
            script += &format!("getent group {} >/dev/null || echo \"nogroup={}\"\n", q(g), g.replace(['\n', '"', '$', '`', '\\'], ""));
        }
    }
    script += "true\n";
    let out = sh(ctx, &script, None).await?;
    let o = text(&out.stdout);
    let kv = super::util::kv(&o);
    let cur = kv.get("pw").map(|pw| {
        let f: Vec<&str> = pw.split(':').collect();
        let field = |i: usize| f.get(i).copied().unwrap_or("").to_string();
        let primary = kv.get("pgroup").cloned().unwrap_or_default();
        Current {
            uid: field(2),
            gid: field(3),
            comment: field(4),
            home: field(5),
            shell: field(6),
            groups: kv.get("groups").map(|g| g.split_whitespace().filter(|x| *x != primary).map(str::to_string).collect()).unwrap_or_default(),
            primary,
            hash: kv.get("sh").and_then(|s| s.split(':').nth(1).map(str::to_string)),
        }
    });
    let mut r = ModuleResult::default();
    r.data.insert("name".into(), name.clone().into());
    r.data.insert("state".into(), state.clone().into());
    if state == "absent" {
        if let Some(c) = cur {
            r.changed = true;
            r.diff.push(state_diff(format!("user {name}"), format!("state: present\nuid: {}\n", c.uid), "state: absent\n"));
            let mut cmd = "userdel".to_string();
            if a.bool("remove", false)? {
                cmd += " -r";
            }
            if a.bool("force", false)? {
                cmd += " -f";
            }
            return act(ctx, r, &format!("{cmd} {}", q(&name))).await;
        }
        return Ok(r);
    }
    if let Some(missing) = o.lines().find_map(|l| l.strip_prefix("nogroup=")) {
        return Ok(failed(format!("Group {missing} does not exist")));
    }
    let uid = a.str("uid")?;
    let shell = a.str("shell")?;
    let home = a.str("home")?;
    let comment = a.str("comment")?;
    let password = a.str("password")?;
    let update_always = a.choice("update_password", "always", &["always", "on_create"])? == "always";
    let append = a.bool("append", false)?;
    let (mut before, mut after) = (String::new(), String::new());
    let mut flags: Vec<String> = vec![];
    match cur {
        None => {
            let mut cmd = vec!["useradd".to_string()];
            let mut add = |flag: &str, v: &Option<String>, label: &str| {
                if let Some(v) = v {
                    cmd.push(format!("{flag} {}", q(v)));
                    after.push_str(&format!("{label}: {v}\n"));
                }
            };
            add("-u", &uid, "uid");
            add("-g", &group, "group");
            add("-s", &shell, "shell");
            add("-d", &home, "home");
            add("-c", &comment, "comment");
            add("-k", &a.str("skeleton")?, "skeleton");
            if let Some(p) = &password {
                cmd.push(format!("-p {}", q(p)));
                after.push_str("password: (set)\n");
            }
            if let Some(gs) = &groups {
                if !gs.is_empty() {
                    cmd.push(format!("-G {}", q(&gs.join(","))));
                    after.push_str(&format!("groups: {}\n", gs.join(",")));
                }
            }
            if a.bool("system", false)? {
                cmd.push("-r".into());
            }
            if a.bool("non_unique", false)? {
                cmd.push("-o".into());
            }
            cmd.push(if a.bool("create_home", true)? { "-m".into() } else { "-M".into() });
            cmd.push(q(&name));
            r.changed = true;
            r.diff.push(state_diff(format!("user {name}"), "state: absent\n", format!("state: present\n{after}")));
            return act(ctx, r, &cmd.join(" ")).await;
        }
        Some(c) => {
            let mut cmp = |flag: &str, want: &Option<String>, have: &str, label: &str| {
                if let Some(w) = want {
                    if w != have {
                        flags.push(format!("{flag} {}", q(w)));
                        before.push_str(&format!("{label}: {have}\n"));
                        after.push_str(&format!("{label}: {w}\n"));
                    }
                }
            };
            cmp("-u", &uid, &c.uid, "uid");
            cmp("-s", &shell, &c.shell, "shell");
            cmp("-d", &home, &c.home, "home");
            cmp("-c", &comment, &c.comment, "comment");
            if let Some(g) = &group {
                if g != &c.primary && g != &c.gid {
                    flags.push(format!("-g {}", q(g)));
                    before.push_str(&format!("group: {}\n", c.primary));
                    after.push_str(&format!("group: {g}\n"));
                }
            }
            if let Some(want) = &groups {
                let want: Vec<String> = want.iter().filter(|g| **g != c.primary).cloned().collect();
                let missing: Vec<&String> = want.iter().filter(|g| !c.groups.contains(g)).collect();
                let extra = !append && c.groups.iter().any(|g| !want.contains(g));
                if !missing.is_empty() || extra {
                    let mut w = if append { c.groups.clone() } else { vec![] };
                    for g in &want {
                        if !w.contains(g) {
                            w.push(g.clone());
                        }
                    }
                    flags.push(format!("{}-G {}", if append { "-a " } else { "" }, q(&if append { want.join(",") } else { w.join(",") })));
                    before.push_str(&format!("groups: {}\n", c.groups.join(",")));
                    after.push_str(&format!("groups: {}\n", w.join(",")));
                }
            }
            if let (Some(p), true) = (&password, update_always) {
                if c.hash.as_deref() != Some(p.as_str()) {
                    flags.push(format!("-p {}", q(p)));
                    before.push_str("password: (old)\n");
                    after.push_str("password: (new)\n");
                }
            }
            if a.bool("move_home", false)? && flags.iter().any(|f| f.starts_with("-d ")) {
                flags.push("-m".into());
            }
            r.data.insert("uid".into(), c.uid.parse::<u64>().map(Value::from).unwrap_or(Value::Null));
            r.data.insert("home".into(), c.home.clone().into());
            r.data.insert("shell".into(), c.shell.clone().into());
        }
    }
    if flags.is_empty() {
        return Ok(r);
    }
    r.changed = true;
    r.diff.push(state_diff(format!("user {name}"), before, after));
    if a.bool("non_unique", false)? {
        flags.push("-o".into());
    }
    act(ctx, r, &format!("usermod {} {}", flags.join(" "), q(&name))).await
}

async fn act(ctx: &ModuleCtx<'_>, r: ModuleResult, cmd: &str) -> Result<ModuleResult> {
    if ctx.check {
        return Ok(r);
    }
    let out = sh(ctx, cmd, None).await?;
    if out.rc != 0 {
        let mut f = failed_exec(cmd.split_whitespace().next().unwrap_or("user").to_string() + " failed", &out);
        f.diff = r.diff;
        return Ok(f);
    }
    Ok(r)
}
