//! Dependencies point one way: bk-core ← service crates ← bins; tests on top; service
//! crates never depend on each other. Walks `cargo metadata` and fails on a forbidden edge.

use std::collections::BTreeMap;
use std::process::Command;

fn allowed(from: &str, to: &str) -> bool {
    match from {
        "bk-core" => to == from,
        // The engine embeds the agent's supervisor for its local deploy backend (`bk up`
        // runs apps in process); the agent never knows the engine.
        "bk-engine" => matches!(to, "bk-core" | "bk-engine" | "bk-agent"),
        "bk-auth" | "bk-esb" | "bk-agent" => to == "bk-core" || to == from,
        "bk-bins" => matches!(
            to,
            "bk-core" | "bk-auth" | "bk-esb" | "bk-engine" | "bk-agent"
        ),
        "bk-tests" => to != "bk-bins",
        // The bench drives the composed platform; nothing depends on it.
        "bk-bench" => to != "bk-tests",
        _ => false,
    }
}

#[test]
fn no_forbidden_dependency_edges() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(ours.len() >= 7, "{ours:?}");
    let mut bad = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let from = p["name"].as_str().unwrap();
        for d in p["dependencies"].as_array().unwrap() {
            let to = d["name"].as_str().unwrap();
            if ours.iter().any(|o| o == to) && !allowed(from, to) {
                bad.insert(format!("{from} -> {to}"), d["kind"].clone());
            }
        }
    }
    assert!(bad.is_empty(), "forbidden dependency edges: {bad:?}");
}

#[test]
fn core_stays_light_by_default() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bk-core/Cargo.toml"
    ))
    .unwrap();
    let default = text.lines().find(|l| l.starts_with("default =")).unwrap();
    assert_eq!(
        default.trim(),
        "default = []",
        "bk-core's default features must stay empty"
    );
    for heavy in ["axum", "sqlx", "utoipa", "tokio"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{heavy} =")))
            .unwrap();
        assert!(
            line.contains("optional = true"),
            "{heavy} must be optional in bk-core"
        );
    }
}

/// The packages `cargo tree` lists for bk-auth with `features` (normal edges only).
fn auth_tree(features: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args([
        "tree",
        "--offline",
        "-p",
        "bk-auth",
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .arg("--no-default-features");
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn has(tree: &str, krate: &str) -> bool {
    tree.lines().any(|l| l.split(' ').next() == Some(krate))
}

#[test]
fn bk_auth_features_trim_the_server() {
    // The SDK alone: no HTTP client, TLS stack or database driver.
    let sdk = auth_tree(&[]);
    for heavy in [
        "reqwest",
        "rustls",
        "sqlx",
        "sqlx-core",
        "oauth2",
        "utoipa-swagger-ui",
        "hyper-rustls",
    ] {
        assert!(
            !has(&sdk, heavy),
            "bk-auth without features pulls {heavy}:\n{sdk}"
        );
    }
    // A login service on SQLite: no PostgreSQL/MySQL drivers, no OIDC, no Swagger UI.
    let sqlite = auth_tree(&["sqlite"]);
    assert!(has(&sqlite, "sqlx-sqlite"), "{sqlite}");
    for absent in [
        "sqlx-postgres",
        "sqlx-mysql",
        "oauth2",
        "reqwest",
        "utoipa-swagger-ui",
    ] {
        assert!(!has(&sqlite, absent), "feature sqlite alone pulls {absent}");
    }
    // Each feature brings its part.
    assert!(has(&auth_tree(&["postgres"]), "sqlx-postgres"));
    assert!(has(&auth_tree(&["mysql"]), "sqlx-mysql"));
    assert!(has(&auth_tree(&["oidc"]), "oauth2"));
    assert!(has(&auth_tree(&["swagger-ui"]), "utoipa-swagger-ui"));
    assert!(has(&auth_tree(&["client"]), "reqwest"));
}
