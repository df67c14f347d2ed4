//! Import and export of users as JSON or CSV.
//!
//! Imported records may carry a plain `password` (checked against the policy and hashed)
//! or a `password_hash`: argon2 PHC strings, or BK V6 / Django `pbkdf2_sha256$…` hashes,
//! which log in as they are and are upgraded to argon2id on first success. An import is
//! validated whole first; any bad row fails it with the row numbers, and nothing is written.
//!
//! CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`,
//! TAB or CR) are exported with a leading `'`, and the import takes it off again, so an
//! export re-imported gives the same users (see [`escape_cell`]).

use bk_core::types::{Role, Username};
use serde::{Deserialize, Serialize};

use super::LoginService;
use super::access::Caller;
use crate::error::{AuthError, Result};
use crate::idp::local::LOCAL;
use crate::model::NewUser;
use crate::password::policy;
use crate::store::ImportReport;

/// Most users one import may carry.
pub const MAX_IMPORT: usize = 20_000;

/// Wire format of an import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A JSON array of user objects.
    #[default]
    Json,
    /// CSV with a header row.
    Csv,
}

/// One user in an import or export file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(default)]
pub struct UserRecord {
    /// Login name.
    pub username: String,
    /// Display name.
    pub chname: String,
    /// QQ.
    pub qq: String,
    /// Phone.
    pub phone: String,
    /// E-mail.
    pub email: String,
    /// `zh-cn` | `en`.
    pub language: String,
    /// Time zone.
    pub time_zone: String,
    /// WeChat id.
    pub wx_userid: String,
    /// Role codes; in CSV separated by `;` (names like `developer` also accepted).
    #[serde(with = "roles_field")]
    #[schema(value_type = Vec<i64>)]
    pub roles: Vec<Role>,
    /// Disabled.
    pub disabled: bool,
    /// `local` or a provider id.
    pub source: String,
    /// Existing hash (argon2 PHC or Django pbkdf2_sha256); exported only on request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// Plain password to set on import; never exported.
    #[serde(skip_serializing)]
    pub password: Option<String>,
}

mod roles_field {
    use bk_core::types::Role;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(roles: &[Role], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let joined: Vec<String> = roles.iter().map(|r| r.code().to_string()).collect();
            s.serialize_str(&joined.join(";"))
        } else {
            s.collect_seq(roles)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Role>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            List(Vec<Role>),
            One(i64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::List(v) => Ok(v),
            Raw::One(c) => Role::from_code(c)
                .map(|r| vec![r])
                .map_err(serde::de::Error::custom),
            Raw::Text(t) => t
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    serde_json::from_value::<Role>(serde_json::Value::String(p.to_owned()))
                        .map_err(serde::de::Error::custom)
                })
                .collect(),
        }
    }
}

