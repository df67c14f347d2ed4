//! The configuration file of the stock binaries: one section per crate.

use std::path::PathBuf;

use bk_auth::config::LoginConfig;
use bk_core::config::{self, ConfigError, Override};
use bk_core::telemetry::LogConfig;
use bk_engine::config::EngineConfig;
use serde::{Deserialize, Serialize};

/// Everything `bk up` reads (`bk.toml`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BkConfig {
    /// Listener and data directory.
    pub server: ServerConfig,
    /// Storage.
    pub database: DatabaseConfig,
    /// Logging.
    pub log: LogConfig,
    /// Login service.
    pub login: LoginConfig,
    /// App engine and developer API.
    pub engine: EngineConfig,
    /// This host's app processes under `bk up` (either backend).
    pub local_agent: LocalAgentConfig,
    /// Where the split `bk-engine` finds login.
    pub login_client: LoginClientConfig,
}

/// `[local_agent]`: the app processes `bk up` runs on its own host. With
/// `engine.deploy.backend = "local"` they run under the local backend's supervisor (`ports`
/// apply); with `"agents"` they run under an agent embedded in the process, registered by
/// `bk up` itself (its token never leaves the process), so one process is still the whole
/// platform and more hosts join with `bk-agent`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalAgentConfig {
    /// With the agents backend: run the embedded agent (false: only `bk-agent` hosts).
    pub enabled: bool,
    /// The embedded agent's id.
    pub id: String,
    /// Range of `PORT`s handed to this host's instances, `A-B`.
    pub ports: String,
    /// Most instances the embedded agent runs.
    pub max_instances: u32,
}

impl Default for LocalAgentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            id: "local".into(),
            ports: "20000-29999".into(),
            max_instances: 100,
        }
    }
}

/// `[login_client]`: how `bk-engine`, running apart from login, checks tokens and users.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoginClientConfig {
    /// Base URL of the login service (`http://login:8001`, `https://paas.example.com/login/`).
    pub url: String,
    /// How long a token's answer is reused, milliseconds (a logout is seen after at most
    /// this long).
    pub cache_ms: u64,
    /// Time limit of one call to login, milliseconds.
    pub timeout_ms: u64,
}

impl Default for LoginClientConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            cache_ms: 5_000,
            timeout_ms: 3_000,
        }
    }
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Where the embedded database and generated secrets live.
    pub data_dir: PathBuf,
    /// Proxies whose `X-Forwarded-For/-Proto/-Host` are believed (addresses or CIDR
    /// ranges); from anyone else those headers are ignored.
    pub trusted_proxies: Vec<String>,
    /// The base URL users reach the platform at (`https://paas.example.com`); absolute URLs
    /// (OIDC `redirect_uri`, redirects) are built from it instead of `Host`. Empty: from the
    /// request.
    pub public_url: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./bk-data"),
            trusted_proxies: vec!["127.0.0.0/8".into(), "::1".into()],
            public_url: String::new(),
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…`, `postgres://…`, `mysql://…`; empty = SQLite in the data directory.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before answering 503, milliseconds.
    pub acquire_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 8,
            acquire_timeout_ms: 3000,
        }
    }
}

/// Environment variables that set a config key directly.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("BK_LISTEN", "server.listen"),
    ("BK_DATA_DIR", "server.data_dir"),
    ("BK_DATABASE_URL", "database.url"),
    ("BK_LOG_FORMAT", "log.format"),
    ("BK_LOG", "log.filter"),
];

/// Load: defaults < file < environment < flags.
pub fn load(file: Option<&std::path::Path>, flags: Vec<Override>) -> Result<BkConfig, ConfigError> {
    let mut overrides = config::env_overrides(std::env::vars(), ENV_ALIASES);
    overrides.extend(flags);
    config::load(file, &overrides)
}

impl BkConfig {
    /// How services read client facts behind proxies (`trusted_proxies`, `public_url`).
    pub fn forwarding(&self) -> anyhow::Result<bk_core::http::forwarded::Forwarding> {
        Ok(bk_core::http::forwarded::Forwarding::from_config(
            &self.server.trusted_proxies,
            &self.server.public_url,
        )?)
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.server.data_dir.join("bk.db").display())
        } else {
            self.database.url.clone()
        }
    }
}
