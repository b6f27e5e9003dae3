//! File state on the host: one-exec gathering (type, mode, owner, sha256, optionally content), atomic writes
//! (temp file in the same directory, attributes and `validate` applied to the temp file, then rename), and
//! owner/group/mode planning shared by file, copy, template, lineinfile, blockinfile, replace and friends.
use super::util::{q, sh, text, Args};
use super::{Diff, ModuleCtx};
use anyhow::{anyhow, bail, Result};
use serde_json::Value;
use std::collections::HashMap;

const CONTENT_MARK: &str = "@@MDXCONF-CONTENT@@\n";

#[derive(Debug, Clone, PartialEq)]
pub enum ModeSpec {
    Octal(u32),
    Symbolic(String),
    Preserve,
}

impl ModeSpec {
    /// Ansible's meaning: an int is the mode itself (YAML `0644` is already 420), a string of octal digits
    /// is octal ("0644", "644"), otherwise chmod-style symbolic ("u+rwx,g-w") or "preserve".
    pub fn parse(module: &str, v: &Value) -> Result<ModeSpec> {
        match v {
            Value::Number(n) => {
                let m = n.as_u64().ok_or_else(|| anyhow!("{module}: mode must be a non-negative integer"))?;
                if m > 0o7777 {
                    bail!("{module}: mode {m} is out of range (did you mean the octal string '0{m}'?)");
                }
                Ok(ModeSpec::Octal(m as u32))
            }
            Value::String(s) => {
                let s = s.trim();
                if s == "preserve" {
                    return Ok(ModeSpec::Preserve);
                }
                let digits = s.strip_prefix("0o").unwrap_or(s);
                if !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                    let m = u32::from_str_radix(digits, 8).map_err(|_| anyhow!("{module}: bad mode '{s}'"))?;
                    if m > 0o7777 {
                        bail!("{module}: mode '{s}' is out of range");
                    }
                    return Ok(ModeSpec::Octal(m));
                }
                apply_symbolic(s, 0, false).map_err(|e| anyhow!("{module}: bad mode '{s}': {e}"))?;
                Ok(ModeSpec::Symbolic(s.to_string()))
            }
            v => bail!("{module}: mode must be an octal number or string, got {v}"),
        }
    }

    /// The resulting permission bits given the current mode (None for a new file) and the default for new files.
    pub fn resolve(&self, current: Option<u32>, is_dir: bool, default_new: u32) -> u32 {
        match self {
            ModeSpec::Octal(m) => *m,
            ModeSpec::Preserve => current.unwrap_or(default_new),
            ModeSpec::Symbolic(s) => apply_symbolic(s, current.unwrap_or(default_new), is_dir).unwrap_or(default_new),
        }
    }
}

/// chmod(1) symbolic modes: `[ugoa]*([-+=][rwxXst]*)+` clauses separated by commas.
pub fn apply_symbolic(spec: &str, mut mode: u32, is_dir: bool) -> Result<u32, String> {
    for clause in spec.split(',') {
        let op_at = clause.find(['+', '-', '=']).ok_or_else(|| format!("clause '{clause}' has no operator"))?;
        let (who, mut rest) = clause.split_at(op_at);
        let mut who_mask = 0u32;
        for c in who.chars() {
            who_mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(format!("unknown 'who' letter '{c}'")),
            };
        }
        if who_mask == 0 {
            who_mask = 0o7777;
        }
        while let Some(op) = rest.chars().next() {
            rest = &rest[1..];
            let end = rest.find(['+', '-', '=']).unwrap_or(rest.len());
            let perms = &rest[..end];
            rest = &rest[end..];
            let mut bits = 0u32;
            for p in perms.chars() {
                bits |= match p {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' => {
                        if is_dir || mode & 0o111 != 0 {
                            0o111
                        } else {
                            0
                        }
                    }
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return Err(format!("unknown permission letter '{p}'")),
                };
            }
            let val = bits & who_mask;
            match op {
                '+' => mode |= val,
                '-' => mode &= !val,
                '=' => mode = (mode & !(who_mask & 0o777)) | val,
                _ => return Err(format!("unknown operator '{op}'")),
            }
        }
    }
    Ok(mode & 0o7777)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Absent,
    File,
    Directory,
    Link,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Absent => "absent",
            Kind::File => "file",
            Kind::Directory => "directory",
            Kind::Link => "link",
            Kind::Other => "other",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Path after directory/symlink resolution done by the gather script.
    pub path: String,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub sha256: Option<String>,
    pub link_target: Option<String>,
    pub parent_is_dir: bool,
    pub umask: u32,
    pub content: Option<Vec<u8>>,
    pub extra: HashMap<String, String>,
}

