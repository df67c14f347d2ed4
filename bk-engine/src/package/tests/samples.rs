//! The sample packages in `tests/samples`: each describes to the model the deploy tests rely
//! on, stages (pack → unpack → describe) to the same model, and its server behaves as the
//! samples' README says (run for real with python3 on 127.0.0.1, port picked by the OS).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::package::{
    Env, Limits, PackageDesc, PackageFormat, ProbeAction, ProbePort, describe_dir, stage,
};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/samples")
        .join(name)
}

fn described(name: &str) -> PackageDesc {
    let desc = describe_dir(&sample(name), &Limits::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let staged = stage(&sample(name), &tmp.path().join("rel"), &Limits::default()).unwrap();
    assert_eq!(staged.desc, desc, "{name}: staging describes the same");
    desc
}

#[test]
fn hello_is_a_v2_web_app_with_a_readiness_probe() {
    let d = described("hello");
    assert_eq!(d.format, PackageFormat::AppDescV2);
    assert_eq!(d.app_code.as_ref().map(|c| c.as_str()), Some("hello"));
    assert_eq!(d.version.as_deref(), Some("1.0.0"));
    assert_eq!(d.modules.len(), 1);
    let m = &d.modules[0];
    assert_eq!(
        (m.name.as_str(), m.is_default, m.source_dir.as_deref()),
        ("default", true, None)
    );
    let web = m.process("web").unwrap();
    assert_eq!(
        (web.command.as_str(), web.replicas),
        ("python3 server.py", 1)
    );
    let probe = web.readiness.as_ref().unwrap();
    assert_eq!(
        probe.action,
        ProbeAction::HttpGet {
            path: "/healthz".into(),
            port: ProbePort::App
        }
    );
    assert_eq!(probe.period_seconds, 1);
    assert_eq!(m.env.all["HELLO_MESSAGE"], "hello from app_desc");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
}

#[test]
fn hello_v3_takes_its_web_command_from_the_procfile() {
    let d = described("hello-v3");
    assert_eq!(d.format, PackageFormat::AppDescV3);
    let m = d.default_module().unwrap();
    let web = m.process("web").unwrap();
    assert_eq!(web.command, "python3 server.py");
    assert_eq!(web.replicas, 2);
    assert!(web.readiness.is_some());
    assert_eq!(
        web.liveness.as_ref().map(|p| &p.action),
        Some(&ProbeAction::TcpSocket {
            port: ProbePort::App
        })
    );
    assert_eq!(m.env.for_env(Env::Stag)["HELLO_MESSAGE"], "hello from v3");
    assert_eq!(
        m.env.for_env(Env::Prod)["HELLO_MESSAGE"],
        "hello from v3 prod"
    );
    assert_eq!(
        d.warnings,
        ["Procfile: line 2: process `web` overrides the command given in the package descriptor"]
    );
}

#[test]
fn unhealthy_and_crasher_describe_as_documented() {
    let d = described("unhealthy");
    let web = d.modules[0].process("web").unwrap();
    assert_eq!(web.readiness.as_ref().map(|p| p.failure_threshold), Some(3));

    let d = described("crasher");
    assert_eq!(d.format, PackageFormat::Procfile);
    assert_eq!(
        d.modules[0].process("web").unwrap().command,
        "python3 crash.py"
    );
}

#[test]
fn two_modules_has_a_default_and_an_api_module() {
    let d = described("two-modules");
    let names: Vec<_> = d
        .modules
        .iter()
        .map(|m| (m.name.as_str(), m.is_default, m.source_dir.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("default", true, Some("frontend")),
            ("api", false, Some("api"))
        ]
    );
    assert_eq!(
        d.module("api").unwrap().processes[0].command,
        "python3 server.py"
    );
    assert_eq!(d.module("api").unwrap().env.all["HELLO_MESSAGE"], "api");
}

#[test]
fn archives_made_by_gnu_tar_stage_and_ours_list_in_gnu_tar() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("two-modules.tar.gz");
    let samples = sample("");
    let made = Command::new("tar")
        .arg("-C")
        .arg(&samples)
        .args(["-czf"])
        .arg(&archive)
        .arg("two-modules")
        .status()
        .unwrap();
    assert!(made.success());
    let staged = stage(&archive, &tmp.path().join("rel"), &Limits::default()).unwrap();
    assert_eq!(staged.desc, described("two-modules"));
    assert!(staged.root.join("frontend/server.py").is_file());

    let (bytes, _) = crate::package::pack_dir(&sample("hello-v3"), &Limits::default()).unwrap();
    let ours = tmp.path().join("ours.tar.gz");
    std::fs::write(&ours, bytes).unwrap();
    let listed = Command::new("tar")
        .arg("-tzvf")
        .arg(&ours)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let listing = String::from_utf8(listed.stdout).unwrap();
    let names: Vec<_> = listing
        .lines()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(names, ["Procfile", "app_desc.yaml", "server.py"]);
    assert!(
        listing
            .lines()
            .all(|l| l.contains("0/0") && l.contains("1970-01-01")),
        "{listing}"
    );
}