impl LoginService {
    /// Export every user. Hashes are included only when asked for.
    pub async fn export_users(
        &self,
        caller: &Caller,
        format: Format,
        include_hashes: bool,
    ) -> Result<String> {
        caller.require_superuser()?;
        let users = self.users.list_all(None).await?;
        let records: Vec<UserRecord> = users
            .into_iter()
            .map(|u| UserRecord {
                username: u.username,
                chname: u.chname,
                qq: u.qq,
                phone: u.phone,
                email: u.email,
                language: u.language,
                time_zone: u.time_zone,
                wx_userid: u.wx_userid,
                roles: u.roles,
                disabled: u.disabled,
                source: u.source,
                password_hash: if include_hashes {
                    u.password_hash
                } else {
                    None
                },
                password: None,
            })
            .collect();
        match format {
            Format::Json => serde_json::to_string_pretty(&records)
                .map_err(|e| AuthError::Internal(e.to_string())),
            Format::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in &records {
                    w.serialize(CsvRow::from(r))
                        .map_err(|e| AuthError::Internal(e.to_string()))?;
                }
                let bytes = w
                    .into_inner()
                    .map_err(|e| AuthError::Internal(e.to_string()))?;
                String::from_utf8(bytes).map_err(|e| AuthError::Internal(e.to_string()))
            }
        }
    }

    /// Import users from `body`. All or nothing.
    pub async fn import_users(
        &self,
        caller: &Caller,
        format: Format,
        body: &str,
        overwrite: bool,
    ) -> Result<ImportReport> {
        caller.require_superuser()?;
        let records = parse(format, body)?;
        if records.len() > MAX_IMPORT {
            return Err(AuthError::Invalid(format!(
                "at most {MAX_IMPORT} users per import; split the file"
            )));
        }
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in records.iter().enumerate() {
            if let Err(e) = self.check_record(r) {
                errors.push(format!("row {}: {e}", i + 1));
            } else if !seen.insert(r.username.clone()) {
                errors.push(format!(
                    "row {}: username {} appears twice",
                    i + 1,
                    r.username
                ));
            }
        }
        if !errors.is_empty() {
            let more = errors.len().saturating_sub(10);
            let mut msg = errors.into_iter().take(10).collect::<Vec<_>>().join("; ");
            if more > 0 {
                msg.push_str(&format!("; and {more} more"));
            }
            return Err(AuthError::Invalid(format!(
                "import rejected, nothing was written: {msg}"
            )));
        }
        let mut users = Vec::with_capacity(records.len());
        for r in records {
            let password_hash = match (&r.password, &r.password_hash) {
                (Some(p), _) if !p.is_empty() => Some(self.hasher.hash(p).await?),
                (_, Some(h)) if !h.is_empty() => Some(h.clone()),
                _ => None,
            };
            users.push(NewUser {
                username: r.username,
                chname: r.chname,
                qq: r.qq,
                phone: r.phone,
                email: r.email,
                language: r.language,
                time_zone: r.time_zone,
                wx_userid: r.wx_userid,
                roles: r.roles,
                disabled: r.disabled,
                source: if r.source.is_empty() {
                    LOCAL.into()
                } else {
                    r.source
                },
                password_hash,
            });
        }
        let (report, revoked) = self
            .users
            .import(users, overwrite, self.clock.now_ms())
            .await?;
        self.sessions.forget_all(&revoked);
        Ok(report)
    }

    fn check_record(&self, r: &UserRecord) -> Result<()> {
        Username::parse(&r.username)?;
        super::admin::validate_profile(
            &r.chname,
            &r.qq,
            &r.phone,
            &r.email,
            &r.language,
            &r.time_zone,
            &r.wx_userid,
        )?;
        if let Some(p) = r.password.as_deref().filter(|p| !p.is_empty()) {
            policy::check(&self.cfg.password, &r.username, p)?;
        }
        if let Some(h) = r.password_hash.as_deref().filter(|h| !h.is_empty()) {
            self.hasher
                .check_importable(h)
                .map_err(|e| AuthError::Invalid(format!("password_hash: {e}")))?;
        }
        Ok(())
    }
}

/// Flat CSV shape (the csv crate cannot serialize sequences in a field).
#[derive(Debug, Serialize, Deserialize, Default)]
#[serde(default)]
struct CsvRow {
    username: String,
    chname: String,
    qq: String,
    phone: String,
    email: String,
    language: String,
    time_zone: String,
    wx_userid: String,
    roles: String,
    disabled: String,
    source: String,
    password_hash: String,
    #[serde(skip_serializing)]
    password: String,
}

impl From<&UserRecord> for CsvRow {
    fn from(r: &UserRecord) -> Self {
        Self {
            username: escape_cell(&r.username),
            chname: escape_cell(&r.chname),
            qq: escape_cell(&r.qq),
            phone: escape_cell(&r.phone),
            email: escape_cell(&r.email),
            language: escape_cell(&r.language),
            time_zone: escape_cell(&r.time_zone),
            wx_userid: escape_cell(&r.wx_userid),
            roles: r
                .roles
                .iter()
                .map(|x| x.code().to_string())
                .collect::<Vec<_>>()
                .join(";"),
            disabled: if r.disabled {
                "true".into()
            } else {
                "false".into()
            },
            source: escape_cell(&r.source),
            password_hash: escape_cell(r.password_hash.as_deref().unwrap_or_default()),
            password: String::new(),
        }
    }
}

