//! The real `bk` and `bk-login` binaries, started as processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod agent;
mod agent_engine;
mod agent_idle;
mod agent_netns;
mod client;
mod config;
mod deploy;
mod deploy_limits;
mod esb_client;
mod hardening;
mod layering;
mod oidc_env;
mod split;
mod support;
mod up;
mod up_agents;
