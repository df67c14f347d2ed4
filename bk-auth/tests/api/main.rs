//! The one integration test binary of bk-auth.

mod storage;
mod support;
mod oidc;
mod sdk;
