//! Env vars the developer configures for an app: per scope (all environments, stag, prod)
//! and optionally per module, merged into a release's config snapshot by
//! [`effective_env`]. Values may be credentials: they go into no log, audit detail or
//! error message.

use std::collections::BTreeMap;
use std::fmt;

use bk_core::clock::Millis;
use bk_core::types::{AppCode, InvalidValue};
use serde::Serialize;

use super::env::Env;
use super::module::ModuleName;

/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 8192;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

/// A user env var key: `^[A-Z][A-Z0-9_]*$`, at most 64 characters, not starting with the
/// reserved `BKPAAS_` (contract §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EnvVarKey(String);

impl EnvVarKey {
    /// Longest key.
    pub const MAX_CHARS: usize = 64;

    /// Validate a key.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let b = s.as_bytes();
        let shape = !b.is_empty()
            && b.len() <= Self::MAX_CHARS
            && b[0].is_ascii_uppercase()
            && b.iter()
                .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
        if !shape {
            return Err(InvalidValue {
                field: "key",
                reason: format!(
                    "{s:?} is not an env var key: 1-{} characters matching ^[A-Z][A-Z0-9_]*$",
                    Self::MAX_CHARS
                ),
            });
        }
        if s.starts_with("BKPAAS_") {
            return Err(InvalidValue {
                field: "key",
                reason: format!("{s}: the BKPAAS_ prefix is reserved for the platform"),
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnvVarKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which environments a var applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvScope {
    /// Both environments.
    All,
    /// Staging only.
    Stag,
    /// Production only.
    Prod,
}

impl EnvScope {
    /// Parse `all`, `stag` (or `test`), `prod`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "all" | "_global_" => Ok(EnvScope::All),
            _ => match Env::parse(s) {
                Ok(e) => Ok(EnvScope::from(e)),
                Err(_) => Err(InvalidValue {
                    field: "scope",
                    reason: format!("unknown scope {s:?}; use all, stag (or test) or prod"),
                }),
            },
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvScope::All => "all",
            EnvScope::Stag => "stag",
            EnvScope::Prod => "prod",
        }
    }

    /// Whether a var of this scope applies in `env`.
    pub fn covers(self, env: Env) -> bool {
        self == EnvScope::All || self == EnvScope::from(env)
    }
}

impl From<Env> for EnvScope {
    fn from(e: Env) -> Self {
        match e {
            Env::Stag => EnvScope::Stag,
            Env::Prod => EnvScope::Prod,
        }
    }
}

/// A var as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The app.
    pub app_code: AppCode,
    /// `None`: every module of the app.
    pub module: Option<ModuleName>,
    /// Environments it applies to.
    pub scope: EnvScope,
    /// Key.
    pub key: EnvVarKey,
    /// Value (may be a credential).
    pub value: String,
    /// Free text for people.
    pub description: String,
    /// Who set it last.
    pub updated_by: String,
    /// When (ms).
    pub updated_at: Millis,
}

/// A var to set: the unique key is (module, scope, key); setting it again replaces the
/// value and description.
#[derive(Clone, PartialEq, Eq)]
pub struct NewEnvVar {
    /// `None`: every module.
    pub module: Option<ModuleName>,
    /// Environments.
    pub scope: EnvScope,
    /// Key.
    pub key: EnvVarKey,
    /// Value, at most [`MAX_VALUE_BYTES`].
    pub value: String,
    /// At most [`MAX_DESCRIPTION_CHARS`].
    pub description: String,
}

impl NewEnvVar {
    /// Check the value and description limits (the key, scope and module are parsed
    /// already). `at` names the item in a bulk request (`vars[3]`).
    pub fn check(&self, at: &str) -> Result<(), InvalidValue> {
        if self.value.len() > MAX_VALUE_BYTES {
            return Err(InvalidValue {
                field: "value",
                reason: format!(
                    "{at}{}: the value is {} bytes; at most {MAX_VALUE_BYTES} are allowed",
                    self.key,
                    self.value.len()
                ),
            });
        }
        if self.value.contains('\0') {
            return Err(InvalidValue {
                field: "value",
                reason: format!("{at}{}: the value contains a NUL character", self.key),
            });
        }
        let n = self.description.chars().count();
        if n > MAX_DESCRIPTION_CHARS {
            return Err(InvalidValue {
                field: "description",
                reason: format!(
                    "{at}{}: {n} characters; at most {MAX_DESCRIPTION_CHARS} are allowed",
                    self.key
                ),
            });
        }
        Ok(())
    }
}

// Values never reach a log through Debug.
impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvVar")
            .field("app_code", &self.app_code)
            .field("module", &self.module)
            .field("scope", &self.scope)
            .field("key", &self.key)
            .field("value", &"***")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for NewEnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEnvVar")
            .field("module", &self.module)
            .field("scope", &self.scope)
            .field("key", &self.key)
            .field("value", &"***")
            .finish_non_exhaustive()
    }
}

