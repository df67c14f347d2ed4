//! The SDK a SaaS app (or another BK service) uses to require a BK login.
//!
//! - [`HttpLoginClient`]: asks the login service's V2 API who a `bk_token` belongs to,
//!   with a short cache; it implements [`bk_core::identity::TokenVerifier`], so code
//!   written against the trait also works in the login process with the service itself.
//! - [`LoginLayer`]: a tower layer sending browsers to the login page, answering `401` to
//!   scripts and `503` when login is unreachable.
//! - [`CurrentUser`]: the axum extractor handlers use to get the user.
//!
//! Built without the `server` feature: apps do not compile the login service.

mod cache;
pub mod client;
pub mod extract;
pub mod layer;

pub use cache::TokenCache;
pub use client::{HttpLoginClient, HttpLoginClientBuilder};
pub use extract::CurrentUser;
pub use layer::{LoginLayer, RequireLogin};
