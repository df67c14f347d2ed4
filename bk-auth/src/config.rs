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

/// Brute-force protection. After `free_failures` failures of one key (an account or a
/// client address), each further attempt must wait `base_delay_secs * 2^(n-1)` (capped
/// at `max_delay_secs`); at `lock_after` failures the key is locked for `lock_secs`.
/// Counters reset on success or after `window_secs` without failures.
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
    /// Claim that becomes the username (`preferred_username`, `email`, `sub`...).
    #[serde(default = "default_username_claim")]
    pub username_claim: String,
    /// Role given to users created on first login.
    #[serde(default)]
    pub default_role: bk_core::types::Role,
}

fn default_scopes() -> Vec<String> {
    vec!["profile".into(), "email".into()]
}

fn default_username_claim() -> String {
    "preferred_username".into()
}
