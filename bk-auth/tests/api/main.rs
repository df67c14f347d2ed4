//! The one integration test binary of bk-auth.

mod oidc;
mod sdk;
mod storage;
mod support;
