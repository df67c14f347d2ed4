//! Facts about the caller taken from the request: the client address (for the audit
//! log) and the host (the token: `bk_core::http::token`).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;
use axum::http::request::Parts;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
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
    fn hosts_lose_their_ports() {
        assert_eq!(strip_port("Apps.Example.com:8080"), "apps.example.com");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("example.com."), "example.com");
        let p = parts(&[("host", "BK.example.com:443")]);
        assert_eq!(request_host(&p), "bk.example.com");
        assert_eq!(address(&p), "unknown");
    }
}
