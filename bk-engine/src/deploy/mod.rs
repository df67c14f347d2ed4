//! Deploying: the seam between the engine's deployment state machine and wherever
//! instances run. [`backend::DeployBackend`] is that seam; the reconciler drives
//! deployments through it and the app router, and the default backend places instances on
//! agents (`crate::agents`).

pub mod backend;
