//! The middleware every service router gets: request id, access log, metrics, panic
//! catching, envelope 404/405, `/healthz/` and `/metrics`.

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};

use super::context::ApiContext;
use super::observe::ObserveLayer;
use crate::error::{ApiError, ErrorCode};

/// Wrap a service router with the common stack. `service` labels metrics and logs.
/// axum applies the layer to each route's endpoint and to the fallback, after routing
/// (see [`super::observe`]): routes merged in later are not observed.
pub fn wrap(router: Router, service: &'static str) -> Router {
    router.fallback(not_found).layer(ObserveLayer::new(service))
}

/// Routes every service exposes: `GET /healthz/` and `GET /metrics`.
pub fn ops_routes() -> Router {
    Router::new()
        .route("/healthz/", axum::routing::get(healthz))
        .route("/healthz", axum::routing::get(healthz))
        .route(
            "/metrics",
            axum::routing::get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    super::metrics::render(),
                )
            }),
        )
}

/// `{"result":true,"status":"ok"}`: static bytes, nothing built per request.
async fn healthz() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        r#"{"result":true,"status":"ok"}"#,
    )
        .into_response()
}

async fn not_found(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let ctx = ApiContext::from_parts(&parts);
    ctx.err(ApiError::with_detail(
        ErrorCode::NotFound,
        format!("no route for {} {}", parts.method, parts.uri.path()),
    ))
}

/// The envelope for a request to a known path with the wrong method.
pub async fn method_not_allowed(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    ApiContext::from_parts(&parts).err(ErrorCode::MethodNotAllowed)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::*;

    /// The lines of the exposition that belong to `service`.
    fn lines_of(service: &str) -> Vec<String> {
        let needle = format!("service=\"{service}\"");
        super::super::metrics::render()
            .lines()
            .filter(|l| l.contains(&needle))
            .map(str::to_owned)
            .collect()
    }

    async fn get(app: &Router, path: &str) -> StatusCode {
        let req = Request::get(path).body(Body::empty()).unwrap();
        app.clone().oneshot(req).await.unwrap().status()
    }

    fn app(service: &'static str) -> Router {
        wrap(
            Router::new()
                .route("/items/{id}", axum::routing::get(|| async { "item" }))
                .route(
                    "/boom",
                    axum::routing::get(|| async {
                        if true {
                            panic!("a bug");
                        }
                        "unreachable"
                    }),
                ),
            service,
        )
    }

    #[tokio::test]
    async fn series_stay_bounded_whatever_the_paths() {
        let app = app("bounded-test");
        get(&app, "/items/0").await;
        get(&app, "/nowhere/0").await;
        let before = lines_of("bounded-test");
        for i in 1..1000 {
            assert_eq!(get(&app, &format!("/items/{i}")).await, StatusCode::OK);
            assert_eq!(
                get(&app, &format!("/nowhere/{i}")).await,
                StatusCode::NOT_FOUND
            );
        }
        let after = lines_of("bounded-test");
        // Same series (only their values moved): 1000 distinct paths made no new ones.
        let names = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
                .collect()
        };
        assert_eq!(names(&before), names(&after));
        assert!(
            after.contains(
                &r#"bk_http_requests_total{service="bounded-test",route="/items/{id}",status="200"} 1000"#
                    .to_owned()
            ),
            "{after:#?}"
        );
        assert!(after.contains(
            &r#"bk_http_requests_total{service="bounded-test",route="<unmatched>",status="404"} 1000"#
                .to_owned()
        ));
        assert!(after.contains(
            &r#"bk_http_request_duration_seconds_count{service="bounded-test",route="/items/{id}"} 1000"#
                .to_owned()
        ));
        assert!(
            !after.iter().any(|l| l.contains("/items/1")),
            "raw paths never label"
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_500_envelope_and_is_counted() {
        let app = app("panic-test");
        let req = Request::get("/boom")
            .header("x-request-id", "panic-req-0001")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(resp.headers()["x-request-id"], "panic-req-0001");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["result"], false);
        assert_eq!(v["code"], ErrorCode::Internal.info().num);
        assert!(
            lines_of("panic-test").contains(
                &r#"bk_http_requests_total{service="panic-test",route="/boom",status="500"} 1"#
                    .to_owned()
            )
        );
    }

    #[tokio::test]
    async fn wrong_methods_are_labelled_by_their_route() {
        let app = app("method-test");
        let req = Request::post("/items/7").body(Body::empty()).unwrap();
        let status = app.clone().oneshot(req).await.unwrap().status();
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(lines_of("method-test").contains(
            &r#"bk_http_requests_total{service="method-test",route="/items/{id}",status="405"} 1"#
                .to_owned()
        ));
    }
}
