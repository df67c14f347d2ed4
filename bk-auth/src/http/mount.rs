//! Where the login service is mounted. Every URL the service writes (form actions,
//! redirects, cookie paths, provider links and callbacks, docs) is built from it, so the
//! same router works at `/login/` (the BK layout), `/auth/` in a host app, or at the root.

use std::sync::Arc;

use crate::error::AuthError;

/// The path prefix the login routes are mounted at: `/login` (default), `/auth`, or `""`
/// for the root. Never ends with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount(Arc<str>);

impl Default for Mount {
    fn default() -> Self {
        Self(Arc::from("/login"))
    }
}

impl Mount {
    /// Check a prefix: empty or `/` (the root), else `/segment[/segment…]` of URL-safe
    /// characters; one trailing `/` is ignored (`/auth/` = `/auth`).
    pub fn parse(prefix: &str) -> Result<Self, AuthError> {
        let p = prefix.strip_suffix('/').unwrap_or(prefix);
        if p.is_empty() {
            return Ok(Self(Arc::from("")));
        }
        let bad = |why: &str| AuthError::Invalid(format!("login mount prefix {prefix:?}: {why}"));
        if !p.starts_with('/') {
            return Err(bad("must start with `/`"));
        }
        if p[1..].split('/').any(str::is_empty) {
            return Err(bad("must not contain empty segments (`//`)"));
        }
        let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~');
        if !p.chars().all(ok) || p.split('/').any(|s| s == "." || s == "..") {
            return Err(bad(
                "only letters, digits and `-_.~` are allowed in segments",
            ));
        }
        Ok(Self(Arc::from(p)))
    }

    /// The prefix (`/login`, `/auth`, or `""`).
    pub fn prefix(&self) -> &str {
        &self.0
    }

    /// The absolute path of `rel` (which starts with `/`) under the mount:
    /// `path("/logout/")` = `/login/logout/`.
    pub fn path(&self, rel: &str) -> String {
        let mut s = String::with_capacity(self.0.len() + rel.len());
        s.push_str(&self.0);
        s.push_str(rel);
        s
    }

    /// The login page (`/login/`, `/auth/`, `/`).
    pub fn page(&self) -> String {
        self.path("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalizes_and_rejects() {
        assert_eq!(Mount::default().page(), "/login/");
        assert_eq!(Mount::parse("/auth/").unwrap().prefix(), "/auth");
        assert_eq!(
            Mount::parse("/auth").unwrap().path("/logout/"),
            "/auth/logout/"
        );
        assert_eq!(Mount::parse("").unwrap().page(), "/");
        assert_eq!(Mount::parse("/").unwrap().prefix(), "");
        assert_eq!(Mount::parse("/a/b-c").unwrap().prefix(), "/a/b-c");
        for bad in ["auth", "/a//b", "/a b", "/{x}", "/a/../b", "//"] {
            assert!(Mount::parse(bad).is_err(), "{bad}");
        }
    }
}
