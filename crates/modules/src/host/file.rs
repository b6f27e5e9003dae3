//! File state on the host, read in one exec: type, mode, owner, sha256, optionally the content.
//! One probe script ([`gather_script`]) and its pure parser ([`parse_gather`]).
use crate::context::ModuleCtx;
use crate::util::{kv, sh, sh_quote, text};
use anyhow::{bail, Result};
use std::collections::HashMap;

pub(crate) const CONTENT_MARK: &str = "@@MDXCONF-CONTENT@@\n";

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

/// Sets `$_mp` to what `dirname -- "$d"` prints, without running it (`$_mx` is scratch).
pub const PARENT_OF_D: &str = r#"_mx=$d; while case $_mx in //) false;; */) [ "$_mx" != / ];; *) false;; esac; do _mx=${_mx%/}; done; case $_mx in */*) _mp=${_mx%/*}; while [ "${_mp%/}" != "$_mp" ]; do _mp=${_mp%/}; done; [ -n "$_mp" ] || _mp=/;; *) _mp=.;; esac"#;

/// Script printing the state of a path as key=value lines, optionally followed by its content.
pub fn gather_script(path: &str, o: &GatherOpts) -> String {
    let mut s = format!("d={}\n", sh_quote(path));
    if let Some(name) = o.into_dir {
        s += &format!("n={}\ncase \"$d\" in */) d=\"${{d}}$n\";; *) if [ -d \"$d\" ]; then d=\"$d/$n\"; fi;; esac\n", sh_quote(name));
    }
    if o.follow {
        s += "if [ -L \"$d\" ]; then d=$(readlink -f -- \"$d\" || echo \"$d\"); fi\n";
    }
    s += TYPE_OF_D;
    // no subshell or helper process for umask and the parent (the converged run is mostly forks)
    s += "\nprintf 'path=%s\\ntype=%s\\numask=' \"$d\" \"$t\"; umask\n";
    s += PARENT_OF_D;
    s += "\nif [ -d \"$_mp\" ]; then echo parent=1; else echo parent=0; fi\n";
    s += "if [ \"$t\" != absent ]; then stat --printf 'mode=%a\\nuid=%u\\ngid=%g\\nowner=%U\\ngroup=%G\\nsize=%s\\n' -- \"$d\"; fi\n";
    s += "if [ \"$t\" = link ]; then printf 'target=%s\\n' \"$(readlink -- \"$d\")\"; fi\n";
    if o.checksum || !matches!(o.want, Want::No) {
        s += "if [ \"$t\" = file ]; then if s=$(sha256sum < \"$d\"); then echo \"sha256=${s%% *}\"; else echo unreadable=1; fi; fi\n";
    }
    match &o.want {
        Want::No => {}
        Want::Content => s += &format!("if [ \"$t\" = file ]; then printf '{}'; cat -- \"$d\"; fi\n", CONTENT_MARK.replace('\n', "\\n")),
        Want::ContentIfShaNot(sha) => {
            s += &format!("if [ \"$t\" = file ] && [ \"${{s%% *}}\" != {} ]; then printf '{}'; cat -- \"$d\"; fi\n", sh_quote(sha), CONTENT_MARK.replace('\n', "\\n"))
        }
    }
    s
}

/// Parse the output of [`gather_script`] (possibly preceded by other key=value lines, kept in `extra`).
pub fn parse_gather(out: &[u8]) -> Result<FileInfo> {
    let (head, content) = split_content(out);
    let kv = kv(&text(head));
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

pub(crate) fn split_content(out: &[u8]) -> (&[u8], Option<&[u8]>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn content_split() {
        let out = b"path=/x\ntype=file\n@@MDXCONF-CONTENT@@\nhello\n@@MDXCONF-CONTENT@@\n";
        let (h, c) = split_content(out);
        assert_eq!(h, b"path=/x\ntype=file\n");
        assert_eq!(c.unwrap(), b"hello\n@@MDXCONF-CONTENT@@\n");
    }

    /// The parent without `dirname`: the same answer as dirname(1) itself, in dash and bash.
    #[test]
    fn parent_of_d_is_what_dirname_prints() {
        let paths = ["", "/", "//", "///", "/a", "//a", "a", "a/", "a/b", "a/b/", "a//b", "/a/b//", "./x", ".", "..", "a b/c", "x///y///"];
        for sh in ["/bin/sh", "/bin/bash"] {
            for d in paths {
                let run = |cmd: &mut std::process::Command| String::from_utf8(cmd.output().unwrap().stdout).unwrap();
                let ours = run(std::process::Command::new(sh).arg("-c").arg(format!("d=$1; {PARENT_OF_D}; printf %s \"$_mp\"")).arg("sh").arg(d));
                let theirs = run(std::process::Command::new("dirname").arg("--").arg(d));
                assert_eq!(ours, theirs.trim_end_matches('\n'), "{sh}: dirname of {d:?}");
            }
        }
    }
}
