//! Login through an upstream OpenID Connect provider: authorization code with PKCE (S256).
//!
//! Endpoints come from discovery (`<issuer>/.well-known/openid-configuration`), fetched on
//! first use and cached; a failed fetch is not cached, and a transport failure against a
//! cached endpoint drops the cache so the next login fetches it again.
//!
//! The user is described by the userinfo endpoint. The ID token returned with the access
//! token is checked for issuer, audience, nonce and subject but its signature is not: it
//! comes straight from the token endpoint over our own connection, where OIDC Core
//! §3.1.3.7 allows server authentication (TLS) to stand in for the signature.
//!
//! Error texts reach the login page: they say what failed and never carry tokens, codes
//! or the client secret. The full cause goes to the log.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bk_core::crypto::{constant_time_eq, random_token};
use bk_core::types::Username;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ExternalIdentity, IdentityProvider, ProviderFlow, RedirectStart};
use crate::config::OidcProviderConfig;
use crate::error::{AuthError, Result};
use crate::store::PendingLogin;

/// The `id_token` field OIDC adds to the OAuth2 token response.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct IdTokenField {
    #[serde(default)]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type TokenResp = StandardTokenResponse<IdTokenField, BasicTokenType>;

type OauthClient = oauth2::Client<
    BasicErrorResponse,
    TokenResp,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What discovery tells us (the fields we use).
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    #[serde(default)]
    userinfo_endpoint: Option<String>,
}

#[derive(Debug)]
struct Endpoints {
    auth: AuthUrl,
    token: TokenUrl,
    userinfo: url::Url,
}

/// The ID token claims we check.
#[derive(Debug, Deserialize)]
struct IdClaims {
    iss: String,
    sub: String,
    aud: Audience,
    #[serde(default)]
    nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, client_id: &str) -> bool {
        match self {
            Audience::One(a) => a == client_id,
            Audience::Many(v) => v.iter().any(|a| a == client_id),
        }
    }
}

/// An upstream OpenID Connect provider (redirect flow).
pub struct OidcProvider {
    cfg: OidcProviderConfig,
    http: reqwest::Client,
    endpoints: Mutex<Option<Arc<Endpoints>>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so the client secret never reaches a log line.
        f.debug_struct("OidcProvider")
            .field("id", &self.cfg.id)
            .field("issuer", &self.cfg.issuer)
            .field("client_id", &self.cfg.client_id)
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// A provider talking to the upstream through `http`. The client must not follow
    /// redirects (see [`OidcProvider::http_client`]); share one client between providers.
    pub fn new(cfg: OidcProviderConfig, http: reqwest::Client) -> Self {
        Self {
            cfg,
            http,
            endpoints: Mutex::new(None),
        }
    }

