//! TEMPORARY runner (helper session): deleted once tests/api/main.rs exists.
#[path = "api/oidc.rs"]
mod oidc;
#[path = "api/sdk.rs"]
mod sdk;
