//! app_desc.yaml in both spec versions: the model each produces, and errors that name paths.

use std::collections::BTreeMap;

use super::*;
use crate::package::model::{Env, EnvVars, Probe, ProbeAction, ProbePort, ProcessDesc};

fn parse(text: &str) -> Result<PackageDesc, PackageError> {
    parse_app_desc(text, &Limits::default())
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(d) => panic!("expected an error, got {d:#?}"),
        Err(e) => e.to_string(),
    }
}

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const V2: &str = r#"
spec_version: 2
app_version: "1.2.0"
app:
  bk_app_code: demo-app
  bk_app_name: 演示应用
  market:
    introduction: hello
modules:
  api:
    language: Go
    source_dir: ./backend/
    processes:
      api:
        command: ./api --port $PORT
  web:
    is_default: True
    language: Python
    services:
      - name: mysql
      - name: redis
        shared_from: api
      - mysql
    env_variables:
      - key: DJANGO_SETTINGS_MODULE
        value: settings.prod
        description: which settings
      - key: WORKERS
        value: 4
      - key: FEATURE_X
        value: "on"
        environment_name: stag
      - key: FEATURE_X
        value: "off"
        environment_name: prod
      - key: SHARED
        value: x
        environment_name: _global_
    processes:
      web:
        command: gunicorn wsgi -b :$PORT
        replicas: 2
        plan: 4C2G
        probes:
          readiness:
            http_get:
              path: /healthz
              port: ${PORT}
            initial_delay_seconds: 1
            period_seconds: 2
          liveness:
            tcpSocket:
              port: 8080
            failureThreshold: 5
      worker:
        command: celery worker
        replicas: 0
    scripts:
      pre_release_hook: python manage.py migrate
    svc_discovery:
      bk_saas: [other]
"#;

#[test]
fn v2_reads_every_supported_field() {
    let d = parse(V2).unwrap();
    assert_eq!(d.format, PackageFormat::AppDescV2);
    assert_eq!(d.app_code.as_ref().map(AppCode::as_str), Some("demo-app"));
    assert_eq!(d.app_name.as_deref(), Some("演示应用"));
    assert_eq!(d.version.as_deref(), Some("1.2.0"));
    let names: Vec<_> = d.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["web", "api"], "default module first");

    let web = &d.modules[0];
    assert!(web.is_default);
    assert_eq!(web.source_dir, None);
    assert_eq!(
        web.processes,
        vec![
            ProcessDesc {
                name: "web".into(),
                command: "gunicorn wsgi -b :$PORT".into(),
                replicas: 2,
                readiness: Some(Probe {
                    action: ProbeAction::HttpGet {
                        path: "/healthz".into(),
                        port: ProbePort::App,
                    },
                    initial_delay_seconds: 1,
                    period_seconds: 2,
                    timeout_seconds: 1,
                    failure_threshold: 3,
                }),
                liveness: Some(Probe {
                    action: ProbeAction::TcpSocket {
                        port: ProbePort::Number(8080),
                    },
                    initial_delay_seconds: 0,
                    period_seconds: 10,
                    timeout_seconds: 1,
                    failure_threshold: 5,
                }),
            },
            ProcessDesc {
                name: "worker".into(),
                command: "celery worker".into(),
                replicas: 0,
                readiness: None,
                liveness: None,
            },
        ]
    );
    assert_eq!(
        web.env,
        EnvVars {
            all: vars(&[
                ("DJANGO_SETTINGS_MODULE", "settings.prod"),
                ("SHARED", "x"),
                ("WORKERS", "4"),
            ]),
            stag: vars(&[("FEATURE_X", "on")]),
            prod: vars(&[("FEATURE_X", "off")]),
        }
    );
    assert_eq!(web.env.for_env(Env::Prod)["FEATURE_X"], "off");
    assert_eq!(web.env.for_env(Env::Stag)["WORKERS"], "4");
    assert_eq!(
        web.pre_release_hook.as_deref(),
        Some("python manage.py migrate")
    );
    assert_eq!(web.addons, ["mysql", "redis"]);

    let api = &d.modules[1];
    assert!(!api.is_default);
    assert_eq!(api.source_dir.as_deref(), Some("backend"));
    assert_eq!(api.processes[0].replicas, 1, "replicas default to 1");

    // Unknown keys are kept with their values and reported; BlueKing keys such as
    // `language` and `market` are known and silent.
    let unknown: Vec<_> = d.unknown.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        unknown,
        [
            "modules.web.processes.web.plan",
            "modules.web.svc_discovery"
        ]
    );
    assert_eq!(d.unknown[0].value, Node::Str("4C2G".into()));
    assert_eq!(
        d.warnings,
        [
            "app_desc.yaml: modules.web.processes.web.plan: unknown or unsupported key, kept but not used",
            "app_desc.yaml: modules.web.svc_discovery: unknown or unsupported key, kept but not used",
        ]
    );
}

