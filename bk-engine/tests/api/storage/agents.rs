//! Agents and their placements: registration, conflicts, enable, heartbeat fields, and
//! placement changes applied as one unit with the agents' revisions.

use bk_core::agent_proto::{Capacity, InstanceKind};
use bk_engine::store::agents::{AgentRecord, PlacementChange, PlacementRow};

use super::*;

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: T0,
        actor: "admin".into(),
        address: "127.0.0.1".into(),
        app_code: None,
        action: action.into(),
        target: "agent".into(),
        detail: serde_json::Value::Null,
    }
}

fn agent(id: &str) -> AgentRecord {
    AgentRecord {
        id: id.into(),
        token_hash: "ab".repeat(32),
        enabled: true,
        revision: 0,
        created_by: "admin".into(),
        created_at: T0,
        host: String::new(),
        api_url: None,
        agent_version: String::new(),
        capacity: Capacity::default(),
        last_seen: None,
    }
}

fn row(id: &str, agent: &str) -> PlacementRow {
    PlacementRow {
        instance_id: id.into(),
        agent_id: agent.into(),
        app_code: "demo".into(),
        module: "default".into(),
        env: "stag".into(),
        process_type: "web".into(),
        generation: 2,
        ordinal: 1,
        kind: InstanceKind::Service,
        sealed: "k:n:c".into(),
    }
}

pub(crate) async fn agents_and_placements(u: Under) {
    let s = &u.agents;
    s.create_agent(&agent("host-a"), &audit("agent.register"))
        .await
        .unwrap();
    s.create_agent(&agent("host-b"), &audit("agent.register"))
        .await
        .unwrap();
    assert_err!(
        s.create_agent(&agent("host-a"), &audit("agent.register")).await,
        EngineError::Conflict(m) if m.contains("host-a")
    );
    s.set_agent_enabled("host-b", false, &audit("agent.disable"))
        .await
        .unwrap();
    assert_err!(
        s.set_agent_enabled("nope", false, &audit("agent.disable"))
            .await,
        EngineError::NotFound(_)
    );
    s.set_agent_token("host-b", &"b".repeat(64), &audit("agent.token"))
        .await
        .unwrap();
    assert_err!(
        s.set_agent_token("nope", &"b".repeat(64), &audit("agent.token"))
            .await,
        EngineError::NotFound(_)
    );
    let b = s
        .agents()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id == "host-b");
    assert_eq!(b.unwrap().token_hash, "b".repeat(64));
    let mut seen = agent("host-a");
    seen.host = "10.0.0.1".into();
    seen.api_url = Some("http://10.0.0.1:7000".into());
    seen.agent_version = "bk-agent 0.1.0".into();
    seen.capacity = Capacity {
        max_instances: 7,
        memory_bytes: Some(1 << 30),
    };
    seen.last_seen = Some(T0 + 5);
    s.record_seen(&seen).await.unwrap();
    let all = s.agents().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], seen);
    assert!(!all[1].enabled);

    s.commit_placements(&PlacementChange {
        remove: vec![],
        put: vec![row("i-1", "host-a"), row("i-2", "host-a")],
        revisions: vec![("host-a".into(), 1)],
    })
    .await
    .unwrap();
    s.commit_placements(&PlacementChange {
        remove: vec!["i-1".into()],
        put: vec![row("i-2", "host-b")],
        revisions: vec![("host-a".into(), 2), ("host-b".into(), 1)],
    })
    .await
    .unwrap();
    assert_eq!(s.placements().await.unwrap(), vec![row("i-2", "host-b")]);
    let revs: Vec<u64> = s
        .agents()
        .await
        .unwrap()
        .iter()
        .map(|a| a.revision)
        .collect();
    assert_eq!(revs, [2, 1]);

    s.delete_agent("host-b", &audit("agent.delete"))
        .await
        .unwrap();
    assert!(s.placements().await.unwrap().is_empty());
    assert_err!(
        s.delete_agent("host-b", &audit("agent.delete")).await,
        EngineError::NotFound(_)
    );
}
