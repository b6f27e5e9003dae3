//! The vault text envelope: `$ANSIBLE_VAULT;1.1;AES256[;label]` then the hex body in 80-column lines.
use super::VaultError;

/// What every vault text starts with (Ansible's `b_HEADER`).
pub const HEADER: &str = "$ANSIBLE_VAULT";
const CIPHER: &str = "AES256";
/// Ansible's default vault id: a secret with this label writes format 1.1 (no label in the header).
pub const DEFAULT_LABEL: &str = "default";

/// The parts of a vault text.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `1.1` or `1.2`
    pub version: String,
    /// The vault id of format 1.2 (a hint for choosing the secret, not authenticated)
    pub label: Option<String>,
    pub salt: Vec<u8>,
    pub hmac: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Does this text start like a vault? (Ansible's `is_encrypted`: the header at byte 0, ASCII only.)
pub fn is_vault(data: &[u8]) -> bool {
    data.starts_with(HEADER.as_bytes()) && data.is_ascii()
}

/// Split a vault text into header fields and the decoded body.
pub fn parse(text: &[u8]) -> Result<Envelope, VaultError> {
    let text = std::str::from_utf8(text).map_err(|_| VaultError::Format("not ASCII text".into()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").trim();
    let fields: Vec<&str> = header.split(';').map(str::trim).collect();
    if fields.first() != Some(&HEADER) || fields.len() < 3 {
        return Err(VaultError::Format(format!("the header is not `{HEADER};1.1;AES256` or `{HEADER};1.2;AES256;LABEL`")));
    }
    let version = fields[1].to_string();
    if version != "1.1" && version != "1.2" {
        return Err(VaultError::Format(format!("unsupported vault format version '{version}' (1.1 and 1.2 are)")));
    }
    if fields[2] != CIPHER {
        return Err(VaultError::Format(format!("unsupported cipher '{}' (only AES256 is)", fields[2])));
    }
    let label = fields.get(3).filter(|l| !l.is_empty()).map(|l| l.to_string());
    // Ansible joins the lines as they are; trimming each also accepts indented or CRLF text
    let body: String = lines.map(str::trim).collect();
    let inner = unhex(&body, "body")?;
    // the body is hex(salt) \n hex(hmac) \n hex(ciphertext)
    let mut parts = inner.splitn(3, |&b| b == b'\n');
    let (Some(salt), Some(hmac), Some(ct)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VaultError::Format("the body does not hold salt, HMAC and ciphertext".into()));
    };
    let ascii = |b: &[u8], what: &str| std::str::from_utf8(b).map(str::to_string).map_err(|_| VaultError::Format(format!("the {what} is not hex")));
    let (salt, hmac, ciphertext) = (unhex(&ascii(salt, "salt")?, "salt")?, unhex(&ascii(hmac, "HMAC")?, "HMAC")?, unhex(&ascii(ct, "ciphertext")?, "ciphertext")?);
    if salt.is_empty() || hmac.len() != 32 || ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(VaultError::Format("the salt, HMAC or ciphertext has a wrong length".into()));
    }
    Ok(Envelope { version, label, salt, hmac, ciphertext })
}

/// The vault text of an envelope, as Ansible writes it: label → format 1.2 (unless `default`), lines of 80, final newline.
pub fn format(salt: &[u8], hmac: &[u8], ciphertext: &[u8], label: Option<&str>) -> String {
    let inner = format!("{}\n{}\n{}", hex::encode(salt), hex::encode(hmac), hex::encode(ciphertext));
    let body = hex::encode(inner.as_bytes());
    let mut out = match label {
        Some(l) if !l.is_empty() && l != DEFAULT_LABEL => format!("{HEADER};1.2;{CIPHER};{l}\n"),
        _ => format!("{HEADER};1.1;{CIPHER}\n"),
    };
    // hex is ASCII, so byte chunks are whole characters
    for chunk in body.as_bytes().chunks(80) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn unhex(s: &str, what: &str) -> Result<Vec<u8>, VaultError> {
    hex::decode(s).map_err(|e| VaultError::Format(format!("the {what} is not valid hex ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_then_parse_round_trips_with_and_without_label() {
        let (salt, hmac, ct) = (vec![1u8; 32], vec![2u8; 32], vec![3u8; 48]);
        for label in [None, Some("default"), Some("prod")] {
            let text = format(&salt, &hmac, &ct, label);
            assert!(text.lines().skip(1).all(|l| l.len() <= 80), "{text}");
            assert!(text.ends_with('\n'));
            let e = parse(text.as_bytes()).unwrap();
            assert_eq!((e.salt.clone(), e.hmac.clone(), e.ciphertext.clone()), (salt.clone(), hmac.clone(), ct.clone()));
            assert_eq!(e.label.as_deref(), label.filter(|l| *l != "default"));
            assert_eq!(e.version, if e.label.is_some() { "1.2" } else { "1.1" });
        }
    }

    #[test]
    fn tolerates_indentation_and_crlf() {
        let text = format(&[1; 32], &[2; 32], &[3; 16], None);
        let messy: String = text.lines().map(|l| format!("   {l}  \r\n")).collect();
        assert!(parse(messy.as_bytes()).is_ok());
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let good = format(&[1; 32], &[2; 32], &[3; 16], None);
        let cases: Vec<String> = vec![
            String::new(),
            "$ANSIBLE_VAULT".into(),
            "$ANSIBLE_VAULT;1.1".into(),
            "$ANSIBLE_VAULT;1.0;AES256\n00".into(),
            "$ANSIBLE_VAULT;1.1;AES\n00".into(),
            "$ANSIBLE_VAULT;1.1;AES256\nzz".into(),
            "$ANSIBLE_VAULT;1.1;AES256\n0".into(),
            "$ANSIBLE_VAULT;1.1;AES256\n".into(),
            format!("$ANSIBLE_VAULT;1.1;AES256\n{}", hex::encode("00\n11")),
            format!("$ANSIBLE_VAULT;1.1;AES256\n{}", hex::encode("0g\n11\n22")),
            good[..good.len() - 10].to_string(),
        ];
        for c in cases {
            assert!(parse(c.as_bytes()).is_err(), "accepted: {c:?}");
        }
        assert!(parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn is_vault_needs_the_header_at_the_start() {
        assert!(is_vault(b"$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_vault(b" $ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(!is_vault("$ANSIBLE_VAULT é".as_bytes()));
        assert!(!is_vault(b"key: value\n"));
    }
}