#[test]
fn v2_single_module_form_is_the_default_module() {
    let d = parse(
        "spec_version: 2\nmodule:\n  language: python\n  processes:\n    web:\n      command: python3 app.py\n",
    )
    .unwrap();
    assert_eq!(d.modules.len(), 1);
    assert_eq!(d.modules[0].name, "default");
    assert!(d.modules[0].is_default);
    assert_eq!(d.modules[0].processes[0].command, "python3 app.py");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

const V3: &str = r#"
specVersion: 3
appVersion: 2.0
app:
  bkAppCode: demo-app
  bkAppName: Demo
modules:
  - name: api
    sourceDir: backend
    language: go
    spec:
      processes:
        - name: api
          command: ["./api"]
          args: ["--port", "${PORT}", "--name", "a b"]
  - name: main
    isDefault: true
    language: python
    spec:
      build:
        image: registry.example.com/demo:1
        imagePullPolicy: Always
      processes:
        - name: web
          procCommand: python3 server.py
          replicas: 3
          probes:
            readiness:
              httpGet:
                path: /ready
                port: 5000
              timeoutSeconds: 2
            liveness:
              exec:
                command: ["cat", "/tmp/alive"]
              periodSeconds: 30
            startup:
              tcpSocket:
                port: ${PORT}
        - name: beat
          command: celery beat
      configuration:
        env:
          - name: LOG_LEVEL
            value: info
      envOverlay:
        envVariables:
          - envName: prod
            name: LOG_LEVEL
            value: warning
          - envName: stag
            name: DEBUG
            value: true
        replicas:
          - envName: prod
            process: web
            count: 4
      hooks:
        preRelease:
          command: ["python", "manage.py"]
          args: ["migrate", "--no-input"]
      addons:
        - name: mysql
          specs: [{name: version, value: "8.0"}]
        - name: rabbitmq
      svcDiscovery:
        bkSaaS: [{bkAppCode: other}]
"#;

#[test]
fn v3_reads_every_supported_field() {
    let d = parse(V3).unwrap();
    assert_eq!(d.format, PackageFormat::AppDescV3);
    assert_eq!(d.app_code.as_ref().map(AppCode::as_str), Some("demo-app"));
    assert_eq!(d.app_name.as_deref(), Some("Demo"));
    assert_eq!(
        d.version.as_deref(),
        Some("2.0"),
        "a YAML number is kept as text"
    );
    let names: Vec<_> = d.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["main", "api"]);

    let main = &d.modules[0];
    assert!(main.is_default);
    assert_eq!(main.image.as_deref(), Some("registry.example.com/demo:1"));
    let web = main.process("web").unwrap();
    assert_eq!(web.command, "python3 server.py");
    assert_eq!(web.replicas, 3);
    assert_eq!(
        web.readiness
            .as_ref()
            .map(|p| (&p.action, p.timeout_seconds)),
        Some((
            &ProbeAction::HttpGet {
                path: "/ready".into(),
                port: ProbePort::Number(5000)
            },
            2
        ))
    );
    assert_eq!(
        web.liveness.as_ref().map(|p| (&p.action, p.period_seconds)),
        Some((
            &ProbeAction::Exec {
                command: vec!["cat".into(), "/tmp/alive".into()]
            },
            30
        ))
    );
    assert_eq!(main.process("beat").unwrap().command, "celery beat");
    assert_eq!(
        main.env,
        EnvVars {
            all: vars(&[("LOG_LEVEL", "info")]),
            stag: vars(&[("DEBUG", "true")]),
            prod: vars(&[("LOG_LEVEL", "warning")]),
        }
    );
    assert_eq!(
        main.pre_release_hook.as_deref(),
        Some("python manage.py migrate --no-input")
    );
    assert_eq!(main.addons, ["mysql", "rabbitmq"]);

    let api = &d.modules[1];
    assert_eq!(api.source_dir.as_deref(), Some("backend"));
    assert_eq!(
        api.processes[0].command,
        r#"./api --port "${PORT}" --name 'a b'"#
    );

    let unknown: Vec<_> = d.unknown.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(
        unknown,
        [
            "modules.main.spec.processes.web.probes.startup",
            "modules.main.spec.envOverlay.replicas",
            "modules.main.spec.svcDiscovery",
        ]
    );
}

