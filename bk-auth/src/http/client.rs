//! Facts about the caller taken from the request: address, user agent, scheme, host,
//! the `bk_token` (query parameter or cookie) and the language for pages.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use bk_core::lang::Lang;

use super::cookies;
use crate::service::ClientInfo;

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Client {
    /// Address and user agent, for throttling and the audit log.
    pub info: ClientInfo,
    /// The request came over https (directly or per `X-Forwarded-Proto`).
    pub https: bool,
    /// The host the client used (`Host` / `X-Forwarded-Host`).
    pub host: String,
    /// `bk_token` from the cookie, if any.
    pub cookie_token: Option<String>,
    /// CSRF cookie, if any.
    pub csrf_cookie: Option<String>,
    /// Language for pages (cookie `blueking_language`, else `Accept-Language`).
    pub lang: Lang,
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let h = &parts.headers;
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        // Forwarded headers are believed only from a proxy on this host.
        let proxied = peer.is_some_and(|p| p.ip().is_loopback());
        let forwarded_for = header(h, "x-forwarded-for")
            .and_then(|v| v.split(',').next_back())
            .map(str::trim);
        let address = match (proxied, forwarded_for, peer) {
            (true, Some(f), _) if !f.is_empty() => f.to_owned(),
            (_, _, Some(p)) => p.ip().to_string(),
            _ => "unknown".to_owned(),
        };
        let https = header(h, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
            || parts.uri.scheme_str() == Some("https");
        let host = header(h, "x-forwarded-host")
            .filter(|_| proxied)
            .or_else(|| header(h, "host"))
            .or_else(|| parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or_default()
            .to_owned();
        let cookie_header = header(h, "cookie").unwrap_or_default();
        let lang = cookies::get(cookie_header, "blueking_language")
            .map(|v| Lang::from_header(&v))
            .or_else(|| header(h, "accept-language").map(Lang::from_header))
            .unwrap_or_default();
        Ok(Client {
            info: ClientInfo {
                address,
                user_agent: header(h, "user-agent").unwrap_or_default().to_owned(),
            },
            https,
            host,
            cookie_token: cookies::get(cookie_header, "bk_token"),
            csrf_cookie: cookies::get(cookie_header, cookies::CSRF),
            lang,
        })
    }
}
