//! The data directory holds the SQLite database and generated secrets: only the service's
//! user may read it. A directory we create is 0700 and files we create are 0600; the
//! database and secret files are also tightened when they already exist (an existing data
//! directory itself is left alone: it may be a path the operator shares on purpose).

use std::path::Path;

use anyhow::Context;

/// Create `dir` (and missing parents) with mode 0700.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
        .with_context(|| format!("creating directory {}", dir.display()))
}

/// Make `path` readable by its owner only (when it exists).
pub fn restrict(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    if path.exists() {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("restricting permissions of {}", path.display()))?;
    }
    Ok(())
}

/// Before SQLite opens `db`: create it empty with mode 0600 (SQLite gives its `-wal` and
/// `-shm` files the database file's mode), or tighten an existing one and its companions.
pub fn prepare_sqlite_file(db: &Path) -> anyhow::Result<()> {
    if !db.exists() {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(db) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", db.display())),
        }
    }
    restrict_sqlite_files(db)
}

/// Tighten the database file and its `-wal`/`-shm`/`-journal` companions that exist.
pub fn restrict_sqlite_files(db: &Path) -> anyhow::Result<()> {
    restrict(db)?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        restrict(Path::new(&p))?;
    }
    Ok(())
}
