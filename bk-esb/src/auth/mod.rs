//! Who is calling: the app (secret or HMAC signature, contracts §3 "App auth") and the
//! user (`bk_token` through login, `bk_username` for allow-listed apps).

pub mod app;
pub mod credentials;
pub mod nonce;
pub mod secret_cache;
pub mod signature;
pub mod user;

pub use credentials::Credentials;
pub use nonce::{MemoryNonces, NonceStore};
