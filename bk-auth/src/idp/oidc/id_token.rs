//! ID token verification: the signature against the provider's published keys (JWKS),
//! then issuer, audience, expiry and nonce.
//!
//! Only public-key algorithms are accepted (RS*, PS*, ES256/384, EdDSA), and only those
//! the provider announces in discovery when it announces any: `alg: none` is never a
//! signature, and an `HS*` token "signed" with a provider's public key is a classic
//! forgery. The key must also fit the algorithm: its type (`kty`), its `alg` if it
//! names one, and its `use` if given.

use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use super::discovery::asymmetric;
use bk_core::crypto::constant_time_eq;

/// Seconds of clock difference tolerated on `exp`.
const LEEWAY_SECS: i64 = 60;

/// The ID token claims we check.
#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(a) => a == client_id,
            Audience::Many(v) => v.iter().any(|a| a == client_id),
        }
    }

    fn several(&self) -> bool {
        matches!(self, Audience::Many(v) if v.len() > 1)
    }
}

/// What this login expects of its ID token.
#[derive(Debug)]
pub(super) struct Expected<'a> {
    /// Configured issuer, without trailing slash.
    pub(super) issuer: &'a str,
    pub(super) client_id: &'a str,
    pub(super) nonce: &'a str,
    /// Now, seconds since the epoch.
    pub(super) now_secs: i64,
    /// Algorithms the provider announced (empty: any public-key algorithm).
    pub(super) algorithms: &'a [Algorithm],
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Rejected {
    /// No key of the set verifies it: a fresher key set might (key rotation).
    Unverified(&'static str),
    /// Refused whatever the keys.
    Invalid(&'static str),
}

impl Rejected {
    pub(super) fn why(&self) -> &'static str {
        match self {
            Rejected::Unverified(w) | Rejected::Invalid(w) => w,
        }
    }
}

/// Verify `token` against `keys` and `expected`; the subject when it passes.
pub(super) fn verify(
    token: &str,
    keys: &[Jwk],
    expected: &Expected<'_>,
) -> Result<String, Rejected> {
    let alg = signing_algorithm(token)?;
    if !expected.algorithms.is_empty() && !expected.algorithms.contains(&alg) {
        return Err(Rejected::Invalid(
            "signed with an algorithm the provider does not announce",
        ));
    }
    let header = decode_header(token).map_err(|_| Rejected::Invalid("not a JWT"))?;
    if header.crit.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(Rejected::Invalid(
            "critical header extensions are not supported",
        ));
    }
    let candidates: Vec<DecodingKey> = keys
        .iter()
        .filter(|k| header.kid.is_none() || k.common.key_id == header.kid)
        .filter(|k| fits(k, alg))
        .filter_map(|k| DecodingKey::from_jwk(k).ok())
        .filter(|k| k.family() == alg.family())
        .collect();
    if candidates.is_empty() {
        return Err(Rejected::Unverified(
            "no key of the provider matches the token",
        ));
    }
    // Claims are checked below against our clock; the library checks the signature.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut claims = None;
    for key in &candidates {
        match decode::<IdClaims>(token, key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {}
            Err(_) => return Err(Rejected::Invalid("claims missing or malformed")),
        }
    }
    let claims = claims.ok_or(Rejected::Unverified(
        "signature does not verify with the provider's keys",
    ))?;
    check_claims(claims, expected)
}

/// The token's `alg`, if it is a public-key algorithm we accept.
fn signing_algorithm(token: &str) -> Result<Algorithm, Rejected> {
    #[derive(Deserialize)]
    struct Alg {
        alg: String,
    }
    use base64::Engine as _;
    let head = token.split('.').next().unwrap_or_default();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| Rejected::Invalid("not a JWT"))?;
    let Alg { alg } = serde_json::from_slice(&raw).map_err(|_| Rejected::Invalid("not a JWT"))?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(Rejected::Invalid("unsigned (alg none)"));
    }
    if alg.starts_with("HS") {
        return Err(Rejected::Invalid(
            "signed with a shared secret (HS*), not the provider's key",
        ));
    }
    asymmetric(&alg).ok_or(Rejected::Invalid("unsupported signature algorithm"))
}

