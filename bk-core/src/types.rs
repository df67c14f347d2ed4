//! Validated domain values. Handlers parse raw strings into these at the edge and pass
//! only these inward (`Username::parse("admin")`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Why a domain value was rejected; the text names the rule so the user can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidValue {
    /// Which field.
    pub field: &'static str,
    /// What rule it broke.
    pub reason: String,
}

impl From<InvalidValue> for crate::ApiError {
    fn from(e: InvalidValue) -> Self {
        crate::ApiError::invalid(e.to_string())
    }
}

/// A BK username: 4–20 chars, `^[A-Za-z0-9][A-Za-z0-9._]{2,18}[A-Za-z0-9]$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Validate a username.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        let b = s.as_bytes();
        let edge = |c: u8| c.is_ascii_alphanumeric();
        let mid = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'_';
        let ok = (4..=20).contains(&b.len())
            && edge(b[0])
            && edge(b[b.len() - 1])
            && b[1..b.len() - 1].iter().all(|&c| mid(c));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue {
                field: "username",
                reason: "must be 4-20 characters of letters, digits, '.' or '_', starting and ending with a letter or digit".into(),
            })
        }
    }

    /// The username as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consume into the inner string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Username {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Username::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A platform role, by its BK code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Role {
    /// 0 — 普通用户.
    #[default]
    Staff,
    /// 1 — 管理员.
    Superuser,
    /// 2 — 开发者.
    Developer,
    /// 3 — 职能化用户.
    Operator,
    /// 4 — 审计员.
    Auditor,
}

impl Role {
    /// All roles, in code order.
    pub const ALL: [Role; 5] = [
        Role::Staff,
        Role::Superuser,
        Role::Developer,
        Role::Operator,
        Role::Auditor,
    ];

    /// The BK code of the role.
    pub fn code(self) -> i64 {
        match self {
            Role::Staff => 0,
            Role::Superuser => 1,
            Role::Developer => 2,
            Role::Operator => 3,
            Role::Auditor => 4,
        }
    }

    /// The role with BK code `code`.
    pub fn from_code(code: i64) -> Result<Self, InvalidValue> {
        Role::ALL.into_iter().find(|r| r.code() == code).ok_or_else(|| InvalidValue {
            field: "role",
            reason: format!("unknown role code {code}; known: 0 staff, 1 superuser, 2 developer, 3 operator, 4 auditor"),
        })
    }

    /// Precedence when a user holds several roles: 1 > 2 > 3 > 4 > 0.
    pub fn rank(self) -> u8 {
        match self {
            Role::Superuser => 4,
            Role::Developer => 3,
            Role::Operator => 2,
            Role::Auditor => 1,
            Role::Staff => 0,
        }
    }

    /// Short English name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Superuser => "superuser",
            Role::Developer => "developer",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// The effective role of a set of held roles (staff when empty).
    pub fn effective(roles: &[Role]) -> Role {
        roles
            .iter()
            .copied()
            .max_by_key(|r| r.rank())
            .unwrap_or(Role::Staff)
    }

    /// Whether this role may use the developer center.
    pub fn may_develop(self) -> bool {
        matches!(self, Role::Superuser | Role::Developer)
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        let code = match Raw::deserialize(d)? {
            Raw::Int(i) => i,
            Raw::Str(s) => match Role::ALL.iter().find(|r| r.name() == s) {
                Some(r) => r.code(),
                None => s
                    .trim()
                    .parse()
                    .map_err(|_| serde::de::Error::custom(format!("unknown role {s:?}")))?,
            },
        };
        Role::from_code(code).map_err(serde::de::Error::custom)
    }
}

/// An app code: `^[a-z][a-z0-9-]{1,15}$` for new apps; legacy S-mart codes may hold `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AppCode(String);

impl AppCode {
    /// Validate a code for a new app.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        Self::check(s, false)
    }

    /// Validate a code that may also hold `_` (S-mart packages).
    pub fn parse_legacy(s: &str) -> Result<Self, InvalidValue> {
        Self::check(s, true)
    }

    fn check(s: &str, underscore: bool) -> Result<Self, InvalidValue> {
        let b = s.as_bytes();
        let ok = (2..=16).contains(&b.len())
            && b[0].is_ascii_lowercase()
            && b[1..].iter().all(|&c| {
                c.is_ascii_lowercase()
                    || c.is_ascii_digit()
                    || c == b'-'
                    || (underscore && c == b'_')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidValue {
                field: "app_code",
                reason: "must be 2-16 characters: a lower-case letter, then lower-case letters, digits or '-'".into(),
            })
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["admin", "a.b_c", "user1234567890123456", "A1_2"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "abc",
            "_abc",
            "abc.",
            "user12345678901234567",
            "ad min",
            "用户名字",
            "",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn effective_role_precedence() {
        use Role::*;
        assert_eq!(Role::effective(&[]), Staff);
        assert_eq!(Role::effective(&[Auditor, Operator]), Operator);
        assert_eq!(Role::effective(&[Developer, Superuser, Auditor]), Superuser);
        assert_eq!(Role::effective(&[Staff, Auditor]), Auditor);
        assert!(Developer.may_develop() && !Operator.may_develop());
    }

    #[test]
    fn role_serde() {
        assert_eq!(serde_json::to_string(&Role::Developer).unwrap(), "2");
        let r: Role = serde_json::from_str("\"auditor\"").unwrap();
        assert_eq!(r, Role::Auditor);
        let r: Role = serde_json::from_str("\"1\"").unwrap();
        assert_eq!(r, Role::Superuser);
        assert!(serde_json::from_str::<Role>("9").is_err());
    }

    #[test]
    fn app_codes() {
        assert!(AppCode::parse("my-app").is_ok());
        assert!(AppCode::parse("My-app").is_err());
        assert!(AppCode::parse("my_app").is_err());
        assert!(AppCode::parse_legacy("my_app").is_ok());
        assert!(AppCode::parse("a").is_err());
        assert!(AppCode::parse("abcdefghijklmnopq").is_err());
    }
}
