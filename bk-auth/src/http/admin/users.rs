//! `/login/api/admin/users/...`: list, create, read, update, delete, roles, passwords.

use axum::extract::{Path, State};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::{Json, Query};
use bk_core::types::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Authed, UserView};
use crate::http::AppState;
use crate::http::legacy::parse_role;
use crate::http::replies::{Deleted, Envelope, Failure};
use crate::model::{Page, UserPatch, UserQuery};
use crate::service::{CreateUser, PasswordReset};

#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct ListQuery {
    /// Substring of username, chname or email (case-insensitive).
    search: Option<String>,
    /// Effective role code.
    role: Option<String>,
    /// `true` for disabled users only, `false` for enabled only.
    disabled: Option<bool>,
    /// 1-based page (default 1).
    page: Option<u32>,
    /// Page size 1..=1000 (default 100).
    page_size: Option<u32>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UserPage {
    count: u64,
    page: u32,
    page_size: u32,
    results: Vec<UserView>,
}

impl From<Page<crate::model::User>> for UserPage {
    fn from(p: Page<crate::model::User>) -> Self {
        Self {
            count: p.count,
            page: p.page,
            page_size: p.page_size,
            results: p.results.iter().map(UserView::from).collect(),
        }
    }
}

/// A created user, with the generated password when none was given.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Created {
    user: UserView,
    /// Shown once; `null` when the caller chose the password.
    password: Option<String>,
}

/// Fields to change; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateBody {
    chname: Option<String>,
    qq: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    language: Option<String>,
    time_zone: Option<String>,
    wx_userid: Option<String>,
    /// Disabling revokes the user's tokens.
    disabled: Option<bool>,
}

/// The roles to hold.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RolesBody {
    /// Role codes (0 staff, 1 superuser, 2 developer, 3 operator, 4 auditor).
    #[schema(value_type = Vec<i64>)]
    roles: Vec<Role>,
}

/// A new password; omit it to have one generated.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    password: Option<String>,
}

/// Search and page users.
#[utoipa::path(get, path = "/api/admin/users/", tag = "admin", params(ListQuery),
    responses((status = 200, description = "A page of users", body = Envelope<UserPage>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure)))]
pub(super) async fn list(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Query(q): Query<ListQuery>,
) -> Response {
    let r = async {
        let query = UserQuery {
            search: q.search.filter(|s| !s.is_empty()),
            role: parse_role(q.role.as_deref())?,
            disabled: q.disabled,
            page: q.page.unwrap_or(1),
            page_size: q.page_size.unwrap_or(100),
        };
        Ok::<_, ApiError>(UserPage::from(svc.query_users(&who, &query).await?))
    }
    .await;
    ctx.reply(r)
}

/// Create a user.
#[utoipa::path(post, path = "/api/admin/users/", tag = "admin", request_body = CreateUser,
    responses((status = 200, description = "Created", body = Envelope<Created>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 409, description = "Exists", body = Failure), (status = 415, body = Failure)))]
pub(super) async fn create(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Json(body): Json<CreateUser>,
) -> Response {
    let r = async {
        let (user, PasswordReset { password }) = svc.create_user(&who, body).await?;
        Ok::<_, ApiError>(Created {
            user: UserView::from(&user),
            password,
        })
    }
    .await;
    ctx.reply(r)
}

/// One user.
#[utoipa::path(get, path = "/api/admin/users/{username}/", tag = "admin", params(("username" = String, Path)),
    responses((status = 200, body = Envelope<UserView>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure)))]
pub(super) async fn get(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(username): Path<String>,
) -> Response {
    let r =
        async { Ok::<_, ApiError>(UserView::from(&svc.get_user_admin(&who, &username).await?)) }
            .await;
    ctx.reply(r)
}

/// Change profile fields or enable/disable.
#[utoipa::path(patch, path = "/api/admin/users/{username}/", tag = "admin", params(("username" = String, Path)),
    request_body = UpdateBody, responses((status = 200, body = Envelope<UserView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, body = Failure), (status = 415, body = Failure)))]
pub(super) async fn update(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(username): Path<String>,
    Json(b): Json<UpdateBody>,
) -> Response {
    let r = async {
        let patch = UserPatch {
            chname: b.chname,
            qq: b.qq,
            phone: b.phone,
            email: b.email,
            language: b.language,
            time_zone: b.time_zone,
            wx_userid: b.wx_userid,
            disabled: b.disabled,
        };
        Ok::<_, ApiError>(UserView::from(
            &svc.update_user(&who, &username, &patch).await?,
        ))
    }
    .await;
    ctx.reply(r)
}

/// Delete a user (not `admin`, not the last superuser).
#[utoipa::path(delete, path = "/api/admin/users/{username}/", tag = "admin", params(("username" = String, Path)),
    responses((status = 200, body = Envelope<Deleted>), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "Protected user", body = Failure)))]
pub(super) async fn delete(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(username): Path<String>,
) -> Response {
    let r = async {
        svc.delete_user(&who, &username).await?;
        Ok::<_, ApiError>(serde_json::json!({ "deleted": username }))
    }
    .await;
    ctx.reply(r)
}

/// Replace the roles of a user.
#[utoipa::path(put, path = "/api/admin/users/{username}/roles/", tag = "admin", params(("username" = String, Path)),
    request_body = RolesBody, responses((status = 200, body = Envelope<UserView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 409, description = "Would demote admin or the last superuser", body = Failure), (status = 415, body = Failure)))]
pub(super) async fn set_roles(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(username): Path<String>,
    Json(b): Json<RolesBody>,
) -> Response {
    let r = async {
        Ok::<_, ApiError>(UserView::from(
            &svc.set_roles(&who, &username, &b.roles).await?,
        ))
    }
    .await;
    ctx.reply(r)
}

/// Set a new password (generated when omitted); revokes the user's tokens.
#[utoipa::path(post, path = "/api/admin/users/{username}/password/", tag = "admin", params(("username" = String, Path)),
    request_body = PasswordBody, responses((status = 200, body = Envelope<PasswordReset>), (status = 400, description = "Policy", body = Failure), (status = 401, body = Failure), (status = 403, body = Failure), (status = 404, body = Failure), (status = 415, body = Failure)))]
pub(super) async fn reset_password(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Path(username): Path<String>,
    Json(b): Json<PasswordBody>,
) -> Response {
    let r =
        async { Ok::<_, ApiError>(svc.reset_password(&who, &username, b.password).await?) }.await;
    ctx.reply(r)
}
