//! Component answers on the wire: data in the ESB envelope, a backend's answer as it came
//! (a JSON object with `request_id` added), errors through bk-core's envelope.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bk_core::ApiError;
use bk_core::http::RequestId;
use bk_core::http::envelope::{self, Style};
use bk_core::lang::Lang;
use http::header;
use serde_json::Value;

use crate::component::Reply;

/// The response header naming the request id (read by bkapi-client-core's error reports).
const REQUEST_ID_HEADER: header::HeaderName = header::HeaderName::from_static("x-bkapi-request-id");

fn with_id(mut r: Response, rid: &RequestId) -> Response {
    if let Ok(v) = header::HeaderValue::from_str(rid.as_str()) {
        r.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    r
}

/// Success.
pub fn success(rid: &RequestId, reply: Reply) -> Response {
    with_id(answer(rid, reply), rid)
}

fn answer(rid: &RequestId, reply: Reply) -> Response {
    match reply {
        Reply::Data(d) => envelope::ok(Style::Esb, rid.as_str(), d),
        Reply::Raw {
            status,
            content_type,
            body,
        } => {
            if body.trim_ascii_start().starts_with(b"{")
                && let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&body)
            {
                m.insert("request_id".into(), Value::String(rid.as_str().to_owned()));
                let bytes = serde_json::to_vec(&m).unwrap_or_default();
                return (status, [(header::CONTENT_TYPE, "application/json")], bytes)
                    .into_response();
            }
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            if let Some(ct) = content_type {
                r.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            r
        }
    }
}

/// Failure.
pub fn error(lang: Lang, rid: &RequestId, e: &ApiError) -> Response {
    with_id(envelope::error(Style::Esb, lang, rid.as_str(), e), rid)
}
