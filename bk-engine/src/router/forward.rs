//! The request an instance receives and the response the client receives: hop-by-hop
//! headers removed, the path below the app's prefix, `X-Script-Name` and `X-Forwarded-*`
//! set by this hop (a client cannot spoof them).

use std::io::Write as _;
use std::net::IpAddr;

use http::header::{CONNECTION, HOST, UPGRADE};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, Version, request};

pub(crate) const X_SCRIPT_NAME: HeaderName = HeaderName::from_static("x-script-name");
pub(crate) const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub(crate) const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
pub(crate) const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus `Expect`
/// (hyper answers `100-continue` to the client itself).
fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "expect"
            | "http2-settings"
    )
}

/// Everything about the client's request an attempt needs; built once per request.
pub(crate) struct Head {
    pub(crate) parts: request::Parts,
    /// Path (below the app's prefix) and query sent to the instance.
    pub(crate) path: PathAndQuery,
    pub(crate) script_name: Option<HeaderValue>,
    pub(crate) forwarded_for: Option<HeaderValue>,
    /// `Some(protocol)` when the client asked to switch protocols (WebSocket).
    pub(crate) upgrade: Option<HeaderValue>,
    pub(crate) trust_forwarded: bool,
}

impl Head {
    pub(crate) fn new(
        parts: request::Parts,
        prefix_len: usize,
        script_name: Option<HeaderValue>,
        peer: Option<IpAddr>,
        trust_forwarded: bool,
    ) -> Self {
        let path = forwarded_path(&parts.uri, prefix_len);
        let forwarded_for = forwarded_for(&parts.headers, peer);
        let upgrade = upgrade_protocol(&parts);
        Self {
            parts,
            path,
            script_name,
            forwarded_for,
            upgrade,
            trust_forwarded,
        }
    }

    /// The request for the instance at `authority`. Built from the client's head for each
    /// attempt, so the head stays available for a retry on another instance.
    pub(crate) fn request<B>(&self, authority: &Authority, body: B) -> Request<B> {
        let src = &self.parts.headers;
        let mut headers = HeaderMap::with_capacity(src.len() + 4);
        for (name, value) in src {
            let n = name.as_str();
            let replaced = matches!(n, "x-script-name" | "x-forwarded-for")
                || (!self.trust_forwarded && matches!(n, "x-forwarded-host" | "x-forwarded-proto"));
            if !replaced && !is_hop_by_hop(n) {
                headers.append(name.clone(), value.clone());
            }
        }
        remove_connection_listed(src, &mut headers);
        if let Some(v) = &self.script_name {
            headers.insert(X_SCRIPT_NAME, v.clone());
        }
        if let Some(v) = &self.forwarded_for {
            headers.insert(X_FORWARDED_FOR, v.clone());
        }
        if !self.trust_forwarded || !headers.contains_key(X_FORWARDED_PROTO) {
            headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
        }
        if (!self.trust_forwarded || !headers.contains_key(X_FORWARDED_HOST))
            && let Some(host) = src.get(HOST)
        {
            headers.insert(X_FORWARDED_HOST, host.clone());
        }
        if let Some(proto) = &self.upgrade {
            headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(UPGRADE, proto.clone());
        }

        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTP);
        uri.authority = Some(authority.clone());
        uri.path_and_query = Some(self.path.clone());

        let mut req = Request::new(body);
        *req.method_mut() = self.parts.method.clone();
        *req.uri_mut() = Uri::from_parts(uri).unwrap_or_default();
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = headers;
        req
    }
}

/// The path and query below the app's prefix (`/t/demo/a?b` -> `/a?b`).
fn forwarded_path(uri: &Uri, prefix_len: usize) -> PathAndQuery {
    let Some(pq) = uri.path_and_query() else {
        return PathAndQuery::from_static("/");
    };
    if prefix_len == 0 {
        return pq.clone();
    }
    pq.as_str()
        .get(prefix_len..)
        .and_then(|rest| PathAndQuery::try_from(rest).ok())
        .unwrap_or_else(|| PathAndQuery::from_static("/"))
}