/// Which vars to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvVarFilter {
    /// Only this scope.
    pub scope: Option<EnvScope>,
    /// Only vars of this module (`Some(None)`: only the all-modules vars).
    pub module: Option<Option<ModuleName>>,
}

impl EnvVarFilter {
    /// Whether `v` passes.
    pub fn matches(&self, v: &EnvVar) -> bool {
        self.scope.is_none_or(|s| s == v.scope)
            && self.module.as_ref().is_none_or(|m| m == &v.module)
    }
}

/// The vars `module` sees in `env`, later rows winning over earlier ones in this order:
/// all modules + all envs < all modules + this env < this module + all envs < this
/// module + this env. (Platform built-ins and add-on credentials are layered on top of
/// this by the release, contract §5.)
pub fn effective_env(vars: &[EnvVar], module: &ModuleName, env: Env) -> BTreeMap<String, String> {
    let rank = |v: &EnvVar| (v.module.is_some(), v.scope != EnvScope::All);
    let mut applicable: Vec<&EnvVar> = vars
        .iter()
        .filter(|v| v.scope.covers(env) && v.module.as_ref().is_none_or(|m| m == module))
        .collect();
    applicable.sort_by_key(|v| rank(v));
    applicable
        .into_iter()
        .map(|v| (v.key.as_str().to_owned(), v.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["A", "DB_URL", "X1_2", "BKAPP_X", "BKPAAS"] {
            assert!(EnvVarKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "1A",
            "A-B",
            "A B",
            "BKPAAS_APP_ID",
            &"A".repeat(65),
        ] {
            assert_eq!(EnvVarKey::parse(bad).unwrap_err().field, "key", "{bad}");
        }
        assert!(
            EnvVarKey::parse("BKPAAS_X")
                .unwrap_err()
                .reason
                .contains("reserved")
        );
    }

    #[test]
    fn scopes() {
        assert_eq!(EnvScope::parse("test").unwrap(), EnvScope::Stag);
        assert_eq!(EnvScope::parse("all").unwrap(), EnvScope::All);
        assert_eq!(EnvScope::parse("nope").unwrap_err().field, "scope");
        assert!(EnvScope::All.covers(Env::Prod));
        assert!(!EnvScope::Stag.covers(Env::Prod));
    }

    fn var(module: Option<&str>, scope: EnvScope, key: &str, value: &str) -> EnvVar {
        EnvVar {
            app_code: AppCode::parse("demo").unwrap(),
            module: module.map(|m| ModuleName::parse(m).unwrap()),
            scope,
            key: EnvVarKey::parse(key).unwrap(),
            value: value.into(),
            description: String::new(),
            updated_by: "admin".into(),
            updated_at: 0,
        }
    }

    #[test]
    fn the_most_specific_var_wins() {
        let vars = vec![
            var(Some("web"), EnvScope::Prod, "A", "web-prod"),
            var(None, EnvScope::All, "A", "app-all"),
            var(Some("web"), EnvScope::All, "A", "web-all"),
            var(None, EnvScope::Prod, "A", "app-prod"),
            var(None, EnvScope::All, "B", "b"),
            var(Some("api"), EnvScope::All, "C", "other module"),
            var(None, EnvScope::Stag, "D", "stag only"),
        ];
        let web = ModuleName::parse("web").unwrap();
        let prod = effective_env(&vars, &web, Env::Prod);
        assert_eq!(prod["A"], "web-prod");
        assert_eq!(prod["B"], "b");
        assert!(!prod.contains_key("C") && !prod.contains_key("D"));
        let stag = effective_env(&vars, &web, Env::Stag);
        assert_eq!(stag["A"], "web-all");
        assert_eq!(stag["D"], "stag only");
        let other = effective_env(&vars, &ModuleName::parse("api").unwrap(), Env::Prod);
        assert_eq!(other["A"], "app-prod");
        assert_eq!(other["C"], "other module");
    }

    #[test]
    fn limits_name_the_field_and_never_the_value() {
        let mut v = NewEnvVar {
            module: None,
            scope: EnvScope::All,
            key: EnvVarKey::parse("TOKEN").unwrap(),
            value: "s3cr3t".repeat(2000),
            description: String::new(),
        };
        let e = v.check("vars[2].").unwrap_err();
        assert_eq!(e.field, "value");
        assert!(e.reason.starts_with("vars[2].TOKEN"));
        assert!(!e.reason.contains("s3cr3t"));
        v.value = "s3cr3t".into();
        assert!(!format!("{v:?}").contains("s3cr3t"));
        v.description = "x".repeat(201);
        assert_eq!(v.check("").unwrap_err().field, "description");
    }
}
