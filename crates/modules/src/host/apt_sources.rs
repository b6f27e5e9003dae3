//! The host's one-line apt sources (/etc/apt/sources.list and sources.list.d/*.list), every file with its
//! content, in one exec.
const MARK: &str = "@@FILE@@ ";

pub const SCRIPT: &str =
    "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do [ -f \"$f\" ] || continue; printf '@@FILE@@ %s\\n' \"$f\"; cat -- \"$f\"; echo; done; true";

/// (path, content) of each file, in the order listed.
pub fn parse(listing: &str) -> Vec<(String, String)> {
    listing
        .split(MARK)
        .skip(1)
        .map(|chunk| {
            let (name, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
            // the script's `echo` after each file added one newline
            (name.to_string(), body.strip_suffix('\n').unwrap_or(body).to_string())
        })
        .collect()
}

/// A source line with its whitespace normalized (how lines are compared).
pub fn norm(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn listing() {
        let f = super::parse("@@FILE@@ /etc/apt/sources.list\ndeb http://a b c\n\n@@FILE@@ /etc/apt/sources.list.d/x.list\nno newline\n");
        assert_eq!(f, vec![("/etc/apt/sources.list".into(), "deb http://a b c\n".into()), ("/etc/apt/sources.list.d/x.list".into(), "no newline".into())]);
        assert_eq!(super::norm(" deb  http://a\tb "), "deb http://a b");
    }
}
