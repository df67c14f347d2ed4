//! `bk deploy`, `bk rollback`, `bk offline`, `bk releases`, `bk ps`, `bk scale`,
//! `bk restart|stop|start` and `bk logs`: the deploy side of the developer API.
//!
//! A deploy packs a directory the way the engine unpacks it (the same checks, so a package
//! the CLI sends is one the engine accepts), uploads it, starts the deployment and follows
//! it: the engine's log lines as they come (server-sent events) and, on a terminal, one
//! progress line per state with the elapsed time. The exit status says how it ended.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};

use super::api::{self, Api};
use super::args::{DeployArgs, LogsArgs, RollbackArgs, ScaleArgs, SlotArgs, Target};
use super::commands::seg;
use super::output::{cell, print, table, time};

/// The states a deployment goes through, in order, with what people read.
const STEPS: &[(&str, &str)] = &[
    ("pending", "queued"),
    ("validating", "checking the package"),
    ("pre_release", "running the pre-release hook"),
    ("starting", "starting new instances"),
    ("health_checking", "waiting for the instances to be ready"),
    ("switching", "switching traffic"),
    ("draining", "draining the old instances"),
];

fn module_path(t: &Target) -> anyhow::Result<String> {
    Ok(format!(
        "/apps/{}/modules/{}",
        seg(&t.code)?,
        seg(&t.module)?
    ))
}

fn slot_path(t: &Target) -> anyhow::Result<String> {
    Ok(format!("{}/envs/{}", module_path(t)?, seg(&t.env)?))
}

