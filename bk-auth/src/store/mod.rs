//! Storage traits of the login service, one per concern, each with the SQL implementation
//! beside it ([`sql::SqlStore`] implements them all over `bk_core::db::Db`). Embedders may
//! swap any of them (`Arc<dyn UserStore>` etc.).
//!
//! Invariants the user store enforces inside its transactions (so concurrent requests
//! cannot break them): the built-in `admin` cannot be deleted, demoted or disabled; the
//! last enabled superuser cannot be deleted, demoted or disabled; imports are all or
//! nothing; disabling, deleting or re-passwording a user deletes their sessions in the
//! same transaction, and a session is only ever stored for an existing, enabled user
//! (whose password is still the one checked), so no change races a login into a live
//! token. Methods that revoke return the token hashes revoked, for in-memory caches.

#[cfg(any(test, feature = "test-utils"))]
pub mod memory;
pub mod sql;

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::types::Role;

use crate::error::Result;
use crate::model::{
    AuditEntry, AuditQuery, NewUser, Page, Session, ThrottleState, User, UserPatch, UserQuery,
};

/// The username of the built-in administrator.
pub const BUILTIN_ADMIN: &str = "admin";

/// What an import did.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct ImportReport {
    /// Users created.
    pub created: u64,
    /// Existing users overwritten (only with `overwrite`).
    pub updated: u64,
    /// Existing users left alone (without `overwrite`).
    pub skipped: u64,
}

/// Users and their roles.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// One user.
    async fn get(&self, username: &str) -> Result<Option<User>>;
    /// Several users; unknown names are omitted.
    async fn get_many(&self, usernames: &[String]) -> Result<Vec<User>>;
    /// All users, optionally only those whose effective role is `role`.
    async fn list_all(&self, role: Option<Role>) -> Result<Vec<User>>;
    /// Search and page.
    async fn query(&self, q: &UserQuery) -> Result<Page<User>>;
    /// Create; `UserExists` on a duplicate name.
    async fn create(&self, user: NewUser, now: Millis) -> Result<User>;
    /// Update profile fields or the disabled flag; `UserNotFound`, `Protected`. Leaving the
    /// user disabled revokes their sessions in the same transaction (hashes returned).
    async fn update(
        &self,
        username: &str,
        patch: &UserPatch,
        now: Millis,
    ) -> Result<(User, Vec<String>)>;
    /// Replace the roles; `Protected` when it would demote `admin` or the last superuser.
    async fn set_roles(&self, username: &str, roles: &[Role], now: Millis) -> Result<User>;
    /// Replace the password hash (argon2id PHC or legacy Django hash) and revoke every
    /// session of the user, then store `issue` (the caller's new session), all in one
    /// transaction; returns the hashes revoked. `UserNotFound`; with `issue`, a disabled
    /// user is `Unauthenticated`.
    async fn set_password_hash(
        &self,
        username: &str,
        hash: &str,
        now: Millis,
        issue: Option<&Session>,
    ) -> Result<Vec<String>>;
    /// Replace the hash `old` by `new` (an upgrade after a successful check); `false`
    /// when the stored hash is no longer `old` (it changed since it was checked).
    async fn upgrade_password_hash(
        &self,
        username: &str,
        old: &str,
        new: &str,
        now: Millis,
    ) -> Result<bool>;
    /// Delete, with the user's sessions in the same transaction (hashes returned);
    /// `Protected` for `admin` and the last superuser.
    async fn delete(&self, username: &str) -> Result<Vec<String>>;
    /// Create many users in one transaction; existing ones are overwritten or skipped.
    /// Any invalid user fails the whole import and nothing is written. Overwriting that
    /// disables a user or changes their password revokes their sessions (hashes
    /// returned); the built-in `admin`'s `source` cannot change.
    async fn import(
        &self,
        users: Vec<NewUser>,
        overwrite: bool,
        now: Millis,
    ) -> Result<(ImportReport, Vec<String>)>;
}

/// `bk_token` sessions, keyed by the token's SHA-256.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Store a new session and note the login (`last_login_at`), atomically with checking
    /// that the user exists, is enabled and, when `expect_hash` is given, still has that
    /// password hash. `false` (nothing stored) when the check fails: the user changed
    /// since the login was verified.
    async fn insert(&self, s: &Session, expect_hash: Option<&str>) -> Result<bool>;
    /// A session by token hash, if its user exists and is enabled (expired ones may
    /// still be returned; callers check).
    async fn get(&self, token_hash: &str) -> Result<Option<Session>>;
    /// Update `last_seen_at`.
    async fn touch(&self, token_hash: &str, at: Millis) -> Result<()>;
    /// Revoke one; `true` if it existed.
    async fn revoke(&self, token_hash: &str) -> Result<bool>;
    /// Revoke all sessions of a user; returns the token hashes revoked.
    async fn revoke_user(&self, username: &str) -> Result<Vec<String>>;
    /// Delete sessions expired at `now`, or idle since before `idle_before`.
    async fn purge(&self, now: Millis, idle_before: Option<Millis>) -> Result<u64>;
}

