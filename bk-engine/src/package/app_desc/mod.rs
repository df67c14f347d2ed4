//! `app_desc.yaml`, the BlueKing V7 package descriptor (contracts §6), in its two spellings:
//! `spec_version: 2` (snake_case, modules as a mapping) and `specVersion: 3` (camelCase,
//! modules as a list with a `spec`). Both are read into the same [`PackageDesc`]; unknown keys
//! are kept and warned about, invalid values are errors that name the field path.

mod env;
mod probe;
mod v2;
mod v3;

use bk_core::types::AppCode;

pub(crate) use env::{Spelling as EnvSpelling, read_list as read_env_list};

use super::fields::{Diag, Obj};
use super::model::{ModuleDesc, PackageDesc, PackageFormat};
use super::node::{Node, parse_yaml};
use super::rules::{check_module_name, check_process_name, normalize_source_dir};
use super::{Limits, PackageError};

/// The descriptor's file name at the package root.
pub const APP_DESC_FILE: &str = "app_desc.yaml";

/// Parse the text of an `app_desc.yaml`.
pub fn parse_app_desc(text: &str, limits: &Limits) -> Result<PackageDesc, PackageError> {
    let mut diag = Diag::new(APP_DESC_FILE);
    let root = parse_yaml(APP_DESC_FILE, text)?;
    if matches!(root, Node::Null) {
        return Err(diag.err("", "the file is empty"));
    }
    let mut top = Obj::new(&diag, String::new(), &root)?;
    let (format, parts) = match spec_version(&diag, &mut top)? {
        2 => (
            PackageFormat::AppDescV2,
            v2::read(&mut diag, &mut top, limits)?,
        ),
        _ => (
            PackageFormat::AppDescV3,
            v3::read(&mut diag, &mut top, limits)?,
        ),
    };
    top.finish(&mut diag, &[]);
    let modules = settle_modules(&diag, parts.modules, parts.modules_path)?;
    Ok(PackageDesc {
        format,
        app_code: parts.app_code,
        app_name: parts.app_name,
        version: parts.version,
        modules,
        warnings: diag.warnings,
        unknown: diag.unknown,
    })
}

/// What a version reader hands back.
struct Parts {
    app_code: Option<AppCode>,
    app_name: Option<String>,
    version: Option<String>,
    modules: Vec<ModuleDesc>,
    /// `modules` or `module`, for errors about the set of modules.
    modules_path: &'static str,
}

fn spec_version(diag: &Diag, top: &mut Obj<'_>) -> Result<u8, PackageError> {
    if top.present("specVersion") && top.present("spec_version") {
        return Err(diag.err(
            "specVersion",
            "give either `spec_version` (2) or `specVersion` (3), not both",
        ));
    }
    let Some((key, node)) = top.take_any(&["specVersion", "spec_version"]) else {
        return Err(diag.err(
            "spec_version",
            "missing: set `spec_version: 2` or `specVersion: 3`",
        ));
    };
    let text = node.scalar_text().unwrap_or_default();
    match text.trim() {
        "2" => Ok(2),
        "3" => Ok(3),
        _ => Err(diag.err(key, "unsupported spec version (supported: 2, 3)")),
    }
}

/// The app code as the package writes it (S-mart style codes with `_` are accepted).
fn app_code(diag: &Diag, path: &str, code: &str) -> Result<AppCode, PackageError> {
    AppCode::parse_legacy(code).map_err(|e| diag.err(path, e.reason))
}

/// The app name: 1-20 characters.
fn app_name(diag: &Diag, path: &str, name: &str) -> Result<String, PackageError> {
    let n = name.trim().chars().count();
    if (1..=20).contains(&n) {
        Ok(name.trim().to_owned())
    } else {
        Err(diag.err(path, "must be 1-20 characters"))
    }
}

fn module_name(diag: &Diag, path: &str, name: &str) -> Result<String, PackageError> {
    check_module_name(name).map_err(|r| diag.err(path, r))?;
    Ok(name.to_owned())
}

fn process_name(diag: &Diag, path: &str, name: &str) -> Result<String, PackageError> {
    check_process_name(name).map_err(|r| diag.err(path, r))?;
    Ok(name.to_owned())
}

fn source_dir(diag: &Diag, path: &str, dir: &str) -> Result<Option<String>, PackageError> {
    normalize_source_dir(dir).map_err(|r| diag.err(path, r))
}

fn replicas(diag: &Diag, obj: &mut Obj<'_>, limits: &Limits) -> Result<u32, PackageError> {
    Ok(obj
        .int(diag, "replicas", 0, limits.max_replicas)?
        .unwrap_or(1))
}

/// Exactly one default module (a single module without the flag is the default), unique
/// names, the default first.
fn settle_modules(
    diag: &Diag,
    mut modules: Vec<ModuleDesc>,
    path: &str,
) -> Result<Vec<ModuleDesc>, PackageError> {
    if modules.is_empty() {
        return Err(diag.err(path, "at least one module is required"));
    }
    for (i, m) in modules.iter().enumerate() {
        if modules[..i].iter().any(|o| o.name == m.name) {
            return Err(diag.err(path, format!("module `{}` is declared twice", m.name)));
        }
    }
    let defaults: Vec<&str> = modules
        .iter()
        .filter(|m| m.is_default)
        .map(|m| m.name.as_str())
        .collect();
    match defaults.len() {
        0 if modules.len() == 1 => modules[0].is_default = true,
        0 => {
            return Err(diag.err(
                path,
                "no default module: mark exactly one with `is_default: true` (v2) or `isDefault: true` (v3)",
            ));
        }
        1 => {}
        _ => {
            return Err(diag.err(
                path,
                format!(
                    "only one module may be the default, found {}",
                    defaults.join(", ")
                ),
            ));
        }
    }
    modules.sort_by_key(|m| !m.is_default);
    Ok(modules)
}

#[cfg(test)]
mod tests;
