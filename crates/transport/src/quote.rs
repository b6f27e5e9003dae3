//! POSIX shell quoting and privilege escalation wrapping.

/// Quote `s` so that `/bin/sh` reads it back as exactly one word.
/// Plain words stay readable (`/etc/hosts`); anything else goes in single quotes,
/// with embedded `'` written as `'\''` (the only character that cannot appear inside '...').
pub fn sh_quote(s: &str) -> String {
    let safe = !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"%+,-./:=@_^".contains(&b));
    if safe {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for ch in s.chars() {
        if ch == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(ch);
        }
    }
    out.push('\'');
    out
}

/// `sudo -n -H -u USER -- /bin/sh -c 'cmd'`. `-n` makes sudo fail instead of prompting for a password
/// (nobody can answer a prompt on a channel), `-H` gives the target user's HOME.
pub fn wrap_become(cmd: &str, user: &str) -> String {
    format!("sudo -n -H -u {} -- /bin/sh -c {}", sh_quote(user), sh_quote(cmd))
}

/// Like [`wrap_become`], but returns `cmd` unchanged when there is nothing to become
/// (`user` is None) or the connection already logs in as `user` (sudo may not even be installed then).
pub fn become_command(login_user: Option<&str>, cmd: &str, user: Option<&str>) -> String {
    match user {
        None => cmd.to_string(),
        Some(u) if login_user == Some(u) => cmd.to_string(),
        Some(u) => wrap_become(cmd, u),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(sh_quote("/etc/hosts"), "/etc/hosts");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("$HOME;rm"), "'$HOME;rm'");
    }

    #[test]
    fn become_wrapping() {
        assert_eq!(wrap_become("id -u", "root"), "sudo -n -H -u root -- /bin/sh -c 'id -u'");
        assert_eq!(become_command(Some("root"), "id", Some("root")), "id");
        assert_eq!(become_command(Some("ubuntu"), "id", None), "id");
        assert_eq!(become_command(Some("ubuntu"), "id", Some("root")), "sudo -n -H -u root -- /bin/sh -c id");
    }

    #[test]
    fn quoted_round_trip_through_sh() {
        let nasty = "a'b\"c $x `y` \\ \n end";
        let out = std::process::Command::new("/bin/sh").arg("-c").arg(format!("printf %s {}", sh_quote(nasty))).output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), nasty);
    }
}
