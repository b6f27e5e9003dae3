//! `mdxconf ova verify`: re-checks an OVA the way an importer would, with precise messages, in the
//! order an importer reads it: the tar layer ([`tar`]: safe names, regular files only, no PAX or GNU
//! renames, no duplicates), member order and unreferenced members ([`layout`]), the descriptor's
//! structure ([`ovf`], always) and DMTF schema ([`schema`], with xmllint), the manifest's SHA-256
//! lines ([`manifest`]), and each streamOptimized VMDK's header fields and structure ([`vmdk`]).
use anyhow::{anyhow, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::vmdk::reader::VmdkInfo;

pub mod layout;
pub mod manifest;
pub mod ovf;
pub mod schema;
pub mod tar;
pub mod vmdk;

pub use schema::{SchemaCheck, SchemaMode};
pub use tar::list_members;

/// The descriptor and the manifest are read whole; larger ones are refused, not allocated.
pub const MAX_TEXT_MEMBER: u64 = 8 << 20;

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub members: Vec<Member>,
    pub disks: Vec<(String, VmdkInfo)>,
    /// Whether the DMTF schema check ran (and passed: a failure is an error).
    pub schema: SchemaCheck,
}

#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Inflate every grain (else structure only).
    pub inflate: bool,
    pub schema: SchemaMode,
}

/// `verify_with` with the bundled schema when xmllint is available (the report says whether it ran).
pub fn verify(path: &Path, inflate: bool) -> Result<VerifyReport> {
    verify_with(path, &VerifyOptions { inflate, schema: SchemaMode::Auto })
}

pub fn verify_with(path: &Path, opts: &VerifyOptions) -> Result<VerifyReport> {
    let p = path.display();
    let members = list_members(path)?;
    let file = File::open(path)?;
    let (ovf_m, mf_m) = layout::head(&members).map_err(|e| anyhow!("{p}: {e}"))?;
    let ovf_text = read_text(&file, ovf_m).map_err(|e| anyhow!("{p}: {e}"))?;
    let desc = ovf::check(&ovf_text, &ovf_m.name, &members).map_err(|e| anyhow!("{p}: {e}"))?;
    layout::rest(&members, &desc.files).map_err(|e| anyhow!("{p}: {e}"))?;
    let mf_text = read_text(&file, mf_m).map_err(|e| anyhow!("{p}: {e}"))?;
    manifest::check(&file, mf_m, &mf_text, &members).map_err(|e| anyhow!("{p}: {e}"))?;
    let schema = schema::check(&ovf_text, &ovf_m.name, &opts.schema).map_err(|e| anyhow!("{p}: {e}"))?;
    let disks = vmdk::check(&file, &desc.disks, &members, opts.inflate).map_err(|e| anyhow!("{p}: {e}"))?;
    Ok(VerifyReport { members, disks, schema })
}

fn read_text(file: &File, m: &Member) -> Result<String> {
    if m.size > MAX_TEXT_MEMBER {
        return Err(anyhow!("member {} is {} bytes; more than {MAX_TEXT_MEMBER} is not a plausible descriptor or manifest", m.name, m.size));
    }
    let mut b = vec![0u8; m.size as usize];
    file.read_exact_at(&mut b, m.offset)?;
    String::from_utf8(b).map_err(|_| anyhow!("member {} is not UTF-8", m.name))
}
