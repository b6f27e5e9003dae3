//! deb822_repository: /etc/apt/sources.list.d/NAME.sources built from fields, written like `copy`.
use super::copy::{put_content, Put};
use super::fileops::{Attrs, ModeSpec};
use super::util::{q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &[
        "name",
        "types",
        "uris",
        "suites",
        "components",
        "signed_by",
        "state",
        "enabled",
        "architectures",
        "allow_insecure",
        "allow_weak",
        "allow_downgrade_to_insecure",
        "trusted",
        "by_hash",
        "check_valid_until",
        "check_date",
        "date_max_future",
        "inrelease_path",
        "languages",
        "pdiffs",
        "targets",
        "mode",
        "install_python_debian",
    ],
    required: &["name"],
};

pub fn render(a: &Args) -> Result<String> {
    let mut s = format!("X-Repolib-Name: {}\n", a.req("name")?);
    let list = |k: &str| -> Result<Option<String>> {
        let l = a.list(k)?;
        Ok((!l.is_empty()).then(|| l.join(" ")))
    };
    let types = list("types")?.unwrap_or_else(|| "deb".into());
    s += &format!("Types: {types}\n");
    let fields: [(&str, &str); 7] = [
        ("uris", "URIs"),
        ("suites", "Suites"),
        ("components", "Components"),
        ("architectures", "Architectures"),
        ("languages", "Languages"),
        ("targets", "Targets"),
        ("inrelease_path", "InRelease-Path"),
    ];
    for (k, f) in fields {
        if let Some(v) = list(k)? {
            s += &format!("{f}: {v}\n");
        }
    }
    for (k, f) in [
        ("allow_insecure", "Allow-Insecure"),
        ("allow_weak", "Allow-Weak"),
        ("allow_downgrade_to_insecure", "Allow-Downgrade-To-Insecure"),
        ("trusted", "Trusted"),
        ("by_hash", "By-Hash"),
        ("check_valid_until", "Check-Valid-Until"),
        ("check_date", "Check-Date"),
        ("pdiffs", "PDiffs"),
    ] {
        if let Some(b) = a.opt_bool(k)? {
            s += &format!("{f}: {}\n", if b { "yes" } else { "no" });
        }
    }
    if let Some(d) = a.str("date_max_future")? {
        s += &format!("Date-Max-Future: {d}\n");
    }
    if let Some(k) = a.str("signed_by")? {
        let k = k.trim();
        if k.contains('\n') {
            // an inline key: continuation lines are indented, empty ones become " ."
            s += "Signed-By:\n";
            for l in k.lines() {
                s += &if l.trim().is_empty() { " .\n".to_string() } else { format!(" {l}\n") };
            }
        } else {
            s += &format!("Signed-By: {k}\n");
        }
    }
    if a.opt_bool("enabled")? == Some(false) {
        s += "Enabled: no\n";
    }
    Ok(s)
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("deb822_repository", &SPEC, args)?;
    let name = a.req("name")?;
    if name.contains('/') {
        bail!("deb822_repository: name must not contain '/'");
    }
    let path = format!("/etc/apt/sources.list.d/{}.sources", name.replace(' ', "_"));
    let state = a.choice("state", "present", &["present", "absent"])?;
    if state == "absent" {
        let out = sh(ctx, &format!("cat -- {} 2>/dev/null && echo @@EXISTS@@", q(&path)), None).await?;
        let o = text(&out.stdout);
        let mut r = ModuleResult::default();
        if let Some(before) = o.strip_suffix("@@EXISTS@@\n") {
            r.changed = true;
            r.diff.push(state_diff(&path, before, ""));
            if !ctx.check {
                sh(ctx, &format!("rm -f -- {}", q(&path)), None).await?;
            }
        }
        return Ok(r);
    }
    if a.list("uris")?.is_empty() || a.list("suites")?.is_empty() {
        bail!("deb822_repository: uris and suites are required with state=present");
    }
    let content = render(&a)?;
    let mode = a.raw("mode").map(|m| ModeSpec::parse("deb822_repository", m)).transpose()?.unwrap_or(ModeSpec::Octal(0o644));
    let mut r = put_content(ctx, Put { attrs: Attrs { mode: Some(mode), ..Default::default() }, ..Put::new(&path, content.into_bytes()) }).await?;
    r.data.insert("repo".into(), path.into());
    Ok(r)
}
