//! A running engine with a few users, and a small client for its APIs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_core::types::Role;
use bk_engine::config::EngineConfig;
use bk_engine::testing::{FakeLogin, TestEngine, spawn_engine};
use reqwest::Method;
use serde_json::{Value, json};

/// The engine and its users: `admin` (superuser), `alice` and `bobby` (developers),
/// `sammy` (staff), `otto` (operator), `audrey` (auditor).
pub(crate) struct Env {
    pub engine: TestEngine,
    pub login: FakeLogin,
    pub http: reqwest::Client,
}

pub(crate) async fn env() -> Env {
    env_with(EngineConfig::default()).await
}

pub(crate) async fn env_with(cfg: EngineConfig) -> Env {
    let login = FakeLogin::new();
    for (u, r) in [
        ("admin", Role::Superuser),
        ("alice", Role::Developer),
        ("bobby", Role::Developer),
        ("sammy", Role::Staff),
        ("otto", Role::Operator),
        ("audrey", Role::Auditor),
    ] {
        login.add(u, r);
    }
    let engine = spawn_engine(cfg, login.identity(), bk_core::clock::system()).await;
    Env {
        engine,
        login,
        http: reqwest::Client::new(),
    }
}

/// A response: HTTP status and JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// `data` of a platform envelope, asserting success.
    pub fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "{:?}", self.body);
        assert_eq!(self.body["result"], true, "{:?}", self.body);
        &self.body["data"]
    }

    /// The message of a failed platform envelope, asserting the status.
    pub fn failed(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{:?}", self.body);
        assert_eq!(self.body["result"], false, "{:?}", self.body);
        self.body["message"].as_str().unwrap().to_owned()
    }
}

impl Env {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.engine.base_url)
    }

    /// Call `path` as `user` (`None`: anonymous) with an optional JSON body.
    pub async fn call(
        &self,
        user: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, self.url(path));
        if let Some(u) = user {
            req = req.header("authorization", format!("Bearer tok-{u}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    pub async fn get(&self, user: &str, path: &str) -> Reply {
        self.call(Some(user), Method::GET, path, None).await
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> Reply {
        self.call(Some(user), Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, user: &str, path: &str, body: Value) -> Reply {
        self.call(Some(user), Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, user: &str, path: &str) -> Reply {
        self.call(Some(user), Method::DELETE, path, None).await
    }

    /// Create app `code` as `user`; returns the created data (with `secret`).
    pub async fn create_app(&self, user: &str, code: &str) -> Value {
        self.post(
            user,
            "/paas/api/v1/apps/",
            json!({"code": code, "name": format!("{code} app")}),
        )
        .await
        .data()
        .clone()
    }
}
