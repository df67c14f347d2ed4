//! The two environments of an app. V6 calls them `test`/`prod`, V7 `stag`/`prod`; both
//! names are accepted everywhere and `test` means `stag`.

use std::fmt;

use bk_core::types::InvalidValue;
use serde::{Deserialize, Serialize};

/// An app environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Env {
    /// Staging (V6 `test`).
    Stag,
    /// Production.
    Prod,
}

impl Env {
    /// Both, staging first.
    pub const ALL: [Env; 2] = [Env::Stag, Env::Prod];

    /// Parse `stag`, `test` or `prod`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "stag" | "test" => Ok(Env::Stag),
            "prod" => Ok(Env::Prod),
            _ => Err(InvalidValue {
                field: "env",
                reason: format!("unknown environment {s:?}; use stag (or test) or prod"),
            }),
        }
    }

    /// The V7 name: `stag` | `prod`.
    pub fn v7_name(self) -> &'static str {
        match self {
            Env::Stag => "stag",
            Env::Prod => "prod",
        }
    }

    /// The V6 name: `test` | `prod`.
    pub fn v6_name(self) -> &'static str {
        match self {
            Env::Stag => "test",
            Env::Prod => "prod",
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.v7_name())
    }
}

impl Serialize for Env {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.v7_name())
    }
}

impl<'de> Deserialize<'de> for Env {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Env::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_naming_lines_are_accepted() {
        assert_eq!(Env::parse("test").unwrap(), Env::Stag);
        assert_eq!(Env::parse("stag").unwrap(), Env::Stag);
        assert_eq!(Env::parse("prod").unwrap(), Env::Prod);
        assert_eq!(Env::Stag.v6_name(), "test");
        assert_eq!(Env::Stag.v7_name(), "stag");
        let e = Env::parse("production").unwrap_err();
        assert_eq!(e.field, "env");
        assert!(e.reason.contains("stag (or test) or prod"));
        let e: Env = serde_json::from_str("\"test\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"stag\"");
    }
}
