//! apt_key without network: key material from `data` (or a `file` on the host) becomes a keyring file
//! (default /etc/apt/keyrings/<id>.asc, or `keyring`; ASCII armor is removed for .gpg keyrings).
use crate::host::file::{gather, GatherOpts, Want};
use crate::ops::attrs::{Attrs, ModeSpec};
use crate::ops::put::{plan_put, Put};
use crate::spec::{b, s, ArgSpec, Def, Phase, SpecError};
use crate::util::{base64_decode, failed, sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan, Step};
use anyhow::{anyhow, bail, Result};
use mdxconf_transport::sha256_hex;
use serde_json::{Map, Value};

pub struct AptKey;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("id"),
    s("data"),
    s("file"),
    s("keyring"),
    s("state").choices(&["present", "absent"]).default(Def::Str("present")),
    s("url"),
    s("keyserver"),
    // no downloads, so no certificates to check
    b("validate_certs").ignored(),
])
.exclusive(&[&["data", "file", "url", "keyserver"]]);

pub(crate) fn rules(args: &Map<String, Value>, _phase: Phase) -> Result<(), SpecError> {
    for k in ["url", "keyserver"] {
        if SPEC.value_of(args, k).is_some() {
            let msg = "apt_key: url/keyserver need network access, which mdxconf does not use; put the key in the role (data: \"{{ lookup('file', 'key.asc') }}\") instead";
            return Err(SpecError { key: Some(k.into()), msg: msg.into() });
        }
    }
    Ok(())
}

/// Binary OpenPGP from an ASCII-armored block (base64 body between the header and the `=CRC` line).
pub fn dearmor(armored: &str) -> Result<Vec<u8>> {
    let mut body = String::new();
    let (mut in_body, mut started) = (false, false);
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
        if !l.starts_with('=') {
            body.push_str(l);
        }
    }
    if !started {
        bail!("not an ASCII-armored PGP key");
    }
    base64_decode(&body).ok_or_else(|| anyhow!("bad base64 in armored key"))
}

#[async_trait::async_trait]
impl Module for AptKey {
    fn name(&self) -> &'static str {
        "apt_key"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        rules(a.values(), Phase::Run).map_err(|e| anyhow!(e.msg))?;
        let state = a.choice("state")?;
        let id = a.str("id")?.map(|i| i.trim_start_matches("0x").to_uppercase());
        let data = match (a.str("data")?, a.str("file")?) {
            (Some(d), _) => Some(d.into_bytes()),
            (None, Some(f)) => {
                let out = sh(ctx, &format!("cat -- {}", q(&f)), None).await?;
                if out.rc != 0 {
                    return Ok(Plan::done(failed(format!("apt_key: cannot read {f} on the host: {}", text(&out.stderr).trim()))));
                }
                Some(out.stdout)
            }
            (None, None) => None,
        };
        let armored = data.as_deref().is_some_and(|d| d.starts_with(b"-----BEGIN PGP"));
        let stem = id.unwrap_or_else(|| data.as_deref().map(|d| sha256_hex(d)[..16].to_string()).unwrap_or_default());
        let keyring = match a.str("keyring")? {
            Some(k) => k,
            None if stem.is_empty() => bail!("apt_key: one of id, data, file or keyring is required"),
            None => format!("/etc/apt/keyrings/{stem}.{}", if armored { "asc" } else { "gpg" }),
        };
        if state == "absent" {
            let mut r = ModuleResult::default();
            r.data.insert("keyring".into(), keyring.clone().into());
            let info = gather(ctx, &keyring, &GatherOpts { follow: false, into_dir: None, checksum: false, want: Want::No }).await?;
            if !info.exists() {
                return Ok(Plan::done(r));
            }
            r.diff.push(state_diff(&keyring, "state: present\n", "state: absent\n"));
            return Ok(Plan::change(r, vec![Step::run(format!("removing {keyring} failed"), format!("rm -f -- {}", q(&keyring)))]));
        }
        let Some(data) = data else { bail!("apt_key: data or file is required with state=present") };
        let content = if armored && keyring.ends_with(".gpg") { dearmor(&String::from_utf8_lossy(&data))? } else { data };
        // older releases lack /etc/apt/keyrings: it is created as Debian does
        let make_parents = keyring.starts_with("/etc/apt/keyrings/");
        let put = Put { attrs: Attrs { mode: Some(ModeSpec::Octal(0o644)), ..Default::default() }, make_parents, ..Put::new(&keyring, content) };
        let mut p = plan_put(ctx, put).await?;
        p.result.data.insert("keyring".into(), keyring.into());
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dearmor() {
        let k = "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: x\n\naGVsbG8g\nd29ybGQ=\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert_eq!(super::dearmor(k).unwrap(), b"hello world");
        assert!(super::dearmor("plain").is_err());
    }
}
