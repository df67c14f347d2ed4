//! `specVersion: 3`: camelCase, `app.bkAppCode`, modules as a list of `{name, isDefault,
//! sourceDir, spec}` (or one top-level `module:`), where `spec` is BlueKing's BkApp spec:
//! `processes` (`procCommand` or `command` + `args`), `configuration.env`,
//! `envOverlay.envVariables`, `hooks.preRelease`, `addons`, `build.image`.

use super::env::{Spelling, read_list};
use super::probe::{Case, read_probes};
use super::{Parts, app_code, app_name, module_name, process_name, replicas, source_dir};
use crate::package::fields::{Diag, Obj, as_seq, as_str, index, item_path, join};
use crate::package::model::{EnvVars, ModuleDesc, ProcessDesc};
use crate::package::node::Node;
use crate::package::rules::shell_join;
use crate::package::{Limits, PackageError};

/// Keys of `app` BlueKing defines for its market and regions; not used here.
const QUIET_APP: &[&str] = &[
    "region",
    "bkAppNameEn",
    "market",
    "introduction",
    "description",
];
/// Build settings for BlueKing's image builder; only `image` matters here.
const QUIET_BUILD: &[&str] = &["imagePullPolicy", "imageCredentialsName", "buildpacks"];

pub(super) fn read(
    diag: &mut Diag,
    top: &mut Obj<'_>,
    limits: &Limits,
) -> Result<Parts, PackageError> {
    let version = top.text(diag, "appVersion")?;
    let (mut code, mut name) = (None, None);
    if let Some(mut app) = top.obj(diag, "app")? {
        if let Some(c) = app.str(diag, "bkAppCode")? {
            code = Some(app_code(diag, &app.child("bkAppCode"), c)?);
        }
        if let Some(n) = app.text(diag, "bkAppName")? {
            name = Some(app_name(diag, &app.child("bkAppName"), &n)?);
        }
        app.finish(diag, QUIET_APP);
    }
    if top.present("modules") && top.present("module") {
        return Err(diag.err("module", "give either `modules` or `module`, not both"));
    }
    let mut modules = Vec::new();
    let modules_path = if let Some(list) = top.seq(diag, "modules")? {
        for (i, node) in list.iter().enumerate() {
            let path = item_path("modules", i, node, "name");
            modules.push(read_module(diag, path, node, None, limits)?);
        }
        "modules"
    } else if let Some(node) = top.take("module") {
        let mut m = read_module(diag, "module".to_owned(), node, Some("default"), limits)?;
        m.is_default = true;
        modules.push(m);
        "module"
    } else {
        return Err(diag.err("modules", "required: a `modules` list or a single `module`"));
    };
    Ok(Parts {
        app_code: code,
        app_name: name,
        version,
        modules,
        modules_path,
    })
}

fn read_module(
    diag: &mut Diag,
    path: String,
    node: &Node,
    default_name: Option<&str>,
    limits: &Limits,
) -> Result<ModuleDesc, PackageError> {
    let mut m = Obj::new(diag, path, node)?;
    let name = match (m.str(diag, "name")?, default_name) {
        (Some(n), _) => module_name(diag, &m.child("name"), n)?,
        (None, Some(n)) => n.to_owned(),
        (None, None) => return Err(diag.err(&m.child("name"), "required")),
    };
    let is_default = m.bool(diag, "isDefault")?.unwrap_or(false);
    let source = match m.str(diag, "sourceDir")? {
        Some(dir) => source_dir(diag, &m.child("sourceDir"), dir)?,
        None => None,
    };
    let mut module = ModuleDesc {
        name,
        is_default,
        source_dir: source,
        processes: Vec::new(),
        env: EnvVars::default(),
        pre_release_hook: None,
        addons: Vec::new(),
        image: None,
    };
    if let Some(mut spec) = m.obj(diag, "spec")? {
        read_spec(diag, &mut spec, &mut module, limits)?;
        spec.finish(diag, &[]);
    }
    m.finish(diag, &["language"]);
    Ok(module)
}

