//! The naming rules of the BlueKing package contracts (contracts §5, §6), in one place so the
//! app_desc, Procfile and S-mart readers agree.

use std::path::{Component, Path};

/// Why a process type is invalid, if it is.
pub(crate) fn check_process_name(name: &str) -> Result<(), String> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 12
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "process type `{}` must be 1-12 characters of a-z, 0-9 and '-', not starting with '-'",
            printable(name)
        ))
    }
}

/// Why a module name is invalid, if it is (same shape as an app code).
pub(crate) fn check_module_name(name: &str) -> Result<(), String> {
    let b = name.as_bytes();
    let ok = (2..=16).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "module name `{}` must be 2-16 characters: a lower-case letter, then a-z, 0-9 or '-'",
            printable(name)
        ))
    }
}

/// Why an environment variable key is invalid, if it is: `^[A-Z][A-Z0-9_]*$`, at most 128
/// characters, and the `BKPAAS_` prefix belongs to the platform.
pub(crate) fn check_env_key(key: &str) -> Result<(), String> {
    let b = key.as_bytes();
    let shape = !b.is_empty()
        && b.len() <= 128
        && b[0].is_ascii_uppercase()
        && b.iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if !shape {
        return Err(format!(
            "key `{}` must match ^[A-Z][A-Z0-9_]*$ (at most 128 characters)",
            printable(key)
        ));
    }
    if key.starts_with("BKPAAS_") {
        return Err(format!(
            "key `{key}` uses the prefix BKPAAS_, which is reserved for the platform"
        ));
    }
    Ok(())
}

/// A module's source directory: relative, inside the package, normalized (`./src/` → `src`);
/// `None` for the package root.
pub(crate) fn normalize_source_dir(dir: &str) -> Result<Option<String>, String> {
    let mut parts = Vec::new();
    for c in Path::new(dir).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => return Err("must stay inside the package (no `..`)".into()),
            Component::RootDir | Component::Prefix(_) => {
                return Err("must be a path relative to the package root".into());
            }
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Join an argv into one shell command line, quoting where needed, so every process runs the
/// same way (`sh -c`) whichever form the package used. `$NAME` / `${NAME}` inside an argument
/// still expand (double quotes), as BlueKing expands `${PORT}` in `args`; anything else is
/// taken literally (single quotes).
pub(crate) fn shell_join<S: AsRef<str>>(args: &[S]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let arg = arg.as_ref();
        let plain = !arg.is_empty()
            && arg
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&c));
        if plain {
            out.push_str(arg);
        } else if arg.contains('$') && !arg.contains(['"', '\\', '`']) {
            out.push('"');
            out.push_str(arg);
            out.push('"');
        } else {
            out.push('\'');
            out.push_str(&arg.replace('\'', r"'\''"));
            out.push('\'');
        }
    }
    out
}

/// A name fit for an error message: control characters escaped, long names cut.
pub(crate) use bk_core::archive::printable;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_names() {
        for ok in ["web", "w", "0worker", "celery-beat", "abcdefghijkl"] {
            assert!(check_process_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-web", "Web", "web_1", "abcdefghijklm", "we b", "wéb"] {
            assert!(check_process_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn env_keys() {
        for ok in ["A", "DJANGO_SETTINGS", "X1_2"] {
            assert!(check_env_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "1A", "A-B", "_A", "A B"] {
            assert!(
                check_env_key(bad)
                    .unwrap_err()
                    .contains("^[A-Z][A-Z0-9_]*$"),
                "{bad}"
            );
        }
        assert!(
            check_env_key("BKPAAS_APP_ID")
                .unwrap_err()
                .contains("reserved")
        );
        assert!(check_env_key("BKPAAS").is_ok());
    }

    #[test]
    fn source_dirs() {
        assert_eq!(normalize_source_dir("./src/").unwrap(), Some("src".into()));
        assert_eq!(normalize_source_dir("a/./b").unwrap(), Some("a/b".into()));
        assert_eq!(normalize_source_dir(".").unwrap(), None);
        assert_eq!(normalize_source_dir("").unwrap(), None);
        assert!(normalize_source_dir("../x").is_err());
        assert!(normalize_source_dir("a/../../x").is_err());
        assert!(normalize_source_dir("/etc").is_err());
    }

    #[test]
    fn shell_join_quotes_what_the_shell_would_split() {
        assert_eq!(
            shell_join(&["python", "-m", "http.server", "$PORT"]),
            r#"python -m http.server "$PORT""#
        );
        assert_eq!(
            shell_join(&["gunicorn", "-b", "[::]:${PORT}"]),
            r#"gunicorn -b "[::]:${PORT}""#
        );
        assert_eq!(shell_join(&["echo", "a\"$b"]), r#"echo 'a"$b'"#);
        assert_eq!(
            shell_join(&["sh", "-c", "echo 'hi' && x"]),
            r#"sh -c 'echo '\''hi'\'' && x'"#
        );
        assert_eq!(shell_join(&["a", ""]), "a ''");
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(printable(&"x".repeat(300)).chars().count(), 201);
    }
}
