//! [`UserStore`]: `login_users` plus one `login_user_roles` row per role held.
//!
//! The invariants (built-in `admin`, last enabled superuser) are checked inside the
//! writing transaction after taking the `superusers` lock row, so concurrent demotions
//! cannot each see "another superuser is left". Disabling, deleting and re-passwording
//! update the user's row first (locking it against a login being issued) and delete the
//! user's sessions in the same transaction.

mod read;
mod write;

use std::collections::HashSet;

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::types::{Role, Username};

use super::sessions::{insert_session, revoke_sessions};
use super::{Ex, SqlStore, begin_write, bind_all, count, paging};
use crate::error::{AuthError, Result};
use crate::model::{NewUser, Page, Session, User, UserPatch, UserQuery};
use crate::store::{BUILTIN_ADMIN, ImportReport, UserStore};
use read::{Filter, IN_CHUNK, normalize, select_one, select_users};
use write::{
    apply_patch, check_invariants, insert_user, lock_superusers, must_exist, write_profile,
    write_roles,
};

#[async_trait]
impl UserStore for SqlStore {
    async fn get(&self, username: &str) -> Result<Option<User>> {
        select_one(&mut Ex::Db(&self.db), &self.db, username).await
    }

    async fn get_many(&self, usernames: &[String]) -> Result<Vec<User>> {
        let mut out = Vec::new();
        for chunk in usernames.chunks(IN_CHUNK) {
            let f = Filter::names(chunk);
            out.extend(
                select_users(
                    &mut Ex::Db(&self.db),
                    &self.db,
                    &f,
                    Some((IN_CHUNK as i64, 0)),
                )
                .await?,
            );
        }
        out.sort_by(|a, b| a.username.cmp(&b.username));
        out.dedup_by(|a, b| a.username == b.username);
        Ok(out)
    }

    async fn list_all(&self, role: Option<Role>) -> Result<Vec<User>> {
        let f = match role {
            Some(r) => Filter::all().role(r),
            None => Filter::all(),
        };
        select_users(&mut Ex::Db(&self.db), &self.db, &f, None).await
    }

