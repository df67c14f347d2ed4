//! Constant load on the router: concurrent clients sending GETs and POSTs with bodies,
//! recording every failure and which instance answered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;

use crate::support::*;

#[derive(Debug, Default)]
pub struct Tally {
    pub ok: usize,
    pub failures: Vec<String>,
    /// Instances that answered requests sent after the marker was set.
    pub after_marker: Vec<String>,
}

pub struct Load {
    stop: Arc<AtomicBool>,
    pub marker: Arc<AtomicBool>,
    pub done: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Tally>>,
}

impl Load {
    /// `clients` loops against `path_prefix` (e.g. `/t/demo`), GETs and POSTs in turn.
    pub fn start(addr: SocketAddr, clients: usize, path_prefix: &'static str) -> Self {
        Self::spawn(addr, clients, path_prefix, true)
    }

    /// `clients` loops of GETs only.
    pub fn start_gets(addr: SocketAddr, clients: usize, path_prefix: &'static str) -> Self {
        Self::spawn(addr, clients, path_prefix, false)
    }

    fn spawn(addr: SocketAddr, clients: usize, path_prefix: &'static str, posts: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let marker = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicUsize::new(0));
        let tasks = (0..clients)
            .map(|n| {
                let (stop, marker, done) = (stop.clone(), marker.clone(), done.clone());
                tokio::spawn(async move {
                    let c = client();
                    let mut t = Tally::default();
                    let mut i = 0usize;
                    while !stop.load(Ordering::SeqCst) {
                        i += 1;
                        let after = marker.load(Ordering::SeqCst);
                        let post = posts && (i + n).is_multiple_of(2);
                        let got = if post {
                            let body = vec![b'x'; 1024 + i % 7];
                            send(
                                &c,
                                addr,
                                "POST",
                                "localhost",
                                &format!("{path_prefix}/work/p"),
                                &[],
                                full(body),
                            )
                            .await
                        } else {
                            send(
                                &c,
                                addr,
                                "GET",
                                "localhost",
                                &format!("{path_prefix}/work/g?i={i}"),
                                &[],
                                empty(),
                            )
                            .await
                        };
                        match got {
                            Ok(g) if g.status == StatusCode::OK => {
                                t.ok += 1;
                                let backend =
                                    g.json()["backend"].as_str().unwrap_or("?").to_owned();
                                if after {
                                    t.after_marker.push(backend);
                                }
                            }
                            Ok(g) => t.failures.push(format!("{}: {}", g.status, g.text)),
                            Err(e) => t.failures.push(e),
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                    t
                })
            })
            .collect();
        Self {
            stop,
            marker,
            done,
            tasks,
        }
    }

    /// Wait until `n` more requests completed.
    pub async fn progress(&self, n: usize) {
        let target = self.done.load(Ordering::SeqCst) + n;
        let waited = tokio::time::timeout(PATIENCE, async {
            while self.done.load(Ordering::SeqCst) < target {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "load made no progress");
    }

    pub async fn finish(self) -> Tally {
        self.stop.store(true, Ordering::SeqCst);
        let mut all = Tally::default();
        for t in self.tasks {
            let t = t.await.unwrap();
            all.ok += t.ok;
            all.failures.extend(t.failures);
            all.after_marker.extend(t.after_marker);
        }
        all
    }
}
