//! find's probe and parser: one `find(1)` walk per path lists every entry with its lstat fields
//! (NUL-terminated records, so any file name survives); checksums and `contains` matches are computed on
//! the host for regular files only when asked. The filters (patterns, age, size, type, hidden, depth) are
//! applied here, in Rust, with Ansible's semantics (Python `fnmatch` / `re.match` on the basename).
use crate::util::sh_quote as q;
use serde_json::{json, Map, Value};

/// What the probe collects.
pub struct FindProbe<'a> {
    pub paths: &'a [String],
    pub follow: bool,
    /// `-maxdepth` (None: unlimited)
    pub maxdepth: Option<i64>,
    pub checksum: bool,
    /// (regex, whole file)
    pub contains: Option<(&'a str, bool)>,
    /// glob patterns and excludes to narrow the per-file work (not the listing); empty: every file
    pub prefilter: (&'a [String], &'a [String]),
}

const FIELDS: &str = "E\\t%y\\t%m\\t%U\\t%G\\t%u\\t%g\\t%s\\t%i\\t%D\\t%n\\t%T@\\t%A@\\t%C@\\t%d\\t%p\\0";
/// Under `-L` find reports a link's target; Ansible lstat()s every entry, so a link stays a link (mode 0777,
/// its size the target name's length, from the `K` records; owner and times are the target's).
const LINK_FIELDS: &str = "E\\tl\\t777\\t%U\\t%G\\t%u\\t%g\\t0\\t%i\\t%D\\t%n\\t%T@\\t%A@\\t%C@\\t%d\\t%p\\0";

/// A path as the host's shell should see it: `~` and `~/...` expand to `$HOME` (Ansible's expanduser).
fn host_path(p: &str) -> String {
    if p == "~" {
        "\"$HOME\"".into()
    } else if let Some(rest) = p.strip_prefix("~/") {
        format!("\"$HOME\"/{}", q(rest))
    } else {
        q(p)
    }
}

pub fn find_script(o: &FindProbe) -> String {
    let l = if o.follow { "-L " } else { "" };
    let depth = o.maxdepth.map(|d| format!(" -maxdepth {d}")).unwrap_or_default();
    let walk = format!("find {l}\"$p\" -mindepth 1{depth}");
    let mut narrow = String::new();
    let (pats, excl) = o.prefilter;
    if !pats.is_empty() {
        narrow += &format!(" \\( {} \\)", pats.iter().map(|p| format!("-name {}", q(p))).collect::<Vec<_>>().join(" -o "));
    }
    if !excl.is_empty() {
        narrow += &format!(" ! \\( {} \\)", excl.iter().map(|p| format!("-name {}", q(p))).collect::<Vec<_>>().join(" -o "));
    }
    // find's own complaints (an unreadable directory) are ignored, as os.walk ignores them
    let mut s = String::from("printf 'N\\t%s\\0' \"$(date +%s.%N)\"\n");
    s += &format!("for p in {}; do\n", o.paths.iter().map(|p| host_path(p)).collect::<Vec<_>>().join(" "));
    s += "if [ -d \"$p\" ]; then\nprintf 'P\\t%s\\0' \"$p\"\n";
    if o.follow {
        s += &format!("{walk} \\( -xtype l -printf '{LINK_FIELDS}' \\) -o -printf '{FIELDS}' 2>/dev/null\n");
        // under -L find's %l is empty: readlink gives the link's target (its lstat size)
        s += &format!("{walk} -xtype l -exec sh -c 'for f; do printf \"K\\t%s\\t%s\\0\" \"$f\" \"$(readlink -- \"$f\")\"; done' sh {{}} + 2>/dev/null\n");
    } else {
        s += &format!("{walk} -printf '{FIELDS}' 2>/dev/null\n");
    }
    if o.checksum {
        s += &format!("{walk} -type f{narrow} -exec sh -c 'for f; do c=$(sha1sum < \"$f\") && printf \"C\\t%s\\t%s\\0\" \"${{c%% *}}\" \"$f\"; done' sh {{}} + 2>/dev/null\n");
    }
    if let Some((re, whole)) = o.contains {
        // Python's re.match on each line is anchored at the line's start; search on the whole file is not
        let (flags, re) = if whole { ("-qzP", re.to_string()) } else { ("-qP", format!("^(?:{re})")) };
        s += &format!(
            "{walk} -type f{narrow} -exec sh -c 'r=$1; shift; for f; do grep {flags} -- \"$r\" \"$f\" 2>/dev/null && printf \"M\\t%s\\0\" \"$f\"; done' sh {} {{}} + 2>/dev/null\n",
            q(&re)
        );
    }
    s += "else\nprintf 'S\\t%s\\0' \"$p\"\nfi\ndone\n";
    s
}

