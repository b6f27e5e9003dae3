//! One update-alternatives entry as `update-alternatives --query` prints it, in one exec.
use crate::util::sh_quote;

pub fn query_script(name: &str) -> String {
    format!("LC_ALL=C update-alternatives --query {} 2>/dev/null; true", sh_quote(name))
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alternative {
    /// the selected path
    pub value: Option<String>,
    /// auto or manual
    pub status: Option<String>,
    pub link: Option<String>,
    /// every registered path
    pub registered: Vec<String>,
}

pub fn parse_query(out: &str) -> Alternative {
    let field = |k: &str| out.lines().find_map(|l| l.strip_prefix(&format!("{k}: "))).map(str::to_string);
    Alternative {
        value: field("Value"),
        status: field("Status"),
        link: field("Link"),
        registered: out.lines().filter_map(|l| l.strip_prefix("Alternative: ")).map(str::to_string).collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn query() {
        let a = super::parse_query("Name: editor\nLink: /usr/bin/editor\nStatus: auto\nBest: /bin/nano\nValue: /bin/nano\n\nAlternative: /bin/nano\nPriority: 40\n\nAlternative: /usr/bin/vim.tiny\nPriority: 15\n");
        assert_eq!(a.value.as_deref(), Some("/bin/nano"));
        assert_eq!(a.status.as_deref(), Some("auto"));
        assert_eq!(a.link.as_deref(), Some("/usr/bin/editor"));
        assert_eq!(a.registered, vec!["/bin/nano", "/usr/bin/vim.tiny"]);
        assert_eq!(super::parse_query(""), super::Alternative::default());
    }
}
