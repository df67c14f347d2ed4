//! The task that owns one instance: start its process, run its probes, restart it with
//! back-off when it dies, stop it when its desired spec changes or goes away.
//!
//! All waiting happens in one `select!` over the process exit, the desired-spec channel
//! and the probe timers, so an idle instance costs one parked task and its timers.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bk_core::instance::{
    ExitRecord, InstanceId, InstanceSpec, InstanceState, InstanceStatus, PortSpec, Probe,
    ProbeCheck,
};
use tokio::sync::watch;

use super::Shared;
use super::prober::Prober;
use crate::backoff::Backoff;
use crate::limits::Enforcement;
use crate::release::working_dir;
use crate::runner::{ProcessHandle, ProcessSpec};

/// How a run of the process ended.
enum RunEnd {
    /// The desired spec changed (or went away): stop and let the caller decide.
    Changed,
    /// The process died or was killed by the liveness probe.
    Exited { exit: ExitRecord, why: String },
}

pub(super) struct Actor {
    shared: Arc<Shared>,
    id: InstanceId,
    desired: watch::Receiver<Option<InstanceSpec>>,
    status: watch::Sender<InstanceStatus>,
    backoff: Backoff,
    /// The port this instance holds (kept across restarts of one spec).
    port: Option<u16>,
    /// A one-off task: run once, never restarted; it ends as `stopped` with its exit.
    once: bool,
}

impl Actor {
    pub(super) fn new(
        shared: Arc<Shared>,
        id: InstanceId,
        desired: watch::Receiver<Option<InstanceSpec>>,
        status: watch::Sender<InstanceStatus>,
        once: bool,
    ) -> Self {
        let backoff = Backoff::new(shared.config.backoff);
        Self {
            shared,
            id,
            desired,
            status,
            backoff,
            port: None,
            once,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let spec = self.desired.borrow_and_update().clone();
            match spec {
                Some(spec) => self.run_spec(spec).await,
                None => {
                    self.release_port();
                    self.set(|s| {
                        s.state = InstanceState::Stopped;
                        s.reason = Some("stopped on request".into());
                        s.pid = None;
                        s.port = None;
                    });
                    if self.shared.retire(&self.id, &self.desired) {
                        tracing::info!(instance = %self.id, "instance removed");
                        return;
                    }
                }
            }
        }
    }

    /// Keep `spec` running until the desired spec is something else.
    async fn run_spec(&mut self, spec: InstanceSpec) {
        self.release_port();
        self.backoff.reset();
        self.set(|s| {
            s.release_id = spec.release_id.clone();
            s.restarts = 0;
        });
        let mut attempts: u32 = 0;
        loop {
            if attempts > 0 {
                self.set(|s| s.restarts = s.restarts.saturating_add(1));
            }
            attempts = attempts.saturating_add(1);
            let handle = match self.start(&spec).await {
                Ok(h) => h,
                Err(reason) if self.once => {
                    tracing::warn!(instance = %self.id, %reason, "task could not start");
                    self.set(|s| {
                        s.state = InstanceState::Failed;
                        s.reason = Some(reason);
                        s.pid = None;
                    });
                    changed_from(&mut self.desired, &spec).await;
                    return;
                }
                Err(reason) => {
                    let delay = self.backoff.next_delay(0);
                    tracing::warn!(instance = %self.id, %reason, "instance could not start");
                    self.set(|s| {
                        s.state = InstanceState::Failed;
                        s.reason = Some(format!("{reason}; retrying in {}", secs(delay)));
                        s.pid = None;
                    });
                    if self.pause(delay, &spec).await {
                        return;
                    }
                    continue;
                }
            };
            let started_ms = self.shared.clock.now_ms();
            match self.supervise(&spec, handle.as_ref()).await {
                RunEnd::Changed => {
                    self.set(|s| s.state = InstanceState::Stopping);
                    let exit = handle
                        .stop(Duration::from_millis(spec.grace_period_ms))
                        .await;
                    tracing::info!(instance = %self.id, %exit, "instance stopped");
                    self.set(|s| {
                        s.state = InstanceState::Stopped;
                        s.reason = None;
                        s.pid = None;
                        s.last_exit = Some(exit);
                    });
                    return;
                }
                RunEnd::Exited { exit, why } if self.once => {
                    tracing::info!(instance = %self.id, %why, "task ended");
                    self.release_port();
                    self.set(|s| {
                        s.state = InstanceState::Stopped;
                        s.reason = Some(why);
                        s.pid = None;
                        s.last_exit = Some(exit);
                    });
                    changed_from(&mut self.desired, &spec).await;
                    return;
                }
                RunEnd::Exited { exit, why } => {
                    let delay = self.backoff.next_delay(exit.at_ms - started_ms);
                    tracing::warn!(instance = %self.id, %why, "instance ended; restarting in {}", secs(delay));
                    self.set(|s| {
                        s.state = InstanceState::BackOff;
                        s.reason = Some(format!("{why}; restarting in {}", secs(delay)));
                        s.pid = None;
                        s.last_exit = Some(exit);
                    });
                    if self.pause(delay, &spec).await {
                        return;
                    }
                }
            }
        }
    }

