//! The `engine_*` schema. Never edit an applied migration: add a new one (later parts of
//! the engine append theirs to [`ENGINE`]).

use bk_core::db::migrate::{Migration, MigrationSet};

/// This crate's migration history (component `engine`).
pub(super) static ENGINE: MigrationSet = MigrationSet {
    component: "engine",
    migrations: &[V1, V2, V3],
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

// Releases and deployments. Deployment log lines are bounded per deployment by the
// store (`MAX_LOG_LINES`); JSON columns hold serde values the engine alone reads.
const V2: Migration = Migration {
    version: 2,
    name: "packages, releases, deployments, deploy logs, slots",
    sql: r"
CREATE TABLE engine_packages (
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    digest VARCHAR(64) NOT NULL,
    size BIGINT NOT NULL,
    version VARCHAR(64) NOT NULL,
    description TEXT NOT NULL,
    uploaded_by VARCHAR(64) NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, module, digest),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);

CREATE TABLE engine_releases (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    env VARCHAR(8) NOT NULL,
    version VARCHAR(64) NOT NULL,
    package_digest VARCHAR(64) NOT NULL,
    package_size BIGINT NOT NULL,
    formation TEXT NOT NULL,
    config TEXT NOT NULL,
    source TEXT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);
CREATE INDEX engine_releases_app ON engine_releases (app_code, module, created_at);

CREATE TABLE engine_deployments (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    kind VARCHAR(16) NOT NULL,
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    env VARCHAR(8) NOT NULL,
    release_id VARCHAR(36),
    state VARCHAR(16) NOT NULL,
    reason TEXT,
    prev_app_state SMALLINT NOT NULL,
    cancel_requested SMALLINT NOT NULL,
    log_seq BIGINT NOT NULL,
    created_by VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);
CREATE INDEX engine_deployments_app ON engine_deployments (app_code, module, created_at);
CREATE INDEX engine_deployments_state ON engine_deployments (state);

CREATE TABLE engine_deploy_logs (
    deployment_id VARCHAR(36) NOT NULL,
    seq BIGINT NOT NULL,
    logged_at BIGINT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (deployment_id, seq),
    FOREIGN KEY (deployment_id) REFERENCES engine_deployments (id) ON DELETE CASCADE
);

CREATE TABLE engine_slots (
    app_code VARCHAR(32) NOT NULL,
    module VARCHAR(32) NOT NULL,
    env VARCHAR(8) NOT NULL,
    release_id VARCHAR(36),
    generation BIGINT NOT NULL,
    replicas TEXT NOT NULL,
    stopped SMALLINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, module, env),
    FOREIGN KEY (app_code) REFERENCES engine_apps (code) ON DELETE CASCADE
);
",
    overrides: &[],
};

// Agents and their assigned instances. Assignments are sealed with the engine key (specs
// carry app secrets in their env).
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
