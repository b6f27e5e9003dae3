//! apt_key without network: key material from `data` (or a `file` on the host) becomes a keyring file
//! (default /etc/apt/keyrings/<id>.asc, or `keyring`; ASCII armor is removed for .gpg keyrings).
use super::copy::{put_content, Put};
use super::fileops::{sha256_hex, Attrs, ModeSpec};
use super::util::{failed, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["id", "data", "file", "keyring", "state", "url", "keyserver", "validate_certs"], required: &[] };

/// Binary OpenPGP from an ASCII-armored block (base64 body between the header and the `=CRC` line).
pub fn dearmor(armored: &str) -> Result<Vec<u8>> {
    let mut body = String::new();
    let mut in_body = false;
    let mut started = false;
    for l in armored.lines() {
        let l = l.trim();
        if l.starts_with("-----BEGIN PGP") {
            started = true;
            continue;
        }
        if !started {
            continue;
        }
        if l.starts_with("-----END PGP") {
            break;
        }
        if !in_body {
            // armor headers end at the first empty line
            if l.is_empty() {
                in_body = true;
            } else if !l.contains(": ") {
                in_body = true;
                body.push_str(l);
            }
            continue;
        }
        if l.starts_with('=') {
            continue;
        }
        body.push_str(l);
    }
    if !started {
        bail!("not an ASCII-armored PGP key");
    }
    super::util::base64_decode(&body).ok_or_else(|| anyhow!("bad base64 in armored key"))
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("apt_key", &SPEC, args)?;
    if a.has("url") || a.has("keyserver") {
        bail!("apt_key: url/keyserver need network access, which mdxconf does not use; put the key in the role (data: \"{{{{ lookup('file', 'key.asc') }}}}\") instead");
    }
    let state = a.choice("state", "present", &["present", "absent"])?;
    let id = a.str("id")?.map(|i| i.trim_start_matches("0x").to_uppercase());
    let data = match (a.str("data")?, a.str("file")?) {
        (Some(_), Some(_)) => bail!("apt_key: data and file are mutually exclusive"),
        (Some(d), None) => Some(d.into_bytes()),
        (None, Some(f)) => {
            let out = sh(ctx, &format!("cat -- {}", q(&f)), None).await?;
            if out.rc != 0 {
                return Ok(failed(format!("apt_key: cannot read {f} on the host: {}", text(&out.stderr).trim())));
            }
            Some(out.stdout)
        }
        (None, None) => None,
    };
    let armored = data.as_deref().is_some_and(|d| d.starts_with(b"-----BEGIN PGP"));
    let stem = id.clone().unwrap_or_else(|| data.as_deref().map(|d| sha256_hex(d)[..16].to_string()).unwrap_or_default());
    let keyring = match a.str("keyring")? {
        Some(k) => k,
        None if stem.is_empty() => bail!("apt_key: one of id, data, file or keyring is required"),
        None => format!("/etc/apt/keyrings/{stem}.{}", if armored { "asc" } else { "gpg" }),
    };
    let mut r = ModuleResult::default();
    r.data.insert("keyring".into(), keyring.clone().into());
    if state == "absent" {
        let out = sh(ctx, &format!("[ -e {k} ] && echo present; true", k = q(&keyring)), None).await?;
        if text(&out.stdout).contains("present") {
            r.changed = true;
            r.diff.push(state_diff(&keyring, "state: present\n", "state: absent\n"));
            if !ctx.check {
                sh(ctx, &format!("rm -f -- {}", q(&keyring)), None).await?;
            }
        }
        return Ok(r);
    }
    let Some(data) = data else { bail!("apt_key: data or file is required with state=present") };
    let content = if armored && keyring.ends_with(".gpg") { dearmor(&String::from_utf8_lossy(&data))? } else { data };
    // older releases lack /etc/apt/keyrings: it is created like Debian does
    let make_parents = keyring.starts_with("/etc/apt/keyrings/");
    let mut w = put_content(ctx, Put { attrs: Attrs { mode: Some(ModeSpec::Octal(0o644)), ..Default::default() }, make_parents, ..Put::new(&keyring, content) }).await?;
    w.data.insert("keyring".into(), keyring.into());
    Ok(w)
}
