//! The `esb_*` schema (history under component `esb`). Never edit an applied migration:
//! add a new one.
//!
//! Systems, channels and self-service components are stored as a JSON document (`doc`)
//! beside the columns that identify them or must be unique: the gateway reads them whole
//! into its snapshot and never queries by other fields, so new fields need no migration.

use bk_core::db::migrate::{Migration, MigrationSet};

/// This crate's migration history.
pub(super) static ESB: MigrationSet = MigrationSet {
    component: "esb",
    migrations: &[V1],
};

const V1: Migration = Migration {
    version: 1,
    name: "systems, channels, self-service components, grants, allow-list, rate limits",
    sql: r"
CREATE TABLE esb_revision (
    id SMALLINT NOT NULL PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO esb_revision (id, revision) VALUES (1, 1);

CREATE TABLE esb_systems (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE esb_channels (
    path VARCHAR(255) NOT NULL PRIMARY KEY,
    system_name VARCHAR(64) NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE esb_self_service (
    system_name VARCHAR(64) NOT NULL,
    name VARCHAR(64) NOT NULL,
    registed_path VARCHAR(255) NOT NULL,
    registed_http_method VARCHAR(8) NOT NULL,
    doc TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (system_name, name),
    UNIQUE (registed_path, registed_http_method)
);

CREATE TABLE esb_grants (
    app_code VARCHAR(64) NOT NULL,
    component VARCHAR(160) NOT NULL,
    expires_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (app_code, component)
);

CREATE TABLE esb_skip_user_auth (
    app_code VARCHAR(64) NOT NULL PRIMARY KEY,
    added_at BIGINT NOT NULL
);

CREATE TABLE esb_rate_limits (
    component VARCHAR(160) NOT NULL PRIMARY KEY,
    conf TEXT NOT NULL,
    updated_at BIGINT NOT NULL
)
",
    overrides: &[],
};
