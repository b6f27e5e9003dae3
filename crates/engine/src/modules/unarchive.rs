//! unarchive: a .tar(.gz/.bz2/.xz)/.tgz/.zip from the controller (or the host with remote_src) unpacked
//! into an existing directory. The archive is unpacked into a scratch directory on the host and compared
//! entry by entry (content, type, mode), so only a real difference counts as a change — in one exec.
use super::copy::find_local;
use super::util::{failed, q, sh, state_diff, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{anyhow, bail, Result};
use serde_json::{Map, Value};

pub const SPEC: Spec = Spec {
    args: &["src", "dest", "remote_src", "copy", "creates", "owner", "group", "extra_opts", "exclude", "list_files", "keep_newer", "validate_certs", "decrypt", "io_buffer_size"],
    required: &["src", "dest"],
};

pub async fn run(args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let a = Args::new("unarchive", &SPEC, args)?;
    let src = a.req("src")?;
    let dest = a.req("dest")?;
    if src.contains("://") {
        bail!("unarchive: downloading '{src}' needs network access, which mdxconf does not use; ship the archive in the role's files/");
    }
    let remote = a.bool("remote_src", false)? || a.opt_bool("copy")? == Some(false);
    let lower = src.to_ascii_lowercase();
    let is_zip = lower.ends_with(".zip");
    let (stdin, archive_cmd) = if remote {
        (None, format!("cp -- {} \"$w/archive\"", q(&src)))
    } else {
        let local = find_local(&ctx.search_dirs, "files", &src).ok_or_else(|| anyhow!("unarchive: could not find src '{src}' (searched files/ of {:?})", ctx.search_dirs))?;
        (Some(mdxconf_modules::ops::local_src::read_local(&local, a.bool("decrypt", true)?, "unarchive")?), "cat > \"$w/archive\"".to_string())
    };
    let extra: Vec<String> = a.list("extra_opts")?.iter().map(|o| q(o)).collect();
    let excludes: Vec<String> = a.list("exclude")?;
    let extract = if is_zip {
        let ex: String = if excludes.is_empty() { String::new() } else { format!(" -x {}", excludes.iter().map(|e| q(e)).collect::<Vec<_>>().join(" ")) };
        format!("if command -v unzip >/dev/null 2>&1; then unzip -q -o {} \"$w/archive\" -d \"$w/x\"{ex}; else python3 -m zipfile -e \"$w/archive\" \"$w/x\"; fi", extra.join(" "))
    } else {
        let ex: String = excludes.iter().map(|e| format!(" --exclude={}", q(e))).collect();
        format!("tar -x -f \"$w/archive\" -C \"$w/x\"{ex} {}", extra.join(" "))
    };
    let mut s = format!("d={}\n", q(&dest));
    s += "if [ ! -d \"$d\" ]; then echo nodest=1; exit 0; fi\n";
    if let Some(c) = a.str("creates")? {
        s += &format!("if [ -e {} ]; then echo skip=1; exit 0; fi\n", q(&c));
    }
    s += "w=$(mktemp -d \"${TMPDIR:-/tmp}/mdxconf-unarchive.XXXXXX\")\ntrap 'rm -rf -- \"$w\"' EXIT\nset -e\n";
    s += &format!("{archive_cmd}\nmkdir \"$w/x\"\n{extract} >&2\ncd \"$w/x\"\n");
    // one line per entry that differs from dest (missing, other type, other content or mode)
    s += r#"find . -mindepth 1 | while IFS= read -r f; do
  t="$d/${f#./}"
  if [ -L "$f" ]; then [ -L "$t" ] && [ "$(readlink -- "$f")" = "$(readlink -- "$t")" ] || echo "C ${f#./}"
  elif [ -d "$f" ]; then [ -d "$t" ] && [ ! -L "$t" ] || echo "C ${f#./}/"
  else { [ -f "$t" ] && [ ! -L "$t" ] && cmp -s -- "$f" "$t" && [ "$(stat -c %a -- "$f")" = "$(stat -c %a -- "$t")" ]; } || echo "C ${f#./}"
  fi
done > "$w/changes"
find . -mindepth 1 | sed 's|^\./|F |'
cat "$w/changes"
"#;
    if !ctx.check {
        s += "if [ -s \"$w/changes\" ]; then cp -a . \"$d/\"; echo copied=1; fi\n";
        let owner = a.str("owner")?;
        let group = a.str("group")?;
        if owner.is_some() || group.is_some() {
            let spec = format!("{}{}", owner.as_deref().map(q).unwrap_or_default(), group.as_deref().map(|g| format!(":{}", q(g))).unwrap_or_default());
            s += &format!("if [ -s \"$w/changes\" ]; then find . -mindepth 1 -maxdepth 1 | while IFS= read -r f; do chown -R {spec} \"$d/${{f#./}}\"; done; fi\n");
        }
    }
    let out = sh(ctx, &s, stdin).await?;
    let o = text(&out.stdout);
    let kv = super::util::kv(&o);
    let mut r = ModuleResult::default();
    r.data.insert("dest".into(), dest.clone().into());
    r.data.insert("src".into(), src.clone().into());
    if kv.contains_key("nodest") {
        return Ok(failed(format!("dest '{dest}' must be an existing dir")));
    }
    if kv.contains_key("skip") {
        r.msg = "skipped, since the 'creates' path exists".into();
        return Ok(r);
    }
    if out.rc != 0 {
        return Ok(failed(format!("failed to unpack {src} into {dest}: {}", text(&out.stderr).trim())));
    }
    let changes: Vec<&str> = o.lines().filter_map(|l| l.strip_prefix("C ")).collect();
    if a.bool("list_files", false)? {
        r.data.insert("files".into(), o.lines().filter_map(|l| l.strip_prefix("F ")).map(Value::from).collect::<Vec<_>>().into());
    }
    if !changes.is_empty() {
        r.changed = true;
        r.diff.push(state_diff(format!("{dest} (unarchive {src})"), "", changes.iter().map(|c| format!("{c}\n")).collect::<String>()));
    }
    Ok(r)
}
