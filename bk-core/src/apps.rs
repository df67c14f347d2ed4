//! How services other than the engine learn about apps: "who may operate this app?"
//! (console, CLI) and "whose app secret is this?" (the gateway checking `bk_app_code` +
//! `bk_app_secret`).
//!
//! The engine implements [`AppDirectory`] in process (`bk up`); a service running apart
//! from the engine holds an HTTP implementation with a short cache instead.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ApiError;

/// What other services may know about an app. Never its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// The app code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// V6 state code: 0 offline, 1 developing, 3 in test, 4 online, 8 deploying to test,
    /// 9 deploying to prod, 10 going offline.
    pub state: i64,
    /// Usernames of the app's developers, sorted.
    pub developers: Vec<String>,
}

/// Answers questions about apps for other services.
#[async_trait]
pub trait AppDirectory: Send + Sync {
    /// The app with code `code`; `Ok(None)` when there is none.
    async fn app(&self, code: &str) -> Result<Option<AppInfo>, ApiError>;

    /// Whether `secret` is a live secret of app `app_code` (compared in constant time).
    /// `Ok(false)` for unknown apps, so callers cannot tell the two apart.
    async fn verify_secret(&self, app_code: &str, secret: &str) -> Result<bool, ApiError>;

    /// Whether `check` accepts one of the live secrets of `app_code` (the gateway checks an
    /// HMAC signature this way: the secret never leaves the directory). `Ok(false)` for
    /// unknown apps. The default knows no secrets and answers `Ok(false)`.
    async fn any_secret(&self, app_code: &str, check: &SecretCheck<'_>) -> Result<bool, ApiError> {
        let _ = (app_code, check);
        Ok(false)
    }
}

/// A test run on one secret's text by [`AppDirectory::any_secret`].
pub type SecretCheck<'a> = dyn Fn(&str) -> bool + Send + Sync + 'a;
