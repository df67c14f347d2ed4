//! Users, sessions, throttle state and audit entries as the stores hold them.

use bk_core::clock::Millis;
use bk_core::identity::UserInfo;
use bk_core::types::Role;
use serde::{Deserialize, Serialize};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Login name (validated by `Username::parse`).
    pub username: String,
    /// Display name.
    pub chname: String,
    /// QQ number.
    pub qq: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// `zh-cn` | `en`.
    pub language: String,
    /// IANA time zone.
    pub time_zone: String,
    /// WeChat user id.
    pub wx_userid: String,
    /// Roles held (never empty: at least staff).
    pub roles: Vec<Role>,
    /// Disabled users cannot log in; their tokens are revoked.
    pub disabled: bool,
    /// Where the user came from: `local` or the id of an identity provider.
    pub source: String,
    /// PHC string (argon2id) or a legacy Django `pbkdf2_sha256$…` hash; `None` for users
    /// who only log in through an external provider. Never serialized.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Created at (ms).
    pub created_at: Millis,
    /// Last change (ms).
    pub updated_at: Millis,
    /// Last successful login (ms).
    pub last_login_at: Option<Millis>,
}

impl User {
    /// The effective role (1 > 2 > 3 > 4 > 0).
    pub fn role(&self) -> Role {
        Role::effective(&self.roles)
    }

    /// The public view used by the APIs and other services.
    pub fn info(&self) -> UserInfo {
        UserInfo {
            username: self.username.clone(),
            chname: self.chname.clone(),
            qq: self.qq.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            role: self.role(),
            wx_userid: self.wx_userid.clone(),
            language: self.language.clone(),
            time_zone: self.time_zone.clone(),
        }
    }
}

/// Fields of a user to create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// Login name.
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
    /// Language; empty means the platform default.
    #[serde(default)]
    pub language: String,
    /// Time zone; empty means the platform default.
    #[serde(default)]
    pub time_zone: String,
    /// WeChat id.
    #[serde(default)]
    pub wx_userid: String,
    /// Roles; empty means staff.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Disabled at creation.
    #[serde(default)]
    pub disabled: bool,
    /// `local` or a provider id.
    #[serde(default)]
    pub source: String,
    /// Already-hashed password (argon2id PHC or Django pbkdf2), never a plain password.
    #[serde(skip)]
    pub password_hash: Option<String>,
}

/// A partial update of profile fields; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPatch {
    /// Display name.
    pub chname: Option<String>,
    /// QQ.
    pub qq: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Time zone.
    pub time_zone: Option<String>,
    /// WeChat id.
    pub wx_userid: Option<String>,
    /// Disable or enable.
    pub disabled: Option<bool>,
}

/// Search and paging of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    /// Substring matched against username, chname and email (case-insensitive).
    pub search: Option<String>,
    /// Only users whose effective role is this.
    pub role: Option<bk_core::types::Role>,
    /// Only enabled (`false`) or disabled (`true`) users.
    pub disabled: Option<bool>,
    /// 1-based page.
    pub page: u32,
    /// Page size (1..=1000).
    pub page_size: u32,
}

impl Default for UserQuery {
    fn default() -> Self {
        Self {
            search: None,
            role: None,
            disabled: None,
            page: 1,
            page_size: 100,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// Total matches.
    pub count: u64,
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
    /// The items of this page.
    pub results: Vec<T>,
}

/// A stored session: the SHA-256 of a `bk_token`, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Owner.
    pub username: String,
    /// Issued at (ms).
    pub created_at: Millis,
    /// Hard expiry (ms).
    pub expires_at: Millis,
    /// Last use (ms), for the idle timeout; updated at most once a minute.
    pub last_seen_at: Millis,
    /// Client address at login.
    pub address: String,
    /// Client user agent at login (truncated).
    pub user_agent: String,
}

/// Counter of one throttle key (`pair:<name>@<addr>`, `user:<name>` or `ip:<addr>`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottleState {
    /// Attempts counted in the current window (each is counted before its password is
    /// checked, and taken back when it succeeds).
    pub failures: i64,
    /// Last attempt counted (ms).
    pub last_failure_at: Millis,
    /// Until when the key holds attempts back (ms); 0 when free.
    pub blocked_until: Millis,
    /// Pair keys: the last successful login of this account from this address (ms), which
    /// makes the client known; 0 when never.
    #[serde(default)]
    pub known_at: Millis,
}

/// What happened at a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginResult {
    /// Logged in.
    Success,
    /// Wrong username or password.
    BadCredentials,
    /// Rejected by the throttle (delay or lock).
    Throttled,
    /// Account disabled.
    Disabled,
    /// External provider failed or refused.
    ProviderError,
    /// Logged out.
    Logout,
}

impl LoginResult {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginResult::Success => "success",
            LoginResult::BadCredentials => "bad_credentials",
            LoginResult::Throttled => "throttled",
            LoginResult::Disabled => "disabled",
            LoginResult::ProviderError => "provider_error",
            LoginResult::Logout => "logout",
        }
    }

    /// Parse a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Success,
            Self::BadCredentials,
            Self::Throttled,
            Self::Disabled,
            Self::ProviderError,
            Self::Logout,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One line of the login audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Row id (assigned by the store).
    pub id: i64,
    /// When (ms).
    pub at: Millis,
    /// The username tried (as typed, may not exist; truncated to 64 chars).
    pub username: String,
    /// Client address.
    pub address: String,
    /// Client user agent (truncated to 256 chars).
    pub user_agent: String,
    /// Outcome.
    pub result: LoginResult,
    /// Which provider (`local`, an OIDC id).
    pub provider: String,
}

/// Filter of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Exact username.
    pub username: Option<String>,
    /// Exact result.
    pub result: Option<LoginResult>,
    /// From (ms, inclusive).
    pub since: Option<Millis>,
    /// Until (ms, exclusive).
    pub until: Option<Millis>,
    /// 1-based page.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
}
