//! A gateway on 127.0.0.1:0 with in-memory apps and users.

use std::sync::Arc;

use async_trait::async_trait;
use bk_core::db::Dialect;
use bk_core::db::testing::{TestDb, fresh};
use bk_core::http::stack;
use bk_core::types::Role;
use bk_esb::app::EsbApp;
use bk_esb::component::{Call, Component, Reply};
use bk_esb::model::{Channel, ChannelKind, PermLevel};
use bk_esb::store::Stores;
use bk_esb::testing::{MemoryApps, MemoryUsers};
use serde_json::{Value, json};

pub const SECRET: &str = "demo-secret-0123456789";

pub struct Env {
    pub base: String,
    pub stores: Stores,
    pub app: EsbApp,
    pub http: reqwest::Client,
    _db: TestDb,
}

/// A compiled component that echoes what the gateway gave it.
pub struct Echo;

#[async_trait]
impl Component for Echo {
    async fn call(&self, call: &Call) -> bk_esb::error::Result<Reply> {
        Ok(Reply::Data(json!({
            "app": call.app_code,
            "user": call.user.as_ref().map(|u| u.username.clone()),
            "params": call.params,
        })))
    }
}

pub fn echo_channel(path: &str, name: &str, perm: PermLevel, need_user: bool) -> Channel {
    Channel {
        system: "DEMO".into(),
        name: name.into(),
        label: "echo".into(),
        path: path.into(),
        method: String::new(),
        component_codename: format!("demo.{name}"),
        is_active: true,
        timeout_time: None,
        kind: ChannelKind::Query,
        comp_conf: Value::Null,
        perm_level: perm,
        is_hidden: false,
        need_user,
    }
}

pub async fn spawn() -> Env {
    let db = fresh(Dialect::Sqlite).await.unwrap();
    let apps = Arc::new(MemoryApps::default());
    apps.add("demo", SECRET, &["alice"]);
    apps.add("other", "other-secret", &["bob", "alice"]);
    let users = Arc::new(MemoryUsers::default());
    users.add("admin", Role::Superuser);
    users.add("alice", Role::Developer);
    users.add("bob", Role::Staff);
    let app = EsbApp::builder(apps.clone(), users.clone(), users.clone())
        .db(db.db.clone())
        .component(
            echo_channel("/itsm/token/verify/", "verify", PermLevel::None, false),
            Arc::new(Echo),
        )
        .component(
            echo_channel("/demo/secret/", "secret", PermLevel::Normal, false),
            Arc::new(Echo),
        )
        .build()
        .await
        .unwrap();
    let router = stack::wrap(app.router.clone(), bk_esb::SERVICE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Env {
        base: format!("http://{addr}"),
        stores: app.stores.clone().unwrap(),
        app,
        http: reqwest::Client::new(),
        _db: db,
    }
}

impl Env {
    pub async fn reload(&self) {
        self.app.reloader.as_ref().unwrap().reload().await.unwrap();
    }

    /// GET `path` (with its query); answers (status, JSON body).
    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap())
    }

    pub fn token(&self, user: &str) -> String {
        format!("token-of-{user}")
    }
}

/// The `code` of an ESB answer (asserting HTTP 200).
pub fn code(resp: &(u16, Value)) -> i64 {
    assert_eq!(resp.0, 200, "{resp:?}");
    resp.1["code"].as_i64().unwrap_or(-1)
}
