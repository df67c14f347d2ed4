//! Redirect logins through external identity providers, and provisioning of their users.
//!
//! A pending login (hashed `state`, PKCE verifier, nonce, `c_url`) lives ten minutes and
//! is bound to the browser that started it: the start answers a random value the HTTP
//! layer puts into a short-lived cookie, and only its SHA-256 is stored; the callback must
//! present it. So a finished callback URL opened by anyone else logs no one in (login
//! CSRF).
//!
//! Anonymous starts must not grow storage without bound: `c_url` is capped at
//! [`MAX_C_URL_BYTES`](crate::config::MAX_C_URL_BYTES), expired rows are purged before
//! each start and by maintenance, and at most [`PENDING_PER_ADDRESS`] live pending
//! logins per client address and [`PENDING_TOTAL`] overall are kept (about 2.5 KB each,
//! so a few tens of MB at worst). The per-address cap keeps one client from using up the
//! overall one; the overall cap bounds what many addresses can do, at the price that a
//! flood from many addresses can delay enterprise logins for up to ten minutes, never
//! password logins.
//!
//! External accounts are matched by (provider, subject), never by the name a provider
//! sends: the first login links the subject to the account it creates (or to an account
//! of that provider not linked yet, as imports leave them); afterwards only that subject
//! gets that account, and another subject claiming the same name is refused.

use bk_core::crypto;
use bk_core::types::Username;

use super::LoginService;
use super::login::ClientInfo;
use crate::config::check_c_url_len;
use crate::error::{AuthError, Result};
use crate::idp::{ExternalIdentity, IdentityProvider, ProviderFlow};
use crate::model::{LoginResult, NewUser, User};
use crate::session::Issued;
use crate::store::{LinkedIdentity, PendingLogin};

const PENDING_TTL_MS: i64 = 10 * 60 * 1000;
/// Live pending logins one client address may have.
pub const PENDING_PER_ADDRESS: u64 = 10;
/// Live pending logins overall.
pub const PENDING_TOTAL: u64 = 10_000;

/// The first leg's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalStart {
    /// Where to send the browser.
    pub authorize_url: String,
    /// The value for the browser's state cookie (only its hash is stored).
    pub browser_secret: String,
    /// Seconds the pending login lives (the cookie's `Max-Age`).
    pub ttl_secs: i64,
}

impl LoginService {
    fn redirect_provider(&self, id: &str) -> Result<&std::sync::Arc<dyn IdentityProvider>> {
        self.providers
            .iter()
            .find(|p| p.id() == id && p.flow() == ProviderFlow::Redirect)
            .ok_or_else(|| AuthError::Invalid(format!("unknown identity provider {id:?}")))
    }

    /// First leg: remember the pending login and return where to send the browser, and
    /// the secret that binds the login to it.
    pub async fn start_external(
        &self,
        provider: &str,
        c_url: &str,
        redirect_uri: &str,
        client: &ClientInfo,
    ) -> Result<ExternalStart> {
        let p = self.redirect_provider(provider)?;
        check_c_url_len(c_url).map_err(AuthError::Invalid)?;
        let now = self.clock.now_ms();
        self.pending.purge(now).await?;
        let too_many = AuthError::Locked {
            retry_after_secs: PENDING_TTL_MS / 1000,
        };
        if self.pending.count(Some(&client.address), now).await? >= PENDING_PER_ADDRESS
            || self.pending.count(None, now).await? >= PENDING_TOTAL
        {
            tracing::warn!(address = %client.address, "too many pending external logins; start refused");
            return Err(too_many);
        }
        let start = p.start(redirect_uri).await?;
        let browser_secret = crypto::random_token(32)
            .map_err(|e| AuthError::Internal(format!("login state cookie: {e}")))?;
        self.pending
            .put(&PendingLogin {
                state_hash: crypto::sha256_hex(start.state.as_bytes()),
                provider: provider.to_owned(),
                pkce_verifier: start.pkce_verifier,
                nonce: start.nonce,
                c_url: c_url.to_owned(),
                expires_at: now + PENDING_TTL_MS,
                browser_hash: crypto::sha256_hex(browser_secret.as_bytes()),
                address: client.address.clone(),
            })
            .await?;
        Ok(ExternalStart {
            authorize_url: start.authorize_url,
            browser_secret,
            ttl_secs: PENDING_TTL_MS / 1000,
        })
    }

