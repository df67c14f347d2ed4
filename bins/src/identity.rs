//! Login seen through bk-core's identity traits, in process: how `bk up` lets the engine
//! resolve `bk_token`s and check usernames without HTTP.

use std::sync::Arc;

use async_trait::async_trait;
use bk_auth::service::LoginService;
use bk_core::ApiError;
use bk_core::identity::{TokenVerifier, UserDirectory, UserInfo};

/// The login service as a [`TokenVerifier`] and a [`UserDirectory`].
#[derive(Clone)]
pub struct InProcessLogin(pub Arc<LoginService>);

#[async_trait]
impl TokenVerifier for InProcessLogin {
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.0.user_of_token(bk_token).await?.map(|u| u.info()))
    }
}

#[async_trait]
impl UserDirectory for InProcessLogin {
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.0.find_user(username).await?.map(|u| u.info()))
    }
}
