//! Password login, token verification, logout, and the first-start admin.

use std::sync::Arc;

use bk_core::types::{Role, Username};

use super::LoginService;
use crate::error::{AuthError, Result};
use crate::idp::local::LOCAL;
use crate::idp::{Authenticated, ProviderFlow};
use crate::model::{AuditEntry, LoginResult, NewUser, User};
use crate::password::policy;
use crate::session::Issued;
use crate::store::BUILTIN_ADMIN;
use crate::throttle::Keys;

/// The address of a client the server could not see (served without `ConnectInfo`):
/// its attempts are throttled per account only, never under a shared address key.
pub const UNKNOWN_ADDRESS: &str = "unknown";

/// Who is attempting a login, for throttling and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    /// Client address, or [`UNKNOWN_ADDRESS`].
    pub address: String,
    /// User agent.
    pub user_agent: String,
}

impl LoginService {
    /// Log in with a username and password through the password providers (local store
    /// first). Each attempt is counted by the throttle before its password is checked
    /// and audited. A disabled account answers exactly like a wrong password (same error,
    /// same work, still counted), while the audit log records `disabled`.
    pub async fn login_password(
        &self,
        username: &str,
        password: &str,
        client: &ClientInfo,
    ) -> Result<Issued> {
        let keys = Keys::new(username, &client.address);
        if let Err(e) = self.throttle.admit(&keys).await {
            self.audit(username, client, LoginResult::Throttled, LOCAL)
                .await;
            return Err(e);
        }
        let outcome =
            if Username::parse(username).is_err() || password.is_empty() || password.len() > 1024 {
                // Still spend the time of a real check so invalid names are not distinguishable.
                let _ = self.hasher.verify(password, None).await;
                Err(AuthError::BadCredentials)
            } else {
                self.authenticate(username, password).await
            };
        let (user, provider) = match outcome {
            Ok(found) => found,
            Err(AuthError::BadCredentials) => {
                self.audit(username, client, LoginResult::BadCredentials, LOCAL)
                    .await;
                return Err(AuthError::BadCredentials);
            }
            Err(e) => {
                if let Err(t) = self.throttle.cancel(&keys).await {
                    tracing::warn!(error = %t, "could not take back a throttled attempt");
                }
                return Err(e);
            }
        };
        let issued = if user.disabled {
            Err(AuthError::Disabled)
        } else {
            self.finish_login(&user, client, &provider).await
        };
        match issued {
            Ok(issued) => {
                // The session is committed: a throttle hiccup must not fail the login.
                if let Err(e) = self.throttle.succeed(&keys).await {
                    tracing::warn!(error = %e, "could not clear the throttle after a login");
                }
                Ok(issued)
            }
            Err(AuthError::Disabled) => {
                self.audit(username, client, LoginResult::Disabled, &provider)
                    .await;
                Err(AuthError::BadCredentials)
            }
            Err(e) => Err(e),
        }
    }

    async fn authenticate(&self, username: &str, password: &str) -> Result<(User, String)> {
        if !self.cfg.disable_password_login {
            match crate::idp::IdentityProvider::authenticate(&self.local, username, password).await
            {
                Ok(Authenticated::Local(u)) => return Ok((*u, LOCAL.to_owned())),
                Ok(Authenticated::External(_)) | Err(AuthError::BadCredentials) => {}
                Err(e) => return Err(e),
            }
        }
        for p in self
            .providers
            .iter()
            .filter(|p| p.flow() == ProviderFlow::Password)
        {
            match p.authenticate(username, password).await {
                Ok(Authenticated::External(id)) => {
                    return Ok((self.provision(id).await?, p.id().to_owned()));
                }
                Ok(Authenticated::Local(u)) => return Ok((*u, p.id().to_owned())),
                Err(AuthError::BadCredentials) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(AuthError::BadCredentials)
    }

    /// Issue the token of a verified login and audit it. The user is checked again as the
    /// session is stored (exists, enabled, and for local logins the password hash that
    /// was verified), so a disable or password change racing this login leaves no live
    /// token: `Disabled` when the check fails.
    pub(super) async fn finish_login(
        &self,
        user: &User,
        client: &ClientInfo,
        provider: &str,
    ) -> Result<Issued> {
        let expect_hash = if provider == LOCAL {
            Some(user.password_hash.as_deref().ok_or(AuthError::Disabled)?)
        } else {
            None
        };
        let issued = self
            .sessions
            .issue(
                &user.username,
                &client.address,
                &client.user_agent,
                expect_hash,
            )
            .await?
            .ok_or(AuthError::Disabled)?;
        self.audit(&user.username, client, LoginResult::Success, provider)
            .await;
        Ok(issued)
    }

    /// The username of a live token (the `is_login` fast path): a shared string, no copy.
    pub async fn session_user(&self, token: &str) -> Result<Option<Arc<str>>> {
        self.sessions.verify(token).await
    }

    /// The username of a live token.
    pub async fn is_login(&self, token: &str) -> Result<Option<String>> {
        Ok(self.sessions.verify(token).await?.map(|u| u.to_string()))
    }

    /// The user of a live token; `None` for a disabled or deleted user.
    pub async fn user_of_token(&self, token: &str) -> Result<Option<User>> {
        let Some(username) = self.sessions.verify(token).await? else {
            return Ok(None);
        };
        Ok(self.users.get(&username).await?.filter(|u| !u.disabled))
    }

    /// Revoke a token (logout). Unknown tokens are fine.
    pub async fn logout(&self, token: &str, client: &ClientInfo) -> Result<()> {
        let user = self.sessions.verify(token).await?;
        if self.sessions.revoke(token).await?
            && let Some(u) = user
        {
            self.audit(&u, client, LoginResult::Logout, LOCAL).await;
        }
        Ok(())
    }

    /// Make sure the built-in `admin` exists. On first start it gets `password`, or a
    /// random one that is returned (to be printed once). Returns `None` when `admin`
    /// existed already.
    pub async fn ensure_admin(&self, password: Option<&str>) -> Result<Option<String>> {
        if self.users.get(BUILTIN_ADMIN).await?.is_some() {
            return Ok(None);
        }
        let password = match password.filter(|p| !p.is_empty()) {
            Some(p) => {
                policy::check(&self.cfg.password, BUILTIN_ADMIN, p)?;
                p.to_owned()
            }
            None => {
                bk_core::crypto::random_token(15).map_err(|e| AuthError::Internal(e.to_string()))?
            }
        };
        let user = NewUser {
            username: BUILTIN_ADMIN.into(),
            chname: "Administrator".into(),
            roles: vec![Role::Superuser],
            source: LOCAL.into(),
            password_hash: Some(self.hasher.hash(&password).await?),
            ..NewUser::default()
        };
        match self.users.create(user, self.clock.now_ms()).await {
            Ok(_) => Ok(Some(password)),
            // Another process created it first.
            Err(AuthError::UserExists(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Append to the audit log; a failure here must not fail the login, but is logged.
    pub(super) async fn audit(
        &self,
        username: &str,
        client: &ClientInfo,
        result: LoginResult,
        provider: &str,
    ) {
        let entry = AuditEntry {
            id: 0,
            at: self.clock.now_ms(),
            username: username.chars().take(64).collect(),
            address: client.address.chars().take(64).collect(),
            user_agent: client.user_agent.chars().take(256).collect(),
            result,
            provider: provider.to_owned(),
        };
        if let Err(e) = self.audit.record(&entry).await {
            tracing::warn!(error = %e, "could not write the login audit log");
        }
    }
}