/// The bytes of a package: a directory packed here, or a `.tar.gz` as it is.
pub fn package_bytes(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.is_dir() {
        let (bytes, _) = bk_engine::package::pack_dir(path, &bk_engine::package::Limits::default())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(bytes)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// `bk deploy`.
pub async fn deploy(api: &Api, a: DeployArgs) -> anyhow::Result<()> {
    let bytes = package_bytes(&a.package)?;
    eprintln!("uploading {} KiB...", bytes.len().div_ceil(1024));
    let resp = api
        .request(
            Method::POST,
            &format!("{}/packages/", module_path(&a.target)?),
        )
        .header("content-type", "application/gzip")
        .body(bytes)
        .send()
        .await
        .with_context(|| format!("cannot reach the platform at {}", api.base()))?;
    let uploaded = api::decode(resp).await?;
    for w in uploaded
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        eprintln!("warning: {}", w.as_str().unwrap_or_default());
    }
    let dep = api
        .post(
            &format!("{}/deployments/", slot_path(&a.target)?),
            json!({"package": cell(&uploaded, "digest")}),
        )
        .await?;
    finish(api, &a.target, &dep, a.no_follow).await
}

/// `bk rollback`.
pub async fn rollback(api: &Api, a: RollbackArgs) -> anyhow::Result<()> {
    let dep = api
        .post(
            &format!("{}/rollback/", slot_path(&a.target)?),
            json!({"release": a.release}),
        )
        .await?;
    finish(api, &a.target, &dep, a.no_follow).await
}

/// `bk offline`.
pub async fn offline(api: &Api, a: SlotArgs) -> anyhow::Result<()> {
    let op = api
        .post(&format!("{}/offline/", slot_path(&a.target)?), json!({}))
        .await?;
    finish(api, &a.target, &op, false).await
}

async fn finish(api: &Api, t: &Target, op: &Value, no_follow: bool) -> anyhow::Result<()> {
    let id = cell(op, "id");
    eprintln!(
        "{} {id} of {}/{} to {} started",
        if cell(op, "kind") == "offline" {
            "offline"
        } else {
            "deployment"
        },
        t.code,
        t.module,
        t.env
    );
    if no_follow {
        println!("{id}");
        return Ok(());
    }
    let started = Instant::now();
    let state = follow(api, t, &id).await?;
    let view = api
        .get(&format!("{}/deployments/{}/", module_path(t)?, seg(&id)?))
        .await
        .unwrap_or(Value::Null);
    match state.as_str() {
        "succeeded" => {
            eprintln!("succeeded in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        other => bail!(
            "{other}: {}",
            match cell(&view, "reason") {
                r if r.is_empty() => "see the log above".to_owned(),
                r => r,
            }
        ),
    }
}

/// Follow a deployment's log until it ends; its final state.
async fn follow(api: &Api, t: &Target, id: &str) -> anyhow::Result<String> {
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let path = format!(
        "{}/deployments/{}/logs/?follow=1",
        module_path(t)?,
        seg(id)?
    );
    // The engine sends a `state` event only when the state changes.
    let end = stream(api, &path, |event, data| {
        let v: Value = serde_json::from_str(data).unwrap_or(Value::Null);
        match event {
            "line" => println!("{}", cell(&v, "line")),
            "state" => progress(&cell(&v, "state"), started, tty),
            "end" => return Some(cell(&v, "state")),
            _ => {}
        }
        None
    })
    .await?;
    if let Some(state) = end {
        return Ok(state);
    }
    bail!("the log stream ended before the deployment did; see `bk logs --deployment {id}`")
}

fn progress(state: &str, started: Instant, tty: bool) {
    let secs = started.elapsed().as_secs_f64();
    let (n, text) = STEPS
        .iter()
        .position(|(s, _)| *s == state)
        .map(|i| (i + 1, STEPS[i].1))
        .unwrap_or((STEPS.len(), state));
    if tty {
        eprintln!("\x1b[1m[{n}/{}] {text}\x1b[0m ({secs:.1} s)", STEPS.len());
    } else {
        eprintln!("[{n}/{}] {text} ({secs:.1} s)", STEPS.len());
    }
}

/// Read the server-sent events of `path` (below the developer API) into `on_event`
/// (event name, data) until it returns `Some` (then that) or the stream ends (`None`).
async fn stream<T>(
    api: &Api,
    path: &str,
    mut on_event: impl FnMut(&str, &str) -> Option<T>,
) -> anyhow::Result<Option<T>> {
    let resp = api
        .request(Method::GET, path)
        .header("accept", "text/event-stream")
        .send()
        .await
        .with_context(|| format!("cannot reach the platform at {}", api.base()))?;
    if !resp.status().is_success() {
        api::decode(resp).await?;
        bail!("the platform refused the stream");
    }
    let mut events = SseReader::default();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        for (event, data) in events.push(&chunk.context("the stream broke")?) {
            if let Some(done) = on_event(&event, &data) {
                return Ok(Some(done));
            }
        }
    }
    Ok(None)
}

/// Server-sent events from a byte stream: `(event, data)` per blank-line-ended block.
#[derive(Default)]
struct SseReader {
    buf: String,
}

impl SseReader {
    fn push(&mut self, bytes: &[u8]) -> Vec<(String, String)> {
        self.buf.push_str(&String::from_utf8_lossy(bytes));
        let mut out = Vec::new();
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            let mut event = "message".to_owned();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                }
            }
            if !data.is_empty() {
                out.push((event, data.join("\n")));
            }
        }
        out
    }
}

/// `bk releases`.
pub async fn releases(api: &Api, a: SlotArgs) -> anyhow::Result<()> {
    let list = api
        .get(&format!("{}/releases/", module_path(&a.target)?))
        .await?;
    print(a.out.json, &list, |v| {
        let rows: Vec<Vec<String>> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                vec![
                    cell(r, "id"),
                    cell(r, "env"),
                    cell(r, "version"),
                    match cell(r, "rollback_of") {
                        f if f.is_empty() => cell(r, "source"),
                        f => format!("rollback of {f}"),
                    },
                    cell(r, "created_by"),
                    time(r.get("created_at").unwrap_or(&Value::Null)),
                ]
            })
            .collect();
        table(
            &["RELEASE", "ENV", "VERSION", "SOURCE", "BY", "CREATED"],
            &rows,
        )
    });
    Ok(())
}

