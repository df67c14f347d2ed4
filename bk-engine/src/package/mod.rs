//! Packages: what a developer uploads to deploy an app, and everything the engine needs to
//! know about one before releasing it.
//!
//! A package is a `.tar.gz` (or a directory the CLI packs into one) holding the app's code
//! and its descriptors: `app_desc.yaml` (BlueKing `spec_version: 2` or `specVersion: 3`), a
//! `Procfile`, or a V6 S-mart `app.yml` (contracts §6). Packages are untrusted: [`unpack`]
//! refuses absolute paths, `..`, links out of the tree, hard links, special files and bombs,
//! and writes nothing at the destination unless the whole archive is good. [`describe_dir`]
//! turns the descriptors into one [`PackageDesc`]; [`stage`] does both and computes the
//! [`PackageDigest`] recorded with the release. [`pack_dir`] is the CLI side.
//!
//! Everything here is blocking file work: async callers run it on a blocking thread.

mod app_desc;
mod describe;
mod digest;
mod error;
mod fields;
mod limits;

mod model;
mod node;
mod pack;
mod procfile;
mod rules;
mod smart;
mod stage;
mod unpack;

pub use app_desc::{APP_DESC_FILE, parse_app_desc};
pub use describe::describe_dir;
pub use digest::PackageDigest;
pub use error::PackageError;
pub use limits::Limits;
pub use model::{
    Env, EnvVars, ModuleDesc, PackageDesc, PackageFormat, Probe, ProbeAction, ProbePort,
    ProcessDesc, UnknownKey,
};
pub use node::Node;
pub use pack::{PackStats, pack_dir, pack_to};
pub use procfile::{PROCFILE, ProcfileEntry, parse_procfile};
pub use smart::{SMART_FILE, parse_smart};
pub use stage::{Staged, stage};
pub use unpack::{ROOT_MARKERS, Unpacked, unpack, unpack_file};

#[cfg(test)]
mod tests;
