//! Refuse developer API calls made by app code in a browser.
//!
//! An app's JavaScript runs with the visiting developer's `bk_token` cookie whenever the
//! app shares a site with the platform. Browsers say where a request comes from in
//! `Origin` (cross-origin requests, and same-origin ones other than GET/HEAD) and
//! `Referer` (usually). A call is refused (403) when either names an app:
//! - a host that serves apps: `apps_host`, or a sub-domain of `root_domain` other than
//!   the host the request was sent to;
//! - on the platform's own host (or `apps_host`), a page under `/t/`, `/o/` or
//!   `/<env>--...` (where apps live when they share the platform's host);
//! - `Origin: null` (sandboxed frames, `data:` pages), or a header that does not parse.
//!
//! Limit: an app on the platform's own host can make the browser omit `Referer`
//! (`referrerPolicy: "no-referrer"`) and issue GETs that carry no `Origin`; only serving
//! apps from `apps_host` or sub-domains closes that. That is the documented production
//! setup; this guard is the defence in depth. The CLI sends neither header.

use axum::http::Uri;
use axum::http::request::Parts;
use bk_core::{ApiError, ErrorCode};

use super::client::{request_host, strip_port};
use crate::config::EngineConfig;

/// Where apps are served, as far as the guard needs to know.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    apps_host: Option<String>,
    root_domain: Option<String>,
}

impl OriginPolicy {
    /// The policy for the engine's settings.
    pub fn from_config(cfg: &EngineConfig) -> Self {
        Self {
            apps_host: cfg.apps_host(),
            root_domain: cfg.root_domain(),
        }
    }

    fn is_app_host(&self, host: &str, request_host: &str) -> bool {
        if self.apps_host.as_deref() == Some(host) {
            return true;
        }
        match &self.root_domain {
            Some(root) => {
                host != request_host
                    && host.len() > root.len() + 1
                    && host.ends_with(root.as_str())
                    && host.as_bytes()[host.len() - root.len() - 1] == b'.'
            }
            None => false,
        }
    }

    /// Why a request to `request_host` with these headers is refused; `None` to let it
    /// through.
    pub fn refusal(
        &self,
        request_host: &str,
        origin: Option<&str>,
        referer: Option<&str>,
    ) -> Option<String> {
        if let Some(o) = origin {
            if o.trim() == "null" {
                return Some("requests from opaque origins (Origin: null) are refused".into());
            }
            let Some(host) = uri_host(o) else {
                return Some("the Origin header does not parse".into());
            };
            if self.is_app_host(&host, request_host) {
                return Some(format!(
                    "requests from app origins are refused (Origin host {host} serves apps)"
                ));
            }
        }
        if let Some(r) = referer {
            let Ok(uri) = r.trim().parse::<Uri>() else {
                return Some("the Referer header does not parse".into());
            };
            let Some(host) = uri.authority().map(|a| strip_port(a.host())) else {
                return Some("the Referer header has no host".into());
            };
            if self.is_app_host(&host, request_host) {
                return Some(format!(
                    "requests from app pages are refused (Referer host {host} serves apps)"
                ));
            }
            let platform = host == request_host || self.apps_host.as_deref() == Some(host.as_str());
            if platform && is_app_path(uri.path()) {
                return Some(format!(
                    "requests from app pages are refused (Referer path {} is an app's)",
                    uri.path()
                ));
            }
        }
        None
    }
}

fn uri_host(s: &str) -> Option<String> {
    let uri = s.trim().parse::<Uri>().ok()?;
    uri.scheme()?;
    uri.authority().map(|a| strip_port(a.host()))
}

/// `/t/...`, `/o/...`, `/<env>--...`: where apps are served on a shared host.
pub fn is_app_path(path: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    let under = |p: &str| path == format!("/{p}") || path.starts_with(&format!("/{p}/"));
    under("t")
        || under("o")
        || ["stag--", "prod--", "test--"]
            .iter()
            .any(|p| first.starts_with(p))
}

/// Refuse (403, in the route's envelope) a request whose `Origin`/`Referer` is an app's.
pub(crate) fn check(policy: &OriginPolicy, parts: &Parts) -> Result<(), ApiError> {
    let h = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    match policy.refusal(&request_host(parts), h("origin"), h("referer")) {
        Some(why) => Err(ApiError::with_detail(ErrorCode::PermissionDenied, why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(apps_host: &str, root: &str) -> OriginPolicy {
        OriginPolicy::from_config(&EngineConfig {
            apps_host: apps_host.into(),
            root_domain: root.into(),
            ..EngineConfig::default()
        })
    }

    #[test]
    fn app_paths() {
        for p in [
            "/t/demo/",
            "/o/demo/x",
            "/o",
            "/stag--demo/",
            "/prod--web--demo/a",
            "/test--x/",
        ] {
            assert!(is_app_path(p), "{p}");
        }
        for p in [
            "/",
            "/console/",
            "/tools/",
            "/oauth/",
            "/staging/",
            "/paas/api/v1/apps/",
        ] {
            assert!(!is_app_path(p), "{p}");
        }
    }

    #[test]
    fn shared_host_refuses_app_referers_only() {
        let p = policy("", "");
        let host = "bk.example.com";
        assert_eq!(p.refusal(host, None, None), None, "the CLI");
        assert_eq!(
            p.refusal(
                host,
                Some("https://bk.example.com"),
                Some("https://bk.example.com/console/apps/")
            ),
            None,
            "the console"
        );
        for r in [
            "https://bk.example.com/o/demo/",
            "https://bk.example.com:443/t/demo/page",
            "http://BK.example.com/stag--demo/",
        ] {
            let why = p
                .refusal(host, Some("https://bk.example.com"), Some(r))
                .unwrap();
            assert!(why.contains("Referer path"), "{r}: {why}");
        }
        // Another site's /o/ path is not one of our apps.
        assert_eq!(
            p.refusal(host, None, Some("https://other.example.org/o/x/")),
            None
        );
        assert!(p.refusal(host, Some("null"), None).is_some());
        assert!(p.refusal(host, Some("not a url"), None).is_some());
    }

    #[test]
    fn apps_host_and_sub_domains_are_app_origins() {
        let p = policy("apps.example.com", "example.com");
        let host = "bk.example.com";
        let why = p
            .refusal(host, Some("https://apps.example.com"), None)
            .unwrap();
        assert!(why.contains("apps.example.com"), "{why}");
        assert!(
            p.refusal(host, Some("https://demo.example.com:8443"), None)
                .is_some()
        );
        assert!(
            p.refusal(host, Some("https://stag-dot-demo.example.com"), None)
                .is_some()
        );
        assert!(
            p.refusal(host, None, Some("https://demo.example.com/"))
                .is_some()
        );
        assert!(
            p.refusal(host, None, Some("https://apps.example.com/"))
                .is_some()
        );
        // The platform's own host may sit under the root domain.
        assert_eq!(p.refusal(host, Some("https://bk.example.com"), None), None);
        // The root itself and look-alikes are not app hosts.
        assert_eq!(p.refusal(host, Some("https://example.com"), None), None);
        assert_eq!(p.refusal(host, Some("https://badexample.com"), None), None);
    }
}
