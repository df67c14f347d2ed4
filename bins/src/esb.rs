//! The API gateway in `bk up`: the engine answers "whose app secret is this?", login
//! answers `bk_token`s and user look-ups (listing included) in process.

use std::sync::Arc;

use axum::Router;
use bk_auth::service::LoginService;
use bk_core::db::Db;

/// The gateway's routes (`/api/c/…`, admin at `/api/esb/admin/`), observed as `esb`.
pub async fn router(
    db: Db,
    login: Arc<LoginService>,
    engine: Arc<bk_engine::service::EngineService>,
    cookie: &str,
) -> anyhow::Result<Router> {
    let app = bk_esb::app::EsbApp::builder(engine, login.clone(), login.clone())
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
