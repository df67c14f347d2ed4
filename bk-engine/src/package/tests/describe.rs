//! Describing unpacked directories: which descriptor is used, how a Procfile merges in, what
//! only the files can tell (source dirs, processes), and staging as the engine calls it.

use std::fs;
use std::path::Path;

use super::archive::Tar;
use crate::package::{
    Limits, PackageDigest, PackageError, PackageFormat, ProbeAction, describe_dir, pack_dir, stage,
};

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = dir.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

fn describe(files: &[(&str, &str)]) -> Result<crate::package::PackageDesc, PackageError> {
    let dir = dir_with(files);
    describe_dir(dir.path(), &Limits::default())
}

const DESC: &str = "spec_version: 2\nmodules:\n  default:\n    processes:\n      web:\n        command: from-desc\n        replicas: 3\n        probes:\n          readiness:\n            http_get: {path: /healthz}\n      worker:\n        command: work\n";

#[test]
fn the_procfile_wins_per_process_and_keeps_replicas_and_probes() {
    let d = describe(&[
        ("app_desc.yaml", DESC),
        ("Procfile", "web: from-procfile\nclock: tick\n"),
    ])
    .unwrap();
    assert_eq!(d.format, PackageFormat::AppDescV2);
    let m = d.default_module().unwrap();
    let web = m.process("web").unwrap();
    assert_eq!(web.command, "from-procfile");
    assert_eq!(web.replicas, 3);
    assert!(matches!(
        web.readiness.as_ref().map(|p| &p.action),
        Some(ProbeAction::HttpGet { .. })
    ));
    assert_eq!(m.process("worker").unwrap().command, "work");
    let clock = m.process("clock").unwrap();
    assert_eq!((clock.command.as_str(), clock.replicas), ("tick", 1));
    assert_eq!(
        d.warnings,
        ["Procfile: line 1: process `web` overrides the command given in the package descriptor"]
    );
}

#[test]
fn a_procfile_alone_makes_the_default_module() {
    let d = describe(&[("Procfile", "web: python3 app.py\n")]).unwrap();
    assert_eq!(d.format, PackageFormat::Procfile);
    assert_eq!(d.modules.len(), 1);
    assert_eq!(d.modules[0].name, "default");
    assert!(d.modules[0].is_default);
    assert_eq!(d.modules[0].processes[0].command, "python3 app.py");
}

#[test]
fn the_procfile_is_looked_up_in_the_default_module_source_dir_first() {
    let desc = "specVersion: 3\nmodules:\n  - name: main\n    sourceDir: app\n    spec:\n      processes:\n        - {name: web, procCommand: desc}\n";
    let d = describe(&[
        ("app_desc.yaml", desc),
        ("app/Procfile", "web: inner\n"),
        ("Procfile", "web: outer\n"),
    ])
    .unwrap();
    assert_eq!(d.modules[0].processes[0].command, "inner");
    let d = describe(&[
        ("app_desc.yaml", desc),
        ("app/x", ""),
        ("Procfile", "web: outer\n"),
    ])
    .unwrap();
    assert_eq!(d.modules[0].processes[0].command, "outer");
}

#[test]
fn bad_procfiles_and_missing_pieces_are_explained() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("src/x", "")],
            "no app_desc.yaml, Procfile or app.yml at the package root",
        ),
        (
            &[("Procfile", "web python3\n")],
            "Procfile: line 1: expected `<type>: <command>`",
        ),
        (
            &[(
                "app_desc.yaml",
                "spec_version: 2\nmodule:\n  source_dir: backend\n  processes: {web: {command: x}}\n",
            )],
            "module `default`: source directory `backend` is not in the package",
        ),
        (
            &[(
                "app_desc.yaml",
                "spec_version: 2\nmodules:\n  default: {language: python}\n",
            )],
            "module `default` has no processes: declare them in the package descriptor or a Procfile",
        ),
        (
            &[("app_desc.yaml", "spec_version: [\n")],
            "app_desc.yaml: invalid YAML",
        ),
        (
            &[("app_desc.yaml", "\u{0}\u{ff}")],
            "app_desc.yaml: invalid YAML",
        ),
    ];
    for (files, want) in cases {
        let got = describe(files).unwrap_err().to_string();
        assert!(got.starts_with(want), "want {want}\ngot  {got}");
    }
}

