//! The timing side of a probe: when its next check is due and how many checks in a row
//! have failed. The supervisor awaits [`Prober::tick`] inside its one task per instance,
//! so an idle instance costs a timer, not a thread or a loop.

use std::time::Duration;

use bk_core::instance::Probe;
use tokio::time::Instant;

use crate::probe::run_check;
use crate::runner::ProcessHandle;

/// A probe and its schedule.
#[derive(Debug)]
pub(super) struct Prober {
    probe: Probe,
    next: Instant,
    failures: u32,
    passed_once: bool,
    /// Interval used until the first pass (readiness while starting), so a new instance is
    /// seen ready soon after it listens rather than one full period later.
    until_first_pass: Option<Duration>,
}

/// The result of one check.
#[derive(Debug)]
pub(super) struct Outcome {
    /// Why the check failed, if it did.
    pub result: Result<(), String>,
    /// Failures in a row, this one included.
    pub failures: u32,
    /// Whether the failures reached the probe's threshold.
    pub threshold_reached: bool,
}

impl Prober {
    pub(super) fn new(probe: Probe, until_first_pass: Option<Duration>) -> Self {
        let next = Instant::now() + Duration::from_millis(probe.initial_delay_ms);
        Self {
            probe,
            next,
            failures: 0,
            passed_once: false,
            until_first_pass,
        }
    }

    /// Wait until the next check is due, run it, and schedule the one after. Dropping the
    /// future mid-check (another event won) leaves the check due, so it simply runs again.
    pub(super) async fn tick(&mut self, handle: &dyn ProcessHandle, port: Option<u16>) -> Outcome {
        tokio::time::sleep_until(self.next).await;
        let timeout = Duration::from_millis(self.probe.timeout_ms);
        let result = run_check(&self.probe.check, handle, port, timeout).await;
        if result.is_ok() {
            self.failures = 0;
            self.passed_once = true;
        } else {
            self.failures = self.failures.saturating_add(1);
        }
        self.next = Instant::now() + self.interval();
        Outcome {
            threshold_reached: self.failures >= self.probe.failure_threshold,
            failures: self.failures,
            result,
        }
    }

    fn interval(&self) -> Duration {
        let period = Duration::from_millis(self.probe.period_ms);
        match self.until_first_pass {
            Some(fast) if !self.passed_once => fast.min(period),
            _ => period,
        }
    }
}
