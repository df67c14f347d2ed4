//! Releases: what a deployment runs. A release is immutable once stored: the package (by
//! digest), the snapshot of the user env vars resolved when it was made, and the process
//! formation read from the package description. A rollback makes a *new* release from an
//! earlier one (same package, same snapshot), so the history only grows.
//!
//! The app secret is not in the snapshot: it is resolved when instances start, so rotating
//! a secret does not need a new release and no secret sits in release rows.

use std::collections::BTreeMap;

use bk_core::clock::Millis;
use bk_core::types::AppCode;
use serde::{Deserialize, Serialize};

use super::{Env, ModuleName};
use crate::package::ProcessDesc;

/// Where a release came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReleaseSource {
    /// An uploaded package.
    Upload,
    /// A copy of an earlier release.
    Rollback {
        /// The release copied.
        from: String,
    },
}

/// The processes of a release and how they start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Formation {
    /// Directory of the module's code inside the package (`None`: the package root).
    pub source_dir: Option<String>,
    /// Process types with command, replicas and probes.
    pub processes: Vec<ProcessDesc>,
    /// Run once before the new instances start.
    pub pre_release_hook: Option<String>,
    /// Env vars the package description declares (for the release's env).
    pub desc_env: BTreeMap<String, String>,
}

/// One immutable release.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// Random id (a UUID), also the directory the package is unpacked into.
    pub id: String,
    /// The app.
    pub app_code: AppCode,
    /// Its module.
    pub module: ModuleName,
    /// The environment it was made for.
    pub env: Env,
    /// The package's own version label.
    pub version: String,
    /// SHA-256 of the package.
    pub package_digest: String,
    /// Size of the package in bytes.
    pub package_size: u64,
    /// The processes.
    pub formation: Formation,
    /// User env vars in effect when the release was made (values, not secrets).
    pub config: BTreeMap<String, String>,
    /// Upload or rollback.
    pub source: ReleaseSource,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: Millis,
}

/// One stored package an app's developers uploaded (before any release uses it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadedPackage {
    /// SHA-256 of the archive.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// The package's version label.
    pub version: String,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// When.
    pub uploaded_at: Millis,
}
