//! An app: code, name, language, state, and what a new app and an update carry.

use std::fmt;

use bk_core::clock::Millis;
use bk_core::types::{AppCode, InvalidValue};
use serde::{Deserialize, Serialize};

use super::state::AppState;

/// Codes a new app may not take: they collide with the platform's own paths
/// (`/<code>/`-style links, `<code>.<root>` sub-domains of the platform's hosts) or read
/// as one of its services.
pub const RESERVED_CODES: &[&str] = &[
    "accounts",
    "admin",
    "agent",
    "agents",
    "api",
    "apigw",
    "apps",
    "appengine",
    "assets",
    "auth",
    "bk",
    "bkapps",
    "bkpaas",
    "console",
    "docs",
    "engine",
    "esb",
    "gateway",
    "healthz",
    "login",
    "logout",
    "media",
    "metrics",
    "o",
    "oauth",
    "openapi",
    "paas",
    "prod",
    "stag",
    "static",
    "t",
    "test",
    "v1",
    "v2",
    "v3",
    "www",
];

/// Validate the code of a NEW app: the contract's `^[a-z][a-z0-9-]{1,15}$`
/// ([`AppCode::parse`]), not reserved, and no shape the app router could misread: no
/// `--` (it separates env, module and code in `/<env>--<module>--<code>/`), no trailing
/// `-`, no `stag-dot-` prefix (`stag-dot-<code>.<root>` is the stag sub-domain of
/// `<code>`). Existing codes (imports, S-mart) go through [`AppCode::parse_legacy`].
pub fn new_app_code(s: &str) -> Result<AppCode, InvalidValue> {
    let code = AppCode::parse(s)?;
    let bad = |reason: &str| InvalidValue {
        field: "app_code",
        reason: reason.to_owned(),
    };
    if RESERVED_CODES.contains(&s) {
        return Err(bad(&format!(
            "{s:?} is reserved for the platform's own paths; choose another code"
        )));
    }
    if s.contains("--") {
        return Err(bad(
            "must not contain \"--\" (the app router uses it as a separator)",
        ));
    }
    if s.ends_with('-') {
        return Err(bad("must not end with '-'"));
    }
    if s.starts_with("stag-dot-") {
        return Err(bad(
            "must not start with \"stag-dot-\" (the stag sub-domain prefix)",
        ));
    }
    Ok(code)
}

/// An app's display name: 1-20 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AppName(String);

impl AppName {
    /// Most characters of a name (contract §4).
    pub const MAX_CHARS: usize = 20;

    /// Validate a name; surrounding white space is dropped.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let t = s.trim();
        let n = t.chars().count();
        if n == 0 || n > Self::MAX_CHARS {
            return Err(InvalidValue {
                field: "name",
                reason: format!("must be 1-{} characters (got {n})", Self::MAX_CHARS),
            });
        }
        if t.chars().any(char::is_control) {
            return Err(InvalidValue {
                field: "name",
                reason: "must not contain control characters".into(),
            });
        }
        Ok(Self(t.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The main language of an app or module (V6 `app_lang`, V7 `language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// Python.
    Python,
    /// Go.
    Go,
    /// Node.js.
    NodeJs,
    /// Java.
    Java,
    /// PHP.
    Php,
    /// Rust.
    Rust,
    /// Anything else (shell, a binary...).
    #[default]
    Other,
}

impl Language {
    /// Every language, in display order.
    pub const ALL: [Language; 7] = [
        Language::Python,
        Language::Go,
        Language::NodeJs,
        Language::Java,
        Language::Php,
        Language::Rust,
        Language::Other,
    ];

    /// The name BK shows (`Python`, `NodeJS`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::Go => "Go",
            Language::NodeJs => "NodeJS",
            Language::Java => "Java",
            Language::Php => "PHP",
            Language::Rust => "Rust",
            Language::Other => "Other",
        }
    }

    /// Parse a name, case-insensitively (`python`, `NodeJS`, `nodejs`...).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let t = s.trim();
        Language::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .or_else(|| t.eq_ignore_ascii_case("node").then_some(Language::NodeJs))
            .ok_or_else(|| InvalidValue {
                field: "language",
                reason: format!(
                    "unknown language {t:?}; known: {}",
                    Language::ALL.map(Language::as_str).join(", ")
                ),
            })
    }
}

impl Serialize for Language {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Language::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An app as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The code (primary key).
    pub code: AppCode,
    /// Random UUID, the `id` V7 clients see.
    pub uuid: String,
    /// Display name, unique.
    pub name: AppName,
    /// Main language.
    pub language: Language,
    /// Free text for people.
    pub description: String,
    /// Who created it.
    pub creator: String,
    /// V6 state.
    pub state: AppState,
    /// Only superusers may deploy `prod`.
    pub prod_protected: bool,
    /// Milliseconds since the epoch.
    pub created_at: Millis,
    /// Last change of the fields above.
    pub updated_at: Millis,
}

/// What creating an app needs; the store writes it together with the default module,
/// the creator's membership, the first secret and the audit entry, in one transaction.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// The app row.
    pub app: App,
    /// Its default module.
    pub default_module: super::NewModule,
    /// The first app secret, sealed.
    pub secret: super::SealedSecret,
}

/// Fields to change; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppPatch {
    /// New name (unique).
    pub name: Option<AppName>,
    /// New description.
    pub description: Option<String>,
    /// Protect or unprotect prod.
    pub prod_protected: Option<bool>,
    /// New language.
    pub language: Option<Language>,
}

impl AppPatch {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self == &AppPatch::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_codes_follow_the_contract_and_avoid_platform_paths() {
        for ok in ["my-app", "ab", "a1", "bk-demo-2024", "abcdefghijklmnop"] {
            assert!(new_app_code(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "1ab",
            "My-app",
            "my_app",
            "abcdefghijklmnopq",
            "login",
            "api",
            "console",
            "static",
            "v1",
            "paas",
            "healthz",
            "metrics",
            "docs",
            "admin",
            "agent",
            "bkapps",
            "a--b",
            "app-",
            "stag-dot-x",
            "",
        ] {
            let e = new_app_code(bad).unwrap_err();
            assert_eq!(e.field, "app_code", "{bad}");
        }
        assert!(
            new_app_code("console")
                .unwrap_err()
                .reason
                .contains("reserved")
        );
        // Legacy codes keep the wider rule.
        assert!(AppCode::parse_legacy("my_app").is_ok());
    }

    #[test]
    fn names() {
        assert_eq!(AppName::parse("  我的应用 ").unwrap().as_str(), "我的应用");
        assert!(AppName::parse("12345678901234567890").is_ok());
        assert!(AppName::parse("一二三四五六七八九十一二三四五六七八九十").is_ok());
        for bad in ["", "   ", "123456789012345678901", "a\u{7}b"] {
            assert_eq!(AppName::parse(bad).unwrap_err().field, "name", "{bad:?}");
        }
    }

    #[test]
    fn languages() {
        assert_eq!(Language::parse("python").unwrap(), Language::Python);
        assert_eq!(Language::parse("NODEJS").unwrap(), Language::NodeJs);
        assert_eq!(Language::parse("node").unwrap(), Language::NodeJs);
        assert_eq!(Language::parse("php").unwrap().as_str(), "PHP");
        assert!(
            Language::parse("cobol")
                .unwrap_err()
                .reason
                .contains("Python")
        );
        let l: Language = serde_json::from_str("\"go\"").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"Go\"");
    }
}
