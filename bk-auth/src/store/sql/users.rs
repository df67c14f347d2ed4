//! [`UserStore`]: `login_users` plus one `login_user_roles` row per role held.
//!
//! The invariants (built-in `admin`, last enabled superuser) are checked inside the
//! writing transaction after taking the `superusers` lock row, so concurrent demotions
//! cannot each see "another superuser is left".

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use bk_core::clock::Millis;
use bk_core::db::{Db, DbError, Tx};
use bk_core::types::{Role, Username};
use sqlx::any::AnyRow;

use super::{Arg, Ex, SqlStore, bind_all, col, count, flag, paging, placeholders};
use crate::error::{AuthError, Result};
use crate::model::{NewUser, Page, User, UserPatch, UserQuery};
use crate::store::{BUILTIN_ADMIN, ImportReport, UserStore};

macro_rules! user_cols {
    () => {
        "u.username, u.chname, u.qq, u.phone, u.email, u.language, u.time_zone, u.wx_userid, \
         u.disabled, u.source, u.password_hash, u.created_at, u.updated_at, u.last_login_at"
    };
}

/// Get-many and page lookups bind at most this many names per statement.
const IN_CHUNK: usize = 500;

fn code(r: Role) -> i16 {
    r.code() as i16
}

/// Sorted by code, without duplicates, never empty.
fn normalize(roles: &[Role]) -> Vec<Role> {
    let mut v = roles.to_vec();
    v.sort();
    v.dedup();
    if v.is_empty() {
        v.push(Role::Staff);
    }
    v
}

