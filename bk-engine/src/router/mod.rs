//! The app router: serves deployed apps at `/t/<code>/`, `/o/<code>/`, the V7 sub-paths
//! `/<env>--<code>/` and `/<env>--<module>--<code>/`, and (with a root domain) the
//! sub-domains `<code>.<root>` and `stag-dot-<code>.<root>`, as a streaming reverse proxy.
//!
//! How to use it: build a [`RouteTable`] from what runs (the engine derives it from
//! deployments), [`RouterHandle::publish`] it, and mount [`front`] (or [`service`]) on the
//! platform's listener. Before stopping an instance, publish a table without it and
//! [`RouterHandle::drain`] it: together with the connect retry this is what makes a
//! deploy or a scale-down fail no request.
//!
//! The hot path reads an immutable snapshot behind `arc-swap` (one atomic load, no lock,
//! no database), picks the least-loaded healthy instance, and forwards over a pooled
//! keep-alive hyper client with bodies streamed both ways. See `proxy.rs` for the retry
//! policy and `balance.rs` for the balancing choice.

mod balance;
mod body;
mod forward;
mod handle;
mod proxy;
mod reply;
mod resolve;
mod service;
mod snapshot;
mod table;
mod upgrade;

pub use handle::{Drained, ProxyOptions, RouterHandle};
pub use service::{front, service};
pub use table::{BackendSpec, Env, HostSettings, RouteTable, RouteTableBuilder};
