//! Start the real binaries on 127.0.0.1:0 and read the bound address from their JSON log.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Running {
    pub child: Child,
    pub base_url: String,
    pub stdout: mpsc::Receiver<String>,
    pub stderr: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Lines printed so far on stdout (the JSON log).
    pub fn log_lines(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }

    /// Everything printed so far on stderr.
    pub fn stderr_text(&self) -> String {
        self.stderr.try_iter().collect::<Vec<_>>().join("\n")
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("did not stop on SIGTERM");
    }
}

fn pipe(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// `bin [subcommand] --listen 127.0.0.1:0 --log-json --data-dir <dir>`, with the secret
/// variables of the caller's environment removed.
pub fn command(bin: &str, subcommand: Option<&str>, data_dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args(subcommand);
    c.env_remove("BK_ADMIN_PASSWORD")
        .env_remove("BK_ESB_TOKEN")
        .env_remove("BK_DATABASE_URL")
        .env_remove("BK_CONFIG")
        .env_remove("BK_CSRF_KEY")
        .env_remove("BK_LISTEN")
        .env_remove("BK_DATA_DIR")
        .env_remove("BK_LOG")
        .env_remove("BK_LOG_FORMAT");
    c.args(["--listen", "127.0.0.1:0", "--log-json", "--data-dir"])
        .arg(data_dir);
    c
}

/// Start and wait for the "listening" line.
pub fn start(mut cmd: Command) -> Running {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = pipe(child.stdout.take().unwrap());
    let stderr = pipe(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    while let Ok(line) = stdout.recv_timeout(Duration::from_secs(20)) {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
            && v["message"] == "listening"
        {
            let addr = v["addr"].as_str().unwrap().to_owned();
            return Running {
                child,
                base_url: format!("http://{addr}"),
                stdout,
                stderr,
            };
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    let err: Vec<String> = stderr.try_iter().collect();
    panic!("no listening line; stdout: {seen:?}; stderr: {err:?}");
}

/// Run to completion and return (success, stderr).
pub fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub async fn login(base: &str, user: &str, password: &str) -> Option<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http.get(format!("{base}/login/")).send().await.unwrap();
    let csrf = cookie(&page, "bk_csrftoken")?;
    let resp = http
        .post(format!("{base}/login/"))
        .header("cookie", format!("bk_csrftoken={csrf}"))
        .form(&[
            ("username", user),
            ("password", password),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    cookie(&resp, "bk_token")
}

fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| {
            v.to_str()
                .ok()?
                .split(';')
                .next()?
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// Run the `bk` client with its credentials in `config_dir` (and no `BK_URL`/`BK_TOKEN`
/// from the caller), `stdin` fed to it; (success, stdout, stderr).
pub fn bk(config_dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_bk"));
    c.args(args)
        .env("BK_CONFIG_DIR", config_dir)
        .env_remove("BK_URL")
        .env_remove("BK_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        let mut i = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            i.write_all(s.as_bytes()).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
