//! `c_url` checking: only relative paths, the login's own origin (scheme, host and port,
//! as the client reached it), and hosts on the configured allow-list. (BK V6 compared
//! only the second-level domain label, which made it an open redirect; this compares
//! whole origins and host names.)

use url::Url;

use crate::config::LoginConfig;

/// Where to send the browser: `c_url` when it is allowed, else the default.
/// `own_origin` is `scheme://host[:port]` of the login as the client sees it.
pub fn safe_target(cfg: &LoginConfig, own_origin: &str, c_url: Option<&str>) -> String {
    match c_url.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if is_allowed(cfg, own_origin, c) => c.to_owned(),
        _ => cfg.default_redirect.clone(),
    }
}

/// Whether `c_url` may be redirected to: relative, the same origin as `own_origin`
/// (another port or scheme on the login host is another site), or an allow-listed host.
pub fn is_allowed(cfg: &LoginConfig, own_origin: &str, c_url: &str) -> bool {
    if c_url.chars().any(|c| c.is_control() || c == '\\') {
        return false;
    }
    if c_url.starts_with('/') {
        return !c_url.starts_with("//");
    }
    let Ok(u) = Url::parse(c_url) else {
        return false;
    };
    if !matches!(u.scheme(), "http" | "https") || !u.username().is_empty() || u.password().is_some()
    {
        return false;
    }
    let Some(host) = u.host_str().map(|h| h.to_ascii_lowercase()) else {
        return false;
    };
    if Url::parse(own_origin).is_ok_and(|own| own.origin() == u.origin()) {
        return true;
    }
    cfg.allowed_redirect_hosts.iter().any(|allowed| {
        let a = allowed.trim().to_ascii_lowercase();
        match a.strip_prefix('.') {
            Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
            None => host == a,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        let cfg = LoginConfig {
            allowed_redirect_hosts: vec![".corp.example".into(), "paas.other.net".into()],
            ..LoginConfig::default()
        };
        let ok = |c: &str| is_allowed(&cfg, "http://login.local:8080", c);
        assert!(ok("/console/"));
        assert!(ok("http://login.local:8080/o/app/"));
        assert!(ok("http://LOGIN.local:8080/o/app/"));
        // Same host, another port or scheme: another origin.
        assert!(!ok("http://login.local:9090/o/app/"));
        assert!(!ok("https://login.local:8080/o/app/"));
        assert!(!ok("http://login.local/o/app/"));
        let default_port = |c: &str| is_allowed(&cfg, "https://login.local", c);
        assert!(default_port("https://login.local:443/x"));
        assert!(!default_port("http://login.local/x"));
        assert!(ok("https://a.corp.example/x"));
        assert!(ok("https://corp.example/x"));
        assert!(ok("http://paas.other.net/"));
        assert!(!ok("//evil.example/"));
        assert!(!ok("https://evilcorp.example/"));
        assert!(!ok("https://corp.example.evil.com/"));
        assert!(!ok("https://x.other.net/"));
        assert!(!ok("javascript:alert(1)"));
        assert!(!ok("http://user@a.corp.example/"));
        assert!(!ok("/\\evil.example"));
        assert_eq!(
            safe_target(&cfg, "http://h", Some("https://evil.example/")),
            "/console/"
        );
        assert_eq!(safe_target(&cfg, "http://h", None), "/console/");
    }
}
