//! What the gateway is configured with (contracts §3 "Model"): systems own channels
//! (compiled components at a path) and self-service HTTP components; apps hold grants; a
//! few apps may name users without a token; components carry rate-limit rules.
//!
//! Values are validated where they enter (admin API, store rows): the registry builds its
//! snapshot from them without re-checking.

use std::collections::BTreeMap;

use bk_core::clock::Millis;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{EsbError, Result};
use crate::ratelimit::RateLimitConf;

/// A backend system (`BK_LOGIN`, `BK_PAAS`...), owner of channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct System {
    /// Upper-case name, `^[A-Z][A-Z0-9_]{1,63}$`.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub label: String,
    /// Free text.
    #[serde(default)]
    pub remark: String,
    /// Timeout of its execute (type 1) channels, seconds.
    #[serde(default)]
    pub execute_timeout: Option<u32>,
    /// Timeout of its query (type 2) channels, seconds.
    #[serde(default)]
    pub query_timeout: Option<u32>,
    /// Usernames of its administrators.
    #[serde(default)]
    pub admins: Vec<String>,
}

/// How sensitive a component is: above `None`, an app needs a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(into = "u8", try_from = "u8")]
pub enum PermLevel {
    /// 0: any authenticated app.
    #[default]
    None,
    /// 1: normal.
    Normal,
    /// 2: sensitive.
    Sensitive,
    /// 3: special.
    Special,
}

impl From<PermLevel> for u8 {
    fn from(p: PermLevel) -> u8 {
        p as u8
    }
}

impl TryFrom<u8> for PermLevel {
    type Error = String;
    fn try_from(v: u8) -> std::result::Result<Self, String> {
        Ok(match v {
            0 => PermLevel::None,
            1 => PermLevel::Normal,
            2 => PermLevel::Sensitive,
            3 => PermLevel::Special,
            _ => {
                return Err(format!(
                    "perm_level {v}: must be 0 none, 1 normal, 2 sensitive or 3 special"
                ));
            }
        })
    }
}

/// Channel type: which system timeout applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(into = "u8", try_from = "u8")]
pub enum ChannelKind {
    /// 1: changes something.
    Execute,
    /// 2: reads.
    #[default]
    Query,
}

impl From<ChannelKind> for u8 {
    fn from(k: ChannelKind) -> u8 {
        match k {
            ChannelKind::Execute => 1,
            ChannelKind::Query => 2,
        }
    }
}

impl TryFrom<u8> for ChannelKind {
    type Error = String;
    fn try_from(v: u8) -> std::result::Result<Self, String> {
        match v {
            1 => Ok(ChannelKind::Execute),
            2 => Ok(ChannelKind::Query),
            _ => Err(format!("type {v}: must be 1 execute or 2 query")),
        }
    }
}

/// A compiled component served at a path (`/bk_login/get_user/`). Built-in components have
/// channels by default; a stored channel with the same path replaces the default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    /// Owning system.
    pub system: String,
    /// Component name within the system (`get_user`).
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub label: String,
    /// Path below `/api/c/compapi/[v2/]`, normalised to `/<path>/`.
    pub path: String,
    /// `GET`, `POST`, or empty for both.
    #[serde(default)]
    pub method: String,
    /// Which compiled component answers (`bk_login.get_user`).
    pub component_codename: String,
    /// Switched on.
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Timeout in seconds (else the system's by type, else 30).
    #[serde(default)]
    pub timeout_time: Option<u32>,
    /// 1 execute, 2 query.
    #[serde(default, rename = "type")]
    pub kind: ChannelKind,
    /// Component configuration.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub comp_conf: serde_json::Value,
    /// Permission level.
    #[serde(default)]
    pub perm_level: PermLevel,
    /// Left out of `esb/get_components`.
    #[serde(default)]
    pub is_hidden: bool,
    /// Whether a user must be identified (`bk_token`, or `bk_username` for allow-listed apps).
    #[serde(default = "yes")]
    pub need_user: bool,
}

fn yes() -> bool {
    true
}

