//! Releases on this host: packages cached by digest under `packages/`, unpacked under
//! `releases/<app>/<module>/<release>` (the supervisor's [`ReleaseLayout`]).

use std::path::{Path, PathBuf};

use bk_core::agent_proto::PackageRef;
use bk_core::archive::{ArchiveLimits, unpack_file};
use bk_core::instance::InstanceSpec;

use super::{ClientError, EngineClient};
use crate::release::{ReleaseDirs, ReleaseLayout};

/// Descriptor files whose lone top-level directory is the package root (as the engine).
const ROOT_MARKERS: &[&str] = &["app_desc.yaml", "app_desc.yml", "Procfile", "app.yml"];

/// Package cache and release directories.
#[derive(Debug, Clone)]
pub struct Releases {
    packages: PathBuf,
    layout: ReleaseLayout,
}

impl Releases {
    /// Under `data_dir`: `packages/` and `releases/`.
    pub fn new(data_dir: &Path) -> std::io::Result<Self> {
        let packages = data_dir.join("packages");
        std::fs::create_dir_all(&packages)?;
        std::fs::create_dir_all(data_dir.join("releases"))?;
        Ok(Self {
            packages,
            layout: Self::layout(data_dir),
        })
    }

    /// The release layout the supervisor must use.
    pub fn layout(data_dir: &Path) -> ReleaseLayout {
        ReleaseLayout::new(data_dir.join("releases"))
    }

    /// Make the release of `spec` present: fetch its package unless cached, unpack it.
    pub async fn ensure(
        &self,
        client: &EngineClient,
        spec: &InstanceSpec,
        package: &PackageRef,
    ) -> Result<(), ClientError> {
        let dir = self.layout.release_dir(spec);
        if dir.is_dir() {
            return Ok(());
        }
        if package.sha256.len() != 64 || !package.sha256.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(ClientError::Package(format!(
                "{}: not a SHA-256",
                package.sha256
            )));
        }
        let file = self.packages.join(format!("{}.tar.gz", package.sha256));
        if !file.is_file() {
            client
                .fetch_package(&package.sha256, package.size, &file)
                .await?;
        }
        let sha = package.sha256.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| ClientError::Package(format!("{sha}: {e}")))?;
            }
            match unpack_file(&file, &dir, &ArchiveLimits::default(), ROOT_MARKERS) {
                Ok(_) => Ok(()),
                // Another apply unpacked it meanwhile.
                Err(_) if dir.is_dir() => Ok(()),
                Err(e) => Err(ClientError::Package(format!("{sha}: {e}"))),
            }
        })
        .await
        .map_err(|e| ClientError::Package(e.to_string()))?
    }
}
