//! Composition of the stock engine over SQL storage: migrate, then build the service.
//! Binaries and tests call [`open`].

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::db::Db;
use bk_core::identity::{TokenVerifier, UserDirectory};

use crate::config::EngineConfig;
use crate::error::Result;
use crate::secret::SecretKey;
use crate::service::{EngineDeps, EngineService, Stores};
use crate::store::sql::SqlStore;

/// Who the engine asks about users: login, in process or over HTTP.
pub struct Identity {
    /// Resolves `bk_token`s.
    pub tokens: Arc<dyn TokenVerifier>,
    /// Looks users up.
    pub users: Arc<dyn UserDirectory>,
}

/// Migrate `db` and compose the service.
pub async fn open(
    db: Db,
    cfg: EngineConfig,
    identity: Identity,
    key: SecretKey,
    clock: Arc<dyn Clock>,
    service_token: Option<String>,
) -> Result<Arc<EngineService>> {
    let store = Arc::new(SqlStore::new(db));
    store.migrate(clock.as_ref()).await?;
    Ok(Arc::new(EngineService::new(
        cfg,
        EngineDeps {
            stores: Stores::all(store),
            tokens: identity.tokens,
            users: identity.users,
            key,
            clock,
            service_token,
        },
    )))
}
