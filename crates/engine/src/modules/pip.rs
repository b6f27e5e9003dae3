//! pip: packages in a virtualenv (created with `python3 -m venv` by default) or a given pip.
//! Installed versions come from `pip list --format=freeze` in the same exec as the venv check;
//! `latest` and `requirements` ask pip itself (`install --dry-run`), so check mode predicts what pip would do.
use super::util::{failed_exec, put_output, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub const SPEC: Spec = Spec {
    args: &[
        "name",
        "version",
        "requirements",
        "virtualenv",
        "virtualenv_command",
        "virtualenv_python",
        "virtualenv_site_packages",
        "state",
        "extra_args",
        "editable",
        "chdir",
        "executable",
        "umask",
        "break_system_packages",
    ],
    required: &[],
};

/// PEP 503 normalized name.
fn norm(n: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in n.chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `name[extra]>=1.0,<2` -> (name, [(op, version)])
fn parse_req(r: &str) -> (String, Vec<(String, String)>) {
    let idx = r.find(|c: char| "<>=!~ ;[".contains(c)).unwrap_or(r.len());
    let name = r[..idx].trim().to_string();
    let mut rest = r[idx..].trim();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map(|(_, x)| x).unwrap_or("");
    }
    let rest = rest.split(';').next().unwrap_or("");
    let specs = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let op_len = s.find(|c: char| !"<>=!~".contains(c)).unwrap_or(s.len());
            (op_len > 0).then(|| (s[..op_len].to_string(), s[op_len..].trim().to_string()))
        })
        .collect();
    (name, specs)
}

fn cmp_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |v: &str| v.split(['.', '-', '+']).map(|p| (p.parse::<u64>().ok(), p.to_string())).collect::<Vec<_>>();
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).cloned().unwrap_or((Some(0), "0".into()));
        let y = pb.get(i).cloned().unwrap_or((Some(0), "0".into()));
        let o = match (x.0, y.0) {
            (Some(m), Some(n)) => m.cmp(&n),
            _ => x.1.cmp(&y.1),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

fn satisfied(have: &str, specs: &[(String, String)]) -> bool {
    use std::cmp::Ordering::*;
    specs.iter().all(|(op, v)| {
        let o = cmp_versions(have, v);
        match op.as_str() {
            "==" | "===" => match v.strip_suffix(".*") {
                Some(p) => have == p || have.starts_with(&format!("{p}.")),
                None => o == Equal,
            },
            "!=" => o != Equal,
            ">=" => o != Less,
            "<=" => o != Greater,
            ">" => o == Greater,
            "<" => o == Less,
            "~=" => {
                o != Less && {
                    let p: Vec<&str> = v.split('.').collect();
                    have.starts_with(&p[..p.len().saturating_sub(1).max(1)].join("."))
                }
            }
            _ => false,
        }
    })
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("pip", &SPEC, args)?;
    let mut names = a.list("name")?;
    let reqs = a.str("requirements")?;
    if names.is_empty() && reqs.is_none() {
        bail!("pip: one of name or requirements is required");
    }
    if let Some(v) = a.str("version")? {
        if names.len() != 1 {
            bail!("pip: version needs exactly one name");
        }
        names[0] = format!("{}=={v}", names[0]);
    }
    let state = a.choice("state", "present", &["present", "absent", "latest", "forcereinstall"])?;
    let venv = a.str("virtualenv")?;
    let pip = match (&venv, a.str("executable")?) {
        (Some(_), Some(_)) => bail!("pip: virtualenv and executable are mutually exclusive"),
        (Some(v), None) => format!("{}/bin/pip", q(v)),
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
    if a.bool("break_system_packages", false)? {
        extra += " --break-system-packages";
    }
    let mut script = String::new();
    if let Some(v) = &venv {
        script += &format!("[ -x {}/bin/python ] && echo venv=1\n", q(v));
    }
    script += &format!("echo @@LIST@@; {pre}{pip} list --format=freeze --disable-pip-version-check 2>/dev/null; true\n");
    let out = text(&sh(ctx, &script, None).await?.stdout);
    let (head, list) = out.split_once("@@LIST@@\n").unwrap_or((&out, ""));
    let venv_exists = head.contains("venv=1");
    let installed: HashMap<String, String> = list.lines().filter_map(|l| l.split_once("==")).map(|(n, v)| (norm(n), v.trim().to_string())).collect();
    let mut r = ModuleResult::default();
    let mut cmds: Vec<String> = vec![];
    if let (Some(v), false) = (&venv, venv_exists) {
        let mut vc = a.str("virtualenv_command")?.unwrap_or_else(|| "python3 -m venv".into());
        if let Some(py) = a.str("virtualenv_python")? {
            if vc.contains("venv") && !vc.contains("virtualenv") {
                vc = format!("{} -m venv", q(&py));
            } else {
                vc += &format!(" -p {}", q(&py));
            }
        }
        if a.bool("virtualenv_site_packages", false)? {
            vc += " --system-site-packages";
        }
        r.changed = true;
        r.diff.push(state_diff(format!("virtualenv {v}"), "state: absent\n", "state: present\n"));
        cmds.push(format!("{pre}{vc} {}", q(v)));
    }
    let quoted: Vec<String> = names.iter().map(|n| q(n)).collect();
    let (mut before, mut after) = (String::new(), String::new());
    let mut todo: Vec<String> = vec![];
    match state.as_str() {
        "present" | "forcereinstall" => {
            for n in &names {
                let (name, specs) = parse_req(n);
                let have = installed.get(&norm(&name));
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
                if let Some(h) = installed.get(&norm(&name)) {
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
        dry.push(format!("install -U {extra} {}", quoted.join(" ")));
    }
    if let Some(rf) = &reqs {
        if state != "absent" {
            dry.push(format!("install {extra} -r {}", q(rf)));
        } else {
            cmds.push(format!("{pre}{pip} uninstall -y -r {}", q(rf)));
            r.changed = true;
        }
    }
    for d in dry {
        let would = if venv.is_some() && !venv_exists {
            // a fresh virtualenv will need everything
            vec!["(all)".to_string()]
        } else {
            let out = sh(ctx, &format!("{pre}{pip} {} --dry-run --disable-pip-version-check", d), None).await?;
            if out.rc != 0 {
                return Ok(failed_exec("pip (dry run) failed", &out));
            }
            text(&out.stdout).lines().filter_map(|l| l.strip_prefix("Would install ")).flat_map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>()).collect()
        };
        if !would.is_empty() {
            after += &format!("{}\n", would.join("\n"));
            cmds.push(format!("{pre}{pip} {d} --disable-pip-version-check"));
        }
    }
    if !before.is_empty() || !after.is_empty() {
        r.changed = true;
        r.diff.push(state_diff("pip packages", before, after));
    }
    if ctx.check || cmds.is_empty() {
        return Ok(r);
    }
    let out = sh(ctx, &cmds.join(" && "), None).await?;
    put_output(&mut r.data, &out);
    if out.rc != 0 {
        let mut f = failed_exec("pip failed", &out);
        f.diff = r.diff;
        return Ok(f);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn requirements() {
        assert_eq!(norm("Jupyter_Server.Proxy"), "jupyter-server-proxy");
        let (n, s) = parse_req("jupyterlab[full]>=4.0,<5");
        assert_eq!(n, "jupyterlab");
        assert!(satisfied("4.2.1", &s));
        assert!(!satisfied("5.0", &s));
        assert!(satisfied("1.26.4", &parse_req("numpy==1.26.*").1));
        assert!(!satisfied("1.10", &parse_req("x==1.9").1));
    }
}
