//! The manifest (`NAME.mf`): one `SHA256(name)= hex` line for every member but itself, each digest
//! matching the member's content, and no line for a name the archive does not hold.
use anyhow::{anyhow, bail, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;

use super::Member;

/// name -> (line number, lower-case hex digest)
pub fn parse(text: &str) -> Result<BTreeMap<String, (usize, String)>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = || anyhow!("line {}: expected `SHA256(name)= <64 hex digits>`, found {line:?}", i + 1);
        let rest = line.strip_prefix("SHA256(").ok_or_else(err)?;
        let (name, hexv) = rest.split_once(")= ").ok_or_else(err)?;
        if hexv.len() != 64 || !hexv.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(err());
        }
        if let Some((first, _)) = out.insert(name.to_string(), (i + 1, hexv.to_ascii_lowercase())) {
            bail!("line {}: {name} listed twice (first on line {first})", i + 1);
        }
    }
    Ok(out)
}

pub fn sha256_of(file: &File, m: &Member) -> Result<String> {
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

/// Checks the manifest `text` (member `mf`) against every other member of the archive.
pub fn check(file: &File, mf: &Member, text: &str, members: &[Member]) -> Result<()> {
    let entries = parse(text).map_err(|e| anyhow!("{}: {e}", mf.name))?;
    for m in members.iter().filter(|m| m.name != mf.name) {
        let (line, want) = entries.get(&m.name).ok_or_else(|| anyhow!("{}: no SHA256 line for member {}", mf.name, m.name))?;
        let got = sha256_of(file, m)?;
        if &got != want {
            bail!("{}: line {line}: SHA-256 mismatch for {}: expected {got} (the member's content), found {want}", mf.name, m.name);
        }
    }
    for (name, (line, _)) in &entries {
        if !members.iter().any(|m| &m.name == name && m.name != mf.name) {
            bail!("{}: line {line}: lists {name}, which is not a member of the archive", mf.name);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_parsing() {
        let h = "a".repeat(64);
        let m = parse(&format!("SHA256(x.ovf)= {h}\n")).unwrap();
        assert_eq!(m["x.ovf"], (1, h.clone()));
        assert!(parse("SHA1(x.ovf)= abcd\n").is_err());
        assert!(parse(&format!("SHA256(x.ovf)= {h}\nSHA256(x.ovf)= {h}\n")).unwrap_err().to_string().contains("first on line 1"));
    }
}
