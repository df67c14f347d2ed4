//! V6 S-mart packages: `<code>/app.yml` (contracts §6) with `app_code`, `app_name`, `version`
//! required and an `env` list, the Django project under `src/`. Read into the same model as
//! app_desc.yaml: one `default` module whose code is `src/`, with the processes V6 ran for
//! S-mart apps (a Procfile in `src/` overrides them). S-mart apps deploy to prod only; the
//! engine enforces that from [`PackageFormat::Smart`].

use super::PackageError;
use super::fields::{Diag, Obj};
use super::model::{EnvVars, ModuleDesc, PackageDesc, PackageFormat, ProcessDesc};
use super::node::{Node, parse_yaml};
use bk_core::types::AppCode;

/// The descriptor's file name.
pub const SMART_FILE: &str = "app.yml";

/// V6 keys about the market, the desktop and the build that this platform does not use.
const QUIET: &[&str] = &[
    "author",
    "introduction",
    "introduction_en",
    "app_name_en",
    "category",
    "language",
    "libraries",
    "desktop",
    "container",
    "logo",
    "is_use_celery_with_gevent",
    "env_list",
];

/// The web process of a V6 S-mart app: gunicorn serving `src/wsgi.py`'s `application`.
const WEB: &str = "gunicorn wsgi:application --bind 0.0.0.0:$PORT --workers 2";
const CELERY: &str = "python manage.py celery worker -l info";
const BEAT: &str = "python manage.py celery beat -l info";

/// Parse the text of an S-mart `app.yml`.
pub fn parse_smart(text: &str) -> Result<PackageDesc, PackageError> {
    let mut diag = Diag::new(SMART_FILE);
    let root = parse_yaml(SMART_FILE, text)?;
    if matches!(root, Node::Null) {
        return Err(diag.err("", "the file is empty"));
    }
    let mut top = Obj::new(&diag, String::new(), &root)?;
    let code = top
        .text(&diag, "app_code")?
        .ok_or_else(|| diag.err("app_code", "required"))?;
    let code = AppCode::parse_legacy(&code).map_err(|e| diag.err("app_code", e.reason))?;
    let name = top
        .text(&diag, "app_name")?
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| diag.err("app_name", "required"))?;
    if name.chars().count() > 20 {
        return Err(diag.err("app_name", "must be 1-20 characters"));
    }
    let version = top
        .text(&diag, "version")?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| diag.err("version", "required"))?;
    let mut env = EnvVars::default();
    if let Some(list) = top.take("env") {
        let spelling = super::app_desc::EnvSpelling {
            key: "key",
            env: None,
            env_required: false,
        };
        super::app_desc::read_env_list(&mut diag, "env", list, &spelling, &mut env)?;
    }
    let celery = top.bool(&diag, "is_use_celery")?.unwrap_or(false);
    let beat = top.bool(&diag, "is_use_celery_beat")?.unwrap_or(false);
    top.finish(&mut diag, QUIET);

    let process = |name: &str, command: &str| ProcessDesc {
        name: name.to_owned(),
        command: command.to_owned(),
        replicas: 1,
        readiness: None,
        liveness: None,
    };
    let mut processes = vec![process("web", WEB)];
    if celery {
        processes.push(process("celery", CELERY));
    }
    if beat {
        processes.push(process("beat", BEAT));
    }
    Ok(PackageDesc {
        format: PackageFormat::Smart,
        app_code: Some(code),
        app_name: Some(name),
        version: Some(version.trim().to_owned()),
        modules: vec![ModuleDesc {
            name: "default".to_owned(),
            is_default: true,
            source_dir: Some("src".to_owned()),
            processes,
            env,
            pre_release_hook: None,
            addons: Vec::new(),
            image: None,
        }],
        warnings: diag.warnings,
        unknown: diag.unknown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_code_name_version_env_and_celery() {
        let text = "app_code: old_app\napp_name: 旧应用\nversion: 1.2\nauthor: x\nis_use_celery: true\n\
                    env:\n  - key: DEBUG_MODE\n    value: 1\nmystery: 1\n";
        let d = parse_smart(text).unwrap();
        assert_eq!(d.format, PackageFormat::Smart);
        assert_eq!(d.app_code.as_ref().map(AppCode::as_str), Some("old_app"));
        assert_eq!(d.app_name.as_deref(), Some("旧应用"));
        assert_eq!(d.version.as_deref(), Some("1.2"));
        let m = &d.modules[0];
        assert_eq!(m.source_dir.as_deref(), Some("src"));
        assert_eq!(m.env.all.get("DEBUG_MODE").map(String::as_str), Some("1"));
        let names: Vec<_> = m.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["web", "celery"]);
        assert_eq!(
            d.warnings,
            ["app.yml: mystery: unknown or unsupported key, kept but not used"]
        );
    }

    #[test]
    fn required_fields_are_named() {
        for (text, needle) in [
            ("app_name: a\nversion: 1\n", "app.yml: app_code: required"),
            ("app_code: ab\nversion: 1\n", "app.yml: app_name: required"),
            ("app_code: ab\napp_name: a\n", "app.yml: version: required"),
            (
                "app_code: A!\napp_name: a\nversion: 1\n",
                "app.yml: app_code: must be",
            ),
            (
                "app_code: ab\napp_name: a\nversion: 1\nenv:\n  - key: bad\n    value: x\n",
                "app.yml: env[0].key: key `bad` must match",
            ),
        ] {
            let e = parse_smart(text).unwrap_err().to_string();
            assert!(e.starts_with(needle), "{e}");
        }
    }
}
