//! HMAC-SHA1 request signatures (contracts §3): the message is `METHOD + path + "?" +
//! "&".join("k=v" for every query parameter but bk_signature, sorted by key)`, with
//! `data=<raw body>` as one more pair for POST; the signature is its base64 HMAC under
//! one of the app's secrets, compared in constant time.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// What a signature covers.
#[derive(Debug)]
pub struct Signed<'a> {
    /// `GET`, `POST`...
    pub method: &'a str,
    /// The path as the client sent it (`/api/c/compapi/v2/bk_login/get_user/`).
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// The raw body (signed for POST).
    pub body: &'a [u8],
}

impl Signed<'_> {
    /// The signed message.
    pub fn message(&self) -> String {
        let mut pairs: Vec<(&str, std::borrow::Cow<'_, str>)> = self
            .query
            .iter()
            .filter(|(k, _)| k != "bk_signature")
            .map(|(k, v)| (k.as_str(), std::borrow::Cow::Borrowed(v.as_str())))
            .collect();
        if self.method == "POST" {
            pairs.push(("data", String::from_utf8_lossy(self.body)));
        }
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let mut m = String::with_capacity(64);
        m.push_str(self.method);
        m.push_str(self.path);
        m.push('?');
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                m.push('&');
            }
            m.push_str(k);
            m.push('=');
            m.push_str(v);
        }
        m
    }
}

/// base64(HMAC-SHA1(secret, message)).
pub fn sign(secret: &str, message: &str) -> String {
    let mut mac = match <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is unreachable.
        Err(_) => return String::new(),
    };
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is the signature of `message` under `secret` (constant time).
pub fn verify(secret: &str, message: &str, signature: &str) -> bool {
    let expected = sign(secret, message);
    !expected.is_empty() && expected.as_bytes().ct_eq(signature.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_vector_passes() {
        let q = [
            ("abc".to_owned(), "xyz".to_owned()),
            ("bk_nonce".to_owned(), "12345".to_owned()),
            ("bk_timestamp".to_owned(), "1936162716".to_owned()),
            ("bk_signature".to_owned(), "ignored".to_owned()),
        ];
        let s = Signed {
            method: "GET",
            path: "/echo/",
            query: &q,
            body: b"",
        };
        assert_eq!(
            s.message(),
            "GET/echo/?abc=xyz&bk_nonce=12345&bk_timestamp=1936162716"
        );
        assert_eq!(
            sign("valid-secret", &s.message()),
            "8lzxAJAoNX4D3O1QXfDpH+TzD20="
        );
        assert!(verify(
            "valid-secret",
            &s.message(),
            "8lzxAJAoNX4D3O1QXfDpH+TzD20="
        ));
        assert!(!verify(
            "other-secret",
            &s.message(),
            "8lzxAJAoNX4D3O1QXfDpH+TzD20="
        ));
    }

    #[test]
    fn post_bodies_are_signed_as_data() {
        let q = [("bk_nonce".to_owned(), "1".to_owned())];
        let s = Signed {
            method: "POST",
            path: "/p/",
            query: &q,
            body: br#"{"a":1}"#,
        };
        assert_eq!(s.message(), r#"POST/p/?bk_nonce=1&data={"a":1}"#);
    }
}
