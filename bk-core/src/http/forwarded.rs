//! Who the client is and which URL it used, when requests may arrive through proxies.
//!
//! `X-Forwarded-For`, `-Proto` and `-Host` are plain request headers: anyone can send them.
//! They are believed only when the TCP peer is a configured trusted proxy (default: the
//! loopback ranges). The client address is then the right-most hop that is not a trusted
//! proxy, read across *all* `X-Forwarded-For` lines in order: a proxy that passes the
//! client's own header through and appends its line (HAProxy, nginx with
//! `$proxy_add_x_forwarded_for`) leaves the client's invented hops on the left, where they
//! never win. Scheme and host are best taken from a configured public URL
//! (`server.public_url`), which also holds behind chains of proxies that disagree.
//!
//! Pure functions over `http` types, so the login service, the gateway and the app
//! router all read the same answer from the same request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use http::{HeaderMap, Uri};

use crate::types::InvalidValue;

fn invalid(field: &'static str, reason: String) -> InvalidValue {
    InvalidValue { field, reason }
}

/// An IP network (`10.0.0.0/8`, `::1/128`; a bare address is a single host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parse `addr` or `addr/prefix`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let bad = |why: &str| invalid("trusted proxy", format!("{s:?} is not {why}"));
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr
            .parse()
            .map_err(|_| bad("an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(&format!("a valid range: the prefix must be 0..={max}")))?,
        };
        if mask(net, prefix) != net {
            return Err(bad("a network address: bits are set after the prefix"));
        }
        Ok(Self { net, prefix })
    }

    /// Whether `ip` is in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        ip.is_ipv4() == self.net.is_ipv4() && mask(ip, self.prefix) == self.net
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// The proxies whose forwarded headers are believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// The default: proxies on this host (`127.0.0.0/8`, `::1`).
    pub fn loopback() -> Self {
        Self(vec![
            Cidr {
                net: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
                prefix: 8,
            },
            Cidr {
                net: IpAddr::V6(Ipv6Addr::LOCALHOST),
                prefix: 128,
            },
        ])
    }

    /// Parse a configured list; an empty list trusts no one.
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, InvalidValue> {
        list.iter()
            .map(|s| Cidr::parse(s.as_ref()))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self::loopback()
    }
}

/// The client's address: the peer itself unless it is a trusted proxy; else the right-most
/// hop of all `X-Forwarded-For` lines that is not a trusted proxy. If every hop is trusted
/// the left-most one is the client; a hop that is not an address ends the walk (a trusted
/// proxy never writes one, so the hop right of it is the last we can vouch for).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let mut lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let mut client = peer;
    while let Some(line) = lines.pop() {
        for hop in line.rsplit(',').map(str::trim) {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !trusted.contains(ip) {
                return ip;
            }
        }
    }
    client
}

/// A hop as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// The right-most value of a forwarded header across all its lines: the one our own
/// (trusted) peer wrote, when it appends rather than replaces.
fn last_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .next_back()
        .and_then(|line| line.rsplit(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The base URL clients use (`https://paas.example.com`, optionally with a port), without
/// a trailing slash. Configured, it wins over `Host` and forwarded headers for every
/// absolute URL a service writes (OIDC `redirect_uri`, redirects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    https: bool,
    authority: String,
}

impl PublicUrl {
    /// Parse `http(s)://host[:port][/]`; a path, query, fragment or user info is refused
    /// (services add their own paths under it).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let bad = |why: &str| {
            invalid(
                "public URL",
                format!("{s:?} is not a base URL like https://paas.example.com: {why}"),
            )
        };
        let uri: Uri = s.trim().parse().map_err(|_| bad("not a URL"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("user info is not allowed"));
        }
        if authority.host().is_empty() {
            return Err(bad("no host"));
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(bad("give the origin only, without a path or query"));
        }
        Ok(Self {
            https,
            authority: authority.as_str().to_ascii_lowercase(),
        })
    }

    /// `https://host[:port]`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme(), self.authority)
    }

    fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }
}

/// How a service reads client facts from requests: which proxies it trusts and the public
/// base URL, if configured. Binaries build it from `[server]` and put it into the request
/// extensions (`axum::Extension(Arc<Forwarding>)`); without it a service uses the default
/// (loopback proxies trusted, URLs from `Host`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// Proxies whose forwarded headers are believed.
    pub trusted: TrustedProxies,
    /// The configured public base URL.
    pub public_url: Option<PublicUrl>,
}

/// What one request says about its client, after applying [`Forwarding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientView {
    /// The client's address; `None` when the server did not record peers (no
    /// `ConnectInfo`).
    pub ip: Option<IpAddr>,
    /// The client used https.
    pub https: bool,
    /// The host (and port) the client used.
    pub host: String,
}

impl ClientView {
    /// `scheme://host[:port]`, the base of absolute URLs for this client.
    pub fn origin(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.host)
    }
}

impl Forwarding {
    /// Build from configuration values (`server.trusted_proxies`, `server.public_url`;
    /// empty means not configured).
    pub fn from_config<S: AsRef<str>>(
        trusted_proxies: &[S],
        public_url: &str,
    ) -> Result<Self, InvalidValue> {
        let trusted = TrustedProxies::parse(trusted_proxies)
            .map_err(|e| invalid("server.trusted_proxies", e.reason))?;
        let public_url = match public_url.trim() {
            "" => None,
            u => Some(PublicUrl::parse(u).map_err(|e| invalid("server.public_url", e.reason))?),
        };
        Ok(Self {
            trusted,
            public_url,
        })
    }

