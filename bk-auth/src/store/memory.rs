//! In-memory test doubles of the store traits, for unit tests of the logic above them.
//! The real stores are in [`super::sql`]; the conformance suite runs against those.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bk_core::clock::Millis;

use super::{ThrottleStore, ThrottleUpdate};
use crate::error::Result;
use crate::model::ThrottleState;

/// Throttle state in a map.
#[derive(Debug, Default)]
pub struct MemoryThrottle(Mutex<HashMap<String, ThrottleState>>);

impl MemoryThrottle {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, ThrottleState>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn clear_prefix_or_key(&self, matches: impl Fn(&str) -> bool) {
        for (_, s) in self.map().iter_mut().filter(|(k, _)| matches(k)) {
            s.failures = 0;
            s.blocked_until = 0;
        }
    }
}

#[async_trait]
impl ThrottleStore for MemoryThrottle {
    async fn get(&self, key: &str) -> Result<Option<ThrottleState>> {
        Ok(self.map().get(key).copied())
    }
    async fn modify(
        &self,
        keys: &[String],
        update: &ThrottleUpdate<'_>,
    ) -> Result<Vec<Option<ThrottleState>>> {
        let mut m = self.map();
        let current: Vec<Option<ThrottleState>> = keys.iter().map(|k| m.get(k).copied()).collect();
        for (k, s) in keys.iter().zip(update(&current)) {
            if let Some(s) = s {
                m.insert(k.clone(), s);
            }
        }
        Ok(current)
    }
    async fn clear(&self, key: &str) -> Result<()> {
        self.clear_prefix_or_key(|k| k == key);
        Ok(())
    }
    async fn clear_prefix(&self, prefix: &str) -> Result<()> {
        self.clear_prefix_or_key(|k| k.starts_with(prefix));
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
    async fn purge(&self, quiet_before: Millis, known_before: Millis) -> Result<u64> {
        let mut m = self.map();
        let n = m.len();
        m.retain(|_, s| {
            s.last_failure_at >= quiet_before
                || s.known_at >= known_before
                || s.blocked_until >= quiet_before
        });
        Ok((n - m.len()) as u64)
    }
}
