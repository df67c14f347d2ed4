//! Look-ups behind the BK login APIs (`get_user`, `get_all_users`, `get_batch_users`).

use bk_core::types::Role;

use super::LoginService;
use crate::error::Result;
use crate::model::User;

/// Most names one `get_batch_users` call may ask for.
pub const MAX_BATCH: usize = 1000;

impl LoginService {
    /// One user by name (disabled users included: they still own data).
    pub async fn find_user(&self, username: &str) -> Result<Option<User>> {
        self.users.get(username).await
    }

    /// All users, optionally of one effective role.
    pub async fn all_users(&self, role: Option<Role>) -> Result<Vec<User>> {
        self.users.list_all(role).await
    }

    /// The users among `names`; unknown names are omitted.
    pub async fn batch_users(&self, names: &[String]) -> Result<Vec<User>> {
        self.users.get_many(names).await
    }
}