    async fn query(&self, q: &UserQuery) -> Result<Page<User>> {
        let (page, page_size, offset) = paging(q.page, q.page_size);
        let mut f = Filter::all();
        if let Some(s) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            f = f.search(s);
        }
        if let Some(d) = q.disabled {
            f = f.disabled(d);
        }
        if let Some(r) = q.role {
            f = f.role(r);
        }
        let sql = format!("SELECT COUNT(*) FROM login_users u WHERE {}", f.sql);
        let total = count(
            self.db
                .fetch_optional(bind_all(self.db.query_dynamic(sql), &f.args))
                .await?,
        )?;
        let results = select_users(
            &mut Ex::Db(&self.db),
            &self.db,
            &f,
            Some((i64::from(page_size), offset)),
        )
        .await?;
        Ok(Page {
            count: total,
            page,
            page_size,
            results,
        })
    }

    async fn create(&self, user: NewUser, now: Millis) -> Result<User> {
        Username::parse(&user.username)?;
        let mut tx = begin_write(&self.db).await?;
        let created = insert_user(&mut tx, &self.db, &user, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update(
        &self,
        username: &str,
        patch: &UserPatch,
        now: Millis,
    ) -> Result<(User, Vec<String>)> {
        let mut tx = begin_write(&self.db).await?;
        lock_superusers(&mut tx, &self.db).await?;
        let cur = must_exist(&mut tx, &self.db, username).await?;
        let mut next = cur.clone();
        apply_patch(&mut next, patch);
        check_invariants(&mut tx, &self.db, &cur, Some((&next.roles, next.disabled))).await?;
        write_profile(&mut tx, &self.db, &next, now).await?;
        let revoked = if next.disabled {
            revoke_sessions(&mut tx, &self.db, username).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        next.updated_at = now;
        Ok((next, revoked))
    }

    async fn set_roles(&self, username: &str, roles: &[Role], now: Millis) -> Result<User> {
        let roles = normalize(roles);
        let mut tx = begin_write(&self.db).await?;
        lock_superusers(&mut tx, &self.db).await?;
        let mut user = must_exist(&mut tx, &self.db, username).await?;
        check_invariants(&mut tx, &self.db, &user, Some((&roles, user.disabled))).await?;
        write_roles(&mut tx, &self.db, username, &roles).await?;
        tx.execute(
            self.db
                .query("UPDATE login_users SET updated_at = ? WHERE username = ?")
                .bind(now)
                .bind(username.to_owned()),
        )
        .await?;
        tx.commit().await?;
        user.roles = roles;
        user.updated_at = now;
        Ok(user)
    }

    async fn set_password_hash(
        &self,
        username: &str,
        hash: &str,
        now: Millis,
        issue: Option<&Session>,
    ) -> Result<Vec<String>> {
        let mut tx = begin_write(&self.db).await?;
        let sql = if issue.is_some() {
            "UPDATE login_users SET password_hash = ?, updated_at = ? WHERE username = ? AND disabled = 0"
        } else {
            "UPDATE login_users SET password_hash = ?, updated_at = ? WHERE username = ?"
        };
        let q = self
            .db
            .query(sql)
            .bind(hash.to_owned())
            .bind(now)
            .bind(username.to_owned());
        if tx.execute(q).await? == 0 {
            let exists = select_one(&mut Ex::Tx(&mut tx), &self.db, username)
                .await?
                .is_some();
            return Err(if exists {
                AuthError::Unauthenticated
            } else {
                AuthError::UserNotFound(username.to_owned())
            });
        }
        let revoked = revoke_sessions(&mut tx, &self.db, username).await?;
        if let Some(s) = issue {
            insert_session(&mut tx, &self.db, s).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    async fn upgrade_password_hash(
        &self,
        username: &str,
        old: &str,
        new: &str,
        now: Millis,
    ) -> Result<bool> {
        let q = self
            .db
            .query(
                "UPDATE login_users SET password_hash = ?, updated_at = ? WHERE username = ? AND password_hash = ?",
            )
            .bind(new.to_owned())
            .bind(now)
            .bind(username.to_owned())
            .bind(old.to_owned());
        Ok(self.db.execute(q).await? > 0)
    }

    async fn delete(&self, username: &str) -> Result<Vec<String>> {
        let mut tx = begin_write(&self.db).await?;
        lock_superusers(&mut tx, &self.db).await?;
        let cur = must_exist(&mut tx, &self.db, username).await?;
        check_invariants(&mut tx, &self.db, &cur, None).await?;
        tx.execute(
            self.db
                .query("DELETE FROM login_user_roles WHERE username = ?")
                .bind(username.to_owned()),
        )
        .await?;
        tx.execute(
            self.db
                .query("DELETE FROM login_users WHERE username = ?")
                .bind(username.to_owned()),
        )
        .await?;
        let revoked = revoke_sessions(&mut tx, &self.db, username).await?;
        tx.commit().await?;
        Ok(revoked)
    }

    async fn import(
        &self,
        users: Vec<NewUser>,
        overwrite: bool,
        now: Millis,
    ) -> Result<(ImportReport, Vec<String>)> {
        let mut report = ImportReport::default();
        let mut revoked = Vec::new();
        let mut seen = HashSet::new();
        let mut tx = begin_write(&self.db).await?;
        lock_superusers(&mut tx, &self.db).await?;
        // Validated one by one inside the transaction: any failure drops `tx`, which
        // rolls back everything written before it.
        for (i, u) in users.iter().enumerate() {
            let row = i + 1;
            Username::parse(&u.username).map_err(|e| {
                AuthError::Invalid(format!("import: row {row} ({:?}): {e}", u.username))
            })?;
            if !seen.insert(u.username.as_str()) {
                return Err(AuthError::Invalid(format!(
                    "import: row {row} ({}) appears more than once in the import",
                    u.username
                )));
            }
            let Some(cur) = select_one(&mut Ex::Tx(&mut tx), &self.db, &u.username).await? else {
                insert_user(&mut tx, &self.db, u, now).await?;
                report.created += 1;
                continue;
            };
            if !overwrite {
                report.skipped += 1;
                continue;
            }
            if cur.username == BUILTIN_ADMIN && u.source != cur.source {
                return Err(AuthError::Protected(format!(
                    "import: row {row} ({BUILTIN_ADMIN}): the built-in administrator's source is {:?} and cannot be changed (the import says {:?})",
                    cur.source, u.source
                )));
            }
            let roles = normalize(&u.roles);
            check_invariants(&mut tx, &self.db, &cur, Some((&roles, u.disabled)))
                .await
                .map_err(|e| match e {
                    AuthError::Protected(m) => {
                        AuthError::Protected(format!("import: row {row} ({}): {m}", u.username))
                    }
                    e => e,
                })?;
            let repassword = u
                .password_hash
                .as_ref()
                .is_some_and(|h| cur.password_hash.as_ref() != Some(h));
            let disables = u.disabled;
            let next = User {
                chname: u.chname.clone(),
                qq: u.qq.clone(),
                phone: u.phone.clone(),
                email: u.email.clone(),
                language: u.language.clone(),
                time_zone: u.time_zone.clone(),
                wx_userid: u.wx_userid.clone(),
                disabled: u.disabled,
                source: u.source.clone(),
                password_hash: u.password_hash.clone(),
                ..cur
            };
            write_profile(&mut tx, &self.db, &next, now).await?;
            write_roles(&mut tx, &self.db, &next.username, &roles).await?;
            if disables || repassword {
                revoked.extend(revoke_sessions(&mut tx, &self.db, &next.username).await?);
            }
            report.updated += 1;
        }
        tx.commit().await?;
        Ok((report, revoked))
    }
}
