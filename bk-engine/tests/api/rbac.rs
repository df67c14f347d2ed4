//! Roles × endpoints: only superusers and developers use the developer API (and the V7
//! paths); inside it an app exists only for its members and superusers. Everyone else
//! is answered before anything changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bk_core::types::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::http_support::{Env, env};

/// One call; `{u}` in the path or body is replaced by the caller's name.
struct Call {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    /// Whether the call names the app `demo` (hidden from non-members).
    app_scoped: bool,
}

fn calls() -> Vec<Call> {
    let c = |method: Method, path: &'static str, body: Option<Value>, app_scoped: bool| Call {
        method,
        path,
        body,
        app_scoped,
    };
    vec![
        c(Method::GET, "/paas/api/v1/apps/", None, false),
        c(
            Method::POST,
            "/paas/api/v1/apps/",
            Some(json!({"code": "x-{u}", "name": "X {u}"})),
            false,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/", None, true),
        c(
            Method::PATCH,
            "/paas/api/v1/apps/demo/",
            Some(json!({"description": "by {u}"})),
            true,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/modules/", None, true),
        c(
            Method::POST,
            "/paas/api/v1/apps/demo/modules/",
            Some(json!({"name": "m-{u}"})),
            true,
        ),
        c(
            Method::GET,
            "/paas/api/v1/apps/demo/modules/default/",
            None,
            true,
        ),
        c(
            Method::PATCH,
            "/paas/api/v1/apps/demo/modules/default/",
            Some(json!({"is_default": true})),
            true,
        ),
        c(
            Method::DELETE,
            "/paas/api/v1/apps/demo/modules/m-{u}/",
            None,
            true,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/members/", None, true),
        c(
            Method::POST,
            "/paas/api/v1/apps/demo/members/",
            Some(json!({"username": "pal.{u}"})),
            true,
        ),
        c(
            Method::DELETE,
            "/paas/api/v1/apps/demo/members/pal.{u}/",
            None,
            true,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/env_vars/", None, true),
        c(
            Method::POST,
            "/paas/api/v1/apps/demo/env_vars/",
            Some(json!({"vars": [{"key": "BY_{U}", "value": "v"}]})),
            true,
        ),
        c(
            Method::DELETE,
            "/paas/api/v1/apps/demo/env_vars/BY_{U}/",
            None,
            true,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/secrets/", None, true),
        c(Method::POST, "/paas/api/v1/apps/demo/secrets/", None, true),
        c(
            Method::DELETE,
            "/paas/api/v1/apps/demo/secrets/{newest}/",
            None,
            true,
        ),
        c(
            Method::POST,
            "/paas/api/v1/apps/demo/secrets/current/reveal/",
            None,
            true,
        ),
        c(
            Method::POST,
            "/paas/api/v1/apps/demo/secrets/1/reveal/",
            None,
            true,
        ),
        c(Method::GET, "/paas/api/v1/apps/demo/audit/", None, true),
        c(
            Method::GET,
            "/paas/api/bkapps/applications/lists/minimal",
            None,
            false,
        ),
        c(
            Method::GET,
            "/paas/api/bkapps/applications/lists/detailed",
            None,
            false,
        ),
        c(
            Method::GET,
            "/paas/api/bkapps/applications/demo/modules/",
            None,
            true,
        ),
        c(
            Method::GET,
            "/paas/api/bkapps/applications/demo/modules/default/",
            None,
            true,
        ),
    ]
}

fn fill(s: &str, user: &str, newest: i64) -> String {
    s.replace("{u}", user)
        .replace("{U}", &user.to_uppercase())
        .replace("{newest}", &newest.to_string())
}

async fn run(e: &Env, user: Option<&str>, newest: &mut i64) -> Vec<(String, u16, Value)> {
    let name = user.unwrap_or("anon");
    let mut out = Vec::new();
    for c in calls() {
        let path = fill(c.path, name, *newest);
        let body = c
            .body
            .as_ref()
            .map(|b| serde_json::from_str(&fill(&b.to_string(), name, *newest)).unwrap());
        let r = e.call(user, c.method.clone(), &path, body).await;
        if c.method == Method::POST && path.ends_with("/secrets/") && r.status == 200 {
            *newest = r.body["data"]["id"].as_i64().unwrap();
        }
        let _ = c.app_scoped;
        out.push((format!("{} {path}", c.method), r.status, r.body));
    }
    out
}

#[tokio::test]
async fn roles_by_endpoint() {
    let e = env().await;
    for pal in ["pal.alice", "pal.admin", "pal.bobby"] {
        e.login.add(pal, Role::Developer);
    }
    e.create_app("alice", "demo").await;
    let audit_before =
        e.get("alice", "/paas/api/v1/apps/demo/audit/").await.data()["count"].clone();
    let mut newest = 1;

    // Anonymous: 401 everywhere, in each family's envelope.
    for (call, status, body) in run(&e, None, &mut newest).await {
        assert_eq!(status, 401, "{call}: {body}");
        if call.contains("/bkapps/") {
            assert_eq!(body["code"], "UNAUTHENTICATED", "{call}: {body}");
        } else {
            assert_eq!(body["result"], false, "{call}: {body}");
        }
    }
    // Logged in with a role outside the developer API's audience: 403 everywhere.
    for user in ["sammy", "otto", "audrey"] {
        for (call, status, body) in run(&e, Some(user), &mut newest).await {
            assert_eq!(status, 403, "{user} {call}: {body}");
            let text = body.to_string();
            assert!(
                text.contains("needs the role superuser or developer"),
                "{user} {call}: {text}"
            );
        }
    }
    // A developer who is not a member: the app does not exist for them.
    let calls_list = calls();
    for (i, (call, status, body)) in run(&e, Some("bobby"), &mut newest)
        .await
        .into_iter()
        .enumerate()
    {
        if calls_list[i].app_scoped {
            assert_eq!(status, 404, "bob {call}: {body}");
            assert!(body.to_string().contains("app demo"), "bob {call}: {body}");
        } else {
            assert_eq!(status, 200, "bob {call}: {body}");
        }
    }
    // Nothing the refused callers tried changed the app.
    assert_eq!(
        e.get("alice", "/paas/api/v1/apps/demo/audit/").await.data()["count"],
        audit_before
    );
    assert_eq!(
        e.get("alice", "/paas/api/v1/apps/demo/secrets/")
            .await
            .data()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A member and a superuser (not a member) may do all of it.
    for user in ["alice", "admin"] {
        for (call, status, body) in run(&e, Some(user), &mut newest).await {
            assert_eq!(status, 200, "{user} {call}: {body}");
        }
    }
    // Bob's lists hold only his own app; the superuser's every app.
    let bob = e
        .get("bobby", "/paas/api/bkapps/applications/lists/minimal")
        .await;
    assert_eq!(bob.body["count"], 1);
    assert_eq!(bob.body["results"][0]["application"]["code"], "x-bobby");
    let admin = e
        .get("admin", "/paas/api/bkapps/applications/lists/minimal")
        .await;
    assert_eq!(admin.body["count"], 4);
}

#[tokio::test]
async fn a_revoked_login_is_401_at_once() {
    let e = env().await;
    e.create_app("alice", "demo").await;
    e.login.logout("alice");
    e.get("alice", "/paas/api/v1/apps/demo/").await.failed(401);
    // A cookie works like the bearer header.
    let token = e.login.add("alice", Role::Developer);
    let r = e
        .http
        .get(e.url("/paas/api/v1/apps/demo/"))
        .header("cookie", format!("bk_token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
