//! Local accounts in one exec: a user's passwd/shadow entries and groups (and which of the groups a task
//! names exist), or a group's entry. Probe scripts and their pure parsers.
use crate::util::{kv, sh_quote};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct User {
    pub uid: String,
    pub gid: String,
    pub comment: String,
    pub home: String,
    pub shell: String,
    /// primary group name
    pub primary: String,
    /// supplementary groups (the primary one left out)
    pub groups: Vec<String>,
    /// the shadow password field, when shadow is readable
    pub hash: Option<String>,
    /// the shadow account expiry in days since 1970 (-1: never), when shadow is readable
    pub expires_days: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserProbe {
    pub user: Option<User>,
    /// groups the task names that do not exist
    pub missing_groups: Vec<String>,
}

/// Probe for `name`, checking that each of `groups` exists.
pub fn user_script(name: &str, groups: &[String]) -> String {
    let mut s = format!(
        "u={}\nif e=$(getent passwd \"$u\"); then echo \"pw=$e\"; echo \"groups=$(id -Gn \"$u\")\"; echo \"pgroup=$(id -gn \"$u\")\"; if s=$(getent shadow \"$u\" 2>/dev/null); then echo \"sh=$s\"; fi; fi\n",
        sh_quote(name)
    );
    for g in groups {
        s += &format!("getent group {} >/dev/null || echo \"nogroup={}\"\n", sh_quote(g), g.replace(['\n', '"', '$', '`', '\\'], ""));
    }
    s + "true\n"
}

pub fn parse_user(out: &str) -> UserProbe {
    let kv = kv(out);
    let user = kv.get("pw").map(|pw| {
        let f: Vec<&str> = pw.split(':').collect();
        let field = |i: usize| f.get(i).copied().unwrap_or("").to_string();
        let primary = kv.get("pgroup").cloned().unwrap_or_default();
        User {
            uid: field(2),
            gid: field(3),
            comment: field(4),
            home: field(5),
            shell: field(6),
            groups: kv.get("groups").map(|g| g.split_whitespace().filter(|x| *x != primary).map(str::to_string).collect()).unwrap_or_default(),
            primary,
            hash: kv.get("sh").and_then(|s| s.split(':').nth(1).map(str::to_string)),
            expires_days: kv.get("sh").map(|s| s.split(':').nth(7).and_then(|d| d.trim().parse().ok()).unwrap_or(-1)),
        }
    });
    UserProbe { user, missing_groups: out.lines().filter_map(|l| l.strip_prefix("nogroup=")).map(str::to_string).collect() }
}

pub fn group_script(name: &str) -> String {
    format!("getent group {} || true", sh_quote(name))
}

/// The gid of the group `getent group` printed, None when it does not exist.
pub fn parse_group(out: &str) -> Option<String> {
    out.lines().next().and_then(|l| l.split(':').nth(2)).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses() {
        let p = parse_user("pw=alice:x:3001:2346:Alice:/home/alice:/bin/bash\ngroups=mdxlab extra1\npgroup=mdxlab\nsh=alice:$6$x:19000:0:99999:7:::\nnogroup=nope\n");
        let u = p.user.unwrap();
        assert_eq!((u.uid.as_str(), u.gid.as_str(), u.home.as_str(), u.primary.as_str()), ("3001", "2346", "/home/alice", "mdxlab"));
        assert_eq!(u.groups, vec!["extra1"]);
        assert_eq!(u.hash.as_deref(), Some("$6$x"));
        assert_eq!(u.expires_days, Some(-1));
        assert_eq!(parse_user("pw=b:x:1:1::/:/bin/sh\nsh=b:!:1:0:9:7::20000:\n").user.unwrap().expires_days, Some(20000));
        assert_eq!(p.missing_groups, vec!["nope"]);
        assert_eq!(parse_user("").user, None);
        assert_eq!(parse_group("mdxlab:x:2345:\n").as_deref(), Some("2345"));
        assert_eq!(parse_group(""), None);
    }
}
