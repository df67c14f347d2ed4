//! The one place where results become BK envelopes.
//!
//! | style | shape | HTTP status |
//! |---|---|---|
//! | `LoginV1` | `{result, code: "00", message, data}` | 200, except 5xx |
//! | `LoginV2` | `{result, bk_error_code, bk_error_msg, data}` | 200, except 5xx |
//! | `Platform` | `{result, code, message, data, request_id}` | the code's status |
//! | `V6` | `{result, message, data}` (V6 appengine) | 200, except 5xx |
//! | `Bare` | success: the data itself; failure: `{code, detail}` (V7 resources) | the code's status |
//! | `Esb` | `{result, code, message, data, request_id}` with ESB codes (`/api/c/`) | 200; unknown path 404 `{result, data, message}` |
//!
//! Legacy APIs (login V1/V2, V6 appengine) answer 200 for every client error because BK
//! clients read `result` and the contract says so; server faults keep their 5xx so load
//! balancers notice. `Bare` is how PaaS V7 (Django REST framework) answers: plain bodies,
//! HTTP statuses, and errors as an upper-case code name with a detail.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use crate::error::ApiError;
use crate::lang::Lang;

/// Which envelope a route answers with. Set per router with `Extension(Style::…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Login V1 (`code` strings).
    LoginV1,
    /// Login V2 (`bk_error_code`).
    LoginV2,
    /// Our JSON APIs (admin, profile, platform).
    #[default]
    Platform,
    /// V6 appengine (`{result, message, data}`).
    V6,
    /// V7 resources: the data without an envelope; errors `{code, detail}`.
    Bare,
    /// The ESB gateway (`/api/c/compapi/`): the platform shape with ESB codes (13064xx),
    /// HTTP 200 for every error except an unknown path (404 `{result, data, message}`).
    Esb,
}

/// Success with `data`.
pub fn ok<T: Serialize>(style: Style, request_id: &str, data: T) -> Response {
    // Serialised straight from structs: no intermediate `serde_json::Value` on the hot path.
    #[derive(Serialize)]
    struct V1<T> {
        result: bool,
        code: &'static str,
        message: &'static str,
        data: T,
    }
    #[derive(Serialize)]
    struct V2<T> {
        result: bool,
        bk_error_code: i64,
        bk_error_msg: &'static str,
        data: T,
    }
    #[derive(Serialize)]
    struct Platform<'a, T> {
        result: bool,
        code: i64,
        message: &'static str,
        data: T,
        request_id: &'a str,
    }
    match style {
        Style::LoginV1 => Json(V1 {
            result: true,
            code: "00",
            message: "",
            data,
        })
        .into_response(),
        Style::LoginV2 => Json(V2 {
            result: true,
            bk_error_code: 0,
            bk_error_msg: "",
            data,
        })
        .into_response(),
        Style::Platform | Style::Esb => Json(Platform {
            result: true,
            code: 0,
            message: "",
            data,
            request_id,
        })
        .into_response(),
        Style::V6 => Json(V6 {
            result: true,
            message: "",
            data,
        })
        .into_response(),
        Style::Bare => Json(data).into_response(),
    }
}

#[derive(Serialize)]
struct V6<T> {
    result: bool,
    message: &'static str,
    data: T,
}

/// Failure. Server faults are logged here with their source; the client gets the message.
pub fn error(style: Style, lang: Lang, request_id: &str, err: &ApiError) -> Response {
    error_with_code(style, lang, request_id, err, err.code.info().num)
}

