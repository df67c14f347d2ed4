//! Secrets the platform generates on first start and keeps in the data directory
//! (mode 0600), unless the operator provides them in the environment.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The service-trust token: `BK_ESB_TOKEN`, else `<data_dir>/secrets/esb_token`, created
/// with a random value when missing.
pub fn esb_token(data_dir: &Path) -> anyhow::Result<String> {
    generated(data_dir, "BK_ESB_TOKEN", "esb_token")
}

/// The token with which the platform's own services call the V6 appengine API
/// (`X-APP-CODE: paas`): `BK_PAAS_SERVICE_TOKEN`, else `<data_dir>/secrets/paas_token`.
pub fn paas_service_token(data_dir: &Path) -> anyhow::Result<String> {
    generated(data_dir, "BK_PAAS_SERVICE_TOKEN", "paas_token")
}

/// A random secret from `env`, else from `<data_dir>/secrets/<file>`, created when missing.
fn generated(data_dir: &Path, env: &str, file: &str) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var(env)
        && !t.is_empty()
    {
        return Ok(t);
    }
    let dir = data_dir.join("secrets");
    let path = dir.join(file);
    if let Ok(t) = std::fs::read_to_string(&path) {
        let t = t.trim().to_owned();
        if !t.is_empty() {
            return Ok(t);
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let token = bk_core::crypto::random_token(32)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(token.as_bytes())?;
    Ok(token)
}
