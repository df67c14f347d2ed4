//! Facts about the caller taken from the request: address, user agent, scheme, host,
//! the `bk_token` (query parameter or cookie) and the language for pages.
//!
//! Address, scheme and host go through [`Forwarding`] (trusted proxies, public URL) from
//! the request extensions; a host application that does not provide one gets the
//! default: proxies on loopback are trusted, URLs follow `Host`.

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use bk_core::http::forwarded::Forwarding;
use bk_core::lang::Lang;

use super::cookies;
use crate::service::ClientInfo;

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Client {
    /// Address and user agent, for throttling and the audit log.
    pub info: ClientInfo,
    /// The client used https (per `server.public_url`, a trusted proxy's
    /// `X-Forwarded-Proto`, or the request itself).
    pub https: bool,
    /// The host the client used (`server.public_url`, a trusted proxy's
    /// `X-Forwarded-Host`, or `Host`).
    pub host: String,
    /// `bk_token` from the cookie, if any.
    pub cookie_token: Option<String>,
    /// CSRF cookie, if any.
    pub csrf_cookie: Option<String>,
    /// Language for pages (cookie `blueking_language`, else `Accept-Language`).
    pub lang: Lang,
}

impl Client {
    /// `scheme://host[:port]` as the client sees this service: the base of absolute URLs.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

static DEFAULT_FORWARDING: LazyLock<Forwarding> = LazyLock::new(Forwarding::default);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let h = &parts.headers;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarding = parts
            .extensions
            .get::<Arc<Forwarding>>()
            .map_or(&*DEFAULT_FORWARDING, |f| f.as_ref());
        let view = forwarding.client(peer, h, &parts.uri);
        let cookie_header = header(h, "cookie").unwrap_or_default();
        let lang = cookies::get(cookie_header, "blueking_language")
            .map(|v| Lang::from_header(&v))
            .or_else(|| header(h, "accept-language").map(Lang::from_header))
            .unwrap_or_default();
        Ok(Client {
            info: ClientInfo {
                address: view
                    .ip
                    .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string()),
                user_agent: header(h, "user-agent").unwrap_or_default().to_owned(),
            },
            https: view.https,
            host: view.host,
            cookie_token: cookies::get(cookie_header, "bk_token"),
            csrf_cookie: cookies::get(cookie_header, cookies::CSRF),
            lang,
        })
    }
}
