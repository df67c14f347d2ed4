//! Writing users inside a transaction: the `superusers` lock, the invariants, rows of
//! `login_users` and `login_user_roles`.

use bk_core::clock::Millis;
use bk_core::db::{Db, DbError, Tx};
use bk_core::types::Role;

use super::super::{Ex, count, flag};
use super::read::{code, normalize, select_one};
use crate::error::{AuthError, Result};
use crate::model::{NewUser, User, UserPatch};
use crate::store::BUILTIN_ADMIN;

pub(super) async fn must_exist(tx: &mut Tx, db: &Db, username: &str) -> Result<User> {
    select_one(&mut Ex::Tx(tx), db, username)
        .await?
        .ok_or_else(|| AuthError::UserNotFound(username.to_owned()))
}

/// Serialise every change that could remove a superuser.
pub(super) async fn lock_superusers(tx: &mut Tx, db: &Db) -> Result<()> {
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
pub(super) async fn check_invariants(
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

pub(super) async fn write_roles(
    tx: &mut Tx,
    db: &Db,
    username: &str,
    roles: &[Role],
) -> Result<()> {
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

pub(super) async fn insert_user(tx: &mut Tx, db: &Db, u: &NewUser, now: Millis) -> Result<User> {
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
pub(super) async fn write_profile(tx: &mut Tx, db: &Db, u: &User, now: Millis) -> Result<()> {
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

pub(super) fn apply_patch(u: &mut User, p: &UserPatch) {
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
