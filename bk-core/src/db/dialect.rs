//! What differs between the three databases.

use super::DbError;

/// A supported database kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Dialect {
    /// The kind named by a connection URL's scheme.
    pub fn from_url(url: &str) -> Result<Self, DbError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme {
            "sqlite" => Ok(Dialect::Sqlite),
            "postgres" | "postgresql" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::MySql),
            _ => Err(DbError::Config(format!(
                "unsupported database URL scheme {scheme:?}: use sqlite://, postgres:// or mysql://"
            ))),
        }
    }

    /// Whether this build has the driver (features `sqlite`, `postgres`, `mysql`); the
    /// error names the feature to enable.
    pub fn require_driver(self) -> Result<(), DbError> {
        let built = match self {
            Dialect::Sqlite => cfg!(feature = "sqlite"),
            Dialect::Postgres => cfg!(feature = "postgres"),
            Dialect::MySql => cfg!(feature = "mysql"),
        };
        if built {
            Ok(())
        } else {
            Err(DbError::Config(format!(
                "this build has no {} driver: enable feature `{}` of bk-core (or of bk-auth)",
                self.name(),
                self.name()
            )))
        }
    }

    /// Fill in defaults: SQLite files are created when missing.
    pub fn normalize_url(self, url: &str) -> String {
        match self {
            Dialect::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            Dialect::MySql if url.starts_with("mariadb:") => url.replacen("mariadb:", "mysql:", 1),
            _ => url.to_owned(),
        }
    }

    /// Column type of an auto-increment primary key.
    pub fn id_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
            Dialect::MySql => "BIGINT PRIMARY KEY AUTO_INCREMENT",
        }
    }

    /// Column type for binary data.
    pub fn blob_type(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BLOB",
            Dialect::Postgres => "BYTEA",
            Dialect::MySql => "LONGBLOB",
        }
    }

    /// Short name, as used in migration overrides and test names.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }
}

/// Rewrite `?` placeholders to `$1, $2, …`, leaving quoted text alone.
pub(crate) fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            (None, c) => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE a = ? AND b = '?' AND c IN (?, ?)"),
            "SELECT a FROM t WHERE a = $1 AND b = '?' AND c IN ($2, $3)"
        );
    }

    #[test]
    fn urls() {
        assert_eq!(Dialect::from_url("sqlite://x.db").unwrap(), Dialect::Sqlite);
        assert_eq!(
            Dialect::from_url("postgresql://h/db").unwrap(),
            Dialect::Postgres
        );
        assert_eq!(Dialect::from_url("mariadb://h/db").unwrap(), Dialect::MySql);
        assert!(Dialect::from_url("oracle://h").is_err());
        assert_eq!(
            Dialect::Sqlite.normalize_url("sqlite://x.db"),
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            Dialect::MySql.normalize_url("mariadb://h/db"),
            "mysql://h/db"
        );
    }
}