/// How a self-service component sends parameters of a non-GET request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `application/json`.
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// An HTTP component registered online, at `/api/c/self-service-api/<path>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SelfServiceApi {
    /// Owning system.
    pub system: String,
    /// Name within the system.
    pub name: String,
    /// Display name.
    #[serde(default)]
    pub label: String,
    /// Path below `/api/c/self-service-api/`; may hold `{var}` segments.
    pub registed_path: String,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub registed_http_method: String,
    /// Where to forward: `http(s)://…`, may hold the path's `{var}`s.
    pub dest_url: String,
    /// Method towards the backend; empty keeps the caller's.
    #[serde(default)]
    pub dest_http_method: String,
    /// Body format towards the backend.
    #[serde(default)]
    pub body_format: BodyFormat,
    /// Headers added towards the backend.
    #[serde(default)]
    pub extra_headers: BTreeMap<String, String>,
    /// Timeout in seconds (else the system's by method, else 30).
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Permission level.
    #[serde(default)]
    pub perm_level: PermLevel,
    /// Switched on.
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Whether a user must be identified.
    #[serde(default)]
    pub need_user: bool,
}

/// An app's permission to call a component (`<SYSTEM>.<name>`), possibly until a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// The app.
    pub app_code: String,
    /// `<SYSTEM>.<name>`, e.g. `BK_LOGIN.get_user`.
    pub component: String,
    /// Expiry in ms since the epoch; none = forever.
    #[serde(default)]
    pub expires_at: Option<Millis>,
}

/// Rate-limit rules of one component, in the contract's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateLimit {
    /// `<SYSTEM>.<name>`.
    pub component: String,
    /// `{"app_ratelimit": {"__default": [{"tokens": N, "minute": 1}], "<app>": [...]}}`.
    #[schema(value_type = Object)]
    pub conf: RateLimitConf,
}

/// Everything stored, as the registry reads it.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Systems (added to the built-in ones, or replacing them by name).
    pub systems: Vec<System>,
    /// Channels (added, or replacing built-in ones by path).
    pub channels: Vec<Channel>,
    /// Self-service components.
    pub self_service: Vec<SelfServiceApi>,
    /// Grants.
    pub grants: Vec<Grant>,
    /// Apps that may name a user with `bk_username` alone.
    pub skip_user_auth: Vec<String>,
    /// Rate limits.
    pub rate_limits: Vec<RateLimit>,
}

/// `/a/b` → `/a/b/`; `//` collapsed; empty → `/`.
pub fn normalize_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 2);
    out.push('/');
    for seg in p.split('/').filter(|s| !s.is_empty()) {
        out.push_str(seg);
        out.push('/');
    }
    out
}

fn check_name(field: &str, v: &str, upper: bool) -> Result<()> {
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes().all(|c| {
            c.is_ascii_digit()
                || c == b'_'
                || if upper {
                    c.is_ascii_uppercase()
                } else {
                    c.is_ascii_alphabetic() || c == b'.' || c == b'-'
                }
        });
    if ok {
        Ok(())
    } else if upper {
        Err(EsbError::Argument(format!(
            "{field} {v:?}: 1-64 upper-case letters, digits or '_'"
        )))
    } else {
        Err(EsbError::Argument(format!(
            "{field} {v:?}: 1-64 letters, digits, '_', '.' or '-'"
        )))
    }
}

fn check_path(field: &str, v: &str) -> Result<()> {
    let ok = v.starts_with('/')
        && v.len() <= 255
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"/_-.{}".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(EsbError::Argument(format!(
            "{field} {v:?}: a path starting with '/' of letters, digits, '_', '-', '.', '/' and {{var}}"
        )))
    }
}

fn check_method(field: &str, v: &str, allow_empty: bool) -> Result<()> {
    if (allow_empty && v.is_empty()) || ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&v) {
        Ok(())
    } else {
        Err(EsbError::Argument(format!(
            "{field} {v:?}: one of GET, POST, PUT, PATCH, DELETE{}",
            if allow_empty { " or empty" } else { "" }
        )))
    }
}

