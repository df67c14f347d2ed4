//! `[login]` section of the configuration.

use serde::{Deserialize, Serialize};

/// Settings of the login service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginConfig {
    /// Cookie settings.
    pub cookie: CookieConfig,
    /// Lifetime of a `bk_token`, seconds (default 24 h).
    pub token_ttl_secs: i64,
    /// Revoke tokens unused for this long, seconds; 0 disables the idle timeout.
    pub idle_timeout_secs: i64,
    /// Hosts `c_url` may point to besides the login host itself (exact host names,
    /// or `.example.com` for a domain and its subdomains).
    pub allowed_redirect_hosts: Vec<String>,
    /// Where to send users whose `c_url` is missing or not allowed.
    pub default_redirect: String,
    /// Password rules.
    pub password: PasswordPolicy,
    /// Brute-force protection.
    pub throttle: ThrottleConfig,
    /// argon2id cost.
    pub argon2: Argon2Config,
    /// How long `is_login` answers may be served from memory, milliseconds. Revocation in
    /// this process is seen at once; in other processes sharing the database after at
    /// most this long. 0 disables the cache.
    pub session_cache_ms: i64,
    /// Upstream OpenID Connect providers.
    pub oidc: Vec<OidcProviderConfig>,
    /// Hide the local password form (only external providers).
    pub disable_password_login: bool,
}

impl Default for LoginConfig {
    fn default() -> Self {
        Self {
            cookie: CookieConfig::default(),
            token_ttl_secs: 24 * 3600,
            idle_timeout_secs: 0,
            allowed_redirect_hosts: Vec::new(),
            default_redirect: "/console/".into(),
            password: PasswordPolicy::default(),
            throttle: ThrottleConfig::default(),
            argon2: Argon2Config::default(),
            session_cache_ms: 5_000,
            oidc: Vec::new(),
            disable_password_login: false,
        }
    }
}

/// `bk_token` cookie settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct CookieConfig {
    /// Cookie name.
    pub name: String,
    /// `Domain` attribute; empty means host-only.
    pub domain: String,
    /// `Secure` attribute: `auto` (when the request came over https, as seen directly or
    /// through `X-Forwarded-Proto`), `always`, `never`.
    pub secure: String,
}

/// Values `login.cookie.secure` accepts.
pub const COOKIE_SECURE: [&str; 3] = ["auto", "always", "never"];

impl CookieConfig {
    /// Check the settings; the message names the key and what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        if !COOKIE_SECURE.contains(&self.secure.as_str()) {
            return Err(format!(
                "login.cookie.secure = {:?}: must be one of auto (Secure when the request came \
                 over https), always, never",
                self.secure
            ));
        }
        let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if self.name.is_empty() || self.name.len() > 64 || !self.name.chars().all(token_char) {
            return Err(format!(
                "login.cookie.name = {:?}: must be 1-64 letters, digits or !#$%&'*+-.^_`|~",
                self.name
            ));
        }
        if self
            .domain
            .chars()
            .any(|c| c == ';' || c == ',' || c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "login.cookie.domain = {:?}: not a domain",
                self.domain
            ));
        }
        Ok(())
    }
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: "bk_token".into(),
            domain: String::new(),
            secure: "auto".into(),
        }
    }
}

/// Password rules for new passwords (imported hashes are not re-checked).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// Minimum length in characters.
    pub min_length: usize,
    /// Maximum length in bytes (bounds hashing cost).
    pub max_length: usize,
    /// How many of the classes lower, upper, digit, symbol must appear.
    pub min_classes: usize,
    /// Refuse passwords containing the username.
    pub forbid_username: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 8,
            max_length: 128,
            min_classes: 2,
            forbid_username: true,
        }
    }
}

/// Brute-force protection (see `throttle.rs` and ARCHITECTURE.md). Attempts are counted
/// per (account, client address) pair, per account and per address, before the password
/// is checked. A pair gets `free_failures` attempts, then each further one must wait
/// `base_delay_secs * 2^(n-1)` (capped at `max_delay_secs`); at `lock_after` the pair is
/// locked for `lock_secs`. An account with more than `lock_after` failures from all
/// clients delays only clients that have failed on it; an address with more than
/// `free_failures * address_factor` delays only accounts that never logged in from it.
/// Neither ever locks. Counters reset after `window_secs` without failures; a success
/// clears its pair's counter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    /// Failures allowed before delays start.
    pub free_failures: i64,
    /// First delay, seconds.
    pub base_delay_secs: i64,
    /// Largest delay, seconds.
    pub max_delay_secs: i64,
    /// Failures that lock the key.
    pub lock_after: i64,
    /// Lock duration, seconds.
    pub lock_secs: i64,
    /// Quiet time that resets the counter, seconds.
    pub window_secs: i64,
    /// Limits per client address are this many times the per-account ones (an office
    /// behind one NAT address must not lock itself out).
    pub address_factor: i64,
    /// How long a successful login makes its (account, address) pair known, seconds:
    /// known pairs are never slowed down by failures of others from the same address.
    pub known_client_secs: i64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base_delay_secs: 1,
            max_delay_secs: 60,
            lock_after: 10,
            lock_secs: 15 * 60,
            window_secs: 3600,
            address_factor: 5,
            known_client_secs: 30 * 24 * 3600,
        }
    }
}

