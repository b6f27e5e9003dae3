//! `mdxconf ova verify`: re-checks an OVA the way an importer would, with precise messages.
//! Order (.ovf, .mf, then References order), manifest coverage and SHA-256 values, OVF well-formedness
//! and references (file sizes, disk capacity, format), and each streamOptimized VMDK's structure.
use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::ovf::STREAM_OPTIMIZED_FORMAT;
use crate::vmdk::reader::{self, Region};

const OVF_NS: &str = "http://schemas.dmtf.org/ovf/envelope/1";

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub members: Vec<Member>,
    pub disks: Vec<(String, reader::VmdkInfo)>,
}

/// Lists the regular-file members of a tar with their data offsets.
pub fn list_members(path: &Path) -> Result<Vec<Member>> {
    let f = File::open(path).with_context(|| format!("open {}", path.display()))?;
    let total = f.metadata()?.len();
    let mut ar = tar::Archive::new(BufReader::new(f));
    let mut out = Vec::new();
    for e in ar.entries_with_seek().with_context(|| format!("{}: not a tar archive", path.display()))? {
        let e = e.with_context(|| format!("{}: corrupt tar header", path.display()))?;
        let name = e.path()?.display().to_string();
        if e.header().entry_type() != tar::EntryType::Regular {
            bail!("{}: member {name:?} is not a regular file", path.display());
        }
        let size = e.header().size()?;
        let offset = e.raw_file_position();
        if offset + size > total {
            bail!("{}: member {name:?} needs {size} bytes at offset {offset} but the file has {total}: truncated", path.display());
        }
        out.push(Member { name, offset, size });
    }
    Ok(out)
}

fn sha256_of(file: &File, m: &Member) -> Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < m.size {
        let n = (m.size - done).min(buf.len() as u64) as usize;
        file.read_exact_at(&mut buf[..n], m.offset + done)?;
        h.update(&buf[..n]);
        done += n as u64;
    }
    Ok(hex::encode(h.finalize()))
}

fn parse_manifest(text: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = || anyhow!("manifest line {}: expected `SHA256(name)= hex`, got {line:?}", i + 1);
        let rest = line.strip_prefix("SHA256(").ok_or_else(err)?;
        let (name, hexv) = rest.split_once(")= ").ok_or_else(err)?;
        if hexv.len() != 64 || !hexv.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        if out.insert(name.to_string(), hexv.to_ascii_lowercase()).is_some() {
            bail!("manifest line {}: {name} listed twice", i + 1);
        }
    }
    Ok(out)
}

fn capacity_bytes(value: &str, units: Option<&str>) -> Result<u64> {
    let v: u64 = value.parse().map_err(|_| anyhow!("ovf:capacity {value:?} is not a number"))?;
    let mult = match units.map(|u| u.replace(' ', "")) {
        None => 1,
        Some(u) if u == "byte" => 1,
        Some(u) => {
            let exp = u.strip_prefix("byte*2^").and_then(|e| e.parse::<u32>().ok()).ok_or_else(|| anyhow!("unsupported capacityAllocationUnits {u:?}"))?;
            1u64.checked_shl(exp).ok_or_else(|| anyhow!("capacityAllocationUnits exponent too large"))?
        }
    };
    v.checked_mul(mult).ok_or_else(|| anyhow!("ovf:capacity overflows"))
}

