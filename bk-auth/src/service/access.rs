//! Who is calling the admin and profile APIs, and what they may do.

use bk_core::types::Role;

use super::LoginService;
use crate::error::{AuthError, Result};
use crate::model::User;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user.
    pub user: User,
}

impl Caller {
    /// Require one of `roles` (by effective role).
    pub fn require(&self, roles: &[Role]) -> Result<()> {
        let role = self.user.role();
        if roles.contains(&role) {
            Ok(())
        } else {
            let need: Vec<&str> = roles.iter().map(|r| r.name()).collect();
            Err(AuthError::Forbidden(format!(
                "this needs the role {}; you are {}",
                need.join(" or "),
                role.name()
            )))
        }
    }

    /// Require the superuser role.
    pub fn require_superuser(&self) -> Result<()> {
        self.require(&[Role::Superuser])
    }
}

impl LoginService {
    /// The caller behind a token; `Unauthenticated` when there is none.
    pub async fn caller(&self, token: Option<&str>) -> Result<Caller> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Unauthenticated)?;
        let user = self
            .user_of_token(token)
            .await?
            .ok_or(AuthError::Unauthenticated)?;
        Ok(Caller { user })
    }
}
