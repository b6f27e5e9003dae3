//! `when`/`changed_when`/`failed_when`/`until` evaluation and tag selection.
use crate::playbook::task::Cond;
use mdxconf_config::error::ConfigError;
use mdxconf_config::template::Templater;
use serde_json::Value;

/// All `when` conditions (inherited ones first) must hold.
pub fn all_true(t: &Templater, conds: &[Cond], ctx: &Value) -> Result<bool, ConfigError> {
    for c in conds {
        if !t.eval_condition(&c.expr, ctx, &c.origin)? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub fn eval(t: &Templater, c: &Cond, ctx: &Value) -> Result<bool, ConfigError> {
    t.eval_condition(&c.expr, ctx, &c.origin)
}

/// Ansible's tag rules: `always` runs unless skipped explicitly, `never` only when asked for,
/// `tagged`/`untagged`/`all` are special.
pub fn tags_selected(task_tags: &[String], only: &[String], skip: &[String]) -> bool {
    let has = |t: &str| task_tags.iter().any(|x| x == t);
    let matches = |sel: &str| match sel {
        "all" => !has("never"),
        "tagged" => !task_tags.is_empty(),
        "untagged" => task_tags.is_empty(),
        s => has(s),
    };
    if skip.iter().any(|s| if s == "all" { true } else { matches(s) }) {
        return false;
    }
    if only.is_empty() {
        return !has("never");
    }
    if has("always") {
        return true;
    }
    only.iter().any(|s| matches(s))
}

#[cfg(test)]
mod tests {
    use super::tags_selected;
    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }
    #[test]
    fn tag_rules() {
        assert!(tags_selected(&v(&[]), &v(&[]), &v(&[])));
        assert!(!tags_selected(&v(&["never"]), &v(&[]), &v(&[])));
        assert!(tags_selected(&v(&["never", "x"]), &v(&["x"]), &v(&[])));
        assert!(tags_selected(&v(&["always"]), &v(&["x"]), &v(&[])));
        assert!(!tags_selected(&v(&["always"]), &v(&["x"]), &v(&["always"])));
        assert!(!tags_selected(&v(&["a"]), &v(&["b"]), &v(&[])));
        assert!(!tags_selected(&v(&["a"]), &v(&[]), &v(&["a"])));
        assert!(tags_selected(&v(&[]), &v(&["untagged"]), &v(&[])));
    }
}
