//! A directory tree on the host (copy with remote_src of a directory): every regular file with its
//! mode and sha256 and every directory, relative to the root, in one exec.
use crate::util::{sh_quote, text};

#[derive(Debug, Clone, PartialEq)]
pub enum TreeEntry {
    Dir { rel: String, mode: u32 },
    File { rel: String, mode: u32, sha256: String },
}

/// Lines `d\tMODE\tREL` and `f\tMODE\tSHA\tREL` (NUL-safe names are out of scope: a name with a tab
/// or newline is refused by the parser).
pub fn tree_script(root: &str) -> String {
    format!(
        "cd {} || exit 3\nfind . -mindepth 1 -type d -printf 'd\\t%m\\t%P\\n'\nfind . -type f -printf '%m\\t%P\\n' | while IFS=\"$(printf '\\t')\" read -r m p; do s=$(sha256sum < \"$p\") || exit 4; printf 'f\\t%s\\t%s\\t%s\\n' \"$m\" \"${{s%% *}}\" \"$p\"; done\n",
        sh_quote(root)
    )
}

pub fn parse_tree(out: &[u8]) -> Result<Vec<TreeEntry>, String> {
    let mut v = vec![];
    for l in text(out).lines() {
        let f: Vec<&str> = l.split('\t').collect();
        let mode = |m: &str| u32::from_str_radix(m, 8).map_err(|_| format!("bad mode in `{l}`"));
        match f.as_slice() {
            ["d", m, rel] => v.push(TreeEntry::Dir { rel: rel.to_string(), mode: mode(m)? }),
            ["f", m, sha, rel] if sha.len() == 64 => v.push(TreeEntry::File { rel: rel.to_string(), mode: mode(m)?, sha256: sha.to_string() }),
            _ => return Err(format!("unexpected line in the source tree listing: `{l}`")),
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn listing() {
        let sha = "a".repeat(64);
        let out = format!("d\t755\tsub\nf\t644\t{sha}\tsub/x.txt\nf\t600\t{sha}\t.bashrc\n");
        let t = parse_tree(out.as_bytes()).unwrap();
        assert_eq!(t[0], TreeEntry::Dir { rel: "sub".into(), mode: 0o755 });
        assert_eq!(t[2], TreeEntry::File { rel: ".bashrc".into(), mode: 0o600, sha256: sha });
        assert!(parse_tree(b"x\ty\n").is_err());
        assert!(tree_script("/home/mdxuser").starts_with("cd /home/mdxuser || exit 3\n"));
    }
}