    /// Read the client facts of a request from its peer address, headers and URI.
    pub fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap, uri: &Uri) -> ClientView {
        let proxied = peer.is_some_and(|p| self.trusted.contains(p));
        let ip = peer.map(|p| client_ip(p, headers, &self.trusted));
        if let Some(public) = &self.public_url {
            return ClientView {
                ip,
                https: public.https,
                host: public.authority.clone(),
            };
        }
        let forwarded = |name| last_value(headers, name).filter(|_| proxied);
        let https = match forwarded("x-forwarded-proto") {
            Some(p) => p.eq_ignore_ascii_case("https"),
            None => uri.scheme_str() == Some("https"),
        };
        let host = forwarded("x-forwarded-host")
            .or_else(|| {
                headers
                    .get(http::header::HOST)
                    .and_then(|v| v.to_str().ok())
            })
            .or_else(|| uri.authority().map(|a| a.as_str()))
            .unwrap_or_default()
            .to_owned();
        ClientView { ip, https, host }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn cidr_parse_and_contains() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.3.4")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.1.1")), "IPv4-mapped");
        assert!(!c.contains(ip("::1")));
        let host = Cidr::parse("192.168.1.7").unwrap();
        assert_eq!(host.to_string(), "192.168.1.7/32");
        assert!(host.contains(ip("192.168.1.7")) && !host.contains(ip("192.168.1.8")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")) && !v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in [
            "10.0.0.0/33",
            "10.0.0.1/8",
            "nope",
            "10.0.0.0/",
            "::/129",
            "",
        ] {
            let err = Cidr::parse(bad).unwrap_err().to_string();
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_says() {
        let t = TrustedProxies::loopback();
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(client_ip(ip("203.0.113.9"), &h, &t), ip("203.0.113.9"));
    }

    #[test]
    fn right_most_untrusted_hop_across_all_lines() {
        let t = TrustedProxies::parse(&["127.0.0.0/8", "10.0.0.0/8"]).unwrap();
        // The client sent its own line first; the proxy appended the real address.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &t), ip("198.51.100.7"));
        // One line, spoofed hops on the left, internal proxies on the right.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.5")]);
        assert_eq!(client_ip(ip("10.0.0.9"), &h, &t), ip("198.51.100.7"));
        // Ports and IPv6 forms proxies write.
        let h = headers(&[("x-forwarded-for", "[2001:db8::7]:4711, 10.0.0.5:80")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &t), ip("2001:db8::7"));
        // All trusted: the left-most is the client.
        let h = headers(&[("x-forwarded-for", "10.1.1.1, 10.0.0.5")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &t), ip("10.1.1.1"));
        // Garbage ends the walk at the last hop we can vouch for.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, unknown, 10.0.0.5")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &t), ip("10.0.0.5"));
        // No header: the peer.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &t),
            ip("127.0.0.1")
        );
        // Nobody trusted.
        let none = TrustedProxies::parse::<&str>(&[]).unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &none), ip("127.0.0.1"));
    }

    #[test]
    fn proto_and_host_only_from_trusted_peers() {
        let f = Forwarding::default();
        let uri: Uri = "/login/".parse().unwrap();
        let h = headers(&[
            ("host", "10.0.0.1:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "paas.example.com"),
        ]);
        let via_proxy = f.client(Some(ip("127.0.0.1")), &h, &uri);
        assert!(via_proxy.https);
        assert_eq!(via_proxy.origin(), "https://paas.example.com");
        let direct = f.client(Some(ip("203.0.113.9")), &h, &uri);
        assert!(!direct.https);
        assert_eq!(direct.origin(), "http://10.0.0.1:8080");
        assert_eq!(direct.ip, Some(ip("203.0.113.9")));
        // Appended values: the right-most is our proxy's.
        let h = headers(&[
            ("x-forwarded-proto", "https"),
            ("x-forwarded-proto", "http"),
        ]);
        assert!(!f.client(Some(ip("127.0.0.1")), &h, &uri).https);
        // No peer recorded: headers are not believed.
        let h = headers(&[("host", "a:1"), ("x-forwarded-proto", "https")]);
        let none = f.client(None, &h, &uri);
        assert_eq!((none.ip, none.https), (None, false));
    }

    #[test]
    fn public_url_wins_over_host_and_headers() {
        let f = Forwarding::from_config(&["127.0.0.1"], "https://PaaS.example.com:8443/").unwrap();
        let h = headers(&[
            ("host", "evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
        ]);
        let v = f.client(Some(ip("127.0.0.1")), &h, &"/".parse().unwrap());
        assert_eq!(v.origin(), "https://paas.example.com:8443");
        for bad in [
            "paas.example.com",
            "ftp://x",
            "https://x/login/",
            "https://u@x",
            "https://x/?a=1",
        ] {
            let err = Forwarding::from_config::<&str>(&[], bad)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("server.public_url:"), "{bad}: {err}");
        }
        let err = Forwarding::from_config(&["10.0.0.0/40"], "")
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.trusted_proxies") && err.contains("10.0.0.0/40"));
        assert_eq!(
            Forwarding::from_config::<&str>(&["127.0.0.0/8", "::1"], "").unwrap(),
            Forwarding::default()
        );
    }
}
