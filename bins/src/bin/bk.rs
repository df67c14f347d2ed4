//! `bk`: run and operate the BK platform.

use bk_bins::cli::{BkCli, Command};
use bk_bins::client::{self, ClientCommand};
use bk_bins::{config, platform};
use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = BkCli::parse();
    match cli.command {
        Command::Up(args) => {
            let cfg = config::load(args.config.as_deref(), args.overrides())?;
            let _log = bk_core::telemetry::init(&cfg.log);
            platform::serve(cfg, platform::Mode::Platform).await
        }
        Command::Migrate(args) => {
            platform::migrate(&config::load(args.config.as_deref(), args.overrides())?).await
        }
        Command::Openapi { service } => match service.as_str() {
            "login" => {
                println!("{}", bk_auth::http::openapi().to_pretty_json()?);
                Ok(())
            }
            "paas" => {
                println!("{}", bk_engine::http::openapi().to_pretty_json()?);
                Ok(())
            }
            "appengine" => {
                println!("{}", bk_engine::http::appengine_openapi().to_pretty_json()?);
                Ok(())
            }
            other => anyhow::bail!("unknown service {other:?}; known: login, paas, appengine"),
        },
        Command::Login(a) => client::run(ClientCommand::Login(a)).await,
        Command::Logout => client::run(ClientCommand::Logout).await,
        Command::App(c) => client::run(ClientCommand::App(c)).await,
        Command::Env(c) => client::run(ClientCommand::Env(c)).await,
        Command::Member(c) => client::run(ClientCommand::Member(c)).await,
        Command::Agent(c) => client::run(ClientCommand::Agent(c)).await,
        Command::Deploy(a) => client::run(ClientCommand::Deploy(a)).await,
        Command::Rollback(a) => client::run(ClientCommand::Rollback(a)).await,
        Command::Offline(a) => client::run(ClientCommand::Offline(a)).await,
        Command::Releases(a) => client::run(ClientCommand::Releases(a)).await,
        Command::Ps(a) => client::run(ClientCommand::Ps(a)).await,
        Command::Scale(a) => client::run(ClientCommand::Scale(a)).await,
        Command::Restart(a) => client::run(ClientCommand::Slot(a, "restart")).await,
        Command::Stop(a) => client::run(ClientCommand::Slot(a, "stop")).await,
        Command::Start(a) => client::run(ClientCommand::Slot(a, "start")).await,
        Command::Logs(a) => client::run(ClientCommand::Logs(a)).await,
    }
}
