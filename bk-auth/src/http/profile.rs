//! `/login/api/profile/`: the caller's own profile and password.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bk_core::ApiError;
use bk_core::http::ApiContext;
use bk_core::http::extract::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{Authed, UserView};
use super::{AppState, Client, cookies};
use crate::http::replies::{Changed, Envelope, Failure};
use crate::service::profile::ProfilePatch;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me, update))
        .routes(routes!(change_password))
        .layer(DefaultBodyLimit::max(16 * 1024))
}

/// Old and new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordChange {
    old_password: String,
    new_password: String,
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/profile/", tag = "profile", responses((status = 200, body = Envelope<UserView>), (status = 401, body = Failure)))]
async fn me(State(_svc): State<AppState>, ctx: ApiContext, Authed(who): Authed) -> Response {
    let r = async { Ok::<_, ApiError>(UserView::from(&who.user)) }.await;
    ctx.reply(r)
}

/// Change one's own profile fields.
#[utoipa::path(patch, path = "/api/profile/", tag = "profile", request_body = ProfilePatch,
    responses((status = 200, body = Envelope<UserView>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 415, body = Failure)))]
async fn update(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    Json(p): Json<ProfilePatch>,
) -> Response {
    let r = async { Ok::<_, ApiError>(UserView::from(&svc.update_profile(&who, p).await?)) }.await;
    ctx.reply(r)
}

/// Change one's own password. All tokens of the user are revoked; the answer sets a new
/// `bk_token` cookie for the caller.
#[utoipa::path(post, path = "/api/profile/password/", tag = "profile", request_body = PasswordChange,
    responses((status = 200, description = "Changed; new `bk_token` cookie set", body = Envelope<Changed>), (status = 400, body = Failure), (status = 401, body = Failure), (status = 415, body = Failure), (status = 423, body = Failure)))]
async fn change_password(
    State(svc): State<AppState>,
    ctx: ApiContext,
    Authed(who): Authed,
    client: Client,
    Json(b): Json<PasswordChange>,
) -> Response {
    let r = async {
        Ok::<_, ApiError>(
            svc.change_password(&who, &b.old_password, &b.new_password, &client.info)
                .await?,
        )
    }
    .await;
    match r {
        Ok(issued) => {
            let mut resp = ctx.ok(serde_json::json!({ "changed": true }));
            let c = cookies::set_token(
                &svc.config().cookie,
                client.https,
                &issued.token,
                svc.config().token_ttl_secs,
            );
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(e) => ctx.err(e),
    }
}
