//! [`AgentStore`] over SQL: `engine_agents` and `engine_agent_instances`.

use async_trait::async_trait;
use bk_core::agent_proto::{Capacity, InstanceKind};
use bk_core::db::DbError;
use sqlx::any::AnyRow;

use super::{SqlStore, col, corrupt, flag, insert_audit};
use crate::error::{EngineError, Result};
use crate::model::AuditEntry;
use crate::store::agents::{AgentRecord, AgentStore, PlacementChange, PlacementRow};

fn agent_from_row(row: &AnyRow) -> Result<AgentRecord> {
    let capacity: String = col(row, "capacity")?;
    let api_url: String = col(row, "api_url")?;
    let last_seen: i64 = col(row, "last_seen")?;
    let enabled: i16 = col(row, "enabled")?;
    let revision: i64 = col(row, "revision")?;
    Ok(AgentRecord {
        id: col(row, "id")?,
        token_hash: col(row, "token_hash")?,
        enabled: enabled != 0,
        revision: u64::try_from(revision).unwrap_or(0),
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        host: col(row, "host")?,
        api_url: (!api_url.is_empty()).then_some(api_url),
        agent_version: col(row, "agent_version")?,
        capacity: serde_json::from_str(&capacity)
            .map_err(|_| corrupt("engine_agents", "capacity", &capacity))?,
        last_seen: (last_seen > 0).then_some(last_seen),
    })
}

fn capacity_text(c: &Capacity) -> Result<String> {
    serde_json::to_string(c).map_err(|e| EngineError::Internal(format!("capacity: {e}")))
}

fn kind_text(k: InstanceKind) -> &'static str {
    match k {
        InstanceKind::Service => "service",
        InstanceKind::Task => "task",
    }
}

fn placement_from_row(row: &AnyRow) -> Result<PlacementRow> {
    let kind: String = col(row, "kind")?;
    let generation: i64 = col(row, "generation")?;
    let ordinal: i64 = col(row, "ordinal")?;
    Ok(PlacementRow {
        instance_id: col(row, "instance_id")?,
        agent_id: col(row, "agent_id")?,
        app_code: col(row, "app_code")?,
        module: col(row, "module")?,
        env: col(row, "env")?,
        process_type: col(row, "process_type")?,
        generation: u32::try_from(generation).unwrap_or(0),
        ordinal: u32::try_from(ordinal).unwrap_or(0),
        kind: match kind.as_str() {
            "service" => InstanceKind::Service,
            "task" => InstanceKind::Task,
            _ => return Err(corrupt("engine_agent_instances", "kind", &kind)),
        },
        sealed: col(row, "sealed")?,
    })
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl AgentStore for SqlStore {
    async fn agents(&self) -> Result<Vec<AgentRecord>> {
        let rows = self
            .db
            .fetch_all(self.db.query("SELECT * FROM engine_agents ORDER BY id"))
            .await?;
        rows.iter().map(agent_from_row).collect()
    }

    async fn create_agent(&self, a: &AgentRecord, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let q = db
            .query(
                "INSERT INTO engine_agents (id, token_hash, enabled, revision, created_by, created_at, \
                 host, api_url, agent_version, capacity, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(a.id.clone())
            .bind(a.token_hash.clone())
            .bind(flag(a.enabled))
            .bind(to_i64(a.revision))
            .bind(a.created_by.clone())
            .bind(a.created_at)
            .bind(a.host.clone())
            .bind(a.api_url.clone().unwrap_or_default())
            .bind(a.agent_version.clone())
            .bind(capacity_text(&a.capacity)?)
            .bind(a.last_seen.unwrap_or(0));
        tx.execute(q).await.map_err(|e| match e {
            DbError::Conflict(_) => {
                EngineError::Conflict(format!("agent {} is already registered", a.id))
            }
            e => e.into(),
        })?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_agent_enabled(&self, id: &str, enabled: bool, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let n = tx
            .execute(
                db.query("UPDATE engine_agents SET enabled = ? WHERE id = ?")
                    .bind(flag(enabled))
                    .bind(id.to_owned()),
            )
            .await?;
        if n == 0 {
            return Err(EngineError::NotFound(format!("agent {id}")));
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_agent_token(&self, id: &str, token_hash: &str, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let n = tx
            .execute(
                db.query("UPDATE engine_agents SET token_hash = ? WHERE id = ?")
                    .bind(token_hash.to_owned())
                    .bind(id.to_owned()),
            )
            .await?;
        if n == 0 {
            return Err(EngineError::NotFound(format!("agent {id}")));
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_agent(&self, id: &str, audit: &AuditEntry) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        tx.execute(
            db.query("DELETE FROM engine_agent_instances WHERE agent_id = ?")
                .bind(id.to_owned()),
        )
        .await?;
        let n = tx
            .execute(
                db.query("DELETE FROM engine_agents WHERE id = ?")
                    .bind(id.to_owned()),
            )
            .await?;
        if n == 0 {
            return Err(EngineError::NotFound(format!("agent {id}")));
        }
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_seen(&self, a: &AgentRecord) -> Result<()> {
        self.db
            .execute(
                self.db
                    .query(
                        "UPDATE engine_agents SET host = ?, api_url = ?, agent_version = ?, capacity = ?, \
                         last_seen = ? WHERE id = ?",
                    )
                    .bind(a.host.clone())
                    .bind(a.api_url.clone().unwrap_or_default())
                    .bind(a.agent_version.clone())
                    .bind(capacity_text(&a.capacity)?)
                    .bind(a.last_seen.unwrap_or(0))
                    .bind(a.id.clone()),
            )
            .await?;
        Ok(())
    }

    async fn placements(&self) -> Result<Vec<PlacementRow>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query("SELECT * FROM engine_agent_instances ORDER BY instance_id"),
            )
            .await?;
        rows.iter().map(placement_from_row).collect()
    }

    async fn commit_placements(&self, c: &PlacementChange) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let doomed = c.remove.iter().chain(c.put.iter().map(|p| &p.instance_id));
        for id in doomed {
            tx.execute(
                db.query("DELETE FROM engine_agent_instances WHERE instance_id = ?")
                    .bind(id.clone()),
            )
            .await?;
        }
        for p in &c.put {
            tx.execute(
                db.query(
                    "INSERT INTO engine_agent_instances (instance_id, agent_id, app_code, module, env, \
                     process_type, generation, ordinal, kind, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(p.instance_id.clone())
                .bind(p.agent_id.clone())
                .bind(p.app_code.clone())
                .bind(p.module.clone())
                .bind(p.env.clone())
                .bind(p.process_type.clone())
                .bind(i64::from(p.generation))
                .bind(i64::from(p.ordinal))
                .bind(kind_text(p.kind))
                .bind(p.sealed.clone()),
            )
            .await?;
        }
        for (id, rev) in &c.revisions {
            tx.execute(
                db.query("UPDATE engine_agents SET revision = ? WHERE id = ?")
                    .bind(to_i64(*rev))
                    .bind(id.clone()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
