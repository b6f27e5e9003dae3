//! mount (ansible.posix.mount): the fstab entry (edited atomically) and the mounted state.
use super::copy::{put_with_info, Put};
use super::fileops::{gather_script, parse_gather, sha256_hex, GatherOpts, Want};
use super::util::{failed, failed_exec, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec { args: &["path|name", "src", "fstype", "opts", "dump", "passno", "state", "fstab", "boot", "backup"], required: &["path", "state"] };

fn esc(s: &str) -> String {
    s.replace('\\', "\\134").replace(' ', "\\040").replace('\t', "\\011").replace('\n', "\\012")
}
fn unesc(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// New fstab text with the entry for `path` replaced/appended (Some) or removed (None).
pub fn edit(text: &str, path: &str, entry: Option<&str>) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let f: Vec<&str> = line.split_whitespace().collect();
        let is_ours = !line.trim_start().starts_with('#') && f.len() >= 2 && unesc(f[1]) == path;
        if !is_ours {
            out.push_str(line);
            continue;
        }
        if let (Some(e), false) = (entry, done) {
            let cur: Vec<&str> = f.iter().copied().chain(["0", "0"].into_iter().skip(f.len().saturating_sub(4))).take(6).collect();
            let want: Vec<&str> = e.split_whitespace().collect();
            if cur == want {
                out.push_str(line);
            } else {
                out.push_str(&format!("{e}\n"));
            }
            done = true;
        }
    }
    if let (Some(e), false) = (entry, done) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{e}\n"));
    }
    out
}

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("mount", &SPEC, args)?;
    let path = a.req("path")?.trim_end_matches('/').to_string();
    let path = if path.is_empty() { "/".to_string() } else { path };
    let state = a.choice("state", "", &["mounted", "present", "unmounted", "absent", "remounted"])?;
    let fstab = a.str("fstab")?.unwrap_or_else(|| "/etc/fstab".into());
    let src = a.str("src")?;
    let fstype = a.str("fstype")?;
    if matches!(state.as_str(), "mounted" | "present") && (src.is_none() || fstype.is_none()) {
        bail!("mount: src and fstype are required with state={state}");
    }
    let mut opts = a.str("opts")?.unwrap_or_else(|| "defaults".into());
    if !a.bool("boot", true)? && !opts.split(',').any(|o| o == "noauto") {
        opts += ",noauto";
    }
    let entry = format!(
        "{} {} {} {} {} {}",
        esc(src.as_deref().unwrap_or("")),
        esc(&path),
        fstype.as_deref().unwrap_or(""),
        opts,
        a.str("dump")?.unwrap_or_else(|| "0".into()),
        a.str("passno")?.unwrap_or_else(|| "0".into())
    );
    let mut script = format!("if m=$(findmnt -rn -o SOURCE --mountpoint {p} 2>/dev/null) || m=$(awk -v p={p} '$2==p{{print $1; f=1}} END{{exit !f}}' /proc/mounts 2>/dev/null); then echo \"mounted=$m\"; fi\n[ -d {p} ] && echo isdir=1\n", p = q(&path));
    script += &gather_script(&fstab, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content });
    let out = sh(ctx, &script, None).await?;
    if out.rc != 0 {
        bail!("mount: inspecting {path} failed: {}", text(&out.stderr).trim());
    }
    let info = parse_gather(&out.stdout)?;
    let mounted = info.extra.contains_key("mounted");
    let isdir = info.extra.contains_key("isdir");
    let before = info.content.as_deref().map(text).unwrap_or_default();
    let after = match state.as_str() {
        "mounted" | "present" => edit(&before, &path, Some(&entry)),
        "absent" => edit(&before, &path, None),
        _ => before.clone(),
    };
    let fstab_changed = after != before;
    let mut r = ModuleResult::default();
    let mut cmds: Vec<String> = vec![];
    let p = q(&path);
    // like Ansible, a non-default fstab is handed to mount(8) with -T
    let mnt = if fstab == "/etc/fstab" { "mount".to_string() } else { format!("mount -T {}", q(&fstab)) };
    match state.as_str() {
        "mounted" => {
            if !mounted {
                if !isdir {
                    cmds.push(format!("mkdir -p -- {p}"));
                }
                cmds.push(format!("{mnt} -- {p}"));
            } else if fstab_changed {
                cmds.push(format!("{{ {mnt} -o remount -- {p} || {{ umount -- {p} && {mnt} -- {p}; }}; }}"));
            }
        }
        "unmounted" | "absent" if mounted => cmds.push(format!("umount -- {p}")),
        "remounted" => {
            if !mounted {
                return Ok(failed(format!("{path} is not mounted")));
            }
            cmds.push(format!("{mnt} -o remount -- {p}"));
        }
        _ => {}
    }
    if fstab_changed {
        let mut put = Put::new(&fstab, after.clone().into_bytes());
        put.follow = true;
        put.backup = a.bool("backup", false)?;
        let sha = sha256_hex(after.as_bytes());
        let w = put_with_info(ctx, put, info, sha).await?;
        if w.failed {
            return Ok(w);
        }
        r.changed = true;
        r.diff.extend(w.diff);
    }
    if !cmds.is_empty() {
        r.changed = true;
        r.diff.push(state_diff(
            format!("mount {path}"),
            format!("mounted: {mounted}\n"),
            format!(
                "{}\n",
                match state.as_str() {
                    "mounted" => "mounted: true",
                    "remounted" => "remounted",
                    _ => "mounted: false",
                }
            ),
        ));
        if !ctx.check {
            let out = sh(ctx, &cmds.join(" && "), None).await?;
            if out.rc != 0 {
                let mut f = failed_exec(format!("Error mounting/unmounting {path}"), &out);
                f.changed = fstab_changed;
                return Ok(f);
            }
        }
    }
    r.data.insert("name".into(), path.into());
    r.data.insert("fstab".into(), fstab.into());
    if let Some(s) = src {
        r.data.insert("src".into(), s.into());
    }
    if let Some(f) = fstype {
        r.data.insert("fstype".into(), f.into());
    }
    r.data.insert("opts".into(), opts.into());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fstab_edits() {
        let t = "UUID=1 / ext4 defaults 0 1\n# /data old\nnfs:/x /data nfs ro 0 0\n";
        let e = "nfs:/y /data nfs rw 0 0";
        assert_eq!(edit(t, "/data", Some(e)), "UUID=1 / ext4 defaults 0 1\n# /data old\nnfs:/y /data nfs rw 0 0\n");
        assert_eq!(edit(&edit(t, "/data", Some(e)), "/data", Some(e)), edit(t, "/data", Some(e)));
        assert_eq!(edit(t, "/data", None), "UUID=1 / ext4 defaults 0 1\n# /data old\n");
        assert_eq!(edit("", "/a b", Some("s /a\\040b nfs defaults 0 0")), "s /a\\040b nfs defaults 0 0\n");
        // entries without dump/passno compare equal to explicit zeros
        assert_eq!(edit("s /m nfs defaults\n", "/m", Some("s /m nfs defaults 0 0")), "s /m nfs defaults\n");
    }
}
