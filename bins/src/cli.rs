//! Command-line arguments of `bk`, `bk-login` and `bk-engine`.

use std::path::PathBuf;

use bk_core::config::Override;
use clap::{Args, Parser, Subcommand};

/// `bk`: run and operate the BK platform.
#[derive(Debug, Parser)]
#[command(name = "bk", version, about = "Run and operate the BK platform")]
pub struct BkCli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `bk` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole platform in one process on one listener.
    Up(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(ServeArgs),
    /// Print the OpenAPI document of a service.
    Openapi {
        /// Service name (`login`, `paas`, `appengine`).
        #[arg(default_value = "login")]
        service: String,
    },
    /// Log in to a running platform; the token is kept for the other commands.
    Login(crate::client::args::LoginArgs),
    /// Forget the token (and revoke it on the platform).
    Logout,
    /// Apps: list, create, info.
    #[command(subcommand)]
    App(crate::client::args::AppCmd),
    /// Env vars of an app.
    #[command(subcommand)]
    Env(crate::client::args::EnvCmd),
    /// Developers of an app.
    #[command(subcommand)]
    Member(crate::client::args::MemberCmd),
    /// App hosts running `bk-agent` (superusers).
    #[command(subcommand)]
    Agent(crate::client::args::AgentCmd),
    /// Upload a package (directory or .tar.gz) and deploy it, following its progress.
    Deploy(crate::client::args::DeployArgs),
    /// Deploy an earlier release again (code and config).
    Rollback(crate::client::args::RollbackArgs),
    /// Take a module's environment offline.
    Offline(crate::client::args::SlotArgs),
    /// Releases of a module.
    Releases(crate::client::args::SlotArgs),
    /// Instances of a module's environment.
    Ps(crate::client::args::SlotArgs),
    /// Run N instances of a process type: `bk scale demo web=3`.
    Scale(crate::client::args::ScaleArgs),
    /// Restart every instance (a rolling restart).
    Restart(crate::client::args::SlotArgs),
    /// Stop every instance (the release stays).
    Stop(crate::client::args::SlotArgs),
    /// Start the stopped instances again.
    Start(crate::client::args::SlotArgs),
    /// Instance or deployment logs, `--follow` to keep reading.
    Logs(crate::client::args::LogsArgs),
}

/// `bk-login`: the login service alone.
#[derive(Debug, Parser)]
#[command(name = "bk-login", version, about = "Serve BK login alone")]
pub struct LoginCli {
    /// Options.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// `bk-engine`: the developer API, appengine, deploys and the app router, apart from login.
#[derive(Debug, Parser)]
#[command(
    name = "bk-engine",
    version,
    about = "Serve the BK engine (developer API, appengine, deploys, app router) apart from login"
)]
pub struct EngineCli {
    /// Options.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Base URL of the login service (`http://login:8001`) [config: login_client.url].
    #[arg(long)]
    pub login_url: Option<String>,
}

impl EngineCli {
    /// The flags as config overrides.
    pub fn overrides(&self) -> Vec<Override> {
        let mut o = self.serve.overrides();
        if let Some(u) = &self.login_url {
            o.push(Override::flag(
                "login_client.url",
                u.as_str(),
                "--login-url",
            ));
        }
        o
    }
}

/// Options shared by the serving commands. Flags win over `BK_*` variables, which win
/// over the config file.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Data directory for the embedded database and generated secrets [default: ./bk-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://, postgres://, mysql://) [default: SQLite in the data dir].
    #[arg(long)]
    pub database_url: Option<String>,
    /// TOML config file [env: BK_CONFIG].
    #[arg(long, env = "BK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines as JSON.
    #[arg(long)]
    pub log_json: bool,
}

impl ServeArgs {
    /// The flags as config overrides.
    pub fn overrides(&self) -> Vec<Override> {
        let mut o = Vec::new();
        if let Some(l) = &self.listen {
            o.push(Override::flag("server.listen", l.as_str(), "--listen"));
        }
        if let Some(d) = &self.data_dir {
            o.push(Override::flag(
                "server.data_dir",
                d.display().to_string(),
                "--data-dir",
            ));
        }
        if let Some(u) = &self.database_url {
            o.push(Override::flag("database.url", u.as_str(), "--database-url"));
        }
        if self.log_json {
            o.push(Override::flag("log.format", "json", "--log-json"));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        BkCli::command().debug_assert();
        LoginCli::command().debug_assert();
        EngineCli::command().debug_assert();
    }
}
