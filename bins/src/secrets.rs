//! Secrets the platform generates on first start and keeps in the data directory
//! (`secrets/` 0700, files 0600), unless the operator provides them in the environment.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::datadir;

/// The service-trust token: `BK_ESB_TOKEN`, else `<data_dir>/secrets/esb_token`, created
/// with a random value when missing.
pub fn esb_token(data_dir: &Path) -> anyhow::Result<String> {
    env_or_file(data_dir, "BK_ESB_TOKEN", "esb_token")
}

/// The key signing login-form CSRF tokens: `BK_CSRF_KEY` (at least 32 bytes), else
/// `<data_dir>/secrets/csrf_key`, created with a random value when missing.
pub fn csrf_key(data_dir: &Path) -> anyhow::Result<String> {
    let key = env_or_file(data_dir, "BK_CSRF_KEY", "csrf_key")?;
    if key.len() < 32 {
        // The length only: the value is a secret.
        anyhow::bail!(
            "BK_CSRF_KEY must be at least 32 bytes long (it has {})",
            key.len()
        );
    }
    Ok(key)
}

/// The token with which the platform's own services call the V6 appengine API
/// (`X-APP-CODE: paas`): `BK_PAAS_SERVICE_TOKEN`, else `<data_dir>/secrets/paas_token`.
pub fn paas_service_token(data_dir: &Path) -> anyhow::Result<String> {
    env_or_file(data_dir, "BK_PAAS_SERVICE_TOKEN", "paas_token")
}

fn env_or_file(data_dir: &Path, env: &str, name: &str) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var(env)
        && !t.is_empty()
    {
        return Ok(t);
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(name);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_owned();
        if !t.is_empty() {
            datadir::restrict(&dir)?;
            datadir::restrict(&path)?;
            return Ok(t);
        }
    }
    datadir::create_private_dir(&dir)?;
    datadir::restrict(&dir)?;
    let token = bk_core::crypto::random_token(32)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(token.as_bytes())?;
    datadir::restrict(&path)?;
    Ok(token)
}
