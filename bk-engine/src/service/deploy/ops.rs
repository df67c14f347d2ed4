//! Deploy, rollback, offline, cancel, and reading deployments and their logs.

use std::sync::Arc;

use bk_core::clock::Millis;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::EngineService;
use super::super::access::Caller;
use crate::error::{EngineError, Result};
use crate::model::{
    App, AppState, DeployLogLine, DeployState, Deployment, Env, EnvVarFilter, Formation,
    ModuleName, OperationKind, Release, ReleaseSource, effective_env, new_uuid,
};

/// What to deploy: an uploaded package (by digest) or an earlier release (a rollback).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// Digest of a package uploaded for this module.
    #[serde(default)]
    pub package: Option<String>,
    /// An earlier release of this module to deploy again (code and config).
    #[serde(default)]
    pub release: Option<String>,
}

/// A deployment or offline operation as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeploymentView {
    /// Id.
    pub id: String,
    /// `deploy` or `offline`.
    pub kind: OperationKind,
    /// App code.
    pub app_code: String,
    /// Module.
    pub module: String,
    /// `stag` or `prod`.
    pub env: String,
    /// The release deployed.
    pub release_id: Option<String>,
    /// The state.
    pub state: DeployState,
    /// Whether the state is terminal.
    pub finished: bool,
    /// Why it is in this state.
    pub reason: Option<String>,
    /// Who started it.
    pub created_by: String,
    /// When (ms).
    pub created_at: Millis,
    /// Last transition (ms).
    pub updated_at: Millis,
}

impl From<&Deployment> for DeploymentView {
    fn from(d: &Deployment) -> Self {
        Self {
            id: d.id.clone(),
            kind: d.kind,
            app_code: d.app_code.as_str().to_owned(),
            module: d.module.as_str().to_owned(),
            env: d.env.v7_name().to_owned(),
            release_id: d.release_id.clone(),
            state: d.state,
            finished: d.state.is_terminal(),
            reason: d.reason.clone(),
            created_by: d.created_by.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// Log lines after a point, and where to continue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LogsView {
    /// The lines.
    pub lines: Vec<DeployLogLine>,
    /// Pass as `after` to continue.
    pub next: i64,
    /// The deployment's state now.
    pub state: DeployState,
    /// Whether it ended (no more lines will come).
    pub finished: bool,
}

/// An instance as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstanceView {
    /// Id (logs: `/instances/{id}/logs/`).
    pub id: String,
    /// Process type.
    pub process_type: String,
    /// The release it runs.
    pub release_id: String,
    /// `starting`, `ready`, `unready`, `back_off`, `stopping`, `stopped`, `failed`.
    pub state: String,
    /// Why, for people.
    pub reason: Option<String>,
    /// Restarts.
    pub restarts: u32,
    /// Its `PORT`.
    pub port: Option<u16>,
    /// The host that runs it.
    pub host: String,
    /// Milliseconds since its process started.
    pub uptime_ms: Option<u64>,
    /// Whether the router sends it traffic.
    pub serving: bool,
}

impl EngineService {
    pub(super) async fn visible_module(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
    ) -> Result<(App, ModuleName)> {
        let app = self.visible_app(who, code).await?;
        let module = ModuleName::parse(module)?;
        let known = self
            .stores
            .modules
            .modules(app.code.as_str())
            .await?
            .iter()
            .any(|m| m.name == module);
        if !known {
            return Err(EngineError::NotFound(format!(
                "module {module} of app {}",
                app.code
            )));
        }
        Ok((app, module))
    }

    /// Start deploying `req` to (app, module, env); returns at once with the deployment
    /// (state `pending`), which the engine drives to its end.
    pub async fn deploy(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        req: DeployRequest,
    ) -> Result<DeploymentView> {
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        if env == Env::Prod {
            self.check_prod_deploy(who, &app)?;
        }
        self.runtime()?;
        let now = self.clock.now_ms();
        let release = match (req.package, req.release) {
            (Some(digest), None) => {
                self.release_from_package(who, &app, &module, env, &digest, now)
                    .await?
            }
            (None, Some(id)) => {
                self.release_from_release(who, &app, &module, env, &id, now)
                    .await?
            }
            _ => {
                return Err(EngineError::Invalid(
                    "give exactly one of package (an uploaded digest) or release (an earlier release id)".into(),
                ));
            }
        };
        self.stores.releases.create_release(&release).await?;
        let action = match release.source {
            ReleaseSource::Upload => "deploy.create",
            ReleaseSource::Rollback { .. } => "deploy.rollback",
        };
        self.start_operation(
            who,
            &app,
            &module,
            env,
            OperationKind::Deploy,
            Some(release.id),
            action,
        )
        .await
    }

