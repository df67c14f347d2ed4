//! Describe an unpacked package directory: find its descriptors (`app_desc.yaml`, else an
//! S-mart `app.yml`; a `Procfile` on top of either or alone), merge them, and check what only
//! the files can tell (source directories exist, every module has a process).

use std::io::Read;
use std::path::Path;

use super::app_desc::{APP_DESC_FILE, parse_app_desc};
use super::model::{ModuleDesc, PackageDesc, PackageFormat, ProcessDesc};
use super::procfile::{PROCFILE, ProcfileEntry, parse_procfile};
use super::smart::{SMART_FILE, parse_smart};
use super::{Limits, PackageError};

/// BlueKing also accepts this spelling of the descriptor.
const APP_DESC_ALT: &str = "app_desc.yml";

/// Describe the package unpacked at `root`.
pub fn describe_dir(root: &Path, limits: &Limits) -> Result<PackageDesc, PackageError> {
    let mut extra_warnings = Vec::new();
    let app_desc = match read_descriptor(root, APP_DESC_FILE, limits)? {
        Some(text) => {
            if root.join(APP_DESC_ALT).exists() {
                extra_warnings.push(format!("{APP_DESC_ALT}: ignored, {APP_DESC_FILE} is used"));
            }
            Some(text)
        }
        None => read_descriptor(root, APP_DESC_ALT, limits)?,
    };
    let mut desc = match app_desc {
        Some(text) => Some(parse_app_desc(&text, limits)?),
        None => match read_descriptor(root, SMART_FILE, limits)? {
            Some(text) => Some(parse_smart(&text)?),
            None => None,
        },
    };
    let procfile_dir = desc
        .as_ref()
        .and_then(|d| d.default_module())
        .and_then(|m| m.source_dir.as_deref())
        .map(|dir| root.join(dir))
        .filter(|dir| dir.join(PROCFILE).exists())
        .unwrap_or_else(|| root.to_path_buf());
    let procfile = read_descriptor(&procfile_dir, PROCFILE, limits)?
        .map(|text| parse_procfile(&text))
        .transpose()?;
    let mut desc = match (desc.take(), procfile) {
        (Some(mut d), Some(entries)) => {
            merge_procfile(&mut d, entries);
            d
        }
        (Some(d), None) => d,
        (None, Some(entries)) => procfile_only(entries),
        (None, None) => {
            return Err(PackageError::Invalid(format!(
                "no {APP_DESC_FILE}, {PROCFILE} or {SMART_FILE} at the package root"
            )));
        }
    };
    desc.warnings.extend(extra_warnings);
    for m in &desc.modules {
        check_module(root, m)?;
    }
    Ok(desc)
}

/// Read a descriptor if present: a regular file (a link inside the package is followed),
/// at most `max_descriptor_bytes`, UTF-8.
fn read_descriptor(
    dir: &Path,
    name: &str,
    limits: &Limits,
) -> Result<Option<String>, PackageError> {
    let path = dir.join(name);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PackageError::io(format!("reading {}", path.display()), e)),
    };
    let fail = |reason: String| PackageError::Descriptor {
        file: name.to_owned(),
        reason,
    };
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    if meta.len() > limits.max_descriptor_bytes {
        return Err(fail(format!(
            "is larger than {} bytes",
            limits.max_descriptor_bytes
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&path)
        .and_then(|f| f.take(limits.max_descriptor_bytes).read_to_end(&mut bytes))
        .map_err(|e| PackageError::io(format!("reading {}", path.display()), e))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| fail("is not UTF-8 text".into()))
}

/// The Procfile defines the default module's processes and wins per process type.
fn merge_procfile(desc: &mut PackageDesc, entries: Vec<ProcfileEntry>) {
    let Some(module) = desc.modules.iter_mut().find(|m| m.is_default) else {
        return;
    };
    for e in entries {
        match module.processes.iter_mut().find(|p| p.name == e.name) {
            Some(p) => {
                if p.command != e.command {
                    desc.warnings.push(format!(
                        "{PROCFILE}: line {}: process `{}` overrides the command given in the package descriptor",
                        e.line, e.name
                    ));
                }
                p.command = e.command;
            }
            None => module.processes.push(new_process(e)),
        }
    }
}

fn new_process(e: ProcfileEntry) -> ProcessDesc {
    ProcessDesc {
        name: e.name,
        command: e.command,
        replicas: 1,
        readiness: None,
        liveness: None,
    }
}

fn procfile_only(entries: Vec<ProcfileEntry>) -> PackageDesc {
    PackageDesc {
        format: PackageFormat::Procfile,
        app_code: None,
        app_name: None,
        version: None,
        modules: vec![ModuleDesc {
            name: "default".to_owned(),
            is_default: true,
            source_dir: None,
            processes: entries.into_iter().map(new_process).collect(),
            env: Default::default(),
            pre_release_hook: None,
            addons: Vec::new(),
            image: None,
        }],
        warnings: Vec::new(),
        unknown: Vec::new(),
    }
}

fn check_module(root: &Path, m: &ModuleDesc) -> Result<(), PackageError> {
    if let Some(dir) = &m.source_dir
        && !root.join(dir).is_dir()
    {
        return Err(PackageError::Invalid(format!(
            "module `{}`: source directory `{dir}` is not in the package",
            m.name
        )));
    }
    if m.processes.is_empty() {
        let hint = if m.is_default {
            "declare them in the package descriptor or a Procfile"
        } else {
            "declare them in the package descriptor"
        };
        return Err(PackageError::Invalid(format!(
            "module `{}` has no processes: {hint}",
            m.name
        )));
    }
    Ok(())
}
