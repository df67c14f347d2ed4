//! Port allocation: the agent gives each instance a `PORT` from its configured range.
//!
//! A port is handed out only if no instance of this agent holds it and nothing on the host
//! listens on it (checked by binding it for an instant). The search continues after the
//! last port handed out, so a port an instance just released is not reused at once (its
//! old process may still be closing, and a router may still hold its address).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::ops::RangeInclusive;
use std::sync::Mutex;

use crate::AgentError;

/// Ports of one agent, and which instance holds each.
#[derive(Debug)]
pub struct PortAllocator {
    first: u16,
    last: u16,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Port → holder (an instance id).
    held: BTreeMap<u16, String>,
    /// Where the next search starts.
    cursor: u16,
}

impl PortAllocator {
    /// Allocate from `range` (both ends included).
    pub fn new(range: RangeInclusive<u16>) -> Result<Self, AgentError> {
        let (first, last) = (*range.start(), *range.end());
        if first == 0 || first > last {
            return Err(AgentError::Invalid(format!(
                "port range {first}-{last} must be non-empty and start above 0"
            )));
        }
        Ok(Self {
            first,
            last,
            inner: Mutex::new(Inner {
                held: BTreeMap::new(),
                cursor: first,
            }),
        })
    }

    /// A free port for `holder`.
    pub fn allocate(&self, holder: &str) -> Result<u16, AgentError> {
        let mut inner = self.lock();
        let span = u32::from(self.last - self.first) + 1;
        let mut port = inner.cursor;
        for _ in 0..span {
            let next = if port == self.last {
                self.first
            } else {
                port + 1
            };
            if !inner.held.contains_key(&port) && free_on_host(port) {
                inner.held.insert(port, holder.to_owned());
                inner.cursor = next;
                return Ok(port);
            }
            port = next;
        }
        Err(AgentError::PortsExhausted {
            first: self.first,
            last: self.last,
        })
    }

    /// Hold a fixed `port` for `holder` (inside the range or not). Holding a port one
    /// already holds is fine; a port another instance holds is a conflict.
    pub fn reserve(&self, port: u16, holder: &str) -> Result<(), AgentError> {
        let mut inner = self.lock();
        match inner.held.get(&port) {
            Some(h) if h != holder => Err(AgentError::Conflict(format!(
                "port {port} is held by instance {h}"
            ))),
            Some(_) => Ok(()),
            None => {
                inner.held.insert(port, holder.to_owned());
                Ok(())
            }
        }
    }

    /// Give `port` back, if `holder` holds it.
    pub fn release(&self, port: u16, holder: &str) {
        let mut inner = self.lock();
        if inner.held.get(&port).is_some_and(|h| h == holder) {
            inner.held.remove(&port);
        }
    }

    /// Whether nothing on the host listens on `port` now. A held port whose instance is
    /// not running should be free; when it is not, another process took it.
    pub fn free_on_host(&self, port: u16) -> bool {
        free_on_host(port)
    }

    /// Ports held now.
    pub fn held(&self) -> usize {
        self.lock().held.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent even if a holder panicked mid-call: every update is one
        // insert or remove.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Whether nothing listens on `port` on any IPv4 address. Binding the wildcard address
/// fails when any socket listens on the port; the probe socket closes at once.
fn free_on_host(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A range of `n` ports starting at a port some listener of this test holds, so the
    /// range lies where the OS hands out ephemeral ports to nobody else in this test.
    fn range_after_listener(n: u16) -> (TcpListener, RangeInclusive<u16>) {
        let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let p = l.local_addr().unwrap().port();
        (l, p..=p.saturating_add(n - 1))
    }

    #[test]
    fn skips_ports_in_use_on_the_host_and_never_repeats() {
        let (listener, range) = range_after_listener(40);
        let busy = listener.local_addr().unwrap().port();
        let a = PortAllocator::new(range.clone()).unwrap();
        let mut got = Vec::new();
        while let Ok(p) = a.allocate("x") {
            got.push(p);
        }
        assert!(!got.contains(&busy), "handed out a port with a listener");
        let mut unique = got.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), got.len(), "a port was handed out twice");
        assert!(got.iter().all(|p| range.contains(p)));
        assert!(matches!(
            a.allocate("y"),
            Err(AgentError::PortsExhausted { .. })
        ));
        assert_eq!(a.held(), got.len());
    }

    #[test]
    fn released_ports_come_back_after_the_others() {
        let (_l, range) = range_after_listener(12);
        let a = PortAllocator::new(range).unwrap();
        let p1 = a.allocate("one").unwrap();
        let p2 = a.allocate("two").unwrap();
        a.release(p1, "someone-else");
        assert_eq!(a.held(), 2, "only the holder releases");
        a.release(p1, "one");
        let p3 = a.allocate("three").unwrap();
        assert!(
            p3 != p1 && p3 != p2,
            "the cursor moves on before reusing {p1}"
        );
    }

    #[test]
    fn fixed_ports_conflict_between_instances() {
        let a = PortAllocator::new(20_000..=20_001).unwrap();
        a.reserve(8000, "web-1").unwrap();
        a.reserve(8000, "web-1").unwrap();
        let err = a.reserve(8000, "web-2").unwrap_err();
        assert!(err.to_string().contains("held by instance web-1"), "{err}");
        a.release(8000, "web-1");
        a.reserve(8000, "web-2").unwrap();
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(PortAllocator::new(0..=10).is_err());
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 10..=5;
        assert!(PortAllocator::new(reversed).is_err());
    }
}
