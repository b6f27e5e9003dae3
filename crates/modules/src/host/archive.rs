//! An archive compared with its destination directory, in one exec: unpacked into a scratch directory on
//! the host and compared entry by entry (type, content, mode). [`compare_script`] leaves the scratch
//! directory's contents in `$w/x` for a caller that appends the install (unarchive's step).
use crate::util::{kv, sh_quote, text};

pub struct ArchiveOpts<'a> {
    pub dest: &'a str,
    /// On the host (remote_src); None: the archive comes on stdin.
    pub remote: Option<&'a str>,
    pub zip: bool,
    pub extra_opts: &'a [String],
    pub exclude: &'a [String],
    pub creates: Option<&'a str>,
}

/// `nodest=1`, `skip=1` (creates exists), or one `F <entry>` line per entry and `C <entry>` per difference.
pub fn compare_script(o: &ArchiveOpts) -> String {
    let archive_cmd = match o.remote {
        Some(src) => format!("cp -- {} \"$w/archive\"", sh_quote(src)),
        None => "cat > \"$w/archive\"".to_string(),
    };
    let extra: Vec<String> = o.extra_opts.iter().map(|x| sh_quote(x)).collect();
    let extract = if o.zip {
        let ex: String = if o.exclude.is_empty() { String::new() } else { format!(" -x {}", o.exclude.iter().map(|e| sh_quote(e)).collect::<Vec<_>>().join(" ")) };
        format!("if command -v unzip >/dev/null 2>&1; then unzip -q -o {} \"$w/archive\" -d \"$w/x\"{ex}; else python3 -m zipfile -e \"$w/archive\" \"$w/x\"; fi", extra.join(" "))
    } else {
        let ex: String = o.exclude.iter().map(|e| format!(" --exclude={}", sh_quote(e))).collect();
        format!("tar -x -f \"$w/archive\" -C \"$w/x\"{ex} {}", extra.join(" "))
    };
    let mut s = format!("d={}\n", sh_quote(o.dest));
    s += "if [ ! -d \"$d\" ]; then echo nodest=1; exit 0; fi\n";
    if let Some(c) = o.creates {
        s += &format!("if [ -e {} ]; then echo skip=1; exit 0; fi\n", sh_quote(c));
    }
    s += "w=$(mktemp -d \"${TMPDIR:-/tmp}/mdxconf-unarchive.XXXXXX\")\ntrap 'rm -rf -- \"$w\"' EXIT\nset -e\n";
    s += &format!("{archive_cmd}\nmkdir \"$w/x\"\n{extract} >&2\ncd \"$w/x\"\n");
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
    s
}

#[derive(Debug, Default, PartialEq)]
pub struct Compare {
    pub nodest: bool,
    pub skip: bool,
    pub files: Vec<String>,
    pub changes: Vec<String>,
}

pub fn parse_compare(out: &[u8]) -> Compare {
    let o = text(out);
    let kv = kv(&o);
    Compare {
        nodest: kv.contains_key("nodest"),
        skip: kv.contains_key("skip"),
        files: o.lines().filter_map(|l| l.strip_prefix("F ")).map(str::to_string).collect(),
        changes: o.lines().filter_map(|l| l.strip_prefix("C ")).map(str::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        assert!(parse_compare(b"nodest=1\n").nodest);
        assert!(parse_compare(b"skip=1\n").skip);
        let c = parse_compare(b"F a\nF d\nF d/b\nC d/b\n");
        assert_eq!(c.files, vec!["a", "d", "d/b"]);
        assert_eq!(c.changes, vec!["d/b"]);
        let s = compare_script(&ArchiveOpts { dest: "/srv", remote: Some("/tmp/a.zip"), zip: true, extra_opts: &[], exclude: &["x".into()], creates: Some("/srv/x") });
        assert!(s.contains("cp -- /tmp/a.zip") && s.contains(" -x x") && s.contains("if [ -e /srv/x ]"), "{s}");
    }
}
