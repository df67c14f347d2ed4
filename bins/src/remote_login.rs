//! Login over HTTP, for the engine running apart from it (`bk-engine`): bk-auth's
//! [`HttpLoginClient`] answers bk-core's `TokenVerifier` (login's V2 `get_user` by token,
//! answers cached for `login_client.cache_ms`) and, wrapped here, its `UserDirectory`
//! (`get_user` by name under service trust: `X-APP-CODE: esb` and the ESB token, which
//! must be login's).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bk_auth::sdk::HttpLoginClient;
use bk_core::ApiError;
use bk_core::identity::{UserDirectory, UserInfo};
use bk_engine::app::Identity;

use crate::config::LoginClientConfig;

/// Users by name through login's V2 API (not cached: the engine asks only when a
/// member is added).
struct HttpUsers(Arc<HttpLoginClient>);

#[async_trait]
impl UserDirectory for HttpUsers {
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        self.0.get_user(username).await
    }
}

/// Tokens and users from the login service at `cfg.url`, trusted with `esb_token`.
pub fn identity(cfg: &LoginClientConfig, esb_token: &str) -> anyhow::Result<Identity> {
    if cfg.url.trim().is_empty() {
        anyhow::bail!(
            "no login URL: set login_client.url (--login-url, BK_LOGIN_CLIENT__URL), \
             e.g. http://login:8001 for a bk-login"
        );
    }
    let client = Arc::new(
        HttpLoginClient::builder(cfg.url.trim())
            .cache_ttl(Duration::from_millis(cfg.cache_ms))
            .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
            .app_credentials("esb", esb_token)
            .build()
            .map_err(|e| {
                anyhow::anyhow!("login_client.url: {}", e.message(bk_core::lang::Lang::En))
            })?,
    );
    Ok(Identity {
        tokens: client.clone(),
        users: Arc::new(HttpUsers(client)),
    })
}
