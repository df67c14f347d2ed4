//! App members: the users who may see and operate an app besides superusers.

use bk_core::clock::Millis;
use bk_core::types::AppCode;
use serde::Serialize;

/// What a member may do. Only developers exist now (they may do everything with the app);
/// the column leaves room for an operator role later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Full access to the app.
    Developer,
}

impl MemberRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Developer => "developer",
        }
    }

    /// The role stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        (s == "developer").then_some(MemberRole::Developer)
    }
}

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The app.
    pub app_code: AppCode,
    /// The user.
    pub username: String,
    /// What they may do.
    pub role: MemberRole,
    /// Who added them.
    pub added_by: String,
    /// When (ms).
    pub added_at: Millis,
}
