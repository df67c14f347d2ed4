//! Exec in a native instance's context: same directory and environment, its own process
//! group so a timed-out command is killed with everything it started.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::group;
use crate::AgentError;
use crate::runner::ExecOutcome;

/// Output kept per stream.
const KEEP: usize = 2048;

/// Kills the exec'd group when dropped, also when the probe that ran it is cancelled.
struct KillGroup(i32);

impl Drop for KillGroup {
    fn drop(&mut self) {
        let _ = group::signal(self.0, Signal::SIGKILL);
    }
}

/// Run `argv` in `dir` with exactly `env`, for at most `timeout`.
pub(crate) async fn exec(
    dir: &Path,
    env: &[(String, String)],
    argv: &[String],
    timeout: Duration,
) -> Result<ExecOutcome, AgentError> {
    let Some(program) = argv.first() else {
        return Err(AgentError::Invalid(
            "exec: command must name a program".into(),
        ));
    };
    let mut child = tokio::process::Command::new(program)
        .args(&argv[1..])
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| AgentError::Start {
            context: format!("exec {program:?} in {}", dir.display()),
            source,
        })?;
    let _kill = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .map(KillGroup);
    let (out, err) = (child.stdout.take(), child.stderr.take());
    let run = async {
        let (o, e, status) = tokio::join!(keep_start(out), keep_start(err), child.wait());
        (o, e, status)
    };
    match tokio::time::timeout(timeout, run).await {
        Ok((o, e, status)) => {
            let status =
                status.map_err(|e| AgentError::io(format!("wait for exec {program:?}"), e))?;
            let mut output = o;
            output.push_str(&e);
            Ok(ExecOutcome {
                code: status.code(),
                timed_out: false,
                output,
            })
        }
        Err(_) => Ok(ExecOutcome {
            code: None,
            timed_out: true,
            output: String::new(),
        }),
    }
}

/// Read a stream to its end, keeping its first [`KEEP`] bytes.
async fn keep_start<R: AsyncRead + Unpin>(stream: Option<R>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 1024];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = KEEP.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}
