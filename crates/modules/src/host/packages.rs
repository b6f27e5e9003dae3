//! Package state on the host, read in one exec each: dpkg/apt (installed, candidates, cache age), rpm (for
//! dnf: installed versions and check-update's answer) and the package_facts listing. Probe scripts and
//! their pure parsers.
use crate::util::{kv, sh_quote};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// `name`, `name=version` (version may end in `*`), `name:arch`.
pub fn split_apt_spec(s: &str) -> (&str, Option<&str>) {
    match s.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (s, None),
    }
}

/// Status of one package as dpkg sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DebPkg {
    pub installed: bool,
    /// config files left behind (`rc`): purge would still change something
    pub config_only: bool,
    pub version: String,
    pub candidate: Option<String>,
    /// a virtual package, provided by this installed one
    pub provided_by: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AptState {
    /// dpkg-query exists (a Debian-family host)
    pub has_apt: bool,
    pub now: i64,
    /// newest of the update-success stamp and the lists directory (seconds since the epoch)
    pub stamp: i64,
    /// package lists exist at all
    pub lists: bool,
    pub pkgs: HashMap<String, DebPkg>,
}

/// dpkg status of `names` (and apt-cache's candidates when `policy`), the cache's age; `mgr=none` without dpkg.
pub fn apt_script(names: &[String], policy: bool) -> String {
    let bare: Vec<String> = names.iter().map(|n| sh_quote(split_apt_spec(n).0)).collect();
    let mut s = String::from("if ! command -v dpkg-query >/dev/null 2>&1; then echo mgr=none; exit 0; fi\necho mgr=apt\n");
    s += "echo now=$(date +%s); st=0; for f in /var/lib/apt/periodic/update-success-stamp /var/lib/apt/lists; do if [ -e $f ]; then m=$(stat -c %Y $f); [ $m -gt $st ] && st=$m; fi; done; echo stamp=$st\n";
    s += "ls /var/lib/apt/lists | grep -q '_Packages' && echo lists=1\n";
    if !bare.is_empty() {
        s += &format!("q=$(dpkg-query -W -f='P\\t${{Package}}\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' {} 2>/dev/null); printf '%s\\n' \"$q\"\n", bare.join(" "));
        // a name that is no installed package may be a virtual one an installed package provides
        // (Debian's libnss-ldap, provided by libnss-ldapd): that counts as installed, as for Ansible
        s += &format!(
            "if [ \"$(printf '%s\\n' \"$q\" | grep -c \"$(printf '\\t')[ih]i\")\" -lt {n} ]; then dpkg-query -W -f='${{db:Status-Abbrev}}\\t${{Package}}\\t${{Provides}}\\n' 2>/dev/null | awk -F'\\t' -v want=' {names} ' '$1 ~ /^[ih]i/ {{ k = split($3, p, /, */); for (i = 1; i <= k; i++) {{ sub(/ .*/, \"\", p[i]); if (index(want, \" \" p[i] \" \")) print \"V\\t\" p[i] \"\\t\" $2 }} }}'; fi\n",
            n = bare.len(),
            names = names.iter().map(|n| split_apt_spec(n).0.to_string()).collect::<Vec<_>>().join(" ")
        );
        if policy {
            s += &format!("LC_ALL=C apt-cache policy {} 2>/dev/null | awk '/^[^ ]/{{p=$1; sub(/:$/,\"\",p)}} /Candidate:/{{print \"C\\t\" p \"\\t\" $2}}'\n", bare.join(" "));
        }
    }
    s += "true\n";
    s
}

pub fn parse_apt(out: &str) -> AptState {
    let kv = kv(out);
    let mut pkgs: HashMap<String, DebPkg> = HashMap::new();
    for l in out.lines() {
        match l.split('\t').collect::<Vec<_>>().as_slice() {
            ["P", name, status, version] => {
                let e = pkgs.entry(name.to_string()).or_default();
                // an arch-qualified duplicate (multiarch) counts if any instance is installed
                if status.starts_with("ii") || status.starts_with("hi") {
                    e.installed = true;
                    e.version = version.to_string();
                } else if status.starts_with("rc") {
                    e.config_only = true;
                }
            }
            ["V", name, provider] => {
                let e = pkgs.entry(name.to_string()).or_default();
                if !e.installed {
                    e.installed = true;
                    e.provided_by = Some(provider.to_string());
                }
            }
            ["C", name, cand] => {
                let name = name.split(':').next().unwrap_or(name);
                pkgs.entry(name.to_string()).or_default().candidate = (*cand != "(none)").then(|| cand.to_string());
            }
            _ => {}
        }
    }
    let num = |k: &str| kv.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
    AptState { has_apt: kv.get("mgr").map(String::as_str) == Some("apt"), now: num("now"), stamp: num("stamp"), lists: kv.contains_key("lists"), pkgs }
}

/// A .deb file on the host and the installed state of the package it holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DebFile {
    pub exists: bool,
    pub has_apt: bool,
    pub name: String,
    pub version: String,
    /// the installed version of that package, if installed
    pub installed: Option<String>,
}

