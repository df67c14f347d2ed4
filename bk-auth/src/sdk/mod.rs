//! The SDK a SaaS app (or another BK service) uses to require a BK login.
//!
//! - [`HttpLoginClient`]: asks the login service's V2 API who a `bk_token` belongs to,
//!   with a short cache; it implements [`bk_core::identity::TokenVerifier`], so code
//!   written against the trait also works in the login process with the service itself.
//! - [`LoginLayer`]: a tower layer sending browsers to the login page, answering `401` to
//!   scripts and `503` when login is unreachable.
//! - [`CurrentUser`]: the axum extractor handlers use to get the user.
//!
//! Built without the `server` feature: apps do not compile the login service. The HTTP
//! client needs feature `client` (reqwest); without it, apps verify tokens with their own
//! [`bk_core::identity::TokenVerifier`] (e.g. the login service in the same process).

#[cfg(feature = "client")]
mod cache;
#[cfg(feature = "client")]
pub mod client;
pub mod extract;
pub mod layer;

#[cfg(feature = "client")]
pub use cache::TokenCache;
#[cfg(feature = "client")]
pub use client::{HttpLoginClient, HttpLoginClientBuilder};
pub use extract::CurrentUser;
pub use layer::{LoginLayer, RequireLogin};
