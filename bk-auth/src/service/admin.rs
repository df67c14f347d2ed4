//! User administration (superusers) and the views auditors may read.

use bk_core::types::{Role, Username};
use serde::{Deserialize, Serialize};

use super::LoginService;
use super::access::Caller;
use crate::error::{AuthError, Result};
use crate::idp::local::LOCAL;
use crate::model::{AuditEntry, AuditQuery, NewUser, Page, User, UserPatch, UserQuery};
use crate::password::policy;
use crate::throttle::Block;

/// A user to create through the admin API.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Login name (4–20 chars).
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub chname: String,
    /// QQ.
    #[serde(default)]
    pub qq: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// `zh-cn` or `en`.
    #[serde(default)]
    pub language: String,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: String,
    /// WeChat id.
    #[serde(default)]
    pub wx_userid: String,
    /// Role codes; empty = staff.
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    pub roles: Vec<Role>,
    /// Initial password; when absent a random one is generated and returned once.
    #[serde(default)]
    pub password: Option<String>,
}

/// A password set by an administrator.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasswordReset {
    /// The generated password, shown once; `null` when the caller chose it.
    pub password: Option<String>,
}

const MAX_FIELD: usize = 64;

/// Check profile fields; the error names the field.
pub(crate) fn validate_profile(
    chname: &str,
    qq: &str,
    phone: &str,
    email: &str,
    language: &str,
    time_zone: &str,
    wx_userid: &str,
) -> Result<()> {
    let too_long = |field: &str, v: &str, max: usize| {
        (v.chars().count() > max)
            .then(|| AuthError::Invalid(format!("{field}: at most {max} characters")))
    };
    for (f, v, max) in [
        ("chname", chname, MAX_FIELD),
        ("time_zone", time_zone, MAX_FIELD),
        ("wx_userid", wx_userid, MAX_FIELD),
        ("email", email, 254),
    ] {
        if let Some(e) = too_long(f, v, max) {
            return Err(e);
        }
    }
    if !qq.is_empty() && (qq.len() > 20 || !qq.bytes().all(|c| c.is_ascii_digit())) {
        return Err(AuthError::Invalid("qq: digits only, at most 20".into()));
    }
    if !phone.is_empty()
        && (phone.len() > 32
            || !phone
                .bytes()
                .all(|c| c.is_ascii_digit() || b"+- ()".contains(&c)))
    {
        return Err(AuthError::Invalid(
            "phone: digits, spaces and + - ( ) only, at most 32".into(),
        ));
    }
    if !email.is_empty() {
        let ok = email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
            && !email.contains(char::is_whitespace);
        if !ok {
            return Err(AuthError::Invalid(format!(
                "email: {email:?} is not an e-mail address"
            )));
        }
    }
    if !language.is_empty() && bk_core::lang::Lang::parse(language).is_none() {
        return Err(AuthError::Invalid("language: must be zh-cn or en".into()));
    }
    Ok(())
}

pub(crate) fn validate_patch(p: &UserPatch) -> Result<()> {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    validate_profile(
        &s(&p.chname),
        &s(&p.qq),
        &s(&p.phone),
        &s(&p.email),
        &s(&p.language),
        &s(&p.time_zone),
        &s(&p.wx_userid),
    )
}

impl LoginService {
    /// Create a user; returns it and the generated password, if one was generated.
    pub async fn create_user(
        &self,
        caller: &Caller,
        req: CreateUser,
    ) -> Result<(User, PasswordReset)> {
        caller.require_superuser()?;
        let username = Username::parse(&req.username)?;
        validate_profile(
            &req.chname,
            &req.qq,
            &req.phone,
            &req.email,
            &req.language,
            &req.time_zone,
            &req.wx_userid,
        )?;
        let (password, generated) = self.choose_password(username.as_str(), req.password)?;
        let user = NewUser {
            username: username.into_string(),
            chname: req.chname,
            qq: req.qq,
            phone: req.phone,
            email: req.email,
            language: req.language,
            time_zone: req.time_zone,
            wx_userid: req.wx_userid,
            roles: req.roles,
            disabled: false,
            source: LOCAL.into(),
            password_hash: Some(self.hasher.hash(&password).await?),
        };
        let user = self.users.create(user, self.clock.now_ms()).await?;
        Ok((
            user,
            PasswordReset {
                password: generated,
            },
        ))
    }

