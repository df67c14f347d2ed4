//! Login through an upstream OpenID Connect provider: authorization code with PKCE (S256).
//!
//! Endpoints come from discovery (`<issuer>/.well-known/openid-configuration`), fetched on
//! first use and cached; a failed fetch is not cached, and a transport failure against a
//! cached endpoint drops the cache so the next login fetches it again. The issuer and
//! every endpoint must be https (plain http only on loopback, for tests).
//!
//! The ID token's signature is verified against the provider's key set (`jwks_uri`),
//! cached and fetched again once when a token names a key it does not hold (rotation);
//! then issuer, audience, expiry and nonce ([`id_token`]). The user is described by the
//! userinfo endpoint, which must describe the token's subject ([`claims`]).
//!
//! Error texts reach the login page: they say what failed and never carry tokens, codes
//! or the client secret. The full cause goes to the log.

mod claims;
mod discovery;
mod id_token;
mod keys;

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bk_core::clock::Clock;
use bk_core::crypto::random_token;
use jsonwebtoken::jwk::Jwk;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use self::discovery::Endpoints;
use super::{ExternalIdentity, IdentityProvider, ProviderFlow, RedirectStart};
use crate::config::{OidcProviderConfig, check_issuer};
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

/// An upstream OpenID Connect provider (redirect flow).
pub struct OidcProvider {
    cfg: OidcProviderConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    endpoints: Mutex<Option<Arc<Endpoints>>>,
    keys: Mutex<Option<Arc<Vec<Jwk>>>>,
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
    /// Check the configuration first ([`OidcProviderConfig::validate`]): a provider whose
    /// issuer is not https refuses every login.
    pub fn new(cfg: OidcProviderConfig, http: reqwest::Client) -> Self {
        Self {
            cfg,
            http,
            clock: bk_core::clock::system(),
            endpoints: Mutex::new(None),
            keys: Mutex::new(None),
        }
    }

    /// Judge token expiry by `clock` (the service's) instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
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
        let unreachable = |e: &dyn std::fmt::Display| {
            tracing::warn!(provider = %self.cfg.id, error = %e, "OIDC discovery failed");
            AuthError::Provider(format!(
                "{} is unreachable or misconfigured (discovery failed)",
                self.cfg.display_name
            ))
        };
        // Checked at start-up too; repeated here for providers composed by hand.
        check_issuer(self.issuer()).map_err(|e| unreachable(&e))?;
        let url = format!("{}/.well-known/openid-configuration", self.issuer());
        let body = self.get_ok(&url).await.map_err(|e| unreachable(&e))?;
        discovery::parse(&body, self.issuer()).map_err(|e| unreachable(&e))
    }

    /// GET `url` and the body of a 2xx answer.
    async fn get_ok(&self, url: &str) -> std::result::Result<Vec<u8>, String> {
        let resp = self
            .http
            .get(url)
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{url} answered HTTP {}", resp.status()));
        }
        Ok(resp.bytes().await.map_err(|e| e.to_string())?.to_vec())
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
            issuer: self.issuer().to_owned(),
            username: claims::username_from(
                claims,
                &self.cfg.username_claim,
                &self.cfg.allowed_email_domains,
            )?,
            chname: text("name"),
            email: text("email"),
            phone: text("phone_number"),
            default_role: self.cfg.default_role,
        })
    }
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
        let subject = self.verify_id_token(&eps, id_token, &pending.nonce).await?;
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

    fn provider() -> OidcProvider {
        let cfg = OidcProviderConfig {
            id: "corp".into(),
            display_name: "Corp SSO".into(),
            issuer: "https://sso.example.com/".into(),
            client_id: "bk".into(),
            client_secret: "s3cret".into(),
            scopes: vec![],
            username_claim: "preferred_username".into(),
            allowed_email_domains: vec![],
            default_role: bk_core::types::Role::Developer,
        };
        OidcProvider::new(cfg, reqwest::Client::new())
    }

    #[test]
    fn identity_maps_claims() {
        let c = json!({"sub": "u-1", "preferred_username": "carol", "name": "Carol", "email": "c@x.io", "phone_number": "123"});
        let id = provider().identity(c.as_object().unwrap()).unwrap();
        assert_eq!(id.provider, "corp");
        assert_eq!(id.subject, "u-1");
        assert_eq!(id.issuer, "https://sso.example.com");
        assert_eq!(id.username, "carol");
        assert_eq!(id.chname, "Carol");
        assert_eq!(id.phone, "123");
        assert_eq!(id.default_role, bk_core::types::Role::Developer);
    }

    #[test]
    fn debug_hides_the_secret() {
        assert!(!format!("{:?}", provider()).contains("s3cret"));
    }

    #[tokio::test]
    async fn a_plain_http_issuer_is_refused_before_any_request() {
        let mut p = provider();
        p.cfg.issuer = "http://sso.example.com".into();
        let err = p.start("https://paas.example.com/cb").await.unwrap_err();
        assert!(matches!(err, AuthError::Provider(_)), "{err:?}");
    }
}
