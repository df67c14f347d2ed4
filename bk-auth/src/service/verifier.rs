//! The service as bk-core's [`TokenVerifier`] and [`UserDirectory`]: other services and
//! embedding apps in the same process check `bk_token`s without HTTP, through the same
//! trait the SDK's `HttpLoginClient` implements across processes.

use async_trait::async_trait;
use bk_core::ApiError;
use bk_core::identity::{TokenVerifier, UserDirectory, UserInfo};
use bk_core::types::Role;

use super::LoginService;

#[async_trait]
impl TokenVerifier for LoginService {
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.user_of_token(bk_token).await?.map(|u| u.info()))
    }
}

#[async_trait]
impl UserDirectory for LoginService {
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.find_user(username).await?.map(|u| u.info()))
    }

    async fn all_users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, ApiError> {
        Ok(LoginService::all_users(self, role)
            .await?
            .iter()
            .map(|u| u.info())
            .collect())
    }

    async fn batch_users(&self, names: &[String]) -> Result<Vec<UserInfo>, ApiError> {
        Ok(LoginService::batch_users(self, names)
            .await?
            .iter()
            .map(|u| u.info())
            .collect())
    }
}
