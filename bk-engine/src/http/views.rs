//! What the developer API shows: JSON views of the domain values, documented for OpenAPI.
//! Secrets appear only in [`SecretRevealed`] and [`CreatedView`].

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::{App, AuditEntry, EnvVar, Member, Module};
use crate::service::{AppDetail, CreatedApp, RevealedSecret, SecretInfo};

/// An app.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppView {
    /// App code.
    pub code: String,
    /// UUID (the `id` of V7 answers).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Main language.
    pub language: String,
    /// Free text.
    pub description: String,
    /// Who created it.
    pub creator: String,
    /// V6 state code: 0 offline, 1 developing, 3 in test, 4 online, 8 deploying to test,
    /// 9 deploying to prod, 10 going offline.
    pub state: i64,
    /// The state's name.
    pub state_name: String,
    /// Only superusers may deploy prod.
    pub prod_protected: bool,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

impl From<&App> for AppView {
    fn from(a: &App) -> Self {
        Self {
            code: a.code.as_str().to_owned(),
            id: a.uuid.clone(),
            name: a.name.as_str().to_owned(),
            language: a.language.as_str().to_owned(),
            description: a.description.clone(),
            creator: a.creator.clone(),
            state: i64::from(a.state.code()),
            state_name: a.state.name().to_owned(),
            prod_protected: a.prod_protected,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A module.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleView {
    /// Name.
    pub name: String,
    /// UUID.
    pub id: String,
    /// Served at `/t/<code>/` and `/o/<code>/`.
    pub is_default: bool,
    /// Language.
    pub language: String,
    /// Directory inside the package.
    pub source_dir: String,
    /// Who created it.
    pub creator: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl From<&Module> for ModuleView {
    fn from(m: &Module) -> Self {
        Self {
            name: m.name.as_str().to_owned(),
            id: m.uuid.clone(),
            is_default: m.is_default,
            language: m.language.as_str().to_owned(),
            source_dir: m.source_dir.clone(),
            creator: m.creator.clone(),
            created_at: m.created_at,
        }
    }
}

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    /// Username.
    pub username: String,
    /// `developer`.
    pub role: String,
    /// Who added them.
    pub added_by: String,
    /// Milliseconds since the epoch.
    pub added_at: i64,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            username: m.username.clone(),
            role: m.role.as_str().to_owned(),
            added_by: m.added_by.clone(),
            added_at: m.added_at,
        }
    }
}

/// An app with its modules and members.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppDetailView {
    /// The app.
    pub app: AppView,
    /// Modules, default first.
    pub modules: Vec<ModuleView>,
    /// Members.
    pub members: Vec<MemberView>,
}

impl From<&AppDetail> for AppDetailView {
    fn from(d: &AppDetail) -> Self {
        Self {
            app: AppView::from(&d.app),
            modules: d.modules.iter().map(ModuleView::from).collect(),
            members: d.members.iter().map(MemberView::from).collect(),
        }
    }
}

/// A created app with its first secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedView {
    /// The app.
    #[serde(flatten)]
    pub detail: AppDetailView,
    /// The app secret (`bk_app_secret`); its developers may reveal it again later.
    pub secret: String,
}

impl From<&CreatedApp> for CreatedView {
    fn from(c: &CreatedApp) -> Self {
        Self {
            detail: AppDetailView::from(&c.detail),
            secret: c.secret.expose().to_owned(),
        }
    }
}

/// An env var.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvVarView {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
    /// `all`, `stag` or `prod`.
    pub scope: String,
    /// The module, or `null` for every module.
    pub module: Option<String>,
    /// Free text.
    pub description: String,
    /// Who set it last.
    pub updated_by: String,
    /// Milliseconds since the epoch.
    pub updated_at: i64,
}

impl From<&EnvVar> for EnvVarView {
    fn from(v: &EnvVar) -> Self {
        Self {
            key: v.key.as_str().to_owned(),
            value: v.value.clone(),
            scope: v.scope.as_str().to_owned(),
            module: v.module.as_ref().map(|m| m.as_str().to_owned()),
            description: v.description.clone(),
            updated_by: v.updated_by.clone(),
            updated_at: v.updated_at,
        }
    }
}

/// An app secret, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretView {
    /// Sequence number within the app.
    pub id: i64,
    /// First characters, the rest starred.
    pub masked: String,
    /// Whether it still authenticates the app.
    pub live: bool,
    /// Who made it.
    pub created_by: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch, when revoked.
    pub revoked_at: Option<i64>,
}

impl From<&SecretInfo> for SecretView {
    fn from(s: &SecretInfo) -> Self {
        Self {
            id: s.id,
            masked: s.masked.clone(),
            live: s.revoked_at.is_none(),
            created_by: s.created_by.clone(),
            created_at: s.created_at,
            revoked_at: s.revoked_at,
        }
    }
}

/// An app secret in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretRevealed {
    /// Sequence number within the app.
    pub id: i64,
    /// The secret (`bk_app_secret`).
    pub secret: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

impl From<&RevealedSecret> for SecretRevealed {
    fn from(s: &RevealedSecret) -> Self {
        Self {
            id: s.id,
            secret: s.secret.expose().to_owned(),
            created_at: s.created_at,
        }
    }
}

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Entry id.
    pub id: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// From where.
    pub address: String,
    /// Which app.
    pub app_code: Option<String>,
    /// What (`app.create`, `env_var.set`, `secret.reveal`...).
    pub action: String,
    /// Which thing.
    pub target: String,
    /// More facts.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            address: e.address,
            app_code: e.app_code,
            action: e.action,
            target: e.target,
            detail: e.detail,
        }
    }
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Total matching.
    pub count: u64,
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
    /// This page.
    pub results: Vec<AuditView>,
}
