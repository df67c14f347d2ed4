//! The `bk` commands that operate a running platform over its HTTP APIs, as a person or a
//! script would: `bk login`, `bk app`, `bk env`, `bk member`, `bk agent`, and the deploy commands
//! (`bk deploy`, `rollback`, `offline`, `releases`, `ps`, `scale`, `restart`, `stop`,
//! `start`, `logs`). They hold no state but the
//! credentials file ([`credentials`]); every answer is the server's, printed as a table
//! or as JSON (`--json`).

pub mod api;
pub mod args;
mod commands;
pub mod credentials;
mod deploy;
pub mod output;

use anyhow::Context;
use serde_json::json;

use api::Api;
use args::{
    AgentCmd, AppCmd, DeployArgs, EnvCmd, LoginArgs, LogsArgs, MemberCmd, RollbackArgs, ScaleArgs,
    SlotArgs,
};

/// A client command.
#[derive(Debug, Clone)]
pub enum ClientCommand {
    /// `bk login`.
    Login(LoginArgs),
    /// `bk logout`.
    Logout,
    /// `bk app`.
    App(AppCmd),
    /// `bk env`.
    Env(EnvCmd),
    /// `bk member`.
    Member(MemberCmd),
    /// `bk agent`.
    Agent(AgentCmd),
    /// `bk deploy`.
    Deploy(DeployArgs),
    /// `bk rollback`.
    Rollback(RollbackArgs),
    /// `bk offline`.
    Offline(SlotArgs),
    /// `bk releases`.
    Releases(SlotArgs),
    /// `bk ps`.
    Ps(SlotArgs),
    /// `bk scale`.
    Scale(ScaleArgs),
    /// `bk restart`, `bk stop`, `bk start` (the action's path segment).
    Slot(SlotArgs, &'static str),
    /// `bk logs`.
    Logs(LogsArgs),
}

/// Run a client command.
pub async fn run(cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Login(a) => login(a).await,
        ClientCommand::Logout => logout().await,
        ClientCommand::App(c) => commands::app(&logged_in()?, c).await,
        ClientCommand::Env(c) => commands::env(&logged_in()?, c).await,
        ClientCommand::Member(c) => commands::member(&logged_in()?, c).await,
        ClientCommand::Agent(c) => commands::agent(&logged_in()?, c).await,
        ClientCommand::Deploy(a) => deploy::deploy(&logged_in()?, a).await,
        ClientCommand::Rollback(a) => deploy::rollback(&logged_in()?, a).await,
        ClientCommand::Offline(a) => deploy::offline(&logged_in()?, a).await,
        ClientCommand::Releases(a) => deploy::releases(&logged_in()?, a).await,
        ClientCommand::Ps(a) => deploy::ps(&logged_in()?, a).await,
        ClientCommand::Scale(a) => deploy::scale(&logged_in()?, a).await,
        ClientCommand::Slot(a, action) => deploy::slot_action(&logged_in()?, a, action).await,
        ClientCommand::Logs(a) => deploy::logs(&logged_in()?, a).await,
    }
}

fn logged_in() -> anyhow::Result<Api> {
    Api::logged_in(&credentials::load()?)
}

async fn login(a: LoginArgs) -> anyhow::Result<()> {
    let saved = credentials::load()?;
    let url = a.url.unwrap_or(saved.url);
    let platform = Api::anonymous(&url)?;
    // Login may run apart from the engine (`bk-login` beside `bk-engine`).
    let login_url = a.login_url.unwrap_or_default();
    let api = if login_url.is_empty() {
        Api::anonymous(&url)?
    } else {
        Api::anonymous(&login_url)?
    };
    let username = match a.username {
        Some(u) => u,
        None => {
            eprint!("Username: ");
            commands::read_line_stdin()?
        }
    };
    let password = if a.password_stdin {
        commands::read_line_stdin()?
    } else {
        rpassword::prompt_password(format!("Password for {username}: "))
            .context("reading the password (use --password-stdin without a terminal)")?
    };
    let resp = api
        .raw(reqwest::Method::POST, "/login/api/tokens/")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach the platform at {}", api.base()))?;
    let data = api::decode(resp).await?;
    let token = output::cell(&data, "bk_token");
    if token.is_empty() {
        anyhow::bail!("the platform answered without a token");
    }
    let creds = credentials::Credentials {
        url: platform.base().to_owned(),
        username: output::cell(&data, "username"),
        token,
        login_url: if login_url.is_empty() {
            String::new()
        } else {
            api.base().to_owned()
        },
    };
    let path = credentials::save(&credentials::config_dir()?, &creds)?;
    println!(
        "Logged in to {} as {} (credentials in {}).",
        creds.url,
        creds.username,
        path.display()
    );
    Ok(())
}

async fn logout() -> anyhow::Result<()> {
    let dir = credentials::config_dir()?;
    let creds = credentials::load_file(&dir)?.unwrap_or_default();
    if !creds.token.is_empty()
        && let Ok(api) = Api::logged_in(&credentials::Credentials {
            url: if creds.login_url.is_empty() {
                creds.url.clone()
            } else {
                creds.login_url.clone()
            },
            ..creds.clone()
        })
    {
        // Revoke the session on the server too; a failure (server gone) still forgets it.
        let revoked = api
            .raw(reqwest::Method::DELETE, "/login/api/tokens/current/")
            .bearer_auth(&creds.token)
            .send()
            .await;
        if let Err(e) = revoked {
            eprintln!("warning: could not revoke the session on the server: {e}");
        }
    }
    if credentials::clear(&dir)? {
        println!("Logged out.");
    } else {
        println!("Not logged in.");
    }
    Ok(())
}