    /// Second leg: check `state` and the browser's secret, exchange `code`, provision the
    /// user, issue a token. Returns the token and the `c_url` saved at the first leg.
    pub async fn finish_external(
        &self,
        provider: &str,
        code: &str,
        state: &str,
        browser_secret: Option<&str>,
        redirect_uri: &str,
        client: &ClientInfo,
    ) -> Result<(Issued, String)> {
        let p = self.redirect_provider(provider)?;
        let other_browser = || {
            AuthError::Forbidden(
                "this login was not started in this browser (or its cookie expired); start the login again"
                    .into(),
            )
        };
        // Without the cookie there is nothing to compare: refuse before consuming the
        // pending login, so a leaked callback URL cannot even spoil the real one.
        let browser_secret = browser_secret
            .filter(|s| !s.is_empty())
            .ok_or_else(other_browser)?;
        let pending = self
            .pending
            .take(&crypto::sha256_hex(state.as_bytes()), self.clock.now_ms())
            .await?
            .filter(|pl| pl.provider == provider)
            .ok_or_else(|| {
                AuthError::Invalid("login state unknown or expired; start the login again".into())
            })?;
        let presented = crypto::sha256_hex(browser_secret.as_bytes());
        if !crypto::constant_time_eq(presented.as_bytes(), pending.browser_hash.as_bytes()) {
            self.audit("", client, LoginResult::ProviderError, provider)
                .await;
            return Err(other_browser());
        }
        let identity = match p.finish(code, &pending, redirect_uri).await {
            Ok(id) => id,
            Err(e) => {
                self.audit("", client, LoginResult::ProviderError, provider)
                    .await;
                return Err(e);
            }
        };
        let user = match self.provision(identity).await {
            Ok(u) => u,
            Err(e) => {
                self.audit("", client, LoginResult::ProviderError, provider)
                    .await;
                return Err(e);
            }
        };
        if user.disabled {
            self.audit(&user.username, client, LoginResult::Disabled, provider)
                .await;
            return Err(AuthError::Disabled);
        }
        let issued = self.finish_login(&user, client, provider).await?;
        Ok((issued, pending.c_url))
    }

    /// The local user for an external identity. Matched by (provider, subject); created
    /// and linked on first login. A local account of another source is never taken over,
    /// and an account linked to another subject is never handed to this one.
    pub(super) async fn provision(&self, id: ExternalIdentity) -> Result<User> {
        if id.subject.is_empty() || id.subject.len() > 255 {
            return Err(AuthError::Provider(
                "the provider's subject identifier is missing or longer than 255 bytes".into(),
            ));
        }
        if let Some(link) = self
            .identities
            .find_subject(&id.provider, &id.subject)
            .await?
        {
            return self.linked_user(&id, link).await;
        }
        let username = Username::parse(&id.username).map_err(|_| {
            AuthError::Provider(format!(
                "the provider's username {:?} is not a valid username here",
                id.username
            ))
        })?;
        let user = match self.users.get(username.as_str()).await? {
            Some(u) => u,
            None => self.create_external(&id, username).await?,
        };
        if user.source != id.provider {
            return Err(AuthError::Forbidden(format!(
                "user {} exists and belongs to {}; ask an administrator to link the accounts",
                user.username, user.source
            )));
        }
        let link = LinkedIdentity {
            provider: id.provider.clone(),
            subject: id.subject.clone(),
            issuer: id.issuer.clone(),
            username: user.username.clone(),
            created_at: self.clock.now_ms(),
        };
        match self.identities.link(&link).await {
            Ok(()) => Ok(user),
            // A concurrent first login of the same subject linked it: fine. Of another
            // subject: refused like any other claim on a linked account.
            Err(AuthError::Forbidden(_)) => match self
                .identities
                .find_subject(&id.provider, &id.subject)
                .await?
            {
                Some(link) => self.linked_user(&id, link).await,
                None => Err(taken(&user.username, &id.provider)),
            },
            Err(e) => Err(e),
        }
    }

    /// The account `link` points to, after checking the issuer still matches.
    async fn linked_user(&self, id: &ExternalIdentity, link: LinkedIdentity) -> Result<User> {
        if link.issuer.trim_end_matches('/') != id.issuer.trim_end_matches('/') {
            return Err(AuthError::Forbidden(format!(
                "user {} was linked under issuer {}, but {} now answers as {}; an administrator must relink the account",
                link.username, link.issuer, id.provider, id.issuer
            )));
        }
        self.users
            .get(&link.username)
            .await?
            .ok_or(AuthError::UserNotFound(link.username))
    }

    async fn create_external(&self, id: &ExternalIdentity, username: Username) -> Result<User> {
        let new = NewUser {
            username: username.into_string(),
            chname: id.chname.clone(),
            email: id.email.clone(),
            phone: id.phone.clone(),
            roles: vec![id.default_role],
            source: id.provider.clone(),
            ..NewUser::default()
        };
        let name = new.username.clone();
        match self.users.create(new, self.clock.now_ms()).await {
            Ok(u) => Ok(u),
            // Created concurrently: the link decides whose it is.
            Err(AuthError::UserExists(_)) => self
                .users
                .get(&name)
                .await?
                .ok_or(AuthError::UserNotFound(name)),
            Err(e) => Err(e),
        }
    }
}

fn taken(username: &str, provider: &str) -> AuthError {
    AuthError::Forbidden(format!(
        "user {username} is linked to another {provider} account; ask an administrator"
    ))
}
