//! The `engine_*` schema. Never edit an applied migration: add a new one (later parts of
//! the engine append theirs to [`ENGINE`]).

use bk_core::db::migrate::{Migration, MigrationSet};

/// This crate's migration history (component `engine`).
pub(super) static ENGINE: MigrationSet = MigrationSet {
    component: "engine",
    migrations: &[V1, V3],
};

// `module = ''` means "all modules" in engine_env_vars: NULL would let duplicates through
// the primary key on every database.
const V1: Migration = Migration {
    version: 1,
    name: "apps, modules, members, env vars, app secrets, audit",
    sql: r"
CREATE TABLE engine_apps (
    code VARCHAR(32) NOT NULL PRIMARY KEY,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    name VARCHAR(64) NOT NULL UNIQUE,
    language VARCHAR(16) NOT NULL,
    description TEXT NOT NULL,
    creator VARCHAR(64) NOT NULL,
    state SMALLINT NOT NULL,
    prod_protected SMALLINT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE engine_modules (
    app_code VARCHAR(32) NOT NULL,
    name VARCHAR(32) NOT NULL,
    uuid VARCHAR(36) NOT NULL UNIQUE,
    is_default SMALLINT NOT NULL,
    language VARCHAR(16) NOT NULL,
    source_dir TEXT NOT NULL,
    creator VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, name),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);

CREATE TABLE engine_members (
    app_code VARCHAR(32) NOT NULL,
    username VARCHAR(64) NOT NULL,
    role VARCHAR(16) NOT NULL,
    added_by VARCHAR(64) NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, username),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);
CREATE INDEX engine_members_username ON engine_members (username);

CREATE TABLE engine_env_vars (
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    scope VARCHAR(8) NOT NULL,
    var_key VARCHAR(64) NOT NULL,
    value TEXT NOT NULL,
    description TEXT NOT NULL,
    updated_by VARCHAR(64) NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, module, scope, var_key),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);

CREATE TABLE engine_app_secrets (
    app_code VARCHAR(32) NOT NULL,
    id BIGINT NOT NULL,
    key_id VARCHAR(32) NOT NULL,
    nonce VARCHAR(64) NOT NULL,
    ciphertext TEXT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    PRIMARY KEY (app_code, id),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);

CREATE TABLE engine_audit (
    id {{id}},
    logged_at BIGINT NOT NULL,
    actor VARCHAR(64) NOT NULL,
    address TEXT NOT NULL,
    app_code VARCHAR(32),
    action VARCHAR(64) NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX engine_audit_app ON engine_audit (app_code, logged_at);
CREATE INDEX engine_audit_logged_at ON engine_audit (logged_at);
",
    overrides: &[],
};

// Agents (H9b). Numbered 3: V2 (releases, deployments) is written in parallel. Assignments
// are sealed with the engine key (specs carry app secrets in their env).
const V3: Migration = Migration {
    version: 3,
    name: "agents and their assigned instances",
    sql: r"
CREATE TABLE engine_agents (
    id VARCHAR(64) NOT NULL PRIMARY KEY,
    token_hash VARCHAR(64) NOT NULL,
    enabled SMALLINT NOT NULL,
    revision BIGINT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    host VARCHAR(255) NOT NULL,
    api_url VARCHAR(512) NOT NULL,
    agent_version VARCHAR(64) NOT NULL,
    capacity TEXT NOT NULL,
    last_seen BIGINT NOT NULL
);

CREATE TABLE engine_agent_instances (
    instance_id VARCHAR(128) NOT NULL PRIMARY KEY,
    agent_id VARCHAR(64) NOT NULL,
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    env VARCHAR(8) NOT NULL,
    process_type VARCHAR(32) NOT NULL,
    generation BIGINT NOT NULL,
    ordinal BIGINT NOT NULL,
    kind VARCHAR(16) NOT NULL,
    sealed TEXT NOT NULL
);
CREATE INDEX engine_agent_instances_agent ON engine_agent_instances (agent_id);
",
    overrides: &[],
};
