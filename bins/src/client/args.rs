//! Arguments of the client commands of `bk` (those that call a running platform).

use clap::{Args, Subcommand};

/// Output switch shared by the commands that print data.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct Output {
    /// Print the answer as JSON (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// `bk login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// Base URL of the platform [env: BK_URL; default: the last one used].
    #[arg(long)]
    pub url: Option<String>,
    /// Base URL of the login service when it runs apart from the engine (`bk-login`)
    /// [default: the platform's URL].
    #[arg(long)]
    pub login_url: Option<String>,
    /// Username [default: asked].
    #[arg(long, short)]
    pub username: Option<String>,
    /// Read the password from the first line of stdin instead of asking.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `bk app ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum AppCmd {
    /// The apps you may see.
    List(Output),
    /// Create an app; you become its developer. Prints its secret once.
    Create {
        /// App code: `^[a-z][a-z0-9-]{1,15}$`.
        code: String,
        /// Display name (1-20 characters, unique).
        #[arg(long)]
        name: String,
        /// `Python`, `Go`, `NodeJS`, `Java`, `PHP`, `Rust` or `Other`.
        #[arg(long)]
        language: Option<String>,
        /// Free text.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// One app with its modules and members.
    Info {
        /// App code.
        code: String,
        #[command(flatten)]
        out: Output,
    },
}

/// `bk env ...`: env vars of an app.
#[derive(Debug, Clone, Subcommand)]
pub enum EnvCmd {
    /// List the vars.
    List {
        /// App code.
        code: String,
        /// `all`, `stag` or `prod` [default: every scope].
        #[arg(long)]
        scope: Option<String>,
        /// Only this module's vars.
        #[arg(long)]
        module: Option<String>,
        #[command(flatten)]
        out: Output,
    },
    /// Set vars, all or none: `bk env set demo KEY=value OTHER=value`.
    Set {
        /// App code.
        code: String,
        /// `KEY=VALUE` pairs.
        #[arg(required = true)]
        pairs: Vec<String>,
        /// `all` (default), `stag` or `prod`.
        #[arg(long)]
        scope: Option<String>,
        /// Only for this module [default: every module].
        #[arg(long)]
        module: Option<String>,
    },
    /// Remove a var.
    Unset {
        /// App code.
        code: String,
        /// The key.
        key: String,
        /// `all` (default), `stag` or `prod`.
        #[arg(long)]
        scope: Option<String>,
        /// The module the var belongs to [default: every module].
        #[arg(long)]
        module: Option<String>,
    },
}

/// `bk member ...`: developers of an app.
#[derive(Debug, Clone, Subcommand)]
pub enum MemberCmd {
    /// List them.
    List {
        /// App code.
        code: String,
        #[command(flatten)]
        out: Output,
    },
    /// Add a developer.
    Add {
        /// App code.
        code: String,
        /// An existing superuser or developer.
        username: String,
    },
    /// Remove a member (not the last developer).
    Rm {
        /// App code.
        code: String,
        /// Username.
        username: String,
    },
}

/// `bk agent ...`: app hosts (superusers; the platform must run the agents backend).
#[derive(Debug, Clone, Subcommand)]
pub enum AgentCmd {
    /// Register an agent; prints its token once (give it to `bk-agent` as `BK_AGENT_TOKEN`).
    Add {
        /// 1-63 lower-case letters, digits or '-'.
        id: String,
        #[command(flatten)]
        out: Output,
    },
    /// List agents with their state, version, capacity and instances.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Remove an agent (its instances are placed elsewhere).
    Rm {
        /// Agent id.
        id: String,
    },
    /// Let the engine place instances on an agent again.
    Enable {
        /// Agent id.
        id: String,
    },
    /// Stop placing instances on an agent (its instances move elsewhere).
    Disable {
        /// Agent id.
        id: String,
    },
}

/// Which module and environment a command acts on.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// App code.
    pub code: String,
    /// Module [default: default].
    #[arg(long, short, default_value = "default")]
    pub module: String,
    /// `stag` (or `test`) or `prod`.
    #[arg(long, short, default_value = "stag")]
    pub env: String,
}

/// `bk deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub target: Target,
    /// A package: a directory (packed here) or a `.tar.gz`.
    pub package: std::path::PathBuf,
    /// Return once the deployment is accepted instead of following it.
    #[arg(long)]
    pub no_follow: bool,
}

/// `bk rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: Target,
    /// The earlier release to run again (see `bk releases`).
    #[arg(long)]
    pub release: String,
    /// Return once the rollback is accepted instead of following it.
    #[arg(long)]
    pub no_follow: bool,
}

/// `bk logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    #[command(flatten)]
    pub target: Target,
    /// An instance (see `bk ps`); without it and without --deployment: every instance of
    /// the slot, once.
    #[arg(long, short)]
    pub instance: Option<String>,
    /// A deployment's log instead of an instance's.
    #[arg(long, conflicts_with = "instance")]
    pub deployment: Option<String>,
    /// The previous process of the instance (why it died).
    #[arg(long, requires = "instance")]
    pub previous: bool,
    /// Keep printing as the log grows.
    #[arg(long, short)]
    pub follow: bool,
}

/// `bk scale`.
#[derive(Debug, Clone, Args)]
pub struct ScaleArgs {
    #[command(flatten)]
    pub target: Target,
    /// `<process type>=<replicas>`, e.g. `web=3`.
    pub formation: String,
}

/// `bk ps` and the commands that act on a whole slot.
#[derive(Debug, Clone, Args)]
pub struct SlotArgs {
    #[command(flatten)]
    pub target: Target,
    #[command(flatten)]
    pub out: Output,
}
