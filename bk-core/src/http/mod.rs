//! HTTP plumbing shared by every service: the BK envelopes ([`envelope`]) and their
//! OpenAPI schemas (`docs`, feature `openapi`), the request context and envelope-aware
//! extractors ([`context`], [`extract`]), request ids, Prometheus metrics ([`metrics`]),
//! the common middleware stack ([`stack`]) and who the client is behind proxies
//! ([`forwarded`]).

pub mod context;
#[cfg(feature = "openapi")]
pub mod docs;
pub mod envelope;
pub mod extract;
#[cfg(feature = "openapi")]
pub mod extractor_docs;
pub mod forwarded;
pub mod metrics;
pub mod observe;
pub mod request_id;
pub mod stack;
pub mod token;

pub use context::ApiContext;
pub use envelope::Style;
pub use request_id::RequestId;
