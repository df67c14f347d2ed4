//! `bk-engine`: the engine apart from login (see `bk_bins::engine::serve_alone`).

use bk_bins::cli::EngineCli;
use bk_bins::{config, engine};
use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = EngineCli::parse();
    let cfg = config::load(cli.serve.config.as_deref(), cli.overrides())?;
    let _log = bk_core::telemetry::init(&cfg.log);
    engine::serve_alone(cfg).await
}
