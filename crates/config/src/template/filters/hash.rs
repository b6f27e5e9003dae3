//! hash('sha1'|'sha256'|'sha512'|'md5'), checksum, password_hash('sha512'|'sha256') (crypt(3) format).
use super::{invalid, text_of};
use base64ct::Encoding;
use minijinja::value::Kwargs;
use minijinja::{Error, Value};
use sha2::Digest;

pub fn hash(v: Value, algo: Option<String>) -> Result<String, Error> {
    let data = text_of(&v);
    let d = data.as_bytes();
    Ok(match algo.as_deref().unwrap_or("sha1") {
        "sha1" => hex::encode(sha1::Sha1::digest(d)),
        "sha224" => hex::encode(sha2::Sha224::digest(d)),
        "sha256" => hex::encode(sha2::Sha256::digest(d)),
        "sha384" => hex::encode(sha2::Sha384::digest(d)),
        "sha512" => hex::encode(sha2::Sha512::digest(d)),
        "md5" => format!("{:x}", md5::compute(d)),
        other => return Err(invalid(format!("hash: unsupported algorithm '{other}' (md5, sha1, sha224, sha256, sha384, sha512)"))),
    })
}

pub fn sha1(v: Value) -> Result<String, Error> {
    hash(v, Some("sha1".into()))
}

pub fn md5(v: Value) -> Result<String, Error> {
    hash(v, Some("md5".into()))
}

const SALT_CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `password_hash('sha512', salt=None, rounds=None)` -> `$6$salt$...` as crypt(3)/Ansible.
pub fn password_hash(v: Value, scheme: Option<String>, salt: Option<String>, kwargs: Kwargs) -> Result<String, Error> {
    let rounds: Option<u32> = kwargs.get("rounds")?;
    let salt = match salt {
        Some(s) => s,
        None => kwargs.get::<Option<String>>("salt")?.unwrap_or_else(random_salt),
    };
    kwargs.assert_all_used()?;
    if salt.is_empty() || salt.len() > 16 || !salt.bytes().all(|b| SALT_CHARS.contains(&b)) {
        return Err(invalid("password_hash: salt must be 1-16 characters from [./0-9A-Za-z]"));
    }
    let password = text_of(&v);
    let sha512 = match scheme.as_deref().unwrap_or("sha512") {
        "sha512" | "sha512_crypt" => true,
        "sha256" | "sha256_crypt" => false,
        other => return Err(invalid(format!("password_hash: scheme '{other}' is not supported (only sha512 and sha256 crypt)"))),
    };
    let params = match rounds {
        Some(r) => sha_crypt::Params::new(r).map_err(|e| invalid(format!("password_hash: bad rounds {r}: {e}")))?,
        None => sha_crypt::Params::default(),
    };
    let raw: Vec<u8> = if sha512 {
        sha_crypt::sha512_crypt(password.as_bytes(), salt.as_bytes(), params).to_vec()
    } else {
        sha_crypt::sha256_crypt(password.as_bytes(), salt.as_bytes(), params).to_vec()
    };
    let encoded = base64ct::Base64ShaCrypt::encode_string(&crypt_order(&raw));
    // like crypt(3): the default 5000 rounds are implicit
    let rounds_field = match rounds {
        Some(r) if r != 5000 => format!("rounds={r}$"),
        _ => String::new(),
    };
    Ok(format!("${}${rounds_field}{salt}${encoded}", if sha512 { 6 } else { 5 }))
}

/// The byte order of the SHA-crypt spec's final encoding: triples (a, a+n/3, a+2n/3) taken
/// with a stride, each written as a little-endian 24-bit group, then the leftover bytes.
fn crypt_order(raw: &[u8]) -> Vec<u8> {
    let (groups, stride, m) = if raw.len() == 64 { (21, 22, 63) } else { (10, 21, 30) };
    let third = m / 3;
    let mut out = Vec::with_capacity(raw.len());
    for i in 0..groups {
        let a = (i * stride) % m;
        out.extend([raw[(a + 2 * third) % m], raw[(a + third) % m], raw[a]]);
    }
    if raw.len() == 64 {
        out.push(raw[63]);
    } else {
        out.extend([raw[30], raw[31]]);
    }
    out
}

fn random_salt() -> String {
    let mut buf = [0u8; 16];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut buf);
    }
    buf.iter().map(|b| SALT_CHARS[(*b as usize) % SALT_CHARS.len()] as char).collect()
}
