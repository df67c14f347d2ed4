//! Readiness and liveness probes (`httpGet` / `tcpSocket` / `exec` with the Kubernetes-style
//! timings). v3 spells them in camelCase; v2 in snake_case, and camelCase is accepted there too
//! because BlueKing's own v2 examples mix both.

use crate::package::PackageError;
use crate::package::fields::{Diag, Obj, as_seq, as_str, index};
use crate::package::model::{Probe, ProbeAction, ProbePort};
use crate::package::node::Node;

/// Which spelling a descriptor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Case {
    Snake,
    Camel,
}

impl Case {
    /// The accepted spellings of one field.
    fn keys(self, camel: &'static str, snake: &'static str) -> Vec<&'static str> {
        match self {
            Case::Camel => vec![camel],
            Case::Snake => vec![snake, camel],
        }
    }
}

/// Read `probes` of a process: (readiness, liveness).
pub(super) fn read_probes(
    diag: &mut Diag,
    process: &mut Obj<'_>,
    case: Case,
) -> Result<(Option<Probe>, Option<Probe>), PackageError> {
    let Some(mut probes) = process.obj(diag, "probes")? else {
        return Ok((None, None));
    };
    let readiness = read_one(diag, &mut probes, "readiness", case)?;
    let liveness = read_one(diag, &mut probes, "liveness", case)?;
    probes.finish(diag, &[]);
    Ok((readiness, liveness))
}

fn read_one(
    diag: &mut Diag,
    probes: &mut Obj<'_>,
    which: &str,
    case: Case,
) -> Result<Option<Probe>, PackageError> {
    let Some(mut p) = probes.obj(diag, which)? else {
        return Ok(None);
    };
    let mut actions = Vec::new();
    if let Some(mut exec) = p.obj(diag, "exec")? {
        actions.push(read_exec(diag, &mut exec)?);
        exec.finish(diag, &[]);
    }
    if let Some((key, node)) = p.take_any(&case.keys("httpGet", "http_get")) {
        let mut http = Obj::new(diag, p.child(key), node)?;
        let path = match http.str(diag, "path")? {
            Some(path) if path.starts_with('/') => path.to_owned(),
            Some(_) => return Err(diag.err(&http.child("path"), "must start with `/`")),
            None => "/".to_owned(),
        };
        let port = read_port(diag, &mut http)?;
        http.finish(diag, &[]);
        actions.push(ProbeAction::HttpGet { path, port });
    }
    if let Some((key, node)) = p.take_any(&case.keys("tcpSocket", "tcp_socket")) {
        let mut tcp = Obj::new(diag, p.child(key), node)?;
        let port = read_port(diag, &mut tcp)?;
        tcp.finish(diag, &[]);
        actions.push(ProbeAction::TcpSocket { port });
    }
    let action = match actions.len() {
        1 => actions.remove(0),
        0 => {
            return Err(diag.err(&p.path, "needs one of httpGet, tcpSocket or exec"));
        }
        _ => {
            return Err(diag.err(&p.path, "give only one of httpGet, tcpSocket or exec"));
        }
    };
    let mut timing = |camel, snake, lo, hi, default| -> Result<u32, PackageError> {
        match p.take_any(&case.keys(camel, snake)) {
            Some((key, node)) => crate::package::fields::as_int(diag, &p.child(key), node, lo, hi),
            None => Ok(default),
        }
    };
    let probe = Probe {
        action,
        initial_delay_seconds: timing("initialDelaySeconds", "initial_delay_seconds", 0, 3600, 0)?,
        period_seconds: timing("periodSeconds", "period_seconds", 1, 3600, 10)?,
        timeout_seconds: timing("timeoutSeconds", "timeout_seconds", 1, 3600, 1)?,
        failure_threshold: timing("failureThreshold", "failure_threshold", 1, 100, 3)?,
    };
    p.finish(diag, &[]);
    Ok(Some(probe))
}

fn read_exec(diag: &Diag, exec: &mut Obj<'_>) -> Result<ProbeAction, PackageError> {
    let path = exec.child("command");
    let command = match exec.take("command") {
        Some(Node::Str(s)) if !s.trim().is_empty() => {
            vec!["sh".to_owned(), "-c".to_owned(), s.clone()]
        }
        Some(node @ Node::Seq(_)) => {
            let items = as_seq(diag, &path, node)?;
            let mut argv = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                argv.push(as_str(diag, &index(&path, i), item)?.to_owned());
            }
            if argv.first().is_none_or(|a| a.is_empty()) {
                return Err(diag.err(&path, "must name a program"));
            }
            argv
        }
        _ => return Err(diag.err(&path, "required: a list of program and arguments")),
    };
    Ok(ProbeAction::Exec { command })
}

fn read_port(diag: &Diag, obj: &mut Obj<'_>) -> Result<ProbePort, PackageError> {
    let path = obj.child("port");
    let bad = || diag.err(&path, "must be a port number 1..=65535 or ${PORT}");
    match obj.take("port") {
        None => Ok(ProbePort::App),
        Some(Node::Int(n)) => u16::try_from(*n)
            .ok()
            .filter(|n| *n > 0)
            .map(ProbePort::Number)
            .ok_or_else(bad),
        Some(Node::Str(s)) => match s.trim() {
            "${PORT}" | "$PORT" | "PORT" | "http" => Ok(ProbePort::App),
            other => other
                .parse::<u16>()
                .ok()
                .filter(|n| *n > 0)
                .map(ProbePort::Number)
                .ok_or_else(bad),
        },
        Some(_) => Err(bad()),
    }
}