/// What `file` (a .deb on the host) holds, and whether that version is installed.
pub fn deb_file_script(file: &str) -> String {
    format!(
        "if ! command -v dpkg-query >/dev/null 2>&1; then echo mgr=none; exit 0; fi\necho mgr=apt\nf={}\n[ -f \"$f\" ] || exit 0\necho exists=1\n\
         n=$(dpkg-deb -f \"$f\" Package) || exit 0\nprintf 'name=%s\\nversion=%s\\n' \"$n\" \"$(dpkg-deb -f \"$f\" Version)\"\n\
         dpkg-query -W -f='P\\t${{db:Status-Abbrev}}\\t${{Version}}\\n' \"$n\" 2>/dev/null\ntrue\n",
        sh_quote(file)
    )
}

pub fn parse_deb_file(out: &str) -> DebFile {
    let kv = kv(out);
    let installed = out.lines().find_map(|l| match l.split('\t').collect::<Vec<_>>().as_slice() {
        ["P", st, v] if st.starts_with("ii") || st.starts_with("hi") => Some(v.to_string()),
        _ => None,
    });
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    DebFile { exists: kv.contains_key("exists"), has_apt: get("mgr") == "apt", name: get("name"), version: get("version"), installed }
}

/// Marks the rpm probe's lines: installed packages, then (for `latest`) check-update's answer.
const INSTALLED: &str = "P\t";
const UPDATES: &str = "@@MDXCONF-UPDATES@@";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RpmState {
    /// name (as requested) -> installed version-release
    pub installed: HashMap<String, String>,
    /// names (as requested; every name for `*`) with a newer version in the enabled repos -> that version
    pub outdated: HashMap<String, String>,
}

/// Which requested names are installed (local `.rpm` files by their NEVRA), in the rpm database under
/// `root_opt` (`--root DIR` or ""); with `latest` also `dnf check-update` (options `dnf_opts`).
/// `names == ["*"]` asks check-update about everything.
pub fn rpm_script(names: &[String], root_opt: &str, dnf_opts: &str, latest: bool) -> String {
    let all = names == ["*"];
    let quoted: Vec<String> = if all { vec![] } else { names.iter().map(|n| sh_quote(n)).collect() };
    let mut s = format!(
        "command -v rpm >/dev/null 2>&1 || {{ echo NORPM; exit 0; }}\n\
         for n in {}; do p=$n; case $n in *.rpm) p=$(rpm -qp --qf '%{{NAME}}-%{{VERSION}}-%{{RELEASE}}.%{{ARCH}}' \"$n\" 2>/dev/null) || p=$n;; esac; \
         v=$(rpm {root_opt} -q --qf '%{{VERSION}}-%{{RELEASE}}\\n' \"$p\" 2>/dev/null) && \
         printf '{INSTALLED}%s\\t%s\\n' \"$n\" \"$(printf '%s\\n' \"$v\" | head -n1)\"; done\n",
        quoted.join(" ")
    );
    if latest {
        // check-update exits 100 with a `name.arch evr repo` line per update, 0 without, 1 on error.
        s += &format!("echo {UPDATES}; dnf -q {dnf_opts} check-update {} 2>&1; echo \"{UPDATES}rc=$?\"\n", quoted.join(" "));
    }
    s
}

/// `Ok(None)`: no rpm on the host; `Err`: check-update failed (its output).
pub fn parse_rpm(out: &str, names: &[String], latest: bool) -> Result<Option<RpmState>, String> {
    if out.starts_with("NORPM") {
        return Ok(None);
    }
    let all = names == ["*"];
    let (head, updates) = out.split_once(&format!("{UPDATES}\n")).unwrap_or((out, ""));
    let installed = head.lines().filter_map(|l| l.strip_prefix(INSTALLED)?.split_once('\t')).map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let mut outdated = HashMap::new();
    if latest {
        let (list, rc) = updates.rsplit_once(&format!("{UPDATES}rc=")).unwrap_or((updates, ""));
        match rc.trim() {
            "0" => {}
            "100" => {
                for line in list.lines() {
                    let mut f = line.split_whitespace();
                    let (Some(na), Some(evr)) = (f.next(), f.next()) else { continue };
                    let name = na.rsplit_once('.').map_or(na, |(n, _)| n);
                    if all {
                        outdated.insert(name.to_string(), evr.to_string());
                    } else if let Some(n) = names.iter().find(|n| *n == name || *n == na) {
                        outdated.insert(n.clone(), evr.to_string());
                    }
                }
            }
            _ => return Err(list.trim().to_string()),
        }
    }
    Ok(Some(RpmState { installed, outdated }))
}

