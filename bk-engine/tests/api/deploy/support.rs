//! A platform with deploying on (local backend: real python processes; the app router in
//! front), its users, and helpers to pack the repo's sample packages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use bk_core::types::Role;
use bk_engine::secret::SecretKey;
use bk_engine::service::DeploySettings;
use bk_engine::testing::{DeployEngine, FakeLogin, test_deploy_settings};
use reqwest::Method;
use serde_json::{Value, json};

use crate::http_support::Reply;

/// How long a test waits for something that must happen; only a hang reaches it.
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) struct Platform {
    pub engine: Option<DeployEngine>,
    pub login: FakeLogin,
    pub key: SecretKey,
    pub data: tempfile::TempDir,
    pub http: reqwest::Client,
    pub settings: DeploySettings,
}

pub(crate) async fn platform() -> Platform {
    platform_with(test_deploy_settings()).await
}

pub(crate) async fn platform_with(settings: DeploySettings) -> Platform {
    let login = FakeLogin::new();
    for (u, r) in [
        ("admin", Role::Superuser),
        ("alice", Role::Developer),
        ("bobby", Role::Developer),
    ] {
        login.add(u, r);
    }
    let data = tempfile::tempdir().unwrap();
    let key = SecretKey::generate().unwrap();
    let engine =
        DeployEngine::start(data.path(), login.identity(), key.clone(), settings.clone()).await;
    Platform {
        engine: Some(engine),
        login,
        key,
        data,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap(),
        settings,
    }
}

/// The `.tar.gz` of `tests/samples/<name>`.
pub(crate) fn sample(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/samples")
        .join(name);
    bk_engine::package::pack_dir(&dir, &bk_engine::package::Limits::default())
        .unwrap()
        .0
}

impl Platform {
    pub fn engine(&self) -> &DeployEngine {
        self.engine.as_ref().unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.engine().base_url)
    }

    /// The same platform, restarted (app processes stopped, drivers cut off mid-step).
    pub async fn restart(&mut self) {
        self.engine.take().unwrap().stop().await;
        self.engine = Some(
            DeployEngine::start(
                self.data.path(),
                self.login.identity(),
                self.key.clone(),
                self.settings.clone(),
            )
            .await,
        );
    }

    pub async fn call(&self, user: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("authorization", format!("Bearer tok-{user}"));
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
        self.call(user, Method::GET, path, None).await
    }

    pub async fn post(&self, user: &str, path: &str, body: Value) -> Reply {
        self.call(user, Method::POST, path, Some(body)).await
    }

    pub async fn create_app(&self, user: &str, code: &str) {
        self.post(
            user,
            "/paas/api/v1/apps/",
            json!({"code": code, "name": format!("{code} app")}),
        )
        .await
        .data();
    }

    pub async fn upload_raw(&self, user: &str, code: &str, module: &str, bytes: Vec<u8>) -> Reply {
        let resp = self
            .http
            .post(self.url(&format!(
                "/paas/api/v1/apps/{code}/modules/{module}/packages/"
            )))
            .header("authorization", format!("Bearer tok-{user}"))
            .header("content-type", "application/gzip")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    /// Upload sample `name`; returns its digest.
    pub async fn upload(&self, user: &str, code: &str, module: &str, name: &str) -> String {
        let r = self.upload_raw(user, code, module, sample(name)).await;
        r.data()["digest"].as_str().unwrap().to_owned()
    }

    /// Start a deploy of `digest`; returns the deployment id.
    pub async fn start_deploy(
        &self,
        user: &str,
        code: &str,
        module: &str,
        env: &str,
        digest: &str,
    ) -> String {
        let r = self
            .post(
                user,
                &format!("/paas/api/v1/apps/{code}/modules/{module}/envs/{env}/deployments/"),
                json!({"package": digest}),
            )
            .await;
        let d = r.data();
        assert_eq!(d["state"], "pending", "{d}");
        d["id"].as_str().unwrap().to_owned()
    }

    /// Wait until deployment `id` ends; returns it.
    pub async fn wait_deployment(&self, code: &str, module: &str, id: &str) -> Value {
        let until = Instant::now() + PATIENCE;
        loop {
            let d = self
                .get(
                    "alice",
                    &format!("/paas/api/v1/apps/{code}/modules/{module}/deployments/{id}/"),
                )
                .await
                .data()
                .clone();
            if d["finished"] == true {
                return d;
            }
            assert!(Instant::now() < until, "deployment still running: {d}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Upload, deploy and wait; returns the ended deployment.
    pub async fn deploy(&self, code: &str, module: &str, env: &str, name: &str) -> Value {
        let digest = self.upload("alice", code, module, name).await;
        let id = self.start_deploy("alice", code, module, env, &digest).await;
        self.wait_deployment(code, module, &id).await
    }

    /// The deployment's log lines.
    pub async fn deploy_log(&self, code: &str, module: &str, id: &str) -> Vec<String> {
        self.get(
            "alice",
            &format!("/paas/api/v1/apps/{code}/modules/{module}/deployments/{id}/logs/"),
        )
        .await
        .data()["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["line"].as_str().unwrap().to_owned())
            .collect()
    }

    /// GET an app path through the router: status and JSON body (if any).
    pub async fn app_get(&self, path: &str) -> (u16, Value) {
        let resp = self.http.get(self.url(path)).send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// GET an app path until it answers 200 (instances restarting); returns the body.
    pub async fn app_wait_ok(&self, path: &str) -> Value {
        let until = Instant::now() + PATIENCE;
        loop {
            let (status, body) = self.app_get(path).await;
            if status == 200 {
                return body;
            }
            assert!(
                Instant::now() < until,
                "{path} still answers {status}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Sample `hello` with a pre-release hook (`scripts.pre_release_hook`) added.
pub(crate) fn hello_with_hook(hook: &str) -> Vec<u8> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/samples/hello");
    let dir = tempfile::tempdir().unwrap();
    for f in ["server.py", "app_desc.yaml"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let desc = std::fs::read_to_string(src.join("app_desc.yaml")).unwrap();
    let desc = desc.replace(
        "    processes:\n",
        &format!("    scripts:\n      pre_release_hook: {hook:?}\n    processes:\n"),
    );
    std::fs::write(dir.path().join("app_desc.yaml"), desc).unwrap();
    bk_engine::package::pack_dir(dir.path(), &bk_engine::package::Limits::default())
        .unwrap()
        .0
}
