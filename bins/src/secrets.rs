//! Secrets the platform generates on first start and keeps in the data directory
//! (mode 0600), unless the operator provides them in the environment.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// The service-trust token: `BK_ESB_TOKEN`, else `<data_dir>/secrets/esb_token`, created
/// with a random value when missing.
pub fn esb_token(data_dir: &Path) -> anyhow::Result<String> {
    if let Ok(t) = std::env::var("BK_ESB_TOKEN")
        && !t.is_empty()
    {
        return Ok(t);
    }
    let dir = data_dir.join("secrets");
    let path = dir.join("esb_token");
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
