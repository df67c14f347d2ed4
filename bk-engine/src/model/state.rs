//! The V6 app states (stored codes) and the deploy guards built on them.
//!
//! V6 moved an app between these states only while a browser polled the deploy page; here
//! the engine drives them and persists each step. The rules (contract §4): a deploy to
//! test starts from {offline, developing, in test, online}; to prod only from {offline,
//! in test}, so an online app goes through test again before a new prod release (V6's
//! 提测 then 上线); success moves to "in test" or "online"; a failure puts back the state
//! the deploy started from.

use std::fmt;

use super::env::Env;

/// A V6 app state, by its stored code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppState {
    /// 0 — 已下架.
    Offline,
    /// 1 — 开发中: the state of a new app.
    Developing,
    /// 3 — 测试中: deployed to test.
    InTest,
    /// 4 — 已上线: deployed to prod.
    Online,
    /// 8 — 正在提测: a deploy to test is running.
    DeployingTest,
    /// 9 — 正在上线: a deploy to prod is running.
    DeployingProd,
    /// 10 — 正在下架: going offline.
    GoingOffline,
}

/// Why a deploy or an offline may not start now; the text says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardError(pub String);

impl AppState {
    /// Every state, in code order.
    pub const ALL: [AppState; 7] = [
        AppState::Offline,
        AppState::Developing,
        AppState::InTest,
        AppState::Online,
        AppState::DeployingTest,
        AppState::DeployingProd,
        AppState::GoingOffline,
    ];

    /// The stored V6 code.
    pub fn code(self) -> i16 {
        match self {
            AppState::Offline => 0,
            AppState::Developing => 1,
            AppState::InTest => 3,
            AppState::Online => 4,
            AppState::DeployingTest => 8,
            AppState::DeployingProd => 9,
            AppState::GoingOffline => 10,
        }
    }

    /// The state with V6 code `code`.
    pub fn from_code(code: i64) -> Option<Self> {
        AppState::ALL
            .into_iter()
            .find(|s| i64::from(s.code()) == code)
    }

    /// Short English name.
    pub fn name(self) -> &'static str {
        match self {
            AppState::Offline => "offline",
            AppState::Developing => "developing",
            AppState::InTest => "in_test",
            AppState::Online => "online",
            AppState::DeployingTest => "deploying_test",
            AppState::DeployingProd => "deploying_prod",
            AppState::GoingOffline => "going_offline",
        }
    }

    /// Whether a deploy or an offline is running.
    pub fn is_busy(self) -> bool {
        matches!(
            self,
            AppState::DeployingTest | AppState::DeployingProd | AppState::GoingOffline
        )
    }

    /// May a deploy to `env` start from this state?
    pub fn check_deploy(self, env: Env) -> Result<(), GuardError> {
        let allowed: &[AppState] = match env {
            Env::Stag => &[
                AppState::Offline,
                AppState::Developing,
                AppState::InTest,
                AppState::Online,
            ],
            Env::Prod => &[AppState::Offline, AppState::InTest],
        };
        if allowed.contains(&self) {
            return Ok(());
        }
        Err(GuardError(match (env, self) {
            (_, s) if s.is_busy() => format!(
                "the app is {} ({}); wait until that finishes",
                s.name(),
                s.code()
            ),
            (Env::Prod, s) => format!(
                "a deploy to prod needs the app offline (0) or in test (3), it is {} ({}); deploy to test first",
                s.name(),
                s.code()
            ),
            (Env::Stag, s) => format!(
                "a deploy to test cannot start while the app is {} ({})",
                s.name(),
                s.code()
            ),
        }))
    }

    /// The state while a deploy to `env` runs.
    pub fn deploying(env: Env) -> AppState {
        match env {
            Env::Stag => AppState::DeployingTest,
            Env::Prod => AppState::DeployingProd,
        }
    }

    /// The state after a successful deploy to `env`.
    pub fn deployed(env: Env) -> AppState {
        match env {
            Env::Stag => AppState::InTest,
            Env::Prod => AppState::Online,
        }
    }

    /// May the app go offline from this state? Not while something else runs.
    pub fn check_offline(self) -> Result<(), GuardError> {
        if self.is_busy() {
            return Err(GuardError(format!(
                "the app is {} ({}); wait until that finishes",
                self.name(),
                self.code()
            )));
        }
        Ok(())
    }
}

impl fmt::Display for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::AppState::*;
    use super::*;

    #[test]
    fn codes_round_trip() {
        let codes: Vec<i16> = AppState::ALL.iter().map(|s| s.code()).collect();
        assert_eq!(codes, vec![0, 1, 3, 4, 8, 9, 10]);
        for s in AppState::ALL {
            assert_eq!(AppState::from_code(i64::from(s.code())), Some(s));
        }
        assert_eq!(AppState::from_code(2), None);
    }

    #[test]
    fn deploy_guards_follow_the_contract() {
        for s in AppState::ALL {
            let test_ok = matches!(s, Offline | Developing | InTest | Online);
            let prod_ok = matches!(s, Offline | InTest);
            assert_eq!(s.check_deploy(Env::Stag).is_ok(), test_ok, "{s} -> test");
            assert_eq!(s.check_deploy(Env::Prod).is_ok(), prod_ok, "{s} -> prod");
        }
        let e = Online.check_deploy(Env::Prod).unwrap_err();
        assert!(e.0.contains("deploy to test first"), "{e}");
        let e = DeployingTest.check_deploy(Env::Stag).unwrap_err();
        assert!(e.0.contains("wait"), "{e}");
        assert_eq!(AppState::deploying(Env::Prod), DeployingProd);
        assert_eq!(AppState::deployed(Env::Stag), InTest);
        assert_eq!(AppState::deployed(Env::Prod), Online);
        assert!(GoingOffline.check_offline().is_err());
        assert!(Online.check_offline().is_ok());
    }
}