#[test]
fn bad_desc_is_refused_with_the_field_path() {
    let e = describe_dir(&sample("bad-desc"), &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "app_desc.yaml: modules.default.processes.web.replicas: must be an integer 0..=20"
    );
}

#[test]
fn the_server_copies_are_identical() {
    let hello = std::fs::read(sample("hello/server.py")).unwrap();
    for copy in [
        "hello-v3/server.py",
        "two-modules/frontend/server.py",
        "two-modules/api/server.py",
        "bad-desc/server.py",
    ] {
        assert!(
            std::fs::read(sample(copy)).unwrap() == hello,
            "{copy} differs from hello/server.py"
        );
    }
}

/// A sample process, killed if the test ends early.
struct Running {
    child: Child,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_server(dir: &str, env: &[(&str, &str)]) -> Running {
    let mut child = Command::new("python3")
        .arg("server.py")
        .current_dir(sample(dir))
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the sample tests");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Keep reading its access log so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    Running { child, port }
}

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Guards against a hung server; not an assertion about speed.
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// One HTTP/1.1 exchange with `Connection: close`: (status, head, body with chunking undone).
fn http(port: u16, head: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = connect(port);
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut body = raw[split + 4..].to_vec();
    let status = head[9..12].parse().unwrap();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
}

fn get(port: u16, path: &str, extra: &str) -> (u16, String, Vec<u8>) {
    http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: apps.test\r\n{extra}Connection: close\r\n\r\n"),
        b"",
    )
}

#[test]
fn hello_serves_identity_health_streams_echo_and_websocket() {
    let app = run_server(
        "hello",
        &[
            ("BKPAAS_APP_ID", "hello"),
            ("BKPAAS_ENVIRONMENT", "stag"),
            ("BKPAAS_APP_MODULE_NAME", "default"),
            ("BKPAAS_PROCESS_TYPE", "web"),
            ("BKPAAS_APP_SECRET", "not-echoed-secret"),
            ("HELLO_MESSAGE", "hi"),
        ],
    );
    let (status, _, body) = get(app.port, "/stag--hello/healthz", "");
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));

    let (status, _, body) = get(
        app.port,
        "/t/hello/some/path?x=1",
        "X-Script-Name: /t/hello\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: https\r\n",
    );
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(info["app"], "hello");
    assert_eq!(info["env"], "stag");
    assert_eq!(info["module"], "default");
    assert_eq!(info["process"], "web");
    assert_eq!(info["message"], "hi");
    assert_eq!(info["secret_set"], true);
    assert_eq!(info["path"], "/t/hello/some/path?x=1");
    assert_eq!(info["script_name"], "/t/hello");
    assert_eq!(info["forwarded_for"], "10.0.0.9");
    assert_eq!(info["forwarded_proto"], "https");
    assert_eq!(info["port"], app.port);
    assert!(!String::from_utf8_lossy(&body).contains("not-echoed-secret"));

    let (status, head, body) = get(app.port, "/stream", "");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
    );
    assert_eq!(body, b"part 0\npart 1\npart 2\npart 3\npart 4\n");

    let payload = vec![b'z'; 200_000];
    let (status, _, body) = http(
        app.port,
        &format!(
            "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            payload.len()
        ),
        &payload,
    );
    assert_eq!((status, body.len()), (200, payload.len()));
    let (status, _, body) = http(
        app.port,
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert_eq!((status, body.as_slice()), (200, &b"hello world"[..]));

    websocket_echo(app.port);
}

fn websocket_echo(port: u16) {
    let mut s = connect(port);
    s.write_all(
        b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // The accept value of RFC 6455's own example key.
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{head}"
    );
    let mask = [1u8, 2, 3, 4];
    let text = b"ping";
    let mut frame = vec![0x81, 0x80 | text.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(text.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame).unwrap();
    let mut echo = [0u8; 6];
    reader.read_exact(&mut echo).unwrap();
    assert_eq!(echo, [0x81, 4, b'p', b'i', b'n', b'g']);
    s.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]).unwrap();
    let mut close = [0u8; 4];
    reader.read_exact(&mut close).unwrap();
    assert_eq!(close, [0x88, 2, 0x03, 0xe8]);
}

#[test]
fn hello_stops_cleanly_on_sigterm() {
    let mut app = run_server("hello", &[]);
    let (status, _, _) = get(app.port, "/healthz", "");
    assert_eq!(status, 200);
    let pid = app.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = app.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn unhealthy_serves_but_fails_its_health_check() {
    let app = run_server("unhealthy", &[]);
    assert_eq!(get(app.port, "/", "").0, 200);
    assert_eq!(get(app.port, "/healthz", "").0, 503);
}

#[test]
fn crasher_exits_with_status_3() {
    let status = Command::new("python3")
        .arg("crash.py")
        .current_dir(sample("crasher"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
}
