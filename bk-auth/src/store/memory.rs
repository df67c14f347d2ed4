//! In-memory test doubles of the store traits, for unit tests of the logic above them.
//! The real stores are in [`super::sql`]; the conformance suite runs against those.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bk_core::clock::Millis;

use super::ThrottleStore;
use crate::error::Result;
use crate::model::ThrottleState;

/// Throttle state in a map.
#[derive(Debug, Default)]
pub struct MemoryThrottle(Mutex<HashMap<String, ThrottleState>>);

impl MemoryThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, ThrottleState>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl ThrottleStore for MemoryThrottle {
    async fn get(&self, key: &str) -> Result<Option<ThrottleState>> {
        Ok(self.map().get(key).copied())
    }
    async fn put(&self, key: &str, state: &ThrottleState) -> Result<()> {
        self.map().insert(key.to_owned(), *state);
        Ok(())
    }
    async fn clear(&self, key: &str) -> Result<()> {
        self.map().remove(key);
        Ok(())
    }
    async fn blocked(&self, now: Millis) -> Result<Vec<(String, ThrottleState)>> {
        Ok(self
            .map()
            .iter()
            .filter(|(_, s)| s.blocked_until > now)
            .map(|(k, s)| (k.clone(), *s))
            .collect())
    }
    async fn purge(&self, before: Millis) -> Result<u64> {
        let mut m = self.map();
        let n = m.len();
        m.retain(|_, s| s.last_failure_at >= before);
        Ok((n - m.len()) as u64)
    }
}
