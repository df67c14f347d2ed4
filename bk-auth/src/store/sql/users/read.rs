//! Reading users: row decoding, `WHERE` filters (search, disabled, effective role) and
//! the two-query load of users with their roles.

use std::collections::BTreeMap;

use bk_core::db::Db;
use bk_core::types::Role;
use sqlx::any::AnyRow;

use super::super::{Arg, Ex, bind_all, col, flag, placeholders};
use crate::error::{AuthError, Result};
use crate::model::User;

macro_rules! user_cols {
    () => {
        "u.username, u.chname, u.qq, u.phone, u.email, u.language, u.time_zone, u.wx_userid, \
         u.disabled, u.source, u.password_hash, u.created_at, u.updated_at, u.last_login_at"
    };
}

/// Get-many and page lookups bind at most this many names per statement.
pub(super) const IN_CHUNK: usize = 500;

pub(super) fn code(r: Role) -> i16 {
    r.code() as i16
}

/// Sorted by code, without duplicates, never empty.
pub(super) fn normalize(roles: &[Role]) -> Vec<Role> {
    let mut v = roles.to_vec();
    v.sort();
    v.dedup();
    if v.is_empty() {
        v.push(Role::Staff);
    }
    v
}

pub(super) fn user_from_row(row: &AnyRow) -> Result<User> {
    Ok(User {
        username: col(row, "username")?,
        chname: col(row, "chname")?,
        qq: col(row, "qq")?,
        phone: col(row, "phone")?,
        email: col(row, "email")?,
        language: col(row, "language")?,
        time_zone: col(row, "time_zone")?,
        wx_userid: col(row, "wx_userid")?,
        roles: Vec::new(),
        disabled: col::<i64>(row, "disabled")? != 0,
        source: col(row, "source")?,
        password_hash: col(row, "password_hash")?,
        created_at: col(row, "created_at")?,
        updated_at: col(row, "updated_at")?,
        last_login_at: col(row, "last_login_at")?,
    })
}

/// A `WHERE` condition over `login_users u`, with its arguments.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    pub(super) sql: String,
    pub(super) args: Vec<Arg>,
}

impl Filter {
    pub(super) fn all() -> Self {
        Self {
            sql: "1 = 1".into(),
            args: Vec::new(),
        }
    }

    pub(super) fn names(names: &[String]) -> Self {
        Self {
            sql: format!("u.username IN ({})", placeholders(names.len())),
            args: names.iter().map(|n| Arg::Text(n.clone())).collect(),
        }
    }

    /// The effective role (highest held) is `role`: holds it and nothing ranked above.
    pub(super) fn role(mut self, role: Role) -> Self {
        if role != Role::Staff {
            self.sql
                .push_str(" AND EXISTS (SELECT 1 FROM login_user_roles x WHERE x.username = u.username AND x.role = ?)");
            self.args.push(Arg::Small(code(role)));
        }
        let higher: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.rank() > role.rank())
            .collect();
        if !higher.is_empty() {
            self.sql.push_str(&format!(
                " AND NOT EXISTS (SELECT 1 FROM login_user_roles x WHERE x.username = u.username AND x.role IN ({}))",
                placeholders(higher.len())
            ));
            self.args
                .extend(higher.into_iter().map(|r| Arg::Small(code(r))));
        }
        self
    }

    /// Case-insensitive substring of username, chname or email.
    pub(super) fn search(mut self, text: &str) -> Self {
        let mut pattern = String::from("%");
        for c in text.to_lowercase().chars() {
            if matches!(c, '!' | '%' | '_') {
                pattern.push('!');
            }
            pattern.push(c);
        }
        pattern.push('%');
        self.sql.push_str(
            " AND (LOWER(u.username) LIKE ? ESCAPE '!' OR LOWER(u.chname) LIKE ? ESCAPE '!' \
             OR LOWER(u.email) LIKE ? ESCAPE '!')",
        );
        self.args.extend(std::iter::repeat_n(Arg::Text(pattern), 3));
        self
    }

    pub(super) fn disabled(mut self, disabled: bool) -> Self {
        self.sql.push_str(" AND u.disabled = ?");
        self.args.push(Arg::Small(flag(disabled)));
        self
    }
}

/// Users matching `f`, ordered by username, with their roles; `limit` = (size, offset).
pub(super) async fn select_users(
    ex: &mut Ex<'_>,
    db: &Db,
    f: &Filter,
    limit: Option<(i64, i64)>,
) -> Result<Vec<User>> {
    let mut sql = format!(
        "SELECT {} FROM login_users u WHERE {} ORDER BY u.username",
        user_cols!(),
        f.sql
    );
    let mut args = f.args.clone();
    if let Some((size, offset)) = limit {
        sql.push_str(" LIMIT ? OFFSET ?");
        args.extend([Arg::Int(size), Arg::Int(offset)]);
    }
    let rows = ex.fetch_all(bind_all(db.query_dynamic(sql), &args)).await?;
    let mut users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
    if users.is_empty() {
        return Ok(users);
    }
    // A page is small: fetch its roles by name. A full listing: by the same filter.
    let names: Vec<String> = users.iter().map(|u| u.username.clone()).collect();
    let roles_filter = if limit.is_some() {
        Filter::names(&names)
    } else {
        f.clone()
    };
    let sql = format!(
        "SELECT ur.username, ur.role FROM login_user_roles ur JOIN login_users u ON u.username = ur.username WHERE {}",
        roles_filter.sql
    );
    let mut held: BTreeMap<String, Vec<Role>> = BTreeMap::new();
    for row in ex
        .fetch_all(bind_all(db.query_dynamic(sql), &roles_filter.args))
        .await?
    {
        let name: String = col(&row, "username")?;
        let c: i64 = col(&row, "role")?;
        let role = Role::from_code(c).map_err(|_| {
            AuthError::Internal(format!(
                "login_user_roles: unknown role code {c} for user {name}"
            ))
        })?;
        held.entry(name).or_default().push(role);
    }
    for u in &mut users {
        u.roles = normalize(held.get(&u.username).map(Vec::as_slice).unwrap_or_default());
    }
    Ok(users)
}

pub(super) async fn select_one(ex: &mut Ex<'_>, db: &Db, username: &str) -> Result<Option<User>> {
    let f = Filter {
        sql: "u.username = ?".into(),
        args: vec![Arg::Text(username.to_owned())],
    };
    Ok(select_users(ex, db, &f, None).await?.pop())
}
