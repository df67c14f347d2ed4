//! The engine's domain values. Each raw string from a client is parsed into one of these
//! at the edge (`AppName::parse`, `Env::parse`, `EnvVarKey::parse`...), so the service and
//! the stores only ever see valid values, and every rule lives in one place.

mod app;
mod audit;
mod deployment;
mod env;
mod env_var;
mod member;
mod module;
mod release;
mod secret;
mod state;

pub use app::{App, AppName, AppPatch, Language, NewApp, RESERVED_CODES, new_app_code};
pub use audit::{AuditEntry, AuditQuery, Page};
pub use deployment::{
    DeployLogLine, DeployState, Deployment, OperationKind, SlotRecord, Transition,
};
pub use env::Env;
pub use env_var::{
    EnvScope, EnvVar, EnvVarFilter, EnvVarKey, MAX_DESCRIPTION_CHARS, MAX_VALUE_BYTES, NewEnvVar,
    effective_env,
};
pub use member::{Member, MemberRole};
pub use module::{Module, ModuleName, NewModule};
pub use release::{Formation, Release, ReleaseSource, UploadedPackage};
pub use secret::{SealedSecret, StoredSecret};
pub use state::{AppState, GuardError};

/// A random UUID (version 4) in its usual text form: the `id` V7 clients read for apps and
/// modules.
pub fn new_uuid() -> crate::error::Result<String> {
    let mut b = bk_core::crypto::random_bytes(16)
        .map_err(|e| crate::error::EngineError::Internal(format!("random source: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = super::new_uuid().unwrap();
        let b = super::new_uuid().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}