    /// Start one process of `spec`; `Err` is the reason for people.
    async fn start(&mut self, spec: &InstanceSpec) -> Result<Arc<dyn ProcessHandle>, String> {
        let sh = &self.shared;
        let dir = working_dir(sh.releases.as_ref(), spec);
        if !dir.is_dir() {
            return Err(format!(
                "working directory {} does not exist (is release {} unpacked?)",
                dir.display(),
                spec.release_id
            ));
        }
        let holder = self.id.as_str();
        let port = match spec.port {
            // Keep the port across restarts, unless another process took it meanwhile (the
            // old process is gone, so a listener there is not ours): then take a new one
            // rather than crash-loop on a port that cannot be bound.
            PortSpec::Auto => match self.port {
                Some(p) if sh.ports.free_on_host(p) => Some(p),
                held => {
                    if let Some(p) = held {
                        tracing::warn!(instance = %self.id, port = p, "port taken by another process; moving");
                        sh.ports.release(p, holder);
                        self.port = None;
                    }
                    Some(sh.ports.allocate(holder).map_err(|e| e.to_string())?)
                }
            },
            PortSpec::Fixed { port } => {
                sh.ports.reserve(port, holder).map_err(|e| e.to_string())?;
                Some(port)
            }
            PortSpec::None => None,
        };
        self.port = port;
        let mut env: Vec<(String, String)> = spec
            .env_vars
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        if let Some(p) = port {
            env.push(("PORT".into(), p.to_string()));
        }
        let log = sh.logs.open_run(&self.id).map_err(|e| e.to_string())?;
        let n = sh.starts.fetch_add(1, Ordering::Relaxed);
        let handle = sh
            .runner
            .start(ProcessSpec {
                name: format!("{}.{n}", self.id),
                argv: spec.command.to_argv(),
                dir,
                env,
                resources: spec.resources.clone(),
                grace: Duration::from_millis(spec.grace_period_ms),
                log,
            })
            .await
            .map_err(|e| e.to_string())?;
        let unenforced: Vec<String> = handle
            .limits()
            .iter()
            .filter(|(_, how)| matches!(how, Enforcement::NotEnforced(_)))
            .map(|(limit, how)| format!("{limit}: {how}"))
            .collect();
        if !unenforced.is_empty() {
            tracing::warn!(instance = %self.id, limits = %unenforced.join("; "), "some limits are not enforced on this host");
        }
        Ok(handle)
    }

