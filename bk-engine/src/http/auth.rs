//! The authenticated caller of a developer API or V7 request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;
use bk_core::http::ApiContext;

use super::AppState;
use super::client;
use super::origin::{self, OriginPolicy};
use crate::service::Caller;

/// `Authorization: Bearer <bk_token>` or the login cookie, resolved through login to a
/// superuser or developer, from a request that app code did not make ([`origin`]).
/// Rejects with 401/403 in the route's envelope.
pub(crate) struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        svc: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let policy = OriginPolicy::from_config(svc.config());
        if let Err(e) = origin::check(&policy, parts) {
            return Err(ApiContext::from_parts(parts).err(e));
        }
        let token = bk_core::http::token::request_token(&parts.headers, &svc.config().cookie_name);
        let address = client::address(parts);
        match svc.caller(token.as_deref(), &address).await {
            Ok(c) => Ok(Authed(c)),
            Err(e) => Err(ApiContext::from_parts(parts).err(e)),
        }
    }
}
