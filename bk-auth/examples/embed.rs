//! A host application embedding the BK login: its own page at `/`, the login mounted at
//! `/auth/`, a company directory as an extra identity provider beside the local users, and
//! a page at `/app/` that only logged-in users see.
//!
//! ```text
//! BK_ADMIN_PASSWORD='Change-me-42' cargo run --release -p bk-auth --example embed
//! # open http://127.0.0.1:8080/app/ ; sign in as admin, or as demo / demo-password
//! ```
//!
//! `LISTEN` (default `127.0.0.1:8080`) is the address; `DATABASE_URL` (default
//! `sqlite://embed.db`) the storage. The bound address is printed on stdout.

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use bk_auth::app::LoginApp;
use bk_auth::error::{AuthError, Result};
use bk_auth::idp::{Authenticated, ExternalIdentity, IdentityProvider, ProviderFlow};
use bk_auth::sdk::CurrentUser;
use bk_core::db::{Db, DbOptions};
use bk_core::types::Role;

/// A tiny "company directory": one fixed user with a fixed password. A real one would
/// ask LDAP or an HR system; the login service creates the account at first login and
/// links it to (`demo`, subject).
struct DemoDirectory;

#[async_trait]
impl IdentityProvider for DemoDirectory {
    fn id(&self) -> &str {
        "demo"
    }
    fn display_name(&self) -> &str {
        "Demo directory"
    }
    fn flow(&self) -> ProviderFlow {
        ProviderFlow::Password
    }
    async fn authenticate(&self, username: &str, password: &str) -> Result<Authenticated> {
        // A demo: a real directory compares secrets in constant time, at its own end.
        if username != "demo" || password != "demo-password" {
            return Err(AuthError::BadCredentials);
        }
        Ok(Authenticated::External(ExternalIdentity {
            provider: "demo".into(),
            subject: "uid-0001".into(),
            issuer: "demo-directory".into(),
            username: "demo".into(),
            chname: "Demo User".into(),
            email: "demo@example.com".into(),
            phone: String::new(),
            default_role: Role::Developer,
        }))
    }
}

/// The host app around a built login: `/` and `/app/` are the host's, `/auth/...` is
/// the login's.
pub fn host_app(login: &LoginApp) -> Router {
    let guarded = Router::new()
        .route("/app/", get(app_page))
        // `route_layer`: only the routes above require a login; the host's other paths
        // and its 404s stay as they are.
        .route_layer(login.layer());
    Router::new()
        .route("/", get(home))
        .merge(guarded)
        .merge(login.router.clone())
}

async fn home() -> Html<&'static str> {
    Html(
        "<!doctype html><title>Host</title><h1>The host app</h1>\
         <p><a href=\"/app/\">Open the app</a> (asks you to sign in at /auth/)</p>",
    )
}

async fn app_page(CurrentUser(user): CurrentUser) -> Html<String> {
    let name: String = user
        .username
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect();
    Html(format!(
        "<!doctype html><title>App</title><h1>Hello, {name}!</h1>\
         <p><a href=\"/auth/logout/\">Sign out</a></p>"
    ))
}

#[tokio::main]
async fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://embed.db".into());
    let db = Db::connect(&url, &DbOptions::default()).await?;
    let mut builder = LoginApp::builder(db)
        .identity_provider(Arc::new(DemoDirectory))
        .prefix("/auth");
    if let Ok(pw) = std::env::var("BK_ADMIN_PASSWORD") {
        builder = builder.admin_password(pw);
    }
    let login = builder.build().await?;
    if let Some(pw) = &login.generated_admin_password {
        eprintln!("user `admin` was created with password: {pw}");
    }
    let app = host_app(&login);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    LoginApp::serve(listener, app).await?;
    Ok(())
}
