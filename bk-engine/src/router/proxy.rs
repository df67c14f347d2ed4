//! One proxied request: resolve, choose an instance, send, and retry where it is safe.
//!
//! Retry policy (what keeps deploys and scale-downs free of failed requests):
//! - a failed *connect* is retried on another instance of the route, re-read from the
//!   current snapshot (nothing reached the instance; the body is still parked), and the
//!   instance is skipped by new requests for `eject_for`;
//! - an idempotent request without a body (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) is also
//!   retried after any failure before the response head, as nginx's
//!   `proxy_next_upstream error` does (a keep-alive connection the instance closed just as
//!   it was reused);
//! - nothing is retried once a response head arrived, or once a body was sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use http::{Method, Request, StatusCode};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;

use super::balance::{BackendState, InFlight};
use super::body::{Guarded, Parked, UpBody, still_parked};
use super::forward::{Head, clean_response};
use super::handle::Inner;
use super::reply::{self, Failure};
use super::resolve::{self, Resolution};
use super::snapshot::Lookup;

/// Answer `req` as the app router.
pub(crate) async fn handle(inner: Arc<Inner>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let (guard, form, prefix_len) = {
        let mut buf = String::new();
        let host = resolve::request_host(&parts.uri, &parts.headers, &mut buf);
        let snap = inner.snapshot.load();
        let not_found = |f: Failure<'_>| {
            inner.counters.not_found.increment(1);
            reply::failure(&parts, &f)
        };
        match resolve::resolve(&snap, host, parts.uri.path()) {
            Resolution::Proxy {
                route,
                form,
                prefix_len,
            } => {
                route.meta.requests.increment(1);
                match route.pool.pick(&[], &*inner.options.clock) {
                    Some(guard) => (guard, form, prefix_len),
                    None => {
                        inner.counters.unavailable.increment(1);
                        return reply::failure(&parts, &Failure::NoInstance(&route.meta));
                    }
                }
            }
            Resolution::AddSlash => return reply::add_slash(&parts),
            Resolution::NotDeployed { app, env } => {
                return not_found(Failure::NotDeployed { app, env });
            }
            Resolution::NoApp { app } => return not_found(Failure::NoApp { app }),
            Resolution::WrongHost => {
                let apps_host = snap.hosts.apps_host.as_deref().unwrap_or("the apps host");
                return not_found(Failure::WrongHost { apps_host });
            }
            Resolution::Unrouted | Resolution::Platform => return not_found(Failure::Unrouted),
        }
    };
    let script_name = guard.backend.route.script_name(form).cloned();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let mut head = Head::new(
        parts,
        prefix_len,
        script_name,
        peer,
        inner.options.trust_forwarded_headers,
    );
    let on_upgrade = match head.upgrade {
        Some(_) => head.parts.extensions.remove::<OnUpgrade>(),
        None => None,
    };
    send(&inner, &head, body, guard, on_upgrade).await
}

fn is_idempotent(m: &Method) -> bool {
    matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}

async fn send(
    inner: &Inner,
    head: &Head,
    body: Body,
    mut guard: InFlight,
    on_upgrade: Option<OnUpgrade>,
) -> Response {
    let opts = &inner.options;
    let hint = body.size_hint();
    let parked: Option<Parked> = if body.is_end_stream() {
        None
    } else {
        Some(Arc::new(Mutex::new(Some(body))))
    };
    let replayable = parked.is_none() && is_idempotent(&head.parts.method);
    // Instances whose connect failed for this request; allocates only on a retry.
    let mut avoid: Vec<Arc<BackendState>> = Vec::new();
    let mut attempt = 1;
    loop {
        let body = match &parked {
            None => UpBody::Empty,
            Some(p) => UpBody::parked(p, hint),
        };
        let fut = inner
            .client
            .request(head.request(&guard.backend.authority, body));
        let result = match opts.response_timeout {
            None => fut.await,
            Some(limit) => match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => {
                    let meta = &guard.backend.route;
                    meta.upstream_errors.increment(1);
                    return reply::failure(&head.parts, &Failure::Timeout(meta, limit.as_millis()));
                }
            },
        };
        let err = match result {
            Ok(resp) => {
                guard.backend.mark_up();
                return respond(resp, guard, on_upgrade);
            }
            Err(e) => e,
        };
        let backend = &guard.backend;
        let meta = &backend.route;
        meta.upstream_errors.increment(1);
        let connect = err.is_connect();
        if connect {
            let eject_ms = i64::try_from(opts.eject_for.as_millis()).unwrap_or(i64::MAX);
            backend.mark_down(&*opts.clock, eject_ms);
        }
        let retry = attempt < opts.max_attempts
            && (replayable || (connect && parked.as_ref().is_none_or(still_parked)));
        tracing::warn!(
            app = &*meta.app,
            module = &*meta.module,
            env = meta.env.as_str(),
            instance = &*backend.instance,
            connect,
            retry,
            error = %err,
            "app instance failed before answering"
        );
        let failed = if connect {
            Failure::ConnectFailed(meta)
        } else {
            Failure::Upstream(meta)
        };
        if !retry {
            inner.counters.unavailable.increment(1);
            return reply::failure(&head.parts, &failed);
        }
        if connect {
            avoid.push(Arc::clone(backend));
        }
        // The current snapshot: a deploy may have switched instances meanwhile.
        let next = {
            let snap = inner.snapshot.load();
            match snap.lookup(&meta.app, Some(&meta.module), meta.env) {
                Lookup::Found(route) => route.pool.pick(&avoid, &*opts.clock),
                Lookup::NotDeployed | Lookup::NoApp => None,
            }
        };
        let Some(next) = next else {
            inner.counters.unavailable.increment(1);
            return reply::failure(&head.parts, &failed);
        };
        meta.retries.increment(1);
        guard = next;
        attempt += 1;
    }
}

/// Relay the instance's response; for `101 Switching Protocols` start the tunnel.
fn respond(
    mut resp: Response<Incoming>,
    guard: InFlight,
    on_upgrade: Option<OnUpgrade>,
) -> Response {
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client) = on_upgrade {
            let upstream = hyper::upgrade::on(&mut resp);
            clean_response(resp.headers_mut(), true);
            tokio::spawn(super::upgrade::tunnel(client, upstream, guard));
            let (parts, _) = resp.into_parts();
            return Response::from_parts(parts, Body::empty());
        }
        // Switching protocols without being asked cannot be relayed.
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::BAD_GATEWAY;
        return r;
    }
    clean_response(resp.headers_mut(), false);
    resp.map(|b| Body::new(Guarded::new(b, guard)))
}
