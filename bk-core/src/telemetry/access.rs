//! The access log: one line per request, written straight into the log buffer.
//!
//! It is the one log line every request pays for, so it skips the generic `tracing`
//! formatter (field visitors, `Debug` formatting) and writes the same shape directly:
//! a JSON object like the other lines in JSON mode, `key=value` pairs in text mode. The
//! `tracing` filter still decides: `BK_LOG=info,bk::access=warn` turns it off. Before
//! [`super::init`] (tests, embedders with their own subscriber) lines go through
//! `tracing` as ordinary events.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::MakeWriter;

use super::LogFormat;
use super::buffered::BufferedWriter;

static SINK: OnceLock<(BufferedWriter, LogFormat)> = OnceLock::new();

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
    let mut buf = Vec::with_capacity(256);
    let ts = timestamp(SystemTime::now());
    let _ = match format {
        LogFormat::Json => writeln!(
            buf,
            r#"{{"timestamp":"{ts}","level":"INFO","target":"bk::access","service":{},"request_id":{},"method":{},"path":{},"status":{},"latency_us":{}}}"#,
            json(line.service),
            json(line.request_id),
            json(line.method),
            json(line.path),
            line.status,
            line.latency_us
        ),
        LogFormat::Text => writeln!(
            buf,
            "{ts}  INFO bk::access: service={} request_id={} method={} path={:?} status={} latency_us={}",
            line.service, line.request_id, line.method, line.path, line.status, line.latency_us
        ),
    };
    let _ = writer.make_writer().write_all(&buf);
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// RFC 3339 UTC with microseconds, like the other log lines.
fn timestamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let t = UNIX_EPOCH + Duration::from_micros(1_795_000_000_123_456);
        assert_eq!(timestamp(t), "2026-11-18T11:06:40.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamp(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json("a\"b\n"), r#""a\"b\n""#);
    }
}
