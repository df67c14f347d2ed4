//! Test support (feature `test-utils`): in-memory stand-ins for the engine's
//! `AppDirectory` and login's `TokenVerifier`/`UserDirectory`, for tests of this crate and
//! of embedders. The platform's own composition test (`tests/`) uses the real ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bk_core::ApiError;
use bk_core::apps::{AppDirectory, AppInfo, SecretCheck};
use bk_core::identity::{TokenVerifier, UserDirectory, UserInfo};
use bk_core::types::Role;

/// Apps with their secrets.
#[derive(Debug, Default)]
pub struct MemoryApps {
    apps: Mutex<HashMap<String, (AppInfo, Vec<String>)>>,
}

impl MemoryApps {
    /// Add an app with one secret and developers.
    pub fn add(&self, code: &str, secret: &str, developers: &[&str]) {
        let info = AppInfo {
            code: code.into(),
            name: format!("{code} app"),
            state: 1,
            developers: developers.iter().map(|d| (*d).to_owned()).collect(),
        };
        self.apps
            .lock()
            .unwrap()
            .insert(code.into(), (info, vec![secret.into()]));
    }
}

#[async_trait]
impl AppDirectory for MemoryApps {
    async fn app(&self, code: &str) -> Result<Option<AppInfo>, ApiError> {
        Ok(self.apps.lock().unwrap().get(code).map(|(i, _)| i.clone()))
    }

    async fn verify_secret(&self, app_code: &str, secret: &str) -> Result<bool, ApiError> {
        Ok(self
            .apps
            .lock()
            .unwrap()
            .get(app_code)
            .is_some_and(|(_, s)| s.iter().any(|x| x == secret)))
    }

    async fn any_secret(&self, app_code: &str, check: &SecretCheck<'_>) -> Result<bool, ApiError> {
        let secrets = self
            .apps
            .lock()
            .unwrap()
            .get(app_code)
            .map(|(_, s)| s.clone())
            .unwrap_or_default();
        Ok(secrets.iter().any(|s| check(s)))
    }
}

/// Users with tokens.
#[derive(Debug, Default)]
pub struct MemoryUsers {
    users: Mutex<HashMap<String, UserInfo>>,
    tokens: Mutex<HashMap<String, String>>,
}

/// A user record with the given name and role.
pub fn user(username: &str, role: Role) -> UserInfo {
    UserInfo {
        username: username.into(),
        chname: format!("{username} name"),
        qq: String::new(),
        phone: String::new(),
        email: format!("{username}@example.com"),
        role,
        wx_userid: String::new(),
        language: "en".into(),
        time_zone: "Asia/Shanghai".into(),
    }
}

impl MemoryUsers {
    /// Add a user; returns a live token of theirs.
    pub fn add(&self, username: &str, role: Role) -> String {
        self.users
            .lock()
            .unwrap()
            .insert(username.into(), user(username, role));
        let token = format!("token-of-{username}");
        self.tokens
            .lock()
            .unwrap()
            .insert(token.clone(), username.into());
        token
    }
}

#[async_trait]
impl TokenVerifier for MemoryUsers {
    async fn verify(&self, bk_token: &str) -> Result<Option<UserInfo>, ApiError> {
        let name = self.tokens.lock().unwrap().get(bk_token).cloned();
        Ok(name.and_then(|n| self.users.lock().unwrap().get(&n).cloned()))
    }
}

#[async_trait]
impl UserDirectory for MemoryUsers {
    async fn get_user(&self, username: &str) -> Result<Option<UserInfo>, ApiError> {
        Ok(self.users.lock().unwrap().get(username).cloned())
    }

    async fn all_users(&self, role: Option<Role>) -> Result<Vec<UserInfo>, ApiError> {
        let mut all: Vec<UserInfo> = self
            .users
            .lock()
            .unwrap()
            .values()
            .filter(|u| role.is_none_or(|r| u.role == r))
            .cloned()
            .collect();
        all.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(all)
    }
}
