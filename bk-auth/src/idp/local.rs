//! The local password store as an identity provider. Legacy and outdated hashes are
//! upgraded to the current argon2id parameters on a successful login.

use std::sync::Arc;

use async_trait::async_trait;
use bk_core::clock::Clock;

use super::{Authenticated, IdentityProvider, ProviderFlow};
use crate::error::{AuthError, Result};
use crate::password::Hasher;
use crate::store::UserStore;

/// Id of the local provider.
pub const LOCAL: &str = "local";

/// Username and password checked against the user store.
pub struct LocalProvider {
    users: Arc<dyn UserStore>,
    hasher: Arc<Hasher>,
    clock: Arc<dyn Clock>,
}

impl LocalProvider {
    /// A provider over `users`.
    pub fn new(users: Arc<dyn UserStore>, hasher: Arc<Hasher>, clock: Arc<dyn Clock>) -> Self {
        Self {
            users,
            hasher,
            clock,
        }
    }
}

#[async_trait]
impl IdentityProvider for LocalProvider {
    fn id(&self) -> &str {
        LOCAL
    }

    fn display_name(&self) -> &str {
        "Password"
    }

    fn flow(&self) -> ProviderFlow {
        ProviderFlow::Password
    }

    async fn authenticate(&self, username: &str, password: &str) -> Result<Authenticated> {
        let user = self.users.get(username).await?;
        let stored = user.as_ref().and_then(|u| u.password_hash.as_deref());
        let v = self.hasher.verify(password, stored).await?;
        let Some(mut user) = user.filter(|_| v.ok) else {
            return Err(AuthError::BadCredentials);
        };
        // Disabled users get no upgrade: their answer must cost what a wrong password does.
        if v.needs_rehash && !user.disabled {
            let fresh = self.hasher.hash(password).await?;
            let old = user.password_hash.clone().unwrap_or_default();
            // Only over the hash that was checked: a password set meanwhile must win.
            if !self
                .users
                .upgrade_password_hash(&user.username, &old, &fresh, self.clock.now_ms())
                .await?
            {
                return Err(AuthError::BadCredentials);
            }
            user.password_hash = Some(fresh);
        }
        Ok(Authenticated::Local(Box::new(user)))
    }
}
