//! Member order as DSP0243 (OVF 1.x, "OVF package" as a TAR file) requires and mdxconf writes: the
//! .ovf descriptor first, the manifest `NAME.mf` second, then the files in References order; no
//! member the descriptor does not reference. (The spec also allows the manifest at the end of the
//! archive; mdxconf writes it second and holds OVAs to that.)
use anyhow::{bail, Result};

use super::Member;

/// The descriptor and manifest members (the first two).
pub fn head(members: &[Member]) -> Result<(&Member, &Member)> {
    let [ovf, mf, ..] = members else {
        bail!("expected at least the .ovf and .mf members, found {}", members.len());
    };
    if !ovf.name.ends_with(".ovf") || ovf.name.contains('/') {
        bail!("first member is {:?}; the OVF descriptor (a top-level .ovf) must come first", ovf.name);
    }
    let expected_mf = format!("{}.mf", ovf.name.trim_end_matches(".ovf"));
    if mf.name != expected_mf {
        bail!("second member is {:?}; expected the manifest {expected_mf:?}", mf.name);
    }
    if let Some(other) = members[2..].iter().find(|m| m.name.ends_with(".ovf")) {
        bail!("member {:?} is a second OVF descriptor; an OVA holds one", other.name);
    }
    Ok((ovf, mf))
}

/// The members after the manifest are exactly the References files, in their order.
pub fn rest(members: &[Member], files: &[String]) -> Result<()> {
    let rest: Vec<&str> = members[2..].iter().map(|m| m.name.as_str()).collect();
    if let Some(stray) = rest.iter().find(|n| !files.iter().any(|f| f == *n)) {
        bail!("member {stray:?} is not referenced by the descriptor (no References/File with that ovf:href)");
    }
    let want: Vec<&str> = files.iter().map(String::as_str).collect();
    if rest != want {
        bail!("members after the manifest are {rest:?}; References order requires {want:?}");
    }
    Ok(())
}
