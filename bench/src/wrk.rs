//! Running `wrk` and reading its report.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

/// Load shape, identical for the service and its baseline.
#[derive(Debug, Clone)]
pub struct Load {
    /// `-t`.
    pub threads: u32,
    /// `-c`.
    pub connections: u32,
    /// `-d`, seconds.
    pub duration_s: u32,
    /// Per-connection pause between requests, milliseconds (a Lua `delay()`); `None` =
    /// as fast as possible.
    pub delay_ms: Option<u32>,
}

impl Load {
    /// The command-line flags, as shown in the report.
    pub fn flags(&self) -> String {
        let paced = self
            .delay_ms
            .map(|d| format!(" -s delay.lua (random delay, mean {d} ms)"))
            .unwrap_or_default();
        format!(
            "-t{} -c{} -d{}s --latency{paced}",
            self.threads, self.connections, self.duration_s
        )
    }

    /// The fixed request rate of a paced load: connections × 1000 / delay.
    pub fn paced_rate(&self) -> Option<f64> {
        self.delay_ms
            .map(|d| f64::from(self.connections) * 1000.0 / f64::from(d.max(1)))
    }
}

/// What wrk measured.
#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    /// Requests per second.
    pub rps: f64,
    /// Completed requests.
    pub requests: u64,
    /// Answers outside 2xx/3xx.
    pub non_2xx: u64,
    /// Connect/read/write/timeout errors.
    pub socket_errors: u64,
    /// Latency percentiles, milliseconds: 50, 75, 90, 99.
    pub p50: f64,
    /// 75th percentile, ms.
    pub p75: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// CPU time wrk itself used, seconds.
    pub client_cpu_s: f64,
}

/// Run wrk against `url`; `work` holds the pacing script when one is needed.
pub fn run(url: &str, load: &Load, work: &Path) -> anyhow::Result<WrkResult> {
    let mut cmd = Command::new("wrk");
    cmd.arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.duration_s))
        .arg("--latency")
        .arg("--timeout")
        .arg("5s");
    if let Some(d) = load.delay_ms {
        let script = work.join(format!("delay-{d}.lua"));
        // A random wait with mean `d` (not a fixed one): connections that start together
        // would otherwise stay in step and arrive in bursts, which no real client mix does.
        let lua = format!(
            "-- Each connection waits 0..{} ms (mean {d}) before each request.\nfunction delay()\n  return math.random(0, {})\nend\n",
            2 * d,
            2 * d
        );
        std::fs::write(&script, lua)?;
        cmd.arg("-s").arg(script);
    }
    cmd.arg(url).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run wrk: {e} (apt-get install -y wrk)"))?;
    let (mut text, mut err) = (String::new(), String::new());
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut text)?;
    }
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    // wrk has exited (its output is closed) but is not reaped yet: its CPU time is still
    // readable, and tells how much of the machine the client itself took.
    let client_cpu_s = super::proc::tree_cpu_secs(child.id());
    let status = child.wait()?;
    if !status.success() {
        anyhow::bail!("wrk failed ({status}): {text}{err}");
    }
    let mut r = parse(&text).ok_or_else(|| anyhow::anyhow!("cannot read wrk's report:\n{text}"))?;
    r.client_cpu_s = client_cpu_s;
    Ok(r)
}

/// Parse wrk 4's text report.
pub fn parse(text: &str) -> Option<WrkResult> {
    let mut r = WrkResult::default();
    let mut in_dist = false;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            r.rps = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = v.trim().parse().ok()?;
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            r.socket_errors = v
                .split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum();
        } else if line.contains(" requests in ") {
            r.requests = line.split_whitespace().next()?.parse().ok()?;
        } else if line.starts_with("Latency Distribution") {
            in_dist = true;
        } else if in_dist {
            let mut parts = line.split_whitespace();
            let (Some(pct), Some(val)) = (parts.next(), parts.next()) else {
                in_dist = false;
                continue;
            };
            let ms = duration_ms(val);
            match (pct, ms) {
                ("50%", Some(v)) => r.p50 = v,
                ("75%", Some(v)) => r.p75 = v,
                ("90%", Some(v)) => r.p90 = v,
                ("99%", Some(v)) => r.p99 = v,
                _ => in_dist = false,
            }
        }
    }
    (r.requests > 0).then_some(r)
}

/// `"180.00us"`, `"1.23ms"`, `"2.00s"`, `"1.00m"` in milliseconds.
fn duration_ms(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        "h" => n * 3_600_000.0,
        _ => return None,
    })
}

/// wrk's version line.
pub fn version() -> String {
    Command::new("wrk")
        .arg("-v")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.split(" Copyright").next().unwrap_or(l).to_owned())
        })
        .unwrap_or_else(|| "wrk (version unknown)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_wrk_report() {
        let text = "Running 10s test @ http://127.0.0.1:1/\n  2 threads and 64 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   612.00us  300.00us   9.10ms   80.00%\n  Latency Distribution\n     50%  550.00us\n     75%  700.00us\n     90%    1.01ms\n     99%    2.50ms\n  123456 requests in 10.00s, 20.00MB read\n  Non-2xx or 3xx responses: 3\n  Socket errors: connect 0, read 2, write 0, timeout 1\nRequests/sec:  12345.60\nTransfer/sec:      2.00MB\n";
        let r = parse(text).unwrap_or_default();
        assert_eq!(r.requests, 123456);
        assert!((r.rps - 12345.6).abs() < 1e-6);
        assert!(
            (r.p50 - 0.55).abs() < 1e-9
                && (r.p90 - 1.01).abs() < 1e-9
                && (r.p99 - 2.5).abs() < 1e-9
        );
        assert_eq!((r.non_2xx, r.socket_errors), (3, 3));
    }
}
