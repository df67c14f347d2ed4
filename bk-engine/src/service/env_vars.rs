//! Env vars of an app. Values are credentials as often as not: they appear in answers to
//! the app's developers only, never in the audit log, a log line or an error message.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::access::Caller;
use super::{EngineService, MAX_BULK_ENV_VARS};
use crate::error::{EngineError, Result};
use crate::model::{EnvScope, EnvVar, EnvVarFilter, EnvVarKey, ModuleName, NewEnvVar};

/// One var to set.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetEnvVar {
    /// `^[A-Z][A-Z0-9_]*$`, not starting with `BKPAAS_`.
    pub key: String,
    /// The value (at most 8192 bytes).
    pub value: String,
    /// `all` (default), `stag` (or `test`), `prod`.
    #[serde(default)]
    pub scope: Option<String>,
    /// A module name; absent: every module.
    #[serde(default)]
    pub module: Option<String>,
    /// Free text (at most 200 characters).
    #[serde(default)]
    pub description: Option<String>,
}

impl std::fmt::Debug for SetEnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetEnvVar")
            .field("key", &self.key)
            .field("scope", &self.scope)
            .field("module", &self.module)
            .finish_non_exhaustive()
    }
}

/// Which vars to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct EnvVarQuery {
    /// `all`, `stag` (or `test`), `prod`; absent: every scope.
    pub scope: Option<String>,
    /// A module name: only that module's vars; empty: only the vars for every module;
    /// absent: all vars.
    pub module: Option<String>,
}

/// Which var to remove.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct UnsetEnvVar {
    /// `all` (default), `stag` (or `test`), `prod`.
    pub scope: Option<String>,
    /// A module name; absent or empty: the var for every module.
    pub module: Option<String>,
}

fn scope_or_all(s: Option<&str>) -> Result<EnvScope> {
    Ok(s.filter(|s| !s.is_empty())
        .map(EnvScope::parse)
        .transpose()?
        .unwrap_or(EnvScope::All))
}

fn module_opt(s: Option<&str>) -> Result<Option<ModuleName>> {
    Ok(s.filter(|s| !s.is_empty())
        .map(ModuleName::parse)
        .transpose()?)
}

/// Validate a bulk request: every item, and no (module, scope, key) twice.
fn parse_bulk(vars: Vec<SetEnvVar>) -> Result<Vec<NewEnvVar>> {
    if vars.is_empty() {
        return Err(EngineError::Invalid("vars: give at least one var".into()));
    }
    if vars.len() > MAX_BULK_ENV_VARS {
        return Err(EngineError::Invalid(format!(
            "vars: {} vars in one request; at most {MAX_BULK_ENV_VARS}",
            vars.len()
        )));
    }
    let mut seen = HashMap::new();
    let mut out = Vec::with_capacity(vars.len());
    for (i, v) in vars.into_iter().enumerate() {
        let at = |e: bk_core::types::InvalidValue| {
            EngineError::Invalid(format!("vars[{i}].{}: {}", e.field, e.reason))
        };
        let n = NewEnvVar {
            key: EnvVarKey::parse(&v.key).map_err(at)?,
            scope: match v.scope.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => EnvScope::parse(s).map_err(at)?,
                None => EnvScope::All,
            },
            module: match v.module.as_deref().filter(|s| !s.is_empty()) {
                Some(m) => Some(ModuleName::parse(m).map_err(at)?),
                None => None,
            },
            value: v.value,
            description: v.description.unwrap_or_default(),
        };
        n.check(&format!("vars[{i}]."))?;
        let id = (n.module.clone(), n.scope, n.key.clone());
        if let Some(first) = seen.insert(id, i) {
            return Err(EngineError::Invalid(format!(
                "vars[{i}]: {} is set twice for the same scope and module (first at vars[{first}])",
                n.key
            )));
        }
        out.push(n);
    }
    Ok(out)
}

impl EngineService {
    /// The app's vars passing `q`.
    pub async fn env_vars(&self, who: &Caller, code: &str, q: &EnvVarQuery) -> Result<Vec<EnvVar>> {
        let app = self.visible_app(who, code).await?;
        let filter = EnvVarFilter {
            scope: q
                .scope
                .as_deref()
                .filter(|s| !s.is_empty())
                .map(EnvScope::parse)
                .transpose()?,
            module: q
                .module
                .as_deref()
                .map(|m| module_opt(Some(m)))
                .transpose()?,
        };
        self.stores
            .env_vars
            .env_vars(app.code.as_str(), &filter)
            .await
    }

    /// Set every var of `vars` or none (one transaction).
    pub async fn set_env_vars(
        &self,
        who: &Caller,
        code: &str,
        vars: Vec<SetEnvVar>,
    ) -> Result<usize> {
        let app = self.visible_app(who, code).await?;
        let vars = parse_bulk(vars)?;
        let keys: Vec<serde_json::Value> = vars
            .iter()
            .map(|v| json!({"key": v.key, "scope": v.scope, "module": v.module}))
            .collect();
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "env_var.set",
            format!("{} env vars", vars.len()),
            json!({ "vars": keys }),
        );
        self.stores
            .env_vars
            .set_env_vars(
                app.code.as_str(),
                &vars,
                who.username(),
                self.clock.now_ms(),
                &audit,
            )
            .await?;
        Ok(vars.len())
    }

    /// Remove one var.
    pub async fn unset_env_var(
        &self,
        who: &Caller,
        code: &str,
        key: &str,
        q: &UnsetEnvVar,
    ) -> Result<()> {
        let app = self.visible_app(who, code).await?;
        let key = EnvVarKey::parse(key)?;
        let scope = scope_or_all(q.scope.as_deref())?;
        let module = module_opt(q.module.as_deref())?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "env_var.unset",
            format!("env var {key}"),
            json!({"key": key, "scope": scope, "module": module}),
        );
        self.stores
            .env_vars
            .unset_env_var(app.code.as_str(), module.as_ref(), scope, &key, &audit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, scope: Option<&str>, module: Option<&str>) -> SetEnvVar {
        SetEnvVar {
            key: key.into(),
            value: "v".into(),
            scope: scope.map(str::to_owned),
            module: module.map(str::to_owned),
            description: None,
        }
    }

    #[test]
    fn bulk_items_are_named_by_index() {
        let e = parse_bulk(vec![set("A", None, None), set("b", None, None)])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("vars[1].key:"), "{e}");
        let e = parse_bulk(vec![set("A", Some("qa"), None)])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("vars[0].scope:"), "{e}");
        let e = parse_bulk(vec![set("A", None, Some("Bad"))])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("vars[0].module:"), "{e}");
        let e = parse_bulk(vec![
            set("A", Some("test"), None),
            set("A", Some("stag"), None),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("set twice") && e.contains("vars[0]"), "{e}");
        let ok = parse_bulk(vec![
            set("A", None, None),
            set("A", Some("prod"), None),
            set("A", None, Some("web")),
        ])
        .unwrap();
        assert_eq!(ok.len(), 3);
        assert!(parse_bulk(vec![]).is_err());
    }
}
