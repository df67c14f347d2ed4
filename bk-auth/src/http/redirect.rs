//! `c_url` checking: only relative paths, the login host itself, and hosts on the
//! configured allow-list. (BK V6 compared only the second-level domain label, which made
//! it an open redirect; this compares whole host names.)

use url::Url;

use crate::config::LoginConfig;

/// Where to send the browser: `c_url` when it is allowed, else the default.
pub fn safe_target(cfg: &LoginConfig, request_host: &str, c_url: Option<&str>) -> String {
    match c_url.map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) if is_allowed(cfg, request_host, c) => c.to_owned(),
        _ => cfg.default_redirect.clone(),
    }
}

/// Whether `c_url` may be redirected to.
pub fn is_allowed(cfg: &LoginConfig, request_host: &str, c_url: &str) -> bool {
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
    let request_host_only = request_host
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(request_host)
        .to_ascii_lowercase();
    if host == request_host_only {
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
        let ok = |c: &str| is_allowed(&cfg, "login.local:8080", c);
        assert!(ok("/console/"));
        assert!(ok("http://login.local:8080/o/app/"));
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
            safe_target(&cfg, "h", Some("https://evil.example/")),
            "/console/"
        );
        assert_eq!(safe_target(&cfg, "h", None), "/console/");
    }
}