    /// Watch a running process until it ends or the desired spec changes.
    async fn supervise(&mut self, spec: &InstanceSpec, handle: &dyn ProcessHandle) -> RunEnd {
        let port = self.port;
        let now = self.shared.clock.now_ms();
        let readiness = readiness_probe(spec, port);
        self.set(|s| {
            s.state = if readiness.is_some() {
                InstanceState::Starting
            } else {
                InstanceState::Ready
            };
            s.reason = None;
            s.pid = handle.pid();
            s.port = port;
            s.started_at_ms = Some(now);
        });
        tracing::info!(instance = %self.id, pid = ?handle.pid(), ?port, "instance started");
        let fast = Some(self.shared.config.startup_probe_interval);
        let mut ready = readiness.map(|p| Prober::new(p, fast));
        let mut live = spec.liveness.clone().map(|p| Prober::new(p, None));
        loop {
            tokio::select! {
                exit = handle.wait() => {
                    let why = exit.to_string();
                    return RunEnd::Exited { exit, why };
                }
                () = changed_from(&mut self.desired, spec) => return RunEnd::Changed,
                out = tick(&mut ready, handle, port) => {
                    let (state, has_reason) = {
                        let s = self.status.borrow();
                        (s.state, s.reason.is_some())
                    };
                    match out.result {
                        // A pass also clears the reason of failures below the threshold.
                        Ok(()) if state != InstanceState::Ready || has_reason => self.set(|s| {
                            s.state = InstanceState::Ready;
                            s.reason = None;
                        }),
                        Ok(()) => {}
                        Err(e) => {
                            let unready = state == InstanceState::Unready
                                || (state == InstanceState::Ready && out.threshold_reached);
                            if unready && state == InstanceState::Ready {
                                tracing::warn!(instance = %self.id, reason = %e, "instance unready");
                            }
                            self.set(|s| {
                                if unready {
                                    s.state = InstanceState::Unready;
                                }
                                s.reason = Some(format!("readiness: {e}"));
                            });
                        }
                    }
                }
                out = tick(&mut live, handle, port) => {
                    if let (Err(e), true) = (&out.result, out.threshold_reached) {
                        self.set(|s| {
                            s.state = InstanceState::Stopping;
                            s.reason = Some(format!("liveness: {e}"));
                        });
                        let exit = handle.stop(Duration::from_millis(spec.grace_period_ms)).await;
                        let why = format!("liveness failed {} times ({e}); {exit}", out.failures);
                        return RunEnd::Exited { exit, why };
                    }
                }
            }
        }
    }

    /// Sleep `delay` unless the desired spec changes first (then `true`).
    async fn pause(&mut self, delay: Duration, spec: &InstanceSpec) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => false,
            () = changed_from(&mut self.desired, spec) => true,
        }
    }

    fn release_port(&mut self) {
        if let Some(p) = self.port.take() {
            self.shared.ports.release(p, self.id.as_str());
        }
    }

    fn set(&self, f: impl FnOnce(&mut InstanceStatus)) {
        self.status.send_modify(f);
        self.shared.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// Resolves when the desired spec is no longer `spec` (or its sender is gone).
async fn changed_from(desired: &mut watch::Receiver<Option<InstanceSpec>>, spec: &InstanceSpec) {
    loop {
        if desired.changed().await.is_err() {
            return;
        }
        if desired.borrow_and_update().as_ref() != Some(spec) {
            return;
        }
    }
}

/// The next outcome of an optional prober; never resolves without one.
async fn tick(
    prober: &mut Option<Prober>,
    handle: &dyn ProcessHandle,
    port: Option<u16>,
) -> super::prober::Outcome {
    match prober {
        Some(p) => p.tick(handle, port).await,
        None => std::future::pending().await,
    }
}

/// The spec's readiness probe, or the default: the port accepts TCP connections. An
/// instance without port and probe is ready once it runs.
fn readiness_probe(spec: &InstanceSpec, port: Option<u16>) -> Option<Probe> {
    match (&spec.readiness, port) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(_)) => Some(Probe::new(ProbeCheck::TcpSocket { port: None })),
        (None, None) => None,
    }
}

/// A delay for people: `1.5 s`.
fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}
