//! Reading an app's audit log.

use super::EngineService;
use super::access::Caller;
use crate::error::Result;
use crate::model::{AuditEntry, AuditQuery, Page};

impl EngineService {
    /// The audit log of one app, newest first.
    pub async fn audit_log(
        &self,
        who: &Caller,
        code: &str,
        action: Option<String>,
        page: u32,
        page_size: u32,
    ) -> Result<Page<AuditEntry>> {
        let app = self.visible_app(who, code).await?;
        self.stores
            .audit
            .query(&AuditQuery {
                app_code: Some(app.code.as_str().to_owned()),
                action: action.filter(|a| !a.is_empty()),
                page,
                page_size,
            })
            .await
    }
}
