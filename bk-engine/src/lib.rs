//! `bk-engine`: the app engine. It owns apps (code, name, modules, developers, env vars,
//! encrypted app secrets, an audit log), releases and deployments (a persisted state
//! machine driven against a [`deploy::backend::DeployBackend`]; the local backend runs apps
//! on this host under bk-agent's supervisor), and feeds the app [`router`]; it serves the
//! developer API (`/paas/api/v1/`), the V7 resource paths (`/paas/api/bkapps/...`) and the
//! V6 appengine API (`/v1/`).
//!
//! Use: build [`service::EngineService`] over stores ([`store::sql::SqlStore`] implements
//! every store trait), a `TokenVerifier` and a `UserDirectory` (login, in process or over
//! HTTP), the engine key and a clock; then serve [`http::router`]. Everything the HTTP
//! layer does is a plain async method of the service, which tests call directly. To deploy,
//! attach a backend ([`app::attach_local_deploy`], or
//! [`service::EngineService::attach_deploy`] with any `DeployBackend`).

pub mod app;
pub mod config;
pub mod deploy;
pub mod error;
pub mod http;
pub mod model;
pub mod package;
pub mod router;
pub mod secret;
pub mod service;
pub mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

/// Name of the service in logs, metrics and the public layout.
pub const SERVICE: &str = "engine";
