//! From a release to what a backend runs: release sets with complete instance specs.
//!
//! Env of an instance (contracts §5), later wins: the package's env < the user's env vars
//! (snapshot in the release; each also as `BKAPP_<NAME>` for V6 apps) < platform built-ins
//! (V7 `BKPAAS_*` and V6 `APP_ID`, `APP_TOKEN`, `BK_ENV`...). `PORT` is the runner's. The
//! app secret is resolved here, when instances are (re)started, never stored in a release.

use std::collections::BTreeMap;

use bk_core::agent_proto::PackageRef;
use bk_core::instance::{
    AppEnv, EnvVars, InstanceId, InstanceSpec, PortSpec, Probe as InstanceProbe, ProbeCheck,
    ProcessCommand, ProcessType, ReleaseId, Resources, WorkDir,
};

use super::super::EngineService;
use crate::deploy::backend::{ProcessSet, ReleaseSet, Slot};
use crate::error::{EngineError, Result};
use crate::model::{Env, Release, SlotRecord, StoredSecret};
use crate::package::{Probe, ProbeAction, ProbePort};

/// The backend's slot of (app, module, env).
pub(super) fn slot_of(
    app: &bk_core::types::AppCode,
    module: &crate::model::ModuleName,
    env: Env,
) -> Result<Slot> {
    Ok(Slot {
        app: app.clone(),
        module: bk_core::instance::ModuleName::parse(module.as_str())?,
        env: app_env(env),
    })
}

pub(super) fn app_env(env: Env) -> AppEnv {
    match env {
        Env::Stag => AppEnv::Stag,
        Env::Prod => AppEnv::Prod,
    }
}

fn probe(p: &Probe) -> InstanceProbe {
    let port = |p: &ProbePort| match p {
        ProbePort::App => None,
        ProbePort::Number(n) => Some(*n),
    };
    let check = match &p.action {
        ProbeAction::HttpGet { path, port: pp } => ProbeCheck::HttpGet {
            path: path.clone(),
            port: port(pp),
        },
        ProbeAction::TcpSocket { port: pp } => ProbeCheck::TcpSocket { port: port(pp) },
        ProbeAction::Exec { command } => ProbeCheck::Exec {
            command: command.clone(),
        },
    };
    InstanceProbe {
        check,
        initial_delay_ms: u64::from(p.initial_delay_seconds) * 1000,
        period_ms: u64::from(p.period_seconds.max(1)) * 1000,
        timeout_ms: u64::from(p.timeout_seconds.max(1)) * 1000,
        failure_threshold: p.failure_threshold.max(1),
    }
}

/// The path prefix the router serves the slot under (`BKPAAS_SUB_PATH`).
pub(super) fn sub_path(code: &str, module: &str, env: Env, is_default: bool) -> String {
    match (is_default, env) {
        (true, Env::Stag) => format!("/t/{code}/"),
        (true, Env::Prod) => format!("/o/{code}/"),
        (false, _) => format!("/{}--{module}--{code}/", env.v7_name()),
    }
}

impl EngineService {
    /// The newest live app secret in clear, for instance env (never logged).
    async fn live_secret(&self, code: &str) -> Result<String> {
        let newest = self
            .stores
            .secrets
            .secrets(code)
            .await?
            .into_iter()
            .find(StoredSecret::is_live)
            .ok_or_else(|| EngineError::Internal(format!("app {code} has no live secret")))?;
        Ok(self
            .secret_box
            .open(&newest.app_code, &newest.sealed)?
            .expose()
            .to_owned())
    }