/// One entry find listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// find's `%y`: f d l b c p s
    pub kind: char,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub pw_name: String,
    pub gr_name: String,
    pub size: u64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    pub mtime: f64,
    pub atime: f64,
    pub ctime: f64,
    pub depth: i64,
    pub path: String,
}

/// Everything the probe printed.
#[derive(Debug, Default)]
pub struct Listing {
    pub now: f64,
    /// (root as given, its entries) for each directory
    pub roots: Vec<(String, Vec<Entry>)>,
    /// paths that are no directory
    pub skipped: Vec<String>,
    pub checksums: Map<String, Value>,
    pub matches: std::collections::HashSet<String>,
}

pub fn parse_find(out: &[u8]) -> Result<Listing, String> {
    let text = String::from_utf8_lossy(out);
    let mut l = Listing::default();
    let mut seen_now = false;
    let mut links = std::collections::HashMap::new();
    for rec in text.split('\0').filter(|r| !r.is_empty()) {
        let (tag, rest) = rec.split_once('\t').ok_or_else(|| format!("unexpected probe output: {rec:?}"))?;
        match tag {
            "N" => {
                l.now = rest.trim().parse().map_err(|_| format!("unexpected host time: {rest:?}"))?;
                seen_now = true;
            }
            "P" => l.roots.push((rest.to_string(), vec![])),
            "S" => l.skipped.push(rest.to_string()),
            "C" => {
                let (sum, path) = rest.split_once('\t').ok_or_else(|| format!("unexpected checksum record: {rec:?}"))?;
                l.checksums.insert(path.to_string(), sum.into());
            }
            "K" => {
                let (path, target) = rest.split_once('\t').ok_or_else(|| format!("unexpected link record: {rec:?}"))?;
                links.insert(path.to_string(), target.len() as u64);
            }
            "M" => {
                l.matches.insert(rest.to_string());
            }
            "E" => {
                let e = parse_entry(rest).ok_or_else(|| format!("unexpected entry record: {rec:?}"))?;
                l.roots.last_mut().ok_or("an entry before its directory")?.1.push(e);
            }
            _ => return Err(format!("unexpected probe output: {rec:?}")),
        }
    }
    if !seen_now {
        return Err("the probe printed nothing".into());
    }
    for e in l.roots.iter_mut().flat_map(|r| r.1.iter_mut()).filter(|e| e.kind == 'l') {
        if let Some(n) = links.get(&e.path) {
            e.size = *n;
        }
    }
    Ok(l)
}

fn parse_entry(rest: &str) -> Option<Entry> {
    let f: Vec<&str> = rest.splitn(15, '\t').collect();
    if f.len() != 15 {
        return None;
    }
    let n = |i: usize| f[i].parse::<u64>().ok();
    let t = |i: usize| f[i].parse::<f64>().ok();
    Some(Entry {
        kind: f[0].chars().next()?,
        mode: u32::from_str_radix(f[1], 8).ok()?,
        uid: n(2)?,
        gid: n(3)?,
        pw_name: f[4].into(),
        gr_name: f[5].into(),
        size: n(6)?,
        inode: n(7)?,
        dev: n(8)?,
        nlink: n(9)?,
        mtime: t(10)?,
        atime: t(11)?,
        ctime: t(12)?,
        depth: f[13].parse().ok()?,
        path: f[14].into(),
    })
}

/// Python's os.path.normpath for absolute and relative POSIX paths.
pub fn normpath(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut parts: Vec<&str> = vec![];
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if abs => {}
            c => parts.push(c),
        }
    }
    let j = parts.join("/");
    match (abs, j.is_empty()) {
        (true, _) => format!("/{j}"),
        (false, true) => ".".into(),
        (false, false) => j,
    }
}