    /// An HTTP client fit for talking to identity providers: no redirects (they would let
    /// an upstream steer our requests elsewhere), bounded connect and request times.
    pub fn http_client() -> Result<reqwest::Client> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| {
                AuthError::Internal(format!("building the identity provider HTTP client: {e}"))
            })
    }

    fn issuer(&self) -> &str {
        self.cfg.issuer.trim_end_matches('/')
    }

    fn cached(&self) -> Option<Arc<Endpoints>> {
        self.endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn forget_endpoints(&self) {
        *self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    async fn endpoints(&self) -> Result<Arc<Endpoints>> {
        if let Some(e) = self.cached() {
            return Ok(e);
        }
        let fetched = Arc::new(self.discover().await?);
        *self
            .endpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(fetched.clone());
        Ok(fetched)
    }

    async fn discover(&self) -> Result<Endpoints> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer());
        let unreachable = |e: &dyn std::fmt::Display| {
            tracing::warn!(provider = %self.cfg.id, error = %e, "OIDC discovery failed");
            AuthError::Provider(format!(
                "{} is unreachable or misconfigured (discovery failed)",
                self.cfg.display_name
            ))
        };
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !resp.status().is_success() {
            return Err(unreachable(&format!(
                "discovery answered HTTP {}",
                resp.status()
            )));
        }
        let doc: Discovery = resp.json().await.map_err(|e| unreachable(&e))?;
        if doc.issuer.trim_end_matches('/') != self.issuer() {
            // A provider must announce the issuer we configured (OIDC Discovery §4.3).
            return Err(unreachable(&format!(
                "discovery names issuer {:?}, configured {:?}",
                doc.issuer,
                self.issuer()
            )));
        }
        let userinfo = doc
            .userinfo_endpoint
            .ok_or_else(|| unreachable(&"discovery document has no userinfo_endpoint"))?;
        Ok(Endpoints {
            auth: AuthUrl::new(doc.authorization_endpoint).map_err(|e| unreachable(&e))?,
            token: TokenUrl::new(doc.token_endpoint).map_err(|e| unreachable(&e))?,
            userinfo: url::Url::parse(&userinfo).map_err(|e| unreachable(&e))?,
        })
    }

    fn client(&self, eps: &Endpoints) -> OauthClient {
        let client = oauth2::Client::new(ClientId::new(self.cfg.client_id.clone()))
            .set_auth_uri(eps.auth.clone())
            .set_token_uri(eps.token.clone());
        if self.cfg.client_secret.is_empty() {
            client
        } else {
            client.set_client_secret(ClientSecret::new(self.cfg.client_secret.clone()))
        }
    }

    fn token_error(
        &self,
        e: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
    ) -> AuthError {
        match e {
            RequestTokenError::ServerResponse(r) => {
                tracing::info!(provider = %self.cfg.id, error = %r.error(), "OIDC provider refused the code");
                AuthError::Provider(format!(
                    "{} refused the login ({})",
                    self.cfg.display_name,
                    r.error()
                ))
            }
            RequestTokenError::Request(err) => {
                tracing::warn!(provider = %self.cfg.id, error = %err, "OIDC token endpoint unreachable");
                self.forget_endpoints();
                AuthError::Provider(format!(
                    "{} is unreachable (token endpoint)",
                    self.cfg.display_name
                ))
            }
            other => {
                // Parse errors carry the raw body (which may hold tokens): log the kind only.
                let kind = match &other {
                    RequestTokenError::Parse(err, _) => err.to_string(),
                    _ => other.to_string(),
                };
                tracing::warn!(provider = %self.cfg.id, error = %kind, "OIDC token endpoint answered unexpectedly");
                AuthError::Provider(format!(
                    "{} answered the token request unexpectedly",
                    self.cfg.display_name
                ))
            }
        }
    }

    /// Check the ID token's claims against this login and return its subject.
    fn check_id_token(&self, id_token: &str, nonce: &str) -> Result<String> {
        let bad = |why: &str| {
            tracing::warn!(provider = %self.cfg.id, why, "OIDC ID token rejected");
            AuthError::Provider(format!(
                "{} returned an ID token that does not match this login ({why})",
                self.cfg.display_name
            ))
        };
        let payload = id_token.split('.').nth(1).ok_or_else(|| bad("not a JWT"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|_| bad("not a JWT"))?;
        let claims: IdClaims = serde_json::from_slice(&bytes).map_err(|_| bad("claims missing"))?;
        if claims.iss.trim_end_matches('/') != self.issuer() {
            return Err(bad("issuer"));
        }
        if !claims.aud.contains(&self.cfg.client_id) {
            return Err(bad("audience"));
        }
        match claims.nonce {
            Some(n) if constant_time_eq(n.as_bytes(), nonce.as_bytes()) => Ok(claims.sub),
            _ => Err(bad("nonce")),
        }
    }

    async fn userinfo(&self, eps: &Endpoints, access_token: &str) -> Result<Map<String, Value>> {
        let failed = |e: &dyn std::fmt::Display| {
            tracing::warn!(provider = %self.cfg.id, error = %e, "OIDC userinfo failed");
            AuthError::Provider(format!(
                "{} did not describe the user (userinfo failed)",
                self.cfg.display_name
            ))
        };
        let resp = self
            .http
            .get(eps.userinfo.clone())
            .bearer_auth(access_token)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                self.forget_endpoints();
                failed(&e)
            })?;
        if !resp.status().is_success() {
            return Err(failed(&format!("HTTP {}", resp.status())));
        }
        resp.json().await.map_err(|e| failed(&e))
    }

    fn identity(&self, claims: &Map<String, Value>) -> Result<ExternalIdentity> {
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(ExternalIdentity {
            provider: self.cfg.id.clone(),
            subject: text("sub"),
            username: username_from(claims, &self.cfg.username_claim)?,
            chname: text("name"),
            email: text("email"),
            phone: text("phone_number"),
            default_role: self.cfg.default_role,
        })
    }
}

/// The username carried by `claim`: the value itself when it is a valid username, or the
/// local part of an e-mail address when that is.
fn username_from(claims: &Map<String, Value>, claim: &str) -> Result<String> {
    let value = claims
        .get(claim)
        .and_then(Value::as_str)
        .unwrap_or_default();
    let candidate = match Username::parse(value) {
        Ok(u) => Some(u),
        Err(_) => value
            .split_once('@')
            .and_then(|(local, _)| Username::parse(local).ok()),
    };
    candidate.map(Username::into_string).ok_or_else(|| {
        AuthError::Provider(format!("claim {claim} missing or not a valid username"))
    })
}

fn internal<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> AuthError {
    move |e| AuthError::Internal(format!("{what}: {e}"))
}

#[async_trait]
impl IdentityProvider for OidcProvider {
    fn id(&self) -> &str {
        &self.cfg.id
    }

    fn display_name(&self) -> &str {
        &self.cfg.display_name
    }

    fn flow(&self) -> ProviderFlow {
        ProviderFlow::Redirect
    }

