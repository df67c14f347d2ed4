//! The `login_*` schema. Never edit an applied migration: add a new one.

use bk_core::db::migrate::{Migration, MigrationSet};

/// This crate's migration history (component `login`).
pub(super) static LOGIN: MigrationSet = MigrationSet {
    component: "login",
    migrations: &[V1, V2, V3],
};

const V1: Migration = Migration {
    version: 1,
    name: "users, roles, sessions, throttle, audit, pending logins",
    sql: r"
CREATE TABLE login_users (
    username VARCHAR(64) NOT NULL PRIMARY KEY,
    chname TEXT NOT NULL,
    qq TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    language TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    wx_userid TEXT NOT NULL,
    disabled SMALLINT NOT NULL,
    source TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE login_user_roles (
    username VARCHAR(64) NOT NULL,
    role SMALLINT NOT NULL,
    PRIMARY KEY (username, role),
    FOREIGN KEY (username) REFERENCES login_users (username) ON DELETE CASCADE
);

CREATE TABLE login_sessions (
    token_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    username VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX login_sessions_username ON login_sessions (username);
CREATE INDEX login_sessions_expires_at ON login_sessions (expires_at);

CREATE TABLE login_throttle (
    throttle_key VARCHAR(255) NOT NULL PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);

CREATE TABLE login_audit (
    id {{id}},
    logged_at BIGINT NOT NULL,
    username VARCHAR(64) NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    result VARCHAR(32) NOT NULL,
    provider TEXT NOT NULL
);
CREATE INDEX login_audit_logged_at ON login_audit (logged_at);
CREATE INDEX login_audit_username ON login_audit (username, logged_at);

CREATE TABLE login_pending (
    state_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    c_url TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX login_pending_expires_at ON login_pending (expires_at);

CREATE TABLE login_locks (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO login_locks (name, version) VALUES ('superusers', 0);
",
    overrides: &[],
};

/// Brute-force throttling remembers which clients logged in to an account before, so an
/// attack on an address never slows down the people who logged in from it.
const V2: Migration = Migration {
    version: 2,
    name: "throttle: known clients",
    sql: "ALTER TABLE login_throttle ADD COLUMN known_at BIGINT NOT NULL DEFAULT 0",
    overrides: &[],
};

/// Pending logins bound to the browser (hash of the state cookie) and counted per address;
/// external identities matched by (provider, subject). Pending rows live ten minutes, so
/// the table is recreated rather than altered (a login in flight during the upgrade
/// starts again).
const V3: Migration = Migration {
    version: 3,
    name: "pending logins bound to the browser, external identities",
    sql: r"
DROP TABLE login_pending;

CREATE TABLE login_pending (
    state_hash VARCHAR(64) NOT NULL PRIMARY KEY,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    c_url TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    browser_hash VARCHAR(64) NOT NULL,
    address VARCHAR(64) NOT NULL
);
CREATE INDEX login_pending_expires_at ON login_pending (expires_at);
CREATE INDEX login_pending_address ON login_pending (address, expires_at);

CREATE TABLE login_identities (
    provider VARCHAR(64) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    issuer TEXT NOT NULL,
    username VARCHAR(64) NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (provider, subject),
    FOREIGN KEY (username) REFERENCES login_users (username) ON DELETE CASCADE
);
CREATE UNIQUE INDEX login_identities_username ON login_identities (provider, username);
",
    overrides: &[],
};
