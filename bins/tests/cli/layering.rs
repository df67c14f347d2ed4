//! Every configuration shortcut through the real binary: the file < the environment <
//! the flag, each seen in what the running process does.

use std::path::Path;
use std::process::Command;

use crate::support::{run, start};

const BK_LOGIN: &str = env!("CARGO_BIN_EXE_bk-login");

/// `bk-login` with no flags and none of the caller's `BK_*` variables.
fn bare(dir: &Path) -> Command {
    let mut c = Command::new(BK_LOGIN);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("BK_") {
            c.env_remove(k);
        }
    }
    c.current_dir(dir);
    c
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn listen_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write(
        dir.path(),
        "bk.toml",
        "[server]\nlisten = \"file-is-not-an-address\"\n",
    );
    // The file alone: its (bad) address is used, and named in the error.
    let mut c = bare(dir.path());
    c.arg("--config").arg(&file).arg("--data-dir").arg(&data);
    let (ok, err) = run(c);
    assert!(!ok && err.contains("file-is-not-an-address"), "{err}");
    // The environment beats the file.
    let mut c = bare(dir.path());
    c.arg("--config").arg(&file).arg("--data-dir").arg(&data);
    c.env("BK_LISTEN", "env-is-not-an-address");
    let (ok, err) = run(c);
    assert!(!ok && err.contains("env-is-not-an-address"), "{err}");
    // The flag beats both.
    let mut c = bare(dir.path());
    c.arg("--config").arg(&file).arg("--data-dir").arg(&data);
    c.env("BK_LISTEN", "env-is-not-an-address");
    c.args(["--listen", "127.0.0.1:0", "--log-json"]);
    let bk = start(c);
    assert!(bk.base_url.starts_with("http://127.0.0.1:"));
}

#[test]
fn data_dir_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let [f, e, x] = ["from-file", "from-env", "from-flag"].map(|n| dir.path().join(n));
    let file = write(
        dir.path(),
        "bk.toml",
        &format!("[server]\ndata_dir = {:?}\n", f.display().to_string()),
    );
    let go = |env: bool, flag: bool| {
        let mut c = bare(dir.path());
        c.arg("--config").arg(&file);
        c.args(["--listen", "127.0.0.1:0", "--log-json"]);
        if env {
            c.env("BK_DATA_DIR", &e);
        }
        if flag {
            c.arg("--data-dir").arg(&x);
        }
        drop(start(c));
    };
    go(false, false);
    assert!(f.join("bk.db").exists() && !e.exists() && !x.exists());
    go(true, false);
    assert!(e.join("bk.db").exists() && !x.exists());
    go(true, true);
    assert!(x.join("bk.db").exists());
}

#[test]
fn database_url_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let url = |n: &str| format!("sqlite://{}", dir.path().join(n).display());
    let file = write(
        dir.path(),
        "bk.toml",
        &format!("[database]\nurl = {:?}\n", url("file.db")),
    );
    let go = |env: bool, flag: bool| {
        let mut c = bare(dir.path());
        c.arg("--config")
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path());
        c.args(["--listen", "127.0.0.1:0", "--log-json"]);
        if env {
            c.env("BK_DATABASE_URL", url("env.db"));
        }
        if flag {
            c.args(["--database-url", &url("flag.db")]);
        }
        drop(start(c));
    };
    let exists = |n: &str| dir.path().join(n).exists();
    go(false, false);
    assert!(exists("file.db") && !exists("env.db") && !exists("flag.db"));
    go(true, false);
    assert!(exists("env.db") && !exists("flag.db"));
    go(true, true);
    assert!(exists("flag.db"));
}

#[test]
fn log_format_and_filter_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    // The file asks for text logs filtered at `warn`: the info line "listening" (which
    // `start` waits for as JSON) would never come.
    let file = write(
        dir.path(),
        "bk.toml",
        "[log]\nformat = \"text\"\nfilter = \"warn\"\n",
    );
    let base = || {
        let mut c = bare(dir.path());
        c.arg("--config")
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.path());
        c.args(["--listen", "127.0.0.1:0"]);
        c
    };
    // The environment beats the file for both.
    let mut c = base();
    c.env("BK_LOG_FORMAT", "json").env("BK_LOG", "info");
    drop(start(c));
    // The flag beats an environment that says text.
    let mut c = base();
    c.env("BK_LOG_FORMAT", "text")
        .env("BK_LOG", "info")
        .arg("--log-json");
    drop(start(c));
}

#[test]
fn config_file_flag_beats_bk_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.toml", "[login]\nno_such_key = 1\n");
    let good = write(dir.path(), "good.toml", "[login]\ntoken_ttl_secs = 60\n");
    let mut c = bare(dir.path());
    c.env("BK_CONFIG", &bad).arg("--data-dir").arg(dir.path());
    let (ok, err) = run(c);
    assert!(
        !ok && err.contains("no_such_key"),
        "BK_CONFIG is read: {err}"
    );
    let mut c = bare(dir.path());
    c.env("BK_CONFIG", &bad).arg("--config").arg(&good);
    c.arg("--data-dir").arg(dir.path());
    c.args(["--listen", "127.0.0.1:0", "--log-json"]);
    drop(start(c));
}
