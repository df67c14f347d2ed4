//! Modules: the parts of an app that deploy on their own (app_desc `modules`). Every app
//! has exactly one default module, `default` for apps created here; `/t/<code>/` and
//! `/o/<code>/` serve it.

use std::fmt;

use bk_core::clock::Millis;
use bk_core::types::{AppCode, InvalidValue};
use serde::Serialize;

use super::app::Language;

/// A module name: like a process name (`^[a-z0-9]([-a-z0-9])*$`), 1-16 characters, and
/// neither `--` nor a trailing `-`, because `/<env>--<module>--<code>/` splits on `--`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ModuleName(String);

impl ModuleName {
    /// The name of the module a new app gets.
    pub const DEFAULT: &'static str = "default";
    /// Most characters of a module name.
    pub const MAX_CHARS: usize = 16;

    /// Validate a module name.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= Self::MAX_CHARS
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !s.contains("--")
            && !s.ends_with('-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue {
                field: "module",
                reason: format!(
                    "{s:?} is not a module name: 1-{} lower-case letters, digits or '-', starting with a letter or digit, without \"--\" or a trailing '-'",
                    Self::MAX_CHARS
                ),
            })
        }
    }

    /// `default`.
    pub fn default_name() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ModuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A module as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The app.
    pub app_code: AppCode,
    /// Name, unique in the app.
    pub name: ModuleName,
    /// Random UUID, the `id` V7 clients see.
    pub uuid: String,
    /// Whether `/t/<code>/` and `/o/<code>/` serve this module.
    pub is_default: bool,
    /// Main language.
    pub language: Language,
    /// Directory of the module inside the package (app_desc `source_dir`); empty: the root.
    pub source_dir: String,
    /// Who created it.
    pub creator: String,
    /// Milliseconds since the epoch.
    pub created_at: Millis,
}

/// A module to create (a [`Module`]; the name says it is not stored yet).
pub type NewModule = Module;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        for ok in ["default", "web", "api-v2", "1st", "a", "abcdefghijklmnop"] {
            assert!(ModuleName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Web",
            "-web",
            "web-",
            "a--b",
            "we_b",
            "abcdefghijklmnopq",
            "模块",
        ] {
            assert_eq!(ModuleName::parse(bad).unwrap_err().field, "module", "{bad}");
        }
        assert_eq!(ModuleName::default_name().as_str(), "default");
    }
}