/// `X-Forwarded-For`: what earlier proxies said, then the client's address.
fn forwarded_for(headers: &HeaderMap, peer: Option<IpAddr>) -> Option<HeaderValue> {
    let mut prior = headers.get_all(X_FORWARDED_FOR).iter().peekable();
    if prior.peek().is_none() {
        // The common case: one address, written without a heap-allocated String (and
        // IPv4 without the formatting machinery, which costs ~1k instructions).
        let mut buf = [0u8; 48];
        let len = match peer? {
            IpAddr::V4(v4) => write_ipv4(&mut buf, v4),
            ip @ IpAddr::V6(_) => {
                let mut w = &mut buf[..];
                write!(w, "{ip}").ok()?;
                48 - w.len()
            }
        };
        return HeaderValue::from_bytes(&buf[..len]).ok();
    }
    let mut joined = Vec::with_capacity(64);
    for (i, v) in prior.enumerate() {
        if i > 0 {
            joined.extend_from_slice(b", ");
        }
        joined.extend_from_slice(v.as_bytes());
    }
    if let Some(ip) = peer {
        write!(joined, ", {ip}").ok()?;
    }
    HeaderValue::from_bytes(&joined).ok()
}

/// `a.b.c.d` into `buf`; returns the length.
fn write_ipv4(buf: &mut [u8; 48], ip: std::net::Ipv4Addr) -> usize {
    let mut n = 0;
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + (octet / 10) % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    n
}

/// The protocol of an HTTP/1.1 `Connection: upgrade` request.
fn upgrade_protocol(parts: &request::Parts) -> Option<HeaderValue> {
    if parts.version != Version::HTTP_11 {
        return None;
    }
    let asks = parts
        .headers
        .get_all(CONNECTION)
        .iter()
        .any(|v| has_token(v, "upgrade"));
    if asks {
        parts.headers.get(UPGRADE).cloned()
    } else {
        None
    }
}

fn has_token(v: &HeaderValue, token: &str) -> bool {
    v.to_str()
        .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        .unwrap_or(false)
}

/// Drop the headers a `Connection` header names (they are hop-by-hop for this message).
fn remove_connection_listed(src: &HeaderMap, dst: &mut HeaderMap) {
    for v in src.get_all(CONNECTION) {
        let Ok(s) = v.to_str() else { continue };
        for t in s.split(',') {
            let t = t.trim();
            if !t.is_empty()
                && !t.eq_ignore_ascii_case("close")
                && !t.eq_ignore_ascii_case("keep-alive")
                && !t.eq_ignore_ascii_case("upgrade")
                && let Ok(name) = HeaderName::from_bytes(t.to_ascii_lowercase().as_bytes())
            {
                dst.remove(name);
            }
        }
    }
}

