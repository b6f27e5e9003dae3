//! The structural check of the OVF descriptor that always runs (the schema check needs xmllint):
//! the envelope namespace, References/File entries naming tar members of the stated sizes, DiskSection
//! disks referring to those files in the streamOptimized format, a VirtualSystem, and hardware items
//! pointing at disks that exist.
use anyhow::{anyhow, bail, Result};
use std::collections::{HashMap, HashSet};

use super::Member;
use crate::descriptor::allocation_bytes;
use crate::ovf::STREAM_OPTIMIZED_FORMAT;

pub const OVF_NS: &str = "http://schemas.dmtf.org/ovf/envelope/1";

/// A DiskSection Disk backed by a file of the package.
#[derive(Debug, Clone)]
pub struct DiskRef {
    /// `NAME.ovf:row:col` of the Disk element
    pub at: String,
    pub href: String,
    pub capacity: u64,
    pub populated_size: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Descriptor {
    /// ovf:href of every References/File, in document order
    pub files: Vec<String>,
    pub disks: Vec<DiskRef>,
}

/// Checks the descriptor `text` (the member `ovf_name`) against the archive's `members`.
pub fn check(text: &str, ovf_name: &str, members: &[Member]) -> Result<Descriptor> {
    let doc = roxmltree::Document::parse(text).map_err(|e| anyhow!("{ovf_name}: XML not well-formed: {e}"))?;
    let at = |n: roxmltree::Node| {
        let pos = doc.text_pos_at(n.range().start);
        format!("{ovf_name}:{}:{}", pos.row, pos.col)
    };
    let root = doc.root_element();
    if !root.has_tag_name((OVF_NS, "Envelope")) {
        bail!("{}: root element: expected Envelope in namespace {OVF_NS}, found {:?} in {:?}", at(root), root.tag_name().name(), root.tag_name().namespace().unwrap_or(""));
    }
    let section = |name: &str| -> Result<roxmltree::Node> {
        let mut found = root.children().filter(|n| n.has_tag_name((OVF_NS, name)));
        let first = found.next().ok_or_else(|| anyhow!("{ovf_name}: Envelope has no {name}"))?;
        if let Some(second) = found.next() {
            bail!("{}: a second {name} in the Envelope", at(second));
        }
        Ok(first)
    };
    let by_name: HashMap<&str, &Member> = members.iter().map(|m| (m.name.as_str(), m)).collect();

    let refs = section("References")?;
    let mut files: Vec<String> = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new(); // id -> href
    for f in refs.children().filter(|n| n.has_tag_name((OVF_NS, "File"))) {
        let attr = |a: &str| f.attribute((OVF_NS, a)).ok_or_else(|| anyhow!("{}: File without ovf:{a}", at(f)));
        let (id, href) = (attr("id")?, attr("href")?);
        let m = by_name.get(href).ok_or_else(|| anyhow!("{}: File {href:?} is not a member of the archive", at(f)))?;
        if href == ovf_name || href.ends_with(".mf") || href.ends_with(".cert") {
            bail!("{}: File {href:?}: References must not list the descriptor, manifest or certificate", at(f));
        }
        if let Some(size) = f.attribute((OVF_NS, "size")) {
            let size: u64 = size.parse().map_err(|_| anyhow!("{}: ovf:size of {href}: expected a number, found {size:?}", at(f)))?;
            if size != m.size {
                bail!("{}: ovf:size of {href}: expected {} (the member's size), found {size}", at(f), m.size);
            }
        }
        if ids.insert(id.to_string(), href.to_string()).is_some() {
            bail!("{}: File ovf:id {id:?} used twice", at(f));
        }
        if files.iter().any(|h| h == href) {
            bail!("{}: File {href:?} listed twice in References", at(f));
        }
        files.push(href.to_string());
    }

    let disk_section = section("DiskSection")?;
    let mut disks = Vec::new();
    let mut disk_ids = HashSet::new();
    for d in disk_section.children().filter(|n| n.has_tag_name((OVF_NS, "Disk"))) {
        let at = at(d);
        let id = d.attribute((OVF_NS, "diskId")).ok_or_else(|| anyhow!("{at}: Disk without ovf:diskId"))?;
        if !disk_ids.insert(id) {
            bail!("{at}: Disk ovf:diskId {id:?} used twice");
        }
        let Some(file_ref) = d.attribute((OVF_NS, "fileRef")) else { continue };
        let href = ids.get(file_ref).cloned().ok_or_else(|| anyhow!("{at}: Disk ovf:fileRef {file_ref:?} matches no File in References"))?;
        let format = d.attribute((OVF_NS, "format")).unwrap_or("");
        if format != STREAM_OPTIMIZED_FORMAT {
            bail!("{at}: ovf:format of disk {id}: expected {STREAM_OPTIMIZED_FORMAT}, found {format:?}");
        }
        let cap = d.attribute((OVF_NS, "capacity")).ok_or_else(|| anyhow!("{at}: Disk without ovf:capacity"))?;
        let capacity = allocation_bytes(cap, d.attribute((OVF_NS, "capacityAllocationUnits"))).map_err(|e| anyhow!("{at}: ovf:capacity: {e}"))?;
        let populated_size = match d.attribute((OVF_NS, "populatedSize")) {
            Some(v) => Some(v.parse::<u64>().map_err(|_| anyhow!("{at}: ovf:populatedSize: expected a number, found {v:?}"))?),
            None => None,
        };
        disks.push(DiskRef { at, href, capacity, populated_size });
    }
    if disks.is_empty() {
        bail!("{}: no Disk in DiskSection refers to a file", at(disk_section));
    }

    let systems: Vec<_> = root.children().filter(|n| n.has_tag_name((OVF_NS, "VirtualSystem")) || n.has_tag_name((OVF_NS, "VirtualSystemCollection"))).collect();
    match systems.as_slice() {
        [] => bail!("{ovf_name}: Envelope has no VirtualSystem (or VirtualSystemCollection)"),
        [_] => {}
        [_, second, ..] => bail!("{}: a second VirtualSystem in the Envelope (OVF allows one content element)", at(*second)),
    }
    // Hardware items must point at disks that exist (ovf:/disk/<diskId>).
    for hr in root.descendants().filter(|n| n.tag_name().name() == "HostResource") {
        let text = hr.text().unwrap_or("").trim();
        if let Some(id) = text.strip_prefix("ovf:/disk/") {
            if !disk_ids.contains(id) {
                bail!("{}: HostResource {text:?} names no Disk in DiskSection", at(hr));
            }
        }
    }
    Ok(Descriptor { files, disks })
}
