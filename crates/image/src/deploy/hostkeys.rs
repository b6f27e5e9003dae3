//! Host keys a VM printed on its console. At a new instance's first boot cloud-init writes its new SSH
//! host keys between `-----BEGIN SSH HOST KEY KEYS-----` and `-----END ...-----` (cloud consoles show
//! it: OpenStack's `console log show`, a serial port), so the first SSH connection can be verified
//! instead of trusting whoever answers.
const BEGIN: &str = "-----BEGIN SSH HOST KEY KEYS-----";
const END: &str = "-----END SSH HOST KEY KEYS-----";
const KEY_TYPES: &[&str] = &["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"];

/// `(type, base64)` of every key in the last complete block of `console` (lines may carry a logger
/// prefix such as `<14>Dec  2 06:00:00 ec2: `).
pub fn from_console(console: &str) -> Vec<(String, String)> {
    let mut last = None;
    let mut from = 0;
    while let Some(i) = console[from..].find(BEGIN) {
        let start = from + i + BEGIN.len();
        match console[start..].find(END) {
            Some(e) => {
                last = Some(&console[start..start + e]);
                from = start + e + END.len();
            }
            None => break,
        }
    }
    let Some(block) = last else { return vec![] };
    let mut out = vec![];
    for line in block.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| KEY_TYPES.contains(w)) {
            if let Some(b64) = words.get(i + 1) {
                if b64.len() > 20 && b64.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)) {
                    out.push((words[i].to_string(), b64.to_string()));
                }
            }
        }
    }
    out
}

/// known_hosts lines for `addr:port`.
pub fn known_hosts_lines(addr: &str, port: u16, keys: &[(String, String)]) -> String {
    let host = if port == 22 { addr.to_string() } else { format!("[{addr}]:{port}") };
    keys.iter().map(|(t, k)| format!("{host} {t} {k}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn takes_the_last_complete_block() {
        let console = "\
<14>Dec  2 06:00:00 ec2: -----BEGIN SSH HOST KEY KEYS-----
<14>Dec  2 06:00:00 ec2: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLDOLDOLDOLDOLDOLD root@old
<14>Dec  2 06:00:00 ec2: -----END SSH HOST KEY KEYS-----
[  OK  ] something
ec2: -----BEGIN SSH HOST KEY KEYS-----
ec2: ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYNEW= root@new
ec2: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEW root@new
ec2: -----END SSH HOST KEY KEYS-----
-----BEGIN SSH HOST KEY KEYS-----
truncated";
        let keys = from_console(console);
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(keys[1], ("ssh-ed25519".to_string(), "AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEW".to_string()));
        assert_eq!(known_hosts_lines("127.0.0.5", 2222, &keys[1..]), "[127.0.0.5]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINEWNEWNEWNEWNEWNEW\n");
        assert!(from_console("no keys").is_empty());
    }
}
