//! The router as an axum service, two ways:
//! - [`service`]: every request it receives is app traffic (mount it as the fallback of the
//!   platform router, or as the whole router of the apps host);
//! - [`front`]: the router in front of the platform's router, taking app sub-domains, the
//!   apps host and the app paths (so an app's host never reaches `/login/`) and passing
//!   everything else through. This is what `bk up` mounts.
//!
//! Either way, mount it at the root (`fallback_service`, not `nest`): the router needs the
//! full path to know the app, and it strips the prefix itself.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::future::Either;

use super::handle::{Inner, RouterHandle};
use super::{proxy, resolve};

/// A router answering every request as app traffic: proxied, redirected, or a 404/503
/// that names the app.
pub fn service(handle: RouterHandle) -> Router {
    Router::new()
        .fallback(|State(h): State<RouterHandle>, req: Request| proxy::handle(h.inner, req))
        .with_state(handle)
}

/// `platform` with the app router in front of it.
pub fn front(handle: RouterHandle, platform: Router) -> Router {
    Router::new().fallback_service(Front {
        inner: handle.inner,
        platform,
    })
}

#[derive(Clone)]
struct Front {
    inner: Arc<Inner>,
    platform: Router,
}

impl Front {
    fn owns(&self, req: &Request) -> bool {
        let mut buf = String::new();
        let host = resolve::request_host(req.uri(), req.headers(), &mut buf);
        resolve::owns(&self.inner.snapshot.load(), host, req.uri().path())
    }
}

type ProxyFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl tower::Service<Request<Body>> for Front {
    type Response = Response;
    type Error = Infallible;
    type Future = Either<<Router as tower::Service<Request<Body>>>::Future, ProxyFuture>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower::Service::<Request<Body>>::poll_ready(&mut self.platform, cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.owns(&req) {
            let inner = Arc::clone(&self.inner);
            Either::Right(Box::pin(async move { Ok(proxy::handle(inner, req).await) }))
        } else {
            Either::Left(self.platform.call(req))
        }
    }
}
