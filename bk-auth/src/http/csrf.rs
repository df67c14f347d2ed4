//! The login form's CSRF token: a random value and its HMAC-SHA256 under the server's
//! CSRF key, sent both as a cookie and as a hidden field. A post passes only when both are
//! equal, have the exact length, and carry a valid signature, so a value an attacker
//! planted in the cookie (from a sibling subdomain, say) does not pass. When the browser
//! sends `Origin`, it must be the login's own origin.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bk_core::crypto;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Random bytes of a token.
const NONCE_BYTES: usize = 32;
/// `<43 chars nonce>.<43 chars signature>`.
pub const TOKEN_LEN: usize = 43 + 1 + 43;

fn mac(key: &[u8], nonce: &str) -> Option<Hmac<Sha256>> {
    // HMAC takes keys of any length; `new_from_slice` does not fail for it.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
    m.update(b"bk-login-csrf\0");
    m.update(nonce.as_bytes());
    Some(m)
}

/// A new signed token.
pub fn issue(key: &[u8]) -> Option<String> {
    let nonce = crypto::random_token(NONCE_BYTES).ok()?;
    let sig = URL_SAFE_NO_PAD.encode(mac(key, &nonce)?.finalize().into_bytes());
    Some(format!("{nonce}.{sig}"))
}

/// Whether `token` is one this server signed (exact length, valid signature).
pub fn is_signed(key: &[u8], token: &str) -> bool {
    if token.len() != TOKEN_LEN {
        return false;
    }
    let Some((nonce, sig)) = token.split_once('.') else {
        return false;
    };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(sig) else {
        return false;
    };
    mac(key, nonce).is_some_and(|m| m.verify_slice(&sig).is_ok())
}

/// Whether a form post passes: the cookie and the field are the same signed token.
pub fn check(key: &[u8], cookie: Option<&str>, field: &str) -> bool {
    cookie.is_some_and(|c| {
        crypto::constant_time_eq(c.as_bytes(), field.as_bytes()) && is_signed(key, c)
    })
}

/// Whether the request's `Origin` (if any) is the login's own origin. Browsers send it on
/// every cross-site POST, so a missing header is allowed (old browsers, scripts), a
/// different one is not (including `null`, sent from sandboxed or privacy-sensitive
/// contexts).
pub fn origin_ok(origin_header: Option<&str>, own_origin: &str) -> bool {
    let Some(sent) = origin_header else {
        return true;
    };
    match (url::Url::parse(sent), url::Url::parse(own_origin)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin() && a.origin().is_tuple(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn signed_tokens_pass_forged_ones_do_not() {
        let t = issue(KEY).unwrap();
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(check(KEY, Some(&t), &t));
        // Any equal pair of unsigned values (what the old check accepted).
        let forged = "a".repeat(TOKEN_LEN);
        assert!(!check(KEY, Some(&forged), &forged));
        // Another server's key.
        assert!(!check(b"another key of thirty-two bytes!", Some(&t), &t));
        // Field differs from the cookie.
        let other = issue(KEY).unwrap();
        assert!(!check(KEY, Some(&t), &other));
        assert!(!check(KEY, None, &t));
        // Length is required: a truncated or padded token fails before any parsing.
        assert!(!check(KEY, Some(&t[..TOKEN_LEN - 1]), &t[..TOKEN_LEN - 1]));
        let long = format!("{t}x");
        assert!(!check(KEY, Some(&long), &long));
        // Signature over another nonce.
        let (_, sig) = t.split_once('.').unwrap();
        let swapped = format!("{}.{sig}", "b".repeat(43));
        assert!(!check(KEY, Some(&swapped), &swapped));
    }

    #[test]
    fn origin_must_match_when_sent() {
        let own = "https://paas.example.com";
        assert!(origin_ok(None, own));
        assert!(origin_ok(Some("https://paas.example.com"), own));
        assert!(origin_ok(Some("https://paas.example.com:443"), own));
        assert!(!origin_ok(Some("https://evil.example"), own));
        assert!(!origin_ok(Some("http://paas.example.com"), own));
        assert!(!origin_ok(Some("https://paas.example.com:8443"), own));
        assert!(!origin_ok(Some("null"), own));
    }
}