/// Characters that make a spreadsheet treat a cell as a formula (OWASP's list).
fn is_formula_start(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Whether `v` starts with `'` followed by a formula character or another `'`: the
/// shape [`escape_cell`] produces, and the only one [`unescape_cell`] takes apart.
fn is_escaped(v: &str) -> bool {
    let mut c = v.chars();
    c.next() == Some('\'') && c.next().is_some_and(|n| n == '\'' || is_formula_start(n))
}

/// A CSV cell safe to open in a spreadsheet: a value starting with a formula character
/// gets a leading `'`. So does a value that already looks escaped, so that
/// [`unescape_cell`] restores every value exactly.
pub fn escape_cell(v: &str) -> String {
    if v.starts_with(is_formula_start) || is_escaped(v) {
        format!("'{v}")
    } else {
        v.to_owned()
    }
}

/// The value of a cell written by [`escape_cell`]; other cells are left as they are.
pub fn unescape_cell(v: String) -> String {
    if is_escaped(&v) { v[1..].to_owned() } else { v }
}

fn parse(format: Format, body: &str) -> Result<Vec<UserRecord>> {
    match format {
        Format::Json => {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Doc {
                List(Vec<UserRecord>),
                Wrapped { users: Vec<UserRecord> },
            }
            match serde_json::from_str::<Doc>(body) {
                Ok(Doc::List(v)) | Ok(Doc::Wrapped { users: v }) => Ok(v),
                Err(e) => Err(AuthError::Invalid(format!(
                    "JSON import: expected an array of users: {e}"
                ))),
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(body.as_bytes());
            let mut out = Vec::new();
            for (i, row) in rdr.deserialize::<CsvRow>().enumerate() {
                let row = row.map_err(|e| AuthError::Invalid(format!("CSV row {}: {e}", i + 1)))?;
                let roles: Vec<Role> = roles_from_text(&row.roles)
                    .map_err(|e| AuthError::Invalid(format!("CSV row {}: roles: {e}", i + 1)))?;
                let disabled = match row.disabled.to_ascii_lowercase().as_str() {
                    "" | "false" | "0" | "no" => false,
                    "true" | "1" | "yes" => true,
                    other => {
                        return Err(AuthError::Invalid(format!(
                            "CSV row {}: disabled: {other:?} is not true/false",
                            i + 1
                        )));
                    }
                };
                out.push(UserRecord {
                    username: unescape_cell(row.username),
                    chname: unescape_cell(row.chname),
                    qq: unescape_cell(row.qq),
                    phone: unescape_cell(row.phone),
                    email: unescape_cell(row.email),
                    language: unescape_cell(row.language),
                    time_zone: unescape_cell(row.time_zone),
                    wx_userid: unescape_cell(row.wx_userid),
                    roles,
                    disabled,
                    source: unescape_cell(row.source),
                    password_hash: Some(unescape_cell(row.password_hash)).filter(|h| !h.is_empty()),
                    password: Some(unescape_cell(row.password)).filter(|p| !p.is_empty()),
                });
            }
            Ok(out)
        }
    }
}

fn roles_from_text(t: &str) -> std::result::Result<Vec<Role>, String> {
    t.split([';', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            serde_json::from_value::<Role>(serde_json::Value::String(p.to_owned()))
                .map_err(|e| e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_parse() {
        let csv = "username,chname,roles,disabled,password_hash\nalice,爱丽丝,1;2,false,\nbob,Bob,developer,true,pbkdf2_sha256$1000$s$x\n";
        let v = parse(Format::Csv, csv).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].roles, vec![Role::Superuser, Role::Developer]);
        assert_eq!(v[0].chname, "爱丽丝");
        assert!(v[1].disabled);
        assert_eq!(v[1].roles, vec![Role::Developer]);
        let json = r#"[{"username":"carol","roles":[2,4]},{"username":"dave","roles":"3"}]"#;
        let v = parse(Format::Json, json).unwrap();
        assert_eq!(v[0].roles, vec![Role::Developer, Role::Auditor]);
        assert_eq!(v[1].roles, vec![Role::Operator]);
        assert!(parse(Format::Json, "{").is_err());
        let err = parse(Format::Csv, "username,roles\nx,9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 1"), "{err}");
    }

    #[test]
    fn formula_cells_are_escaped_and_restored() {
        for (value, cell) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+86 123", "'+86 123"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=already", "''=already"),
            ("''", "'''"),
            ("'plain", "'plain"),
            ("'", "'"),
            ("张三", "张三"),
            ("", ""),
        ] {
            assert_eq!(escape_cell(value), cell, "{value:?}");
            assert_eq!(unescape_cell(cell.to_owned()), value, "{cell:?}");
        }
    }
}
