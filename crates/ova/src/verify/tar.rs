//! The tar layer of `ova verify`: every member a regular file under a plain relative name, none
//! renamed by a PAX `path=` record or a GNU long-name block (readers that ignore those would see
//! other names), no links or other special members, no name twice, every member's data in the file.
use anyhow::{anyhow, Context, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::Member;

/// At most this much of a PAX or GNU long-name block is read (for the message only).
const MAX_EXTENSION_READ: u64 = 64 * 1024;

/// Lists the members of a tar with their data offsets; anything but a regular file under a safe
/// name is an error naming the member.
pub fn list_members(path: &Path) -> Result<Vec<Member>> {
    let p = path.display();
    let f = File::open(path).with_context(|| format!("open {p}"))?;
    let total = f.metadata()?.len();
    let mut ar = tar::Archive::new(BufReader::new(f));
    // raw: PAX and GNU extension blocks are yielded as members, not applied to the next one
    let entries = ar.entries_with_seek().with_context(|| format!("{p}: not a tar archive"))?.raw(true);
    let mut out: Vec<Member> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for e in entries {
        let after = out.last().map(|m| format!(" after member {:?}", m.name)).unwrap_or_default();
        let mut e = e.with_context(|| format!("{p}: corrupt tar header{after}"))?;
        let at = e.raw_header_position();
        let raw_name = e.header().path_bytes().into_owned();
        let name = String::from_utf8(raw_name).map_err(|b| anyhow!("{p}: tar member {:?} (header at offset {at}): name is not UTF-8", String::from_utf8_lossy(b.as_bytes())))?;
        let what = format!("{p}: tar member {name:?} (header at offset {at})");
        let kind = e.header().entry_type();
        if !kind.is_file() {
            let why = if kind.is_pax_local_extensions() {
                let data = read_capped(&mut e)?;
                match pax_value(&data, "path").or_else(|| pax_value(&data, "linkpath")) {
                    Some(v) => format!("is a PAX extended header whose path record renames the next member to {v:?}"),
                    None => "is a PAX extended header (pax records are not allowed in an OVA)".to_string(),
                }
            } else if kind.is_pax_global_extensions() {
                "is a PAX global header (pax records are not allowed in an OVA)".to_string()
            } else if kind.is_gnu_longname() || kind.is_gnu_longlink() {
                let data = read_capped(&mut e)?;
                let v = String::from_utf8_lossy(data.split(|&b| b == 0).next().unwrap_or_default()).into_owned();
                format!("is a GNU long-name block renaming the next member to {v:?} (member names must fit the 100-byte header field)")
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = e.header().link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default();
                format!("is a link (to {target:?}), not a regular file")
            } else {
                format!("is not a regular file (type {:?})", kind.as_byte() as char)
            };
            return Err(anyhow!("{what} {why}"));
        }
        check_name(&name).map_err(|why| anyhow!("{what}: {why}"))?;
        let size = e.header().size().with_context(|| format!("{what}: bad size field"))?;
        let offset = e.raw_file_position();
        if offset.checked_add(size).is_none_or(|end| end > total) {
            return Err(anyhow!("{what} needs {size} bytes at offset {offset} but the file has {total}: truncated"));
        }
        if let Some(first) = seen.insert(name.clone(), at) {
            return Err(anyhow!("{what}: duplicate name, the same name is already the member whose header is at offset {first}"));
        }
        out.push(Member { name, offset, size });
    }
    Ok(out)
}

/// A plain relative path: not empty, not absolute, no `..`, `.` or empty component.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty name".into());
    }
    if name.starts_with('/') {
        return Err("absolute path (an OVA member name must be relative)".into());
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.contains(&"..") {
        return Err("path with a `..` component, which leaves the extraction directory".into());
    }
    if parts.iter().any(|c| c.is_empty() || *c == ".") {
        return Err("not a plain relative path (empty or `.` component)".into());
    }
    if name.contains('\\') || name.chars().any(char::is_control) {
        return Err("backslash or control character in the name".into());
    }
    Ok(())
}

fn read_capped(e: &mut impl Read) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    e.take(MAX_EXTENSION_READ).read_to_end(&mut data)?;
    Ok(data)
}

/// The value of `key` in PAX records (`<len> key=value\n`).
fn pax_value(data: &[u8], key: &str) -> Option<String> {
    String::from_utf8_lossy(data).lines().find_map(|rec| rec.split_once(' ').and_then(|(_, kv)| kv.strip_prefix(key)).and_then(|r| r.strip_prefix('=')).map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["v.ovf", "v-disk1.vmdk", "sub/x.iso"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [("", "empty"), ("/etc/x", "absolute"), ("../x", ".."), ("a/../b", ".."), ("a//b", "plain"), ("./a", "plain"), ("a\\b", "backslash")] {
            assert!(check_name(bad).unwrap_err().contains(why), "{bad}");
        }
        assert_eq!(pax_value(b"20 path=../evil.vmdk\n12 uid=0\n", "path").as_deref(), Some("../evil.vmdk"));
        assert_eq!(pax_value(b"12 uid=0\n", "path"), None);
    }
}
