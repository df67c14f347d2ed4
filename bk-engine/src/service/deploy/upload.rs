//! Uploading a package: keep it by digest, check it unpacks and describes, remember it for
//! the app's module. Errors name the file and field (`app_desc.yaml: modules.default...`).

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::super::EngineService;
use super::super::access::Caller;
use crate::error::{EngineError, Result};
use crate::model::{ModuleName, UploadedPackage};
use crate::package::{Limits, PackageDesc, PackageDigest, stage};

/// Largest package accepted, bytes.
pub const MAX_PACKAGE_BYTES: usize = 256 * 1024 * 1024;

/// An uploaded package.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UploadedView {
    /// SHA-256 of the archive: deploy it with `{"package": "<digest>"}`.
    pub digest: String,
    /// Bytes.
    pub size: u64,
    /// The package's version label.
    pub version: String,
    /// Process types of the module in the package.
    pub processes: Vec<String>,
    /// Things worth knowing that do not stop a deploy.
    pub warnings: Vec<String>,
}

impl EngineService {
    /// Store `bytes` (a `.tar.gz`) as a package of `module` of app `code`.
    pub async fn upload_package(
        self: &Arc<Self>,
        who: &Caller,
        code: &str,
        module: &str,
        bytes: Vec<u8>,
    ) -> Result<UploadedView> {
        let app = self.visible_app(who, code).await?;
        let module = ModuleName::parse(module)?;
        if !self
            .stores
            .modules
            .modules(app.code.as_str())
            .await?
            .iter()
            .any(|m| m.name == module)
        {
            return Err(EngineError::NotFound(format!(
                "module {module} of app {}",
                app.code
            )));
        }
        if bytes.is_empty() {
            return Err(EngineError::Invalid(
                "package: the body is empty; send a .tar.gz".into(),
            ));
        }
        if bytes.len() > MAX_PACKAGE_BYTES {
            return Err(EngineError::Invalid(format!(
                "package: larger than {MAX_PACKAGE_BYTES} bytes"
            )));
        }
        let rt = self.runtime()?.clone();
        let digest = PackageDigest::of_bytes(&bytes);
        let (desc, bytes) =
            tokio::task::spawn_blocking(move || -> Result<(PackageDesc, Vec<u8>)> {
                let dir = tempfile::tempdir()
                    .map_err(|e| EngineError::Internal(format!("temporary directory: {e}")))?;
                let archive = dir.path().join("package.tar.gz");
                std::fs::write(&archive, &bytes)
                    .map_err(|e| EngineError::Internal(format!("temporary file: {e}")))?;
                let staged = stage(&archive, &dir.path().join("root"), &Limits::default())
                    .map_err(|e| EngineError::Invalid(format!("package rejected: {e}")))?;
                Ok((staged.desc, bytes))
            })
            .await
            .map_err(|e| EngineError::Internal(format!("staging task: {e}")))??;
        let mdesc = desc.module(module.as_str()).or_else(|| {
            (module.as_str() == ModuleName::DEFAULT)
                .then(|| desc.default_module())
                .flatten()
        });
        let Some(mdesc) = mdesc else {
            return Err(EngineError::Invalid(format!(
                "package rejected: it describes modules {}, not {module}",
                desc.modules
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if mdesc.processes.is_empty() {
            return Err(EngineError::Invalid(format!(
                "package rejected: module {} declares no processes",
                mdesc.name
            )));
        }
        let mut warnings = desc.warnings.clone();
        if let Some(pkg_code) = &desc.app_code
            && pkg_code != &app.code
        {
            warnings.push(format!(
                "the package names app {pkg_code}; it is deployed as {}",
                app.code
            ));
        }
        let processes = mdesc.processes.iter().map(|p| p.name.clone()).collect();
        let stored = rt
            .packages
            .put(&bytes)
            .await
            .map_err(|e| EngineError::Internal(format!("package store: {e}")))?;
        debug_assert_eq!(stored.digest, digest);
        let pkg = UploadedPackage {
            digest: digest.as_str().to_owned(),
            size: stored.size,
            version: desc.version.clone().unwrap_or_default(),
            uploaded_by: who.username().to_owned(),
            uploaded_at: self.clock.now_ms(),
        };
        let audit = self.entry(
            who,
            Some(app.code.as_str()),
            "package.upload",
            format!("module {module}"),
            serde_json::json!({"digest": pkg.digest, "size": pkg.size}),
        );
        self.stores
            .releases
            .put_package(app.code.as_str(), &module, &pkg, &desc, &audit)
            .await?;
        Ok(UploadedView {
            digest: pkg.digest,
            size: pkg.size,
            version: pkg.version,
            processes,
            warnings,
        })
    }
}
