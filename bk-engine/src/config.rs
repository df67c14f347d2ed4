//! `[engine]` section of the configuration.

mod deploy;

use serde::{Deserialize, Serialize};

pub use deploy::{AgentsSection, BackendKind, DeployConfig};

/// Settings of the engine and its APIs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Host name that serves `/t/`, `/o/` and the V7 sub-paths when apps must not share an
    /// origin with the platform (`apps.example.com`); empty: apps are served on the
    /// platform's host. Developer API calls coming from this host are refused.
    pub apps_host: String,
    /// Apps are also served as `<code>.<root_domain>` and `stag-dot-<code>.<root_domain>`;
    /// empty: no sub-domains. Calls coming from those hosts are refused.
    pub root_domain: String,
    /// Base URL of the platform (`https://bk.example.com`), used to write app URLs in V7
    /// answers; empty: URLs are written as paths.
    pub public_url: String,
    /// `X-APP-CODE` the V6 appengine API accepts together with the platform's service
    /// token (`X-APP-TOKEN`).
    pub service_app_code: String,
    /// Developer of apps created through the V6 appengine API without a `creator`.
    pub v6_default_creator: String,
    /// Name of the login cookie carrying the `bk_token` (login's `cookie.name`).
    pub cookie_name: String,
    /// `[engine.deploy]`: the deploy backend and a deployment's time limits.
    pub deploy: DeployConfig,
    /// `[engine.agents]`: timing of the agents backend.
    pub agents: AgentsSection,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            apps_host: String::new(),
            root_domain: String::new(),
            public_url: String::new(),
            service_app_code: "paas".into(),
            v6_default_creator: "admin".into(),
            cookie_name: "bk_token".into(),
            deploy: DeployConfig::default(),
            agents: AgentsSection::default(),
        }
    }
}

impl EngineConfig {
    /// Normalised host settings: lower case, no trailing dot, `None` when empty.
    pub fn apps_host(&self) -> Option<String> {
        normalise_host(&self.apps_host)
    }

    /// The root domain of app sub-domains, normalised.
    pub fn root_domain(&self) -> Option<String> {
        normalise_host(&self.root_domain)
    }
}

fn normalise_host(h: &str) -> Option<String> {
    let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
    (!h.is_empty()).then_some(h)
}
