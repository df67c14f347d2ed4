//! The router feeder: the route table is derived from what the backend observes, never a
//! second source of truth.
//!
//! For every slot that serves a release, the table lists the instances of that release and
//! generation, of process type `web`, with an ordinal below the serving replica count, that
//! are `ready` and have an address. The driver moves "serving" (switch) and calls
//! [`RouteFeeder::refresh`] before it drains old instances; a background task refreshes on
//! every change the backend reports ([`DeployBackend::subscribe`]), so a crashed instance
//! leaves the table as soon as its status says so.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use bk_core::instance::{AppEnv, InstanceState, ReleaseId};

use super::backend::{DeployBackend, ObservedInstance, Slot};
use crate::router::{BackendSpec, Env, HostSettings, RouteTable, RouterHandle};

/// What a slot serves: a release in a generation, with replicas per process type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The release.
    pub release: ReleaseId,
    /// Its generation.
    pub generation: u32,
    /// Replicas per process type: higher ordinals are not routed (being scaled down).
    pub replicas: HashMap<String, u32>,
}

impl Serving {
    /// Whether `i` belongs to what is served.
    pub fn routes(&self, i: &ObservedInstance) -> bool {
        i.status.release_id == self.release
            && i.generation == self.generation
            && i.process_type.as_str() == "web"
            && self
                .replicas
                .get(i.process_type.as_str())
                .is_some_and(|n| i.ordinal < *n)
    }
}

/// Feeds a [`RouterHandle`] from a backend.
pub struct RouteFeeder {
    backend: Arc<dyn DeployBackend>,
    router: RouterHandle,
    hosts: HostSettings,
    serving: Mutex<BTreeMap<Slot, Serving>>,
    default_modules: Mutex<HashMap<String, String>>,
    publish: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for RouteFeeder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteFeeder").finish_non_exhaustive()
    }
}

impl RouteFeeder {
    /// A feeder publishing to `router` with `hosts`.
    pub fn new(backend: Arc<dyn DeployBackend>, router: RouterHandle, hosts: HostSettings) -> Self {
        Self {
            backend,
            router,
            hosts,
            serving: Mutex::new(BTreeMap::new()),
            default_modules: Mutex::new(HashMap::new()),
            publish: tokio::sync::Mutex::new(()),
        }
    }

    /// The router fed.
    pub fn router(&self) -> &RouterHandle {
        &self.router
    }

    /// Set (or clear) what `slot` serves. Takes effect at the next [`refresh`](Self::refresh).
    pub fn set_serving(&self, slot: &Slot, serving: Option<Serving>) {
        let mut s = self.serving.lock().unwrap_or_else(|e| e.into_inner());
        match serving {
            Some(v) => {
                s.insert(slot.clone(), v);
            }
            None => {
                s.remove(slot);
            }
        }
    }

    /// What `slot` serves.
    pub fn serving(&self, slot: &Slot) -> Option<Serving> {
        self.serving
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(slot)
            .cloned()
    }

    /// Which module `/t/<code>/` and `/o/<code>/` serve for `app` (default: `default`).
    pub fn set_default_module(&self, app: &str, module: &str) {
        self.default_modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(app.to_owned(), module.to_owned());
    }

    /// Rebuild the table from what the backend observes now and publish it.
    pub async fn refresh(&self) {
        let _one = self.publish.lock().await;
        let serving: Vec<(Slot, Serving)> = self
            .serving
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut b = RouteTable::builder(self.hosts.clone());
        for (app, module) in self
            .default_modules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            b = b.default_module(app, module);
        }
        for (slot, s) in serving {
            let observed = match self.backend.observe(&slot).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(error = %e, app = slot.app.as_str(), "router feeder: observe failed; routes kept empty");
                    Vec::new()
                }
            };
            let backends = observed.iter().filter(|i| {
                s.routes(i) && i.status.state == InstanceState::Ready && i.address.is_some()
            });
            let backends: Vec<BackendSpec> = backends
                .filter_map(|i| {
                    BackendSpec::new(i.status.id.as_str(), i.address.as_deref().unwrap_or("")).ok()
                })
                .collect();
            let env = match slot.env {
                AppEnv::Stag => Env::Stag,
                AppEnv::Prod => Env::Prod,
            };
            b = b.route(slot.app.as_str(), slot.module.as_str(), env, backends);
        }
        match b.build() {
            Ok(table) => self.router.publish(table),
            Err(e) => tracing::error!(error = %e, "router feeder: route table refused"),
        }
    }

    /// Refresh on every change the backend reports, until the backend goes away.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        let mut rx = self.backend.subscribe();
        tokio::spawn(async move {
            loop {
                me.refresh().await;
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}
