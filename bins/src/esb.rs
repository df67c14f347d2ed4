//! The API gateway in `bk up`: the engine answers "whose app secret is this?", login
//! answers `bk_token`s and user look-ups in process. [`LoginUsers`] adds listing users,
//! which bk-core's `UserDirectory` leaves optional, over the login service's own methods.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use bk_auth::service::LoginService;
use bk_core::ApiError;
use bk_core::db::Db;
use bk_core::identity::{UserDirectory, UserInfo};
use bk_core::types::Role;

/// Login as the gateway's user directory.
pub struct LoginUsers(pub Arc<LoginService>);

#[async_trait]
impl UserDirectory for LoginUsers {
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        UserDirectory::get_user(&*self.0, username).await
    }

    async fn all_users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, ApiError> {
        Ok(self
            .0
            .all_users(role)
            .await?
            .iter()
            .map(|u| u.info())
            .collect())
    }

    async fn batch_users(&self, names: &[String]) -> Result<Vec<UserInfo>, ApiError> {
        Ok(self
            .0
            .batch_users(names)
            .await?
            .iter()
            .map(|u| u.info())
            .collect())
    }
}

/// The gateway's routes (`/api/c/…`, admin at `/api/esb/admin/`), observed as `esb`.
pub async fn router(
    db: Db,
    login: Arc<LoginService>,
    engine: Arc<bk_engine::service::EngineService>,
    cookie: &str,
) -> anyhow::Result<Router> {
    let app = bk_esb::app::EsbApp::builder(engine, login.clone(), Arc::new(LoginUsers(login)))
        .db(db)
        .cookie_name(cookie)
        .build()
        .await?;
    Ok(app
        .router
        .layer(bk_core::http::observe::ObserveLayer::new(bk_esb::SERVICE)))
}

/// Apply the gateway's migrations.
pub async fn migrate(db: Db) -> anyhow::Result<Vec<i64>> {
    let store = bk_esb::store::sql::SqlStore::new(db, bk_core::clock::system());
    Ok(store.migrate(&bk_core::clock::SystemClock).await?.versions)
}
