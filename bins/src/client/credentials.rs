//! Where `bk login` keeps the platform URL and the caller's `bk_token`: a JSON file in the
//! user's config directory (`$BK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/bk`, else
//! `~/.config/bk`), directory 0700 and file 0600, written atomically. `BK_URL` and
//! `BK_TOKEN` override it (for scripts and CI).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// What a login leaves behind.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Base URL of the platform (`http://127.0.0.1:8080`).
    pub url: String,
    /// Who logged in.
    #[serde(default)]
    pub username: String,
    /// Their `bk_token`.
    #[serde(default)]
    pub token: String,
    /// Base URL of the login service when it runs apart from the platform (`bk-login`
    /// beside `bk-engine`); empty: the platform's URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub login_url: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a secret: never printed, not even in debug output.
        f.debug_struct("Credentials")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("login_url", &self.login_url)
            .field("token", &if self.token.is_empty() { "" } else { "***" })
            .finish()
    }
}

/// The config directory of the CLI.
pub fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("BK_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("bk"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .context("neither BK_CONFIG_DIR, XDG_CONFIG_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".config").join("bk"))
}

fn file(dir: &Path) -> PathBuf {
    dir.join("credentials.json")
}

/// The saved credentials with `BK_URL` / `BK_TOKEN` applied on top.
pub fn load() -> anyhow::Result<Credentials> {
    let mut c = load_file(&config_dir()?)?.unwrap_or_default();
    if let Ok(u) = std::env::var("BK_URL")
        && !u.is_empty()
    {
        c.url = u;
    }
    if let Ok(t) = std::env::var("BK_TOKEN")
        && !t.is_empty()
    {
        c.token = t;
    }
    Ok(c)
}

/// The saved credentials of `dir`, if any.
pub fn load_file(dir: &Path) -> anyhow::Result<Option<Credentials>> {
    let path = file(dir);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is not valid; run `bk login` again", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Save credentials to `dir` (0700) as a 0600 file, replacing the old one atomically.
pub fn save(dir: &Path, c: &Credentials) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let path = file(dir);
    let tmp = dir.join(".credentials.json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(&serde_json::to_vec_pretty(c)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Forget the token (keep the URL). True when there was one.
pub fn clear(dir: &Path) -> anyhow::Result<bool> {
    match load_file(dir)? {
        Some(mut c) if !c.token.is_empty() => {
            c.token.clear();
            c.username.clear();
            save(dir, &c)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn saved_private_and_read_back_and_cleared() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("bk");
        let c = Credentials {
            url: "http://127.0.0.1:1".into(),
            username: "alice".into(),
            token: "secret-token".into(),
            login_url: String::new(),
        };
        let path = save(&dir, &c).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert_eq!(load_file(&dir).unwrap(), Some(c.clone()));
        assert!(!format!("{c:?}").contains("secret-token"));
        assert!(clear(&dir).unwrap());
        let after = load_file(&dir).unwrap().unwrap();
        assert_eq!(after.url, c.url);
        assert!(after.token.is_empty());
        assert!(!clear(&dir).unwrap());
    }

    #[test]
    fn a_corrupt_file_names_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("credentials.json"), "{not json").unwrap();
        let e = load_file(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("bk login"), "{e}");
    }
}
