//! assemble's fragments: the probe listing a directory's regular files with their content (one exec,
//! NUL-separated name/base64 pairs), and the pure assembly of fragments the way Ansible's assemble does.
use crate::util::{base64_decode, sh_quote as q};

/// A fragment directory as the probe saw it.
#[derive(Debug, PartialEq)]
pub enum Fragments {
    Missing,
    NotADirectory,
    /// (file name, content) of every regular file (links followed, as os.path.isfile does), unsorted
    Files(Vec<(String, Vec<u8>)>),
}

pub fn fragments_script(dir: &str) -> String {
    format!(
        "d={}\nif [ ! -e \"$d\" ]; then printf 'missing\\0'; exit 0; fi\nif [ ! -d \"$d\" ]; then printf 'notdir\\0'; exit 0; fi\nprintf 'dir\\0'\nfor f in \"$d\"/* \"$d\"/.*; do\n[ -f \"$f\" ] || continue\nc=$(base64 -w0 < \"$f\") || exit 1\nprintf '%s\\0%s\\0' \"${{f##*/}}\" \"$c\"\ndone\n",
        q(dir)
    )
}

pub fn parse_fragments(out: &[u8]) -> Result<Fragments, String> {
    let mut recs = out.split(|b| *b == 0);
    match recs.next() {
        Some(b"missing") => return Ok(Fragments::Missing),
        Some(b"notdir") => return Ok(Fragments::NotADirectory),
        Some(b"dir") => {}
        _ => return Err(format!("unexpected probe output: {:?}", String::from_utf8_lossy(&out[..out.len().min(80)]))),
    }
    let rest: Vec<&[u8]> = recs.collect();
    // the output ends with a NUL: one empty record after the last pair
    let pairs = rest.strip_suffix(&[&b""[..]]).unwrap_or(&rest);
    if !pairs.len().is_multiple_of(2) {
        return Err("truncated fragment listing".into());
    }
    let mut files = vec![];
    for p in pairs.chunks(2) {
        let name = String::from_utf8_lossy(p[0]).into_owned();
        let content = base64_decode(&String::from_utf8_lossy(p[1])).ok_or_else(|| format!("fragment {name}: bad base64"))?;
        files.push((name, content));
    }
    Ok(Fragments::Files(files))
}

/// Python's codecs.escape_decode on the delimiter (`\n`, `\t`, `\\`, `\xHH`, octal; others kept).
pub fn escape_decode(s: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let c = s[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\\' | b'\'' | b'"' => out.push(c),
            b'\n' => {}
            b'x' if i + 2 <= s.len() && s[i..i + 2].iter().all(u8::is_ascii_hexdigit) => {
                out.push(u8::from_str_radix(std::str::from_utf8(&s[i..i + 2]).unwrap_or("0"), 16).unwrap_or(0));
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    if i < s.len() && (b'0'..=b'7').contains(&s[i]) {
                        v = v * 8 + u32::from(s[i] - b'0');
                        i += 1;
                    }
                }
                out.push((v & 0xff) as u8);
            }
            c => {
                out.push(b'\\');
                out.push(c);
            }
        }
    }
    out
}

/// Ansible's assemble_from_fragments: sorted names, a newline after a fragment that lacks one, the
/// delimiter between fragments. As in ansible-core 2.14 on Python 3, a newline always follows the
/// delimiter (its `delimiter[-1] != b'\n'` compares an int with bytes), and the delimiter is
/// escape-decoded again at every use.
pub fn assemble(mut files: Vec<(String, Vec<u8>)>, delimiter: Option<&str>, keep: impl Fn(&str) -> bool, ignore_hidden: bool) -> Vec<u8> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![];
    let (mut add_newline, mut delimit_me) = (false, false);
    let mut delim = delimiter.map(|d| d.as_bytes().to_vec()).filter(|d| !d.is_empty());
    for (name, content) in files {
        if !keep(&name) || (ignore_hidden && name.starts_with('.')) {
            continue;
        }
        if add_newline {
            out.push(b'\n');
        }
        if delimit_me {
            if let Some(d) = delim.as_mut() {
                *d = escape_decode(d);
                out.extend_from_slice(d);
                out.push(b'\n');
            }
        }
        out.extend_from_slice(&content);
        delimit_me = true;
        add_newline = !content.ends_with(b"\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(n: &str, c: &str) -> (String, Vec<u8>) {
        (n.into(), c.as_bytes().to_vec())
    }

    #[test]
    fn assembles_like_ansible() {
        let files = vec![f("b", "two"), f("a", "one\n"), f(".h", "hidden\n"), f("c", "three\n")];
        assert_eq!(assemble(files.clone(), None, |_| true, true), b"one\ntwo\nthree\n");
        assert_eq!(assemble(files.clone(), Some("#--"), |_| true, false), b"hidden\n#--\none\n#--\ntwo\n#--\nthree\n");
        // the newline after the delimiter comes even when it has one (Ansible 2.14 on Python 3)
        assert_eq!(assemble(vec![f("a", "1\n"), f("b", "2\n")], Some("--\\n"), |_| true, false), b"1\n--\n\n2\n");
        assert_eq!(assemble(files, None, |n| n != "b", true), b"one\nthree\n");
        assert_eq!(escape_decode(b"a\\tb\\x41\\101\\q"), b"a\tbAA\\q");
    }

    #[test]
    fn parses_listings() {
        assert_eq!(parse_fragments(b"missing\0").unwrap(), Fragments::Missing);
        assert_eq!(parse_fragments(b"notdir\0").unwrap(), Fragments::NotADirectory);
        assert_eq!(parse_fragments(b"dir\0a\0b25lCg==\0").unwrap(), Fragments::Files(vec![f("a", "one\n")]));
        assert_eq!(parse_fragments(b"dir\0").unwrap(), Fragments::Files(vec![]));
        assert!(parse_fragments(b"dir\0a\0").is_err());
        assert!(parse_fragments(b"dir\0a\0!!\0").is_err());
        assert!(parse_fragments(b"").is_err());
    }
}