impl FileInfo {
    pub fn exists(&self) -> bool {
        self.kind != Kind::Absent
    }
    /// Mode for newly created files (0666 & ~umask) or directories (0777 & ~umask).
    pub fn default_mode(&self, dir: bool) -> u32 {
        (if dir { 0o777 } else { 0o666 }) & !self.umask
    }
}

/// When the gather script should also return the file's content.
pub enum Want {
    No,
    Content,
    /// Only when its sha256 differs from this one (diff of a copy that will change).
    ContentIfShaNot(String),
}

pub struct GatherOpts<'a> {
    /// Resolve symlinks at the destination (write through them).
    pub follow: bool,
    /// If the path is an existing directory, append this name (copy's `dest` directory semantics).
    pub into_dir: Option<&'a str>,
    pub checksum: bool,
    pub want: Want,
}

/// Shell fragment that sets `$t` to the type of `"$d"`.
pub const TYPE_OF_D: &str = r#"if [ -L "$d" ]; then t=link; elif [ -d "$d" ]; then t=directory; elif [ -f "$d" ]; then t=file; elif [ -e "$d" ]; then t=other; else t=absent; fi"#;

/// Script printing the state of a path as key=value lines, optionally followed by its content.
pub fn gather_script(path: &str, o: &GatherOpts) -> String {
    let mut s = format!("d={}\n", q(path));
    if let Some(name) = o.into_dir {
        s += &format!("n={}\ncase \"$d\" in */) d=\"${{d}}$n\";; *) if [ -d \"$d\" ]; then d=\"$d/$n\"; fi;; esac\n", q(name));
    }
    if o.follow {
        s += "if [ -L \"$d\" ]; then d=$(readlink -f -- \"$d\" || echo \"$d\"); fi\n";
    }
    s += TYPE_OF_D;
    s += "\nprintf 'path=%s\\ntype=%s\\numask=%s\\n' \"$d\" \"$t\" \"$(umask)\"\n";
    s += "if [ -d \"$(dirname -- \"$d\")\" ]; then echo parent=1; else echo parent=0; fi\n";
    s += "if [ \"$t\" != absent ]; then stat --printf 'mode=%a\\nuid=%u\\ngid=%g\\nowner=%U\\ngroup=%G\\nsize=%s\\n' -- \"$d\"; fi\n";
    s += "if [ \"$t\" = link ]; then printf 'target=%s\\n' \"$(readlink -- \"$d\")\"; fi\n";
    if o.checksum || !matches!(o.want, Want::No) {
        s += "if [ \"$t\" = file ]; then if s=$(sha256sum < \"$d\"); then echo \"sha256=${s%% *}\"; else echo unreadable=1; fi; fi\n";
    }
    match &o.want {
        Want::No => {}
        Want::Content => s += &format!("if [ \"$t\" = file ]; then printf '{}'; cat -- \"$d\"; fi\n", CONTENT_MARK.replace('\n', "\\n")),
        Want::ContentIfShaNot(sha) => {
            s += &format!("if [ \"$t\" = file ] && [ \"${{s%% *}}\" != {} ]; then printf '{}'; cat -- \"$d\"; fi\n", q(sha), CONTENT_MARK.replace('\n', "\\n"))
        }
    }
    s
}

