//! Each disk of the descriptor read with mdxconf's VMDK reader (the one the writer's tests use): the
//! streamOptimized structure, and the capacity and populated size the OVF states for it.
use anyhow::{anyhow, Result};
use std::collections::HashMap;
use std::fs::File;

use super::ovf::DiskRef;
use super::Member;
use crate::vmdk::reader::{self, Region, VmdkInfo};
use crate::vmdk::GRAIN_BYTES;

pub fn check(file: &File, disks: &[DiskRef], members: &[Member], inflate: bool) -> Result<Vec<(String, VmdkInfo)>> {
    let by_name: HashMap<&str, &Member> = members.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut out = Vec::new();
    for d in disks {
        let m = by_name.get(d.href.as_str()).ok_or_else(|| anyhow!("{}: disk file {} is not a member", d.at, d.href))?;
        let info = reader::check(&Region { file, offset: m.offset, len: m.size }, inflate).map_err(|e| anyhow!("{}: {e}", d.href))?;
        if info.capacity_bytes != d.capacity {
            return Err(anyhow!("{}: ovf:capacity of {}: expected {} bytes (the VMDK header's capacity), found {} bytes", d.at, d.href, info.capacity_bytes, d.capacity));
        }
        let populated = info.grains * GRAIN_BYTES;
        if let Some(p) = d.populated_size.filter(|&p| p != populated) {
            return Err(anyhow!("{}: ovf:populatedSize of {}: expected {populated} bytes ({} grains of 64 KiB), found {p}", d.at, d.href, info.grains));
        }
        out.push((d.href.clone(), info));
    }
    Ok(out)
}
