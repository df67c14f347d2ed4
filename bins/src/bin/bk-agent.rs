//! `bk-agent`: the agent of one app host (see `bk_bins::agent`).

use bk_bins::agent::{self, AgentCli};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = AgentCli::parse();
    let cfg = agent::load(cli.config.as_deref(), cli.overrides())?;
    let token = agent::read_token(std::env::var(agent::TOKEN_ENV).ok(), &cfg.agent.token_file)?;
    let _log = bk_core::telemetry::init(&cfg.log);
    agent::run(cfg, token).await
}
