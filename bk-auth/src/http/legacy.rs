//! What the V1 and V2 login APIs share: authorization by token or service trust, the
//! token look-up, and the directory queries. Each API only names its parameters and
//! renders users in its own shape.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use bk_core::ApiError;
use bk_core::types::Role;
use serde::Deserialize;

use super::{AppState, Client};
use crate::error::AuthError;
use crate::model::User;
use crate::service::directory::MAX_BATCH;

/// Names as an array or a separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum NameList {
    /// `["a","b"]`.
    List(Vec<String>),
    /// `"a;b"` or `"a,b"`.
    Text(String),
}

impl NameList {
    fn into_vec(self) -> Vec<String> {
        match self {
            NameList::List(v) => v,
            NameList::Text(t) => t
                .split([',', ';'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Whether the request carries the ESB service-trust headers.
pub(super) fn trusted(svc: &AppState, headers: &HeaderMap) -> bool {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    svc.is_trusted(h("x-app-code"), h("x-app-token"))
}

/// The token from the parameter, else the cookie.
pub(super) fn pick_token(param: Option<String>, client: &Client) -> Option<String> {
    param
        .filter(|t| !t.is_empty())
        .or_else(|| client.cookie_token.clone())
}

/// The `bk_token` cookie, read from the request head without cloning its headers (the
/// hot path of `is_login` needs nothing else from them).
#[derive(Debug)]
pub(super) struct TokenCookie(Option<axum::http::HeaderValue>);

impl<S: Send + Sync> FromRequestParts<S> for TokenCookie {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        // The raw header (a reference count, no copy); the configured cookie name is
        // looked up only when the token is not in the parameter.
        Ok(Self(parts.headers.get(axum::http::header::COOKIE).cloned()))
    }
}

/// `is_login`: the username of the token in the parameter, else in the cookie, shared
/// with the session cache (no copy). This is the hottest route and needs no [`Client`].
pub(super) async fn is_login(
    svc: &AppState,
    cookie: TokenCookie,
    param: Option<String>,
) -> Result<Arc<str>, ApiError> {
    let token = param
        .filter(|t| !t.is_empty())
        .or_else(|| {
            let header = cookie.0?;
            super::cookies::get(header.to_str().ok()?, &svc.config().cookie.name)
        })
        .ok_or_else(|| {
            ApiError::with_detail(bk_core::ErrorCode::InvalidToken, "bk_token is required")
        })?;
    Ok(svc
        .session_user(&token)
        .await?
        .ok_or(AuthError::InvalidToken)?)
}

/// Authorize a directory look-up: service trust, or a live token.
async fn require_token_or_trust(
    svc: &AppState,
    headers: &HeaderMap,
    token: Option<&str>,
) -> Result<(), ApiError> {
    if trusted(svc, headers) {
        return Ok(());
    }
    match token {
        Some(t) if svc.is_login(t).await?.is_some() => Ok(()),
        _ => Err(AuthError::InvalidToken.into()),
    }
}

/// Parse a role code parameter.
pub(super) fn parse_role(raw: Option<&str>) -> Result<Option<Role>, ApiError> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => {
            let code: i64 = r
                .parse()
                .map_err(|_| ApiError::invalid(format!("role: {r:?} is not a role code (0-4)")))?;
            Ok(Some(Role::from_code(code)?))
        }
    }
}

/// `get_user`: with service trust the user named by `name`, else the token's user.
pub(super) async fn get_user(
    svc: &AppState,
    headers: &HeaderMap,
    client: &Client,
    name: Option<String>,
    token: Option<String>,
) -> Result<User, AuthError> {
    if let Some(name) = name.filter(|n| !n.is_empty())
        && trusted(svc, headers)
    {
        return svc
            .find_user(&name)
            .await?
            .ok_or(AuthError::UserNotFound(name));
    }
    let token = pick_token(token, client).ok_or(AuthError::InvalidToken)?;
    svc.user_of_token(&token)
        .await?
        .ok_or(AuthError::InvalidToken)
}

/// `get_all_user(s)`: every user, optionally of one role, rendered as `U`.
pub(super) async fn all_users<U: for<'a> From<&'a User>>(
    svc: &AppState,
    headers: &HeaderMap,
    client: &Client,
    token: Option<String>,
    role: Option<&str>,
) -> Result<Vec<U>, ApiError> {
    let token = pick_token(token, client);
    require_token_or_trust(svc, headers, token.as_deref()).await?;
    let role = parse_role(role)?;
    Ok(svc.all_users(role).await?.iter().map(U::from).collect())
}

/// `get_batch_user(s)`: the named users (unknown ones omitted), keyed by username.
pub(super) async fn batch_users<U: for<'a> From<&'a User>>(
    svc: &AppState,
    headers: &HeaderMap,
    client: &Client,
    token: Option<String>,
    names: Option<NameList>,
    field: &str,
) -> Result<BTreeMap<String, U>, ApiError> {
    let token = pick_token(token, client);
    require_token_or_trust(svc, headers, token.as_deref()).await?;
    let names = names.map(NameList::into_vec).unwrap_or_default();
    if names.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "{field}: at most {MAX_BATCH} names"
        )));
    }
    Ok(svc
        .batch_users(&names)
        .await?
        .iter()
        .map(|u| (u.username.clone(), U::from(u)))
        .collect())
}
