//! Mount state and the fstab, read in one exec: is a path mounted, is it a directory, and the fstab's
//! state and content. Also fstab's field escaping and its record edit (through ops/edit.rs).
use crate::host::file::{gather_script, parse_gather, FileInfo, GatherOpts, Want};
use crate::ops::edit::set_record_line;
use crate::util::sh_quote;
use anyhow::Result;

pub struct MountState {
    pub mounted: bool,
    pub is_dir: bool,
    pub fstab: FileInfo,
}

pub fn mount_script(path: &str, fstab: &str) -> String {
    let mut s = format!(
        "if m=$(findmnt -rn -o SOURCE --mountpoint {p} 2>/dev/null) || m=$(awk -v p={p} '$2==p{{print $1; f=1}} END{{exit !f}}' /proc/mounts 2>/dev/null); then echo \"mounted=$m\"; fi\n[ -d {p} ] && echo isdir=1\n",
        p = sh_quote(path)
    );
    s += &gather_script(fstab, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content });
    s
}

pub fn parse_mount(out: &[u8]) -> Result<MountState> {
    let fstab = parse_gather(out)?;
    Ok(MountState { mounted: fstab.extra.contains_key("mounted"), is_dir: fstab.extra.contains_key("isdir"), fstab })
}

/// fstab's octal escapes for blanks and backslashes in a field.
pub fn esc(s: &str) -> String {
    s.replace('\\', "\\134").replace(' ', "\\040").replace('\t', "\\011").replace('\n', "\\012")
}

pub fn unesc(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

/// New fstab text with the entry for mount point `path` replaced/appended (Some) or removed (None).
/// Entries without dump/passno compare equal to explicit zeros.
pub fn set_fstab_entry(text: &str, path: &str, entry: Option<&str>) -> String {
    let ours = |t: &str| {
        let f: Vec<&str> = t.split_whitespace().collect();
        !t.starts_with('#') && f.len() >= 2 && unesc(f[1]) == path
    };
    let same = |t: &str| {
        let f: Vec<&str> = t.split_whitespace().collect();
        let cur: Vec<&str> = f.iter().copied().chain(["0", "0"].into_iter().skip(f.len().saturating_sub(4))).take(6).collect();
        entry.is_some_and(|e| cur == e.split_whitespace().collect::<Vec<_>>())
    };
    set_record_line(text, ours, entry, same)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fstab_edits() {
        let t = "UUID=1 / ext4 defaults 0 1\n# /data old\nnfs:/x /data nfs ro 0 0\n";
        let e = "nfs:/y /data nfs rw 0 0";
        assert_eq!(set_fstab_entry(t, "/data", Some(e)), "UUID=1 / ext4 defaults 0 1\n# /data old\nnfs:/y /data nfs rw 0 0\n");
        assert_eq!(set_fstab_entry(&set_fstab_entry(t, "/data", Some(e)), "/data", Some(e)), set_fstab_entry(t, "/data", Some(e)));
        assert_eq!(set_fstab_entry(t, "/data", None), "UUID=1 / ext4 defaults 0 1\n# /data old\n");
        assert_eq!(set_fstab_entry("", "/a b", Some("s /a\\040b nfs defaults 0 0")), "s /a\\040b nfs defaults 0 0\n");
        assert_eq!(set_fstab_entry("s /m nfs defaults\n", "/m", Some("s /m nfs defaults 0 0")), "s /m nfs defaults\n");
        assert_eq!(unesc(&esc("a b\\c\td")), "a b\\c\td");
    }
}