/// Remove hop-by-hop headers from an instance's response. For a `101 Switching
/// Protocols` answer `Connection` and `Upgrade` stay: they are the answer.
pub(crate) fn clean_response(headers: &mut HeaderMap, switching: bool) {
    // Usually there is none: one pass over the names, no lookups.
    if !headers.keys().any(|n| is_hop_by_hop(n.as_str())) {
        return;
    }
    let listed: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("upgrade"))
        .filter_map(|t| HeaderName::from_bytes(t.to_ascii_lowercase().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in [
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "http2-settings",
    ] {
        headers.remove(name);
    }
    if !switching {
        headers.remove(CONNECTION);
        headers.remove(UPGRADE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(req: Request<()>, prefix_len: usize, peer: Option<&str>, trust: bool) -> Head {
        let (parts, ()) = req.into_parts();
        Head::new(
            parts,
            prefix_len,
            Some(HeaderValue::from_static("/t/demo")),
            peer.map(|p| p.parse().unwrap()),
            trust,
        )
    }

    #[test]
    fn request_headers_are_rewritten() {
        let req = Request::builder()
            .uri("/t/demo/a/b?x=1&y=%2F")
            .header("host", "paas.example.com:8000")
            .header("connection", "keep-alive, X-Secret-Hop")
            .header("x-secret-hop", "1")
            .header("keep-alive", "timeout=5")
            .header("te", "trailers")
            .header("transfer-encoding", "chunked")
            .header("proxy-authorization", "Basic abc")
            .header("expect", "100-continue")
            .header("x-script-name", "/spoofed")
            .header("x-forwarded-host", "evil")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "10.0.0.1")
            .header("x-forwarded-for", "10.0.0.2")
            .header("cookie", "a=1")
            .header("cookie", "b=2")
            .header("authorization", "Bearer t")
            .body(())
            .unwrap();
        let h = head(req, 7, Some("192.0.2.7"), false);
        let up = h.request(&"127.0.0.1:9000".parse().unwrap(), ());
        assert_eq!(up.uri(), "http://127.0.0.1:9000/a/b?x=1&y=%2F");
        assert_eq!(up.version(), Version::HTTP_11);
        let hd = up.headers();
        for gone in [
            "connection",
            "x-secret-hop",
            "keep-alive",
            "te",
            "transfer-encoding",
            "proxy-authorization",
            "expect",
            "upgrade",
        ] {
            assert!(!hd.contains_key(gone), "{gone} must not be forwarded");
        }
        assert_eq!(hd["x-script-name"], "/t/demo");
        assert_eq!(hd["x-forwarded-host"], "paas.example.com:8000");
        assert_eq!(hd["x-forwarded-proto"], "http");
        assert_eq!(hd["x-forwarded-for"], "10.0.0.1, 10.0.0.2, 192.0.2.7");
        assert_eq!(hd["host"], "paas.example.com:8000");
        let cookies: Vec<_> = hd.get_all("cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(hd["authorization"], "Bearer t");
    }

    #[test]
    fn trusted_forwarded_headers_are_kept_and_peer_alone_is_written() {
        let req = Request::builder()
            .uri("/")
            .header("host", "demo.apps.example.com")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "demo.example.com")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        let h = Head::new(parts, 0, None, Some("2001:db8::1".parse().unwrap()), true);
        let up = h.request(&"10.1.2.3:80".parse().unwrap(), ());
        assert_eq!(up.uri(), "http://10.1.2.3:80/");
        let hd = up.headers();
        assert!(!hd.contains_key("x-script-name"));
        assert_eq!(hd["x-forwarded-proto"], "https");
        assert_eq!(hd["x-forwarded-host"], "demo.example.com");
        assert_eq!(hd["x-forwarded-for"], "2001:db8::1");
    }

    #[test]
    fn ipv4_addresses_are_written_like_display() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.20.30.40",
            "255.255.255.255",
            "1.100.9.99",
        ] {
            let mut buf = [0u8; 48];
            let n = write_ipv4(&mut buf, ip.parse().unwrap());
            assert_eq!(std::str::from_utf8(&buf[..n]).unwrap(), ip);
        }
    }

    #[test]
    fn upgrades_keep_their_protocol() {
        let req = Request::builder()
            .uri("/stag--demo/ws")
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-key", "k")
            .body(())
            .unwrap();
        let h = head(req, 11, None, false);
        assert_eq!(h.upgrade.as_ref().unwrap(), "websocket");
        let up = h.request(&"127.0.0.1:1".parse().unwrap(), ());
        assert_eq!(up.uri().path(), "/ws");
        assert_eq!(up.headers()["connection"], "upgrade");
        assert_eq!(up.headers()["upgrade"], "websocket");
        assert_eq!(up.headers()["sec-websocket-key"], "k");
        assert!(!up.headers().contains_key("x-forwarded-for"));

        let plain = Request::builder()
            .uri("/t/demo/")
            .header("upgrade", "websocket")
            .body(())
            .unwrap();
        assert!(head(plain, 7, None, false).upgrade.is_none());
    }

    #[test]
    fn response_hop_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("close, X-Internal"));
        h.insert("x-internal", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.insert("content-type", HeaderValue::from_static("text/plain"));
        clean_response(&mut h, false);
        assert_eq!(h.len(), 1, "{h:?}");
        assert_eq!(h["content-type"], "text/plain");

        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Upgrade"));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert("sec-websocket-accept", HeaderValue::from_static("x"));
        clean_response(&mut h, true);
        assert_eq!(h.len(), 3);
    }
}
