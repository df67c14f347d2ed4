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
}

impl Override {
    /// An override from a flag.
    pub fn flag(key: &str, value: impl Into<Value>, flag: &str) -> Self {
        Self {
            key: key.to_owned(),
            value: value.into(),
            origin: format!("flag {flag}"),
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
        set_path(&mut merged, &o.key, o.value.clone());
        check::<T>(&merged, &o.origin)?;
    }
    check::<T>(&merged, "defaults")
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

fn set_path(root: &mut Table, key: &str, value: Value) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut cur = root;
    for p in parts {
        let entry = cur
            .entry(p.to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        match entry {
            Value::Table(t) => cur = t,
            _ => return,
        }
    }
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
}
