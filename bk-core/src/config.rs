//! Layered configuration: defaults < TOML file < `BK_*` environment < command-line flags.
//!
//! The loader is generic over the config type so each binary composes the sections of the
//! crates it runs. Unknown keys are rejected at every layer (config types use
//! `#[serde(deny_unknown_fields)]`), and the error names the layer that brought the key.
//!
//! Environment mapping: `BK_<SECTION>__<KEY>` sets `section.key` (`__` separates levels,
//! names are lower-cased), e.g. `BK_LOGIN__TOKEN_TTL_SECS=3600`. A value is read as a TOML
//! value when it parses as one (`3600`, `true`, `["a","b"]`), else as a string. Variables
//! without `__` are ignored unless listed as aliases (e.g. `BK_DATABASE_URL` →
//! `database.url`), so unrelated `BK_*` variables in an operator's shell do no harm.
//!
//! Arrays of tables (`[[login.oidc]]`) are addressed by the `id` of an element, never by
//! its position: `BK_LOGIN__OIDC__CORP__CLIENT_SECRET=…` sets `client_secret` of the
//! element whose `id` is `corp` (compared ignoring case; `_` in the variable also matches
//! `-` in the id, as variable names cannot hold `-`). The element must come from the file;
//! naming an id that is not there is an error. An index would silently hand a secret to
//! another provider once someone reorders the file.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("config file {path} is not valid TOML: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// A layer set an unknown key or a value of the wrong type.
    #[error("invalid configuration from {layer}: {message}")]
    Invalid {
        /// Which layer (defaults, file path, environment variable, flag).
        layer: String,
        /// What was wrong.
        message: String,
    },
}

/// One value set from outside the file: an environment variable or a flag.
#[derive(Debug, Clone)]
pub struct Override {
    /// Dotted key path, e.g. `server.listen`.
    pub key: String,
    /// The value.
    pub value: Value,
    /// Where it came from, for error messages (`BK_SERVER__LISTEN`, `--listen`).
    pub origin: String,
    /// The text as given, when `value` was parsed from it (environment variables): used
    /// as a plain string when the parsed value does not fit the key (a numeric secret).
    pub raw: Option<String>,
}

impl Override {
    /// An override from a flag.
    pub fn flag(key: &str, value: impl Into<Value>, flag: &str) -> Self {
        Self {
            key: key.to_owned(),
            value: value.into(),
            origin: format!("flag {flag}"),
            raw: None,
        }
    }
}

/// Turn `BK_*` variables into overrides. `aliases` maps whole variable names to keys.
pub fn env_overrides<I>(vars: I, aliases: &[(&str, &str)]) -> Vec<Override>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut out = Vec::new();
    for (name, raw) in vars {
        let key = if let Some((_, key)) = aliases.iter().find(|(n, _)| *n == name) {
            (*key).to_owned()
        } else if let Some(rest) = name.strip_prefix("BK_") {
            if !rest.contains("__") {
                continue;
            }
            rest.split("__")
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".")
        } else {
            continue;
        };
        out.push(Override {
            key,
            value: parse_scalar(&raw),
            origin: format!("environment variable {name}"),
            raw: Some(raw),
        });
    }
    out
}

fn parse_scalar(raw: &str) -> Value {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        Err(_) => Value::String(raw.to_owned()),
    }
}

/// Load `T`: its `Default`, then the file (if any), then `overrides` in order.
pub fn load<T>(file: Option<&Path>, overrides: &[Override]) -> Result<T, ConfigError>
where
    T: Serialize + DeserializeOwned + Default,
{
    let mut merged = match Value::try_from(T::default()) {
        Ok(Value::Table(t)) => t,
        Ok(_) | Err(_) => Table::new(),
    };
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        merge(&mut merged, table);
        check::<T>(&merged, &format!("file {}", path.display()))?;
    }
    for o in overrides {
        apply(&mut merged, o, o.value.clone())?;
        if let Err(e) = check::<T>(&merged, &o.origin) {
            // `BK_…__CLIENT_SECRET=123456` parses as a number; where a string is wanted
            // (and no default told `set_leaf` so), take the text as given.
            match &o.raw {
                Some(raw) if !o.value.is_str() => {
                    apply(&mut merged, o, Value::String(raw.clone()))?;
                    check::<T>(&merged, &o.origin).map_err(|_| e)?;
                }
                _ => return Err(e),
            }
        }
    }
    check::<T>(&merged, "defaults")
}

