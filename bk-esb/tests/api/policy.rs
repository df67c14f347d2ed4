//! Permission levels with expiring grants, inactive channels, rate limits.

use bk_esb::model::{Grant, RateLimit};
use bk_esb::ratelimit::RateLimitConf;
use serde_json::json;

use crate::support::*;

const SECRET_PATH: &str = "/api/c/compapi/v2/demo/secret/";

#[tokio::test]
async fn levels_above_zero_need_a_live_grant() {
    let env = spawn().await;
    let q = format!("bk_app_code=demo&bk_app_secret={SECRET}");
    let r = env.get(&format!("{SECRET_PATH}?{q}")).await;
    assert_eq!(code(&r), 1306403);
    let msg = r.1["message"].as_str().unwrap();
    assert!(msg.contains("demo") && msg.contains("DEMO.secret"), "{msg}");

    env.stores
        .grants
        .put_grant(&Grant {
            app_code: "demo".into(),
            component: "DEMO.secret".into(),
            expires_at: None,
        })
        .await
        .unwrap();
    env.reload().await;
    assert_eq!(code(&env.get(&format!("{SECRET_PATH}?{q}")).await), 0);
    // The grant is the app's only.
    let r = env
        .get(&format!(
            "{SECRET_PATH}?bk_app_code=other&bk_app_secret=other-secret"
        ))
        .await;
    assert_eq!(code(&r), 1306403);
    // An expired grant counts as none.
    env.stores
        .grants
        .put_grant(&Grant {
            app_code: "demo".into(),
            component: "DEMO.secret".into(),
            expires_at: Some(1_000),
        })
        .await
        .unwrap();
    env.reload().await;
    assert_eq!(code(&env.get(&format!("{SECRET_PATH}?{q}")).await), 1306403);
}

#[tokio::test]
async fn an_inactive_channel_answers_1306405() {
    let env = spawn().await;
    let mut c = echo_channel(
        "/itsm/token/verify/",
        "verify",
        bk_esb::model::PermLevel::None,
        false,
    );
    c.is_active = false;
    env.stores.channels.put_channel(&c).await.unwrap();
    env.reload().await;
    let r = env
        .get(&format!(
            "/api/c/compapi/v2/itsm/token/verify/?bk_app_code=demo&bk_app_secret={SECRET}"
        ))
        .await;
    assert_eq!(code(&r), 1306405);
}

#[tokio::test]
async fn every_rate_limit_rule_applies_per_app_and_the_message_names_it() {
    let env = spawn().await;
    let conf = RateLimitConf::from_json(&json!({"app_ratelimit": {
        "__default": [{"tokens": 2, "minute": 1}],
        "other": [{"tokens": 100, "second": 1}, {"tokens": 1, "hour": 1}],
    }}))
    .unwrap();
    env.stores
        .rate_limits
        .put_rate_limit(&RateLimit {
            component: "BK_LOGIN.get_user".into(),
            conf,
        })
        .await
        .unwrap();
    env.reload().await;
    let path = "/api/c/compapi/v2/bk_login/get_user/";
    let demo = format!("bk_app_code=demo&bk_app_secret={SECRET}&bk_token=token-of-alice");
    assert_eq!(code(&env.get(&format!("{path}?{demo}")).await), 0);
    assert_eq!(code(&env.get(&format!("{path}?{demo}")).await), 0);
    let r = env.get(&format!("{path}?{demo}")).await;
    assert_eq!(code(&r), 1306429);
    let msg = r.1["message"].as_str().unwrap();
    assert!(
        msg.contains("demo")
            && msg.contains("BK_LOGIN.get_user")
            && msg.contains("2 requests per minute"),
        "{msg}"
    );
    // "other" has its own list; its hour rule bites after one call.
    let other = "bk_app_code=other&bk_app_secret=other-secret&bk_token=token-of-alice";
    assert_eq!(code(&env.get(&format!("{path}?{other}")).await), 0);
    let r = env.get(&format!("{path}?{other}")).await;
    assert_eq!(code(&r), 1306429);
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains("1 requests per hour"),
        "{r:?}"
    );
    // Other components are not limited.
    assert_eq!(
        code(
            &env.get(&format!("/api/c/compapi/v2/bk_login/is_login/?{demo}"))
                .await
        ),
        0
    );
}