#[test]
fn a_single_module_without_the_flag_is_the_default() {
    let d = parse(
        "specVersion: 3\nmodules:\n  - name: only\n    spec:\n      processes:\n        - name: web\n          procCommand: x\n",
    )
    .unwrap();
    assert!(d.modules[0].is_default);
    assert_eq!(d.default_module().map(|m| m.name.as_str()), Some("only"));
}

#[test]
fn the_description_round_trips_through_json() {
    let d = parse(V3).unwrap();
    let json = serde_json::to_string(&d).unwrap();
    let back: PackageDesc = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
}

#[test]
fn replicas_errors_name_the_path_and_the_configured_bound() {
    let text = "spec_version: 2\nmodules:\n  web:\n    processes:\n      web:\n        command: x\n        replicas: 21\n";
    assert_eq!(
        err(text),
        "app_desc.yaml: modules.web.processes.web.replicas: must be an integer 0..=20"
    );
    let limits = Limits {
        max_replicas: 3,
        ..Limits::default()
    };
    let text = text.replace("21", "4");
    assert_eq!(
        parse_app_desc(&text, &limits).unwrap_err().to_string(),
        "app_desc.yaml: modules.web.processes.web.replicas: must be an integer 0..=3"
    );
    for bad in ["-1", "1.5", "'2'", "[1]"] {
        let text = text.replace("replicas: 4", &format!("replicas: {bad}"));
        assert!(
            err(&text).contains("modules.web.processes.web.replicas: must be an integer"),
            "{bad}"
        );
    }
}

