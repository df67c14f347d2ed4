//! The baseline: nginx answering a static 200 with no access log (the baseline),
//! confined to a temporary directory.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use super::proc::{self, Proc};

/// nginx worker processes: one per core of the bench machine's target (2).
pub const WORKERS: u32 = 2;

/// The configuration used, with every file inside `dir`.
pub fn config(dir: &Path, addr: SocketAddr) -> String {
    let d = dir.display();
    // As root, workers would switch to `nobody`; keep them root like `bk up` in this bench.
    let user = if proc::is_root() { "user root;\n" } else { "" };
    format!(
        "{user}worker_processes {WORKERS};
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen {addr};
        location / {{ return 200 \"ok\"; }}
    }}
}}
"
    )
}

/// Start nginx (not yet answering; poll it) with the configuration written to `dir`.
pub fn spawn(dir: &Path, addr: SocketAddr) -> anyhow::Result<Proc> {
    let conf = dir.join("nginx.conf");
    std::fs::write(&conf, config(dir, addr))?;
    let mut cmd = Command::new(binary());
    // -e: the error log used before the config is read (otherwise /var/log/nginx).
    cmd.arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .arg("-e")
        .arg(dir.join("nginx-error.log"));
    Proc::spawn("nginx", cmd, dir)
}

fn binary() -> &'static str {
    if Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// `nginx/1.22.1`.
pub fn version() -> String {
    Command::new(binary())
        .arg("-v")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stderr)
                .trim()
                .trim_start_matches("nginx version: ")
                .to_owned()
        })
        .unwrap_or_else(|| "nginx (version unknown)".into())
}
