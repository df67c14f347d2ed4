//! The configuration file of the stock binaries: one section per crate.

use std::path::PathBuf;

use bk_auth::config::LoginConfig;
use bk_core::config::{self, ConfigError, Override};
use bk_core::telemetry::LogConfig;
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
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Where the embedded database and generated secrets live.
    pub data_dir: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./bk-data"),
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
    /// The database URL in force.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.server.data_dir.join("bk.db").display())
        } else {
            self.database.url.clone()
        }
    }
}