/// argon2id parameters (RFC 9106 second recommendation by default: m = 19 MiB, t = 2, p = 1;
/// OWASP's minimum). See the benchmark for what one check costs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
    /// How many hashes may run at once (bounds memory under a login storm).
    pub max_concurrent: usize,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: 4,
        }
    }
}

/// One upstream OpenID Connect provider (authorization code + PKCE).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OidcProviderConfig {
    /// Short id used in URLs (`/login/oidc/<id>/start`) and as the user's `source`.
    pub id: String,
    /// Button label.
    pub display_name: String,
    /// Issuer URL; `<issuer>/.well-known/openid-configuration` is fetched at start.
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret. Prefer the environment over the file: `BK_LOGIN__OIDC__<ID>__CLIENT_SECRET`
    /// sets it for the provider with that `id` (see `bk_core::config`).
    #[serde(default)]
    pub client_secret: String,
    /// Scopes besides `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Claim that becomes the username (`preferred_username`, `sub`...) of accounts created
    /// at first login; its value must be a valid username. With `email`, the address's
    /// local part is used, and only when the provider marks it verified (`email_verified`)
    /// and its domain is in `allowed_email_domains`. Later logins are matched by subject,
    /// whatever this claim then says.
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// E-mail domains whose addresses may become usernames with `username_claim = "email"`:
    /// exact domains, or `.corp.example` for a domain and its subdomains.
    #[serde(default)]
    pub allowed_email_domains: Vec<String>,
    /// Role given to users created on first login.
    #[serde(default)]
    pub default_role: bk_core::types::Role,
}

/// Longest `c_url` an external login keeps while the user is at the provider, in bytes.
pub const MAX_C_URL_BYTES: usize = 2048;

/// Refuse a `c_url` longer than [`MAX_C_URL_BYTES`], saying so.
pub fn check_c_url_len(c_url: &str) -> Result<(), String> {
    if c_url.len() > MAX_C_URL_BYTES {
        return Err(format!(
            "c_url is {} bytes long; at most {MAX_C_URL_BYTES} bytes are accepted",
            c_url.len()
        ));
    }
    Ok(())
}

impl OidcProviderConfig {
    /// Check what can be checked without the network: the id, an https issuer (plain http
    /// only for loopback hosts, for tests), and `email` usernames having an allow-list.
    /// The error names the provider and the setting.
    pub fn validate(&self) -> Result<(), String> {
        let at = |what: &str| format!("login.oidc[{}].{what}", self.id);
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(format!(
                "login.oidc: provider id {:?} must be 1-32 letters, digits, - or _",
                self.id
            ));
        }
        check_issuer(&self.issuer).map_err(|why| format!("{}: {why}", at("issuer")))?;
        if self.username_claim == "email" && self.allowed_email_domains.is_empty() {
            return Err(format!(
                "{}: username_claim = \"email\" needs allowed_email_domains (the domains whose verified addresses may become usernames)",
                at("allowed_email_domains")
            ));
        }
        Ok(())
    }
}

/// An issuer (or an endpoint it announces) must be https; plain http only on loopback
/// (`127.0.0.0/8`, `::1`, `localhost`), where tests run their providers.
pub fn check_issuer(url: &str) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    match u.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&u) => Ok(()),
        "http" => Err(format!(
            "{url:?} must use https (plain http is accepted only for loopback hosts)"
        )),
        other => Err(format!("{url:?}: scheme {other:?} is not https")),
    }
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}

fn default_username_claim() -> String {
    "preferred_username".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(issuer: &str) -> OidcProviderConfig {
        OidcProviderConfig {
            id: "corp".into(),
            display_name: "Corp".into(),
            issuer: issuer.into(),
            client_id: "bk".into(),
            client_secret: String::new(),
            scopes: default_scopes(),
            username_claim: default_username_claim(),
            allowed_email_domains: vec![],
            default_role: bk_core::types::Role::default(),
        }
    }

    #[test]
    fn issuers_must_be_https_except_on_loopback() {
        for ok in [
            "https://sso.corp.example",
            "https://sso.corp.example/realms/x/",
            "http://127.0.0.1:9400",
            "http://127.8.9.10",
            "http://[::1]:8080",
            "http://localhost:5556/dex",
        ] {
            assert_eq!(oidc(ok).validate(), Ok(()), "{ok}");
        }
        for bad in [
            "http://sso.corp.example",
            "http://10.0.0.1",
            "http://localhost.evil.example",
            "ftp://sso.corp.example",
            "sso.corp.example",
        ] {
            let err = oidc(bad).validate().unwrap_err();
            assert!(err.starts_with("login.oidc[corp].issuer:"), "{bad}: {err}");
        }
        assert!(
            oidc("http://sso.corp.example")
                .validate()
                .unwrap_err()
                .contains("must use https")
        );
    }

    #[test]
    fn email_usernames_need_an_allow_list_and_ids_are_checked() {
        let mut c = oidc("https://sso.corp.example");
        c.username_claim = "email".into();
        let err = c.validate().unwrap_err();
        assert!(err.contains("allowed_email_domains"), "{err}");
        c.allowed_email_domains = vec!["corp.example".into()];
        assert_eq!(c.validate(), Ok(()));
        for bad in ["", "has space", "a/b", &"x".repeat(33)] {
            c.id = bad.into();
            assert!(c.validate().unwrap_err().contains("provider id"), "{bad}");
        }
    }
}
