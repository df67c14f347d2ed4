//! The access log: one line per request, written straight into the log buffer.
//!
//! It is the one log line every request pays for, so it skips the generic `tracing`
//! formatter (field visitors, `Debug` formatting) and writes the same shape directly:
//! a JSON object like the other lines in JSON mode, `key=value` pairs in text mode. The
//! `tracing` filter still decides: `BK_LOG=info,bk::access=warn` turns it off. Before
//! [`super::init`] (tests, embedders with their own subscriber) lines go through
//! `tracing` as ordinary events.

use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;
use std::time::SystemTime;

use tracing_subscriber::fmt::MakeWriter;

use super::LogFormat;
use super::buffered::BufferedWriter;
use super::timestamp;

static SINK: OnceLock<(BufferedWriter, LogFormat)> = OnceLock::new();

thread_local! {
    /// The line being written, reused (no allocation per line once it has grown).
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(256));
}

pub(super) fn install(writer: BufferedWriter, format: LogFormat) {
    let _ = SINK.set((writer, format));
}

/// One served request.
#[derive(Debug)]
pub struct AccessLine<'a> {
    /// Service name.
    pub service: &'static str,
    /// Request id.
    pub request_id: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Path only: query strings carry tokens and are never logged.
    pub path: &'a str,
    /// Response status.
    pub status: u16,
    /// Time to the response head, microseconds.
    pub latency_us: u64,
}

/// Log one request.
pub fn log(line: &AccessLine<'_>) {
    if !tracing::enabled!(target: "bk::access", tracing::Level::INFO) {
        return;
    }
    let Some((writer, format)) = SINK.get() else {
        tracing::info!(
            target: "bk::access",
            service = line.service,
            request_id = line.request_id,
            method = line.method,
            path = line.path,
            status = line.status,
            latency_us = line.latency_us,
        );
        return;
    };
    LINE.with(|buf| {
        let Ok(mut buf) = buf.try_borrow_mut() else {
            return;
        };
        buf.clear();
        write_line(&mut buf, line, *format, SystemTime::now());
        let _ = writer.make_writer().write_all(&buf);
    });
}

/// The line in the shape of the other log lines of `format` (`tracing-subscriber`'s JSON
/// and compact text).
fn write_line(buf: &mut Vec<u8>, line: &AccessLine<'_>, format: LogFormat, now: SystemTime) {
    let mut ts = [0u8; timestamp::LEN];
    timestamp::write(now, &mut ts);
    match format {
        LogFormat::Json => {
            buf.extend_from_slice(b"{\"timestamp\":\"");
            buf.extend_from_slice(&ts);
            buf.extend_from_slice(b"\",\"level\":\"INFO\",\"target\":\"bk::access\",\"service\":");
            json(buf, line.service);
            buf.extend_from_slice(b",\"request_id\":");
            json(buf, line.request_id);
            buf.extend_from_slice(b",\"method\":");
            json(buf, line.method);
            buf.extend_from_slice(b",\"path\":");
            json(buf, line.path);
            buf.extend_from_slice(b",\"status\":");
            number(buf, u64::from(line.status));
            buf.extend_from_slice(b",\"latency_us\":");
            number(buf, line.latency_us);
            buf.extend_from_slice(b"}\n");
        }
        LogFormat::Text => {
            buf.extend_from_slice(&ts);
            buf.extend_from_slice(b"  INFO bk::access: service=");
            buf.extend_from_slice(line.service.as_bytes());
            buf.extend_from_slice(b" request_id=");
            buf.extend_from_slice(line.request_id.as_bytes());
            buf.extend_from_slice(b" method=");
            buf.extend_from_slice(line.method.as_bytes());
            buf.extend_from_slice(b" path=");
            debug_str(buf, line.path);
            buf.extend_from_slice(b" status=");
            number(buf, u64::from(line.status));
            buf.extend_from_slice(b" latency_us=");
            number(buf, line.latency_us);
            buf.push(b'\n');
        }
    }
}

/// `s` as a JSON string (as `serde_json` writes it).
fn json(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *buf, s);
    }
}

/// `s` as Rust's `{:?}` writes it (the text formatter's quoting of string fields).
fn debug_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    } else {
        let _ = write!(buf, "{s:?}");
    }
}

/// `v` in decimal.
fn number(buf: &mut Vec<u8>, v: u64) {
    let mut d = [0u8; 20];
    let mut n = v;
    let mut i = d.len();
    loop {
        i -= 1;
        d[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&d[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn line<'a>(path: &'a str, latency_us: u64) -> AccessLine<'a> {
        AccessLine {
            service: "login",
            request_id: "0123456789abcdef0123456789abcdef",
            method: "GET",
            path,
            status: 200,
            latency_us,
        }
    }

    fn written(l: &AccessLine<'_>, f: LogFormat) -> String {
        let mut buf = Vec::new();
        let t = UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        write_line(&mut buf, l, f, t);
        String::from_utf8(buf).unwrap()
    }

    /// What the lines were before they were written by hand (`format!` and serde_json).
    fn reference(l: &AccessLine<'_>, f: LogFormat) -> String {
        let ts = "2026-11-18T11:06:40.123456Z";
        let j = |s: &str| serde_json::to_string(s).unwrap();
        match f {
            LogFormat::Json => {
                format!(
                    r#"{{"timestamp":"{ts}","level":"INFO","target":"bk::access","service":{},"request_id":{},"method":{},"path":{},"status":{},"latency_us":{}}}"#,
                    j(l.service),
                    j(l.request_id),
                    j(l.method),
                    j(l.path),
                    l.status,
                    l.latency_us
                ) + "\n"
            }
            LogFormat::Text => format!(
                "{ts}  INFO bk::access: service={} request_id={} method={} path={:?} status={} latency_us={}\n",
                l.service, l.request_id, l.method, l.path, l.status, l.latency_us
            ),
        }
    }

    #[test]
    fn lines_are_byte_identical_to_the_formatted_ones() {
        for path in [
            "/login/accounts/is_login/",
            "/a\"b\\c",
            "/tab\there",
            "/del\u{7f}",
            "/",
        ] {
            for latency in [0, 7, 1234, u64::MAX] {
                for f in [LogFormat::Json, LogFormat::Text] {
                    let l = line(path, latency);
                    assert_eq!(written(&l, f), reference(&l, f), "{path:?} {f:?}");
                }
            }
        }
        let json: serde_json::Value =
            serde_json::from_str(&written(&line("/x", 5), LogFormat::Json)).unwrap();
        assert_eq!(json["path"], "/x");
        assert_eq!(json["latency_us"], 5);
    }
}