/// Every installed package, from dpkg and/or rpm: `apt`/`rpm` say which to ask, `all` asks each of them
/// (package_facts' strategy=all) instead of the first one found.
pub fn facts_script(apt: bool, rpm: bool, all: bool) -> String {
    let dpkg = "dpkg-query -W -f='apt\\t${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}\\n'";
    let rpmq = "rpm -qa --qf 'rpm\\tii \\t%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\n'";
    let mut parts = vec![];
    if apt {
        parts.push(("dpkg-query", dpkg));
    }
    if rpm {
        parts.push(("rpm", rpmq));
    }
    let clauses: Vec<String> = parts.iter().map(|(tool, cmd)| format!("if command -v {tool} >/dev/null 2>&1; then {cmd}; fi")).collect();
    if all {
        return clauses.join("\n") + "\ntrue";
    }
    let chain: Vec<String> = parts.iter().map(|(tool, cmd)| format!("command -v {tool} >/dev/null 2>&1; then {cmd}")).collect();
    format!("if {}; fi", chain.join("; elif "))
}

/// `ansible_facts.packages`: {name: [{name, version, arch, source}]}, installed packages only.
pub fn parse_facts(out: &str) -> Map<String, Value> {
    let mut pkgs = Map::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() == 5 && f[1].starts_with("ii") {
            if let Value::Array(v) = pkgs.entry(f[2].to_string()).or_insert_with(|| Value::Array(vec![])) {
                v.push(json!({"name": f[2], "version": f[3], "arch": f[4], "source": f[0]}));
            }
        }
    }
    pkgs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_and_policy() {
        let out = "mgr=apt\nnow=1000\nstamp=900\nlists=1\nP\thello\tii \t2.10-3\nP\tsl\tun \t\nP\tcowsay\trc \t3.03\nC\thello\t2.10-3\nC\tsl:amd64\t5.02-1\nC\tnope\t(none)\n";
        let g = parse_apt(out);
        assert!(g.has_apt && g.lists && g.now == 1000 && g.stamp == 900);
        assert_eq!(g.pkgs["hello"], DebPkg { installed: true, config_only: false, version: "2.10-3".into(), candidate: Some("2.10-3".into()), provided_by: None });
        assert!(!g.pkgs["sl"].installed && g.pkgs["sl"].candidate.as_deref() == Some("5.02-1"));
        assert!(g.pkgs["cowsay"].config_only && !g.pkgs["cowsay"].installed);
        assert_eq!(g.pkgs["nope"].candidate, None);
        assert!(!parse_apt("mgr=none\n").has_apt);
        // a virtual name an installed package provides counts as installed
        let v = parse_apt("mgr=apt\nP\tlibnss-ldap\tun \t\nV\tlibnss-ldap\tlibnss-ldapd\n");
        assert!(v.pkgs["libnss-ldap"].installed && v.pkgs["libnss-ldap"].provided_by.as_deref() == Some("libnss-ldapd"));
        assert_eq!(split_apt_spec("hello=2.*"), ("hello", Some("2.*")));
    }

    #[test]
    fn deb_file() {
        let d = parse_deb_file("mgr=apt\nexists=1\nname=mdxtest\nversion=1.0\nP\tii \t0.9\n");
        assert_eq!(d, DebFile { exists: true, has_apt: true, name: "mdxtest".into(), version: "1.0".into(), installed: Some("0.9".into()) });
        assert_eq!(parse_deb_file("mgr=apt\nexists=1\nname=x\nversion=1\nP\tun \t\n").installed, None);
        assert!(!parse_deb_file("mgr=apt\n").exists);
    }

    #[test]
    fn rpm_and_check_update() {
        let names = vec!["a".to_string(), "b".to_string()];
        let out = "P\ta\t1.0-1\n@@MDXCONF-UPDATES@@\n\na.noarch  1.1-1  base\n@@MDXCONF-UPDATES@@rc=100\n";
        let s = parse_rpm(out, &names, true).unwrap().unwrap();
        assert_eq!(s.installed.get("a").map(String::as_str), Some("1.0-1"));
        assert_eq!(s.outdated.get("a").map(String::as_str), Some("1.1-1"));
        assert!(!s.installed.contains_key("b"));
        assert_eq!(parse_rpm("NORPM\n", &names, false), Ok(None));
        assert_eq!(parse_rpm("@@MDXCONF-UPDATES@@\nError: no repo\n@@MDXCONF-UPDATES@@rc=1\n", &names, true), Err("Error: no repo".into()));
        let all = parse_rpm("@@MDXCONF-UPDATES@@\nx.x86_64 2-1 base\n@@MDXCONF-UPDATES@@rc=100\n", &["*".to_string()], true).unwrap().unwrap();
        assert_eq!(all.outdated.get("x").map(String::as_str), Some("2-1"));
    }

    #[test]
    fn facts() {
        let p = parse_facts("apt\tii \thello\t2.10\tamd64\napt\trc \tgone\t1\tamd64\nrpm\tii \tbash\t5.1-1\tx86_64\n");
        assert_eq!(p["hello"][0]["source"], "apt");
        assert_eq!(p["bash"][0]["version"], "5.1-1");
        assert!(!p.contains_key("gone"));
        assert!(facts_script(true, true, false).starts_with("if command -v dpkg-query") && facts_script(true, true, false).contains("; elif command -v rpm"));
        assert!(facts_script(true, true, true).contains("fi\nif command -v rpm"));
    }
}
