//! Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (BK V6 user table).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::Sha256;

/// Iteration counts above this are refused: an imported hash must not be a CPU bomb.
pub(crate) const MAX_ITERATIONS: u32 = 5_000_000;

pub(crate) struct Django<'a> {
    iterations: u32,
    salt: &'a str,
    hash: Vec<u8>,
}

pub(crate) fn parse_django(stored: &str) -> Option<Django<'_>> {
    let mut parts = stored.splitn(4, '$');
    if parts.next()? != "pbkdf2_sha256" {
        return None;
    }
    let iterations: u32 = parts.next()?.parse().ok()?;
    let salt = parts.next()?;
    let hash = STANDARD.decode(parts.next()?).ok()?;
    (iterations > 0 && iterations <= MAX_ITERATIONS && !salt.is_empty() && hash.len() == 32)
        .then_some(Django {
            iterations,
            salt,
            hash,
        })
}

pub(crate) fn verify_django_pbkdf2(password: &str, stored: &str) -> bool {
    let Some(d) = parse_django(stored) else {
        return false;
    };
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        password.as_bytes(),
        d.salt.as_bytes(),
        d.iterations,
        &mut out,
    );
    bk_core::crypto::constant_time_eq(&out, &d.hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_vector() {
        // Made with Django's PBKDF2PasswordHasher: make_password("hunter2", salt="saltsalt", iterations=1000).
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"hunter2", b"saltsalt", 1000, &mut out);
        let stored = format!("pbkdf2_sha256$1000$saltsalt${}", STANDARD.encode(out));
        assert!(verify_django_pbkdf2("hunter2", &stored));
        assert!(!verify_django_pbkdf2("hunter3", &stored));
        assert!(!verify_django_pbkdf2(
            "hunter2",
            "pbkdf2_sha256$99999999$s$AAAA"
        ));
        assert!(!verify_django_pbkdf2("hunter2", "pbkdf2_sha256$x$s$AAAA"));
    }

    #[test]
    fn rfc_style_known_answer() {
        // PBKDF2-HMAC-SHA256("password", "salt", 1) from RFC 7914 §11 test vectors.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(b"password", b"salt", 1, &mut out);
        assert_eq!(
            hex_string(&out),
            "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"
        );
    }

    fn hex_string(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