fn user_from_row(row: &AnyRow) -> Result<User> {
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
struct Filter {
    sql: String,
    args: Vec<Arg>,
}

impl Filter {
    fn all() -> Self {
        Self {
            sql: "1 = 1".into(),
            args: Vec::new(),
        }
    }

    fn names(names: &[String]) -> Self {
        Self {
            sql: format!("u.username IN ({})", placeholders(names.len())),
            args: names.iter().map(|n| Arg::Text(n.clone())).collect(),
        }
    }

    /// The effective role (highest held) is `role`: holds it and nothing ranked above.
    fn role(mut self, role: Role) -> Self {
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
    fn search(mut self, text: &str) -> Self {
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

    fn disabled(mut self, disabled: bool) -> Self {
        self.sql.push_str(" AND u.disabled = ?");
        self.args.push(Arg::Small(flag(disabled)));
        self
    }
}

/// Users matching `f`, ordered by username, with their roles; `limit` = (size, offset).
async fn select_users(
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

async fn select_one(ex: &mut Ex<'_>, db: &Db, username: &str) -> Result<Option<User>> {
    let f = Filter {
        sql: "u.username = ?".into(),
        args: vec![Arg::Text(username.to_owned())],
    };
    Ok(select_users(ex, db, &f, None).await?.pop())
}

async fn must_exist(tx: &mut Tx, db: &Db, username: &str) -> Result<User> {
    select_one(&mut Ex::Tx(tx), db, username)
        .await?
        .ok_or_else(|| AuthError::UserNotFound(username.to_owned()))
}

/// Serialise every change that could remove a superuser.
async fn lock_superusers(tx: &mut Tx, db: &Db) -> Result<()> {
    let n = tx
        .execute(db.query("UPDATE login_locks SET version = version + 1 WHERE name = 'superusers'"))
        .await?;
    if n == 0 {
        return Err(AuthError::Internal(
            "login_locks has no 'superusers' row; run the login migrations".into(),
        ));
    }
    Ok(())
}

/// Refuse a change of `cur` to `after` (`None`: deletion) that breaks an invariant.
async fn check_invariants(
    tx: &mut Tx,
    db: &Db,
    cur: &User,
    after: Option<(&[Role], bool)>,
) -> Result<()> {
    let was_super = cur.roles.contains(&Role::Superuser);
    let (verb, loses) = match after {
        None => ("deleted", true),
        Some((_, disabled)) if disabled && !cur.disabled => ("disabled", true),
        Some((roles, _)) if was_super && !roles.contains(&Role::Superuser) => ("demoted", true),
        Some(_) => ("changed", false),
    };
    if !loses {
        return Ok(());
    }
    if cur.username == BUILTIN_ADMIN {
        return Err(AuthError::Protected(format!(
            "user {BUILTIN_ADMIN} is the built-in administrator and cannot be {verb}"
        )));
    }
    if !was_super || cur.disabled {
        return Ok(());
    }
    let enabled_superusers = count(
        tx.fetch_optional(
            db.query(
                "SELECT COUNT(*) FROM login_users u WHERE u.disabled = 0 AND EXISTS \
                 (SELECT 1 FROM login_user_roles x WHERE x.username = u.username AND x.role = ?)",
            )
            .bind(code(Role::Superuser)),
        )
        .await?,
    )?;
    if enabled_superusers <= 1 {
        return Err(AuthError::Protected(format!(
            "user {} is the last enabled superuser and cannot be {verb}; make another user a superuser first",
            cur.username
        )));
    }
    Ok(())
}

async fn write_roles(tx: &mut Tx, db: &Db, username: &str, roles: &[Role]) -> Result<()> {
    tx.execute(
        db.query("DELETE FROM login_user_roles WHERE username = ?")
            .bind(username.to_owned()),
    )
    .await?;
    for r in roles {
        tx.execute(
            db.query("INSERT INTO login_user_roles (username, role) VALUES (?, ?)")
                .bind(username.to_owned())
                .bind(code(*r)),
        )
        .await?;
    }
    Ok(())
}

async fn insert_user(tx: &mut Tx, db: &Db, u: &NewUser, now: Millis) -> Result<User> {
    let user = User {
        username: u.username.clone(),
        chname: u.chname.clone(),
        qq: u.qq.clone(),
        phone: u.phone.clone(),
        email: u.email.clone(),
        language: u.language.clone(),
        time_zone: u.time_zone.clone(),
        wx_userid: u.wx_userid.clone(),
        roles: normalize(&u.roles),
        disabled: u.disabled,
        source: u.source.clone(),
        password_hash: u.password_hash.clone(),
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    let q = db
        .query(
            "INSERT INTO login_users (username, chname, qq, phone, email, language, time_zone, wx_userid, \
             disabled, source, password_hash, created_at, updated_at, last_login_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        )
        .bind(user.username.clone())
        .bind(user.chname.clone())
        .bind(user.qq.clone())
        .bind(user.phone.clone())
        .bind(user.email.clone())
        .bind(user.language.clone())
        .bind(user.time_zone.clone())
        .bind(user.wx_userid.clone())
        .bind(flag(user.disabled))
        .bind(user.source.clone())
        .bind(user.password_hash.clone())
        .bind(now)
        .bind(now);
    tx.execute(q).await.map_err(|e| match e {
        DbError::Conflict(_) => AuthError::UserExists(user.username.clone()),
        e => e.into(),
    })?;
    write_roles(tx, db, &user.username, &user.roles).await?;
    Ok(user)
}

/// Write the profile fields and the disabled flag of `u`; a `None` password hash keeps
/// the stored one.
async fn write_profile(tx: &mut Tx, db: &Db, u: &User, now: Millis) -> Result<()> {
    let q = db
        .query(
            "UPDATE login_users SET chname = ?, qq = ?, phone = ?, email = ?, language = ?, time_zone = ?, \
             wx_userid = ?, disabled = ?, source = ?, password_hash = COALESCE(?, password_hash), updated_at = ? \
             WHERE username = ?",
        )
        .bind(u.chname.clone())
        .bind(u.qq.clone())
        .bind(u.phone.clone())
        .bind(u.email.clone())
        .bind(u.language.clone())
        .bind(u.time_zone.clone())
        .bind(u.wx_userid.clone())
        .bind(flag(u.disabled))
        .bind(u.source.clone())
        .bind(u.password_hash.clone())
        .bind(now)
        .bind(u.username.clone());
    tx.execute(q).await?;
    Ok(())
}

fn apply_patch(u: &mut User, p: &UserPatch) {
    let fields = [
        (&mut u.chname, &p.chname),
        (&mut u.qq, &p.qq),
        (&mut u.phone, &p.phone),
        (&mut u.email, &p.email),
        (&mut u.language, &p.language),
        (&mut u.time_zone, &p.time_zone),
        (&mut u.wx_userid, &p.wx_userid),
    ];
    for (field, value) in fields {
        if let Some(v) = value {
            field.clone_from(v);
        }
    }
    if let Some(d) = p.disabled {
        u.disabled = d;
    }
}

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
        let mut tx = self.db.begin().await?;
        let created = insert_user(&mut tx, &self.db, &user, now).await?;
        tx.commit().await?;
        Ok(created)
    }

    async fn update(&self, username: &str, patch: &UserPatch, now: Millis) -> Result<User> {
        let mut tx = self.db.begin().await?;
        lock_superusers(&mut tx, &self.db).await?;
        let cur = must_exist(&mut tx, &self.db, username).await?;
        let mut next = cur.clone();
        apply_patch(&mut next, patch);
        check_invariants(&mut tx, &self.db, &cur, Some((&next.roles, next.disabled))).await?;
        write_profile(&mut tx, &self.db, &next, now).await?;
        tx.commit().await?;
        next.updated_at = now;
        Ok(next)
    }

    async fn set_roles(&self, username: &str, roles: &[Role], now: Millis) -> Result<User> {
        let roles = normalize(roles);
        let mut tx = self.db.begin().await?;
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

    async fn set_password_hash(&self, username: &str, hash: &str, now: Millis) -> Result<()> {
        let q = self
            .db
            .query("UPDATE login_users SET password_hash = ?, updated_at = ? WHERE username = ?")
            .bind(hash.to_owned())
            .bind(now)
            .bind(username.to_owned());
        match self.db.execute(q).await? {
            0 => Err(AuthError::UserNotFound(username.to_owned())),
            _ => Ok(()),
        }
    }

    async fn record_login(&self, username: &str, now: Millis) -> Result<()> {
        let q = self
            .db
            .query("UPDATE login_users SET last_login_at = ? WHERE username = ?")
            .bind(now)
            .bind(username.to_owned());
        match self.db.execute(q).await? {
            0 => Err(AuthError::UserNotFound(username.to_owned())),
            _ => Ok(()),
        }
    }

    async fn delete(&self, username: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
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
        tx.commit().await?;
        Ok(())
    }

    async fn import(
        &self,
        users: Vec<NewUser>,
        overwrite: bool,
        now: Millis,
    ) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut seen = HashSet::new();
        let mut tx = self.db.begin().await?;
        lock_superusers(&mut tx, &self.db).await?;
        // Validated one by one inside the transaction: any failure drops `tx`, which
        // rolls back everything written before it.
        for (i, u) in users.iter().enumerate() {
            Username::parse(&u.username).map_err(|e| {
                AuthError::Invalid(format!("import: user #{} ({:?}): {e}", i + 1, u.username))
            })?;
            if !seen.insert(u.username.as_str()) {
                return Err(AuthError::Invalid(format!(
                    "import: user #{} ({}) appears more than once in the import",
                    i + 1,
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
            let roles = normalize(&u.roles);
            check_invariants(&mut tx, &self.db, &cur, Some((&roles, u.disabled))).await?;
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
            report.updated += 1;
        }
        tx.commit().await?;
        Ok(report)
    }
}
