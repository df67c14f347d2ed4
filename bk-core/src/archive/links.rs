//! Which symbolic links an archive may hold. Hard links are refused outright (they would alias
//! files the unpacker already checked); a symlink is kept only if it is relative and cannot
//! lead out of the package, whatever other links exist.
//!
//! The rule: the target is `..` components (only at its start, each climbing a real directory
//! of the package, never above the root) followed by plain names. A `..` after a name could
//! climb out of a directory reached through another link (`l -> .` then `m -> l/../x`), so it
//! is refused. With the unpacker never writing through a link (every parent of an entry must
//! be a real directory) and refusing duplicate entries, each link resolves inside the tree:
//! its climb is over real directories, and each name it then descends is a real directory or
//! another link that (by the same rule) stays inside. Dangling and looping links are allowed:
//! they can only fail to resolve.

use std::path::{Component, Path};

/// Why a symlink at `rel` (relative to the package root) pointing at `target` is refused.
pub fn check_symlink(rel: &Path, target: &Path) -> Result<(), String> {
    if target.as_os_str().is_empty() {
        return Err("symlink has an empty target".into());
    }
    // Real directories above the link, inside the package.
    let depth = rel.components().count().saturating_sub(1);
    let mut ups = 0usize;
    let mut named = false;
    for c in target.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => {
                return Err(
                    "symlink to an absolute path: use a relative target inside the package".into(),
                );
            }
            Component::CurDir => {}
            Component::ParentDir if named => {
                return Err("symlink target may use `..` only at its start".into());
            }
            Component::ParentDir => {
                ups += 1;
                if ups > depth {
                    return Err("symlink points outside the package".into());
                }
            }
            Component::Normal(_) => named = true,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rel: &str, target: &str) -> Result<(), String> {
        check_symlink(Path::new(rel), Path::new(target))
    }

    #[test]
    fn relative_links_inside_are_kept() {
        assert!(check("a", "b").is_ok());
        assert!(check("a", "./b/c").is_ok());
        assert!(check("d/a", "../b").is_ok());
        assert!(check("d/e/a", "../../b/c").is_ok());
        assert!(check("d/a", "..").is_ok());
    }

    #[test]
    fn links_that_could_leave_are_refused() {
        assert!(check("a", "/etc/passwd").unwrap_err().contains("absolute"));
        assert!(check("a", "../x").unwrap_err().contains("outside"));
        assert!(check("d/a", "../../x").unwrap_err().contains("outside"));
        assert!(
            check("a", "l/../x")
                .unwrap_err()
                .contains("only at its start")
        );
        assert!(check("a", "").unwrap_err().contains("empty"));
    }
}
