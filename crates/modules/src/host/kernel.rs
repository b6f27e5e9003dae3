//! Kernel state in one exec each: a sysctl's running value with its config file, and a kernel module's
//! loaded state with its persistence files (modules-load.d, modprobe.d). Probe scripts and pure parsers.
use crate::host::file::{gather_script, parse_gather, FileInfo, GatherOpts, Want};
use crate::util::{kv, sh_quote, text};
use anyhow::Result;

/// The running value of `key` (when `live`) and the state and content of `file`.
pub fn sysctl_script(key: &str, live: bool, file: &str) -> String {
    let mut s = String::new();
    if live {
        s += &format!("printf 'live=%s\\n' \"$(sysctl -n {} 2>/dev/null | tr '\\t\\n' '  ')\"\n", sh_quote(key));
    }
    s + &gather_script(file, &GatherOpts { follow: true, into_dir: None, checksum: true, want: Want::Content })
}

/// (running value with blanks normalized, the file)
pub fn parse_sysctl(out: &[u8]) -> Result<(Option<String>, FileInfo)> {
    let info = parse_gather(out)?;
    Ok((info.extra.get("live").map(|v| norm_blanks(v)), info))
}

pub fn norm_blanks(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleState {
    /// in /proc/modules
    pub loaded: bool,
    /// compiled into the kernel (modules.builtin)
    pub builtin: bool,
    /// modules-load.d/<name>.conf: Some(content) when it exists
    pub load_file: Option<String>,
    /// modprobe.d/<name>.conf
    pub opts_file: Option<String>,
}

const MARK_LOAD: &str = "@@LOAD@@";
const MARK_OPTS: &str = "@@OPTS@@";

pub fn load_file(name: &str) -> String {
    format!("/etc/modules-load.d/{name}.conf")
}
pub fn opts_file(name: &str) -> String {
    format!("/etc/modprobe.d/{name}.conf")
}

pub fn modprobe_script(name: &str) -> String {
    format!(
        "grep -q '^{k} ' /proc/modules && echo loaded=1\ngrep -qE '/{k}\\.ko|/{n}\\.ko' /lib/modules/$(uname -r)/modules.builtin 2>/dev/null && echo builtin=1\n[ -e {lf} ] && echo has_load=1\n[ -e {of} ] && echo has_opts=1\necho {MARK_LOAD}; cat {lf} 2>/dev/null; echo {MARK_OPTS}; cat {of} 2>/dev/null; true\n",
        // the kernel lists modules with '_' where their names have '-'
        k = name.replace('-', "_"),
        n = name,
        lf = sh_quote(&load_file(name)),
        of = sh_quote(&opts_file(name))
    )
}

pub fn parse_modprobe(out: &[u8]) -> ModuleState {
    let out = text(out);
    let (head, rest) = out.split_once(&format!("{MARK_LOAD}\n")).unwrap_or((&out, ""));
    let (load_txt, opts_txt) = rest.split_once(&format!("{MARK_OPTS}\n")).unwrap_or((rest, ""));
    let kv = kv(head);
    ModuleState {
        loaded: kv.contains_key("loaded"),
        builtin: kv.contains_key("builtin"),
        load_file: kv.contains_key("has_load").then(|| load_txt.to_string()),
        opts_file: kv.contains_key("has_opts").then(|| opts_txt.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        let m = parse_modprobe(b"loaded=1\nhas_opts=1\n@@LOAD@@\n@@OPTS@@\noptions dummy numdummies=1\n");
        assert_eq!(m, ModuleState { loaded: true, builtin: false, load_file: None, opts_file: Some("options dummy numdummies=1\n".into()) });
        assert_eq!(parse_modprobe(b"@@LOAD@@\n@@OPTS@@\n"), ModuleState::default());
        assert!(modprobe_script("nf-nat").contains("'^nf_nat '"));
        let (live, f) = parse_sysctl(b"live=4096  131072\t6291456 \npath=/etc/sysctl.conf\ntype=absent\n").unwrap();
        assert_eq!(live.as_deref(), Some("4096 131072 6291456"));
        assert!(!f.exists());
    }
}