fn apply(merged: &mut Table, o: &Override, value: Value) -> Result<(), ConfigError> {
    let path: Vec<&str> = o.key.split('.').collect();
    set_path(merged, &path, value, "").map_err(|message| ConfigError::Invalid {
        layer: o.origin.clone(),
        message,
    })
}

fn check<T: DeserializeOwned>(table: &Table, layer: &str) -> Result<T, ConfigError> {
    T::deserialize(Value::Table(table.clone())).map_err(|e| ConfigError::Invalid {
        layer: layer.to_owned(),
        message: e.to_string(),
    })
}

fn merge(into: &mut Table, from: Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(Value::Table(a)), Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

/// Set `path` (non-empty) below `table`; `above` is the dotted path walked so far, for
/// error messages.
fn set_path(table: &mut Table, path: &[&str], value: Value, above: &str) -> Result<(), String> {
    let (first, rest) = match path {
        [] => return Ok(()),
        [last] => {
            set_leaf(table, last, value);
            return Ok(());
        }
        [first, rest @ ..] => (*first, rest),
    };
    let here = if above.is_empty() {
        first.to_owned()
    } else {
        format!("{above}.{first}")
    };
    let entry = table
        .entry(first.to_owned())
        .or_insert_with(|| Value::Table(Table::new()));
    if let Value::Array(items) = entry {
        let [id, fields @ ..] = rest else {
            return Ok(());
        };
        if fields.is_empty() {
            return Err(format!(
                "{here}.{id}: set a field of the element (e.g. {here}.{id}.<field>), not the element"
            ));
        }
        let element = element_by_id(items, id, &here)?;
        return set_path(element, fields, value, &format!("{here}.{id}"));
    }
    if !entry.is_table() {
        *entry = Value::Table(Table::new());
    }
    match entry {
        Value::Table(t) => set_path(t, rest, value, &here),
        _ => Ok(()),
    }
}

/// The element of an array of tables whose `id` matches `id` (see the module doc).
fn element_by_id<'a>(
    items: &'a mut [Value],
    id: &str,
    array: &str,
) -> Result<&'a mut Table, String> {
    let matches = |t: &Table| {
        t.get("id").and_then(Value::as_str).is_some_and(|have| {
            have.eq_ignore_ascii_case(id) || have.replace('-', "_").eq_ignore_ascii_case(id)
        })
    };
    let mut found = items
        .iter_mut()
        .filter_map(Value::as_table_mut)
        .filter(|t| matches(t));
    match (found.next(), found.next()) {
        (Some(t), None) => Ok(t),
        (Some(_), Some(_)) => Err(format!(
            "{array}: more than one element matches id {id:?}; give them ids that differ in more than case or -/_"
        )),
        (None, _) => Err(format!(
            "{array} has no element with id {id:?}; define it in the config file first (environment variables set fields of elements, addressed by id)"
        )),
    }
}

