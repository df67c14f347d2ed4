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