    /// The release set of `release` in `slot` as `record` wants it (generation, replicas).
    pub(super) async fn release_set(
        &self,
        release: &Release,
        generation: u32,
        replicas: &BTreeMap<String, u32>,
    ) -> Result<ReleaseSet> {
        let code = release.app_code.as_str();
        let module = release.module.as_str();
        let env = release.env;
        let is_default = self
            .stores
            .modules
            .modules(code)
            .await?
            .iter()
            .any(|m| m.is_default && m.name == release.module);
        let secret = self.live_secret(code).await?;
        let public = self.cfg.public_url.trim_end_matches('/').to_owned();
        let release_id = ReleaseId::parse(&release.id)?;
        let workdir = WorkDir::parse(release.formation.source_dir.as_deref().unwrap_or(""))?;
        let mut base: BTreeMap<String, String> = release.formation.desc_env.clone();
        for (k, v) in &release.config {
            base.insert(k.clone(), v.clone());
            if !k.starts_with("BKAPP_") {
                base.insert(format!("BKAPP_{k}"), v.clone());
            }
        }
        let platform = [
            ("BKPAAS_APP_ID", code.to_owned()),
            ("BKPAAS_APP_SECRET", secret.clone()),
            ("BKPAAS_ENVIRONMENT", env.v7_name().to_owned()),
            ("BKPAAS_APP_MODULE_NAME", module.to_owned()),
            ("BKPAAS_SUB_PATH", sub_path(code, module, env, is_default)),
            ("BKPAAS_URL", public.clone()),
            ("BK_LOGIN_URL", format!("{public}/login/")),
            ("BK_COMPONENT_API_URL", public.clone()),
            ("APP_ID", code.to_owned()),
            ("APP_TOKEN", secret),
            ("BK_PAAS_HOST", public.clone()),
            ("BK_PAAS_INNER_HOST", public),
            (
                "BK_ENV",
                match env {
                    Env::Stag => "testing",
                    Env::Prod => "production",
                }
                .to_owned(),
            ),
        ];
        base.extend(platform.into_iter().map(|(k, v)| (k.to_owned(), v)));
        base.remove("PORT");
        let mut processes = Vec::new();
        for p in &release.formation.processes {
            let process_type = ProcessType::parse(&p.name)?;
            let mut env_vars = base.clone();
            env_vars.insert("BKPAAS_PROCESS_TYPE".into(), p.name.clone());
            let web = p.name == "web";
            let template = InstanceSpec {
                id: InstanceId::parse("pending")?,
                app_code: release.app_code.clone(),
                module: bk_core::instance::ModuleName::parse(module)?,
                env: app_env(env),
                process_type: process_type.clone(),
                release_id: release_id.clone(),
                version: release.version.clone(),
                command: ProcessCommand::Shell(p.command.clone()),
                workdir: workdir.clone(),
                env_vars: EnvVars::parse(env_vars)?,
                port: if web || p.readiness.is_some() {
                    PortSpec::Auto
                } else {
                    PortSpec::None
                },
                readiness: p.readiness.as_ref().map(probe),
                liveness: p.liveness.as_ref().map(probe),
                resources: Resources::default(),
                grace_period_ms: self.runtime()?.settings.grace_ms,
            };
            template
                .validate()
                .map_err(|e| EngineError::Invalid(format!("process {}: {e}", p.name)))?;
            processes.push(ProcessSet {
                process_type,
                replicas: replicas.get(&p.name).copied().unwrap_or(p.replicas),
                template,
            });
        }
        Ok(ReleaseSet {
            release: release_id.clone(),
            generation,
            package: PackageRef {
                release_id,
                sha256: release.package_digest.clone(),
                size: release.package_size,
            },
            processes,
        })
    }

    /// The set a slot record serves now, if any (not stopped, with a release).
    pub(super) async fn serving_set(&self, record: &SlotRecord) -> Result<Option<ReleaseSet>> {
        let Some(id) = record.release_id.as_deref().filter(|_| !record.stopped) else {
            return Ok(None);
        };
        let release = self
            .stores
            .releases
            .release(id)
            .await?
            .ok_or_else(|| EngineError::Internal(format!("slot names missing release {id}")))?;
        Ok(Some(
            self.release_set(&release, record.generation, &record.replicas)
                .await?,
        ))
    }
}
