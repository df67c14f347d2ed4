//! The whole configuration for the registry, and the revision it was read at.

use async_trait::async_trait;

use super::{SqlStore, col};
use crate::error::Result;
use crate::model::Config;
use crate::store::{
    AllowListStore, ChannelStore, ConfigStore, GrantStore, RateLimitStore, SelfServiceStore,
    SystemStore,
};

#[async_trait]
impl ConfigStore for SqlStore {
    async fn revision(&self) -> Result<u64> {
        let row = self
            .db
            .fetch_optional(
                self.db
                    .query("SELECT revision FROM esb_revision WHERE id = 1"),
            )
            .await?;
        Ok(match row {
            Some(r) => u64::try_from(col::<i64>(&r, "revision")?).unwrap_or(0),
            None => 0,
        })
    }

    async fn load(&self) -> Result<(u64, Config)> {
        // The revision first: a write racing the reads below makes the next poll reload.
        let revision = self.revision().await?;
        let config = Config {
            systems: self.systems().await?,
            channels: self.channels().await?,
            self_service: self.self_service().await?,
            grants: self.grants().await?,
            skip_user_auth: self.skip_user_auth().await?,
            rate_limits: self.rate_limits().await?,
        };
        Ok((revision, config))
    }
}
