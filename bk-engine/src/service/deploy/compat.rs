//! What the V6 appengine and V7 paths need beyond the developer API: the V6 callers
//! (platform service credentials, or the app's own code and secret), deploys of the
//! default module, events, and the released state of a slot.

use std::sync::Arc;

use super::super::EngineService;
use super::super::access::{Caller, existing_code};
use super::ops::{DeployRequest, DeploymentView};
use crate::error::{EngineError, Result};
use crate::model::{DeployState, Deployment, Env, ModuleName, OperationKind, Release, SlotRecord};

/// A full event: the deployment and its whole (bounded) log.
#[derive(Debug, Clone)]
pub struct EventLog {
    /// The deployment.
    pub deployment: DeploymentView,
    /// Every kept line, joined with `\n`.
    pub text: String,
}

/// What serves in a slot now.
#[derive(Debug, Clone)]
pub struct Released {
    /// The slot record (release, generation, replicas, stopped).
    pub slot: SlotRecord,
    /// The serving release (`None` after an offline).
    pub release: Option<Release>,
    /// The last deployment that succeeded in this slot, if any.
    pub deployment: Option<DeploymentView>,
}

impl EngineService {
    /// The V6 caller of `/v1/apps/<code>/...`: the platform's service credentials, or the
    /// app's own code and a live secret of it.
    pub async fn v6_caller(
        &self,
        x_app_code: Option<&str>,
        x_app_token: Option<&str>,
        code: &str,
        address: &str,
    ) -> Result<Caller> {
        if self.is_trusted_service(x_app_code, x_app_token) {
            return Ok(Caller::service(&self.cfg.service_app_code, address));
        }
        let own = x_app_code == Some(code)
            && self
                .verify_app_secret(code, x_app_token.unwrap_or_default())
                .await?;
        if own {
            return Ok(Caller::service(code, address));
        }
        Err(EngineError::Forbidden(
            "X-APP-CODE / X-APP-TOKEN are neither the platform's service credentials nor this app's code and secret".into(),
        ))
    }

    async fn default_module(&self, code: &str) -> Result<ModuleName> {
        let code = existing_code(code)?;
        self.stores
            .modules
            .modules(code.as_str())
            .await?
            .into_iter()
            .find(|m| m.is_default)
            .map(|m| m.name)
            .ok_or_else(|| EngineError::app_not_found(code.as_str()))
    }

    /// V6 `POST /v1/apps/<code>/<env>/releases/`: deploy the default module; without a
    /// package or release, the newest release of the module again.
    pub async fn v6_deploy(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        env: &str,
        mut req: DeployRequest,
    ) -> Result<DeploymentView> {
        let module = self.default_module(code).await?;
        if req.package.is_none() && req.release.is_none() {
            let newest = self
                .stores
                .releases
                .releases(code, Some(&module), 1)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::Invalid(
                        "nothing to release: upload a package first, or give package or release"
                            .into(),
                    )
                })?;
            req.release = Some(newest.id);
        }
        self.deploy(who, code, module.as_str(), env, req).await
    }

    /// V6 `DELETE /v1/apps/<code>/<env>/releases/`: the default module goes offline.
    pub async fn v6_offline(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        env: &str,
    ) -> Result<DeploymentView> {
        let module = self.default_module(code).await?;
        self.offline(who, code, module.as_str(), env).await
    }

    /// A deployment with its whole log (V6 events, V7 results).
    pub async fn event_log(&self, who: &Caller, code: &str, id: &str) -> Result<EventLog> {
        let deployment = self.get_deployment(who, code, id).await?;
        let lines = self.stores.deployments.deploy_log(id, 0, 10_000).await?;
        let text = lines
            .iter()
            .map(|l| l.line.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        Ok(EventLog { deployment, text })
    }

    /// What serves in (app, module, env); `NotFound` when it was never deployed.
    pub async fn released(
        &self,
        who: &Caller,
        code: &str,
        module: &str,
        env: &str,
    ) -> Result<Released> {
        let (app, module) = self.visible_module(who, code, module).await?;
        let env = Env::parse(env)?;
        let slot = self
            .stores
            .deployments
            .slot(app.code.as_str(), &module, env)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!("a release of module {module} in {env}"))
            })?;
        let release = match &slot.release_id {
            Some(id) => self.stores.releases.release(id).await?,
            None => None,
        };
        let deployment = self
            .stores
            .deployments
            .deployments(app.code.as_str(), Some(&module), 100, 0)
            .await?
            .into_iter()
            .find(|d: &Deployment| {
                d.env == env && d.kind == OperationKind::Deploy && d.state == DeployState::Succeeded
            })
            .map(|d| DeploymentView::from(&d));
        Ok(Released {
            slot,
            release,
            deployment,
        })
    }
}