#[test]
fn descriptors_must_be_small_utf8_files() {
    let limits = Limits {
        max_descriptor_bytes: 10,
        ..Limits::default()
    };
    let dir = dir_with(&[("Procfile", "web: a very long command\n")]);
    let e = describe_dir(dir.path(), &limits).unwrap_err().to_string();
    assert_eq!(e, "Procfile: is larger than 10 bytes");

    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Procfile"), b"web: \xff\xfe\n").unwrap();
    let e = describe_dir(dir.path(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "Procfile: is not UTF-8 text");

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("app_desc.yaml")).unwrap();
    let e = describe_dir(dir.path(), &Limits::default())
        .unwrap_err()
        .to_string();
    assert_eq!(e, "app_desc.yaml: is not a regular file");
}

#[test]
fn app_desc_yml_is_accepted_and_yaml_preferred() {
    let d = describe(&[("app_desc.yml", DESC)]).unwrap();
    assert_eq!(d.format, PackageFormat::AppDescV2);
    let d = describe(&[("app_desc.yml", "garbage: ["), ("app_desc.yaml", DESC)]).unwrap();
    assert_eq!(d.warnings, ["app_desc.yml: ignored, app_desc.yaml is used"]);
}

#[test]
fn an_smart_package_stages_from_its_code_directory() {
    let archive = Tar::new()
        .dir("old_app/")
        .file(
            "old_app/app.yml",
            b"app_code: old_app\napp_name: Old\nversion: 0.1\nlibraries:\n  - {name: requests, version: '2.0'}\n",
        )
        .file("old_app/src/wsgi.py", b"application = None\n")
        .file("old_app/pkgs/requests-2.0.tar.gz", b"")
        .gz();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("old_app.tar.gz");
    fs::write(&file, &archive).unwrap();
    let staged = stage(&file, &tmp.path().join("rel"), &Limits::default()).unwrap();
    assert_eq!(staged.digest, PackageDigest::of_bytes(&archive));
    assert_eq!(staged.desc.format, PackageFormat::Smart);
    assert_eq!(staged.desc.modules[0].source_dir.as_deref(), Some("src"));
    assert!(staged.root.join("src/wsgi.py").is_file());
    assert!(
        staged.desc.warnings.is_empty(),
        "{:?}",
        staged.desc.warnings
    );
}

#[test]
fn staging_a_package_that_does_not_describe_leaves_nothing() {
    let archive = Tar::new()
        .file(
            "app_desc.yaml",
            b"spec_version: 2\nmodule:\n  processes: {web: {command: x, replicas: 99}}\n",
        )
        .gz();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.tar.gz");
    fs::write(&file, &archive).unwrap();
    let dest = tmp.path().join("rel");
    let e = stage(&file, &dest, &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "app_desc.yaml: module.processes.web.replicas: must be an integer 0..=20"
    );
    assert!(!dest.exists());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn staging_a_directory_packs_it_and_digests_the_packing() {
    let src = dir_with(&[("Procfile", "web: x\n"), ("a/b.txt", "b")]);
    let tmp = tempfile::tempdir().unwrap();
    let staged = stage(src.path(), &tmp.path().join("rel"), &Limits::default()).unwrap();
    let (bytes, _) = pack_dir(src.path(), &Limits::default()).unwrap();
    assert_eq!(staged.digest, PackageDigest::of_bytes(&bytes));
    assert_eq!(
        fs::read_to_string(staged.root.join("a/b.txt")).unwrap(),
        "b"
    );
    assert!(Path::new(&staged.root).is_dir());
}
