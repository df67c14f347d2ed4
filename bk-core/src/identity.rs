//! How services other than login learn who a user is.
//!
//! esb, paas and SaaS apps hold an `Arc<dyn TokenVerifier>`: in one process it is the
//! login service itself; across processes it is the HTTP client of `bk-auth`'s SDK.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ApiError;
use crate::types::Role;

/// A user as the login APIs describe them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Login name.
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub chname: String,
    /// QQ number.
    #[serde(default)]
    pub qq: String,
    /// Phone number.
    #[serde(default)]
    pub phone: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Effective role.
    pub role: Role,
    /// WeChat user id.
    #[serde(default)]
    pub wx_userid: String,
    /// Preferred language (`zh-cn` | `en`).
    #[serde(default)]
    pub language: String,
    /// IANA time zone.
    #[serde(default)]
    pub time_zone: String,
}

/// Verifies `bk_token` values and looks users up.
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    /// The user a live token belongs to; `Ok(None)` when the token is unknown, expired or
    /// revoked; `Err` only when the answer cannot be known (login unreachable...).
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError>;
}

/// Looks users up by name: who exists, with which role. Services that keep per-user data
/// (app members in the engine) check names against it. In one process the login service
/// implements it; across processes an HTTP client of the login APIs does.
#[async_trait]
pub trait UserDirectory: Send + Sync {
    /// The user named `username`; `Ok(None)` when there is none; `Err` only when the answer
    /// cannot be known (login unreachable...).
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError>;

    /// Every user, or those whose effective role is `role`, sorted by name. The default
    /// answers `Unavailable`: a directory that cannot list users says so.
    async fn all_users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, ApiError> {
        let _ = role;
        Err(ApiError::with_detail(
            crate::ErrorCode::Unavailable,
            "this user directory cannot list users",
        ))
    }

    /// The users among `names` that exist (unknown names are left out). The default asks
    /// [`UserDirectory::get_user`] once per name.
    async fn batch_users(&self, names: &[String]) -> Result<Vec<UserInfo>, ApiError> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(u) = self.get_user(n).await? {
                out.push(u);
            }
        }
        Ok(out)
    }
}
