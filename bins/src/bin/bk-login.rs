//! `bk-login`: the login service alone.

use bk_bins::cli::LoginCli;
use bk_bins::{config, platform};
use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = LoginCli::parse();
    let cfg = config::load(cli.serve.config.as_deref(), cli.serve.overrides())?;
    let _log = bk_core::telemetry::init(&cfg.log);
    platform::serve(cfg, platform::Mode::LoginOnly).await
}
