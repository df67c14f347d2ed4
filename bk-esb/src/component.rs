//! The extension point: a [`Component`] answers one channel. Built-ins are Rust compiled
//! in (`builtin/`); self-service components are HTTP forwards (`forward.rs`). The gateway
//! has done app auth, user auth, permission and rate limits before `call` runs, and
//! bounds it with the channel's timeout.

use std::sync::Arc;

use async_trait::async_trait;
use bk_core::http::RequestId;
use bk_core::identity::UserInfo;
use bk_core::lang::Lang;
use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::{Map, Value};

use crate::error::{EsbError, Result};
use crate::registry::Snapshot;

/// Which path family the call came in on: `/api/c/compapi/v2/…` or the V6 one without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVer {
    /// `/api/c/compapi/<system>/<comp>/` (V6 field names: `username`, `role`...).
    V1,
    /// `/api/c/compapi/v2/<system>/<comp>/` (`bk_username`, `bk_role`...).
    V2,
}

/// The caller's user, as user auth established it.
#[derive(Debug, Clone)]
pub struct CallUser {
    /// Login name.
    pub username: String,
    /// Known through a live `bk_token` (true) or named by an allow-listed app (false).
    pub verified: bool,
    /// The user's record when a `bk_token` proved it.
    pub info: Option<UserInfo>,
}

/// One call, after the gateway's checks.
#[derive(Debug)]
pub struct Call {
    /// The caller's method.
    pub method: Method,
    /// Path family.
    pub ver: ApiVer,
    /// Parameters (query for GET, else the JSON or form body), credentials included.
    pub params: Map<String, Value>,
    /// Variables of a `{var}` path template.
    pub path_vars: Vec<(String, String)>,
    /// The caller's headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
    /// The authenticated app.
    pub app_code: String,
    /// The user, when one was identified.
    pub user: Option<CallUser>,
    /// Message language.
    pub lang: Lang,
    /// The request id (32 hex).
    pub request_id: RequestId,
    /// The registry as the call found it.
    pub snapshot: Arc<Snapshot>,
    /// Timeout of this call, in seconds (forwarders pass it on).
    pub timeout_secs: u32,
}

impl Call {
    /// A parameter as text (numbers and booleans rendered; empty strings count as missing).
    pub fn param(&self, name: &str) -> Option<String> {
        match self.params.get(name)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A list parameter: a JSON array of strings, or text split on `;` or `,`.
    pub fn list_param(&self, name: &str) -> Option<Vec<String>> {
        match self.params.get(name)? {
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.trim().to_owned()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            Value::String(s) => Some(
                s.split([';', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The user, or the 1306401 error a component that needs one answers.
    pub fn require_user(&self) -> Result<&CallUser> {
        self.user.as_ref().ok_or_else(|| {
            EsbError::UserAuth(
                "this component needs a user: pass bk_token (or bk_username for allow-listed apps)"
                    .into(),
            )
        })
    }
}

/// What a component answers.
#[derive(Debug)]
pub enum Reply {
    /// `data` of a success envelope.
    Data(Value),
    /// A backend's answer passed through (JSON objects get `request_id` added).
    Raw {
        /// Backend status.
        status: http::StatusCode,
        /// `Content-Type` of the backend.
        content_type: Option<http::HeaderValue>,
        /// Backend body.
        body: Bytes,
    },
}

/// A component. Object-safe: the registry holds `Arc<dyn Component>`.
#[async_trait]
pub trait Component: Send + Sync {
    /// Answer the call.
    async fn call(&self, call: &Call) -> Result<Reply>;
}
