//! From userinfo claims to an [`ExternalIdentity`]: which claim becomes the username.
//!
//! A username is only proposed for the account created at first login (later logins
//! are matched by subject). Even so, a name must not be something the user can pick
//! freely at the provider: an e-mail address's local part is used only when the provider
//! says the address is verified and its domain is allow-listed, so
//! `dave.w@attacker.example` (or an unverified `dave.w@corp.example`) never becomes
//! `dave.w`.

use bk_core::types::Username;
use serde_json::{Map, Value};

use crate::error::{AuthError, Result};

/// The username carried by `claim`. Any claim but `email` must hold a valid username
/// itself; `email` gives its local part under the rules above.
pub(super) fn username_from(
    claims: &Map<String, Value>,
    claim: &str,
    allowed_email_domains: &[String],
) -> Result<String> {
    let value = claims
        .get(claim)
        .and_then(Value::as_str)
        .unwrap_or_default();
    if claim != "email" {
        return Username::parse(value)
            .map(Username::into_string)
            .map_err(|_| {
                AuthError::Provider(format!("claim {claim} missing or not a valid username"))
            });
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err(AuthError::Provider(
            "claim email missing or not an e-mail address".into(),
        ));
    };
    // Policy refusals (403), not provider failures.
    if !email_verified(claims) {
        return Err(AuthError::Forbidden(format!(
            "the provider has not verified the e-mail address {value}; it cannot name an account here"
        )));
    }
    if !domain_allowed(domain, allowed_email_domains) {
        return Err(AuthError::Forbidden(format!(
            "e-mail addresses of {domain} cannot name accounts here (not in allowed_email_domains)"
        )));
    }
    Username::parse(local)
        .map(Username::into_string)
        .map_err(|_| {
            AuthError::Provider(format!(
                "the local part of {value} is not a valid username here"
            ))
        })
}

/// `email_verified` is a boolean; some providers send the string `"true"`.
fn email_verified(claims: &Map<String, Value>) -> bool {
    match claims.get("email_verified") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Exact domains, or `.corp.example` for the domain and its subdomains.
fn domain_allowed(domain: &str, allowed: &[String]) -> bool {
    let domain = domain.to_ascii_lowercase();
    allowed.iter().any(|a| {
        let a = a.trim().to_ascii_lowercase();
        match a.strip_prefix('.') {
            Some(parent) => domain == parent || domain.ends_with(&format!(".{parent}")),
            None => domain == a,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn corp() -> Vec<String> {
        vec!["corp.example".into(), ".group.example".into()]
    }

    #[test]
    fn plain_claims_must_be_usernames() {
        let c = claims(json!({"preferred_username": "alice", "nick": "bob@corp.example"}));
        assert_eq!(
            username_from(&c, "preferred_username", &[]).unwrap(),
            "alice"
        );
        let err = username_from(&c, "nick", &corp()).unwrap_err().to_string();
        assert_eq!(
            err,
            "identity provider: claim nick missing or not a valid username"
        );
        assert!(username_from(&c, "missing", &[]).is_err());
    }

    #[test]
    fn email_local_part_needs_verification_and_an_allowed_domain() {
        let verified = |email: &str| claims(json!({"email": email, "email_verified": true}));
        assert_eq!(
            username_from(&verified("dave.w@corp.example"), "email", &corp()).unwrap(),
            "dave.w"
        );
        assert_eq!(
            username_from(&verified("dave.w@eu.group.example"), "email", &corp()).unwrap(),
            "dave.w"
        );
        assert_eq!(
            username_from(&verified("Dave.W@CORP.example"), "email", &corp()).unwrap(),
            "Dave.W"
        );
        let err = username_from(&verified("dave.w@attacker.example"), "email", &corp())
            .unwrap_err()
            .to_string();
        assert!(err.contains("attacker.example"), "{err}");
        assert!(username_from(&verified("dave.w@corp.example.evil"), "email", &corp()).is_err());
        assert!(username_from(&verified("dave.w@corp.example"), "email", &[]).is_err());
        for unverified in [
            json!({"email": "dave.w@corp.example"}),
            json!({"email": "dave.w@corp.example", "email_verified": false}),
            json!({"email": "dave.w@corp.example", "email_verified": "no"}),
        ] {
            let err = username_from(&claims(unverified), "email", &corp())
                .unwrap_err()
                .to_string();
            assert!(err.contains("not verified"), "{err}");
        }
        let as_string = claims(json!({"email": "eve.x@corp.example", "email_verified": "true"}));
        assert_eq!(
            username_from(&as_string, "email", &corp()).unwrap(),
            "eve.x"
        );
        assert!(username_from(&verified("a@corp.example"), "email", &corp()).is_err());
        assert!(username_from(&verified("no-at-sign"), "email", &corp()).is_err());
    }
}
