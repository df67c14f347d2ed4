//! One run of a probe check against a running instance: TCP connect, HTTP GET, or exec.
//!
//! The HTTP check writes a minimal HTTP/1.1 request and reads only the status line: the
//! probe path was validated as printable ASCII without spaces, so no header can be
//! smuggled in, and the agent needs no HTTP client for it.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bk_core::instance::ProbeCheck;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::runner::ProcessHandle;

/// Longest status line read.
const STATUS_LINE_MAX: usize = 512;

/// Run `check` once against `handle`, whose own port is `port`; `Err` says why it failed.
pub async fn run_check(
    check: &ProbeCheck,
    handle: &dyn ProcessHandle,
    port: Option<u16>,
    timeout: Duration,
) -> Result<(), String> {
    let addr = |explicit: &Option<u16>| {
        explicit
            .or(port)
            .map(|p| SocketAddr::new(handle.address(), p))
            .ok_or_else(|| "the probe has no port and the instance was given none".to_owned())
    };
    let attempt = async {
        match check {
            ProbeCheck::TcpSocket { port } => tcp(addr(port)?).await,
            ProbeCheck::HttpGet { path, port } => http_get(addr(port)?, path).await,
            ProbeCheck::Exec { command } => match handle.exec(command, timeout).await {
                Ok(out) if out.success() => Ok(()),
                Ok(out) => Err(format!("exec: {out}")),
                Err(e) => Err(format!("exec: {e}")),
            },
        }
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
}

async fn tcp(addr: SocketAddr) -> Result<(), String> {
    TcpStream::connect(addr)
        .await
        .map(drop)
        .map_err(|e| format!("tcp {addr}: {e}"))
}

async fn http_get(addr: SocketAddr, path: &str) -> Result<(), String> {
    let fail = |what: String| format!("http GET {path} on port {}: {what}", addr.port());
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let host = match addr.ip() {
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bk-agent-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut line = Vec::with_capacity(64);
    let mut byte = [0u8; 256];
    while !line.contains(&b'\n') && line.len() < STATUS_LINE_MAX {
        let n = stream
            .read(&mut byte)
            .await
            .map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        line.extend_from_slice(&byte[..n]);
    }
    let status = parse_status(&line).ok_or_else(|| fail("not an HTTP response".into()))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(fail(format!("status {status}")))
    }
}

/// The status code of an `HTTP/1.x NNN ...` status line.
fn parse_status(head: &[u8]) -> Option<u16> {
    let end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    let line = std::str::from_utf8(&head[..end]).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\nServer: x\r\n"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 302 Found\r\n"), Some(302));
        assert_eq!(parse_status(b"HTTP/1.1 503\r\n"), Some(503));
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 20 x\r\n"), None);
        assert_eq!(parse_status(b""), None);
    }
}