/// Whether key `k` may verify `alg` tokens (its `use` and `alg`, when given).
fn fits(k: &Jwk, alg: Algorithm) -> bool {
    let use_ok = !matches!(&k.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature);
    let alg_ok = k
        .common
        .key_algorithm
        .is_none_or(|ka| Algorithm::try_from(ka).is_ok_and(|a| a == alg));
    use_ok && alg_ok
}

fn check_claims(claims: IdClaims, expected: &Expected<'_>) -> Result<String, Rejected> {
    if claims.iss.trim_end_matches('/') != expected.issuer {
        return Err(Rejected::Invalid("issuer"));
    }
    if !claims.aud.contains(expected.client_id) {
        return Err(Rejected::Invalid("audience"));
    }
    // OIDC Core §3.1.3.7: with several audiences, `azp` names the one it was issued to.
    if claims.aud.several() && claims.azp.as_deref() != Some(expected.client_id) {
        return Err(Rejected::Invalid("authorized party"));
    }
    if claims.exp + LEEWAY_SECS < expected.now_secs {
        return Err(Rejected::Invalid("expired"));
    }
    if claims.sub.is_empty() {
        return Err(Rejected::Invalid("no subject"));
    }
    match claims.nonce {
        Some(n) if constant_time_eq(n.as_bytes(), expected.nonce.as_bytes()) => Ok(claims.sub),
        _ => Err(Rejected::Invalid("nonce")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::{Value, json};

    const RSA_A: &[u8] = include_bytes!("../../../tests/fixtures/oidc/rsa-a.pem");
    const RSA_B: &[u8] = include_bytes!("../../../tests/fixtures/oidc/rsa-b.pem");
    const EC: &[u8] = include_bytes!("../../../tests/fixtures/oidc/ec-p256.pem");
    const NOW: i64 = 1_700_000_000;

    fn key(pem: &[u8], alg: Algorithm, kid: &str) -> (EncodingKey, Jwk) {
        let enc = match alg.family() {
            jsonwebtoken::AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem).unwrap(),
            _ => EncodingKey::from_rsa_pem(pem).unwrap(),
        };
        let mut jwk = Jwk::from_encoding_key(&enc, alg).unwrap();
        jwk.common.key_id = Some(kid.into());
        (enc, jwk)
    }

    fn claims() -> Value {
        json!({"iss": "https://sso.example.com/", "sub": "u-1", "aud": "bk", "exp": NOW + 300, "nonce": "n1"})
    }

    fn sign(enc: &EncodingKey, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_owned);
        encode(&h, claims, enc).unwrap()
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://sso.example.com",
            client_id: "bk",
            nonce: "n1",
            now_secs: NOW,
            algorithms: &[],
        }
    }

    fn unsigned(header: Value, claims: &Value) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn a_good_token_passes_with_rsa_and_ec_keys() {
        let (enc, jwk) = key(RSA_A, Algorithm::RS256, "a");
        let (ec_enc, ec_jwk) = key(EC, Algorithm::ES256, "e");
        let keys = [jwk, ec_jwk];
        let t = sign(&enc, Algorithm::RS256, Some("a"), &claims());
        assert_eq!(verify(&t, &keys, &expected()), Ok("u-1".into()));
        let t = sign(&ec_enc, Algorithm::ES256, Some("e"), &claims());
        assert_eq!(verify(&t, &keys, &expected()), Ok("u-1".into()));
        // Without a kid every fitting key is tried.
        let t = sign(&enc, Algorithm::RS256, None, &claims());
        assert_eq!(verify(&t, &keys, &expected()), Ok("u-1".into()));
    }

    #[test]
    fn unsigned_hmac_and_foreign_keys_are_refused() {
        let (enc_a, jwk_a) = key(RSA_A, Algorithm::RS256, "a");
        let (enc_b, _) = key(RSA_B, Algorithm::RS256, "b");
        let keys = [jwk_a.clone()];
        let none = unsigned(json!({"alg": "none", "typ": "JWT"}), &claims());
        assert_eq!(
            verify(&none, &keys, &expected()),
            Err(Rejected::Invalid("unsigned (alg none)"))
        );
        let none = unsigned(json!({"alg": "None", "kid": "a"}), &claims());
        assert!(verify(&none, &keys, &expected()).is_err());
        // Signed by another key under the same kid: no key verifies it.
        let forged = sign(&enc_b, Algorithm::RS256, Some("a"), &claims());
        assert_eq!(
            verify(&forged, &keys, &expected()),
            Err(Rejected::Unverified(
                "signature does not verify with the provider's keys"
            ))
        );
        // HS256 with the provider's public modulus as the "secret".
        let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk_a.algorithm else {
            panic!("RSA key expected");
        };
        let secret = EncodingKey::from_secret(rsa.n.as_bytes());
        let hs = sign(&secret, Algorithm::HS256, Some("a"), &claims());
        assert!(matches!(
            verify(&hs, &keys, &expected()),
            Err(Rejected::Invalid(w)) if w.contains("HS*")
        ));
        // A tampered payload.
        let good = sign(&enc_a, Algorithm::RS256, Some("a"), &claims());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut c = claims();
        c["sub"] = json!("admin");
        parts[1] = URL_SAFE_NO_PAD.encode(c.to_string());
        assert!(matches!(
            verify(&parts.join("."), &keys, &expected()),
            Err(Rejected::Unverified(_))
        ));
        // Unknown kid.
        let t = sign(&enc_a, Algorithm::RS256, Some("zz"), &claims());
        assert_eq!(
            verify(&t, &keys, &expected()),
            Err(Rejected::Unverified(
                "no key of the provider matches the token"
            ))
        );
    }

    #[test]
    fn algorithm_must_fit_the_key_and_the_announcement() {
        let (enc, mut jwk) = key(RSA_A, Algorithm::RS256, "a");
        let t = sign(&enc, Algorithm::RS384, Some("a"), &claims());
        // The key says RS256: an RS384 token does not fit it.
        assert!(matches!(
            verify(&t, std::slice::from_ref(&jwk), &expected()),
            Err(Rejected::Unverified(_))
        ));
        jwk.common.key_algorithm = None;
        assert!(verify(&t, std::slice::from_ref(&jwk), &expected()).is_ok());
        let only_es = Expected {
            algorithms: &[Algorithm::ES256],
            ..expected()
        };
        assert!(matches!(
            verify(&t, std::slice::from_ref(&jwk), &only_es),
            Err(Rejected::Invalid(w)) if w.contains("does not announce")
        ));
        jwk.common.public_key_use = Some(PublicKeyUse::Encryption);
        assert!(
            verify(&t, &[jwk], &expected()).is_err(),
            "encryption keys do not verify"
        );
    }

    #[test]
    fn claims_are_checked() {
        let (enc, jwk) = key(RSA_A, Algorithm::RS256, "a");
        let keys = [jwk];
        let check = |edit: &dyn Fn(&mut Value)| {
            let mut c = claims();
            edit(&mut c);
            verify(
                &sign(&enc, Algorithm::RS256, Some("a"), &c),
                &keys,
                &expected(),
            )
        };
        assert_eq!(check(&|_| {}), Ok("u-1".into()));
        assert_eq!(
            check(&|c| c["iss"] = json!("https://evil.example")),
            Err(Rejected::Invalid("issuer"))
        );
        assert_eq!(
            check(&|c| c["aud"] = json!("other")),
            Err(Rejected::Invalid("audience"))
        );
        assert_eq!(
            check(&|c| c["aud"] = json!(["bk", "other"])),
            Err(Rejected::Invalid("authorized party"))
        );
        assert_eq!(
            check(&|c| {
                c["aud"] = json!(["bk", "other"]);
                c["azp"] = json!("bk");
            }),
            Ok("u-1".into())
        );
        assert_eq!(
            check(&|c| c["exp"] = json!(NOW - 61)),
            Err(Rejected::Invalid("expired"))
        );
        assert_eq!(
            check(&|c| c["exp"] = json!(NOW - 30)),
            Ok("u-1".into()),
            "leeway"
        );
        assert_eq!(
            check(&|c| c["nonce"] = json!("n2")),
            Err(Rejected::Invalid("nonce"))
        );
        assert_eq!(
            check(&|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
            Err(Rejected::Invalid("nonce"))
        );
        assert_eq!(
            check(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
            Err(Rejected::Invalid("claims missing or malformed"))
        );
        assert!(verify("garbage", &keys, &expected()).is_err());
    }
}
