//! Facts about the caller taken from the request: address, user agent, scheme, host,
//! the `bk_token` (query parameter or cookie) and the language for pages.
//!
//! Address, scheme and host go through [`Forwarding`] (trusted proxies, public URL) from
//! the request extensions; a host application that does not provide one gets the
//! default: proxies on loopback are trusted, URLs follow `Host`.
//!
//! **The client's address needs `ConnectInfo`**: serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`. Without it (and without a trusted
//! proxy naming the client) the address is unknown: the first such request logs an error
//! naming the fix, and password attempts are throttled per account only (never under one
//! address key shared by every client, which 50 failures would lock for everyone).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use bk_core::http::forwarded::Forwarding;
use bk_core::lang::Lang;

use super::{AppState, Mount, cookies};
use crate::service::{ClientInfo, UNKNOWN_ADDRESS};

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
    /// The session token from the cookie (`login.cookie.name`), if any.
    pub cookie_token: Option<String>,
    /// CSRF cookie, if any.
    pub csrf_cookie: Option<String>,
    /// Language for pages (cookie `blueking_language`, else `Accept-Language`).
    pub lang: Lang,
    /// Where the login is mounted: the base of every path the pages write.
    pub mount: Mount,
    /// `Origin` of the request, if sent.
    pub origin_header: Option<String>,
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

static WARNED_NO_PEER: AtomicBool = AtomicBool::new(false);

/// Say once, loudly, that the server does not record client addresses.
fn warn_no_peer() {
    if !WARNED_NO_PEER.swap(true, Ordering::Relaxed) {
        tracing::error!(
            "login: a request arrived without the client's address (no ConnectInfo): serve the \
             router with `into_make_service_with_connect_info::<SocketAddr>()` (or put it behind \
             a trusted proxy that sends X-Forwarded-For). Until then password attempts are \
             throttled per account only"
        );
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        svc: &AppState,
    ) -> Result<Self, Self::Rejection> {
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
        let address = match view.ip {
            Some(ip) => ip.to_string(),
            None => {
                warn_no_peer();
                UNKNOWN_ADDRESS.to_owned()
            }
        };
        Ok(Client {
            info: ClientInfo {
                address,
                user_agent: header(h, "user-agent").unwrap_or_default().to_owned(),
            },
            https: view.https,
            host: view.host,
            cookie_token: cookies::get(cookie_header, &svc.config().cookie.name),
            csrf_cookie: cookies::get(cookie_header, cookies::CSRF),
            lang,
            mount: parts.extensions.get::<Mount>().cloned().unwrap_or_default(),
            origin_header: header(h, "origin").map(str::to_owned),
        })
    }
}
