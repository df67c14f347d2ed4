//! The stores' conformance suite on every backend: `storage::{sqlite,postgres,mysql}::<check>`.

use std::future::Future;

use bk_core::clock::SystemClock;
use bk_core::db::Dialect;
use bk_esb::model::{BodyFormat, Grant, PermLevel, RateLimit, SelfServiceApi, System};
use bk_esb::ratelimit::RateLimitConf;
use bk_esb::store::Stores;
use bk_esb::store::sql::SqlStore;
use serde_json::json;

async fn run<F, Fut>(dialect: Dialect, check: F)
where
    F: FnOnce(Stores) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(t) = bk_core::db::testing::fresh(dialect).await else {
        return;
    };
    let store = SqlStore::new(t.db.clone(), bk_core::clock::system());
    assert_eq!(store.migrate(&SystemClock).await.unwrap().versions, vec![1]);
    assert!(
        store
            .migrate(&SystemClock)
            .await
            .unwrap()
            .versions
            .is_empty()
    );
    check(Stores::all(std::sync::Arc::new(store))).await;
    t.close().await;
}

fn system(name: &str) -> System {
    System {
        name: name.into(),
        label: "L".into(),
        remark: "r".into(),
        execute_timeout: Some(10),
        query_timeout: None,
        admins: vec!["admin".into()],
    }
}

fn api(name: &str, path: &str) -> SelfServiceApi {
    SelfServiceApi {
        system: "DEMO".into(),
        name: name.into(),
        label: "中文".into(),
        registed_path: path.into(),
        registed_http_method: "GET".into(),
        dest_url: "http://127.0.0.1:1/x/".into(),
        dest_http_method: String::new(),
        body_format: BodyFormat::Form,
        extra_headers: Default::default(),
        timeout: Some(3),
        perm_level: PermLevel::Sensitive,
        is_active: true,
        need_user: true,
    }
}

async fn round_trips_and_revisions(s: Stores) {
    let r0 = s.config.revision().await.unwrap();
    s.systems.put_system(&system("DEMO")).await.unwrap();
    s.systems.put_system(&system("DEMO")).await.unwrap();
    assert_eq!(s.systems.systems().await.unwrap(), vec![system("DEMO")]);
    s.self_service
        .put_self_service(&api("a", "/demo/a/"))
        .await
        .unwrap();
    let mut changed = api("a", "/demo/a/");
    changed.timeout = Some(9);
    s.self_service.put_self_service(&changed).await.unwrap();
    assert_eq!(s.self_service.self_service().await.unwrap(), vec![changed]);
    s.grants
        .put_grant(&Grant {
            app_code: "demo".into(),
            component: "DEMO.a".into(),
            expires_at: Some(5),
        })
        .await
        .unwrap();
    s.grants
        .put_grant(&Grant {
            app_code: "demo".into(),
            component: "DEMO.a".into(),
            expires_at: None,
        })
        .await
        .unwrap();
    assert_eq!(
        s.grants.grants().await.unwrap(),
        vec![Grant {
            app_code: "demo".into(),
            component: "DEMO.a".into(),
            expires_at: None
        }]
    );
    s.allow_list.add_skip_user_auth("demo").await.unwrap();
    s.allow_list.add_skip_user_auth("demo").await.unwrap();
    assert_eq!(
        s.allow_list.skip_user_auth().await.unwrap(),
        vec!["demo".to_owned()]
    );
    let conf = RateLimitConf::from_json(
        &json!({"app_ratelimit": {"__default": [{"tokens": 5, "second": 1}]}}),
    )
    .unwrap();
    s.rate_limits
        .put_rate_limit(&RateLimit {
            component: "DEMO.a".into(),
            conf: conf.clone(),
        })
        .await
        .unwrap();
    assert_eq!(s.rate_limits.rate_limits().await.unwrap()[0].conf, conf);

    let (rev, config) = s.config.load().await.unwrap();
    assert!(
        rev > r0 + 8,
        "every write bumps the revision: {r0} -> {rev}"
    );
    assert_eq!(
        (
            config.systems.len(),
            config.self_service.len(),
            config.grants.len()
        ),
        (1, 1, 1)
    );

    assert!(s.grants.delete_grant("demo", "DEMO.a").await.unwrap());
    assert!(!s.grants.delete_grant("demo", "DEMO.a").await.unwrap());
    assert!(s.allow_list.remove_skip_user_auth("demo").await.unwrap());
    assert!(s.rate_limits.delete_rate_limit("DEMO.a").await.unwrap());
    assert!(s.config.revision().await.unwrap() > rev);
}

async fn conflicts_are_refused_whole(s: Stores) {
    s.systems.put_system(&system("DEMO")).await.unwrap();
    s.self_service
        .put_self_service(&api("a", "/demo/a/"))
        .await
        .unwrap();
    let rev = s.config.revision().await.unwrap();
    // Same path and method under another name.
    let e = s
        .self_service
        .put_self_service(&api("b", "/demo/a/"))
        .await
        .unwrap_err();
    assert!(matches!(e, bk_esb::error::EsbError::Conflict(_)), "{e:?}");
    assert_eq!(
        s.config.revision().await.unwrap(),
        rev,
        "a refused write changes nothing"
    );
    assert_eq!(s.self_service.self_service().await.unwrap().len(), 1);
    // A system with components cannot go.
    assert!(matches!(
        s.systems.delete_system("DEMO").await,
        Err(bk_esb::error::EsbError::Conflict(_))
    ));
    assert!(
        s.self_service
            .delete_self_service("DEMO", "a")
            .await
            .unwrap()
    );
    assert!(s.systems.delete_system("DEMO").await.unwrap());
    assert!(!s.systems.delete_system("DEMO").await.unwrap());
}

macro_rules! suite {
    ($db:ident, $dialect:ident, [$($check:ident),*]) => {
        mod $db {
            $(
                #[tokio::test]
                async fn $check() {
                    super::run(bk_core::db::Dialect::$dialect, super::$check).await;
                }
            )*
        }
    };
}

suite!(
    sqlite,
    Sqlite,
    [round_trips_and_revisions, conflicts_are_refused_whole]
);
suite!(
    postgres,
    Postgres,
    [round_trips_and_revisions, conflicts_are_refused_whole]
);
suite!(
    mysql,
    MySql,
    [round_trips_and_revisions, conflicts_are_refused_whole]
);
