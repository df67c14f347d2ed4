//! `bk_login`: is_login, get_user, get_all_users, get_batch_users.

use std::sync::Arc;

use async_trait::async_trait;
use bk_core::identity::UserDirectory;
use bk_core::types::Role;
use serde_json::{Map, Value, json};

use super::shapes::user;
use crate::component::{ApiVer, Call, Component, Reply};
use crate::error::{EsbError, Result};

/// `is_login`: the user of the `bk_token`.
pub struct IsLogin;

#[async_trait]
impl Component for IsLogin {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let u = call.require_user()?;
        if !u.verified {
            return Err(EsbError::UserAuth(
                "is_login checks a bk_token: pass bk_token".into(),
            ));
        }
        Ok(Reply::Data(match call.ver {
            ApiVer::V2 => json!({ "bk_username": u.username }),
            ApiVer::V1 => json!({ "username": u.username }),
        }))
    }
}

/// `get_user`: the user named by `bk_username` (or `username`), else the caller's user.
pub struct GetUser(pub Arc<dyn UserDirectory>);

#[async_trait]
impl Component for GetUser {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let me = call.require_user()?;
        let target = call.param("bk_username").or_else(|| call.param("username"));
        let info = match (&me.info, target) {
            (Some(info), None) => info.clone(),
            (Some(info), Some(t)) if t == info.username => info.clone(),
            (_, t) => {
                let name = t.unwrap_or_else(|| me.username.clone());
                self.0
                    .get_user(&name)
                    .await?
                    .ok_or(EsbError::UserNotFound(name))?
            }
        };
        Ok(Reply::Data(user(&info, call.ver)))
    }
}

/// `get_all_users`: every user, or those of `bk_role` (`role` on V6 paths).
pub struct GetAllUsers(pub Arc<dyn UserDirectory>);

#[async_trait]
impl Component for GetAllUsers {
    async fn call(&self, call: &Call) -> Result<Reply> {
        call.require_user()?;
        let role = match call.param("bk_role").or_else(|| call.param("role")) {
            Some(r) => Some(
                r.trim()
                    .parse::<i64>()
                    .map_err(|_| EsbError::Argument(format!("bk_role {r:?}: a role code 0-4")))
                    .and_then(|c| Ok(Role::from_code(c)?))?,
            ),
            None => None,
        };
        let users = self.0.all_users(role).await?;
        Ok(Reply::Data(Value::Array(
            users.iter().map(|u| user(u, call.ver)).collect(),
        )))
    }
}

/// `get_batch_users`: `{username: user}` for the names in `bk_username_list`
/// (`username_list` on V6 paths); unknown names are left out.
pub struct BatchUsers(pub Arc<dyn UserDirectory>);

/// Most names one call may ask for.
const MAX_BATCH: usize = 1000;

#[async_trait]
impl Component for BatchUsers {
    async fn call(&self, call: &Call) -> Result<Reply> {
        call.require_user()?;
        let names = call
            .list_param("bk_username_list")
            .or_else(|| call.list_param("username_list"))
            .ok_or_else(|| {
                EsbError::Argument("bk_username_list is required: a list of usernames".into())
            })?;
        if names.len() > MAX_BATCH {
            return Err(EsbError::Argument(format!(
                "bk_username_list: at most {MAX_BATCH} names"
            )));
        }
        let users = self.0.batch_users(&names).await?;
        let out: Map<String, Value> = users
            .iter()
            .map(|u| (u.username.clone(), user(u, call.ver)))
            .collect();
        Ok(Reply::Data(Value::Object(out)))
    }
}
