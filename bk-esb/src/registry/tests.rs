//! Snapshot building: which channel wins, which timeout applies, what is not served.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::*;
use crate::component::{Call, Reply};
use crate::model::{BodyFormat, Grant, SelfServiceApi};

struct Nop;

#[async_trait]
impl Component for Nop {
    async fn call(&self, _: &Call) -> crate::error::Result<Reply> {
        Ok(Reply::Data(Value::Null))
    }
}

fn channel(path: &str, codename: &str, kind: ChannelKind, timeout: Option<u32>) -> Channel {
    Channel {
        system: "SYS".into(),
        name: codename.replace('.', "_"),
        label: String::new(),
        path: path.into(),
        method: String::new(),
        component_codename: codename.into(),
        is_active: true,
        timeout_time: timeout,
        kind,
        comp_conf: Value::Null,
        perm_level: PermLevel::None,
        is_hidden: false,
        need_user: false,
    }
}

fn registry() -> Registry {
    let mut b = Builtins::default();
    b.add(
        channel("/sys/a/", "sys.a", ChannelKind::Query, None),
        Arc::new(Nop),
    );
    b.add(
        channel("/sys/b/", "sys.b", ChannelKind::Execute, None),
        Arc::new(Nop),
    );
    b.add(
        channel("/sys/c/", "sys.c", ChannelKind::Execute, Some(7)),
        Arc::new(Nop),
    );
    Registry::new(b, Forwarder::default())
}

#[test]
fn timeouts_come_from_the_channel_then_the_system_by_type_then_30_s() {
    let r = registry();
    let snap = r.load();
    assert_eq!(
        snap.compapi("/sys/a/").unwrap().route.timeout_secs,
        DEFAULT_TIMEOUT_SECS
    );
    let config = Config {
        systems: vec![System {
            name: "SYS".into(),
            label: String::new(),
            remark: String::new(),
            execute_timeout: Some(11),
            query_timeout: Some(3),
            admins: Vec::new(),
        }],
        ..Config::default()
    };
    r.publish(&config, 2);
    let snap = r.load();
    assert_eq!(snap.revision, 2);
    assert_eq!(snap.compapi("/v2/sys/a").unwrap().route.timeout_secs, 3);
    assert_eq!(snap.compapi("/sys/b/").unwrap().route.timeout_secs, 11);
    assert_eq!(snap.compapi("/sys/c/").unwrap().route.timeout_secs, 7);
}

#[test]
fn stored_channels_replace_built_in_ones_and_unknown_codenames_are_not_served() {
    let r = registry();
    let mut off = channel("/sys/a/", "sys.a", ChannelKind::Query, Some(1));
    off.is_active = false;
    let ghost = channel("/sys/ghost/", "sys.ghost", ChannelKind::Query, None);
    r.publish(
        &Config {
            channels: vec![off, ghost],
            ..Config::default()
        },
        3,
    );
    let snap = r.load();
    let a = snap.compapi("/sys/a/").unwrap();
    assert!(!a.route.is_active);
    assert_eq!(a.route.timeout_secs, 1);
    assert!(snap.compapi("/sys/ghost/").is_none());
    assert!(matches!(
        snap.compapi("/v2/sys/a/").unwrap().ver,
        ApiVer::V2
    ));
}

#[test]
fn self_service_templates_methods_grants_and_the_allow_list() {
    let r = registry();
    let api = SelfServiceApi {
        system: "SYS".into(),
        name: "thing".into(),
        label: String::new(),
        registed_path: "/things/{id}/".into(),
        registed_http_method: "POST".into(),
        dest_url: "http://127.0.0.1:9/{id}/".into(),
        dest_http_method: String::new(),
        body_format: BodyFormat::Json,
        extra_headers: Default::default(),
        timeout: None,
        perm_level: PermLevel::Normal,
        is_active: true,
        need_user: false,
    };
    let config = Config {
        self_service: vec![api],
        grants: vec![
            Grant {
                app_code: "a".into(),
                component: "SYS.thing".into(),
                expires_at: Some(100),
            },
            Grant {
                app_code: "b".into(),
                component: "SYS.thing".into(),
                expires_at: None,
            },
        ],
        skip_user_auth: vec!["a".into()],
        ..Config::default()
    };
    r.publish(&config, 4);
    let snap = r.load();
    let found = snap.self_service("/things/42", "POST").unwrap().unwrap();
    assert_eq!(found.vars, vec![("id".to_owned(), "42".to_owned())]);
    assert_eq!(found.route.kind, ChannelKind::Execute);
    assert_eq!(
        snap.self_service("/things/42/", "GET").unwrap_err(),
        vec!["POST".to_owned()]
    );
    assert!(snap.self_service("/other/", "GET").unwrap().is_none());
    assert!(snap.granted("a", "SYS.thing", 99) && !snap.granted("a", "SYS.thing", 100));
    assert!(snap.granted("b", "SYS.thing", i64::MAX) && !snap.granted("c", "SYS.thing", 0));
    assert!(snap.may_skip_user_auth("a") && !snap.may_skip_user_auth("b"));
}
