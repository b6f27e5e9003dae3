//! Python packages on the host, read in one exec: whether the virtualenv exists and what
//! `pip list --format=freeze` says; plus the requirement-specifier matching the pip module decides with.
use crate::util::sh_quote;
use std::cmp::Ordering;
use std::collections::HashMap;

const LIST: &str = "@@LIST@@\n";

/// `pre`: `cd`/`umask` prefix; `pip`: the pip command; `venv`: the virtualenv to look for.
pub fn list_script(pre: &str, pip: &str, venv: Option<&str>) -> String {
    let mut s = String::new();
    if let Some(v) = venv {
        s += &format!("[ -x {}/bin/python ] && echo venv=1\n", sh_quote(v));
    }
    s += &format!("echo @@LIST@@; {pre}{pip} list --format=freeze --disable-pip-version-check 2>/dev/null; true\n");
    s
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipState {
    pub venv_exists: bool,
    /// PEP 503 normalized name -> version
    pub installed: HashMap<String, String>,
}

pub fn parse_list(out: &str) -> PipState {
    let (head, list) = out.split_once(LIST).unwrap_or((out, ""));
    PipState { venv_exists: head.contains("venv=1"), installed: list.lines().filter_map(|l| l.split_once("==")).map(|(n, v)| (norm(n), v.trim().to_string())).collect() }
}

/// PEP 503 normalized name.
pub fn norm(n: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in n.chars() {
        if c == '-' || c == '_' || c == '.' {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `name[extra]>=1.0,<2` -> (name, [(op, version)])
pub fn parse_req(r: &str) -> (String, Vec<(String, String)>) {
    let idx = r.find(|c: char| "<>=!~ ;[".contains(c)).unwrap_or(r.len());
    let name = r[..idx].trim().to_string();
    let mut rest = r[idx..].trim();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map(|(_, x)| x).unwrap_or("");
    }
    let rest = rest.split(';').next().unwrap_or("");
    let specs = rest
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let op_len = s.find(|c: char| !"<>=!~".contains(c)).unwrap_or(s.len());
            (op_len > 0).then(|| (s[..op_len].to_string(), s[op_len..].trim().to_string()))
        })
        .collect();
    (name, specs)
}

fn cmp_versions(a: &str, b: &str) -> Ordering {
    let parts = |v: &str| v.split(['.', '-', '+']).map(|p| (p.parse::<u64>().ok(), p.to_string())).collect::<Vec<_>>();
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).cloned().unwrap_or((Some(0), "0".into()));
        let y = pb.get(i).cloned().unwrap_or((Some(0), "0".into()));
        let o = match (x.0, y.0) {
            (Some(m), Some(n)) => m.cmp(&n),
            _ => x.1.cmp(&y.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Does the installed version `have` meet every specifier?
pub fn satisfied(have: &str, specs: &[(String, String)]) -> bool {
    use Ordering::*;
    specs.iter().all(|(op, v)| {
        let o = cmp_versions(have, v);
        match op.as_str() {
            "==" | "===" => match v.strip_suffix(".*") {
                Some(p) => have == p || have.starts_with(&format!("{p}.")),
                None => o == Equal,
            },
            "!=" => o != Equal,
            ">=" => o != Less,
            "<=" => o != Greater,
            ">" => o == Greater,
            "<" => o == Less,
            "~=" => {
                o != Less && {
                    let p: Vec<&str> = v.split('.').collect();
                    have.starts_with(&p[..p.len().saturating_sub(1).max(1)].join("."))
                }
            }
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn requirements() {
        assert_eq!(norm("Jupyter_Server.Proxy"), "jupyter-server-proxy");
        let (n, s) = parse_req("jupyterlab[full]>=4.0,<5");
        assert_eq!(n, "jupyterlab");
        assert!(satisfied("4.2.1", &s));
        assert!(!satisfied("5.0", &s));
        assert!(satisfied("1.26.4", &parse_req("numpy==1.26.*").1));
        assert!(!satisfied("1.10", &parse_req("x==1.9").1));
        let st = parse_list("venv=1\n@@LIST@@\nSix==1.16.0\npip==23.0\n");
        assert!(st.venv_exists && st.installed["six"] == "1.16.0");
        assert!(!parse_list("@@LIST@@\n").venv_exists);
    }
}
