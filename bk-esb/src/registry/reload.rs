//! Keeps the snapshot in step with the store: at once after this process's own writes
//! ([`Reloader::reload`]), and by polling the revision for other processes' writes
//! ([`Reloader::spawn`]). A failed reload keeps serving the previous snapshot.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::Registry;
use crate::error::Result;
use crate::store::ConfigStore;

/// Rebuilds the registry's snapshot from a [`ConfigStore`].
#[derive(Clone)]
pub struct Reloader {
    registry: Arc<Registry>,
    store: Arc<dyn ConfigStore>,
    // One rebuild at a time, so an older read never replaces a newer snapshot.
    lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader of `registry` from `store`.
    pub fn new(registry: Arc<Registry>, store: Arc<dyn ConfigStore>) -> Self {
        Self {
            registry,
            store,
            lock: Arc::new(Mutex::new(())),
        }
    }

    /// Read everything and publish it, unless the snapshot is already at that revision.
    pub async fn reload(&self) -> Result<()> {
        let _one = self.lock.lock().await;
        let (revision, config) = self.store.load().await?;
        if revision != self.registry.load().revision || revision == 0 {
            self.registry.publish(&config, revision);
        }
        Ok(())
    }

    /// Reload when the stored revision differs from the snapshot's.
    pub async fn refresh(&self) -> Result<()> {
        if self.store.revision().await? != self.registry.load().revision {
            self.reload().await?;
        }
        Ok(())
    }

    /// Poll every `every` until the returned handle is aborted or dropped with the runtime.
    pub fn spawn(self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.refresh().await {
                    tracing::warn!(error = %e, "esb: configuration reload failed; serving the previous one");
                }
            }
        })
    }
}
