//! The admin JSON API (`/login/api/admin/...`): superusers manage users; auditors read.
//! Authenticated by the `bk_token` cookie or `Authorization: Bearer <bk_token>`.
//! State-changing calls need a JSON (or CSV) content type, which cross-site forms cannot
//! send without a CORS preflight, so the cookie cannot be ridden by another site.

mod audit;
mod locks;
mod transfer;
mod users;

use axum::extract::DefaultBodyLimit;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::http::ApiContext;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::model::User;
use crate::service::Caller;

const JSON_LIMIT: usize = 64 * 1024;
const IMPORT_LIMIT: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    let small = OpenApiRouter::new()
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::set_roles))
        .routes(routes!(users::reset_password))
        .routes(routes!(locks::list))
        .routes(routes!(locks::unlock))
        .routes(routes!(audit::list))
        .routes(routes!(transfer::export))
        .layer(DefaultBodyLimit::max(JSON_LIMIT));
    let big = OpenApiRouter::new()
        .routes(routes!(transfer::import))
        .layer(DefaultBodyLimit::max(IMPORT_LIMIT));
    small.merge(big)
}

/// The authenticated caller of an API request: `Authorization: Bearer <bk_token>`, else
/// the token cookie (`login.cookie.name`). Rejects with 401 in the platform envelope.
pub(crate) struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        svc: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bk_core::http::token::request_token(&parts.headers, &svc.config().cookie.name);
        match svc.caller(token.as_deref()).await {
            Ok(c) => Ok(Authed(c)),
            Err(e) => Err(ApiContext::from_parts(parts).err(e)),
        }
    }
}

/// A user as the admin API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    username: String,
    chname: String,
    qq: String,
    phone: String,
    email: String,
    language: String,
    time_zone: String,
    wx_userid: String,
    /// Role codes held.
    roles: Vec<i64>,
    /// Effective role code.
    role: i64,
    disabled: bool,
    /// `local` or an identity provider id.
    source: String,
    /// Whether a local password is set.
    has_password: bool,
    /// Milliseconds since the epoch.
    created_at: i64,
    updated_at: i64,
    last_login_at: Option<i64>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            chname: u.chname.clone(),
            qq: u.qq.clone(),
            phone: u.phone.clone(),
            email: u.email.clone(),
            language: u.language.clone(),
            time_zone: u.time_zone.clone(),
            wx_userid: u.wx_userid.clone(),
            roles: u.roles.iter().map(|r| r.code()).collect(),
            role: u.role().code(),
            disabled: u.disabled,
            source: u.source.clone(),
            has_password: u.password_hash.is_some(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
        }
    }
}
