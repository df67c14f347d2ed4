//! Redirect logins through external identity providers, and provisioning of their users.

use bk_core::crypto;
use bk_core::types::Username;

use super::LoginService;
use super::login::ClientInfo;
use crate::error::{AuthError, Result};
use crate::idp::{ExternalIdentity, IdentityProvider, ProviderFlow};
use crate::model::{LoginResult, NewUser, User};
use crate::session::Issued;
use crate::store::PendingLogin;

const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

impl LoginService {
    fn redirect_provider(&self, id: &str) -> Result<&std::sync::Arc<dyn IdentityProvider>> {
        self.providers
            .iter()
            .find(|p| p.id() == id && p.flow() == ProviderFlow::Redirect)
            .ok_or_else(|| AuthError::Invalid(format!("unknown identity provider {id:?}")))
    }

    /// First leg: remember the pending login and return where to send the browser.
    pub async fn start_external(
        &self,
        provider: &str,
        c_url: &str,
        redirect_uri: &str,
    ) -> Result<String> {
        let p = self.redirect_provider(provider)?;
        let start = p.start(redirect_uri).await?;
        self.pending
            .put(&PendingLogin {
                state_hash: crypto::sha256_hex(start.state.as_bytes()),
                provider: provider.to_owned(),
                pkce_verifier: start.pkce_verifier,
                nonce: start.nonce,
                c_url: c_url.to_owned(),
                expires_at: self.clock.now_ms() + PENDING_TTL_MS,
            })
            .await?;
        Ok(start.authorize_url)
    }

    /// Second leg: check `state`, exchange `code`, provision the user, issue a token.
    /// Returns the token and the `c_url` saved at the first leg.
    pub async fn finish_external(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        redirect_uri: &str,
        client: &ClientInfo,
    ) -> Result<(Issued, String)> {
        let p = self.redirect_provider(provider)?;
        let pending = self
            .pending
            .take(&crypto::sha256_hex(state.as_bytes()), self.clock.now_ms())
            .await?
            .filter(|pl| pl.provider == provider)
            .ok_or_else(|| {
                AuthError::Invalid("login state unknown or expired; start the login again".into())
            })?;
        let identity = match p.finish(code, &pending, redirect_uri).await {
            Ok(id) => id,
            Err(e) => {
                self.audit("", client, LoginResult::ProviderError, provider)
                    .await;
                return Err(e);
            }
        };
        let user = self.provision(identity).await?;
        if user.disabled {
            self.audit(&user.username, client, LoginResult::Disabled, provider)
                .await;
            return Err(AuthError::Disabled);
        }
        let issued = self.finish_login(&user, client, provider).await?;
        Ok((issued, pending.c_url))
    }

    /// The local user for an external identity, created on first login. A local account
    /// of the same name from another source is never taken over.
    pub(super) async fn provision(&self, id: ExternalIdentity) -> Result<User> {
        let username = Username::parse(&id.username).map_err(|_| {
            AuthError::Provider(format!(
                "the provider's username {:?} is not a valid username here",
                id.username
            ))
        })?;
        if let Some(u) = self.users.get(username.as_str()).await? {
            if u.source != id.provider {
                return Err(AuthError::Forbidden(format!(
                    "user {} exists and belongs to {}; ask an administrator to link the accounts",
                    u.username, u.source
                )));
            }
            return Ok(u);
        }
        let new = NewUser {
            username: username.into_string(),
            chname: id.chname,
            email: id.email,
            phone: id.phone,
            roles: vec![id.default_role],
            source: id.provider,
            ..NewUser::default()
        };
        let name = new.username.clone();
        match self.users.create(new, self.clock.now_ms()).await {
            Ok(u) => Ok(u),
            Err(AuthError::UserExists(_)) => self
                .users
                .get(&name)
                .await?
                .ok_or(AuthError::UserNotFound(name)),
            Err(e) => Err(e),
        }
    }
}
