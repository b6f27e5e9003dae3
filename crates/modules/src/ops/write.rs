//! The one remote atomic writer: the content goes to a temp file beside the destination (created with
//! O_EXCL, mode 0600), gets its owner/group/mode, `validate` runs on it, an optional backup is taken, and a
//! rename puts it in place, so a failure at any point leaves the original untouched.
use crate::context::ModuleCtx;
use crate::host::file::{FileInfo, Kind};
use crate::ops::attrs::{final_mode, Attrs};
use crate::util::{kv, sh, sh_quote, text};
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;

/// A whole-file write, decided by a plan.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    /// The destination as gathered (symlinks and `dest` directories already resolved).
    pub info: FileInfo,
    pub content: Vec<u8>,
    pub attrs: Attrs,
    pub backup: bool,
    /// Command with `%s` standing for the temp file, run before the rename.
    pub validate: Option<String>,
    /// Create missing parent directories first (lineinfile create=yes, copy to `dir/`).
    pub mkdir_parent: bool,
}

impl WriteRequest {
    /// The script a plan test can look at (the temp name differs between calls).
    pub fn script_for_description(&self) -> String {
        write_script(self).unwrap_or_else(|e| format!("(invalid: {e})"))
    }
}

/// Script writing stdin to `info.path` atomically. Ownership/mode come from `attrs`, else from the existing
/// file, else the umask default; `validate` runs on the temp file, so a failure leaves the original untouched.
pub fn write_script(o: &WriteRequest) -> Result<String> {
    write_script_from(o, None)
}

/// `write_script`, the content coming from `stage` (a file on the host, removed afterwards) instead of stdin.
fn write_script_from(o: &WriteRequest, stage: Option<&str>) -> Result<String> {
    let info = &o.info;
    if let Some(v) = o.validate.as_deref() {
        if !v.contains("%s") {
            bail!("validate must contain %s (the file to check): {v}");
        }
    }
    // The temp name is chosen here so `validate` gets a plain path (Ansible substitutes text, not a variable).
    let tmp_path = format!("{}/.mdxconf-tmp.{}", parent_of(&info.path), unique_suffix());
    let mut s = format!("set -e\nd={}\ntmp={}\n", sh_quote(&info.path), sh_quote(&tmp_path));
    if o.mkdir_parent {
        s += &format!("mkdir -p -- {}\n", sh_quote(&parent_of(&info.path)));
    }
    s += &stale_cleanup(&parent_of(&info.path));
    s += "\n";
    match stage {
        // a dropped connection (SIGHUP) or a kill must not leave the temp file behind either
        None => s += "(umask 077; set -C; : > \"$tmp\")\ntrap 'rm -f -- \"$tmp\"' EXIT\ntrap 'exit 1' HUP INT TERM PIPE\ncat > \"$tmp\"\n",
        Some(st) => {
            s += &format!("st={}\n", sh_quote(st));
            s += "(umask 077; set -C; : > \"$tmp\")\ntrap 'rm -f -- \"$tmp\" \"$st\"' EXIT\ntrap 'exit 1' HUP INT TERM PIPE\ncat -- \"$st\" > \"$tmp\"\nrm -f -- \"$st\"\n";
        }
    }
    let existing = info.kind == Kind::File;
    match (&o.attrs.owner, existing) {
        (Some(u), _) => s += &format!("chown -- {} \"$tmp\"\n", sh_quote(u)),
        (None, true) => s += &format!("chown -- {}:{} \"$tmp\" 2>/dev/null || true\n", info.uid, info.gid),
        _ => {}
    }
    match (&o.attrs.group, existing) {
        (Some(g), _) => s += &format!("chgrp -- {} \"$tmp\"\n", sh_quote(g)),
        (None, true) if o.attrs.owner.is_some() => s += &format!("chgrp -- {} \"$tmp\" 2>/dev/null || true\n", info.gid),
        _ => {}
    }
    let mode = final_mode(info, &o.attrs);
    s += &format!("chmod -- {:04o} \"$tmp\"\n", mode);
    if let Some(v) = o.validate.as_deref() {
        let cmd = v.replace("%s", &tmp_path);
        s += &format!("set +e\nvout=$( {cmd} 2>&1 )\nvrc=$?\nset -e\nif [ $vrc -ne 0 ]; then printf 'validate_rc=%s\\n' $vrc; printf '%s\\n' \"$vout\" >&2; exit 97; fi\n");
    }
    if o.backup && existing {
        s += "b=\"$d.$$.$(date +%Y-%m-%d@%H:%M:%S~)\"\ncp -p -- \"$d\" \"$b\"\necho \"backup=$b\"\n";
    }
    s += "mv -f -- \"$tmp\" \"$d\"\ntrap - EXIT\n";
    Ok(s)
}

/// Stage and temp files that a killed run (controller or connection gone mid-write) left beside a
/// destination: removed by the next write into that directory once they are 10 minutes old (a
/// running write touches its own files far more often).
fn stale_cleanup(dir: &str) -> String {
    let dir = if dir.is_empty() { "/" } else { dir };
    // never fails the write (the script runs under `set -e`)
    format!("find {} -maxdepth 1 \\( -name '.mdxconf-stage.*' -o -name '.mdxconf-tmp.*' \\) -type f -mmin +10 -exec rm -f -- {{}} + 2>/dev/null || true", sh_quote(dir))
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

/// What a write gave.
pub enum Written {
    Done { backup: Option<String> },
    ValidateFailed { rc: i32, stderr: String },
}

pub async fn write(ctx: &ModuleCtx<'_>, o: &WriteRequest) -> Result<Written> {
    let (info, content) = (&o.info, &o.content);
    let out = if content.len() <= STDIN_CHUNK {
        sh(ctx, &write_script(o)?, Some(content.clone())).await?
    } else {
        let dir = parent_of(&info.path);
        let stage = format!("{dir}/.mdxconf-stage.{}", unique_suffix());
        for (i, chunk) in content.chunks(STDIN_CHUNK).enumerate() {
            let script = if i == 0 {
                let mkdir = if o.mkdir_parent { format!("mkdir -p -- {} && ", sh_quote(&dir)) } else { String::new() };
                format!("{mkdir}(umask 077; set -C; cat > {})", sh_quote(&stage))
            } else {
                format!("cat >> {}", sh_quote(&stage))
            };
            let out = sh(ctx, &script, Some(chunk.to_vec())).await?;
            if out.rc != 0 {
                let _ = sh(ctx, &format!("rm -f -- {}", sh_quote(&stage)), None).await;
                bail!("writing {} failed (rc={}): {}", info.path, out.rc, text(&out.stderr).trim());
            }
        }
        sh(ctx, &write_script_from(o, Some(&stage))?, None).await?
    };
    let so = text(&out.stdout);
    if out.rc == 97 {
        let kv = kv(&so);
        return Ok(Written::ValidateFailed { rc: kv.get("validate_rc").and_then(|r| r.parse().ok()).unwrap_or(1), stderr: text(&out.stderr) });
    }
    if out.rc != 0 {
        bail!("writing {} failed (rc={}): {}", info.path, out.rc, text(&out.stderr).trim());
    }
    Ok(Written::Done { backup: kv(&so).get("backup").cloned() })
}
