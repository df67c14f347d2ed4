//! Which app, module and env a request is for: a pure function of the snapshot, the host
//! and the path, so every URL form is unit-tested here without sockets.
//!
//! Forms: `/t/<code>/…` (stag) and `/o/<code>/…` (prod) of the default module; V7
//! `/<env>--<code>/…` and `/<env>--<module>--<code>/…`; with a root domain, hosts
//! `<code>.<root>` (prod) and `stag-dot-<code>.<root>`, plus BK's module forms
//! `<module>-dot-<code>.<root>` and `stag-dot-<module>-dot-<code>.<root>`. App codes may
//! themselves contain `--` or `-dot-`, so a separator is tried as part of the code first
//! (default module), then at each position as module/code, and the table decides.

use super::snapshot::{Form, Lookup, Route, Snapshot};
use super::table::Env;

/// The outcome for one request.
pub(crate) enum Resolution<'s, 'p> {
    /// Proxy to `route`; the first `prefix_len` bytes of the path are the app's mount point.
    Proxy {
        route: &'s Route,
        form: Form,
        prefix_len: usize,
    },
    /// `/t/<code>` without the slash: redirect to the path with `/` added.
    AddSlash,
    /// The app is known but nothing is deployed for this module or env.
    NotDeployed { app: &'p str, env: Env },
    /// No such app (`app` is what the request named; may be empty).
    NoApp { app: &'p str },
    /// An app path on a host other than `apps_host` (which is set): not served here.
    WrongHost,
    /// The apps host or an app sub-domain, but no app form: nothing here.
    Unrouted,
    /// Not an app request: the platform answers it.
    Platform,
}

/// `host` without a `:port` (an IPv6 literal keeps its brackets).
pub(crate) fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port))
            if !port.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) && !h.is_empty() =>
        {
            h
        }
        _ => host,
    }
}

/// The host as resolution compares it: no port, no trailing dot. The caller lower-cases
/// it first when it has upper-case letters (rare, so the common path copies nothing).
pub(crate) fn normalise_host(host: &str) -> &str {
    let h = strip_port(host);
    h.strip_suffix('.').unwrap_or(h)
}

/// The request's host (the URI's authority, else `Host`), normalised; copied into `buf`
/// and lower-cased only when it has capitals.
pub(crate) fn request_host<'a>(
    uri: &'a http::Uri,
    headers: &'a http::HeaderMap,
    buf: &'a mut String,
) -> Option<&'a str> {
    let raw = match uri.authority() {
        Some(a) => a.as_str(),
        None => headers.get(http::header::HOST)?.to_str().ok()?,
    };
    let host = normalise_host(raw);
    if host.bytes().any(|c| c.is_ascii_uppercase()) {
        *buf = host.to_ascii_lowercase();
        return Some(buf.as_str());
    }
    Some(host)
}

/// Whether a request for `host` (normalised, lower-case) and `path` is the router's to
/// answer, without looking at the apps: cheap, for putting the router in front.
pub(crate) fn owns(snap: &Snapshot, host: Option<&str>, path: &str) -> bool {
    if let Some(h) = host
        && (app_label(snap, h).is_some() || snap.hosts.apps_host.as_deref().is_some_and(|a| a == h))
    {
        return true;
    }
    parse_path(path).is_some()
}

/// Resolve a request. `host` must be normalised and lower-case.
pub(crate) fn resolve<'s, 'p>(
    snap: &'s Snapshot,
    host: Option<&'p str>,
    path: &'p str,
) -> Resolution<'s, 'p> {
    if let Some(h) = host
        && let Some(label) = app_label(snap, h)
    {
        return resolve_label(snap, label);
    }
    let apps_host = snap.hosts.apps_host.as_deref();
    let on_apps_host = apps_host.is_some_and(|a| host == Some(a));
    match parse_path(path) {
        None if on_apps_host => Resolution::Unrouted,
        None => Resolution::Platform,
        Some(_) if apps_host.is_some() && !on_apps_host => Resolution::WrongHost,
        Some(p) => resolve_path(snap, p, path),
    }
}

/// The sub-domain label when `host` is `<label>.<root>` and not a platform host.
fn app_label<'p>(snap: &Snapshot, host: &'p str) -> Option<&'p str> {
    let root = snap.hosts.root_domain.as_deref()?;
    let label = host.strip_suffix(root)?.strip_suffix('.')?;
    let platform = snap.hosts.platform_hosts.iter().any(|p| p == host)
        || snap.hosts.apps_host.as_deref() == Some(host);
    (!label.is_empty() && !platform).then_some(label)
}

