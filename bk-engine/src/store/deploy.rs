//! Storage of releases, uploaded packages, deployments (with their logs) and slots.
//!
//! A deployment's transitions are compare-and-set on its state, one transaction each,
//! carrying the reason, a log line, and on a terminal move the app's V6 state and the
//! slot's serving release, so what the API shows and what the reconciler resumes from can
//! never disagree.

use async_trait::async_trait;
use bk_core::clock::Millis;

use crate::error::Result;
use crate::model::{
    AppState, AuditEntry, DeployLogLine, Deployment, Env, ModuleName, Release, SlotRecord,
    Transition, UploadedPackage,
};
use crate::package::PackageDesc;

/// Lines kept per deployment log; older lines are dropped.
pub const MAX_LOG_LINES: i64 = 2000;
/// Longest stored log line, in bytes (longer lines are cut).
pub const MAX_LOG_LINE_BYTES: usize = 4096;

/// Uploaded packages and releases.
#[async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Record an upload for (app, module); uploading the same bytes again refreshes it.
    async fn put_package(
        &self,
        app: &str,
        module: &ModuleName,
        pkg: &UploadedPackage,
        desc: &PackageDesc,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// An upload of (app, module) by digest, with its description.
    async fn package(
        &self,
        app: &str,
        module: &ModuleName,
        digest: &str,
    ) -> Result<Option<(UploadedPackage, PackageDesc)>>;
    /// Store a new release.
    async fn create_release(&self, r: &Release) -> Result<()>;
    /// One release.
    async fn release(&self, id: &str) -> Result<Option<Release>>;
    /// Releases of an app (one module if given), newest first.
    async fn releases(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        limit: u32,
    ) -> Result<Vec<Release>>;
}

/// Deployments, their logs, and slots.
#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Insert `d` (state pending), moving the app's V6 state `app_state` (from, to) by
    /// compare-and-set, with its audit entry. `Conflict` when another operation of the same
    /// slot is not finished or the app state moved.
    async fn create_deployment(
        &self,
        d: &Deployment,
        app_state: Option<(AppState, AppState)>,
        audit: &AuditEntry,
    ) -> Result<()>;
    /// One deployment.
    async fn deployment(&self, id: &str) -> Result<Option<Deployment>>;
    /// Deployments of an app (one module if given), newest first.
    async fn deployments(
        &self,
        app: &str,
        module: Option<&ModuleName>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Deployment>>;
    /// Every deployment not in a terminal state, oldest first.
    async fn unfinished_deployments(&self) -> Result<Vec<Deployment>>;
    /// Apply `t`; `Conflict` when the deployment is no longer in `t.from`.
    async fn transition(&self, t: &Transition) -> Result<Deployment>;
    /// Ask for a cancel; `false` when the deployment had already ended.
    async fn request_cancel(&self, id: &str, audit: &AuditEntry) -> Result<bool>;
    /// Append lines (each cut to [`MAX_LOG_LINE_BYTES`]); keeps the last [`MAX_LOG_LINES`].
    async fn append_log(&self, id: &str, at: Millis, lines: &[String]) -> Result<()>;
    /// Lines with `seq > after`, oldest first, at most `limit`.
    async fn deploy_log(&self, id: &str, after: i64, limit: u32) -> Result<Vec<DeployLogLine>>;
    /// One slot's record.
    async fn slot(&self, app: &str, module: &ModuleName, env: Env) -> Result<Option<SlotRecord>>;
    /// Every slot record.
    async fn slot_records(&self) -> Result<Vec<SlotRecord>>;
    /// Store a slot record (scale, restart, stop, start) with its audit entry.
    async fn put_slot(&self, s: &SlotRecord, audit: Option<&AuditEntry>) -> Result<()>;
}
