//! BK login API V2: `{result, bk_error_code, bk_error_msg, data}`
//! (0 ok, 1302100 bad parameter or invalid token, 1302101 / 1302103 no such user).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bk_core::http::extract::{Json, Query};
use bk_core::http::{ApiContext, envelope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::legacy::{self, NameList};
use super::{AppState, Client};
use crate::error::AuthError;
use crate::http::replies::{V2LoggedInReply, V2UserMapReply, V2UserReply, V2UsersReply};
use crate::model::User;

/// `bk_error_code` of `get_user` for an unknown user.
const GET_USER_NOT_FOUND: i64 = 1302103;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(is_login))
        .routes(routes!(get_user))
        .routes(routes!(get_all_users))
        .routes(routes!(get_batch_users))
}

/// A user in V2 answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct V2User {
    bk_username: String,
    chname: String,
    qq: String,
    phone: String,
    email: String,
    bk_role: i64,
    wx_userid: String,
    language: String,
    time_zone: String,
}

impl From<&User> for V2User {
    fn from(u: &User) -> Self {
        Self {
            bk_username: u.username.clone(),
            chname: u.chname.clone(),
            qq: u.qq.clone(),
            phone: u.phone.clone(),
            email: u.email.clone(),
            bk_role: u.role().code(),
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
    /// With service trust: the user to look up.
    bk_username: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
struct AllQuery {
    /// The `bk_token`; not needed with service trust.
    bk_token: Option<String>,
    /// Only users of this effective role (0–4).
    bk_role: Option<String>,
}

/// Body of `get_batch_users`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BatchBody {
    /// The `bk_token`; not needed with service trust.
    #[serde(default)]
    bk_token: Option<String>,
    /// Names to look up.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    bk_username_list: Option<NameList>,
}

/// Whether a `bk_token` is live; answers `bk_username`.
#[utoipa::path(get, path = "/api/v2/is_login/", tag = "v2", params(TokenQuery),
    responses((status = 200, description = "`data: {bk_username}`; 1302100 when the token is invalid", body = V2LoggedInReply)))]
async fn is_login(
    State(svc): State<AppState>,
    ctx: ApiContext,
    cookie: legacy::TokenCookie,
    Query(q): Query<TokenQuery>,
) -> Response {
    /// `data` of the answer, serialised straight from the shared name.
    #[derive(Serialize)]
    struct LoggedIn<'a> {
        bk_username: &'a str,
    }
    match legacy::is_login(&svc, cookie, q.bk_token).await {
        Ok(u) => ctx.ok(LoggedIn { bk_username: &u }),
        Err(e) => ctx.err(e),
    }
}

/// The user of a `bk_token` (or, with service trust, `bk_username`).
#[utoipa::path(get, path = "/api/v2/get_user/", tag = "v2", params(TokenQuery),
    responses((status = 200, description = "`data`: the user; 1302100 invalid token, 1302103 unknown user", body = V2UserReply)))]
async fn get_user(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    match legacy::get_user(&svc, &headers, &client, q.bk_username, q.bk_token).await {
        Ok(u) => ctx.ok(V2User::from(&u)),
        Err(e @ AuthError::UserNotFound(_)) => envelope::error_with_code(
            ctx.style,
            ctx.lang,
            ctx.request_id.as_str(),
            &e.into(),
            GET_USER_NOT_FOUND,
        ),
        Err(e) => ctx.err(e),
    }
}

/// Every user, optionally of one role.
#[utoipa::path(get, path = "/api/v2/get_all_users/", tag = "v2", params(AllQuery),
    responses((status = 200, description = "`data`: list of users", body = V2UsersReply)))]
async fn get_all_users(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Query(q): Query<AllQuery>,
) -> Response {
    ctx.reply(
        legacy::all_users::<V2User>(&svc, &headers, &client, q.bk_token, q.bk_role.as_deref())
            .await,
    )
}

/// Several users by name; unknown names are omitted.
#[utoipa::path(post, path = "/api/v2/get_batch_users/", tag = "v2", request_body = BatchBody,
    responses((status = 200, description = "`data`: `{bk_username: user}`", body = V2UserMapReply)))]
async fn get_batch_users(
    State(svc): State<AppState>,
    ctx: ApiContext,
    client: Client,
    headers: HeaderMap,
    Json(body): Json<BatchBody>,
) -> Response {
    let result = legacy::batch_users::<V2User>(
        &svc,
        &headers,
        &client,
        body.bk_token,
        body.bk_username_list,
        "bk_username_list",
    )
    .await;
    ctx.reply(result)
}
