//! App credentials (secret, header, signature) and user auth.

use std::time::{SystemTime, UNIX_EPOCH};

use bk_esb::auth::signature::{Signed, sign};

use crate::support::*;

const PATH: &str = "/api/c/compapi/v2/bk_login/get_user/";

#[tokio::test]
async fn the_header_wins_and_is_real_json() {
    let env = spawn().await;
    let alice = env.token("alice");
    // Spacing and a \u escape in the header; a wrong secret in the query loses.
    let header = format!(
        r#"{{ "bk_app_code" : "demo" , "bk_app_secret":"\u0064{}", "bk_token": "{alice}", "jwt": null }}"#,
        &SECRET[1..]
    );
    let r = env
        .http
        .get(format!("{}{PATH}?bk_app_secret=wrong", env.base))
        .header("X-Bkapi-Authorization", header)
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], 0, "{v}");
    assert_eq!(v["data"]["bk_username"], "alice");

    for bad in ["{not json", "[\"demo\"]"] {
        let v: serde_json::Value = env
            .http
            .get(format!("{}{PATH}", env.base))
            .header("X-Bkapi-Authorization", bad)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["code"], 1306406, "{v}");
    }
}

#[tokio::test]
async fn wrong_or_missing_app_credentials_are_refused() {
    let env = spawn().await;
    let alice = env.token("alice");
    for q in [
        format!("bk_app_code=demo&bk_app_secret=wrong&bk_token={alice}"),
        format!("bk_app_code=ghost&bk_app_secret={SECRET}&bk_token={alice}"),
        format!("bk_app_secret={SECRET}&bk_token={alice}"),
        format!("bk_app_code=demo&bk_token={alice}"),
    ] {
        let r = env.get(&format!("{PATH}?{q}")).await;
        assert_eq!(code(&r), 1306406, "{q}: {r:?}");
        assert!(!r.1["message"].as_str().unwrap().contains(SECRET));
    }
}

#[tokio::test]
async fn user_auth_bk_token_and_allow_listed_bk_username() {
    let env = spawn().await;
    let app = format!("bk_app_code=demo&bk_app_secret={SECRET}");
    assert_eq!(
        code(&env.get(&format!("{PATH}?{app}&bk_token=expired")).await),
        1306401
    );
    assert_eq!(code(&env.get(&format!("{PATH}?{app}")).await), 1306401);
    let r = env.get(&format!("{PATH}?{app}&bk_username=bob")).await;
    assert_eq!(code(&r), 1306401);
    assert!(
        r.1["message"].as_str().unwrap().contains("skip-user-auth"),
        "{r:?}"
    );
    env.stores
        .allow_list
        .add_skip_user_auth("demo")
        .await
        .unwrap();
    env.reload().await;
    let r = env.get(&format!("{PATH}?{app}&bk_username=bob")).await;
    assert_eq!(code(&r), 0, "{r:?}");
    assert_eq!(r.1["data"]["bk_username"], "bob");
    assert_eq!(r.1["data"]["bk_role"], 0);
    // Another app is still not allowed.
    let r = env
        .get(&format!(
            "{PATH}?bk_app_code=other&bk_app_secret=other-secret&bk_username=bob"
        ))
        .await;
    assert_eq!(code(&r), 1306401);
    // Unknown users named by an allow-listed app.
    let r = env.get(&format!("{PATH}?{app}&bk_username=nobody")).await;
    assert_eq!(r.1["result"], false, "{r:?}");
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signed_query(path: &str, nonce: u64, ts: i64, secret: &str) -> String {
    let alice = "token-of-alice";
    let mut q = vec![
        ("bk_app_code".to_owned(), "demo".to_owned()),
        ("bk_token".to_owned(), alice.to_owned()),
        ("bk_nonce".to_owned(), nonce.to_string()),
        ("bk_timestamp".to_owned(), ts.to_string()),
    ];
    let sig = sign(
        secret,
        &Signed {
            method: "GET",
            path,
            query: &q,
            body: b"",
        }
        .message(),
    );
    q.push(("bk_signature".to_owned(), sig));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(q)
        .finish()
}

#[tokio::test]
async fn signatures_fresh_once_and_within_the_window_both_ways() {
    let env = spawn().await;
    let now = now_secs();
    let q = signed_query(PATH, 1001, now, SECRET);
    let r = env.get(&format!("{PATH}?{q}")).await;
    assert_eq!(code(&r), 0, "{r:?}");
    assert_eq!(r.1["data"]["bk_username"], "alice");
    // Replayed.
    let r = env.get(&format!("{PATH}?{q}")).await;
    assert_eq!(code(&r), 1306406);
    assert!(r.1["message"].as_str().unwrap().contains("nonce"), "{r:?}");
    // Too old, too far ahead, wrong secret, signed for another path.
    for (q, what) in [
        (signed_query(PATH, 1002, now - 400, SECRET), "old"),
        (signed_query(PATH, 1003, now + 400, SECRET), "future"),
        (signed_query(PATH, 1004, now, "not-the-secret"), "secret"),
        (
            signed_query("/api/c/compapi/bk_login/get_user/", 1005, now, SECRET),
            "path",
        ),
    ] {
        assert_eq!(
            code(&env.get(&format!("{PATH}?{q}")).await),
            1306406,
            "{what}"
        );
    }
    // A nonce refused for a bad signature was not consumed.
    let q = signed_query(PATH, 1004, now, SECRET);
    assert_eq!(code(&env.get(&format!("{PATH}?{q}")).await), 0);
}
