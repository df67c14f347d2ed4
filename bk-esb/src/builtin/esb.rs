//! `esb.get_systems` and `esb.get_components`: the gateway's catalogue from the snapshot
//! the call runs on (hidden channels left out).

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::component::{Call, Component, Reply};
use crate::error::Result;

/// `get_systems`: `[{id, name, label, remark}]`.
pub struct GetSystems;

#[async_trait]
impl Component for GetSystems {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let list = call
            .snapshot
            .systems()
            .enumerate()
            .map(
                |(i, s)| json!({"id": i + 1, "name": s.name, "label": s.label, "remark": s.remark}),
            )
            .collect();
        Ok(Reply::Data(Value::Array(list)))
    }
}

/// `get_components?system_names=A;B`: `[{name, label, method, path, system_name, type, version}]`.
pub struct GetComponents {
    /// Where the gateway is mounted (`/api`).
    pub prefix: String,
}

#[async_trait]
impl Component for GetComponents {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let wanted = call.list_param("system_names").filter(|l| !l.is_empty());
        let list = call
            .snapshot
            .routes()
            .into_iter()
            .filter(|r| !r.is_hidden)
            .filter(|r| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|s| s == &r.system))
            })
            .map(|r| {
                let (path, version) = if r.self_service {
                    (format!("{}/c/self-service-api{}", self.prefix, r.path), "")
                } else {
                    (format!("{}/c/compapi/v2{}", self.prefix, r.path), "v2")
                };
                json!({
                    "name": r.name, "label": r.label, "method": r.method, "path": path,
                    "system_name": r.system, "type": u8::from(r.kind), "version": version,
                })
            })
            .collect();
        Ok(Reply::Data(Value::Array(list)))
    }
}