impl System {
    /// Check the fields.
    pub fn validate(&self) -> Result<()> {
        check_name("name", &self.name, true)
    }
}

impl Channel {
    /// Check the fields and normalise the path.
    pub fn validate(&mut self) -> Result<()> {
        check_name("system", &self.system, true)?;
        check_name("name", &self.name, false)?;
        check_path("path", &self.path)?;
        self.path = normalize_path(&self.path);
        check_method("method", &self.method, true)
    }

    /// `<SYSTEM>.<name>`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.system, self.name)
    }
}

impl SelfServiceApi {
    /// Check the fields and normalise the path.
    pub fn validate(&mut self) -> Result<()> {
        check_name("system", &self.system, true)?;
        check_name("name", &self.name, false)?;
        check_path("registed_path", &self.registed_path)?;
        self.registed_path = normalize_path(&self.registed_path);
        check_method("registed_http_method", &self.registed_http_method, false)?;
        check_method("dest_http_method", &self.dest_http_method, true)?;
        let url = url::Url::parse(&self.dest_url.replace(['{', '}'], ""))
            .map_err(|e| EsbError::Argument(format!("dest_url: {e}")))?;
        if !matches!(url.scheme(), "http") {
            return Err(EsbError::Argument(
                "dest_url: only http:// backends are supported".into(),
            ));
        }
        for (k, v) in &self.extra_headers {
            if http::HeaderName::from_bytes(k.as_bytes()).is_err()
                || http::HeaderValue::from_str(v).is_err()
            {
                return Err(EsbError::Argument(format!(
                    "extra_headers: {k:?} is not a valid header"
                )));
            }
        }
        Ok(())
    }

    /// `<SYSTEM>.<name>`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.system, self.name)
    }
}

impl Grant {
    /// Check the fields.
    pub fn validate(&self) -> Result<()> {
        check_app(&self.app_code)?;
        check_key(&self.component)
    }
}

/// An app code as the gateway accepts it (V6 codes may hold `_`).
pub fn check_app(code: &str) -> Result<()> {
    bk_core::types::AppCode::parse_legacy(code)?;
    Ok(())
}

/// `<SYSTEM>.<name>`.
pub fn check_key(key: &str) -> Result<()> {
    match key.split_once('.') {
        Some((s, n)) => {
            check_name("component system", s, true)?;
            check_name("component name", n, false)
        }
        None => Err(EsbError::Argument(format!(
            "component {key:?}: expected <SYSTEM>.<name>, e.g. BK_LOGIN.get_user"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalize_path("a/b"), "/a/b/");
        assert_eq!(normalize_path("//a//b/"), "/a/b/");
        assert_eq!(normalize_path(""), "/");
    }

    #[test]
    fn levels_and_kinds_parse_from_numbers() {
        assert_eq!(
            serde_json::from_str::<PermLevel>("2").ok(),
            Some(PermLevel::Sensitive)
        );
        assert!(serde_json::from_str::<PermLevel>("4").is_err());
        assert!(serde_json::from_str::<ChannelKind>("0").is_err());
    }

    #[test]
    fn self_service_checks_urls_and_methods() {
        let mut s = SelfServiceApi {
            system: "DEMO".into(),
            name: "echo".into(),
            label: String::new(),
            registed_path: "/demo/{id}".into(),
            registed_http_method: "GET".into(),
            dest_url: "http://127.0.0.1:9/echo/{id}/".into(),
            dest_http_method: String::new(),
            body_format: BodyFormat::Json,
            extra_headers: BTreeMap::new(),
            timeout: None,
            perm_level: PermLevel::None,
            is_active: true,
            need_user: false,
        };
        s.validate().unwrap();
        assert_eq!(s.registed_path, "/demo/{id}/");
        s.registed_http_method = "FETCH".into();
        assert!(s.validate().is_err());
        s.registed_http_method = "GET".into();
        s.dest_url = "file:///etc/passwd".into();
        assert!(s.validate().is_err());
    }
}