pub fn verify(path: &Path, inflate: bool) -> Result<VerifyReport> {
    let p = path.display();
    let members = list_members(path)?;
    let file = File::open(path)?;
    if members.len() < 2 {
        bail!("{p}: expected at least the .ovf and .mf members, found {}", members.len());
    }
    let ovf = &members[0];
    if !ovf.name.ends_with(".ovf") {
        bail!("{p}: first member is {:?}; the OVF descriptor must come first", ovf.name);
    }
    let mf = &members[1];
    let expected_mf = format!("{}.mf", ovf.name.trim_end_matches(".ovf"));
    if mf.name != expected_mf {
        bail!("{p}: second member is {:?}; expected the manifest {expected_mf:?}", mf.name);
    }
    let read_text = |m: &Member| -> Result<String> {
        let mut b = vec![0u8; m.size as usize];
        file.read_exact_at(&mut b, m.offset)?;
        String::from_utf8(b).map_err(|_| anyhow!("{p}: member {} is not UTF-8", m.name))
    };

    // OVF: well-formed, references resolvable.
    let ovf_text = read_text(ovf)?;
    let doc = roxmltree::Document::parse(&ovf_text).map_err(|e| anyhow!("{p}: {}: XML not well-formed: {e}", ovf.name))?;
    let root = doc.root_element();
    if !root.has_tag_name((OVF_NS, "Envelope")) {
        bail!("{p}: {}: root element is not ovf:Envelope (namespace {OVF_NS})", ovf.name);
    }
    let by_name: HashMap<&str, &Member> = members.iter().map(|m| (m.name.as_str(), m)).collect();
    if by_name.len() != members.len() {
        bail!("{p}: duplicate member names in the archive");
    }
    let refs = root.children().find(|n| n.has_tag_name((OVF_NS, "References"))).ok_or_else(|| anyhow!("{p}: {}: no References element", ovf.name))?;
    let mut files: Vec<(String, String)> = Vec::new(); // (id, href)
    for f in refs.children().filter(|n| n.has_tag_name((OVF_NS, "File"))) {
        let attr = |a: &str| f.attribute((OVF_NS, a));
        let pos = doc.text_pos_at(f.range().start);
        let id = attr("id").ok_or_else(|| anyhow!("{p}: {}:{}:{}: File without ovf:id", ovf.name, pos.row, pos.col))?;
        let href = attr("href").ok_or_else(|| anyhow!("{p}: {}:{}:{}: File without ovf:href", ovf.name, pos.row, pos.col))?;
        let m = by_name.get(href).ok_or_else(|| anyhow!("{p}: {}:{}:{}: File {href:?} is not in the archive", ovf.name, pos.row, pos.col))?;
        if let Some(size) = attr("size") {
            let size: u64 = size.parse().map_err(|_| anyhow!("{p}: {}:{}:{}: bad ovf:size {size:?}", ovf.name, pos.row, pos.col))?;
            if size != m.size {
                bail!("{p}: {}:{}:{}: ovf:size of {href} is {size} but the member has {} bytes", ovf.name, pos.row, pos.col, m.size);
            }
        }
        files.push((id.to_string(), href.to_string()));
    }
    // Member order after .ovf and .mf must be References order.
    let rest: Vec<&str> = members[2..].iter().map(|m| m.name.as_str()).collect();
    let want: Vec<&str> = files.iter().map(|(_, h)| h.as_str()).collect();
    if rest != want {
        bail!("{p}: members after the manifest are {rest:?}; References order requires {want:?}");
    }

    // Manifest: covers the OVF and every referenced file, and every hash matches.
    let mf_entries = parse_manifest(&read_text(mf)?).with_context(|| format!("{p}: {}", mf.name))?;
    let mut covered: Vec<&Member> = vec![ovf];
    covered.extend(members[2..].iter());
    for m in &covered {
        let want = mf_entries.get(&m.name).ok_or_else(|| anyhow!("{p}: manifest has no entry for {}", m.name))?;
        let got = sha256_of(&file, m)?;
        if &got != want {
            bail!("{p}: SHA-256 mismatch for {}: manifest says {want}, content is {got}", m.name);
        }
    }
    for name in mf_entries.keys() {
        if !covered.iter().any(|m| &m.name == name) {
            bail!("{p}: manifest lists {name}, which is not in the archive");
        }
    }

    // Disks: each DiskSection Disk's file must be a valid streamOptimized VMDK of the stated capacity.
    let mut disks = Vec::new();
    for d in root.descendants().filter(|n| n.has_tag_name((OVF_NS, "Disk"))) {
        let pos = doc.text_pos_at(d.range().start);
        let at = format!("{}:{}:{}", ovf.name, pos.row, pos.col);
        let Some(file_ref) = d.attribute((OVF_NS, "fileRef")) else { continue };
        let href = files.iter().find(|(id, _)| id == file_ref).map(|(_, h)| h.clone()).ok_or_else(|| anyhow!("{p}: {at}: Disk fileRef {file_ref:?} matches no File"))?;
        let format = d.attribute((OVF_NS, "format")).unwrap_or("");
        if format != STREAM_OPTIMIZED_FORMAT {
            bail!("{p}: {at}: disk format {format:?} is not {STREAM_OPTIMIZED_FORMAT}");
        }
        let cap = d.attribute((OVF_NS, "capacity")).ok_or_else(|| anyhow!("{p}: {at}: Disk without ovf:capacity"))?;
        let cap = capacity_bytes(cap, d.attribute((OVF_NS, "capacityAllocationUnits"))).with_context(|| format!("{p}: {at}"))?;
        let m = by_name[href.as_str()];
        let info = reader::check(&Region { file: &file, offset: m.offset, len: m.size }, inflate).map_err(|e| anyhow!("{p}: {href}: {e}"))?;
        if info.capacity_bytes != cap {
            bail!("{p}: {at}: ovf:capacity is {cap} bytes but {href} holds {} bytes", info.capacity_bytes);
        }
        disks.push((href, info));
    }
    if disks.is_empty() {
        bail!("{p}: {}: no Disk in DiskSection refers to a file", ovf.name);
    }
    // Hardware items must point at disks that exist (ovf:/disk/<diskId>).
    let disk_ids: Vec<&str> = root.descendants().filter(|n| n.has_tag_name((OVF_NS, "Disk"))).filter_map(|d| d.attribute((OVF_NS, "diskId"))).collect();
    for hr in root.descendants().filter(|n| n.tag_name().name() == "HostResource") {
        let text = hr.text().unwrap_or("").trim();
        if let Some(id) = text.strip_prefix("ovf:/disk/") {
            if !disk_ids.contains(&id) {
                let pos = doc.text_pos_at(hr.range().start);
                bail!("{p}: {}:{}:{}: HostResource {text:?} names no Disk in DiskSection", ovf.name, pos.row, pos.col);
            }
        }
    }
    Ok(VerifyReport { members, disks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parsing() {
        let h = "a".repeat(64);
        let m = parse_manifest(&format!("SHA256(x.ovf)= {h}\n")).unwrap();
        assert_eq!(m["x.ovf"], h);
        assert!(parse_manifest("SHA1(x.ovf)= abcd\n").is_err());
        assert!(parse_manifest(&format!("SHA256(x.ovf)= {h}\nSHA256(x.ovf)= {h}\n")).is_err());
    }

    #[test]
    fn capacity_units() {
        assert_eq!(capacity_bytes("10", None).unwrap(), 10);
        assert_eq!(capacity_bytes("10", Some("byte * 2^30")).unwrap(), 10 << 30);
        assert!(capacity_bytes("10", Some("kilobyte")).is_err());
    }
}
