//! owner/group/mode: what a task asks for, what must change on an existing path, and the mode a new file gets.
use crate::args::Args;
use crate::host::file::{FileInfo, Kind};
use crate::result::Diff;
use crate::util::sh_quote;
use anyhow::{anyhow, bail, Result};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum ModeSpec {
    Octal(u32),
    Symbolic(String),
    Preserve,
}

impl ModeSpec {
    /// Ansible's meaning: an int is the mode itself (YAML `0644` is already 420), a string of octal digits
    /// is octal ("0644", "644"), otherwise chmod-style symbolic ("u+rwx,g-w") or "preserve".
    pub fn parse(module: &str, v: &Value) -> Result<ModeSpec> {
        match v {
            Value::Number(n) => {
                let m = n.as_u64().ok_or_else(|| anyhow!("{module}: mode must be a non-negative integer"))?;
                if m > 0o7777 {
                    bail!("{module}: mode {m} is out of range (did you mean the octal string '0{m}'?)");
                }
                Ok(ModeSpec::Octal(m as u32))
            }
            Value::String(s) => {
                let s = s.trim();
                if s == "preserve" {
                    return Ok(ModeSpec::Preserve);
                }
                let digits = s.strip_prefix("0o").unwrap_or(s);
                if !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                    let m = u32::from_str_radix(digits, 8).map_err(|_| anyhow!("{module}: bad mode '{s}'"))?;
                    if m > 0o7777 {
                        bail!("{module}: mode '{s}' is out of range");
                    }
                    return Ok(ModeSpec::Octal(m));
                }
                apply_symbolic(s, 0, false).map_err(|e| anyhow!("{module}: bad mode '{s}': {e}"))?;
                Ok(ModeSpec::Symbolic(s.to_string()))
            }
            v => bail!("{module}: mode must be an octal number or string, got {v}"),
        }
    }

    /// The resulting permission bits given the current mode (None for a new file) and the default for new files.
    pub fn resolve(&self, current: Option<u32>, is_dir: bool, default_new: u32) -> u32 {
        match self {
            ModeSpec::Octal(m) => *m,
            ModeSpec::Preserve => current.unwrap_or(default_new),
            ModeSpec::Symbolic(s) => apply_symbolic(s, current.unwrap_or(default_new), is_dir).unwrap_or(default_new),
        }
    }
}

/// chmod(1) symbolic modes: `[ugoa]*([-+=][rwxXst]*)+` clauses separated by commas.
pub fn apply_symbolic(spec: &str, mut mode: u32, is_dir: bool) -> Result<u32, String> {
    for clause in spec.split(',') {
        let op_at = clause.find(['+', '-', '=']).ok_or_else(|| format!("clause '{clause}' has no operator"))?;
        let (who, mut rest) = clause.split_at(op_at);
        let mut who_mask = 0u32;
        for c in who.chars() {
            who_mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return Err(format!("unknown 'who' letter '{c}'")),
            };
        }
        if who_mask == 0 {
            who_mask = 0o7777;
        }
        while let Some(op) = rest.chars().next() {
            rest = &rest[1..];
            let end = rest.find(['+', '-', '=']).unwrap_or(rest.len());
            let perms = &rest[..end];
            rest = &rest[end..];
            let mut bits = 0u32;
            for p in perms.chars() {
                bits |= match p {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' => {
                        if is_dir || mode & 0o111 != 0 {
                            0o111
                        } else {
                            0
                        }
                    }
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return Err(format!("unknown permission letter '{p}'")),
                };
            }
            let val = bits & who_mask;
            match op {
                '+' => mode |= val,
                '-' => mode &= !val,
                '=' => mode = (mode & !(who_mask & 0o777)) | val,
                _ => return Err(format!("unknown operator '{op}'")),
            }
        }
    }
    Ok(mode & 0o7777)
}

/// owner/group/mode requested by a task.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<ModeSpec>,
}

