//! Identity providers (V6 "ee_login" plug-ins) behind one trait.
//!
//! Two flows: *password* providers check a username and password (the local store, an
//! LDAP bind...), *redirect* providers send the browser to an upstream and finish on the
//! callback (OAuth2/OIDC). Either way the login service applies throttling, creates the
//! user on first external login, and issues the `bk_token`.

pub mod local;
#[cfg(feature = "oidc")]
pub mod oidc;

use async_trait::async_trait;
use bk_core::types::Role;

use crate::error::{AuthError, Result};
use crate::model::User;
use crate::store::PendingLogin;

/// How a provider logs users in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFlow {
    /// Username and password on our form.
    Password,
    /// Browser redirect to an upstream and back.
    Redirect,
}

/// A user as an external provider describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    /// Provider id.
    pub provider: String,
    /// Stable subject at the provider (OIDC `sub`): with `provider`, what the local account
    /// is linked to at first login and matched by afterwards.
    pub subject: String,
    /// Who vouched for the subject (OIDC `iss`; for other providers, e.g. the LDAP server
    /// URL). A link made under one issuer is not honoured under another.
    pub issuer: String,
    /// Username to use here (validated by the service).
    pub username: String,
    /// Display name.
    pub chname: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Role given when the user is created on first login.
    pub default_role: Role,
}

/// What a password provider answers.
#[derive(Debug, Clone)]
pub enum Authenticated {
    /// A user of the local store, credentials verified.
    Local(Box<User>),
    /// A user vouched for by an external source.
    External(ExternalIdentity),
}

/// The first leg of a redirect login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectStart {
    /// Where to send the browser.
    pub authorize_url: String,
    /// OAuth2 `state` (random; stored hashed with the pending login).
    pub state: String,
    /// PKCE verifier to keep until the callback.
    pub pkce_verifier: String,
    /// OIDC nonce.
    pub nonce: String,
}

/// One source of identities.
#[async_trait]
pub trait IdentityProvider: Send + Sync {
    /// Short id (`local`, `corp-sso`), used in URLs and as the user's `source`.
    fn id(&self) -> &str;
    /// Human label for the login page.
    fn display_name(&self) -> &str;
    /// Which flow it uses.
    fn flow(&self) -> ProviderFlow;

    /// Password flow: check credentials. `BadCredentials` when they are wrong.
    async fn authenticate(&self, _username: &str, _password: &str) -> Result<Authenticated> {
        Err(AuthError::Internal(format!(
            "provider {} does not take passwords",
            self.id()
        )))
    }

    /// Redirect flow, first leg: where to send the browser. `redirect_uri` is our callback.
    async fn start(&self, _redirect_uri: &str) -> Result<RedirectStart> {
        Err(AuthError::Internal(format!(
            "provider {} does not redirect",
            self.id()
        )))
    }

    /// Redirect flow, second leg: exchange the code and describe the user.
    async fn finish(
        &self,
        _code: &str,
        _pending: &PendingLogin,
        _redirect_uri: &str,
    ) -> Result<ExternalIdentity> {
        Err(AuthError::Internal(format!(
            "provider {} does not redirect",
            self.id()
        )))
    }
}
