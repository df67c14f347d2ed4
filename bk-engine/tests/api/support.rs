//! Fresh, empty databases for tests: see `bk_core::db::testing`.
#![allow(unused_imports)]

pub use bk_core::db::testing::*;
