//! Tests that look across crates.

mod observability;
mod openapi;
mod outage;
mod tidy;
