//! Environment variables in app_desc: v2 `env_variables` items (`key`, `value`,
//! `environment_name`), v3 `configuration.env` items (`name`, `value`) and
//! `envOverlay.envVariables` items (`envName`, `name`, `value`). Keys follow contracts §5;
//! values are never quoted back in messages (they may be secrets).

use crate::package::PackageError;
use crate::package::fields::{Diag, Obj, as_seq, as_text, index};
use crate::package::model::{Env, EnvVars};
use crate::package::node::Node;
use crate::package::rules::check_env_key;

/// How one list spells its fields.
pub(crate) struct Spelling {
    pub key: &'static str,
    /// Field naming the environment, if items carry one.
    pub env: Option<&'static str>,
    /// Whether the environment field must be present (v3 overlays).
    pub env_required: bool,
}

/// Read a list of variables at `path` into `vars`; items without an environment go to `all`.
pub(crate) fn read_list(
    diag: &mut Diag,
    path: &str,
    list: &Node,
    spelling: &Spelling,
    vars: &mut EnvVars,
) -> Result<(), PackageError> {
    for (i, item) in as_seq(diag, path, list)?.iter().enumerate() {
        let item_path = index(path, i);
        let mut obj = Obj::new(diag, item_path.clone(), item)?;
        let key_path = obj.child(spelling.key);
        let key = obj
            .str(diag, spelling.key)?
            .ok_or_else(|| diag.err(&key_path, "required"))?
            .to_owned();
        check_env_key(&key).map_err(|r| diag.err(&key_path, r))?;
        let value_path = obj.child("value");
        if !obj.present("value") {
            return Err(diag.err(&value_path, "required (use \"\" for an empty value)"));
        }
        let value = match obj.take("value") {
            Some(v) => as_text(diag, &value_path, v)?,
            None => String::new(),
        };
        let scope = match spelling.env {
            Some(field) => {
                let env_path = obj.child(field);
                match obj.str(diag, field)? {
                    Some("_global_" | "global") if !spelling.env_required => None,
                    Some(name) => Some(Env::parse(name).ok_or_else(|| {
                        let allowed = if spelling.env_required {
                            "must be stag or prod"
                        } else {
                            "must be stag, prod or _global_"
                        };
                        diag.err(&env_path, allowed)
                    })?),
                    None if spelling.env_required => {
                        return Err(diag.err(&env_path, "required (stag or prod)"));
                    }
                    None => None,
                }
            }
            None => None,
        };
        obj.finish(diag, &["description"]);
        let map = match scope {
            None => &mut vars.all,
            Some(Env::Stag) => &mut vars.stag,
            Some(Env::Prod) => &mut vars.prod,
        };
        if map.insert(key.clone(), value).is_some() {
            diag.warn(
                &key_path,
                format!("`{key}` is declared twice; the last value wins"),
            );
        }
    }
    Ok(())
}