    /// Deploy a copy of release `release` (code and config) as a new release.
    pub async fn rollback(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
        release: &str,
    ) -> Result<DeploymentView> {
        self.deploy(
            who,
            code,
            module,
            env,
            DeployRequest {
                package: None,
                release: Some(release.to_owned()),
            },
        )
        .await
    }

    /// Take (app, module, env) offline: stop its instances, serve nothing.
    pub async fn offline(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
    ) -> Result<DeploymentView> {
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        if env == Env::Prod {
            self.check_prod_deploy(who, &app)?;
        }
        self.runtime()?;
        app.state
            .check_offline()
            .map_err(|e| EngineError::Conflict(e.0))?;
        self.start_operation(
            who,
            &app,
            &module,
            env,
            OperationKind::Offline,
            None,
            "offline.create",
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_operation(
        self: &Arc<Self>,
        who: &Caller,
        app: &App,
        module: &ModuleName,
        env: Env,
        kind: OperationKind,
        release_id: Option<String>,
        action: &str,
    ) -> Result<DeploymentView> {
        let rt = self.runtime()?.clone();
        let now = self.clock.now_ms();
        let app_state = match kind {
            OperationKind::Deploy => {
                app.state
                    .check_deploy(env)
                    .map_err(|e| EngineError::Conflict(e.0))?;
                Some((app.state, AppState::deploying(env)))
            }
            // V6: a prod offline of an online app shows "going offline" while it runs.
            OperationKind::Offline if env == Env::Prod && app.state == AppState::Online => {
                Some((app.state, AppState::GoingOffline))
            }
            OperationKind::Offline => None,
        };
        let timeout = i64::try_from(rt.settings.deploy_timeout.as_millis()).unwrap_or(i64::MAX);
        let d = Deployment {
            id: new_uuid()?,
            kind,
            app_code: app.code.clone(),
            module: module.clone(),
            env,
            release_id: release_id.clone(),
            state: DeployState::Pending,
            reason: None,
            prev_app_state: app.state,
            cancel_requested: false,
            created_by: who.username().to_owned(),
            created_at: now,
            updated_at: now,
            deadline_at: now.saturating_add(timeout),
        };
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            action,
            format!("module {module} env {env}"),
            serde_json::json!({"deployment": d.id, "release": release_id}),
        );
        self.stores
            .deployments
            .create_deployment(&d, app_state, &audit)
            .await?;
        let view = DeploymentView::from(&d);
        self.start_driver(d);
        Ok(view)
    }

    async fn release_from_package(
        &self,
        who: &Caller,
        app: &App,
        module: &ModuleName,
        env: Env,
        digest: &str,
        now: Millis,
    ) -> Result<Release> {
        let (pkg, desc) = self
            .stores
            .releases
            .package(app.code.as_str(), module, digest)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "package {digest} of module {module}; upload it first"
                ))
            })?;
        let mdesc = desc
            .module(module.as_str())
            .or_else(|| {
                (module.as_str() == ModuleName::DEFAULT)
                    .then(|| desc.default_module())
                    .flatten()
            })
            .ok_or_else(|| {
                EngineError::Invalid(format!(
                    "package {digest} does not describe module {module}"
                ))
            })?;
        if desc.format == crate::package::PackageFormat::Smart && env == Env::Stag {
            return Err(EngineError::Invalid(
                "an S-mart package deploys to prod only".into(),
            ));
        }
        let pkg_env = match env {
            Env::Stag => crate::package::Env::Stag,
            Env::Prod => crate::package::Env::Prod,
        };
        let vars = self
            .stores
            .env_vars
            .env_vars(app.code.as_str(), &EnvVarFilter::default())
            .await?;
        Ok(Release {
            id: new_uuid()?,
            app_code: app.code.clone(),
            module: module.clone(),
            env,
            version: pkg.version,
            package_digest: pkg.digest,
            package_size: pkg.size,
            formation: Formation {
                source_dir: mdesc.source_dir.clone(),
                processes: mdesc.processes.clone(),
                pre_release_hook: mdesc.pre_release_hook.clone(),
                desc_env: mdesc.env.for_env(pkg_env),
            },
            config: effective_env(&vars, module, env),
            source: ReleaseSource::Upload,
            created_by: who.username().to_owned(),
            created_at: now,
        })
    }

    async fn release_from_release(
        &self,
        who: &Caller,
        app: &App,
        module: &ModuleName,
        env: Env,
        id: &str,
        now: Millis,
    ) -> Result<Release> {
        let old = self
            .stores
            .releases
            .release(id)
            .await?
            .filter(|r| r.app_code == app.code && &r.module == module)
            .ok_or_else(|| EngineError::NotFound(format!("release {id} of module {module}")))?;
        Ok(Release {
            id: new_uuid()?,
            env,
            source: ReleaseSource::Rollback {
                from: old.id.clone(),
            },
            created_by: who.username().to_owned(),
            created_at: now,
            ..old
        })
    }

    async fn visible_deployment(&self, who: &Caller, code: &str, id: &str) -> Result<Deployment> {
        let app = self.visible_app(who, code).await?;
        self.stores
            .deployments
            .deployment(id)
            .await?
            .filter(|d| d.app_code == app.code)
            .ok_or_else(|| EngineError::NotFound(format!("deployment {id}")))
    }

    /// One deployment or offline operation.
    pub async fn get_deployment(
        &self,
        who: &Caller,
        code: &str,
        id: &str,
    ) -> Result<DeploymentView> {
        Ok(DeploymentView::from(
            &self.visible_deployment(who, code, id).await?,
        ))
    }

    /// Deployments of an app (one module if given), newest first.
    pub async fn list_deployments(
        &self,
        who: &Caller,
        code: &str,
        module: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<DeploymentView>> {
        let app = self.visible_app(who, code).await?;
        let module = module.map(ModuleName::parse).transpose()?;
        let list = self
            .stores
            .deployments
            .deployments(app.code.as_str(), module.as_ref(), limit, offset)
            .await?;
        Ok(list.iter().map(DeploymentView::from).collect())
    }

    /// Ask a running deployment to stop; the previous release keeps serving.
    pub async fn cancel_deployment(
        &self,
        who: &Caller,
        code: &str,
        id: &str,
    ) -> Result<DeploymentView> {
        let d = self.visible_deployment(who, code, id).await?;
        let audit = self.entry(
            who,
            Some(d.app_code.as_str()),
            "deploy.cancel",
            format!("deployment {id}"),
            serde_json::json!({}),
        );
        if !self.stores.deployments.request_cancel(id, &audit).await? {
            return Err(EngineError::Conflict(format!(
                "deployment {id} has already ended ({})",
                d.state
            )));
        }
        self.runtime()?.cancel(id);
        Ok(DeploymentView::from(&d))
    }

    /// Log lines of a deployment after `after`.
    pub async fn deployment_logs(
        &self,
        who: &Caller,
        code: &str,
        id: &str,
        after: i64,
    ) -> Result<LogsView> {
        let d = self.visible_deployment(who, code, id).await?;
        let lines = self.stores.deployments.deploy_log(id, after, 1000).await?;
        let next = lines.last().map_or(after, |l| l.seq);
        Ok(LogsView {
            lines,
            next,
            state: d.state,
            finished: d.state.is_terminal(),
        })
    }

    /// Releases of a module, newest first.
    pub async fn list_releases(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
    ) -> Result<Vec<Release>> {
        let (app, module) = self.visible_module(who, code, module).await?;
        self.stores
            .releases
            .releases(app.code.as_str(), Some(&module), 100)
            .await
    }
}