impl Attrs {
    pub fn from_args(a: &Args) -> Result<Attrs> {
        Ok(Attrs {
            owner: a.str("owner")?.filter(|s| !s.is_empty()),
            group: a.str("group")?.filter(|s| !s.is_empty()),
            mode: a.raw("mode").map(|v| ModeSpec::parse(a.module, v)).transpose()?,
        })
    }
    pub fn is_empty(&self) -> bool {
        self.owner.is_none() && self.group.is_none() && self.mode.is_none()
    }
}

/// What must change on an existing path to satisfy `attrs`.
#[derive(Debug, Clone, Default)]
pub struct AttrPlan {
    pub chown: Option<String>,
    pub chgrp: Option<String>,
    pub chmod: Option<u32>,
    pub before: String,
    pub after: String,
}

impl AttrPlan {
    pub fn changed(&self) -> bool {
        self.chown.is_some() || self.chgrp.is_some() || self.chmod.is_some()
    }
    pub fn diff(&self, path: &str) -> Diff {
        Diff { path: format!("{path} (attributes)"), before: self.before.clone(), after: self.after.clone() }
    }
    /// Commands applying the plan to the shell variable/path `target` (already quoted).
    pub fn script(&self, target: &str) -> String {
        let mut s = String::new();
        if let Some(o) = &self.chown {
            s += &format!("chown -h -- {} {target}\n", sh_quote(o));
        }
        if let Some(g) = &self.chgrp {
            s += &format!("chgrp -h -- {} {target}\n", sh_quote(g));
        }
        if let Some(m) = self.chmod {
            s += &format!("chmod -- {:04o} {target}\n", m);
        }
        s
    }
}

fn id_matches(want: &str, name: &str, id: u32) -> bool {
    want == name || want.parse::<u32>().ok() == Some(id)
}

pub fn plan_attrs(info: &FileInfo, attrs: &Attrs) -> AttrPlan {
    let mut p = AttrPlan::default();
    if let Some(o) = &attrs.owner {
        if !id_matches(o, &info.owner, info.uid) {
            p.chown = Some(o.clone());
            p.before += &format!("owner: {}\n", info.owner);
            p.after += &format!("owner: {o}\n");
        }
    }
    if let Some(g) = &attrs.group {
        if !id_matches(g, &info.group, info.gid) {
            p.chgrp = Some(g.clone());
            p.before += &format!("group: {}\n", info.group);
            p.after += &format!("group: {g}\n");
        }
    }
    if let Some(m) = &attrs.mode {
        // symlinks have no mode of their own on Linux
        if info.kind != Kind::Link {
            let want = m.resolve(Some(info.mode), info.kind == Kind::Directory, info.mode);
            if want != info.mode {
                p.chmod = Some(want);
                p.before += &format!("mode: {:04o}\n", info.mode);
                p.after += &format!("mode: {:04o}\n", want);
            }
        }
    }
    p
}

/// The mode a written file ends up with.
pub fn final_mode(info: &FileInfo, attrs: &Attrs) -> u32 {
    let current = (info.kind == Kind::File).then_some(info.mode);
    match &attrs.mode {
        Some(m) => m.resolve(current, false, info.default_mode(false)),
        None => current.unwrap_or(info.default_mode(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn modes() {
        assert_eq!(ModeSpec::parse("t", &Value::from(420)).unwrap(), ModeSpec::Octal(0o644));
        assert_eq!(ModeSpec::parse("t", &Value::from("0644")).unwrap(), ModeSpec::Octal(0o644));
        assert_eq!(ModeSpec::parse("t", &Value::from("755")).unwrap(), ModeSpec::Octal(0o755));
        assert_eq!(apply_symbolic("u+rwx,g-w", 0o664, false).unwrap(), 0o744);
        assert_eq!(apply_symbolic("a=r,u+w", 0o777, false).unwrap(), 0o644);
        assert_eq!(apply_symbolic("go-rwx", 0o755, true).unwrap(), 0o700);
        assert_eq!(apply_symbolic("a+X", 0o644, true).unwrap(), 0o755);
        assert_eq!(apply_symbolic("a+X", 0o644, false).unwrap(), 0o644);
        assert!(ModeSpec::parse("t", &Value::from("u+q")).is_err());
    }
}
