//! A minimal HTTP/1.1 client over std (one request per connection): enough to log in and
//! to poll `/healthz/` every 2 ms without a client library's pooling and retries getting
//! between the measurement and the server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header lines (name lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body (lossy UTF-8).
    pub body: String,
}

impl Response {
    /// The value of cookie `name` set by this response.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, v)| k.trim() == name && !v.is_empty())
            .map(|(_, v)| v.to_owned())
    }
}

/// Send one request with `Connection: close` and read the whole answer.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout: Duration,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse(&raw).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response")
    })
}

fn parse(raw: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Response {
        status,
        headers,
        body: body.to_owned(),
    })
}

/// Poll `GET path` every `every` until it answers 200; the time from `since` to that
/// answer. Gives up after `limit`.
pub fn wait_ready(
    addr: SocketAddr,
    path: &str,
    since: Instant,
    every: Duration,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let max_polls = (limit.as_micros() / every.as_micros().max(1)).max(1);
    for _ in 0..max_polls {
        if let Ok(r) = request(addr, "GET", path, &[], "", Duration::from_millis(500))
            && r.status == 200
        {
            return Ok(since.elapsed());
        }
        if since.elapsed() > limit {
            break;
        }
        std::thread::sleep(every);
    }
    anyhow::bail!("{addr}{path} did not answer 200 within {limit:?}")
}

/// Log in through the real form, as a browser does: `GET /login/` for the CSRF cookie,
/// then `POST /login/`. Returns the `bk_token`.
pub fn login(addr: SocketAddr, username: &str, password: &str) -> anyhow::Result<String> {
    let t = Duration::from_secs(10);
    let page = request(addr, "GET", "/login/", &[], "", t)?;
    let csrf = page.cookie("bk_csrftoken").ok_or_else(|| {
        anyhow::anyhow!("GET /login/ ({}) set no bk_csrftoken cookie", page.status)
    })?;
    let form = [
        ("username", username),
        ("password", password),
        ("c_url", "/console/"),
        ("csrfmiddlewaretoken", &csrf),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", form_encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let cookie = format!("bk_csrftoken={csrf}");
    let headers = [
        ("Cookie", cookie.as_str()),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let resp = request(addr, "POST", "/login/", &headers, &form, t)?;
    resp.cookie("bk_token").ok_or_else(|| {
        anyhow::anyhow!(
            "POST /login/ answered {} without a bk_token cookie",
            resp.status
        )
    })
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
