//! The gateway's configuration as an immutable [`Snapshot`] behind `arc-swap`: a call does
//! one atomic load, no lock and no database read. [`Registry::publish`] rebuilds the
//! snapshot from the compiled components plus the stored [`Config`] whenever the store
//! changes (see `reload.rs`).

mod reload;
mod template;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use bk_core::clock::Millis;

pub use reload::Reloader;
pub use template::{Template, fill};

use crate::component::{ApiVer, Component};
use crate::forward::{Forwarder, HttpComponent};
use crate::model::{Channel, ChannelKind, Config, PermLevel, System};
use crate::ratelimit::RateLimitConf;

/// Timeout when neither the channel nor its system names one.
pub const DEFAULT_TIMEOUT_SECS: u32 = 30;

/// One callable component with everything the gateway checks before calling it.
pub struct Route {
    /// `<SYSTEM>.<name>`: the key of grants and rate limits.
    pub key: String,
    /// Owning system.
    pub system: String,
    /// Name within the system.
    pub name: String,
    /// Display name.
    pub label: String,
    /// Normalised path (below `/api/c/compapi/` or `/api/c/self-service-api/`).
    pub path: String,
    /// `GET`, `POST`..., or empty for any.
    pub method: String,
    /// 1 execute / 2 query.
    pub kind: ChannelKind,
    /// Permission level.
    pub perm_level: PermLevel,
    /// Switched on.
    pub is_active: bool,
    /// Left out of `esb/get_components`.
    pub is_hidden: bool,
    /// Whether user auth must identify a user.
    pub need_user: bool,
    /// Effective timeout.
    pub timeout_secs: u32,
    /// Rate-limit rules, if any.
    pub limits: Option<RateLimitConf>,
    /// A self-service HTTP component (else a compiled one).
    pub self_service: bool,
    /// What answers.
    pub component: Arc<dyn Component>,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Route")
            .field("key", &self.key)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// What a path resolved to.
#[derive(Debug)]
pub struct Found {
    /// The component.
    pub route: Arc<Route>,
    /// Path family.
    pub ver: ApiVer,
    /// `{var}` values of a self-service template.
    pub vars: Vec<(String, String)>,
}

/// The whole configuration at one revision.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Store revision it was built from.
    pub revision: u64,
    systems: BTreeMap<String, System>,
    compapi: HashMap<String, Arc<Route>>,
    self_exact: HashMap<String, Vec<Arc<Route>>>,
    self_templates: Vec<(Template, Arc<Route>)>,
    grants: HashMap<String, HashMap<String, Option<Millis>>>,
    skip_user_auth: HashSet<String>,
}

impl Snapshot {
    /// Systems by name.
    pub fn systems(&self) -> impl Iterator<Item = &System> {
        self.systems.values()
    }

    /// Every component (compiled channels, then self-service), sorted by key.
    pub fn routes(&self) -> Vec<&Arc<Route>> {
        let mut all: Vec<&Arc<Route>> = self
            .compapi
            .values()
            .chain(self.self_exact.values().flatten())
            .chain(self.self_templates.iter().map(|(_, r)| r))
            .collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all
    }

    /// The channel at `rest`, the path after `/api/c/compapi` (with or without `/v2`).
    pub fn compapi(&self, rest: &str) -> Option<Found> {
        let path = crate::model::normalize_path(rest);
        let (ver, path) = match path.strip_prefix("/v2/") {
            Some(p) => (ApiVer::V2, format!("/{p}")),
            None => (ApiVer::V1, path),
        };
        self.compapi.get(&path).map(|r| Found {
            route: r.clone(),
            ver,
            vars: Vec::new(),
        })
    }

    /// The self-service component at `rest` (after `/api/c/self-service-api`) for `method`;
    /// `Err(allowed)` names the methods registered when only the method is wrong.
    pub fn self_service(&self, rest: &str, method: &str) -> Result<Option<Found>, Vec<String>> {
        let path = crate::model::normalize_path(rest);
        let mut seen = Vec::new();
        if let Some(list) = self.self_exact.get(&path) {
            for r in list {
                if r.method == method {
                    return Ok(Some(Found {
                        route: r.clone(),
                        ver: ApiVer::V2,
                        vars: Vec::new(),
                    }));
                }
                seen.push(r.method.clone());
            }
        }
        for (t, r) in &self.self_templates {
            if let Some(vars) = t.matches(&path) {
                if r.method == method {
                    return Ok(Some(Found {
                        route: r.clone(),
                        ver: ApiVer::V2,
                        vars,
                    }));
                }
                seen.push(r.method.clone());
            }
        }
        if seen.is_empty() { Ok(None) } else { Err(seen) }
    }

    /// Whether `app` holds a live grant for `key` at `now`.
    pub fn granted(&self, app: &str, key: &str, now: Millis) -> bool {
        match self.grants.get(app).and_then(|m| m.get(key)) {
            Some(None) => true,
            Some(Some(exp)) => *exp > now,
            None => false,
        }
    }

    /// Whether `app` may name a user with `bk_username` alone.
    pub fn may_skip_user_auth(&self, app: &str) -> bool {
        self.skip_user_auth.contains(app)
    }
}

