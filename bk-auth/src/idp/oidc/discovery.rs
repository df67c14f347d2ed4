//! OIDC Discovery: the provider's endpoints, signing algorithms and key set location,
//! read from `<issuer>/.well-known/openid-configuration`.
//!
//! Every URL the document names must be https (plain http only for loopback hosts, as
//! for the issuer itself): a provider must not steer our token exchange or key fetch onto
//! an unencrypted connection.

use jsonwebtoken::Algorithm;
use oauth2::{AuthUrl, TokenUrl};
use serde::Deserialize;

use crate::config::check_issuer;

/// What discovery tells us (the fields we use).
#[derive(Debug, Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
    #[serde(default)]
    jwks_uri: Option<String>,
    #[serde(default)]
    id_token_signing_alg_values_supported: Vec<String>,
}

/// The provider as discovered.
#[derive(Debug)]
pub(super) struct Endpoints {
    pub(super) auth: AuthUrl,
    pub(super) token: TokenUrl,
    pub(super) userinfo: url::Url,
    pub(super) jwks: url::Url,
    /// Algorithms the provider signs ID tokens with, as far as we support them
    /// (asymmetric only); empty when it did not say.
    pub(super) algorithms: Vec<Algorithm>,
}

/// Parse and check a discovery document for `issuer` (without trailing slash). The error
/// says what is wrong, for the log.
pub(super) fn parse(body: &[u8], issuer: &str) -> Result<Endpoints, String> {
    let doc: Document = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if doc.issuer.trim_end_matches('/') != issuer {
        // A provider must announce the issuer we configured (OIDC Discovery §4.3).
        return Err(format!(
            "discovery names issuer {:?}, configured {issuer:?}",
            doc.issuer
        ));
    }
    let userinfo = doc
        .userinfo_endpoint
        .ok_or("discovery document has no userinfo_endpoint")?;
    let jwks = doc
        .jwks_uri
        .ok_or("discovery document has no jwks_uri (ID tokens could not be verified)")?;
    for url in [
        &doc.authorization_endpoint,
        &doc.token_endpoint,
        &userinfo,
        &jwks,
    ] {
        check_issuer(url)?;
    }
    let algorithms = doc
        .id_token_signing_alg_values_supported
        .iter()
        .filter_map(|a| asymmetric(a))
        .collect();
    Ok(Endpoints {
        auth: AuthUrl::new(doc.authorization_endpoint).map_err(|e| e.to_string())?,
        token: TokenUrl::new(doc.token_endpoint).map_err(|e| e.to_string())?,
        userinfo: url::Url::parse(&userinfo).map_err(|e| e.to_string())?,
        jwks: url::Url::parse(&jwks).map_err(|e| e.to_string())?,
        algorithms,
    })
}

/// The public-key algorithm named `name`; `None` for `none`, HMAC (`HS*`: a shared
/// secret, never a provider's public key) and anything unknown.
pub(super) fn asymmetric(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: serde_json::Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }

    fn good() -> serde_json::Value {
        json!({
            "issuer": "https://sso.example.com/",
            "authorization_endpoint": "https://sso.example.com/auth",
            "token_endpoint": "https://sso.example.com/token",
            "userinfo_endpoint": "https://sso.example.com/userinfo",
            "jwks_uri": "https://sso.example.com/jwks",
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none", "ES256"],
        })
    }

    #[test]
    fn parses_and_keeps_only_public_key_algorithms() {
        let e = parse(&doc(good()), "https://sso.example.com").unwrap();
        assert_eq!(e.algorithms, vec![Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(e.jwks.as_str(), "https://sso.example.com/jwks");
    }

    #[test]
    fn refuses_other_issuers_missing_keys_and_plain_http() {
        let err = parse(&doc(good()), "https://other.example.com").unwrap_err();
        assert!(err.contains("discovery names issuer"), "{err}");
        let mut d = good();
        d.as_object_mut().unwrap().remove("jwks_uri");
        assert!(
            parse(&doc(d), "https://sso.example.com")
                .unwrap_err()
                .contains("jwks_uri")
        );
        let mut d = good();
        d["token_endpoint"] = json!("http://sso.example.com/token");
        let err = parse(&doc(d), "https://sso.example.com").unwrap_err();
        assert!(err.contains("must use https"), "{err}");
        assert!(parse(b"not json", "https://sso.example.com").is_err());
    }
}
