//! Where a release's files are on this host. The agent unpacks releases (a later piece);
//! the supervisor only needs to find the directory an instance runs in.

use std::path::PathBuf;

use bk_core::instance::InstanceSpec;

/// Maps an instance to the directory of its unpacked release.
pub trait ReleaseDirs: Send + Sync + std::fmt::Debug {
    /// The release root of `spec` (its `workdir` is resolved below it).
    fn release_dir(&self, spec: &InstanceSpec) -> PathBuf;
}

/// The default layout: `<root>/<app_code>/<module>/<release_id>`. Every part is a validated
/// name, so the path cannot leave `root`.
#[derive(Debug, Clone)]
pub struct ReleaseLayout {
    root: PathBuf,
}

impl ReleaseLayout {
    /// Releases under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl ReleaseDirs for ReleaseLayout {
    fn release_dir(&self, spec: &InstanceSpec) -> PathBuf {
        self.root
            .join(spec.app_code.as_str())
            .join(spec.module.as_str())
            .join(spec.release_id.as_str())
    }
}

/// The working directory of `spec`: its release directory joined with its `workdir`.
pub fn working_dir(dirs: &dyn ReleaseDirs, spec: &InstanceSpec) -> PathBuf {
    let mut dir = dirs.release_dir(spec);
    for part in spec.workdir.parts() {
        dir.push(part);
    }
    dir
}