    fn choose_password(
        &self,
        username: &str,
        given: Option<String>,
    ) -> Result<(String, Option<String>)> {
        match given.filter(|p| !p.is_empty()) {
            Some(p) => {
                policy::check(&self.cfg.password, username, &p)?;
                Ok((p, None))
            }
            None => {
                // 18 random bytes in URL-safe base64: letters of both cases, digits and - or _.
                let p = format!(
                    "{}-9a",
                    bk_core::crypto::random_token(18)
                        .map_err(|e| AuthError::Internal(e.to_string()))?
                );
                Ok((p.clone(), Some(p)))
            }
        }
    }

    /// One user.
    pub async fn get_user_admin(&self, caller: &Caller, username: &str) -> Result<User> {
        caller.require(&[Role::Superuser, Role::Auditor])?;
        self.users
            .get(username)
            .await?
            .ok_or_else(|| AuthError::UserNotFound(username.to_owned()))
    }

    /// Search users.
    pub async fn query_users(&self, caller: &Caller, q: &UserQuery) -> Result<Page<User>> {
        caller.require(&[Role::Superuser, Role::Auditor])?;
        if q.page == 0 || q.page_size == 0 || q.page_size > 1000 {
            return Err(AuthError::Invalid(
                "page must be >= 1 and page_size 1..=1000".into(),
            ));
        }
        self.users.query(q).await
    }

    /// Update profile fields or enable/disable. Disabling revokes the user's tokens in the
    /// same transaction.
    pub async fn update_user(
        &self,
        caller: &Caller,
        username: &str,
        patch: &UserPatch,
    ) -> Result<User> {
        caller.require_superuser()?;
        validate_patch(patch)?;
        let (user, revoked) = self
            .users
            .update(username, patch, self.clock.now_ms())
            .await?;
        self.sessions.forget_all(&revoked);
        Ok(user)
    }

    /// Replace the roles of a user.
    pub async fn set_roles(&self, caller: &Caller, username: &str, roles: &[Role]) -> Result<User> {
        caller.require_superuser()?;
        self.users
            .set_roles(username, roles, self.clock.now_ms())
            .await
    }

    /// Set a new password (generated when `password` is `None`) and revoke the user's tokens.
    pub async fn reset_password(
        &self,
        caller: &Caller,
        username: &str,
        password: Option<String>,
    ) -> Result<PasswordReset> {
        caller.require_superuser()?;
        if self.users.get(username).await?.is_none() {
            return Err(AuthError::UserNotFound(username.to_owned()));
        }
        let (password, generated) = self.choose_password(username, password)?;
        let hash = self.hasher.hash(&password).await?;
        let revoked = self
            .users
            .set_password_hash(username, &hash, self.clock.now_ms(), None)
            .await?;
        self.sessions.forget_all(&revoked);
        // The password is set: lifting old locks is a courtesy that must not fail the call.
        if let Err(e) = self.throttle.clear_account(username).await {
            tracing::warn!(error = %e, "could not lift the throttle after a password reset");
        }
        Ok(PasswordReset {
            password: generated,
        })
    }

    /// Delete a user and revoke their tokens, in one transaction.
    pub async fn delete_user(&self, caller: &Caller, username: &str) -> Result<()> {
        caller.require_superuser()?;
        let revoked = self.users.delete(username).await?;
        self.sessions.forget_all(&revoked);
        Ok(())
    }

    /// Keys currently throttled or locked.
    pub async fn blocks(&self, caller: &Caller) -> Result<Vec<Block>> {
        caller.require(&[Role::Superuser, Role::Auditor])?;
        self.throttle.blocked().await
    }

    /// Lift a block.
    pub async fn unblock(&self, caller: &Caller, key: &str) -> Result<()> {
        caller.require_superuser()?;
        if !(key.starts_with("user:") || key.starts_with("ip:") || key.starts_with("pair:")) {
            return Err(AuthError::Invalid(
                "key must start with pair:, user: or ip: (as listed by GET locks)".into(),
            ));
        }
        self.throttle.clear(key).await
    }

    /// Read the login audit log.
    pub async fn audit_log(&self, caller: &Caller, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        caller.require(&[Role::Superuser, Role::Auditor])?;
        if q.page == 0 || q.page_size == 0 || q.page_size > 1000 {
            return Err(AuthError::Invalid(
                "page must be >= 1 and page_size 1..=1000".into(),
            ));
        }
        self.audit.query(q).await
    }
}
