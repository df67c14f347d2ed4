//! Composition of the stock binaries.
