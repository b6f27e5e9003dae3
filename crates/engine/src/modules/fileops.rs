//! File state on the host: one-exec gathering (type, mode, owner, sha256, optionally content), atomic writes
//! (temp file in the same directory, attributes and `validate` applied to the temp file, then rename), and
//! owner/group/mode planning shared by file, copy, template, lineinfile, blockinfile, replace and friends.
use super::util::{q, sh, text, Args};
use super::ModuleCtx;
use anyhow::{bail, Result};

/// The pure parts (the file-state probe and its parser, modes, owner/group/mode planning) are the modules
/// crate's; this file keeps what still takes the old module context.
pub use mdxconf_modules::host::file::{gather_script, parse_gather, FileInfo, GatherOpts, Kind, Want};
pub use mdxconf_modules::ops::attrs::{apply_symbolic, final_mode, plan_attrs, AttrPlan, Attrs, ModeSpec};
pub use mdxconf_modules::util::diff_text;

/// owner/group/mode requested by a task (old-style arguments).
pub fn attrs_from_args(a: &Args) -> Result<Attrs> {
    Ok(Attrs {
        owner: a.str("owner")?.filter(|s| !s.is_empty()),
        group: a.str("group")?.filter(|s| !s.is_empty()),
        mode: a.raw("mode").map(|v| ModeSpec::parse(a.module, v)).transpose()?,
    })
}

/// One exec: the state of `path`.
pub async fn gather(ctx: &ModuleCtx<'_>, path: &str, o: &GatherOpts<'_>) -> Result<FileInfo> {
    let out = sh(ctx, &gather_script(path, o), None).await?;
    if out.rc != 0 {
        bail!("could not inspect {path}: {}", text(&out.stderr).trim());
    }
    parse_gather(&out.stdout)
}

pub struct WriteOpts<'a> {
    pub attrs: &'a Attrs,
    pub backup: bool,
    /// Command with `%s` standing for the temp file, run before the rename.
    pub validate: Option<&'a str>,
    /// Create missing parent directories first (lineinfile create=yes, copy to `dir/`).
    pub mkdir_parent: bool,
}

pub enum WriteOutcome {
    Written { backup: Option<String> },
    ValidateFailed { rc: i32, stdout: String, stderr: String },
}

/// Script writing stdin to `info.path` atomically. Ownership/mode come from `attrs`, else from the existing
/// file, else the umask default; `validate` runs on the temp file, so a failure leaves the original untouched.
pub fn write_script(info: &FileInfo, o: &WriteOpts) -> Result<String> {
    write_script_from(info, o, None)
}

/// `write_script`, the content coming from `stage` (a file on the host, removed afterwards) instead of stdin.
fn write_script_from(info: &FileInfo, o: &WriteOpts, stage: Option<&str>) -> Result<String> {
    if let Some(v) = o.validate {
        if !v.contains("%s") {
            bail!("validate must contain %s (the file to check): {v}");
        }
    }
    // The temp name is chosen here so `validate` gets a plain path (Ansible substitutes text, not a variable).
    let tmp_path = format!("{}/.mdxconf-tmp.{}", parent_of(&info.path), unique_suffix());
    let mut s = format!("set -e\nd={}\ntmp={}\n", q(&info.path), q(&tmp_path));
    if o.mkdir_parent {
        s += &format!("mkdir -p -- {}\n", q(&parent_of(&info.path)));
    }
    match stage {
        None => s += "(umask 077; set -C; : > \"$tmp\")\ntrap 'rm -f -- \"$tmp\"' EXIT\ncat > \"$tmp\"\n",
        Some(st) => {
            s += &format!("st={}\n", q(st));
            s += "(umask 077; set -C; : > \"$tmp\")\ntrap 'rm -f -- \"$tmp\" \"$st\"' EXIT\ncat -- \"$st\" > \"$tmp\"\nrm -f -- \"$st\"\n";
        }
    }
    let existing = info.kind == Kind::File;
    match (&o.attrs.owner, existing) {
        (Some(u), _) => s += &format!("chown -- {} \"$tmp\"\n", q(u)),
        (None, true) => s += &format!("chown -- {}:{} \"$tmp\" 2>/dev/null || true\n", info.uid, info.gid),
        _ => {}
    }
    match (&o.attrs.group, existing) {
        (Some(g), _) => s += &format!("chgrp -- {} \"$tmp\"\n", q(g)),
        (None, true) if o.attrs.owner.is_some() => s += &format!("chgrp -- {} \"$tmp\" 2>/dev/null || true\n", info.gid),
        _ => {}
    }
    let mode = final_mode(info, o.attrs);
    s += &format!("chmod -- {:04o} \"$tmp\"\n", mode);
    if let Some(v) = o.validate {
        let cmd = v.replace("%s", &tmp_path);
        s += &format!("set +e\nvout=$( {cmd} 2>&1 )\nvrc=$?\nset -e\nif [ $vrc -ne 0 ]; then printf 'validate_rc=%s\\n' $vrc; printf '%s\\n' \"$vout\" >&2; exit 97; fi\n");
    }
    if o.backup && existing {
        s += "b=\"$d.$$.$(date +%Y-%m-%d@%H:%M:%S~)\"\ncp -p -- \"$d\" \"$b\"\necho \"backup=$b\"\n";
    }
    s += "mv -f -- \"$tmp\" \"$d\"\ntrap - EXIT\n";
    Ok(s)
}

fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => String::new(),
        Some(i) => path[..i].to_string(),
        None => ".".to_string(),
    }
}

/// Unpredictable enough for a temp name created with O_EXCL (`set -C`): time, pid and a counter, hashed.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let seed = format!("{t}.{}.{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    sha256_hex(seed.as_bytes())[..12].to_string()
}

/// Content above this goes over in several commands, each below OpenSSH's 2 MiB initial channel window:
/// a write that had to wait for window adjustments hung now and then under load (role lab: copying a
/// 10 MB wheel to two TCG guests at once left both `cat`s waiting for stdin and the controller idle).
const STDIN_CHUNK: usize = 1 << 20;

pub async fn write(ctx: &ModuleCtx<'_>, info: &FileInfo, content: Vec<u8>, o: &WriteOpts<'_>) -> Result<WriteOutcome> {
    let out = if content.len() <= STDIN_CHUNK {
        sh(ctx, &write_script(info, o)?, Some(content)).await?
    } else {
        let dir = parent_of(&info.path);
        let stage = format!("{dir}/.mdxconf-stage.{}", unique_suffix());
        for (i, chunk) in content.chunks(STDIN_CHUNK).enumerate() {
            let script = if i == 0 {
                let mkdir = if o.mkdir_parent { format!("mkdir -p -- {} && ", q(&dir)) } else { String::new() };
                format!("{mkdir}(umask 077; set -C; cat > {})", q(&stage))
            } else {
                format!("cat >> {}", q(&stage))
            };
            let out = sh(ctx, &script, Some(chunk.to_vec())).await?;
            if out.rc != 0 {
                let _ = sh(ctx, &format!("rm -f -- {}", q(&stage)), None).await;
                bail!("writing {} failed (rc={}): {}", info.path, out.rc, text(&out.stderr).trim());
            }
        }
        sh(ctx, &write_script_from(info, o, Some(&stage))?, None).await?
    };
    let so = text(&out.stdout);
    if out.rc == 97 {
        let kv = super::util::kv(&so);
        return Ok(WriteOutcome::ValidateFailed { rc: kv.get("validate_rc").and_then(|r| r.parse().ok()).unwrap_or(1), stdout: String::new(), stderr: text(&out.stderr) });
    }
    if out.rc != 0 {
        bail!("writing {} failed (rc={}): {}", info.path, out.rc, text(&out.stderr).trim());
    }
    Ok(WriteOutcome::Written { backup: super::util::kv(&so).get("backup").cloned() })
}

/// The transport's: files are compared by the same digest on both sides.
pub use mdxconf_transport::sha256_hex;