/// Python's fnmatch.translate: a whole-name regex for a shell pattern (`*` matches dots and slashes too).
pub fn fnmatch_regex(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    let mut out = String::from("^(?s:");
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if j < chars.len() && chars[j] == '!' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ']' {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                } else {
                    let mut body: String = chars[i..j].iter().collect();
                    i = j + 1;
                    if let Some(b) = body.strip_prefix('!') {
                        body = format!("^{b}");
                    } else if body.starts_with('^') {
                        body = format!("\\{body}");
                    }
                    out.push('[');
                    out.push_str(&body.replace('\\', "\\\\").replace('[', "\\["));
                    out.push(']');
                }
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push_str(")$");
    out
}

/// Ansible's statinfo() for one entry.
pub fn statinfo(e: &Entry) -> Value {
    let bit = |b: u32| e.mode & b != 0;
    json!({
        "path": e.path,
        "mode": format!("{:04o}", e.mode & 0o7777),
        "isdir": e.kind == 'd', "ischr": e.kind == 'c', "isblk": e.kind == 'b', "isreg": e.kind == 'f',
        "isfifo": e.kind == 'p', "islnk": e.kind == 'l', "issock": e.kind == 's',
        "uid": e.uid, "gid": e.gid, "size": e.size, "inode": e.inode, "dev": e.dev, "nlink": e.nlink,
        "atime": e.atime, "mtime": e.mtime, "ctime": e.ctime,
        "gr_name": e.gr_name, "pw_name": e.pw_name,
        "wusr": bit(0o200), "rusr": bit(0o400), "xusr": bit(0o100),
        "wgrp": bit(0o020), "rgrp": bit(0o040), "xgrp": bit(0o010),
        "woth": bit(0o002), "roth": bit(0o004), "xoth": bit(0o001),
        "isuid": bit(0o4000), "isgid": bit(0o2000),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        let out = b"N\t100.5\0P\t/d\0E\tf\t644\t0\t0\troot\troot\t3\t7\t2049\t1\t90.25\t91\t92\t1\t/d/a\tb\0C\tda39\t/d/a\tb\0M\t/d/a\tb\0S\t/nope\0";
        let l = parse_find(out).unwrap();
        assert_eq!(l.now, 100.5);
        assert_eq!(l.roots[0].0, "/d");
        let e = &l.roots[0].1[0];
        assert_eq!((e.kind, e.mode, e.size, e.depth, e.path.as_str()), ('f', 0o644, 3, 1, "/d/a\tb"));
        assert_eq!(l.checksums["/d/a\tb"], "da39");
        assert!(l.matches.contains("/d/a\tb"));
        assert_eq!(l.skipped, vec!["/nope".to_string()]);
        assert_eq!(statinfo(e)["mode"], "0644");
        assert_eq!(statinfo(e)["roth"], true);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_find(b"").is_err());
        assert!(parse_find(b"hello").is_err());
        assert!(parse_find(b"N\t1\0E\tf\t644\0").is_err());
        assert!(parse_find(b"N\tx\0").is_err());
        assert!(parse_find(b"N\t1\0E\tf\t644\t0\t0\tr\tr\t3\t7\t1\t1\t1\t1\t1\t1\t/d/a\0").is_err(), "an entry before its directory");
    }

    #[test]
    fn paths_and_globs() {
        assert_eq!(normpath("/tmp//x/./y"), "/tmp/x/y");
        assert_eq!(normpath("a/../b"), "b");
        assert_eq!(normpath("./"), ".");
        let m = |p: &str, n: &str| regex::Regex::new(&fnmatch_regex(p)).unwrap().is_match(n);
        assert!(m("*.conf", "a.conf") && m("*.conf", ".x.conf") && !m("*.conf", "a.confx"));
        assert!(m("a?[0-9]", "ab1") && !m("a?[!0-9]", "ab1") && m("[!a]*", "b"));
        assert!(m("a.b", "a.b") && !m("a.b", "axb") && m("x[", "x["));
    }
}
