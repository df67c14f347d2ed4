//! [`ExternalIdentityStore`]: `login_identities`. The primary key (provider, subject) and
//! the unique index (provider, username) make linking atomic: of two first logins racing
//! for one account, the database lets one insert win.

use async_trait::async_trait;
use bk_core::db::DbError;
use sqlx::any::AnyRow;

use super::{SqlStore, col};
use crate::error::{AuthError, Result};
use crate::store::{ExternalIdentityStore, LinkedIdentity};

fn link_from_row(row: &AnyRow) -> Result<LinkedIdentity> {
    Ok(LinkedIdentity {
        provider: col(row, "provider")?,
        subject: col(row, "subject")?,
        issuer: col(row, "issuer")?,
        username: col(row, "username")?,
        created_at: col(row, "created_at")?,
    })
}

impl SqlStore {
    async fn find_link(
        &self,
        sql: &'static str,
        a: &str,
        b: &str,
    ) -> Result<Option<LinkedIdentity>> {
        let q = self.db.query(sql).bind(a.to_owned()).bind(b.to_owned());
        self.db
            .fetch_optional(q)
            .await?
            .as_ref()
            .map(link_from_row)
            .transpose()
    }
}

#[async_trait]
impl ExternalIdentityStore for SqlStore {
    async fn find_subject(&self, provider: &str, subject: &str) -> Result<Option<LinkedIdentity>> {
        self.find_link(
            "SELECT provider, subject, issuer, username, created_at FROM login_identities \
             WHERE provider = ? AND subject = ?",
            provider,
            subject,
        )
        .await
    }

    async fn find_username(
        &self,
        provider: &str,
        username: &str,
    ) -> Result<Option<LinkedIdentity>> {
        self.find_link(
            "SELECT provider, subject, issuer, username, created_at FROM login_identities \
             WHERE provider = ? AND username = ?",
            provider,
            username,
        )
        .await
    }

    async fn link(&self, l: &LinkedIdentity) -> Result<()> {
        let q = self
            .db
            .query(
                "INSERT INTO login_identities (provider, subject, issuer, username, created_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(l.provider.clone())
            .bind(l.subject.clone())
            .bind(l.issuer.clone())
            .bind(l.username.clone())
            .bind(l.created_at);
        match self.db.execute(q).await {
            Ok(_) => Ok(()),
            Err(DbError::Conflict(_)) => Err(AuthError::Forbidden(format!(
                "the account {} or this {} user is linked already",
                l.username, l.provider
            ))),
            Err(e) => Err(e.into()),
        }
    }
}
