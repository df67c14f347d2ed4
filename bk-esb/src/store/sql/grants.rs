//! Grants, the `bk_username` allow-list and rate limits.

use async_trait::async_trait;

use super::{SqlStore, col};
use crate::error::{EsbError, Result};
use crate::model::{Grant, RateLimit};
use crate::ratelimit::RateLimitConf;
use crate::store::{AllowListStore, GrantStore, RateLimitStore};

#[async_trait]
impl GrantStore for SqlStore {
    async fn grants(&self) -> Result<Vec<Grant>> {
        let rows = self
            .db
            .fetch_all(self.db.query("SELECT app_code, component, expires_at FROM esb_grants ORDER BY app_code, component"))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Grant {
                    app_code: col(r, "app_code")?,
                    component: col(r, "component")?,
                    expires_at: col(r, "expires_at")?,
                })
            })
            .collect()
    }

    async fn put_grant(&self, g: &Grant) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_grants WHERE app_code = ? AND component = ?")
                .bind(g.app_code.clone())
                .bind(g.component.clone()),
        )
        .await?;
        tx.execute(
            db.query("INSERT INTO esb_grants (app_code, component, expires_at, updated_at) VALUES (?, ?, ?, ?)")
                .bind(g.app_code.clone())
                .bind(g.component.clone())
                .bind(g.expires_at)
                .bind(self.now()),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn delete_grant(&self, app_code: &str, component: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                self.db
                    .query("DELETE FROM esb_grants WHERE app_code = ? AND component = ?")
                    .bind(app_code.to_owned())
                    .bind(component.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl AllowListStore for SqlStore {
    async fn skip_user_auth(&self) -> Result<Vec<String>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query("SELECT app_code FROM esb_skip_user_auth ORDER BY app_code"),
            )
            .await?;
        rows.iter().map(|r| col(r, "app_code")).collect()
    }

    async fn add_skip_user_auth(&self, app_code: &str) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_skip_user_auth WHERE app_code = ?")
                .bind(app_code.to_owned()),
        )
        .await?;
        tx.execute(
            db.query("INSERT INTO esb_skip_user_auth (app_code, added_at) VALUES (?, ?)")
                .bind(app_code.to_owned())
                .bind(self.now()),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn remove_skip_user_auth(&self, app_code: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                self.db
                    .query("DELETE FROM esb_skip_user_auth WHERE app_code = ?")
                    .bind(app_code.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl RateLimitStore for SqlStore {
    async fn rate_limits(&self) -> Result<Vec<RateLimit>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query("SELECT component, conf FROM esb_rate_limits ORDER BY component"),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let conf: String = col(r, "conf")?;
                let v: serde_json::Value = serde_json::from_str(&conf).map_err(|e| {
                    EsbError::Internal(format!("esb_rate_limits: unreadable row: {e}"))
                })?;
                Ok(RateLimit {
                    component: col(r, "component")?,
                    conf: RateLimitConf::from_json(&v)
                        .map_err(|e| EsbError::Internal(format!("esb_rate_limits: {e}")))?,
                })
            })
            .collect()
    }

    async fn put_rate_limit(&self, r: &RateLimit) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_rate_limits WHERE component = ?")
                .bind(r.component.clone()),
        )
        .await?;
        tx.execute(
            db.query("INSERT INTO esb_rate_limits (component, conf, updated_at) VALUES (?, ?, ?)")
                .bind(r.component.clone())
                .bind(r.conf.to_json().to_string())
                .bind(self.now()),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn delete_rate_limit(&self, component: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                self.db
                    .query("DELETE FROM esb_rate_limits WHERE component = ?")
                    .bind(component.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}
