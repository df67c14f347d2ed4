//! Creating, listing, reading and changing apps.

use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::EngineService;
use super::access::Caller;
use crate::error::{EngineError, Result};
use crate::model::{
    App, AppName, AppPatch, AppState, Language, Member, Module, ModuleName, NewApp, new_app_code,
    new_uuid,
};
use crate::secret::AppSecret;

/// A new app.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// `^[a-z][a-z0-9-]{1,15}$`, not one of the platform's reserved names.
    pub code: String,
    /// Display name, 1-20 characters, unique.
    pub name: String,
    /// `Python`, `Go`, `NodeJS`, `Java`, `PHP`, `Rust` or `Other` (default).
    #[serde(default)]
    pub language: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// Fields to change; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApp {
    /// New display name (unique).
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New language.
    #[serde(default)]
    pub language: Option<String>,
    /// Only superusers may deploy prod (only superusers may change this).
    #[serde(default)]
    pub prod_protected: Option<bool>,
}

/// An app with its modules and developers.
#[derive(Debug, Clone)]
pub struct AppDetail {
    /// The app.
    pub app: App,
    /// Its modules, default first.
    pub modules: Vec<Module>,
    /// Its members.
    pub members: Vec<Member>,
}

/// A created app and its first secret (the creator may reveal it again later).
#[derive(Debug, Clone)]
pub struct CreatedApp {
    /// What was created.
    pub detail: AppDetail,
    /// The first app secret.
    pub secret: AppSecret,
}

/// Longest description, in characters.
pub const MAX_APP_DESCRIPTION: usize = 500;

fn description(d: Option<String>) -> Result<String> {
    let d = d.unwrap_or_default();
    let n = d.chars().count();
    if n > MAX_APP_DESCRIPTION {
        return Err(EngineError::Invalid(format!(
            "description: {n} characters; at most {MAX_APP_DESCRIPTION} are allowed"
        )));
    }
    Ok(d)
}

fn language(l: Option<&str>) -> Result<Language> {
    Ok(l.filter(|l| !l.trim().is_empty())
        .map(Language::parse)
        .transpose()?
        .unwrap_or_default())
}

impl EngineService {
    /// Create an app: `who` becomes its first developer; it gets the module `default` and
    /// a first secret. One transaction with its audit entry.
    pub async fn create_app(&self, who: &Caller, input: CreateApp) -> Result<CreatedApp> {
        self.create_app_for(who, who.username(), input).await
    }

    /// `creator` may develop apps: a caller creating for themselves has proved it already.
    async fn check_creator(&self, who: &Caller, creator: &str) -> Result<()> {
        if creator == who.username() && !who.is_service() {
            return Ok(());
        }
        self.check_developer(creator, "creator").await
    }

    /// Create an app whose first developer is `creator` (V6: a service creates apps for
    /// users). `creator` must be a user of role superuser or developer.
    pub(super) async fn create_app_for(
        &self,
        who: &Caller,
        creator: &str,
        input: CreateApp,
    ) -> Result<CreatedApp> {
        let code = new_app_code(&input.code)?;
        let name = AppName::parse(&input.name)?;
        let language = language(input.language.as_deref())?;
        let description = description(input.description)?;
        self.check_creator(who, creator).await?;
        let now = self.clock.now_ms();
        let app = App {
            code: code.clone(),
            uuid: new_uuid()?,
            name,
            language,
            description,
            creator: creator.to_owned(),
            state: AppState::Developing,
            prod_protected: false,
            created_at: now,
            updated_at: now,
        };
        let module = Module {
            app_code: code.clone(),
            name: ModuleName::default_name(),
            uuid: new_uuid()?,
            is_default: true,
            language,
            source_dir: String::new(),
            creator: creator.to_owned(),
            created_at: now,
        };
        let secret = AppSecret::generate()?;
        let new = NewApp {
            secret: self.secret_box.seal(&code, &secret)?,
            app,
            default_module: module.clone(),
        };
        let audit = self.entry(
            who,
            Some(code.as_str()),
            "app.create",
            format!("app {code}"),
            json!({"name": new.app.name, "language": language, "creator": creator}),
        );
        let app = self.stores.apps.create(&new, &audit).await?;
        tracing::info!(app = %code, actor = who.username(), "app created");
        let members = self.stores.members.members(code.as_str()).await?;
        Ok(CreatedApp {
            detail: AppDetail {
                app,
                modules: vec![module],
                members,
            },
            secret,
        })
    }

    /// The apps `who` may see: all for superusers, else those they are a member of.
    pub async fn list_apps(&self, who: &Caller) -> Result<Vec<App>> {
        let member = (!who.is_superuser()).then_some(who.username());
        self.stores.apps.list(member).await
    }

    /// One app with its modules and members.
    pub async fn app_detail(&self, who: &Caller, code: &str) -> Result<AppDetail> {
        let app = self.visible_app(who, code).await?;
        let code = app.code.as_str().to_owned();
        Ok(AppDetail {
            modules: self.stores.modules.modules(&code).await?,
            members: self.stores.members.members(&code).await?,
            app,
        })
    }

    /// Change name, description, language, or (superusers) prod protection.
    pub async fn update_app(&self, who: &Caller, code: &str, input: UpdateApp) -> Result<App> {
        let app = self.visible_app(who, code).await?;
        let patch = AppPatch {
            name: input.name.as_deref().map(AppName::parse).transpose()?,
            description: input.description.map(Some).map(description).transpose()?,
            language: input.language.as_deref().map(Language::parse).transpose()?,
            prod_protected: input.prod_protected,
        };
        if patch.is_empty() {
            return Err(EngineError::Invalid(
                "body: nothing to change; give name, description, language or prod_protected"
                    .into(),
            ));
        }
        if patch
            .prod_protected
            .is_some_and(|p| p != app.prod_protected)
            && !who.is_superuser()
        {
            return Err(EngineError::Forbidden(
                "prod_protected: only superusers may protect or unprotect prod".into(),
            ));
        }
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "app.update",
            format!("app {}", app.code),
            json!({
                "name": patch.name,
                "description_changed": patch.description.is_some(),
                "language": patch.language,
                "prod_protected": patch.prod_protected,
            }),
        );
        self.stores
            .apps
            .update(app.code.as_str(), &patch, self.clock.now_ms(), &audit)
            .await
    }

    /// `username` exists with a role that may use the developer center; else `Invalid`
    /// naming `field`.
    pub(super) async fn check_developer(&self, username: &str, field: &str) -> Result<()> {
        let user = self
            .users
            .get_user(username)
            .await
            .map_err(EngineError::Upstream)?
            .ok_or_else(|| EngineError::Invalid(format!("{field}: no user named {username}")))?;
        if !user.role.may_develop() {
            return Err(EngineError::Invalid(format!(
                "{field}: {username} has the role {}; only superusers and developers can develop apps",
                user.role.name()
            )));
        }
        Ok(())
    }
}