/// What [`ThrottleStore::modify`] applies: given the current states of the keys (in
/// order, `None` when absent), the states to store (`None`: leave as is). It may be
/// called more than once (after a conflict), so it must not have side effects.
pub type ThrottleUpdate<'a> =
    dyn Fn(&[Option<ThrottleState>]) -> Vec<Option<ThrottleState>> + Send + Sync + 'a;

/// Attempt counters for brute-force throttling.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// The state of a key.
    async fn get(&self, key: &str) -> Result<Option<ThrottleState>>;
    /// Read and replace the states of `keys` (distinct) atomically: no other `modify` of
    /// any of these keys runs between the read and the write, in this process or any
    /// other sharing the store. Returns the states `update` was given.
    async fn modify(
        &self,
        keys: &[String],
        update: &ThrottleUpdate<'_>,
    ) -> Result<Vec<Option<ThrottleState>>>;
    /// Reset the counter of a key (an admin unlock), keeping `known_at`.
    async fn clear(&self, key: &str) -> Result<()>;
    /// Reset the counters of every key starting with `prefix`, keeping `known_at`.
    async fn clear_prefix(&self, prefix: &str) -> Result<()>;
    /// Keys blocked at `now`, with their state.
    async fn blocked(&self, now: Millis) -> Result<Vec<(String, ThrottleState)>>;
    /// Delete states with no attempt since `quiet_before` and no success since
    /// `known_before`.
    async fn purge(&self, quiet_before: Millis, known_before: Millis) -> Result<u64>;
}

/// The login audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Append one entry (its `id` is ignored and assigned).
    async fn record(&self, e: &AuditEntry) -> Result<()>;
    /// Newest first.
    async fn query(&self, q: &AuditQuery) -> Result<Page<AuditEntry>>;
}

/// A login started at an external provider and not yet finished (OAuth2 `state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// Hex SHA-256 of the `state` parameter.
    pub state_hash: String,
    /// Provider id.
    pub provider: String,
    /// PKCE verifier.
    pub pkce_verifier: String,
    /// OIDC nonce.
    pub nonce: String,
    /// Where to go after login.
    pub c_url: String,
    /// Expiry (ms).
    pub expires_at: Millis,
    /// Hex SHA-256 of the random value in the browser's state cookie: the callback must
    /// come from the browser that started the login.
    pub browser_hash: String,
    /// The client address that started it (pending logins are capped per address).
    pub address: String,
}

/// Pending external logins; each is taken once.
#[async_trait]
pub trait PendingLoginStore: Send + Sync {
    /// Store.
    async fn put(&self, p: &PendingLogin) -> Result<()>;
    /// Remove and return, if present and not expired at `now`.
    async fn take(&self, state_hash: &str, now: Millis) -> Result<Option<PendingLogin>>;
    /// Pending logins not expired at `now`: all, or those started from `address`.
    async fn count(&self, address: Option<&str>, now: Millis) -> Result<u64>;
    /// Delete those expired at `now`; returns how many.
    async fn purge(&self, now: Millis) -> Result<u64>;
}

/// A user of an external provider, as linked to a local account at first login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// Provider id (the user's `source`).
    pub provider: String,
    /// Stable subject at the provider (OIDC `sub`).
    pub subject: String,
    /// Who vouched for the subject (OIDC `iss`; the provider id for non-OIDC providers).
    pub issuer: String,
    /// The local account.
    pub username: String,
    /// When it was linked (ms).
    pub created_at: Millis,
}

/// Which external subject owns which local account. Accounts of external providers are
/// matched by (provider, subject), never by a name the provider sends: each local account
/// is linked to at most one subject per provider, and each subject to one account.
/// Deleting the user deletes its links.
#[async_trait]
pub trait ExternalIdentityStore: Send + Sync {
    /// The link of (provider, subject), if any.
    async fn find_subject(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>>;
    /// The link of (provider, username), if any.
    async fn find_username(&self, provider: &str, username: &str)
    -> Result<Option<LinkedIdentity>>;
    /// Link; `Forbidden` when the subject or the account is linked already (the database's
    /// unique keys decide, so two concurrent first logins cannot both link).
    async fn link(&self, link: &LinkedIdentity) -> Result<()>;
}
