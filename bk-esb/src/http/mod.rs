//! The gateway's routes: `<prefix>/c/compapi/{*path}` and `<prefix>/c/self-service-api/{*path}`
//! for any method, and the ESB 404 for every other path under the prefix. The caller
//! mounts the router (it never binds) and layers the common stack around it.
//!
//! Handlers are thin: read the request, call [`Gateway::handle`], answer in the ESB
//! envelope (bk-core's `Style::Esb`).

pub mod admin;
mod reply;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::response::Response;
use axum::routing::any;
use bk_core::http::RequestId;
use bk_core::http::envelope::Style;
use bk_core::lang::Lang;
use bk_core::{ApiError, ErrorCode};

use crate::gateway::{Family, Gateway, Incoming};

/// Largest request body the gateway reads.
pub const MAX_BODY: usize = 4 << 20;

/// The gateway's routes under `prefix` (`/api` in `bk up`), with the admin API at
/// `/api/esb/admin/` when `admin` is given.
pub fn router(
    gateway: Arc<Gateway>,
    prefix: &str,
    admin: Option<(Arc<crate::admin::AdminService>, &str)>,
) -> Router {
    let p = prefix.trim_end_matches('/');
    let admin = match admin {
        Some((svc, cookie)) => admin::router(admin::AdminState {
            svc,
            cookie: Arc::from(cookie),
        }),
        None => Router::new(),
    };
    Router::new()
        .route(&format!("{p}/c/compapi/{{*rest}}"), any(compapi))
        .route(
            &format!("{p}/c/self-service-api/{{*rest}}"),
            any(self_service),
        )
        .route(&format!("{p}/{{*rest}}"), any(unknown))
        .layer(axum::Extension(Style::Esb))
        .with_state(Shared {
            gateway,
            prefix: Arc::from(p),
        })
        .merge(admin)
}

#[derive(Clone)]
struct Shared {
    gateway: Arc<Gateway>,
    prefix: Arc<str>,
}

async fn compapi(State(s): State<Shared>, req: Request) -> Response {
    handle(s, Family::CompApi, req).await
}

async fn self_service(State(s): State<Shared>, req: Request) -> Response {
    handle(s, Family::SelfService, req).await
}

async fn unknown(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (lang, rid) = context(&parts);
    reply::error(
        lang,
        &rid,
        &ApiError::with_detail(
            ErrorCode::NotFound,
            format!("no API at {}", parts.uri.path()),
        ),
    )
}

/// Language (`Blueking-Language`, else `Accept-Language`) and a 32-hex request id (the
/// stack's when it is one, else a new one).
fn context(parts: &http::request::Parts) -> (Lang, RequestId) {
    let lang = parts
        .headers
        .get(Lang::HEADER)
        .or_else(|| parts.headers.get(http::header::ACCEPT_LANGUAGE))
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_header)
        .unwrap_or_default();
    let rid = parts
        .extensions
        .get::<RequestId>()
        .copied()
        .filter(|r| r.as_str().len() == 32 && r.as_str().bytes().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(RequestId::generate);
    (lang, rid)
}

async fn handle(s: Shared, family: Family, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (lang, request_id) = context(&parts);
    let path = parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| u.0.path().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let family_prefix = match family {
        Family::CompApi => "/c/compapi",
        Family::SelfService => "/c/self-service-api",
    };
    let rest = parts
        .uri
        .path()
        .strip_prefix(&*s.prefix)
        .and_then(|r| r.strip_prefix(family_prefix))
        .unwrap_or("/")
        .to_owned();
    let body = match axum::body::to_bytes(Body::new(body), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return reply::error(
                lang,
                &request_id,
                &ApiError::with_detail(
                    ErrorCode::PayloadTooLarge,
                    format!("at most {} MiB", MAX_BODY >> 20),
                ),
            );
        }
    };
    let incoming = Incoming {
        method: parts.method,
        path,
        family,
        rest,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        lang,
        request_id,
    };
    match s.gateway.handle(incoming).await {
        Ok(r) => reply::success(&request_id, r),
        Err(e) => reply::error(lang, &request_id, &e.into()),
    }
}
