//! A file to read off the host (fetch, copy with remote_src), in one exec: its kind, its sha256, and its
//! content unless the caller already has a copy with that digest.
use crate::host::file::{split_content, CONTENT_MARK};
use crate::util::{sh_quote, text};
use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `content` is None when its sha256 is the one the caller has.
    File {
        sha256: String,
        content: Option<Vec<u8>>,
    },
    Missing,
    Directory,
    Unreadable(String),
}

/// Script printing `dir`, `missing`, `unreadable <why>` or `file <sha256>` (then the content unless it
/// has the digest `have`).
pub fn probe_script(path: &str, have: Option<&str>) -> String {
    let mark = CONTENT_MARK.replace('\n', "\\n");
    let cond = match have {
        Some(sha) => format!("[ \"${{s%% *}}\" != {} ]", sh_quote(sha)),
        None => "true".into(),
    };
    format!(
        "f={}; if [ -d \"$f\" ]; then echo dir; elif [ ! -e \"$f\" ]; then echo missing; \
         elif s=$(sha256sum < \"$f\" 2>&1); then echo \"file $s\"; if {cond}; then printf '{mark}'; cat -- \"$f\"; fi; \
         else echo \"unreadable $s\"; fi",
        sh_quote(path)
    )
}

pub fn parse_probe(path: &str, out: &[u8]) -> Result<Source> {
    let (head, content) = split_content(out);
    let head = text(head);
    let line = head.trim();
    Ok(match line.split_once(' ').unwrap_or((line, "")) {
        ("dir", _) => Source::Directory,
        ("missing", _) => Source::Missing,
        ("file", rest) => Source::File { sha256: rest.split_whitespace().next().unwrap_or("").to_string(), content: content.map(<[u8]>::to_vec) },
        ("unreadable", why) => Source::Unreadable(why.trim().to_string()),
        _ => bail!("unexpected answer from the host about {path}: {line:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn answers() {
        assert_eq!(parse_probe("/x", b"dir\n").unwrap(), Source::Directory);
        assert_eq!(parse_probe("/x", b"missing\n").unwrap(), Source::Missing);
        assert_eq!(parse_probe("/x", b"unreadable sh: Permission denied\n").unwrap(), Source::Unreadable("sh: Permission denied".into()));
        assert_eq!(parse_probe("/x", b"file abc  -\n").unwrap(), Source::File { sha256: "abc".into(), content: None });
        let got = parse_probe("/x", b"file abc  -\n@@MDXCONF-CONTENT@@\nbin\0\n").unwrap();
        assert_eq!(got, Source::File { sha256: "abc".into(), content: Some(b"bin\0\n".to_vec()) });
        assert!(parse_probe("/x", b"what\n").is_err());
        assert!(probe_script("/a b", Some("abc")).contains("!= abc"));
    }
}
