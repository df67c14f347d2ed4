//! The engine as the platform's [`AppDirectory`]: in-process answers for the console and
//! the gateway.

use async_trait::async_trait;
use bk_core::ApiError;
use bk_core::apps::{AppDirectory, AppInfo};

use super::EngineService;
use super::access::existing_code;
use crate::model::MemberRole;

#[async_trait]
impl AppDirectory for EngineService {
    async fn app(&self, code: &str) -> Result<Option<AppInfo>, ApiError> {
        let Ok(code) = existing_code(code) else {
            return Ok(None);
        };
        let Some(app) = self.stores.apps.get(code.as_str()).await? else {
            return Ok(None);
        };
        let developers = self
            .stores
            .members
            .members(code.as_str())
            .await?
            .into_iter()
            .filter(|m| m.role == MemberRole::Developer)
            .map(|m| m.username)
            .collect();
        Ok(Some(AppInfo {
            code: app.code.as_str().to_owned(),
            name: app.name.as_str().to_owned(),
            state: i64::from(app.state.code()),
            developers,
        }))
    }

    async fn verify_secret(&self, app_code: &str, secret: &str) -> Result<bool, ApiError> {
        Ok(self.verify_app_secret(app_code, secret).await?)
    }

    async fn any_secret(
        &self,
        app_code: &str,
        check: &bk_core::apps::SecretCheck<'_>,
    ) -> Result<bool, ApiError> {
        Ok(self.any_live_secret(app_code, check).await?)
    }
}
