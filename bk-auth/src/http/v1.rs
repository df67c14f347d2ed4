//! BK login API V1: `{result, code, message, data}` with string codes
//! ("00" ok, "1200" not logged in, "1201" no such user, "1300" other errors).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bk_core::http::ApiContext;
use bk_core::http::extract::{Json, Query};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::legacy::{self, NameList};
use super::{AppState, Client};
use crate::http::replies::{V1LoggedInReply, V1UserMapReply, V1UserReply, V1UsersReply};
use crate::model::User;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(is_login))
        .routes(routes!(get_user))
        .routes(routes!(get_all_user))
        .routes(routes!(get_batch_user))
}

/// A user in V1 answers; `role` is the effective role code as a string.
#[derive(Debug, Serialize, ToSchema)]
pub struct V1User {
    username: String,
    chname: String,
    qq: String,
    phone: String,
    email: String,
    role: String,
    wx_userid: String,
    language: String,
    time_zone: String,
}

impl From<&User> for V1User {
    fn from(u: &User) -> Self {
        Self {
            username: u.username.clone(),
            chname: u.chname.clone(),
            qq: u.qq.clone(),
            phone: u.phone.clone(),
            email: u.email.clone(),
            role: u.role().code().to_string(),
            wx_userid: u.wx_userid.clone(),
            language: u.language.clone(),
            time_zone: u.time_zone.clone(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
struct TokenQuery {
    /// The `bk_token` (falls back to the `bk_token` cookie).
    bk_token: Option<String>,
    /// With service trust (`X-APP-CODE: esb` + `X-APP-TOKEN`): the user to look up.
    username: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct AllQuery {
    /// The `bk_token` (falls back to the cookie); not needed with service trust.
    bk_token: Option<String>,
    /// Only users of this effective role (0–4).
    role: Option<String>,
}

/// Body of `get_batch_user`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchBody {
    /// The `bk_token`; not needed with service trust.
    #[serde(default)]
    bk_token: Option<String>,
    /// Names to look up (an array, or one string separated by `,` or `;`).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    username_list: Option<NameList>,
}

/// Whether a `bk_token` is live; answers the username.
#[utoipa::path(get, path = "/accounts/is_login/", tag = "v1", params(TokenQuery),
    responses((status = 200, description = "`data: {username}`; code 1200 when the token is invalid, expired or revoked", body = V1LoggedInReply)))]
async fn is_login(
    State(svc): State<AppState>,
    ctx: ApiContext,
    cookie: legacy::TokenCookie,
    Query(q): Query<TokenQuery>,
) -> Response {
    /// `data` of the answer, serialised straight from the shared name.
    #[derive(Serialize)]
    struct LoggedIn<'a> {
        username: &'a str,
    }
    match legacy::is_login(&svc, cookie, q.bk_token).await {
        Ok(u) => ctx.ok(LoggedIn { username: &u }),
        Err(e) => ctx.err(e),
    }
}

/// The user of a `bk_token` (or, with service trust, the user named by `username`).
#[utoipa::path(get, path = "/accounts/get_user/", tag = "v1", params(TokenQuery),
    responses((status = 200, description = "`data`: the user; code 1200 invalid token, 1201 unknown user", body = V1UserReply)))]
async fn get_user(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let result = legacy::get_user(&svc, &headers, &client, q.username, q.bk_token).await;
    ctx.reply(result.map(|u| V1User::from(&u)))
}

/// Every user, optionally of one role.
#[utoipa::path(get, path = "/accounts/get_all_user/", tag = "v1", params(AllQuery),
    responses((status = 200, description = "`data`: list of users", body = V1UsersReply)))]
async fn get_all_user(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<AllQuery>,
) -> Response {
    ctx.reply(
        legacy::all_users::<V1User>(&svc, &headers, &client, q.bk_token, q.role.as_deref()).await,
    )
}

/// Several users by name; unknown names are omitted.
#[utoipa::path(post, path = "/accounts/get_batch_user/", tag = "v1", request_body = BatchBody,
    responses((status = 200, description = "`data`: `{username: user}`", body = V1UserMapReply)))]
async fn get_batch_user(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Json(body): Json<BatchBody>,
) -> Response {
    let result = legacy::batch_users::<V1User>(
        &svc,
        &headers,
        &client,
        body.bk_token,
        body.username_list,
        "username_list",
    )
    .await;
    ctx.reply(result)
}
