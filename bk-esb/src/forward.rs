//! Self-service components: the call forwarded to an HTTP backend over one pooled
//! keep-alive client (contracts §3 "Forwarding to backends"). The backend gets the caller's
//! headers minus credentials, plus `Bk-Username`, `X-Bkapi-Request-Id` and
//! `Blueking-Language`; the parameters lose every credential. Its answer comes back as is
//! (a JSON object gets `request_id`).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::{Map, Value};

use crate::component::{Call, Component, Reply};
use crate::error::{EsbError, Result};
use crate::model::{BodyFormat, SelfServiceApi};
use crate::registry::fill;

/// Parameters never passed to a self-service backend.
pub const STRIPPED_PARAMS: &[&str] = &[
    "bk_app_secret",
    "app_secret",
    "bk_signature",
    "bk_nonce",
    "bk_timestamp",
    "bk_token",
    "bk_username",
    "bk_app_code",
    "app_code",
    "access_token",
    "bk_access_token",
];

/// Request headers never passed on: credentials and hop-by-hop headers.
const STRIPPED_HEADERS: &[&str] = &[
    "x-bkapi-authorization",
    "authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "x-bkapi-jwt",
];

/// Largest backend answer passed through.
const MAX_RESPONSE: usize = 16 << 20;

/// The pooled client shared by every self-service component. Cheap to clone.
#[derive(Clone)]
pub struct Forwarder {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

impl Default for Forwarder {
    fn default() -> Self {
        Self::new(Duration::from_secs(5))
    }
}

impl Forwarder {
    /// A client that gives up connecting after `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(connect_timeout));
        connector.set_keepalive(Some(Duration::from_secs(60)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(connector);
        Self { client }
    }
}

/// One self-service component.
pub struct HttpComponent {
    api: SelfServiceApi,
    forwarder: Forwarder,
}

impl HttpComponent {
    /// The component of `api`.
    pub fn new(api: SelfServiceApi, forwarder: Forwarder) -> Self {
        Self { api, forwarder }
    }

    fn failed(&self, what: &str) -> EsbError {
        EsbError::Backend(format!(
            "request to the backend of {}.{} failed: {what}",
            self.api.system, self.api.name
        ))
    }
}

fn clean_params(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .filter(|(k, _)| !STRIPPED_PARAMS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[async_trait]
impl Component for HttpComponent {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let method = if self.api.dest_http_method.is_empty() {
            call.method.clone()
        } else {
            Method::from_bytes(self.api.dest_http_method.as_bytes())
                .map_err(|_| EsbError::Internal("stored dest_http_method is invalid".into()))?
        };
        let params = clean_params(&call.params);
        let mut url = url::Url::parse(&fill(&self.api.dest_url, &call.path_vars))
            .map_err(|_| self.failed("the destination URL is invalid"))?;
        let mut body = Bytes::new();
        let mut content_type = None;
        if method == Method::GET || method == Method::DELETE || method == Method::HEAD {
            if !params.is_empty() {
                let mut q = url.query_pairs_mut();
                for (k, v) in &params {
                    q.append_pair(k, &as_text(v));
                }
            }
        } else {
            match self.api.body_format {
                BodyFormat::Json => {
                    body = Bytes::from(
                        serde_json::to_vec(&params)
                            .map_err(|e| EsbError::Internal(e.to_string()))?,
                    );
                    content_type = Some(HeaderValue::from_static("application/json"));
                }
                BodyFormat::Form => {
                    let mut f = url::form_urlencoded::Serializer::new(String::new());
                    for (k, v) in &params {
                        f.append_pair(k, &as_text(v));
                    }
                    body = Bytes::from(f.finish());
                    content_type = Some(HeaderValue::from_static(
                        "application/x-www-form-urlencoded",
                    ));
                }
            }
        }
        let uri: http::Uri = url
            .as_str()
            .parse()
            .map_err(|_| self.failed("the destination URL is invalid"))?;
        let mut req = Request::builder().method(method).uri(uri);
        let headers = req
            .headers_mut()
            .ok_or_else(|| EsbError::Internal("request builder".into()))?;
        for (name, value) in &call.headers {
            if !STRIPPED_HEADERS.contains(&name.as_str()) && name != header::CONTENT_TYPE {
                headers.append(name.clone(), value.clone());
            }
        }
        if let Some(ct) = content_type {
            headers.insert(header::CONTENT_TYPE, ct);
        }
        let username = call
            .user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or("");
        if let Ok(v) = HeaderValue::from_str(username) {
            headers.insert(HeaderName::from_static("bk-username"), v);
        }
        if let Ok(v) = HeaderValue::from_str(call.request_id.as_str()) {
            headers.insert(HeaderName::from_static("x-bkapi-request-id"), v);
        }
        headers.insert(
            HeaderName::from_static("blueking-language"),
            HeaderValue::from_static(call.lang.as_str()),
        );
        for (k, v) in &self.api.extra_headers {
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) {
                headers.insert(k, v);
            }
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| EsbError::Internal(e.to_string()))?;
        let resp = self.forwarder.client.request(req).await.map_err(|e| {
            tracing::warn!(component = %self.api.key(), error = %e, "esb: backend request failed");
            self.failed(if e.is_connect() {
                "cannot connect"
            } else {
                "the connection failed"
            })
        })?;
        let (parts, body) = resp.into_parts();
        let body = Limited::new(body, MAX_RESPONSE)
            .collect()
            .await
            .map_err(|_| self.failed("the answer was cut off or larger than 16 MiB"))?
            .to_bytes();
        Ok(Reply::Raw {
            status: parts.status,
            content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
            body,
        })
    }
}