    async fn start(&self, redirect_uri: &str) -> Result<RedirectStart> {
        let eps = self.endpoints().await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| AuthError::Internal(format!("OIDC redirect_uri {redirect_uri:?}: {e}")))?;
        let state = random_token(32).map_err(internal("OIDC state"))?;
        let nonce = random_token(32).map_err(internal("OIDC nonce"))?;
        // 32 random bytes give a 43-character verifier, the minimum RFC 7636 allows.
        let verifier = random_token(32).map_err(internal("PKCE verifier"))?;
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.clone()));
        let scopes = self
            .cfg
            .scopes
            .iter()
            .filter(|s| s.as_str() != "openid")
            .map(|s| Scope::new(s.clone()));
        let client = self.client(&eps);
        let (url, _) = client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .add_scope(Scope::new("openid".into()))
            .add_scopes(scopes)
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(redirect))
            .add_extra_param("nonce", nonce.clone())
            .url();
        Ok(RedirectStart {
            authorize_url: url.into(),
            state,
            pkce_verifier: verifier,
            nonce,
        })
    }

    async fn finish(
        &self,
        code: &str,
        pending: &PendingLogin,
        redirect_uri: &str,
    ) -> Result<ExternalIdentity> {
        if pending.provider != self.cfg.id {
            return Err(AuthError::Provider(
                "this login was started with another identity provider".into(),
            ));
        }
        let eps = self.endpoints().await?;
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|e| AuthError::Internal(format!("OIDC redirect_uri {redirect_uri:?}: {e}")))?;
        let token = self
            .client(&eps)
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .set_redirect_uri(Cow::Owned(redirect))
            .request_async(&self.http)
            .await
            .map_err(|e| self.token_error(e))?;
        let id_token = token.extra_fields().id_token.as_deref().ok_or_else(|| {
            AuthError::Provider(format!(
                "{} returned no ID token (is the `openid` scope allowed?)",
                self.cfg.display_name
            ))
        })?;
        let subject = self.check_id_token(id_token, &pending.nonce)?;
        let claims = self.userinfo(&eps, token.access_token().secret()).await?;
        if claims.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
            // OIDC Core §5.3.2: userinfo must describe the subject of the ID token.
            return Err(AuthError::Provider(format!(
                "{} described a different user than it logged in",
                self.cfg.display_name
            )));
        }
        self.identity(&claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn provider() -> OidcProvider {
        let cfg = OidcProviderConfig {
            id: "corp".into(),
            display_name: "Corp SSO".into(),
            issuer: "https://sso.example.com/".into(),
            client_id: "bk".into(),
            client_secret: "s3cret".into(),
            scopes: vec![],
            username_claim: "preferred_username".into(),
            default_role: bk_core::types::Role::Developer,
        };
        OidcProvider::new(cfg, reqwest::Client::new())
    }

    fn jwt(payload: Value) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload.to_string()))
    }

    #[test]
    fn username_from_claim_or_email_local_part() {
        let c = claims(
            json!({"preferred_username": "alice", "email": "bob.smith@example.com", "sub": "x"}),
        );
        assert_eq!(username_from(&c, "preferred_username").unwrap(), "alice");
        assert_eq!(username_from(&c, "email").unwrap(), "bob.smith");
        let err = username_from(&c, "sub").unwrap_err();
        assert_eq!(
            err.to_string(),
            "identity provider: claim sub missing or not a valid username"
        );
        assert!(username_from(&c, "nickname").is_err());
        let c = claims(json!({"email": "a@example.com"}));
        assert!(username_from(&c, "email").is_err(), "local part too short");
    }

    #[test]
    fn identity_maps_claims() {
        let c = claims(
            json!({"sub": "u-1", "preferred_username": "carol", "name": "Carol", "email": "c@x.io", "phone_number": "123"}),
        );
        let id = provider().identity(&c).unwrap();
        assert_eq!(id.provider, "corp");
        assert_eq!(id.subject, "u-1");
        assert_eq!(id.username, "carol");
        assert_eq!(id.chname, "Carol");
        assert_eq!(id.phone, "123");
        assert_eq!(id.default_role, bk_core::types::Role::Developer);
    }

    #[test]
    fn id_token_checks() {
        let p = provider();
        let good = json!({"iss": "https://sso.example.com", "sub": "u-1", "aud": ["bk", "other"], "nonce": "n1"});
        assert_eq!(p.check_id_token(&jwt(good.clone()), "n1").unwrap(), "u-1");
        assert!(p.check_id_token(&jwt(good), "n2").is_err());
        let wrong_aud =
            json!({"iss": "https://sso.example.com", "sub": "u", "aud": "x", "nonce": "n1"});
        assert!(p.check_id_token(&jwt(wrong_aud), "n1").is_err());
        let wrong_iss =
            json!({"iss": "https://evil.example.com", "sub": "u", "aud": "bk", "nonce": "n1"});
        assert!(p.check_id_token(&jwt(wrong_iss), "n1").is_err());
        assert!(p.check_id_token("garbage", "n1").is_err());
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", provider()).contains("s3cret"));
    }
}
