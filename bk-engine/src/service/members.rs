//! App members (developers).

use bk_core::types::Username;
use serde_json::json;

use super::EngineService;
use super::access::Caller;
use crate::error::Result;
use crate::model::{Member, MemberRole};

impl EngineService {
    /// The members of an app.
    pub async fn members(&self, who: &Caller, code: &str) -> Result<Vec<Member>> {
        let app = self.visible_app(who, code).await?;
        self.stores.members.members(app.code.as_str()).await
    }

    /// Add `username` as a developer; the user must exist and be a superuser or developer.
    pub async fn add_member(&self, who: &Caller, code: &str, username: &str) -> Result<Member> {
        let app = self.visible_app(who, code).await?;
        let username = Username::parse(username)?;
        self.check_developer(username.as_str(), "username").await?;
        let m = Member {
            app_code: app.code.clone(),
            username: username.into_string(),
            role: MemberRole::Developer,
            added_by: who.username().to_owned(),
            added_at: self.clock.now_ms(),
        };
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "member.add",
            format!("member {}", m.username),
            json!({"role": m.role}),
        );
        self.stores.members.add_member(&m, &audit).await?;
        Ok(m)
    }

    /// Remove a member; the last developer stays.
    pub async fn remove_member(&self, who: &Caller, code: &str, username: &str) -> Result<()> {
        let app = self.visible_app(who, code).await?;
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "member.remove",
            format!("member {username}"),
            json!({}),
        );
        self.stores
            .members
            .remove_member(app.code.as_str(), username, &audit)
            .await
    }
}
