//! Validated names that appear in an [`InstanceSpec`](super::InstanceSpec).
//!
//! The agent turns several of them into directory names and process arguments, so each is
//! checked once, at the edge, by its `parse`; deserialising runs the same check.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::InvalidValue;

/// Declares a string newtype whose only constructor is a validating `parse`.
macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $check:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validate and wrap.
            pub fn parse(s: &str) -> Result<Self, InvalidValue> {
                $check(s)?;
                Ok(Self(s.to_owned()))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

validated_name!(
    /// One instance, unique on its agent: a DNS label, `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`.
    /// The agent names the instance's log directory after it.
    InstanceId,
    check_instance_id
);

validated_name!(
    /// A module of an app (`default` for one-module apps): `^[a-z][a-z0-9-]{0,15}$`.
    ModuleName,
    check_module
);

validated_name!(
    /// A process type from the Procfile or app_desc (`web`, `worker`):
    /// `^[a-z0-9]([-a-z0-9])*$`, at most 12 characters (contracts §6).
    ProcessType,
    check_process_type
);

validated_name!(
    /// The release an instance runs: 1–64 of `[A-Za-z0-9._-]`, not `.` or `..`.
    /// The agent uses it as a directory name under its releases root.
    ReleaseId,
    check_release_id
);

fn invalid(field: &'static str, reason: &str) -> InvalidValue {
    InvalidValue {
        field,
        reason: reason.to_owned(),
    }
}

fn check_instance_id(s: &str) -> Result<(), InvalidValue> {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-';
    let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok =
        (1..=63).contains(&b.len()) && edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(inner);
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "id",
            "must be 1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
        ))
    }
}

fn check_module(s: &str) -> Result<(), InvalidValue> {
    let b = s.as_bytes();
    let ok = (1..=16).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "module",
            "must be 1-16 characters: a lower-case letter, then lower-case letters, digits or '-'",
        ))
    }
}

fn check_process_type(s: &str) -> Result<(), InvalidValue> {
    let b = s.as_bytes();
    let ok = (1..=12).contains(&b.len())
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "process_type",
            "must be 1-12 characters of lower-case letters, digits or '-', starting with a letter or digit",
        ))
    }
}

fn check_release_id(s: &str) -> Result<(), InvalidValue> {
    let ok = (1..=64).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "release_id",
            "must be 1-64 characters of letters, digits, '.', '_' or '-', and not '.' or '..'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids() {
        for ok in ["a", "web-1", "myapp-prod-web-0", "0abc", &"a".repeat(63)] {
            assert!(InstanceId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a/b", "..", &"a".repeat(64)] {
            assert!(InstanceId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn modules_process_types_releases() {
        assert!(ModuleName::parse("default").is_ok());
        assert!(ModuleName::parse("1api").is_err());
        assert!(ProcessType::parse("web").is_ok());
        assert!(ProcessType::parse("celery-beat1").is_ok());
        assert!(ProcessType::parse("celery-beat12").is_err());
        assert!(ProcessType::parse("Web").is_err());
        assert!(ReleaseId::parse("r-42").is_ok());
        assert!(ReleaseId::parse("v1.2.3_rc").is_ok());
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(ReleaseId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn deserialising_validates() {
        let id: InstanceId = serde_json::from_str("\"web-1\"").unwrap();
        assert_eq!(id.as_str(), "web-1");
        let err = serde_json::from_str::<InstanceId>("\"Web 1\"").unwrap_err();
        assert!(err.to_string().contains("id: must be"), "{err}");
    }
}
