//! Everything stat(1) knows about a path, in one exec: the probe script and the parser that turns its
//! `key=value` lines into Ansible's `stat` dictionary.
use crate::util::{kv, sh_quote};
use serde_json::{json, Value};

pub struct StatOpts<'a> {
    pub follow: bool,
    /// `sha1sum`, `sha256sum`, ... is `<algo>sum`; None: no checksum
    pub checksum: Option<&'a str>,
    pub mime: bool,
}

pub fn stat_script(path: &str, o: &StatOpts) -> String {
    let l = if o.follow { "-L " } else { "" };
    let mut s = format!("p={}\nif [ ! -e \"$p\" ] && [ ! -L \"$p\" ]; then echo exists=0; exit 0; fi\necho exists=1\n", sh_quote(path));
    s += &format!("stat {l}--printf 'mode=%a\\nftype=%F\\nuid=%u\\ngid=%g\\npw_name=%U\\ngr_name=%G\\nsize=%s\\nmtime=%.9Y\\natime=%.9X\\nctime=%.9Z\\ninode=%i\\ndev=%d\\nnlink=%h\\nblocks=%b\\nblock_size=%B\\n' -- \"$p\"\n");
    s += "if [ -L \"$p\" ]; then printf 'lnk_source=%s\\nlnk_target=%s\\n' \"$(readlink -f -- \"$p\")\" \"$(readlink -- \"$p\")\"; fi\n";
    s += "[ -r \"$p\" ] && echo readable=1; [ -w \"$p\" ] && echo writeable=1; [ -x \"$p\" ] && echo executable=1\n";
    s += "printf 'realpath=%s\\n' \"$(readlink -f -- \"$p\")\"\n";
    if let Some(algo) = o.checksum {
        s += &format!("if [ -f \"$p\" ] && [ -r \"$p\" ]; then c=$({algo}sum < \"$p\") && echo \"checksum=${{c%% *}}\"; fi\n");
    }
    if o.mime {
        // one `file` run for both (`type/subtype; charset=x`), as Ansible splits libmagic's MIME answer
        s += "if command -v file >/dev/null 2>&1; then m=$(file -b --mime -- \"$p\"); case $m in *\\;\\ charset=*) printf 'mimetype=%s\\ncharset=%s\\n' \"${m%%;*}\" \"${m##*; charset=}\";; *) printf 'mimetype=%s\\ncharset=\\n' \"$m\";; esac; fi\n";
    }
    s
}

/// Ansible's `stat` dictionary from the script's output.
pub fn parse_stat(path: &str, out: &str) -> Value {
    let kv = kv(out);
    if kv.get("exists").map(String::as_str) != Some("1") {
        return json!({"exists": false});
    }
    let g = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let num = |k: &str| -> Value { g(k).parse::<u64>().map(Value::from).unwrap_or(Value::Null) };
    let float = |k: &str| -> Value { g(k).parse::<f64>().map(Value::from).unwrap_or(Value::Null) };
    let mode = u32::from_str_radix(&g("mode"), 8).unwrap_or(0);
    let ft = g("ftype");
    let bit = |b: u32| mode & b != 0;
    let mut m = json!({
        "exists": true,
        "path": path,
        "mode": format!("{mode:04o}"),
        "isdir": ft == "directory",
        "isreg": ft.starts_with("regular"),
        "islnk": ft == "symbolic link",
        "isblk": ft == "block special file",
        "ischr": ft == "character special file",
        "isfifo": ft == "fifo",
        "issock": ft == "socket",
        "uid": num("uid"), "gid": num("gid"),
        "pw_name": g("pw_name"), "gr_name": g("gr_name"),
        "size": num("size"),
        "mtime": float("mtime"), "atime": float("atime"), "ctime": float("ctime"),
        "inode": num("inode"), "dev": num("dev"), "nlink": num("nlink"),
        "blocks": num("blocks"), "block_size": num("block_size"),
        "readable": kv.contains_key("readable"), "writeable": kv.contains_key("writeable"), "executable": kv.contains_key("executable"),
        "rusr": bit(0o400), "wusr": bit(0o200), "xusr": bit(0o100),
        "rgrp": bit(0o040), "wgrp": bit(0o020), "xgrp": bit(0o010),
        "roth": bit(0o004), "woth": bit(0o002), "xoth": bit(0o001),
        "isuid": bit(0o4000), "isgid": bit(0o2000),
        "realpath": g("realpath"),
    });
    let o = m.as_object_mut().expect("object");
    for k in ["checksum", "lnk_source", "lnk_target", "mimetype", "charset"] {
        if let Some(v) = kv.get(k) {
            o.insert(k.into(), v.clone().into());
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        assert_eq!(parse_stat("/x", "exists=0\n"), json!({"exists": false}));
        let v = parse_stat("/x", "exists=1\nmode=4755\nftype=regular file\nsize=3\nmtime=1.5\nreadable=1\nchecksum=ab\n");
        assert_eq!(v["mode"], "4755");
        assert_eq!(v["isreg"], true);
        assert_eq!(v["isuid"], true);
        assert_eq!(v["size"], 3);
        assert_eq!(v["mtime"], 1.5);
        assert_eq!(v["readable"], true);
        assert_eq!(v["writeable"], false);
        assert_eq!(v["checksum"], "ab");
        assert!(v.get("lnk_target").is_none());
    }
}
