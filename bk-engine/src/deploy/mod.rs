//! Deploying: the seam between the engine's deployment state machine and wherever
//! instances run. [`backend::DeployBackend`] is that seam; the reconciler drives
//! deployments through it and the app router; [`packages::PackageStore`] keeps released
//! packages by digest for backends and agents to fetch.

pub mod agents;
pub mod backend;
pub mod feeder;
pub mod local;
pub mod packages;