/// v2 and v3 documents with one mistake each, and the message that must come back.
#[test]
fn invalid_values_are_errors_that_name_the_field() {
    let v2 = |module: &str| format!("spec_version: 2\nmodules:\n  default:\n{module}");
    let v3 = |spec: &str| {
        format!("specVersion: 3\nmodules:\n  - name: main\n    isDefault: true\n    spec:\n{spec}")
    };
    let web3 = "      processes:\n        - name: web\n          procCommand: run\n";
    let cases: Vec<(String, &str)> = vec![
        ("app: {}\n".into(), "app_desc.yaml: spec_version: missing"),
        ("spec_version: 1\nmodules: {}\n".into(), "app_desc.yaml: spec_version: unsupported spec version (supported: 2, 3)"),
        ("specVersion: 3\n".into(), "app_desc.yaml: modules: required"),
        ("specVersion: 3\nspec_version: 2\n".into(), "app_desc.yaml: specVersion: give either `spec_version` (2) or `specVersion` (3), not both"),
        ("".into(), "app_desc.yaml: the file is empty"),
        ("spec_version: 2\nmodules: [a]\n".into(), "app_desc.yaml: modules: must be a mapping, got a list"),
        ("spec_version: 2\nmodules:\n  web: {processes: {web: {command: x}}}\nmodule: {}\n".into(), "app_desc.yaml: module: give either `modules` or `module`, not both"),
        ("spec_version: 2\napp:\n  bk_app_code: Bad_Code\nmodule: {}\n".into(), "app_desc.yaml: app.bk_app_code: must be 2-16 characters"),
        ("spec_version: 2\napp:\n  bk_app_name: 一二三四五六七八九十一二三四五六七八九十一\nmodule: {}\n".into(), "app_desc.yaml: app.bk_app_name: must be 1-20 characters"),
        ("spec_version: 2\nmodules:\n  Web: {}\n".into(), "app_desc.yaml: modules.Web: module name `Web` must be"),
        (v2("    processes:\n      Web:\n        command: x\n"), "app_desc.yaml: modules.default.processes.Web: process type `Web` must be 1-12 characters"),
        (v2("    processes:\n      abcdefghijklm:\n        command: x\n"), "app_desc.yaml: modules.default.processes.abcdefghijklm: process type"),
        (v2("    processes:\n      web: {}\n"), "app_desc.yaml: modules.default.processes.web.command: required"),
        (v2("    processes:\n      web:\n        command: '  '\n"), "app_desc.yaml: modules.default.processes.web.command: is empty"),
        (v2("    is_default: yes\n"), "app_desc.yaml: modules.default.is_default: must be true or false, got a string"),
        (v2("    source_dir: ../up\n"), "app_desc.yaml: modules.default.source_dir: must stay inside the package"),
        (v2("    source_dir: /abs\n"), "app_desc.yaml: modules.default.source_dir: must be a path relative"),
        (v2("    env_variables:\n      - key: lower\n        value: SECRET-VALUE\n"), "app_desc.yaml: modules.default.env_variables[0].key: key `lower` must match ^[A-Z][A-Z0-9_]*$"),
        (v2("    env_variables:\n      - key: BKPAAS_APP_ID\n        value: x\n"), "app_desc.yaml: modules.default.env_variables[0].key: key `BKPAAS_APP_ID` uses the prefix BKPAAS_, which is reserved"),
        (v2("    env_variables:\n      - key: A\n"), "app_desc.yaml: modules.default.env_variables[0].value: required"),
        (v2("    env_variables:\n      - key: A\n        value: [1]\n"), "app_desc.yaml: modules.default.env_variables[0].value: must be a string, got a list"),
        (v2("    env_variables:\n      - key: A\n        value: x\n        environment_name: staging\n"), "app_desc.yaml: modules.default.env_variables[0].environment_name: must be stag, prod or _global_"),
        (v2("    scripts:\n      pre_release_hook: ''\n"), "app_desc.yaml: modules.default.scripts.pre_release_hook: is empty"),
        (v2("    services:\n      - specs: {}\n"), "app_desc.yaml: modules.default.services[0].name: required"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          readiness: {}\n"), "app_desc.yaml: modules.default.processes.web.probes.readiness: needs one of httpGet, tcpSocket or exec"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          readiness:\n            exec: {command: [x]}\n            tcp_socket: {port: 1}\n"), "app_desc.yaml: modules.default.processes.web.probes.readiness: give only one of"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          liveness:\n            http_get: {path: healthz}\n"), "app_desc.yaml: modules.default.processes.web.probes.liveness.http_get.path: must start with `/`"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          liveness:\n            tcp_socket: {port: 70000}\n"), "app_desc.yaml: modules.default.processes.web.probes.liveness.tcp_socket.port: must be a port number 1..=65535 or ${PORT}"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          liveness:\n            tcp_socket: {port: web}\n"), "app_desc.yaml: modules.default.processes.web.probes.liveness.tcp_socket.port: must be a port number"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          liveness:\n            exec: {command: []}\n"), "app_desc.yaml: modules.default.processes.web.probes.liveness.exec.command: must name a program"),
        (v2("    processes:\n      web:\n        command: x\n        probes:\n          liveness:\n            exec: {command: [x]}\n            period_seconds: 0\n"), "app_desc.yaml: modules.default.processes.web.probes.liveness.period_seconds: must be an integer 1..=3600"),
        (v3(&format!("{web3}          command: [run]\n")), "app_desc.yaml: modules.main.spec.processes.web.procCommand: give either procCommand or command/args, not both"),
        (v3("      processes:\n        - name: web\n"), "app_desc.yaml: modules.main.spec.processes.web.procCommand: required: procCommand or command/args"),
        (v3("      processes:\n        - procCommand: x\n"), "app_desc.yaml: modules.main.spec.processes[0].name: required"),
        (v3("      processes:\n        - name: web\n          command: [1, 2]\n"), "app_desc.yaml: modules.main.spec.processes.web.command[0]: must be a string, got a number"),
        (v3(&format!("{web3}        - name: web\n          procCommand: again\n")), "app_desc.yaml: modules.main.spec.processes.web: process `web` is declared twice"),
        (v3("      processes:\n        - name: web\n          procCommand: x\n          probes:\n            readiness:\n              httpGet: {port: 80}\n              initialDelaySeconds: -1\n"), "app_desc.yaml: modules.main.spec.processes.web.probes.readiness.initialDelaySeconds: must be an integer 0..=3600"),
        (v3(&format!("{web3}      envOverlay:\n        envVariables:\n          - name: A\n            value: x\n")), "app_desc.yaml: modules.main.spec.envOverlay.envVariables[0].envName: required (stag or prod)"),
        (v3(&format!("{web3}      envOverlay:\n        envVariables:\n          - envName: _global_\n            name: A\n            value: x\n")), "app_desc.yaml: modules.main.spec.envOverlay.envVariables[0].envName: must be stag or prod"),
        (v3(&format!("{web3}      configuration:\n        env:\n          - name: 9LIVES\n            value: x\n")), "app_desc.yaml: modules.main.spec.configuration.env[0].name: key `9LIVES` must match"),
        (v3(&format!("{web3}      hooks:\n        preRelease: {{}}\n")), "app_desc.yaml: modules.main.spec.hooks.preRelease: needs procCommand or command/args"),
        (v3(&format!("{web3}      addons:\n        - name: ''\n")), "app_desc.yaml: modules.main.spec.addons[0]: add-on name is empty"),
        (v3("      processes: {web: {}}\n"), "app_desc.yaml: modules.main.spec.processes: must be a list, got a mapping"),
        ("specVersion: 3\nmodules:\n  - spec: {}\n".into(), "app_desc.yaml: modules[0].name: required"),
        ("specVersion: 3\nmodules:\n  - name: a1\n  - name: b1\n".into(), "app_desc.yaml: modules: no default module"),
        ("specVersion: 3\nmodules:\n  - name: a1\n    isDefault: true\n  - name: b1\n    isDefault: true\n".into(), "app_desc.yaml: modules: only one module may be the default, found a1, b1"),
        ("specVersion: 3\nmodules:\n  - name: a1\n  - name: a1\n".into(), "app_desc.yaml: modules: module `a1` is declared twice"),
        ("specVersion: 3\nmodules: []\n".into(), "app_desc.yaml: modules: at least one module is required"),
        ("specVersion: 3\nmodules:\n  - name: a1\n   bad: indent\n".into(), "app_desc.yaml: invalid YAML: line "),
    ];
    for (text, want) in cases {
        let got = err(&text);
        assert!(
            got.starts_with(want),
            "for\n{text}\nwant prefix: {want}\ngot:         {got}"
        );
        assert!(
            !got.contains("SECRET-VALUE"),
            "values are never echoed: {got}"
        );
    }
}

#[test]
fn a_duplicate_env_key_warns_and_the_last_value_wins() {
    let d = parse(
        "spec_version: 2\nmodule:\n  processes: {web: {command: x}}\n  env_variables:\n    - {key: A, value: '1'}\n    - {key: A, value: '2'}\n",
    )
    .unwrap();
    assert_eq!(d.modules[0].env.all["A"], "2");
    assert_eq!(
        d.warnings,
        ["app_desc.yaml: module.env_variables[1].key: `A` is declared twice; the last value wins"]
    );
}
