//! `bk_paas.get_app_info`: apps named in `target_app_code` (`a;b`), else the calling app.

use std::sync::Arc;

use async_trait::async_trait;
use bk_core::apps::AppDirectory;
use serde_json::{Value, json};

use crate::component::{ApiVer, Call, Component, Reply};
use crate::error::{EsbError, Result};

/// Most apps one call may ask for.
const MAX_APPS: usize = 100;

/// The component.
pub struct GetAppInfo(pub Arc<dyn AppDirectory>);

#[async_trait]
impl Component for GetAppInfo {
    async fn call(&self, call: &Call) -> Result<Reply> {
        let codes = call
            .list_param("target_app_code")
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| vec![call.app_code.clone()]);
        if codes.len() > MAX_APPS {
            return Err(EsbError::Argument(format!(
                "target_app_code: at most {MAX_APPS} apps"
            )));
        }
        let mut out = Vec::with_capacity(codes.len());
        for code in &codes {
            let Some(app) = self.0.app(code).await? else {
                continue;
            };
            let developer = app.developers.join(";");
            out.push(match call.ver {
                ApiVer::V2 => json!({
                    "bk_app_code": app.code, "bk_app_name": app.name, "introduction": "",
                    "creator": "", "developer": developer,
                }),
                ApiVer::V1 => json!({
                    "app_code": app.code, "app_name": app.name, "introduction": "",
                    "creator": "", "developer": developer,
                }),
            });
        }
        Ok(Reply::Data(Value::Array(out)))
    }
}