fn set_leaf(cur: &mut Table, last: &str, value: Value) {
    // A string given where the default is a number or bool stays a string and fails the
    // type check with a clear message; a number given where a string is expected is
    // converted back, so `BK_X__NAME=123` works for string keys.
    let value = match (cur.get(last), value) {
        (Some(Value::String(_)), Value::Integer(i)) => Value::String(i.to_string()),
        (Some(Value::String(_)), Value::Float(f)) => Value::String(f.to_string()),
        (Some(Value::String(_)), Value::Boolean(b)) => Value::String(b.to_string()),
        (_, v) => v,
    };
    cur.insert(last.to_owned(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Server {
        listen: String,
        workers: i64,
    }
    impl Default for Server {
        fn default() -> Self {
            Self {
                listen: "127.0.0.1:8080".into(),
                workers: 2,
            }
        }
    }
    #[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct Cfg {
        server: Server,
        name: String,
    }

    fn file(text: &str) -> tempfile_path::TempFile {
        tempfile_path::TempFile::new(text)
    }

    mod tempfile_path {
        pub struct TempFile(pub std::path::PathBuf);
        impl TempFile {
            pub fn new(text: &str) -> Self {
                let p = std::env::temp_dir().join(format!(
                    "bk-config-test-{}-{}.toml",
                    std::process::id(),
                    crate::crypto::random_token(6).unwrap()
                ));
                std::fs::write(&p, text).unwrap();
                Self(p)
            }
        }
        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn layers_apply_in_order() {
        let f = file("name = 'from-file'\n[server]\nworkers = 4\nlisten = '0.0.0.0:1'\n");
        let env = env_overrides(
            vec![
                ("BK_SERVER__WORKERS".into(), "8".into()),
                ("BK_UNRELATED".into(), "x".into()),
                ("PATH".into(), "/bin".into()),
            ],
            &[],
        );
        let mut ov = env;
        ov.push(Override::flag("server.listen", "127.0.0.1:9", "--listen"));
        let cfg: Cfg = load(Some(&f.0), &ov).unwrap();
        assert_eq!(cfg.name, "from-file");
        assert_eq!(cfg.server.workers, 8);
        assert_eq!(cfg.server.listen, "127.0.0.1:9");
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_layer() {
        let f = file("[server]\nlisten_addr = 'x'\n");
        let err = load::<Cfg>(Some(&f.0), &[]).unwrap_err().to_string();
        assert!(err.contains("listen_addr") && err.contains("file"), "{err}");

        let ov = env_overrides(vec![("BK_SERVER__NOPE".into(), "1".into())], &[]);
        let err = load::<Cfg>(None, &ov).unwrap_err().to_string();
        assert!(
            err.contains("BK_SERVER__NOPE") && err.contains("nope"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_and_aliases() {
        let ov = env_overrides(vec![("BK_SERVER__WORKERS".into(), "many".into())], &[]);
        assert!(load::<Cfg>(None, &ov).is_err());
        let ov = env_overrides(
            vec![("BK_NAME_ALIAS".into(), "42".into())],
            &[("BK_NAME_ALIAS", "name")],
        );
        let cfg: Cfg = load(None, &ov).unwrap();
        assert_eq!(cfg.name, "42");
        let f = file("this is = not toml");
        assert!(matches!(
            load::<Cfg>(Some(&f.0), &[]),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[derive(Debug, Serialize, Deserialize, PartialEq, Default)]
    #[serde(deny_unknown_fields, default)]
    struct WithArray {
        providers: Vec<Provider>,
    }
    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Provider {
        id: String,
        #[serde(default)]
        secret: String,
        #[serde(default)]
        port: i64,
    }

    const PROVIDERS: &str =
        "[[providers]]\nid = 'corp-sso'\n\n[[providers]]\nid = 'Other'\nsecret = 'from-file'\n";

    fn env(vars: &[(&str, &str)]) -> Vec<Override> {
        env_overrides(
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
            &[],
        )
    }

    #[test]
    fn env_sets_fields_of_array_elements_by_id() {
        let f = file(PROVIDERS);
        let ov = env(&[
            ("BK_PROVIDERS__CORP_SSO__SECRET", "s3cret"),
            ("BK_PROVIDERS__OTHER__PORT", "8443"),
        ]);
        let cfg: WithArray = load(Some(&f.0), &ov).unwrap();
        assert_eq!(
            cfg.providers,
            vec![
                Provider {
                    id: "corp-sso".into(),
                    secret: "s3cret".into(),
                    port: 0
                },
                Provider {
                    id: "Other".into(),
                    secret: "from-file".into(),
                    port: 8443
                },
            ]
        );
        // A secret made of digits stays the text it was given.
        let ov = env(&[("BK_PROVIDERS__OTHER__SECRET", "000123")]);
        let cfg: WithArray = load(Some(&f.0), &ov).unwrap();
        assert_eq!(cfg.providers[1].secret, "000123");
        // A flag addresses elements the same way.
        let ov = [Override::flag("providers.corp-sso.secret", "x", "--secret")];
        let cfg: WithArray = load(Some(&f.0), &ov).unwrap();
        assert_eq!(cfg.providers[0].secret, "x");
    }

    #[test]
    fn env_naming_a_missing_element_is_an_error() {
        let f = file(PROVIDERS);
        let ov = env(&[("BK_PROVIDERS__NOPE__SECRET", "s3cret")]);
        let err = load::<WithArray>(Some(&f.0), &ov).unwrap_err().to_string();
        assert!(
            err.contains("BK_PROVIDERS__NOPE__SECRET")
                && err.contains("no element with id \"nope\""),
            "{err}"
        );
        assert!(!err.contains("s3cret"), "values are not echoed: {err}");
        // Without the file there is no element to address.
        let ov = env(&[("BK_PROVIDERS__CORP_SSO__SECRET", "s3cret")]);
        assert!(load::<WithArray>(None, &ov).is_err());
        // The element itself cannot be replaced field by field from one variable.
        let ov = env(&[("BK_PROVIDERS__OTHER", "x")]);
        let err = load::<WithArray>(Some(&f.0), &ov).unwrap_err().to_string();
        assert!(err.contains("set a field of the element"), "{err}");
        // Unknown fields of an element are still rejected.
        let ov = env(&[("BK_PROVIDERS__OTHER__NOPE", "1")]);
        let err = load::<WithArray>(Some(&f.0), &ov).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
