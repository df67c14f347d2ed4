//! Composition of the stock login service over SQL storage: migrate, build the identity
//! providers from config, create the first admin. Binaries and tests call [`open`].

use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::db::Db;

use crate::config::LoginConfig;
use crate::error::{AuthError, Result};
use crate::idp::IdentityProvider;
use crate::idp::oidc::OidcProvider;
use crate::service::{LoginService, Stores};
use crate::store::sql::SqlStore;

/// What [`open`] produced.
pub struct Opened {
    /// The service.
    pub service: Arc<LoginService>,
    /// The admin's password when `admin` was created now without `BK_ADMIN_PASSWORD`
    /// (print it once), else `None`.
    pub generated_admin_password: Option<String>,
}

/// Migrate `db`, compose the service, make sure `admin` exists.
pub async fn open(
    db: Db,
    cfg: LoginConfig,
    clock: Arc<dyn Clock>,
    admin_password: Option<&str>,
    esb_token: Option<&str>,
) -> Result<Opened> {
    let store = Arc::new(SqlStore::new(db));
    store.migrate(clock.as_ref()).await?;
    let http = OidcProvider::http_client()?;
    let mut seen = std::collections::HashSet::new();
    let mut providers: Vec<Arc<dyn IdentityProvider>> = Vec::new();
    for p in &cfg.oidc {
        if p.id == crate::idp::local::LOCAL || !seen.insert(p.id.clone()) {
            return Err(AuthError::Invalid(format!(
                "login.oidc: provider id {:?} is used twice or reserved",
                p.id
            )));
        }
        p.validate().map_err(AuthError::Invalid)?;
        providers.push(Arc::new(
            OidcProvider::new(p.clone(), http.clone()).with_clock(clock.clone()),
        ));
    }
    let service = Arc::new(LoginService::new(
        cfg,
        Stores::all(store),
        clock,
        providers,
        esb_token,
    )?);
    let user_given = admin_password.filter(|p| !p.is_empty());
    let created = service.ensure_admin(user_given).await?;
    Ok(Opened {
        service,
        generated_admin_password: created.filter(|_| user_given.is_none()),
    })
}
