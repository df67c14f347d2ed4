//! User authentication, first match (contracts §3): an access token (not issued by this
//! platform yet), `bk_token` (checked with login), `bk_username` (only for apps on the
//! skip-user-auth allow-list). A component that needs no user still learns a user who
//! was identified.

use bk_core::identity::TokenVerifier;

use super::credentials::Credentials;
use crate::component::CallUser;
use crate::error::{EsbError, Result};
use crate::registry::Snapshot;

/// The user of a call, or `None` when none is needed and none was identified.
pub async fn authenticate(
    creds: &Credentials,
    need_user: bool,
    app: &str,
    snapshot: &Snapshot,
    tokens: &dyn TokenVerifier,
) -> Result<Option<CallUser>> {
    let fail = |msg: String| {
        if need_user {
            Err(EsbError::UserAuth(msg))
        } else {
            Ok(None)
        }
    };
    if creds.access_token.is_some() && creds.bk_token.is_none() && creds.bk_username.is_none() {
        return fail("access_token is not supported by this gateway yet; pass bk_token".into());
    }
    if let Some(token) = creds.bk_token.as_deref() {
        return match tokens.verify(token).await? {
            Some(info) => Ok(Some(CallUser {
                username: info.username.clone(),
                verified: true,
                info: Some(info),
            })),
            None => fail("bk_token is invalid or expired: log in again".into()),
        };
    }
    if let Some(name) = creds.bk_username.as_deref() {
        if snapshot.may_skip_user_auth(app) {
            return Ok(Some(CallUser {
                username: name.to_owned(),
                verified: false,
                info: None,
            }));
        }
        return fail(format!(
            "app {app} may not name users with bk_username alone; pass bk_token, or ask an administrator to put the app on the skip-user-auth list"
        ));
    }
    fail("user authentication failed: pass bk_token".into())
}
