//! Ansible's VaultAES256: PBKDF2-HMAC-SHA256 (10000 rounds, 80 bytes = AES key, HMAC key, counter),
//! AES-256-CTR over PKCS#7-padded plaintext, HMAC-SHA256 of the ciphertext checked before decrypting.
use super::VaultError;
use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const ROUNDS: u32 = 10_000;
const BLOCK: usize = 16;
/// Ansible's salt length (os.urandom(32))
pub const SALT_LEN: usize = 32;

/// The three derived values; wiped when dropped.
struct Keys(Zeroizing<[u8; 80]>);

impl Keys {
    fn derive(password: &[u8], salt: &[u8]) -> Keys {
        let mut k = Zeroizing::new([0u8; 80]);
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, ROUNDS, k.as_mut());
        Keys(k)
    }
    fn aes(&self) -> &[u8] {
        &self.0[..32]
    }
    fn mac(&self) -> &[u8] {
        &self.0[32..64]
    }
    fn iv(&self) -> &[u8] {
        &self.0[64..80]
    }
    fn cipher(&self) -> Result<Aes256Ctr, VaultError> {
        Aes256Ctr::new_from_slices(self.aes(), self.iv()).map_err(|_| VaultError::Format("bad key length".into()))
    }
    fn hmac(&self) -> Result<HmacSha256, VaultError> {
        <HmacSha256 as KeyInit>::new_from_slice(self.mac()).map_err(|_| VaultError::Format("bad key length".into()))
    }
}

/// Encrypt: (HMAC, ciphertext) for `plaintext` under `password` and `salt`.
pub fn encrypt(plaintext: &[u8], password: &[u8], salt: &[u8]) -> Result<(Vec<u8>, Vec<u8>), VaultError> {
    let keys = Keys::derive(password, salt);
    let mut buf = pad(plaintext);
    keys.cipher()?.apply_keystream(&mut buf);
    let mut mac = keys.hmac()?;
    mac.update(&buf);
    Ok((mac.finalize().into_bytes().to_vec(), buf))
}

/// Decrypt, refusing (as a wrong password) a ciphertext whose HMAC does not match; the plaintext is wiped on drop.
pub fn decrypt(ciphertext: &[u8], hmac: &[u8], password: &[u8], salt: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let keys = Keys::derive(password, salt);
    let mut mac = keys.hmac()?;
    mac.update(ciphertext);
    // constant-time comparison (subtle, inside verify_slice)
    mac.verify_slice(hmac).map_err(|_| VaultError::HmacMismatch)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    keys.cipher()?.apply_keystream(&mut buf);
    unpad(&mut buf)?;
    Ok(buf)
}

/// PKCS#7 to the AES block: 1..=16 bytes of the pad length (a full block for aligned input).
fn pad(data: &[u8]) -> Vec<u8> {
    let n = BLOCK - data.len() % BLOCK;
    let mut v = Vec::with_capacity(data.len() + n);
    v.extend_from_slice(data);
    v.resize(data.len() + n, n as u8);
    v
}

fn unpad(buf: &mut Zeroizing<Vec<u8>>) -> Result<(), VaultError> {
    let bad = || VaultError::Format("invalid padding in the decrypted data".into());
    let n = *buf.last().ok_or_else(bad)? as usize;
    if n == 0 || n > BLOCK || n > buf.len() || !buf.len().is_multiple_of(BLOCK) || !buf[buf.len() - n..].iter().all(|&b| b as usize == n) {
        return Err(bad());
    }
    let keep = buf.len() - n;
    buf.truncate(keep);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_including_empty_and_block_aligned() {
        for plain in [&b""[..], b"x", b"0123456789abcdef", "h\u{e9}llo \u{65e5}\u{672c}".as_bytes()] {
            let (mac, ct) = encrypt(plain, b"pw", &[7; SALT_LEN]).unwrap();
            assert_eq!(ct.len() % 16, 0);
            assert!(ct.len() > plain.len());
            assert_eq!(decrypt(&ct, &mac, b"pw", &[7; SALT_LEN]).unwrap().as_slice(), plain);
        }
    }

    #[test]
    fn wrong_password_or_flipped_byte_is_refused() {
        let (mac, ct) = encrypt(b"secret", b"pw", &[7; SALT_LEN]).unwrap();
        assert!(matches!(decrypt(&ct, &mac, b"other", &[7; SALT_LEN]), Err(VaultError::HmacMismatch)));
        let mut flipped = ct.clone();
        flipped[0] ^= 1;
        assert!(matches!(decrypt(&flipped, &mac, b"pw", &[7; SALT_LEN]), Err(VaultError::HmacMismatch)));
        let mut bad_mac = mac.clone();
        bad_mac[31] ^= 0x80;
        assert!(matches!(decrypt(&ct, &bad_mac, b"pw", &[7; SALT_LEN]), Err(VaultError::HmacMismatch)));
        assert!(decrypt(&ct, &mac[..16], b"pw", &[7; SALT_LEN]).is_err());
    }

    #[test]
    fn padding_errors() {
        for bad in [
            vec![],
            vec![0u8; 16],
            vec![17u8; 16],
            {
                let mut v = vec![3u8; 16];
                v[14] = 2;
                v
            },
            vec![1u8; 15],
        ] {
            assert!(unpad(&mut Zeroizing::new(bad.clone())).is_err(), "{bad:?}");
        }
        let mut ok = Zeroizing::new(vec![16u8; 16]);
        unpad(&mut ok).unwrap();
        assert!(ok.is_empty());
    }

    #[test]
    fn bad_padding_under_a_valid_hmac_is_an_error() {
        // a ciphertext whose plaintext is not padded, with a correct HMAC: padding error, no panic
        let keys = Keys::derive(b"pw", &[1; SALT_LEN]);
        let mut buf = vec![0u8; 16];
        keys.cipher().unwrap().apply_keystream(&mut buf);
        let mut mac = keys.hmac().unwrap();
        mac.update(&buf);
        let tag = mac.finalize().into_bytes().to_vec();
        assert!(matches!(decrypt(&buf, &tag, b"pw", &[1; SALT_LEN]), Err(VaultError::Format(_))));
    }
}