fn resolve_label<'s, 'p>(snap: &'s Snapshot, label: &'p str) -> Resolution<'s, 'p> {
    if label.contains('.') {
        return Resolution::NoApp { app: label };
    }
    let (env, spec) = match label.strip_prefix("stag-dot-") {
        Some(rest) => (Env::Stag, rest),
        None => (Env::Prod, label),
    };
    match find(snap, spec, "-dot-", env) {
        Found::Route(route, _) => Resolution::Proxy {
            route,
            form: Form::Host,
            prefix_len: 0,
        },
        Found::NotDeployed(app) => Resolution::NotDeployed { app, env },
        Found::Nothing => Resolution::NoApp { app: spec },
    }
}

/// A path form, before the table is consulted.
#[derive(Debug, PartialEq, Eq)]
enum PathForm<'p> {
    /// `/t/<code>` or `/o/<code>`.
    Legacy { env: Env, code: &'p str },
    /// `/<env>--<spec>`, spec = `<code>` or `<module>--<code>`.
    V7 { env: Env, spec: &'p str },
}

fn parse_path(path: &str) -> Option<(PathForm<'_>, usize)> {
    let rest = path.strip_prefix('/')?;
    let seg = rest.split('/').next().unwrap_or(rest);
    let env = match seg {
        "t" => Some(Env::Stag),
        "o" => Some(Env::Prod),
        _ => None,
    };
    if let Some(env) = env {
        let after = rest.get(2..).unwrap_or("");
        let code = after.split('/').next().unwrap_or(after);
        return Some((PathForm::Legacy { env, code }, 3 + code.len()));
    }
    let (env, spec) = if let Some(spec) = seg.strip_prefix("stag--") {
        (Env::Stag, spec)
    } else if let Some(spec) = seg.strip_prefix("prod--") {
        (Env::Prod, spec)
    } else {
        return None;
    };
    Some((PathForm::V7 { env, spec }, 1 + seg.len()))
}

fn resolve_path<'s, 'p>(
    snap: &'s Snapshot,
    (form, prefix_len): (PathForm<'p>, usize),
    path: &'p str,
) -> Resolution<'s, 'p> {
    let (found, env) = match form {
        PathForm::Legacy { env, code } => {
            let found = match snap.lookup(code, None, env) {
                Lookup::Found(r) => Found::Route(r, Form::Legacy),
                Lookup::NotDeployed => Found::NotDeployed(code),
                Lookup::NoApp => Found::Nothing,
            };
            (found, env)
        }
        PathForm::V7 { env, spec } => (find(snap, spec, "--", env), env),
    };
    match found {
        Found::Route(_, _) if path.len() == prefix_len => Resolution::AddSlash,
        Found::Route(route, form) => Resolution::Proxy {
            route,
            form,
            prefix_len,
        },
        Found::NotDeployed(app) => Resolution::NotDeployed { app, env },
        Found::Nothing => {
            let app = match form {
                PathForm::Legacy { code, .. } => code,
                PathForm::V7 { spec, .. } => spec,
            };
            Resolution::NoApp { app }
        }
    }
}

enum Found<'s, 'p> {
    Route(&'s Route, Form),
    /// The first candidate app that exists (nothing deployed for it here).
    NotDeployed(&'p str),
    Nothing,
}

/// `spec` as `<code>` (default module), else as `<module><sep><code>` at each `sep`.
fn find<'s, 'p>(snap: &'s Snapshot, spec: &'p str, sep: &str, env: Env) -> Found<'s, 'p> {
    let mut known = None;
    match snap.lookup(spec, None, env) {
        Lookup::Found(r) => return Found::Route(r, Form::Env),
        Lookup::NotDeployed => known = Some(spec),
        Lookup::NoApp => {}
    }
    for (i, _) in spec.match_indices(sep) {
        let (module, code) = (&spec[..i], &spec[i + sep.len()..]);
        if module.is_empty() || code.is_empty() {
            continue;
        }
        match snap.lookup(code, Some(module), env) {
            Lookup::Found(r) => return Found::Route(r, Form::EnvModule),
            Lookup::NotDeployed => {
                known.get_or_insert(code);
            }
            Lookup::NoApp => {}
        }
    }
    match known {
        Some(app) => Found::NotDeployed(app),
        None => Found::Nothing,
    }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
