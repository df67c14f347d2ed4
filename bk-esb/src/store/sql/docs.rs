//! Systems, channels and self-service components: rows holding a JSON document.

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{SqlStore, col};
use crate::error::{EsbError, Result};
use crate::model::{Channel, SelfServiceApi, System};
use crate::store::{ChannelStore, SelfServiceStore, SystemStore};

fn to_doc<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| EsbError::Internal(e.to_string()))
}

fn from_doc<T: DeserializeOwned>(table: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc)
        .map_err(|e| EsbError::Internal(format!("{table}: unreadable row: {e}")))
}

impl SqlStore {
    async fn docs<T: DeserializeOwned>(&self, sql: &'static str, table: &str) -> Result<Vec<T>> {
        let rows = self.db.fetch_all(self.db.query(sql)).await?;
        rows.iter()
            .map(|r| from_doc(table, &col::<String>(r, "doc")?))
            .collect()
    }
}

#[async_trait]
impl SystemStore for SqlStore {
    async fn systems(&self) -> Result<Vec<System>> {
        self.docs("SELECT doc FROM esb_systems ORDER BY name", "esb_systems")
            .await
    }

    async fn put_system(&self, s: &System) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_systems WHERE name = ?")
                .bind(s.name.clone()),
        )
        .await?;
        tx.execute(
            db.query("INSERT INTO esb_systems (name, doc, updated_at) VALUES (?, ?, ?)")
                .bind(s.name.clone())
                .bind(to_doc(s)?)
                .bind(self.now()),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn delete_system(&self, name: &str) -> Result<bool> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        for sql in [
            "SELECT COUNT(*) FROM esb_channels WHERE system_name = ?",
            "SELECT COUNT(*) FROM esb_self_service WHERE system_name = ?",
        ] {
            let row = tx
                .fetch_optional(db.query(sql).bind(name.to_owned()))
                .await?;
            let n: i64 = match row {
                Some(r) => sqlx::Row::try_get(&r, 0)
                    .map_err(|e| EsbError::Db(bk_core::db::DbError::Other(e)))?,
                None => 0,
            };
            if n > 0 {
                return Err(EsbError::Conflict(format!(
                    "system {name} still has {n} components; delete them first"
                )));
            }
        }
        let n = tx
            .execute(
                db.query("DELETE FROM esb_systems WHERE name = ?")
                    .bind(name.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn channels(&self) -> Result<Vec<Channel>> {
        self.docs("SELECT doc FROM esb_channels ORDER BY path", "esb_channels")
            .await
    }

    async fn put_channel(&self, c: &Channel) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_channels WHERE path = ?")
                .bind(c.path.clone()),
        )
        .await?;
        tx.execute(
            db.query(
                "INSERT INTO esb_channels (path, system_name, doc, updated_at) VALUES (?, ?, ?, ?)",
            )
            .bind(c.path.clone())
            .bind(c.system.clone())
            .bind(to_doc(c)?)
            .bind(self.now()),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    async fn delete_channel(&self, path: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                self.db
                    .query("DELETE FROM esb_channels WHERE path = ?")
                    .bind(path.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}

#[async_trait]
impl SelfServiceStore for SqlStore {
    async fn self_service(&self) -> Result<Vec<SelfServiceApi>> {
        self.docs(
            "SELECT doc FROM esb_self_service ORDER BY system_name, name",
            "esb_self_service",
        )
        .await
    }

    async fn put_self_service(&self, a: &SelfServiceApi) -> Result<()> {
        let db = &self.db;
        let mut tx = self.begin_write().await?;
        tx.execute(
            db.query("DELETE FROM esb_self_service WHERE system_name = ? AND name = ?")
                .bind(a.system.clone())
                .bind(a.name.clone()),
        )
        .await?;
        let insert = db
            .query(
                "INSERT INTO esb_self_service (system_name, name, registed_path, registed_http_method, doc, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(a.system.clone())
            .bind(a.name.clone())
            .bind(a.registed_path.clone())
            .bind(a.registed_http_method.clone())
            .bind(to_doc(a)?)
            .bind(self.now());
        tx.execute(insert).await.map_err(|e| match e {
            bk_core::db::DbError::Conflict(_) => EsbError::Conflict(format!(
                "{} {} is registered by another component already",
                a.registed_http_method, a.registed_path
            )),
            e => e.into(),
        })?;
        Ok(tx.commit().await?)
    }

    async fn delete_self_service(&self, system: &str, name: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                self.db
                    .query("DELETE FROM esb_self_service WHERE system_name = ? AND name = ?")
                    .bind(system.to_owned())
                    .bind(name.to_owned()),
            )
            .await?;
        tx.commit().await?;
        Ok(n > 0)
    }
}
