//! Who is calling, and which apps they may see.

use bk_core::identity::UserInfo;
use bk_core::types::{AppCode, Role};

use super::EngineService;
use crate::error::{EngineError, Result};
use crate::model::App;

/// An authenticated user of the developer API: a superuser or a developer. The only way
/// to get one is [`EngineService::caller`] (or [`Caller::new`], which applies the same
/// role check), so holding a `Caller` proves the role.
#[derive(Debug, Clone)]
pub struct Caller {
    username: String,
    role: Role,
    address: String,
    service: bool,
}

impl Caller {
    /// A caller for `user` coming from `address`; `Forbidden` unless the user is a
    /// superuser or a developer.
    pub fn new(user: &UserInfo, address: &str) -> Result<Self> {
        if !user.role.may_develop() {
            return Err(EngineError::Forbidden(format!(
                "the developer API needs the role superuser or developer; {} is {}",
                user.username,
                user.role.name()
            )));
        }
        Ok(Self {
            username: user.username.clone(),
            role: user.role,
            address: address.to_owned(),
            service: false,
        })
    }

    /// A service acting through a trusted API (V6 appengine with the service token).
    pub(crate) fn service(name: &str, address: &str) -> Self {
        Self {
            username: name.to_owned(),
            role: Role::Superuser,
            address: address.to_owned(),
            service: true,
        }
    }

    /// Whether this is a platform service rather than a user.
    pub fn is_service(&self) -> bool {
        self.service
    }

    /// Login name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Client address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether the caller may see and operate every app.
    pub fn is_superuser(&self) -> bool {
        self.role == Role::Superuser
    }
}

/// Parse the code of an existing app named in a request.
pub(super) fn existing_code(s: &str) -> Result<AppCode> {
    Ok(AppCode::parse_legacy(s)?)
}

impl EngineService {
    /// The caller behind a `bk_token`; `Unauthenticated` without a live token, `Forbidden`
    /// for roles other than superuser and developer.
    pub async fn caller(&self, token: Option<&str>, address: &str) -> Result<Caller> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(EngineError::Unauthenticated)?;
        let user = self
            .tokens
            .verify(token)
            .await
            .map_err(EngineError::Upstream)?
            .ok_or(EngineError::Unauthenticated)?;
        Caller::new(&user, address)
    }

    /// Whether `who` may see `app`.
    pub async fn may_see(&self, who: &Caller, app: &str) -> Result<bool> {
        if who.is_superuser() {
            return Ok(true);
        }
        self.stores.members.is_member(app, who.username()).await
    }

    /// The app `code` if `who` may see it; `NotFound` alike for unknown and invisible apps.
    pub async fn visible_app(&self, who: &Caller, code: &str) -> Result<App> {
        let code = existing_code(code)?;
        let app = self.stores.apps.get(code.as_str()).await?;
        match app {
            Some(app) if self.may_see(who, code.as_str()).await? => Ok(app),
            _ => Err(EngineError::app_not_found(code.as_str())),
        }
    }

    /// Whether `who` may deploy `prod` of `app`: everyone who sees the app, except that a
    /// protected prod is for superusers only. (Used by the deploy entry points.)
    pub fn check_prod_deploy(&self, who: &Caller, app: &App) -> Result<()> {
        if app.prod_protected && !who.is_superuser() {
            return Err(EngineError::Forbidden(format!(
                "prod of app {} is protected: only superusers may deploy it",
                app.code
            )));
        }
        Ok(())
    }
}
