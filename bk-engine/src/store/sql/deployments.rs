//! [`DeploymentStore`]: `engine_deployments`, `engine_deploy_logs`, `engine_slots`.
//!
//! A transition is an `UPDATE ... WHERE id = ? AND state = ?` (compare-and-set), its log
//! line, and for terminal moves the app state (again compare-and-set, skipped when the app
//! moved on) and the slot record, all in one transaction.

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::db::{Db, Tx};
use bk_core::types::AppCode;
use sqlx::any::AnyRow;

use super::releases::parse_json;
use super::{SqlStore, col, corrupt, count, flag, insert_audit, lock_app};
use crate::error::{EngineError, Result};
use crate::model::{
    AppState, AuditEntry, DeployLogLine, DeployState, Deployment, Env, ModuleName, OperationKind,
    SlotRecord, Transition,
};
use crate::store::{DeploymentStore, MAX_LOG_LINE_BYTES, MAX_LOG_LINES};

const T: &str = "engine_deployments";

fn deployment_from_row(row: &AnyRow) -> Result<Deployment> {
    let kind: String = col(row, "kind")?;
    let app: String = col(row, "app_code")?;
    let module: String = col(row, "module")?;
    let env: String = col(row, "env")?;
    let state: String = col(row, "state")?;
    let prev: i16 = col(row, "prev_app_state")?;
    let cancel: i16 = col(row, "cancel_requested")?;
    Ok(Deployment {
        id: col(row, "id")?,
        kind: OperationKind::parse(&kind).ok_or_else(|| corrupt(T, "kind", &kind))?,
        app_code: AppCode::parse_legacy(&app).map_err(|_| corrupt(T, "app_code", &app))?,
        module: ModuleName::parse(&module).map_err(|_| corrupt(T, "module", &module))?,
        env: Env::parse(&env).map_err(|_| corrupt(T, "env", &env))?,
        release_id: col(row, "release_id")?,
        state: DeployState::parse(&state).ok_or_else(|| corrupt(T, "state", &state))?,
        reason: col(row, "reason")?,
        prev_app_state: AppState::from_code(i64::from(prev))
            .ok_or_else(|| corrupt(T, "prev_app_state", &prev.to_string()))?,
        cancel_requested: cancel != 0,
        created_by: col(row, "created_by")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        deadline_at: col(row, "deadline_at")?,
    })
}

fn slot_from_row(row: &AnyRow) -> Result<SlotRecord> {
    const S: &str = "engine_slots";
    let app: String = col(row, "app_code")?;
    let module: String = col(row, "module")?;
    let env: String = col(row, "env")?;
    let generation: i64 = col(row, "generation")?;
    let stopped: i16 = col(row, "stopped")?;
    Ok(SlotRecord {
        app_code: AppCode::parse_legacy(&app).map_err(|_| corrupt(S, "app_code", &app))?,
        module: ModuleName::parse(&module).map_err(|_| corrupt(S, "module", &module))?,
        env: Env::parse(&env).map_err(|_| corrupt(S, "env", &env))?,
        release_id: col(row, "release_id")?,
        generation: u32::try_from(generation).unwrap_or(0),
        replicas: parse_json(S, "replicas", &col::<String>(row, "replicas")?)?,
        stopped: stopped != 0,
        updated_at: col(row, "updated_at")?,
    })
}

const SELECT: &str = "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at FROM engine_deployments";

