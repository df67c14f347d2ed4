//! Restart back-off: how long to wait before starting a crashed instance again.
//!
//! Kubernetes' rule: the delay doubles with each restart up to a cap, and resets once a run
//! has lasted a "stable" period. The policy is pure arithmetic over run durations taken from
//! the injected clock, so it is tested without sleeping.

use std::time::Duration;

/// Delays of the back-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// Delay before the first restart.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// A run at least this long resets the delay to `initial`.
    pub stable_after: Duration,
}

impl Default for BackoffPolicy {
    /// 1 s doubling to 5 min, reset after 10 min of running (Kubernetes uses 10 s..5 min; a
    /// shorter first delay lets a deploy with a flaky first start recover quickly).
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
            stable_after: Duration::from_secs(600),
        }
    }
}

/// Back-off state of one instance.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    /// Restarts since the last stable run.
    streak: u32,
}

impl Backoff {
    /// Fresh state: the next delay is `initial`.
    pub fn new(policy: BackoffPolicy) -> Self {
        Self { policy, streak: 0 }
    }

    /// A run ended after `ran_for_ms`; the delay before the next start.
    pub fn next_delay(&mut self, ran_for_ms: i64) -> Duration {
        let stable_ms = i64::try_from(self.policy.stable_after.as_millis()).unwrap_or(i64::MAX);
        if ran_for_ms >= stable_ms {
            self.streak = 0;
        }
        let factor = 1u32.checked_shl(self.streak.min(31)).unwrap_or(u32::MAX);
        let delay = self
            .policy
            .initial
            .checked_mul(factor)
            .unwrap_or(self.policy.max)
            .min(self.policy.max);
        self.streak = self.streak.saturating_add(1);
        delay
    }

    /// Forget past failures (the spec changed).
    pub fn reset(&mut self) {
        self.streak = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BackoffPolicy {
        BackoffPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(1_000),
            stable_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn doubles_up_to_the_cap() {
        let mut b = Backoff::new(policy());
        let delays: Vec<u128> = (0..7).map(|_| b.next_delay(10).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
    }

    #[test]
    fn a_stable_run_resets_the_delay() {
        let mut b = Backoff::new(policy());
        for _ in 0..5 {
            b.next_delay(10);
        }
        assert_eq!(b.next_delay(59_999), Duration::from_millis(1_000));
        assert_eq!(b.next_delay(60_000), Duration::from_millis(100));
        assert_eq!(b.next_delay(5), Duration::from_millis(200));
        b.reset();
        assert_eq!(b.next_delay(5), Duration::from_millis(100));
    }

    #[test]
    fn many_restarts_do_not_overflow() {
        let mut b = Backoff::new(BackoffPolicy {
            max: Duration::MAX,
            ..policy()
        });
        for _ in 0..100 {
            b.next_delay(0);
        }
        assert!(b.next_delay(0) >= Duration::from_secs(1));
    }
}