/// `bk ps`.
pub async fn ps(api: &Api, a: SlotArgs) -> anyhow::Result<()> {
    let list = api
        .get(&format!("{}/processes/", slot_path(&a.target)?))
        .await?;
    print(a.out.json, &list, |v| {
        let instances = v.get("instances").unwrap_or(v);
        let rows: Vec<Vec<String>> = instances
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                vec![
                    cell(i, "id"),
                    cell(i, "process_type"),
                    cell(i, "state"),
                    cell(i, "restarts"),
                    cell(i, "host"),
                    cell(i, "port"),
                    i.get("uptime_ms")
                        .and_then(Value::as_u64)
                        .map(uptime)
                        .unwrap_or_default(),
                    if i.get("serving") == Some(&Value::Bool(true)) {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                ]
            })
            .collect();
        table(
            &[
                "INSTANCE", "TYPE", "STATE", "RESTARTS", "HOST", "PORT", "UPTIME", "SERVING",
            ],
            &rows,
        )
    });
    Ok(())
}

fn uptime(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `bk scale`.
pub async fn scale(api: &Api, a: ScaleArgs) -> anyhow::Result<()> {
    let Some((ptype, n)) = a.formation.split_once('=') else {
        bail!(
            "{:?}: expected <process type>=<replicas>, e.g. web=3",
            a.formation
        );
    };
    let replicas: u32 = n
        .parse()
        .with_context(|| format!("{n:?} is not a number of replicas"))?;
    eprintln!("scaling {ptype} to {replicas}...");
    api.post(
        &format!("{}/processes/{}/scale/", slot_path(&a.target)?, seg(ptype)?),
        json!({"replicas": replicas}),
    )
    .await?;
    println!("{ptype} runs {replicas} instance(s)");
    Ok(())
}

/// `bk restart`, `bk stop`, `bk start`.
pub async fn slot_action(api: &Api, a: SlotArgs, action: &str) -> anyhow::Result<()> {
    api.post(
        &format!("{}/processes/{action}/", slot_path(&a.target)?),
        json!({}),
    )
    .await?;
    println!(
        "{}/{} {}: {action} done",
        a.target.code, a.target.module, a.target.env
    );
    Ok(())
}

/// `bk logs`.
pub async fn logs(api: &Api, a: LogsArgs) -> anyhow::Result<()> {
    if let Some(dep) = &a.deployment {
        if a.follow {
            let state = follow(api, &a.target, dep).await?;
            eprintln!("{state}");
            return Ok(());
        }
        let v = api
            .get(&format!(
                "{}/deployments/{}/logs/",
                module_path(&a.target)?,
                seg(dep)?
            ))
            .await?;
        for l in v
            .get("lines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            println!("{}", cell(l, "line"));
        }
        return Ok(());
    }
    let Some(instance) = &a.instance else {
        bail!("name an instance (--instance, see `bk ps`) or a deployment (--deployment)");
    };
    let mut q = String::new();
    if a.previous {
        q.push_str("previous=1&");
    }
    if a.follow {
        q.push_str("follow=1&");
    }
    let path = format!(
        "{}/instances/{}/logs/?{q}",
        slot_path(&a.target)?,
        seg(instance)?
    );
    if !a.follow {
        let v = api.get(&path).await?;
        print!("{}", cell(&v, "text"));
        return Ok(());
    }
    stream(api, &path, |_, data| {
        let text = serde_json::from_str::<Value>(data)
            .ok()
            .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| data.to_owned());
        print!("{text}");
        None::<()>
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sse_blocks_split_across_chunks_are_joined() {
        let mut r = SseReader::default();
        assert!(r.push(b"event: line\ndata: {\"line\":").is_empty());
        let got = r.push(b"\"a\"}\n\nevent: end\ndata: {\"state\":\"failed\"}\n\n: keep\n\n");
        assert_eq!(
            got,
            vec![
                ("line".to_owned(), "{\"line\":\"a\"}".to_owned()),
                ("end".to_owned(), "{\"state\":\"failed\"}".to_owned())
            ]
        );
    }

    #[test]
    fn uptimes_read_well() {
        assert_eq!(uptime(5_000), "5s");
        assert_eq!(uptime(65_000), "1m5s");
        assert_eq!(uptime(3_700_000), "1h1m");
        assert_eq!(uptime(90_000_000), "1d1h");
    }
}