fn cut(line: &str) -> String {
    if line.len() <= MAX_LOG_LINE_BYTES {
        return line.to_owned();
    }
    let mut end = MAX_LOG_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

async fn append_lines(tx: &mut Tx, db: &Db, id: &str, at: Millis, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(lines.len()).unwrap_or(i64::MAX);
    let updated = tx
        .execute(
            db.query("UPDATE engine_deployments SET log_seq = log_seq + ? WHERE id = ?")
                .bind(n)
                .bind(id.to_owned()),
        )
        .await?;
    if updated == 0 {
        return Err(EngineError::NotFound(format!("deployment {id}")));
    }
    let row = tx
        .fetch_optional(
            db.query("SELECT log_seq FROM engine_deployments WHERE id = ?")
                .bind(id.to_owned()),
        )
        .await?;
    let last = i64::try_from(count(row)?).unwrap_or(0);
    let first = last - n + 1;
    for (i, line) in lines.iter().enumerate() {
        tx.execute(
            db.query(
                "INSERT INTO engine_deploy_logs (deployment_id, seq, logged_at, line) VALUES (?, ?, ?, ?)",
            )
            .bind(id.to_owned())
            .bind(first + i64::try_from(i).unwrap_or(0))
            .bind(at)
            .bind(cut(line)),
        )
        .await?;
    }
    tx.execute(
        db.query("DELETE FROM engine_deploy_logs WHERE deployment_id = ? AND seq <= ?")
            .bind(id.to_owned())
            .bind(last - MAX_LOG_LINES),
    )
    .await?;
    Ok(())
}

async fn write_slot(tx: &mut Tx, db: &Db, s: &SlotRecord) -> Result<()> {
    let replicas = serde_json::to_string(&s.replicas)
        .map_err(|e| EngineError::Internal(format!("encode: {e}")))?;
    let n = tx
        .execute(
            db.query(
                "UPDATE engine_slots SET release_id = ?, generation = ?, replicas = ?, stopped = ?, updated_at = ? \
                 WHERE app_code = ? AND module = ? AND env = ?",
            )
            .bind(s.release_id.clone())
            .bind(i64::from(s.generation))
            .bind(replicas.clone())
            .bind(flag(s.stopped))
            .bind(s.updated_at)
            .bind(s.app_code.as_str().to_owned())
            .bind(s.module.as_str().to_owned())
            .bind(s.env.v7_name()),
        )
        .await?;
    if n == 0 {
        tx.execute(
            db.query(
                "INSERT INTO engine_slots (app_code, module, env, release_id, generation, replicas, stopped, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(s.app_code.as_str().to_owned())
            .bind(s.module.as_str().to_owned())
            .bind(s.env.v7_name())
            .bind(s.release_id.clone())
            .bind(i64::from(s.generation))
            .bind(replicas)
            .bind(flag(s.stopped))
            .bind(s.updated_at),
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl DeploymentStore for SqlStore {
    async fn create_deployment(
        &self,
        d: &Deployment,
        app_state: Option<(AppState, AppState)>,
        audit: &AuditEntry,
    ) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let app = d.app_code.as_str();
        lock_app(&mut tx, db, app).await?;
        // Under the app lock, so two requests cannot both see the slot free.
        let busy = tx
            .fetch_optional(
                db.query(
                    "SELECT COUNT(*) FROM engine_deployments WHERE app_code = ? AND module = ? AND env = ? \
                     AND state NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')",
                )
                .bind(app.to_owned())
                .bind(d.module.as_str().to_owned())
                .bind(d.env.v7_name()),
            )
            .await?;
        if count(busy)? > 0 {
            return Err(EngineError::Conflict(format!(
                "another deployment or offline of module {} in {} is running; wait for it or cancel it",
                d.module.as_str(),
                d.env
            )));
        }
        if let Some((from, to)) = app_state {
            let n = tx
                .execute(
                    db.query("UPDATE engine_apps SET state = ?, updated_at = ? WHERE code = ? AND state = ?")
                        .bind(to.code())
                        .bind(d.created_at)
                        .bind(app.to_owned())
                        .bind(from.code()),
                )
                .await?;
            if n == 0 {
                return Err(EngineError::Conflict(format!(
                    "app {app} changed state meanwhile; try again"
                )));
            }
        }
        tx.execute(
            db.query(
                "INSERT INTO engine_deployments (id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, log_seq, created_by, created_at, updated_at, deadline_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
            )
            .bind(d.id.clone())
            .bind(d.kind.as_str())
            .bind(app.to_owned())
            .bind(d.module.as_str().to_owned())
            .bind(d.env.v7_name())
            .bind(d.release_id.clone())
            .bind(d.state.as_str())
            .bind(d.reason.clone())
            .bind(d.prev_app_state.code())
            .bind(flag(d.cancel_requested))
            .bind(d.created_by.clone())
            .bind(d.created_at)
            .bind(d.updated_at)
            .bind(d.deadline_at),
        )
        .await?;
        append_lines(
            &mut tx,
            db,
            &d.id,
            d.created_at,
            &[format!("{} accepted ({})", d.kind.as_str(), d.state)],
        )
        .await?;
        insert_audit(&mut tx, db, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deployment(&self, id: &str) -> Result<Option<Deployment>> {
        let sql = "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at FROM engine_deployments WHERE id = ?";
        debug_assert!(sql.starts_with(SELECT));
        let row = self
            .db
            .fetch_optional(self.db.query(sql).bind(id.to_owned()))
            .await?;
        row.as_ref().map(deployment_from_row).transpose()
    }

    async fn deployments(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Deployment>> {
        let limit = i64::from(limit.clamp(1, 1000));
        let offset = i64::from(offset);
        let rows = match module {
            Some(m) => self.db.fetch_all(
                self.db.query(
                    "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at \
                     FROM engine_deployments WHERE app_code = ? AND module = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                )
                .bind(app.to_owned()).bind(m.as_str().to_owned()).bind(limit).bind(offset),
            ).await?,
            None => self.db.fetch_all(
                self.db.query(
                    "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at \
                     FROM engine_deployments WHERE app_code = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                )
                .bind(app.to_owned()).bind(limit).bind(offset),
            ).await?,
        };
        rows.iter().map(deployment_from_row).collect()
    }

    async fn unfinished_deployments(&self) -> Result<Vec<Deployment>> {
        let rows = self
            .db
            .fetch_all(self.db.query(
                "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at \
                 FROM engine_deployments WHERE state NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out') ORDER BY created_at, id",
            ))
            .await?;
        rows.iter().map(deployment_from_row).collect()
    }

    async fn transition(&self, t: &Transition) -> Result<Deployment> {
        if !t.from.may_move_to(t.to) {
            return Err(EngineError::Internal(format!(
                "deployment {}: no transition {} -> {}",
                t.id, t.from, t.to
            )));
        }
        let db = &self.db;
        let mut tx = db.begin().await?;
        let n = tx
            .execute(
                db.query(
                    "UPDATE engine_deployments SET state = ?, reason = ?, updated_at = ? WHERE id = ? AND state = ?",
                )
                .bind(t.to.as_str())
                .bind(t.reason.clone())
                .bind(t.at)
                .bind(t.id.clone())
                .bind(t.from.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(EngineError::Conflict(format!(
                "deployment {} is no longer {}",
                t.id, t.from
            )));
        }
        let line = match &t.reason {
            Some(r) => format!("{} -> {}: {r}", t.from, t.to),
            None => format!("{} -> {}", t.from, t.to),
        };
        append_lines(&mut tx, db, &t.id, t.at, &[line]).await?;
        let row = tx
            .fetch_optional(
                db.query(
                    "SELECT id, kind, app_code, module, env, release_id, state, reason, prev_app_state, cancel_requested, created_by, created_at, updated_at, deadline_at FROM engine_deployments WHERE id = ?",
                )
                .bind(t.id.clone()),
            )
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("deployment {}", t.id)))?;
        let d = deployment_from_row(&row)?;
        if let Some((from, to)) = t.app_state {
            tx.execute(
                db.query(
                    "UPDATE engine_apps SET state = ?, updated_at = ? WHERE code = ? AND state = ?",
                )
                .bind(to.code())
                .bind(t.at)
                .bind(d.app_code.as_str().to_owned())
                .bind(from.code()),
            )
            .await?;
        }
        if let Some(slot) = &t.slot {
            write_slot(&mut tx, db, slot).await?;
        }
        tx.commit().await?;
        Ok(d)
    }

    async fn request_cancel(&self, id: &str, audit: &AuditEntry) -> Result<bool> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let n = tx
            .execute(
                db.query(
                    "UPDATE engine_deployments SET cancel_requested = 1 WHERE id = ? \
                     AND state NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')",
                )
                .bind(id.to_owned()),
            )
            .await?;
        if n > 0 {
            append_lines(
                &mut tx,
                db,
                id,
                audit.at,
                &[format!("cancel requested by {}", audit.actor)],
            )
            .await?;
            insert_audit(&mut tx, db, audit).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    async fn append_log(&self, id: &str, at: Millis, lines: &[String]) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        append_lines(&mut tx, db, id, at, lines).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn deploy_log(&self, id: &str, after: i64, limit: u32) -> Result<Vec<DeployLogLine>> {
        let rows = self
            .db
            .fetch_all(
                self.db
                    .query(
                        "SELECT seq, logged_at, line FROM engine_deploy_logs WHERE deployment_id = ? AND seq > ? \
                         ORDER BY seq LIMIT ?",
                    )
                    .bind(id.to_owned())
                    .bind(after)
                    .bind(i64::from(limit.clamp(1, 10_000))),
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DeployLogLine {
                    seq: col(r, "seq")?,
                    at: col(r, "logged_at")?,
                    line: col(r, "line")?,
                })
            })
            .collect()
    }

    async fn slot(&self, app: &str, module: &ModuleName, env: Env) -> Result<Option<SlotRecord>> {
        let row = self
            .db
            .fetch_optional(
                self.db
                    .query(
                        "SELECT app_code, module, env, release_id, generation, replicas, stopped, updated_at FROM engine_slots \
                         WHERE app_code = ? AND module = ? AND env = ?",
                    )
                    .bind(app.to_owned())
                    .bind(module.as_str().to_owned())
                    .bind(env.v7_name()),
            )
            .await?;
        row.as_ref().map(slot_from_row).transpose()
    }

    async fn slot_records(&self) -> Result<Vec<SlotRecord>> {
        let rows = self
            .db
            .fetch_all(self.db.query(
                "SELECT app_code, module, env, release_id, generation, replicas, stopped, updated_at FROM engine_slots \
                 ORDER BY app_code, module, env",
            ))
            .await?;
        rows.iter().map(slot_from_row).collect()
    }

    async fn put_slot(&self, s: &SlotRecord, audit: Option<&AuditEntry>) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        lock_app(&mut tx, db, s.app_code.as_str()).await?;
        write_slot(&mut tx, db, s).await?;
        if let Some(a) = audit {
            insert_audit(&mut tx, db, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