fn read_spec(
    diag: &mut Diag,
    spec: &mut Obj<'_>,
    module: &mut ModuleDesc,
    limits: &Limits,
) -> Result<(), PackageError> {
    if let Some(list) = spec.seq(diag, "processes")? {
        let base = spec.child("processes");
        for (i, node) in list.iter().enumerate() {
            let path = item_path(&base, i, node, "name");
            let p = read_process(diag, path.clone(), node, limits)?;
            if module.process(&p.name).is_some() {
                return Err(diag.err(&path, format!("process `{}` is declared twice", p.name)));
            }
            module.processes.push(p);
        }
    }
    if let Some(mut conf) = spec.obj(diag, "configuration")? {
        if let Some(list) = conf.take("env") {
            let spelling = Spelling {
                key: "name",
                env: None,
                env_required: false,
            };
            read_list(diag, &conf.child("env"), list, &spelling, &mut module.env)?;
        }
        conf.finish(diag, &[]);
    }
    if let Some(mut overlay) = spec.obj(diag, "envOverlay")? {
        if let Some(list) = overlay.take("envVariables") {
            let spelling = Spelling {
                key: "name",
                env: Some("envName"),
                env_required: true,
            };
            let path = overlay.child("envVariables");
            read_list(diag, &path, list, &spelling, &mut module.env)?;
        }
        overlay.finish(diag, &[]);
    }
    if let Some(mut hooks) = spec.obj(diag, "hooks")? {
        if let Some(mut pre) = hooks.obj(diag, "preRelease")? {
            module.pre_release_hook = Some(
                read_command(diag, &mut pre)?
                    .ok_or_else(|| diag.err(&pre.path, "needs procCommand or command/args"))?,
            );
            pre.finish(diag, &[]);
        }
        hooks.finish(diag, &[]);
    }
    if let Some(list) = spec.seq(diag, "addons")? {
        let base = spec.child("addons");
        for (i, item) in list.iter().enumerate() {
            let path = index(&base, i);
            let name = match item {
                Node::Str(s) => s.clone(),
                _ => {
                    let mut addon = Obj::new(diag, path.clone(), item)?;
                    let name = addon
                        .str(diag, "name")?
                        .ok_or_else(|| diag.err(&join(&path, "name"), "required"))?
                        .to_owned();
                    addon.finish(diag, &["specs", "sharedFromModule"]);
                    name
                }
            };
            if name.trim().is_empty() {
                return Err(diag.err(&path, "add-on name is empty"));
            }
            if !module.addons.contains(&name) {
                module.addons.push(name);
            }
        }
    }
    if let Some(mut build) = spec.obj(diag, "build")? {
        module.image = build
            .str(diag, "image")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        build.finish(diag, QUIET_BUILD);
    }
    Ok(())
}

fn read_process(
    diag: &mut Diag,
    path: String,
    node: &Node,
    limits: &Limits,
) -> Result<ProcessDesc, PackageError> {
    let mut p = Obj::new(diag, path, node)?;
    let name_path = p.child("name");
    let name = p
        .str(diag, "name")?
        .ok_or_else(|| diag.err(&name_path, "required"))?;
    let name = process_name(diag, &name_path, name)?;
    let command = read_command(diag, &mut p)?.ok_or_else(|| {
        diag.err(
            &p.child("procCommand"),
            "required: procCommand or command/args",
        )
    })?;
    let replicas = replicas(diag, &mut p, limits)?;
    let (readiness, liveness) = read_probes(diag, &mut p, Case::Camel)?;
    p.finish(diag, &[]);
    Ok(ProcessDesc {
        name,
        command,
        replicas,
        readiness,
        liveness,
    })
}

/// `procCommand: "gunicorn wsgi"` or `command: [gunicorn]` + `args: [wsgi]`, as one shell line.
fn read_command(diag: &Diag, obj: &mut Obj<'_>) -> Result<Option<String>, PackageError> {
    let proc_path = obj.child("procCommand");
    let proc_command = obj.str(diag, "procCommand")?;
    let (command_path, args_path) = (obj.child("command"), obj.child("args"));
    let command = obj.take("command");
    let args = obj.take("args");
    if proc_command.is_some() && (command.is_some() || args.is_some()) {
        return Err(diag.err(
            &proc_path,
            "give either procCommand or command/args, not both",
        ));
    }
    if let Some(line) = proc_command {
        if line.trim().is_empty() {
            return Err(diag.err(&proc_path, "is empty"));
        }
        return Ok(Some(line.trim().to_owned()));
    }
    let mut parts = Vec::new();
    match command {
        Some(Node::Str(line)) if line.trim().is_empty() => {
            return Err(diag.err(&command_path, "is empty"));
        }
        Some(Node::Str(line)) => parts.push(line.trim().to_owned()),
        Some(node) => parts.push(shell_join(&argv(diag, &command_path, node)?)),
        None => {}
    }
    if let Some(node) = args {
        parts.push(shell_join(&argv(diag, &args_path, node)?));
    }
    let line = parts.join(" ");
    if command.is_some() || args.is_some() {
        if line.trim().is_empty() {
            return Err(diag.err(&command_path, "is empty"));
        }
        return Ok(Some(line));
    }
    Ok(None)
}

fn argv(diag: &Diag, path: &str, node: &Node) -> Result<Vec<String>, PackageError> {
    as_seq(diag, path, node)?
        .iter()
        .enumerate()
        .map(|(i, item)| as_str(diag, &index(path, i), item).map(str::to_owned))
        .collect()
}
