//! Cookie parsing and the `Set-Cookie` values of the login service.

use crate::config::CookieConfig;

/// Name of the CSRF cookie of the login form.
pub const CSRF: &str = "bk_csrftoken";

/// The value of cookie `name` in a `Cookie` header.
pub fn get(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// Whether cookies get `Secure`: `login.cookie.secure` = `always`, `never`, or `auto`
/// (the request came over https, per `server.public_url` or a trusted proxy's
/// `X-Forwarded-Proto`).
pub fn secure(cfg: &CookieConfig, https: bool) -> bool {
    match cfg.secure.as_str() {
        "always" => true,
        "never" => false,
        _ => https,
    }
}

fn attrs(cfg: &CookieConfig, https: bool) -> String {
    let mut s = String::from("; Path=/; HttpOnly; SameSite=Lax");
    if !cfg.domain.is_empty() {
        s.push_str("; Domain=");
        s.push_str(&cfg.domain);
    }
    if secure(cfg, https) {
        s.push_str("; Secure");
    }
    s
}

/// `Set-Cookie` for a new token.
pub fn set_token(cfg: &CookieConfig, https: bool, token: &str, max_age_secs: i64) -> String {
    format!(
        "{}={token}; Max-Age={max_age_secs}{}",
        cfg.name,
        attrs(cfg, https)
    )
}

/// `Set-Cookie` that removes the token.
pub fn clear_token(cfg: &CookieConfig, https: bool) -> String {
    format!(
        "{}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT{}",
        cfg.name,
        attrs(cfg, https)
    )
}

/// `Set-Cookie` for the CSRF token of the login form, limited to the login page's path.
pub fn set_csrf(cfg: &CookieConfig, token: &str, https: bool, page: &str) -> String {
    let secure = if secure(cfg, https) { "; Secure" } else { "" };
    format!("{CSRF}={token}; Path={page}; HttpOnly; SameSite=Strict{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_build() {
        assert_eq!(
            get("a=1; bk_token=xyz; c=3", "bk_token").as_deref(),
            Some("xyz")
        );
        assert_eq!(get("a=1", "bk_token"), None);
        let cfg = CookieConfig {
            domain: ".corp.example".into(),
            ..CookieConfig::default()
        };
        let c = set_token(&cfg, true, "t", 60);
        assert!(c.starts_with("bk_token=t; Max-Age=60; Path=/; HttpOnly; SameSite=Lax; Domain=.corp.example; Secure"), "{c}");
        assert!(!set_token(&CookieConfig::default(), false, "t", 60).contains("Secure"));
        assert!(clear_token(&CookieConfig::default(), false).contains("Max-Age=0"));
        let csrf = set_csrf(&CookieConfig::default(), "c", false, "/auth/");
        assert_eq!(
            csrf,
            "bk_csrftoken=c; Path=/auth/; HttpOnly; SameSite=Strict"
        );
        let always = CookieConfig {
            secure: "always".into(),
            ..CookieConfig::default()
        };
        assert!(set_token(&always, false, "t", 60).ends_with("; Secure"));
        assert!(set_csrf(&always, "c", false, "/").ends_with("; Secure"));
        let never = CookieConfig {
            secure: "never".into(),
            ..CookieConfig::default()
        };
        assert!(!set_token(&never, true, "t", 60).contains("Secure"));
    }
}
