//! Facts about the caller taken from the request: the `bk_token` and the client address
//! (for the audit log).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `Authorization: Bearer <bk_token>` (CLI), else the login cookie (browser).
pub(crate) fn bk_token(parts: &Parts, cookie_name: &str) -> Option<String> {
    if let Some(t) = header(&parts.headers, "authorization").and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(t.trim().to_owned());
    }
    parts
        .headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == cookie_name && !v.is_empty())
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop when the peer is a
/// proxy on this host (the only proxy whose word we take).
pub(crate) fn address(parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let proxied = peer.is_some_and(|p| p.ip().is_loopback());
    let forwarded = header(&parts.headers, "x-forwarded-for")
        .and_then(|v| v.split(',').next_back())
        .map(str::trim)
        .filter(|f| !f.is_empty());
    match (proxied, forwarded, peer) {
        (true, Some(f), _) => f.to_owned(),
        (_, _, Some(p)) => p.ip().to_string(),
        _ => "unknown".to_owned(),
    }
}

/// The host the client asked for (`Host`, or `X-Forwarded-Host` from a local proxy),
/// lower case, without the port.
pub(crate) fn request_host(parts: &Parts) -> String {
    let proxied = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    let h = header(&parts.headers, "x-forwarded-host")
        .filter(|_| proxied)
        .or_else(|| header(&parts.headers, "host"))
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .unwrap_or_default();
    strip_port(h)
}

/// `Host:port` → `host`, lower case (IPv6 literals keep their brackets).
pub(crate) fn strip_port(h: &str) -> String {
    let h = h.trim();
    let host = if h.starts_with('[') {
        h.split_inclusive(']').next().unwrap_or(h)
    } else {
        h.rsplit_once(':').map_or(h, |(host, _)| host)
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::builder().uri("/paas/api/v1/apps/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn tokens_come_from_bearer_or_cookie() {
        let p = parts(&[("authorization", "Bearer abc"), ("cookie", "bk_token=zzz")]);
        assert_eq!(bk_token(&p, "bk_token").as_deref(), Some("abc"));
        let p = parts(&[("cookie", "a=1; bk_token=zzz; b=2")]);
        assert_eq!(bk_token(&p, "bk_token").as_deref(), Some("zzz"));
        assert_eq!(bk_token(&p, "other"), None);
        assert_eq!(
            bk_token(&parts(&[("cookie", "bk_token=")]), "bk_token"),
            None
        );
    }

    #[test]
    fn hosts_lose_their_ports() {
        assert_eq!(strip_port("Apps.Example.com:8080"), "apps.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("example.com."), "example.com");
        let p = parts(&[("host", "BK.example.com:443")]);
        assert_eq!(request_host(&p), "bk.example.com");
        assert_eq!(address(&p), "unknown");
    }
}