/// Parse the output of [`gather_script`] (possibly preceded by other key=value lines, kept in `extra`).
pub fn parse_gather(out: &[u8]) -> Result<FileInfo> {
    let (head, content) = split_content(out);
    let kv = super::util::kv(&text(head));
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let kind = match get("type").as_str() {
        "absent" => Kind::Absent,
        "file" => Kind::File,
        "directory" => Kind::Directory,
        "link" => Kind::Link,
        "other" => Kind::Other,
        t => bail!("could not read file state on host (type '{t}')"),
    };
    if kv.contains_key("unreadable") {
        bail!("cannot read {} (permission denied? use become)", get("path"));
    }
    Ok(FileInfo {
        path: get("path"),
        kind,
        mode: u32::from_str_radix(&get("mode"), 8).unwrap_or(0),
        uid: get("uid").parse().unwrap_or(0),
        gid: get("gid").parse().unwrap_or(0),
        owner: get("owner"),
        group: get("group"),
        size: get("size").parse().unwrap_or(0),
        sha256: kv.get("sha256").cloned().filter(|s| !s.is_empty()),
        link_target: kv.get("target").cloned(),
        parent_is_dir: get("parent") == "1",
        umask: u32::from_str_radix(get("umask").trim(), 8).unwrap_or(0o022),
        content: content.map(|c| c.to_vec()),
        extra: kv,
    })
}

fn split_content(out: &[u8]) -> (&[u8], Option<&[u8]>) {
    let mark = CONTENT_MARK.as_bytes();
    let mut i = 0;
    while i + mark.len() <= out.len() {
        if (i == 0 || out[i - 1] == b'\n') && &out[i..i + mark.len()] == mark {
            return (&out[..i], Some(&out[i + mark.len()..]));
        }
        match out[i..].iter().position(|b| *b == b'\n') {
            Some(p) => i += p + 1,
            None => break,
        }
    }
    (out, None)
}

/// One exec: the state of `path`.
pub async fn gather(ctx: &ModuleCtx<'_>, path: &str, o: &GatherOpts<'_>) -> Result<FileInfo> {
    let out = sh(ctx, &gather_script(path, o), None).await?;
    if out.rc != 0 {
        bail!("could not inspect {path}: {}", text(&out.stderr).trim());
    }
    parse_gather(&out.stdout)
}

/// owner/group/mode requested by a task.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<ModeSpec>,
}

impl Attrs {
    pub fn from_args(a: &Args) -> Result<Attrs> {
        Ok(Attrs {
            owner: a.str("owner")?.filter(|s| !s.is_empty()),
            group: a.str("group")?.filter(|s| !s.is_empty()),
            mode: a.raw("mode").map(|v| ModeSpec::parse(a.module, v)).transpose()?,
        })
    }
    pub fn is_empty(&self) -> bool {
        self.owner.is_none() && self.group.is_none() && self.mode.is_none()
    }
}

/// What must change on an existing path to satisfy `attrs`.
#[derive(Debug, Clone, Default)]
pub struct AttrPlan {
    pub chown: Option<String>,
    pub chgrp: Option<String>,
    pub chmod: Option<u32>,
    pub before: String,
    pub after: String,
}

impl AttrPlan {
    pub fn changed(&self) -> bool {
        self.chown.is_some() || self.chgrp.is_some() || self.chmod.is_some()
    }
    pub fn diff(&self, path: &str) -> Diff {
        Diff { path: format!("{path} (attributes)"), before: self.before.clone(), after: self.after.clone() }
    }
    /// Commands applying the plan to the shell variable/path `target` (already quoted).
    pub fn script(&self, target: &str) -> String {
        let mut s = String::new();
        if let Some(o) = &self.chown {
            s += &format!("chown -h -- {} {target}\n", q(o));
        }
        if let Some(g) = &self.chgrp {
            s += &format!("chgrp -h -- {} {target}\n", q(g));
        }
        if let Some(m) = self.chmod {
            s += &format!("chmod -- {:04o} {target}\n", m);
        }
        s
    }
}

