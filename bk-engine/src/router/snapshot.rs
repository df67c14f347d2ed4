//! The compiled, immutable form of a [`RouteTable`] that requests read.
//!
//! Compiling does every per-route piece of work once: instance state is looked up (or
//! made) by instance id so counters survive the switch, `X-Script-Name` values are built,
//! and metric handles are registered. A request then does hash lookups and atomic
//! operations only.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use bk_core::http::metrics::{self, Counter};
use http::HeaderValue;

use super::balance::{BackendState, Live, Pool};
use super::table::{Env, HostSettings, RouteTable, env_index};

/// How a request named its route; decides the stripped prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// `/t/<code>/` (stag) or `/o/<code>/` (prod).
    Legacy,
    /// `/<env>--<code>/`.
    Env,
    /// `/<env>--<module>--<code>/`.
    EnvModule,
    /// A sub-domain: no prefix.
    Host,
}

/// Facts about one (app, module, env) that outlive snapshots.
pub(crate) struct RouteMeta {
    pub(crate) app: Box<str>,
    pub(crate) module: Box<str>,
    pub(crate) env: Env,
    /// `X-Script-Name` per prefixed form: legacy, env, env+module.
    script_names: [HeaderValue; 3],
    pub(crate) requests: Counter,
    pub(crate) upstream_errors: Counter,
    pub(crate) retries: Counter,
}

impl RouteMeta {
    pub(crate) fn new(app: &str, module: &str, env: Env) -> Self {
        let legacy = match env {
            Env::Stag => format!("/t/{app}"),
            Env::Prod => format!("/o/{app}"),
        };
        let e = env.as_str();
        // Names were validated by the table builder, so these are valid header values.
        let value = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static("/"));
        let labels = [("app", app), ("module", module), ("env", e)];
        Self {
            app: app.into(),
            module: module.into(),
            env,
            script_names: [
                value(legacy),
                value(format!("/{e}--{app}")),
                value(format!("/{e}--{module}--{app}")),
            ],
            requests: metrics::counter("bk_router_requests_total", &labels),
            upstream_errors: metrics::counter("bk_router_upstream_errors_total", &labels),
            retries: metrics::counter("bk_router_retries_total", &labels),
        }
    }

    /// The prefix the app is mounted at for this form, if any.
    pub(crate) fn script_name(&self, form: Form) -> Option<&HeaderValue> {
        match form {
            Form::Legacy => Some(&self.script_names[0]),
            Form::Env => Some(&self.script_names[1]),
            Form::EnvModule => Some(&self.script_names[2]),
            Form::Host => None,
        }
    }
}

/// A served (app, module, env).
pub(crate) struct Route {
    pub(crate) meta: Arc<RouteMeta>,
    pub(crate) pool: Pool,
}

struct SnapModule {
    name: Box<str>,
    envs: [Option<Route>; 2],
}

struct SnapApp {
    default: Option<usize>,
    /// Few per app: a linear scan beats hashing.
    modules: Vec<SnapModule>,
}

/// What a lookup found.
pub(crate) enum Lookup<'s> {
    Found(&'s Route),
    /// The app is known, but not this module or env (or it has no default module).
    NotDeployed,
    NoApp,
}

/// The immutable table requests read.
pub(crate) struct Snapshot {
    pub(crate) hosts: HostSettings,
    apps: HashMap<Box<str>, SnapApp>,
}

impl Snapshot {
    pub(crate) fn empty() -> Self {
        Self {
            hosts: HostSettings::default(),
            apps: HashMap::new(),
        }
    }

    /// The route of `module` (`None`: the default module) of `app` in `env`.
    pub(crate) fn lookup(&self, app: &str, module: Option<&str>, env: Env) -> Lookup<'_> {
        let Some(a) = self.apps.get(app) else {
            return Lookup::NoApp;
        };
        let m = match module {
            None => a.default.and_then(|i| a.modules.get(i)),
            Some(name) => a.modules.iter().find(|m| &*m.name == name),
        };
        match m.and_then(|m| m.envs[env_index(env)].as_ref()) {
            Some(r) => Lookup::Found(r),
            None => Lookup::NotDeployed,
        }
    }
}

/// Instance and route state by key, kept weakly: an entry lives while a snapshot or a
/// request in flight holds it, so nothing here needs explicit removal.
#[derive(Default)]
pub(crate) struct Registry {
    backends: HashMap<Box<str>, Weak<BackendState>>,
    routes: HashMap<(Box<str>, Box<str>, Env), Weak<RouteMeta>>,
}

impl Registry {
    /// The live state of `instance`, if anything still holds it.
    pub(crate) fn backend(&self, instance: &str) -> Option<Arc<BackendState>> {
        self.backends.get(instance).and_then(Weak::upgrade)
    }

    fn route_meta(&mut self, app: &str, module: &str, env: Env) -> Arc<RouteMeta> {
        let key: (Box<str>, Box<str>, Env) = (app.into(), module.into(), env);
        if let Some(m) = self.routes.get(&key).and_then(Weak::upgrade) {
            return m;
        }
        let m = Arc::new(RouteMeta::new(app, module, env));
        self.routes.insert(key, Arc::downgrade(&m));
        m
    }

    fn backend_state(
        &mut self,
        spec: &super::table::BackendSpec,
        route: &Arc<RouteMeta>,
    ) -> Arc<BackendState> {
        if let Some(b) = self.backend(&spec.instance)
            && b.authority == spec.authority
            && Arc::ptr_eq(&b.route, route)
        {
            return b;
        }
        // New, or the engine reused an id for another address or route: start afresh.
        let b = Arc::new(BackendState::new(
            &spec.instance,
            spec.authority.clone(),
            Arc::clone(route),
        ));
        self.backends
            .insert(spec.instance.as_str().into(), Arc::downgrade(&b));
        b
    }

    fn prune(&mut self) {
        self.backends.retain(|_, w| w.strong_count() > 0);
        self.routes.retain(|_, w| w.strong_count() > 0);
    }

    /// Compile `table`, reusing the state of instances and routes already known.
    pub(crate) fn compile(&mut self, table: RouteTable) -> Snapshot {
        let mut apps = HashMap::with_capacity(table.apps.len());
        for (code, routes) in table.apps {
            let mut modules = Vec::with_capacity(routes.modules.len());
            let mut default = None;
            for (name, envs) in routes.modules {
                if routes.default_module.as_deref() == Some(name.as_str()) {
                    default = Some(modules.len());
                }
                let [stag, prod] = envs;
                let mut compile_env = |env: Env, specs: Option<Vec<_>>| {
                    specs.map(|specs: Vec<super::table::BackendSpec>| {
                        let meta = self.route_meta(&code, &name, env);
                        let live = specs
                            .iter()
                            .map(|s| Live {
                                state: self.backend_state(s, &meta),
                                weight: s.weight,
                            })
                            .collect();
                        Route {
                            meta,
                            pool: Pool::new(live),
                        }
                    })
                };
                let envs = [compile_env(Env::Stag, stag), compile_env(Env::Prod, prod)];
                modules.push(SnapModule {
                    name: name.into(),
                    envs,
                });
            }
            apps.insert(code.into_boxed_str(), SnapApp { default, modules });
        }
        let snapshot = Snapshot {
            hosts: table.hosts,
            apps,
        };
        // After the new snapshot holds its entries: what is left unheld is gone for good.
        self.prune();
        snapshot
    }
}