/// Compiled components and their default systems and channels.
#[derive(Default)]
pub struct Builtins {
    /// Systems that exist without configuration.
    pub systems: Vec<System>,
    /// Default channels (a stored channel with the same path replaces one).
    pub channels: Vec<Channel>,
    /// Components by codename.
    pub components: HashMap<String, Arc<dyn Component>>,
}

impl std::fmt::Debug for Builtins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builtins")
            .field("channels", &self.channels.len())
            .finish_non_exhaustive()
    }
}

impl Builtins {
    /// Add a compiled component under `codename` with its default channel.
    pub fn add(&mut self, mut channel: Channel, component: Arc<dyn Component>) {
        channel.path = crate::model::normalize_path(&channel.path);
        self.components
            .insert(channel.component_codename.clone(), component);
        self.channels.push(channel);
    }
}

/// The current snapshot and how to build the next one.
pub struct Registry {
    current: ArcSwap<Snapshot>,
    builtins: Builtins,
    forwarder: Forwarder,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("revision", &self.current.load().revision)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A registry serving `builtins` and nothing stored yet.
    pub fn new(builtins: Builtins, forwarder: Forwarder) -> Self {
        let r = Self {
            current: ArcSwap::from_pointee(Snapshot::default()),
            builtins,
            forwarder,
        };
        r.publish(&Config::default(), 0);
        r
    }

    /// The snapshot in force.
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Build and install the snapshot of `config` at `revision`.
    pub fn publish(&self, config: &Config, revision: u64) {
        self.current.store(Arc::new(self.build(config, revision)));
    }

    fn build(&self, config: &Config, revision: u64) -> Snapshot {
        let mut systems: BTreeMap<String, System> = BTreeMap::new();
        for s in self.builtins.systems.iter().chain(&config.systems) {
            systems.insert(s.name.clone(), s.clone());
        }
        let limits: HashMap<&str, &RateLimitConf> = config
            .rate_limits
            .iter()
            .map(|r| (r.component.as_str(), &r.conf))
            .collect();
        let timeout = |own: Option<u32>, system: &str, kind: ChannelKind| {
            own.or_else(|| {
                systems.get(system).and_then(|s| match kind {
                    ChannelKind::Execute => s.execute_timeout,
                    ChannelKind::Query => s.query_timeout,
                })
            })
            .unwrap_or(DEFAULT_TIMEOUT_SECS)
        };
        let mut channels: BTreeMap<String, &Channel> = BTreeMap::new();
        for c in self.builtins.channels.iter().chain(&config.channels) {
            channels.insert(c.path.clone(), c);
        }
        let mut compapi = HashMap::new();
        for (path, c) in channels {
            let Some(component) = self.builtins.components.get(&c.component_codename) else {
                tracing::warn!(
                    path,
                    codename = c.component_codename,
                    "channel names a component this build does not have; not served"
                );
                continue;
            };
            let key = c.key();
            let route = Route {
                limits: limits.get(key.as_str()).map(|l| (*l).clone()),
                key,
                system: c.system.clone(),
                name: c.name.clone(),
                label: c.label.clone(),
                path: path.clone(),
                method: c.method.clone(),
                kind: c.kind,
                perm_level: c.perm_level,
                is_active: c.is_active,
                is_hidden: c.is_hidden,
                need_user: c.need_user,
                timeout_secs: timeout(c.timeout_time, &c.system, c.kind),
                self_service: false,
                component: component.clone(),
            };
            compapi.insert(path, Arc::new(route));
        }
        let mut self_exact: HashMap<String, Vec<Arc<Route>>> = HashMap::new();
        let mut self_templates = Vec::new();
        for s in &config.self_service {
            let kind = if s.registed_http_method == "GET" {
                ChannelKind::Query
            } else {
                ChannelKind::Execute
            };
            let key = s.key();
            let timeout_secs = timeout(s.timeout, &s.system, kind);
            let route = Arc::new(Route {
                limits: limits.get(key.as_str()).map(|l| (*l).clone()),
                key,
                system: s.system.clone(),
                name: s.name.clone(),
                label: s.label.clone(),
                path: s.registed_path.clone(),
                method: s.registed_http_method.clone(),
                kind,
                perm_level: s.perm_level,
                is_active: s.is_active,
                is_hidden: false,
                need_user: s.need_user,
                timeout_secs,
                self_service: true,
                component: Arc::new(HttpComponent::new(s.clone(), self.forwarder.clone())),
            });
            match Template::parse(&s.registed_path) {
                Some(t) => self_templates.push((t, route)),
                None => self_exact
                    .entry(s.registed_path.clone())
                    .or_default()
                    .push(route),
            }
        }
        let mut grants: HashMap<String, HashMap<String, Option<Millis>>> = HashMap::new();
        for g in &config.grants {
            grants
                .entry(g.app_code.clone())
                .or_default()
                .insert(g.component.clone(), g.expires_at);
        }
        Snapshot {
            revision,
            systems,
            compapi,
            self_exact,
            self_templates,
            grants,
            skip_user_auth: config.skip_user_auth.iter().cloned().collect(),
        }
    }
}
