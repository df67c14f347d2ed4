//! A tiny SaaS app that requires a BK login, built on the `bk-auth` SDK alone.
//!
//! ```text
//! BK_LOGIN_URL=http://127.0.0.1:8001/login/ PORT=5000 cargo run -p bk-auth --example saas
//! ```
//!
//! `GET /` greets the user, `GET /api/me` returns them as JSON, `GET /healthz/` is open.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::response::Html;
use axum::routing::get;
use bk_auth::sdk::{CurrentUser, HttpLoginClient, LoginLayer};
use bk_core::identity::{TokenVerifier, UserInfo};

/// The app: every route requires a login except the health check.
pub fn app(verifier: Arc<dyn TokenVerifier>, login_url: String) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/me", get(me))
        .route("/healthz/", get(|| async { "ok" }))
        .layer(LoginLayer::new(verifier, login_url))
}

async fn index(CurrentUser(user): CurrentUser) -> Html<String> {
    let name = if user.chname.is_empty() {
        &user.username
    } else {
        &user.chname
    };
    Html(format!(
        "<!doctype html><title>Hello</title><h1>Hello, {}!</h1>",
        escape_html(name)
    ))
}

async fn me(CurrentUser(user): CurrentUser) -> Json<UserInfo> {
    Json(user)
}

/// User-supplied text in HTML.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let login = std::env::var("BK_LOGIN_URL")
        .map_err(|_| "set BK_LOGIN_URL to the login service, e.g. http://127.0.0.1:8001/login/")?;
    let port: u16 = std::env::var("PORT")
        .unwrap_or_else(|_| "5000".into())
        .parse()?;
    let client = HttpLoginClient::builder(login).build()?;
    let login_page = client.login_page_url();
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port)).await?;
    axum::serve(listener, app(Arc::new(client), login_page)).await?;
    Ok(())
}
