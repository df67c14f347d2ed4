//! The V6 appengine's view of the service: the platform (not a user) creates apps, trusted
//! by `X-APP-CODE` + `X-APP-TOKEN` (the platform's service token).

use bk_core::crypto;
use serde::Deserialize;
use utoipa::ToSchema;

use super::EngineService;
use super::access::Caller;
use super::apps::{CreateApp, CreatedApp};
use crate::error::{EngineError, Result};

/// `POST /v1/apps/` body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct V6CreateApp {
    /// App code.
    pub app_code: String,
    /// App name.
    pub name: String,
    /// Language (`python`, `java`, `go`, `nodejs`, `php`...).
    #[serde(default)]
    pub app_lang: Option<String>,
    /// The user who becomes the first developer (default: the configured
    /// `v6_default_creator`).
    #[serde(default)]
    pub creator: Option<String>,
}

impl EngineService {
    /// Whether `X-APP-CODE` / `X-APP-TOKEN` are the platform's service credentials.
    pub fn is_trusted_service(&self, app_code: Option<&str>, token: Option<&str>) -> bool {
        match (app_code, token, &self.service_token_hash) {
            (Some(code), Some(token), Some(expected)) if code == self.cfg.service_app_code => {
                crypto::constant_time_eq(
                    crypto::sha256_hex(token.as_bytes()).as_bytes(),
                    expected.as_bytes(),
                )
            }
            _ => false,
        }
    }

    /// Create an app for the platform (V6 `POST /v1/apps/`). The caller must have been
    /// checked with [`EngineService::is_trusted_service`].
    pub async fn create_app_v6(&self, address: &str, input: V6CreateApp) -> Result<CreatedApp> {
        let creator = input
            .creator
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.cfg.v6_default_creator.clone());
        if creator.is_empty() {
            return Err(EngineError::Invalid(
                "creator: required (no engine.v6_default_creator is configured)".into(),
            ));
        }
        let who = Caller::service(&self.cfg.service_app_code, address);
        self.create_app_for(
            &who,
            &creator,
            CreateApp {
                code: input.app_code,
                name: input.name,
                language: input.app_lang,
                description: None,
            },
        )
        .await
    }
}
