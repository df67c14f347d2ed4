//! Modules of an app. Deploys create them from app_desc later; developers may also add
//! them here, choose the default, and delete non-default ones.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::EngineService;
use super::access::Caller;
use crate::error::{EngineError, Result};
use crate::model::{Language, Module, ModuleName, new_uuid};

/// A new module.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateModule {
    /// 1-16 lower-case letters, digits or '-' (no `--`, no trailing '-').
    pub name: String,
    /// Language (default: the app's).
    #[serde(default)]
    pub language: Option<String>,
    /// Directory of the module inside the package; empty or absent: the package root.
    #[serde(default)]
    pub source_dir: Option<String>,
    /// Make it the default module (served at `/t/<code>/` and `/o/<code>/`).
    #[serde(default)]
    pub is_default: bool,
}

/// A relative path inside a package: no `..`, no absolute path, at most 255 characters.
fn source_dir(s: Option<String>) -> Result<String> {
    let s = s.unwrap_or_default();
    let t = s
        .trim()
        .trim_start_matches("./")
        .trim_end_matches('/')
        .to_owned();
    let bad = t.starts_with('/')
        || t.split('/').any(|c| c == ".." || c == ".")
        || t.contains('\\')
        || t.chars().any(char::is_control)
        || t.chars().count() > 255;
    if bad {
        return Err(EngineError::Invalid(format!(
            "source_dir: {s:?} must be a relative path inside the package without '..'"
        )));
    }
    Ok(t)
}

impl EngineService {
    /// The modules of an app, default first.
    pub async fn modules(&self, who: &Caller, code: &str) -> Result<Vec<Module>> {
        let app = self.visible_app(who, code).await?;
        self.stores.modules.modules(app.code.as_str()).await
    }

    /// One module.
    pub async fn module(&self, who: &Caller, code: &str, name: &str) -> Result<Module> {
        let app = self.visible_app(who, code).await?;
        let name = ModuleName::parse(name)?;
        self.stores
            .modules
            .modules(app.code.as_str())
            .await?
            .into_iter()
            .find(|m| m.name == name)
            .ok_or_else(|| EngineError::NotFound(format!("module {name} of app {}", app.code)))
    }

    /// Add a module.
    pub async fn create_module(
        &self,
        who: &Caller,
        code: &str,
        input: CreateModule,
    ) -> Result<Module> {
        let app = self.visible_app(who, code).await?;
        let name = ModuleName::parse(&input.name)?;
        let language = match input.language.as_deref().filter(|l| !l.trim().is_empty()) {
            Some(l) => Language::parse(l)?,
            None => app.language,
        };
        let m = Module {
            app_code: app.code.clone(),
            name,
            uuid: new_uuid()?,
            is_default: input.is_default,
            language,
            source_dir: source_dir(input.source_dir)?,
            creator: who.username().to_owned(),
            created_at: self.clock.now_ms(),
        };
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "module.create",
            format!("module {}", m.name),
            json!({"is_default": m.is_default, "language": m.language, "source_dir": m.source_dir}),
        );
        self.stores.modules.create_module(&m, &audit).await
    }

    /// Make `name` the default module.
    pub async fn set_default_module(&self, who: &Caller, code: &str, name: &str) -> Result<()> {
        let app = self.visible_app(who, code).await?;
        let name = ModuleName::parse(name)?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "module.set_default",
            format!("module {name}"),
            json!({}),
        );
        self.stores
            .modules
            .set_default_module(app.code.as_str(), &name, &audit)
            .await
    }

    /// Delete a module that is not the default, with its env vars. (Once deployments
    /// exist, a module still deployed must be taken offline first: the deployment part of
    /// the engine adds that check here.)
    pub async fn delete_module(&self, who: &Caller, code: &str, name: &str) -> Result<()> {
        let app = self.visible_app(who, code).await?;
        let name = ModuleName::parse(name)?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "module.delete",
            format!("module {name}"),
            json!({}),
        );
        self.stores
            .modules
            .delete_module(app.code.as_str(), &name, &audit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::source_dir;

    #[test]
    fn source_dirs_stay_inside_the_package() {
        assert_eq!(source_dir(None).unwrap(), "");
        assert_eq!(source_dir(Some("./web/".into())).unwrap(), "web");
        assert_eq!(source_dir(Some("src/api".into())).unwrap(), "src/api");
        for bad in ["/etc", "../x", "a/../b", "a\\b", "a/./b"] {
            let e = source_dir(Some(bad.into())).unwrap_err().to_string();
            assert!(e.starts_with("source_dir:"), "{bad}: {e}");
        }
    }
}
