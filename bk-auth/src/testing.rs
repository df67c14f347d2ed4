//! Test support (feature `test-utils`): a real login service on 127.0.0.1:0 over a fresh
//! SQLite database, and a helper that logs in through the real form.

use std::net::SocketAddr;
use std::sync::Arc;

use bk_core::clock::Clock;
use bk_core::db::{Db, DbOptions};

use crate::config::{Argon2Config, LoginConfig};
use crate::service::LoginService;

/// The admin password of spawned services.
pub const ADMIN_PASSWORD: &str = "Root-Passw0rd!";
/// The service-trust token of spawned services.
pub const ESB_TOKEN: &str = "test-esb-token-0123456789";

/// A running login service.
pub struct TestLogin {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The service, for direct calls.
    pub service: Arc<LoginService>,
    /// The address bound.
    pub addr: SocketAddr,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestLogin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Cheap argon2 so tests do not spend their time hashing.
pub fn test_config() -> LoginConfig {
    LoginConfig {
        argon2: Argon2Config {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 4,
        },
        ..LoginConfig::default()
    }
}

/// Spawn with [`test_config`] and the system clock.
pub async fn spawn_login() -> TestLogin {
    spawn_login_with(test_config(), bk_core::clock::system()).await
}

/// Spawn with a given config and clock. Panics on failure: for tests only.
#[allow(clippy::expect_used)]
pub async fn spawn_login_with(cfg: LoginConfig, clock: Arc<dyn Clock>) -> TestLogin {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("login.db").display());
    let db = Db::connect(&url, &DbOptions::default())
        .await
        .expect("open sqlite");
    spawn_on(db, cfg, clock, dir).await
}

/// Spawn over an existing database.
#[allow(clippy::expect_used)]
pub async fn spawn_on(
    db: Db,
    cfg: LoginConfig,
    clock: Arc<dyn Clock>,
    dir: tempfile::TempDir,
) -> TestLogin {
    let opened = crate::app::LoginApp::builder(db)
        .config(cfg)
        .clock(clock)
        .admin_password(ADMIN_PASSWORD)
        .esb_token(ESB_TOKEN)
        .build()
        .await
        .expect("open login service");
    let mount = opened.mount.clone();
    let app = crate::http::also_unprefixed(
        bk_core::http::stack::wrap(
            opened.router.merge(bk_core::http::stack::ops_routes()),
            crate::SERVICE,
        ),
        &mount,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    TestLogin {
        base_url: format!("http://{addr}"),
        service: opened.service,
        addr,
        _dir: dir,
        task,
    }
}

impl TestLogin {
    /// Log in through the real form (GET for the CSRF cookie, then POST); returns the
    /// `bk_token`, or `None` when the login was refused.
    #[allow(clippy::expect_used)]
    pub async fn login(&self, username: &str, password: &str) -> Option<String> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let page = http
            .get(format!("{}/login/", self.base_url))
            .send()
            .await
            .expect("GET /login/");
        let csrf = cookie(&page, "bk_csrftoken").expect("csrf cookie");
        let resp = http
            .post(format!("{}/login/", self.base_url))
            .header("cookie", format!("bk_csrftoken={csrf}"))
            .form(&[
                ("username", username),
                ("password", password),
                ("c_url", "/console/"),
                ("csrfmiddlewaretoken", &csrf),
            ])
            .send()
            .await
            .expect("POST /login/");
        cookie(&resp, "bk_token")
    }
}

/// The value of cookie `name` set by a response.
pub fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}
