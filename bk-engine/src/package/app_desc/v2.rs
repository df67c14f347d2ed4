//! `spec_version: 2`: snake_case, `app.bk_app_code`, modules as a mapping from name to module
//! (or one top-level `module:`), processes as a mapping from type to `{command, replicas,
//! probes}`, `env_variables` with `environment_name`, `scripts.pre_release_hook`, `services`.

use super::env::{Spelling, read_list};
use super::probe::{Case, read_probes};
use super::{Parts, app_code, app_name, module_name, process_name, replicas, source_dir};
use crate::package::fields::{Diag, Obj, as_seq, as_str, index, join};
use crate::package::model::{EnvVars, ModuleDesc, ProcessDesc};
use crate::package::node::Node;
use crate::package::{Limits, PackageError};

/// Keys of `app` BlueKing defines for its market and regions; not used here.
const QUIET_APP: &[&str] = &[
    "region",
    "bk_app_name_en",
    "market",
    "introduction",
    "description",
];

pub(super) fn read(
    diag: &mut Diag,
    top: &mut Obj<'_>,
    limits: &Limits,
) -> Result<Parts, PackageError> {
    let version = top.text(diag, "app_version")?;
    let (mut code, mut name) = (None, None);
    if let Some(mut app) = top.obj(diag, "app")? {
        if let Some(c) = app.str(diag, "bk_app_code")? {
            code = Some(app_code(diag, &app.child("bk_app_code"), c)?);
        }
        if let Some(n) = app.text(diag, "bk_app_name")? {
            name = Some(app_name(diag, &app.child("bk_app_name"), &n)?);
        }
        app.finish(diag, QUIET_APP);
    }
    if top.present("modules") && top.present("module") {
        return Err(diag.err("module", "give either `modules` or `module`, not both"));
    }
    let mut modules = Vec::new();
    let modules_path = if let Some(mut map) = top.obj(diag, "modules")? {
        let names: Vec<String> = map_keys(&map);
        for name in names {
            let path = join("modules", &name);
            let node = map.take(&name).unwrap_or(&Node::Null);
            let name = module_name(diag, &path, &name)?;
            modules.push(read_module(diag, path, name, node, limits)?);
        }
        map.finish(diag, &[]);
        "modules"
    } else if let Some(node) = top.take("module") {
        let mut m = read_module(
            diag,
            "module".to_owned(),
            "default".to_owned(),
            node,
            limits,
        )?;
        m.is_default = true;
        modules.push(m);
        "module"
    } else {
        return Err(diag.err(
            "modules",
            "required: a `modules` mapping or a single `module`",
        ));
    };
    Ok(Parts {
        app_code: code,
        app_name: name,
        version,
        modules,
        modules_path,
    })
}

fn map_keys(obj: &Obj<'_>) -> Vec<String> {
    obj.keys().map(str::to_owned).collect()
}

fn read_module(
    diag: &mut Diag,
    path: String,
    name: String,
    node: &Node,
    limits: &Limits,
) -> Result<ModuleDesc, PackageError> {
    let mut m = Obj::new(diag, path, node)?;
    let is_default = m.bool(diag, "is_default")?.unwrap_or(false);
    let source = match m.str(diag, "source_dir")? {
        Some(dir) => source_dir(diag, &m.child("source_dir"), dir)?,
        None => None,
    };
    let mut processes = Vec::new();
    if let Some(mut procs) = m.obj(diag, "processes")? {
        for proc_name in procs.keys().map(str::to_owned).collect::<Vec<_>>() {
            let proc_path = procs.child(&proc_name);
            let node = procs.take(&proc_name).unwrap_or(&Node::Null);
            let proc_name = process_name(diag, &proc_path, &proc_name)?;
            processes.push(read_process(diag, proc_path, proc_name, node, limits)?);
        }
        procs.finish(diag, &[]);
    }
    let mut env = EnvVars::default();
    if let Some(list) = m.take("env_variables") {
        let spelling = Spelling {
            key: "key",
            env: Some("environment_name"),
            env_required: false,
        };
        read_list(diag, &m.child("env_variables"), list, &spelling, &mut env)?;
    }
    let mut pre_release_hook = None;
    if let Some(mut scripts) = m.obj(diag, "scripts")? {
        if let Some(hook) = scripts.str(diag, "pre_release_hook")? {
            if hook.trim().is_empty() {
                return Err(diag.err(&scripts.child("pre_release_hook"), "is empty"));
            }
            pre_release_hook = Some(hook.trim().to_owned());
        }
        scripts.finish(diag, &[]);
    }
    let addons = match m.take("services") {
        Some(list) => read_services(diag, &m.child("services"), list)?,
        None => Vec::new(),
    };
    m.finish(diag, &["language"]);
    Ok(ModuleDesc {
        name,
        is_default,
        source_dir: source,
        processes,
        env,
        pre_release_hook,
        addons,
        image: None,
    })
}

fn read_process(
    diag: &mut Diag,
    path: String,
    name: String,
    node: &Node,
    limits: &Limits,
) -> Result<ProcessDesc, PackageError> {
    let mut p = Obj::new(diag, path, node)?;
    let command = match p.str(diag, "command")? {
        Some(c) if !c.trim().is_empty() => c.trim().to_owned(),
        Some(_) => return Err(diag.err(&p.child("command"), "is empty")),
        None => return Err(diag.err(&p.child("command"), "required: the command line to run")),
    };
    let replicas = replicas(diag, &mut p, limits)?;
    let (readiness, liveness) = read_probes(diag, &mut p, Case::Snake)?;
    p.finish(diag, &[]);
    Ok(ProcessDesc {
        name,
        command,
        replicas,
        readiness,
        liveness,
    })
}

/// `services: [{name: mysql}, ...]` (a bare name is accepted too); only names are kept.
fn read_services(diag: &mut Diag, path: &str, list: &Node) -> Result<Vec<String>, PackageError> {
    let mut names: Vec<String> = Vec::new();
    for (i, item) in as_seq(diag, path, list)?.iter().enumerate() {
        let item_path = index(path, i);
        let name = match item {
            Node::Str(s) => s.clone(),
            _ => {
                let mut obj = Obj::new(diag, item_path.clone(), item)?;
                let name = obj
                    .take("name")
                    .map(|n| as_str(diag, &join(&item_path, "name"), n))
                    .transpose()?
                    .ok_or_else(|| diag.err(&join(&item_path, "name"), "required"))?
                    .to_owned();
                obj.finish(diag, &["shared_from", "specs"]);
                name
            }
        };
        if name.trim().is_empty() {
            return Err(diag.err(&item_path, "service name is empty"));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}
