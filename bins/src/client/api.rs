//! The developer API over HTTP: one call = one request, the platform envelope
//! (`{result, code, message, data, request_id}`) decoded, failures turned into errors that
//! say what the server said and which request it was.

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::Value;

use super::credentials::Credentials;

/// Prefix of the developer API.
pub const DEV_API: &str = "/paas/api/v1";

/// A client of one platform, acting as one user.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("base", &self.base).finish()
    }
}

/// A failure the server answered in its envelope.
#[derive(Debug, thiserror::Error)]
#[error("{message} (error {code}, HTTP {status}, request {request_id})")]
pub struct ApiFailure {
    /// HTTP status.
    pub status: u16,
    /// The envelope's `code`.
    pub code: i64,
    /// The envelope's `message`.
    pub message: String,
    /// The request id, to quote when asking an operator.
    pub request_id: String,
}

impl Api {
    /// A client for `creds`; fails with the fix when there is no URL or token.
    pub fn logged_in(creds: &Credentials) -> anyhow::Result<Self> {
        if creds.token.is_empty() {
            bail!(
                "not logged in: run `bk login --url <platform URL>` (or set BK_URL and BK_TOKEN)"
            );
        }
        Self::anonymous(&creds.url).map(|mut a| {
            a.token = creds.token.clone();
            a
        })
    }

    /// A client without a token (for logging in).
    pub fn anonymous(url: &str) -> anyhow::Result<Self> {
        let base = normalise_url(url)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("bk-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self {
            base,
            token: String::new(),
            http,
        })
    }

    /// The platform's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `GET` a developer API path (below [`DEV_API`]); the envelope's `data`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::GET, path, None).await
    }

    /// `POST` JSON.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::POST, path, Some(body)).await
    }

    /// `PATCH` JSON.
    pub async fn patch(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.call(Method::DELETE, path, None).await
    }

    /// A request builder for `path` below [`DEV_API`] with the caller's token (for uploads
    /// and streams).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .request(method, format!("{}{DEV_API}{path}", self.base));
        if !self.token.is_empty() {
            r = r.bearer_auth(&self.token);
        }
        r
    }

    /// A request to any path of the platform (not below the developer API).
    pub fn raw(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the platform at {}", self.base))?;
        decode(resp).await
    }
}

/// The `data` of a platform envelope, or the failure it carries.
pub async fn decode(resp: reqwest::Response) -> anyhow::Result<Value> {
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.context("reading the answer")?;
    let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
        bail!(
            "the platform answered HTTP {status} without a JSON envelope (is the URL the platform's?)"
        );
    };
    if v.get("result").and_then(Value::as_bool) == Some(true) {
        return Ok(v.get("data").cloned().unwrap_or(Value::Null));
    }
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Err(ApiFailure {
        status,
        code: v.get("code").and_then(Value::as_i64).unwrap_or_default(),
        message: match text("message") {
            m if m.is_empty() => format!("HTTP {status}"),
            m => m,
        },
        request_id: text("request_id"),
    }
    .into())
}

fn normalise_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    if url.is_empty() {
        bail!("no platform URL: pass --url or set BK_URL");
    }
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        bail!("{url:?}: the platform URL must be http(s)://host[:port]");
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_are_checked_and_normalised() {
        assert_eq!(
            normalise_url(" http://127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(normalise_url("").is_err());
        assert!(normalise_url("ftp://x").is_err());
        assert!(normalise_url("not a url").is_err());
    }

    #[test]
    fn without_a_token_the_error_names_the_fix() {
        let e = Api::logged_in(&Credentials {
            url: "http://127.0.0.1:1".into(),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("bk login"), "{e}");
    }
}
