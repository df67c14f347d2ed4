//! Self-service: a user reads and edits their own profile and changes their password.

use serde::Deserialize;

use super::LoginService;
use super::access::Caller;
use super::login::ClientInfo;
use crate::error::{AuthError, Result};
use crate::idp::IdentityProvider;
use crate::model::{User, UserPatch};
use crate::password::policy;
use crate::session::Issued;
use crate::throttle::Keys;

/// Fields a user may change about themselves.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    /// Display name.
    pub chname: Option<String>,
    /// QQ.
    pub qq: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// `zh-cn` or `en`.
    pub language: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// WeChat id.
    pub wx_userid: Option<String>,
}

impl LoginService {
    /// Edit one's own profile.
    pub async fn update_profile(&self, caller: &Caller, p: ProfilePatch) -> Result<User> {
        let patch = UserPatch {
            chname: p.chname,
            qq: p.qq,
            phone: p.phone,
            email: p.email,
            language: p.language,
            time_zone: p.time_zone,
            wx_userid: p.wx_userid,
            disabled: None,
        };
        super::admin::validate_patch(&patch)?;
        let (user, revoked) = self
            .users
            .update(&caller.user.username, &patch, self.clock.now_ms())
            .await?;
        self.sessions.forget_all(&revoked);
        Ok(user)
    }

    /// Change one's own password: the old one must be right (attempts are throttled like
    /// logins). In one transaction every token of the user is revoked and a new one is
    /// stored for the caller.
    pub async fn change_password(
        &self,
        caller: &Caller,
        old: &str,
        new: &str,
        client: &ClientInfo,
    ) -> Result<Issued> {
        let username = caller.user.username.clone();
        if caller.user.password_hash.is_none() {
            return Err(AuthError::Forbidden(format!(
                "{username} logs in through {}; change the password there",
                caller.user.source
            )));
        }
        let keys = Keys::new(&username, &client.address);
        self.throttle.admit(&keys).await?;
        match self.local.authenticate(&username, old).await {
            Ok(_) => {
                if let Err(e) = self.throttle.succeed(&keys).await {
                    tracing::warn!(error = %e, "could not clear the throttle after a password check");
                }
            }
            Err(AuthError::BadCredentials) => {
                return Err(AuthError::Invalid("old_password: wrong password".into()));
            }
            Err(e) => {
                if let Err(t) = self.throttle.cancel(&keys).await {
                    tracing::warn!(error = %t, "could not take back a throttled attempt");
                }
                return Err(e);
            }
        }
        policy::check(&self.cfg.password, &username, new)?;
        let hash = self.hasher.hash(new).await?;
        let issued = self
            .sessions
            .prepare(&username, &client.address, &client.user_agent)?;
        let revoked = self
            .users
            .set_password_hash(&username, &hash, self.clock.now_ms(), Some(&issued.session))
            .await?;
        self.sessions.forget_all(&revoked);
        Ok(issued)
    }
}