fn id_matches(want: &str, name: &str, id: u32) -> bool {
    want == name || want.parse::<u32>().ok() == Some(id)
}

pub fn plan_attrs(info: &FileInfo, attrs: &Attrs) -> AttrPlan {
    let mut p = AttrPlan::default();
    if let Some(o) = &attrs.owner {
        if !id_matches(o, &info.owner, info.uid) {
            p.chown = Some(o.clone());
            p.before += &format!("owner: {}\n", info.owner);
            p.after += &format!("owner: {o}\n");
        }
    }
    if let Some(g) = &attrs.group {
        if !id_matches(g, &info.group, info.gid) {
            p.chgrp = Some(g.clone());
            p.before += &format!("group: {}\n", info.group);
            p.after += &format!("group: {g}\n");
        }
    }
    if let Some(m) = &attrs.mode {
        // symlinks have no mode of their own on Linux
        if info.kind != Kind::Link {
            let want = m.resolve(Some(info.mode), info.kind == Kind::Directory, info.mode);
            if want != info.mode {
                p.chmod = Some(want);
                p.before += &format!("mode: {:04o}\n", info.mode);
                p.after += &format!("mode: {:04o}\n", want);
            }
        }
    }
    p
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

/// The mode a written file ends up with.
pub fn final_mode(info: &FileInfo, attrs: &Attrs) -> u32 {
    let current = (info.kind == Kind::File).then_some(info.mode);
    match &attrs.mode {
        Some(m) => m.resolve(current, false, info.default_mode(false)),
        None => current.unwrap_or(info.default_mode(false)),
    }
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

/// Text for a diff side; binary or huge content is summarized.
pub fn diff_text(b: &[u8]) -> String {
    if b.len() > 1 << 20 {
        return format!("(content of {} bytes not shown)\n", b.len());
    }
    match std::str::from_utf8(b) {
        Ok(s) if !s.contains('\0') => s.to_string(),
        _ => format!("(binary content, {} bytes)\n", b.len()),
    }
}

/// The transport's: files are compared by the same digest on both sides.
pub use mdxconf_transport::sha256_hex;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn modes() {
        assert_eq!(ModeSpec::parse("t", &Value::from(420)).unwrap(), ModeSpec::Octal(0o644));
        assert_eq!(ModeSpec::parse("t", &Value::from("0644")).unwrap(), ModeSpec::Octal(0o644));
        assert_eq!(ModeSpec::parse("t", &Value::from("755")).unwrap(), ModeSpec::Octal(0o755));
        assert_eq!(apply_symbolic("u+rwx,g-w", 0o664, false).unwrap(), 0o744);
        assert_eq!(apply_symbolic("a=r,u+w", 0o777, false).unwrap(), 0o644);
        assert_eq!(apply_symbolic("go-rwx", 0o755, true).unwrap(), 0o700);
        assert_eq!(apply_symbolic("a+X", 0o644, true).unwrap(), 0o755);
        assert_eq!(apply_symbolic("a+X", 0o644, false).unwrap(), 0o644);
        assert!(ModeSpec::parse("t", &Value::from("u+q")).is_err());
    }
    #[test]
    fn content_split() {
        let out = b"path=/x\ntype=file\n@@MDXCONF-CONTENT@@\nhello\n@@MDXCONF-CONTENT@@\n";
        let (h, c) = split_content(out);
        assert_eq!(h, b"path=/x\ntype=file\n");
        assert_eq!(c.unwrap(), b"hello\n@@MDXCONF-CONTENT@@\n");
    }
}
