//! Releases, deployments (compare-and-set transitions with app state and slot in one
//! transaction), bounded deploy logs, slots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use bk_engine::package::{PackageDesc, PackageFormat};
use bk_engine::store::MAX_LOG_LINES;

use super::*;

fn release(app: &str, id: &str, at: Millis) -> Release {
    Release {
        id: id.into(),
        app_code: code(app),
        module: ModuleName::parse("default").unwrap(),
        env: Env::Stag,
        version: "1.0".into(),
        package_digest: "ab".repeat(32),
        package_size: 1234,
        formation: Formation {
            source_dir: None,
            processes: vec![],
            pre_release_hook: Some("echo 迁移".into()),
            desc_env: BTreeMap::from([("K".to_owned(), "v".to_owned())]),
        },
        config: BTreeMap::from([("USER_VAR".to_owned(), "x y".to_owned())]),
        source: ReleaseSource::Rollback { from: "r0".into() },
        created_by: "alice".into(),
        created_at: at,
    }
}

fn deployment(app: &str, id: &str, release: Option<&str>) -> Deployment {
    Deployment {
        id: id.into(),
        kind: if release.is_some() {
            OperationKind::Deploy
        } else {
            OperationKind::Offline
        },
        app_code: code(app),
        module: ModuleName::parse("default").unwrap(),
        env: Env::Stag,
        release_id: release.map(str::to_owned),
        state: DeployState::Pending,
        reason: None,
        prev_app_state: AppState::Developing,
        cancel_requested: false,
        created_by: "alice".into(),
        created_at: T0,
        updated_at: T0,
        deadline_at: T0 + 60_000,
    }
}

fn step(id: &str, from: DeployState, to: DeployState) -> Transition {
    Transition {
        id: id.into(),
        from,
        to,
        reason: None,
        at: T0 + 1,
        app_state: None,
        slot: None,
    }
}

pub(super) async fn releases_and_packages_round_trip(u: Under) {
    create(&u, "demo", "alice").await;
    let m = ModuleName::parse("default").unwrap();
    let desc = PackageDesc {
        format: PackageFormat::Procfile,
        app_code: None,
        app_name: None,
        version: Some("2".into()),
        modules: vec![],
        warnings: vec!["w".into()],
        unknown: vec![],
    };
    let pkg = UploadedPackage {
        digest: "cd".repeat(32),
        size: 10,
        version: "2".into(),
        uploaded_by: "alice".into(),
        uploaded_at: T0,
    };
    let a = audit("demo", "package.upload");
    u.s.releases
        .put_package("demo", &m, &pkg, &desc, &a)
        .await
        .unwrap();
    u.s.releases
        .put_package("demo", &m, &pkg, &desc, &a)
        .await
        .unwrap();
    let (got, got_desc) =
        u.s.releases
            .package("demo", &m, &pkg.digest)
            .await
            .unwrap()
            .unwrap();
    assert_eq!((got, got_desc), (pkg.clone(), desc));
    assert!(
        u.s.releases
            .package("demo", &m, &"00".repeat(32))
            .await
            .unwrap()
            .is_none()
    );
    assert_err!(
        u.s.releases
            .put_package(
                "nope",
                &m,
                &pkg,
                &PackageDesc {
                    modules: vec![],
                    ..u.s
                        .releases
                        .package("demo", &m, &pkg.digest)
                        .await
                        .unwrap()
                        .unwrap()
                        .1
                },
                &a
            )
            .await,
        EngineError::NotFound(_)
    );

    let r1 = release("demo", "r1", T0);
    let r2 = release("demo", "r2", T0 + 5);
    u.s.releases.create_release(&r1).await.unwrap();
    u.s.releases.create_release(&r2).await.unwrap();
    assert_eq!(u.s.releases.release("r1").await.unwrap().unwrap(), r1);
    let list = u.s.releases.releases("demo", Some(&m), 10).await.unwrap();
    assert_eq!(
        list.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2", "r1"]
    );
    assert!(u.s.releases.release("zz").await.unwrap().is_none());
    // Immutable: the same id cannot be stored twice.
    assert!(u.s.releases.create_release(&r1).await.is_err());
}

