//! The normalized description of a package: what the engine needs to release it, whatever the
//! source (`app_desc.yaml` v2 or v3, a `Procfile`, an S-mart `app.yml`). The engine stores it
//! with the release (it serializes to JSON) and never looks at the raw descriptors again.

use std::collections::BTreeMap;

use bk_core::types::AppCode;
use serde::{Deserialize, Deserializer, Serialize};

use super::node::Node;

/// Which descriptor the description came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageFormat {
    /// `app_desc.yaml` with `spec_version: 2` (possibly plus a Procfile).
    AppDescV2,
    /// `app_desc.yaml` with `specVersion: 3` (possibly plus a Procfile).
    AppDescV3,
    /// Only a Procfile: one `default` module.
    Procfile,
    /// A V6 S-mart package (`app.yml`); deploys to prod only.
    Smart,
}

/// Everything a package declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageDesc {
    /// Where the description came from.
    pub format: PackageFormat,
    /// The app code the package names, if any (the engine checks it against the target app).
    #[serde(deserialize_with = "de_app_code")]
    pub app_code: Option<AppCode>,
    /// The app name the package names, if any.
    pub app_name: Option<String>,
    /// The package's own version (`app_version` / `appVersion` / S-mart `version`).
    pub version: Option<String>,
    /// Modules, the default one first.
    pub modules: Vec<ModuleDesc>,
    /// Things the developer should know but that do not stop the deploy.
    pub warnings: Vec<String>,
    /// Keys this platform does not understand, kept with their values.
    pub unknown: Vec<UnknownKey>,
}

impl PackageDesc {
    /// The default module (there is always exactly one in a parsed description).
    pub fn default_module(&self) -> Option<&ModuleDesc> {
        self.modules.iter().find(|m| m.is_default)
    }

    /// A module by name.
    pub fn module(&self, name: &str) -> Option<&ModuleDesc> {
        self.modules.iter().find(|m| m.name == name)
    }
}

/// One module: a separately deployed part of the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleDesc {
    /// Module name (`default` for one-module apps).
    pub name: String,
    /// Whether this is the app's main module (served at `/t/<code>/`, `/o/<code>/`).
    pub is_default: bool,
    /// Directory of the module's code inside the package, relative, normalized; `None` = root.
    pub source_dir: Option<String>,
    /// Processes, in declaration order.
    pub processes: Vec<ProcessDesc>,
    /// Environment variables the package declares.
    pub env: EnvVars,
    /// Shell command run once before the new release starts (e.g. migrations).
    pub pre_release_hook: Option<String>,
    /// Names of add-on services the module asks for (`mysql`, `redis`...).
    pub addons: Vec<String>,
    /// Image of an image-based module (`build.image`), kept for container backends.
    pub image: Option<String>,
}

impl ModuleDesc {
    /// A process by name.
    pub fn process(&self, name: &str) -> Option<&ProcessDesc> {
        self.processes.iter().find(|p| p.name == name)
    }
}

/// One process type of a module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessDesc {
    /// Process type, `^[a-z0-9]([-a-z0-9])*$`, at most 12 characters.
    pub name: String,
    /// Shell command line (run with `sh -c`); argv forms are joined with shell quoting.
    pub command: String,
    /// Instances to run (defaults to 1).
    pub replicas: u32,
    /// When an instance may receive traffic.
    pub readiness: Option<Probe>,
    /// When an instance must be restarted.
    pub liveness: Option<Probe>,
}

/// Environment variables: for every environment, and overlays that win in one environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVars {
    /// For every environment.
    pub all: BTreeMap<String, String>,
    /// Only in `stag` (V6 `test`); wins over `all`.
    pub stag: BTreeMap<String, String>,
    /// Only in `prod`; wins over `all`.
    pub prod: BTreeMap<String, String>,
}

impl EnvVars {
    /// The variables of one environment: `all` with the overlay applied.
    pub fn for_env(&self, env: Env) -> BTreeMap<String, String> {
        let mut out = self.all.clone();
        let overlay = match env {
            Env::Stag => &self.stag,
            Env::Prod => &self.prod,
        };
        out.extend(overlay.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

/// A deploy environment as packages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Env {
    /// Staging (V6 `test`).
    Stag,
    /// Production.
    Prod,
}

impl Env {
    /// `stag` / `test` / `prod`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stag" | "test" => Some(Env::Stag),
            "prod" => Some(Env::Prod),
            _ => None,
        }
    }
}

/// A health probe (readiness or liveness).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// What to check.
    pub action: ProbeAction,
    /// Seconds after start before the first check.
    pub initial_delay_seconds: u32,
    /// Seconds between checks.
    pub period_seconds: u32,
    /// Seconds one check may take.
    pub timeout_seconds: u32,
    /// Consecutive failures before the instance counts as failed.
    pub failure_threshold: u32,
}

/// The check a probe performs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeAction {
    /// An HTTP GET that must answer 2xx/3xx.
    HttpGet {
        /// Request path, starting with `/`.
        path: String,
        /// Port to call.
        port: ProbePort,
    },
    /// A TCP connection that must be accepted.
    TcpSocket {
        /// Port to connect to.
        port: ProbePort,
    },
    /// A command (argv) that must exit 0.
    Exec {
        /// Program and arguments.
        command: Vec<String>,
    },
}

/// Port of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbePort {
    /// The port the platform gives the instance (`PORT`); written `${PORT}` in packages.
    App,
    /// A fixed port.
    Number(u16),
}

/// A key the platform does not understand, kept with its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownKey {
    /// Dotted path in the descriptor.
    pub path: String,
    /// The value as written.
    pub value: Node,
}

fn de_app_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AppCode>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|s| AppCode::parse_legacy(&s).map_err(serde::de::Error::custom))
        .transpose()
}