/// Failure with an explicit numeric code (login V2 `get_user` answers 1302103 for unknown
/// users where the other V2 APIs answer 1302101).
pub fn error_with_code(
    style: Style,
    lang: Lang,
    request_id: &str,
    err: &ApiError,
    num: i64,
) -> Response {
    let info = err.code.info();
    if err.code.is_server_fault() {
        tracing::error!(request_id, code = info.name, error = ?err.source_error().map(|e| e.to_string()), "request failed");
    }
    super::metrics::count_error(err.code);
    let message = err.message(lang);
    let body = match style {
        Style::LoginV1 => {
            json!({"result": false, "code": info.v1, "message": message, "data": null})
        }
        Style::LoginV2 => {
            json!({"result": false, "bk_error_code": num, "bk_error_msg": message, "data": null})
        }
        Style::Platform => {
            json!({"result": false, "code": num, "message": message, "data": null, "request_id": request_id})
        }
        Style::V6 => json!({"result": false, "message": message, "data": null}),
        Style::Bare => json!({"code": info.name.to_ascii_uppercase(), "detail": message}),
        Style::Esb if err.code == crate::ErrorCode::NotFound => {
            json!({"result": false, "data": null, "message": message})
        }
        Style::Esb => {
            json!({"result": false, "code": err.code.esb_code(), "message": message, "data": null, "request_id": request_id})
        }
    };
    let status = match style {
        Style::LoginV1 | Style::LoginV2 | Style::V6 if info.status < 500 => StatusCode::OK,
        Style::Esb if err.code != crate::ErrorCode::NotFound => StatusCode::OK,
        _ => StatusCode::from_u16(info.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    };
    let mut resp = (status, Json(body)).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from_static("5"));
    }
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::error::ErrorCode;

    async fn body(r: Response) -> (u16, serde_json::Value) {
        let status = r.status().as_u16();
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn v6_envelope_answers_200_for_client_errors() {
        let (s, v) = body(ok(Style::V6, "rid", json!({"a": 1}))).await;
        assert_eq!(
            (s, v),
            (
                200,
                json!({"result": true, "message": "", "data": {"a": 1}})
            )
        );
        let e = ApiError::invalid("app_code: too short");
        let (s, v) = body(error(Style::V6, Lang::En, "rid", &e)).await;
        assert_eq!(s, 200);
        assert_eq!(
            v,
            json!({"result": false, "message": "Invalid parameter: app_code: too short", "data": null})
        );
        let (s, _) = body(error(
            Style::V6,
            Lang::En,
            "rid",
            &ErrorCode::Unavailable.into(),
        ))
        .await;
        assert_eq!(s, 503);
    }

    #[tokio::test]
    async fn esb_style_answers_200_with_esb_codes_and_404_for_unknown_paths() {
        let (s, v) = body(ok(Style::Esb, "abc", json!({"a": 1}))).await;
        assert_eq!(
            (s, v),
            (
                200,
                json!({"result": true, "code": 0, "message": "", "data": {"a": 1}, "request_id": "abc"})
            )
        );
        let e = ApiError::new(ErrorCode::AppPermissionDenied);
        let (s, v) = body(error(Style::Esb, Lang::En, "abc", &e)).await;
        assert_eq!(
            (s, v["code"].as_i64(), v["request_id"].as_str()),
            (200, Some(1306403), Some("abc"))
        );
        let e = ApiError::new(ErrorCode::Unavailable);
        let (s, v) = body(error(Style::Esb, Lang::En, "abc", &e)).await;
        assert_eq!((s, v["code"].as_i64()), (200, Some(1306201)));
        let e = ApiError::with_detail(ErrorCode::NotFound, "no component");
        let (s, v) = body(error(Style::Esb, Lang::En, "abc", &e)).await;
        assert_eq!(s, 404);
        assert_eq!(
            v,
            json!({"result": false, "data": null, "message": "Not found: no component"})
        );
    }

    #[tokio::test]
    async fn bare_style_has_no_envelope_and_drf_errors() {
        let (s, v) = body(ok(Style::Bare, "rid", json!([{"name": "default"}]))).await;
        assert_eq!((s, v), (200, json!([{"name": "default"}])));
        let e = ApiError::with_detail(ErrorCode::NotFound, "app foo");
        let (s, v) = body(error(Style::Bare, Lang::En, "rid", &e)).await;
        assert_eq!(s, 404);
        assert_eq!(
            v,
            json!({"code": "NOT_FOUND", "detail": "Not found: app foo"})
        );
    }
}