pub(super) async fn deployment_transitions_are_compare_and_set(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.releases
        .create_release(&release("demo", "r1", T0))
        .await
        .unwrap();
    let d = deployment("demo", "d1", Some("r1"));
    u.s.deployments
        .create_deployment(
            &d,
            Some((AppState::Developing, AppState::DeployingTest)),
            &audit("demo", "deploy.create"),
        )
        .await
        .unwrap();
    assert_eq!(
        u.s.apps.get("demo").await.unwrap().unwrap().state,
        AppState::DeployingTest
    );
    // A second operation of the same slot while the first runs is refused, nothing written.
    assert_err!(
        u.s.deployments
            .create_deployment(
                &deployment("demo", "d2", Some("r1")),
                None,
                &audit("demo", "deploy.create")
            )
            .await,
        EngineError::Conflict(_)
    );
    assert!(u.s.deployments.deployment("d2").await.unwrap().is_none());

    let got =
        u.s.deployments
            .transition(&step("d1", DeployState::Pending, DeployState::Validating))
            .await
            .unwrap();
    assert_eq!(got.state, DeployState::Validating);
    // Stale `from`: refused.
    assert_err!(
        u.s.deployments
            .transition(&step("d1", DeployState::Pending, DeployState::Starting))
            .await,
        EngineError::Conflict(_)
    );
    assert!(
        u.s.deployments
            .request_cancel("d1", &audit("demo", "deploy.cancel"))
            .await
            .unwrap()
    );
    assert!(
        u.s.deployments
            .deployment("d1")
            .await
            .unwrap()
            .unwrap()
            .cancel_requested
    );
    assert_eq!(
        u.s.deployments
            .unfinished_deployments()
            .await
            .unwrap()
            .len(),
        1
    );

    let slot = SlotRecord {
        app_code: code("demo"),
        module: ModuleName::parse("default").unwrap(),
        env: Env::Stag,
        release_id: Some("r1".into()),
        generation: 2,
        replicas: BTreeMap::from([("web".to_owned(), 3)]),
        stopped: false,
        updated_at: T0 + 2,
    };
    let mut fail = step("d1", DeployState::Validating, DeployState::Failed);
    fail.reason = Some("readiness: HTTP 503".into());
    fail.app_state = Some((AppState::DeployingTest, AppState::Developing));
    fail.slot = Some(slot.clone());
    let d1 = u.s.deployments.transition(&fail).await.unwrap();
    assert_eq!(
        (d1.state, d1.reason.as_deref()),
        (DeployState::Failed, Some("readiness: HTTP 503"))
    );
    assert_eq!(
        u.s.apps.get("demo").await.unwrap().unwrap().state,
        AppState::Developing
    );
    let m = ModuleName::parse("default").unwrap();
    assert_eq!(
        u.s.deployments
            .slot("demo", &m, Env::Stag)
            .await
            .unwrap()
            .unwrap(),
        slot
    );
    assert!(
        u.s.deployments
            .slot("demo", &m, Env::Prod)
            .await
            .unwrap()
            .is_none()
    );
    // Terminal: nothing moves any more, cancel is too late.
    assert!(
        u.s.deployments
            .transition(&step("d1", DeployState::Failed, DeployState::Cancelled))
            .await
            .is_err()
    );
    assert!(
        !u.s.deployments
            .request_cancel("d1", &audit("demo", "deploy.cancel"))
            .await
            .unwrap()
    );
    assert!(
        u.s.deployments
            .unfinished_deployments()
            .await
            .unwrap()
            .is_empty()
    );

    let log = u.s.deployments.deploy_log("d1", 0, 100).await.unwrap();
    let text: Vec<&str> = log.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(text[0], "deploy accepted (pending)");
    assert!(
        text.contains(&"validating -> failed: readiness: HTTP 503"),
        "{text:?}"
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));

    // An offline of the same slot may start now; the slot record updates in place.
    u.s.deployments
        .create_deployment(
            &deployment("demo", "o1", None),
            None,
            &audit("demo", "offline.create"),
        )
        .await
        .unwrap();
    let mut off = slot.clone();
    off.release_id = None;
    u.s.deployments
        .put_slot(&off, Some(&audit("demo", "slot.stop")))
        .await
        .unwrap();
    assert_eq!(u.s.deployments.slot_records().await.unwrap(), vec![off]);
    let list =
        u.s.deployments
            .deployments("demo", None, 10, 0)
            .await
            .unwrap();
    assert_eq!(list.len(), 2);
}

pub(super) async fn deploy_logs_are_bounded(u: Under) {
    create(&u, "demo", "alice").await;
    u.s.deployments
        .create_deployment(
            &deployment("demo", "d1", None),
            None,
            &audit("demo", "offline.create"),
        )
        .await
        .unwrap();
    let lines: Vec<String> = (0..MAX_LOG_LINES + 10)
        .map(|i| format!("line {i}"))
        .collect();
    u.s.deployments.append_log("d1", T0, &lines).await.unwrap();
    u.s.deployments
        .append_log("d1", T0, &["x".repeat(10_000)])
        .await
        .unwrap();
    let all = u.s.deployments.deploy_log("d1", 0, 10_000).await.unwrap();
    assert_eq!(all.len() as i64, MAX_LOG_LINES);
    assert!(all.last().unwrap().line.len() < 5000, "long lines are cut");
    let tail =
        u.s.deployments
            .deploy_log("d1", all[all.len() - 3].seq, 10)
            .await
            .unwrap();
    assert_eq!(tail.len(), 2);
    assert_err!(
        u.s.deployments.append_log("nope", T0, &["a".into()]).await,
        EngineError::NotFound(_)
    );
}
