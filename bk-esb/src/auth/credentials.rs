//! Credentials from `X-Bkapi-Authorization` (a JSON object; it wins field by field) and
//! from the parameters (query or body; `app_code`/`app_secret` are V6 aliases).

use http::HeaderMap;
use serde_json::{Map, Value};

use crate::error::{EsbError, Result};

/// The header current clients send credentials in.
pub const AUTH_HEADER: &str = "x-bkapi-authorization";

/// What the caller presented. Never logged: `Debug` shows only which fields are present.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `bk_app_code` / `app_code`.
    pub app_code: Option<String>,
    /// `bk_app_secret` / `app_secret`.
    pub app_secret: Option<String>,
    /// The user's login token.
    pub bk_token: Option<String>,
    /// A username (allow-listed apps only).
    pub bk_username: Option<String>,
    /// An OAuth access token (`access_token` / `bk_access_token`).
    pub access_token: Option<String>,
    /// A gateway JWT (header only).
    pub jwt: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("app_code", &self.app_code)
            .field("app_secret", &self.app_secret.is_some())
            .field("bk_token", &self.bk_token.is_some())
            .field("bk_username", &self.bk_username)
            .field("access_token", &self.access_token.is_some())
            .field("jwt", &self.jwt.is_some())
            .finish()
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first(m: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| text(m.get(*n)))
}

impl Credentials {
    /// Gather from the header, then the parameters for whatever the header left out.
    /// A header that is not a JSON object is refused (1306406).
    pub fn gather(headers: &HeaderMap, params: &Map<String, Value>) -> Result<Self> {
        let mut c = Credentials::default();
        if let Some(h) = headers.get(AUTH_HEADER) {
            let bad = || {
                EsbError::Argument(format!(
                    "{AUTH_HEADER} must be a JSON object, e.g. {{\"bk_app_code\": \"…\", \"bk_app_secret\": \"…\"}}"
                ))
            };
            let v: Value = serde_json::from_slice(h.as_bytes()).map_err(|_| bad())?;
            let m = v.as_object().ok_or_else(bad)?;
            c.app_code = first(m, &["bk_app_code", "app_code"]);
            c.app_secret = first(m, &["bk_app_secret", "app_secret"]);
            c.bk_token = first(m, &["bk_token"]);
            c.bk_username = first(m, &["bk_username"]);
            c.access_token = first(m, &["access_token", "bk_access_token"]);
            c.jwt = first(m, &["jwt"]);
        }
        let or = |have: &mut Option<String>, names: &[&str]| {
            if have.is_none() {
                *have = first(params, names);
            }
        };
        or(&mut c.app_code, &["bk_app_code", "app_code"]);
        or(&mut c.app_secret, &["bk_app_secret", "app_secret"]);
        or(&mut c.bk_token, &["bk_token"]);
        or(&mut c.bk_username, &["bk_username"]);
        or(&mut c.access_token, &["bk_access_token", "access_token"]);
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn header_wins_and_params_fill_the_rest() {
        let mut h = HeaderMap::new();
        h.insert(AUTH_HEADER, r#" { "bk_app_code" : "demo", "bk_app_secret": "s\u0065cret", "bk_token": null, "jwt": "" } "#.parse().unwrap());
        let c = Credentials::gather(
            &h,
            &params(json!({"bk_app_code": "other", "bk_token": "t1", "app_secret": "x"})),
        )
        .unwrap();
        assert_eq!(c.app_code.as_deref(), Some("demo"));
        assert_eq!(c.app_secret.as_deref(), Some("secret"));
        assert_eq!(c.bk_token.as_deref(), Some("t1"));
        assert_eq!(c.jwt, None);
        assert!(!format!("{c:?}").contains("secret\""));
    }

    #[test]
    fn v6_aliases_and_bad_headers() {
        let c = Credentials::gather(
            &HeaderMap::new(),
            &params(json!({"app_code": "demo", "app_secret": "s"})),
        )
        .unwrap();
        assert_eq!(
            (c.app_code.as_deref(), c.app_secret.as_deref()),
            (Some("demo"), Some("s"))
        );
        for bad in ["{not json", "[1]", "\"x\""] {
            let mut h = HeaderMap::new();
            h.insert(AUTH_HEADER, bad.parse().unwrap());
            assert!(
                matches!(
                    Credentials::gather(&h, &Map::new()),
                    Err(EsbError::Argument(_))
                ),
                "{bad}"
            );
        }
    }
}
