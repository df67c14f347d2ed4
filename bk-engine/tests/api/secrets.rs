//! App secrets: masked lists, audited reveals, rotation with two live, revocation,
//! verification for other services; never in the database, logs or error messages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bk_core::apps::AppDirectory;
use bk_engine::config::EngineConfig;
use bk_engine::secret::SecretKey;
use serde_json::{Value, json};
use sqlx::Row;

use crate::http_support::env;

#[tokio::test]
async fn rotate_reveal_revoke_verify() {
    let e = env().await;
    let first = e.create_app("alice", "demo").await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir: &dyn AppDirectory = e.engine.service.as_ref();
    assert!(dir.verify_secret("demo", &first).await.unwrap());
    assert!(!dir.verify_secret("demo", "wrong").await.unwrap());
    assert!(!dir.verify_secret("nope", &first).await.unwrap());
    assert!(!dir.verify_secret("NOT A CODE", &first).await.unwrap());

    let list = e.get("alice", "/paas/api/v1/apps/demo/secrets/").await;
    let masked = list.data()[0]["masked"].as_str().unwrap();
    assert_eq!(&masked[..4], &first[..4]);
    assert!(!list.body.to_string().contains(&first), "listed masked");
    let current = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/secrets/current/reveal/",
            json!(null),
        )
        .await;
    assert_eq!(current.data()["secret"], first.as_str());
    assert_eq!(current.data()["id"], 1);

    let rotated = e
        .post("alice", "/paas/api/v1/apps/demo/secrets/", json!(null))
        .await;
    let second = rotated.data()["secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated.data()["id"], 2);
    assert_ne!(first, second);
    // Both authenticate until the old one is revoked.
    assert!(dir.verify_secret("demo", &first).await.unwrap());
    assert!(dir.verify_secret("demo", &second).await.unwrap());
    let m = e
        .post("alice", "/paas/api/v1/apps/demo/secrets/", json!(null))
        .await
        .failed(409);
    assert!(m.contains("revoke the older one (id 1)"), "{m}");
    e.delete("alice", "/paas/api/v1/apps/demo/secrets/1/")
        .await
        .data();
    assert!(!dir.verify_secret("demo", &first).await.unwrap());
    assert!(dir.verify_secret("demo", &second).await.unwrap());
    let m = e
        .delete("alice", "/paas/api/v1/apps/demo/secrets/2/")
        .await
        .failed(409);
    assert!(m.contains("only live secret"), "{m}");
    let current = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/secrets/current/reveal/",
            json!(null),
        )
        .await;
    assert_eq!(current.data()["secret"], second.as_str());
    // A revoked secret may still be revealed (who used it?), and shows as not live.
    let old = e
        .post(
            "alice",
            "/paas/api/v1/apps/demo/secrets/1/reveal/",
            json!(null),
        )
        .await;
    assert_eq!(old.data()["secret"], first.as_str());
    let list = e.get("alice", "/paas/api/v1/apps/demo/secrets/").await;
    let live: Vec<(i64, bool)> = list
        .data()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_i64().unwrap(), s["live"].as_bool().unwrap()))
        .collect();
    assert_eq!(live, vec![(2, true), (1, false)]);
    // Every reveal is in the audit log, with who and from where.
    let log = e
        .get(
            "alice",
            "/paas/api/v1/apps/demo/audit/?action=secret.reveal",
        )
        .await;
    assert_eq!(log.data()["count"], 3);
    assert_eq!(log.data()["results"][0]["actor"], "alice");
    assert!(!log.body.to_string().contains(&first) && !log.body.to_string().contains(&second));
    // AppDirectory knows the app and its developers, never the secret.
    let info = dir.app("demo").await.unwrap().unwrap();
    assert_eq!(
        (info.name.as_str(), info.state, info.developers.clone()),
        ("demo app", 1, vec!["alice".to_owned()])
    );
    assert!(dir.app("nope").await.unwrap().is_none());
}

/// Everything stored for the engine, as one text.
async fn dump(db: &bk_core::db::Db) -> String {
    let mut out = String::new();
    for table in [
        "engine_apps",
        "engine_modules",
        "engine_members",
        "engine_env_vars",
        "engine_app_secrets",
        "engine_audit",
    ] {
        let cols = match table {
            "engine_app_secrets" => "app_code, key_id, nonce, ciphertext, created_by",
            "engine_audit" => "actor, address, action, target, detail",
            "engine_env_vars" => "var_key, value, description",
            _ => "*",
        };
        let rows = db
            .fetch_all(db.query_dynamic(format!("SELECT {cols} FROM {table}")))
            .await
            .unwrap();
        for r in rows {
            for i in 0..r.len() {
                if let Ok(s) = r.try_get::<String, _>(i) {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
        }
    }
    out
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_stay_out_of_the_database_logs_and_errors() {
    // Everything logged on this thread (the test runtime runs the server here too), at
    // every level.
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let e = env().await;
    let mut secrets = vec![
        e.create_app("alice", "demo").await["secret"]
            .as_str()
            .unwrap()
            .to_owned(),
    ];
    let rotated = e
        .post("alice", "/paas/api/v1/apps/demo/secrets/", json!(null))
        .await;
    secrets.push(rotated.data()["secret"].as_str().unwrap().to_owned());
    let mut answers: Vec<Value> = Vec::new();
    // Failures around secrets.
    answers.push(
        e.post("alice", "/paas/api/v1/apps/demo/secrets/", json!(null))
            .await
            .body,
    );
    answers.push(
        e.delete("alice", "/paas/api/v1/apps/demo/secrets/7/")
            .await
            .body,
    );
    answers.push(
        e.post(
            "bobby",
            "/paas/api/v1/apps/demo/secrets/1/reveal/",
            json!(null),
        )
        .await
        .body,
    );
    answers.push(
        e.post(
            "alice",
            "/paas/api/v1/apps/demo/secrets/x/reveal/",
            json!(null),
        )
        .await
        .body,
    );
    e.post(
        "alice",
        "/paas/api/v1/apps/demo/secrets/2/reveal/",
        json!(null),
    )
    .await
    .data();
    assert!(
        !e.engine
            .service
            .verify_app_secret("demo", "guess")
            .await
            .unwrap()
    );

    // The same database opened with another key: opening fails with a 500 that names the
    // keys, never the content.
    let other = bk_engine::app::open(
        e.engine.db.clone(),
        EngineConfig::default(),
        e.login.identity(),
        SecretKey::generate().unwrap(),
        bk_core::clock::system(),
        None,
    )
    .await
    .unwrap();
    let app = bk_core::http::stack::wrap(bk_engine::http::router(other), bk_engine::SERVICE);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let r = e
        .http
        .post(format!(
            "http://{addr}/paas/api/v1/apps/demo/secrets/1/reveal/"
        ))
        .bearer_auth("tok-alice")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    answers.push(r.json().await.unwrap());
    task.abort();

    let stored = dump(&e.engine.db).await;
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("app secret rotated"),
        "logs were captured:\n{logs}"
    );
    assert!(
        logs.contains("cannot be opened"),
        "the 500 was logged with its cause:\n{logs}"
    );
    for s in &secrets {
        assert!(
            !stored.contains(s.as_str()),
            "the database holds a secret in clear"
        );
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, s);
        assert!(
            !stored.contains(&b64),
            "the database holds a secret in base64"
        );
        assert!(
            !logs.contains(s.as_str()),
            "a log line holds a secret:\n{logs}"
        );
        for a in &answers {
            assert!(
                !a.to_string().contains(s.as_str()),
                "an error answer holds a secret: {a}"
            );
        }
    }
}
