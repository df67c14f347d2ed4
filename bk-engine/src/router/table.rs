//! The route table the engine hands to the router: which instances serve which
//! (app, module, env), which module is each app's default, and the host settings.
//!
//! A plain value built with [`RouteTable::builder`] and validated while it is built, so
//! [`RouterHandle::publish`](super::RouterHandle::publish) cannot fail: feeding the router
//! from deployments is one builder pass and one call.

use std::collections::HashMap;

use bk_core::types::{AppCode, InvalidValue};
use http::uri::Authority;

/// An app environment as the router names it (V7 names; V6 `test` is `stag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Env {
    /// Staging (V6 `test`), served under `/t/<code>/`.
    Stag,
    /// Production, served under `/o/<code>/`.
    Prod,
}

impl Env {
    /// Parse `stag`, `test` (V6) or `prod`.
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "stag" | "test" => Ok(Self::Stag),
            "prod" => Ok(Self::Prod),
            _ => Err(InvalidValue {
                field: "env",
                reason: "must be stag (or test) or prod".into(),
            }),
        }
    }

    /// The V7 name (`stag`, `prod`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stag => "stag",
            Self::Prod => "prod",
        }
    }
}

/// Host settings that decide which requests belong to apps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Apps also answer on `<code>.<root>` (prod) and `stag-dot-<code>.<root>`.
    pub root_domain: Option<String>,
    /// When set, `/t/`, `/o/` and `/<env>--…/` are served only on this host, so apps do not
    /// share an origin with `/login/` and `/console/`; the platform host answers 404 there.
    pub apps_host: Option<String>,
    /// The platform's own host names: never taken for an app sub-domain of `root_domain`.
    pub platform_hosts: Vec<String>,
}

impl HostSettings {
    /// Lower-case the names and drop ports and trailing dots, so comparisons are plain.
    fn normalised(self) -> Result<Self, InvalidValue> {
        let norm = |field: &'static str, h: String| -> Result<String, InvalidValue> {
            let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
            let h = super::resolve::strip_port(&h).to_owned();
            let ok = !h.is_empty()
                && h.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.');
            if ok {
                Ok(h)
            } else {
                Err(InvalidValue {
                    field,
                    reason: "must be a host name (letters, digits, '-' and '.')".into(),
                })
            }
        };
        Ok(Self {
            root_domain: self
                .root_domain
                .map(|h| norm("root_domain", h))
                .transpose()?,
            apps_host: self.apps_host.map(|h| norm("apps_host", h)).transpose()?,
            platform_hosts: self
                .platform_hosts
                .into_iter()
                .map(|h| norm("platform_hosts", h))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// One instance able to serve a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendSpec {
    /// The instance id (unique across the platform; the key of [`drain`](super::RouterHandle::drain)).
    pub instance: String,
    /// `ip:port` or `host:port` it listens on.
    pub authority: Authority,
    /// Relative share of new requests; 0 keeps it out of rotation.
    pub weight: u32,
}

impl BackendSpec {
    /// A backend of weight 1 at `addr` (`127.0.0.1:8000`, `[::1]:8000`, `host:8000`).
    pub fn new(instance: impl Into<String>, addr: &str) -> Result<Self, InvalidValue> {
        let instance = instance.into();
        if instance.is_empty() || instance.len() > 128 {
            return Err(InvalidValue {
                field: "instance",
                reason: "must be 1-128 characters".into(),
            });
        }
        let authority = addr
            .parse::<Authority>()
            .ok()
            .filter(|a| a.port_u16().is_some() && !addr.contains('@'))
            .ok_or_else(|| InvalidValue {
                field: "backend address",
                reason: format!("`{addr}` is not host:port"),
            })?;
        Ok(Self {
            instance,
            authority,
            weight: 1,
        })
    }

    /// The same backend with another weight.
    pub fn with_weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }
}

/// The modules and environments of one app.
#[derive(Debug, Clone, Default)]
pub(crate) struct AppRoutes {
    pub(crate) default_module: Option<String>,
    /// Module name -> backends per env (`[stag, prod]`); `None` = not deployed there.
    pub(crate) modules: HashMap<String, [Option<Vec<BackendSpec>>; 2]>,
}

/// What the router should serve; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub(crate) hosts: HostSettings,
    pub(crate) apps: HashMap<String, AppRoutes>,
}

impl RouteTable {
    /// Start a table with these host settings.
    pub fn builder(hosts: HostSettings) -> RouteTableBuilder {
        RouteTableBuilder {
            table: RouteTable::default(),
            hosts,
            error: None,
        }
    }

    /// The host settings (normalised).
    pub fn hosts(&self) -> &HostSettings {
        &self.hosts
    }
}

/// Builds a [`RouteTable`]; the first invalid input is reported by [`build`](Self::build).
#[derive(Debug)]
pub struct RouteTableBuilder {
    table: RouteTable,
    hosts: HostSettings,
    error: Option<InvalidValue>,
}

impl RouteTableBuilder {
    /// Serve (app, module, env) from `backends` (may be empty: the route exists but has no
    /// running instance, so requests get a 503 naming the app, not a 404).
    pub fn route(
        mut self,
        app: &str,
        module: &str,
        env: Env,
        backends: impl IntoIterator<Item = BackendSpec>,
    ) -> Self {
        if let Err(e) = check_names(app, module) {
            self.error.get_or_insert(e);
            return self;
        }
        let entry = self.table.apps.entry(app.to_owned()).or_default();
        let envs = entry.modules.entry(module.to_owned()).or_default();
        envs[env_index(env)]
            .get_or_insert_with(Vec::new)
            .extend(backends);
        self
    }

    /// Which module `/t/<code>/`, `/o/<code>/`, `/<env>--<code>/` and the sub-domains serve.
    /// Defaults to `default` when the app has a module of that name.
    pub fn default_module(mut self, app: &str, module: &str) -> Self {
        if let Err(e) = check_names(app, module) {
            self.error.get_or_insert(e);
            return self;
        }
        let entry = self.table.apps.entry(app.to_owned()).or_default();
        entry.default_module = Some(module.to_owned());
        self
    }

    /// The table, or the first invalid name, address or host setting.
    pub fn build(mut self) -> Result<RouteTable, InvalidValue> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.table.hosts = self.hosts.normalised()?;
        for routes in self.table.apps.values_mut() {
            if routes.default_module.is_none() && routes.modules.contains_key("default") {
                routes.default_module = Some("default".to_owned());
            }
        }
        Ok(self.table)
    }
}

pub(crate) fn env_index(env: Env) -> usize {
    match env {
        Env::Stag => 0,
        Env::Prod => 1,
    }
}

/// App codes as the platform allows them (including the legacy `_`); module names are
/// lower-case letters, digits and `-`, starting with a letter.
fn check_names(app: &str, module: &str) -> Result<(), InvalidValue> {
    AppCode::parse_legacy(app)?;
    let b = module.as_bytes();
    let ok = (1..=32).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(InvalidValue {
            field: "module",
            reason: format!(
                "`{module}` must be 1-32 characters: a lower-case letter, then lower-case letters, digits or '-'"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_validates_and_defaults_the_module() {
        let b = BackendSpec::new("i1", "127.0.0.1:8000").unwrap();
        let t = RouteTable::builder(HostSettings {
            root_domain: Some("Apps.Example.COM.".into()),
            apps_host: Some("apps.example.com:8443".into()),
            platform_hosts: vec!["PaaS.example.com".into()],
        })
        .route("demo", "default", Env::Stag, [b.clone()])
        .build()
        .unwrap();
        assert_eq!(
            t.apps["demo"].default_module.as_deref(),
            Some("default"),
            "a module named default is the default"
        );
        assert_eq!(t.hosts.root_domain.as_deref(), Some("apps.example.com"));
        assert_eq!(t.hosts.apps_host.as_deref(), Some("apps.example.com"));
        assert_eq!(t.hosts.platform_hosts, ["paas.example.com"]);

        let err = RouteTable::builder(HostSettings::default())
            .route("Demo", "default", Env::Stag, [b.clone()])
            .build()
            .unwrap_err();
        assert_eq!(err.field, "app_code");
        let err = RouteTable::builder(HostSettings::default())
            .route("demo", "Web", Env::Stag, [b])
            .build()
            .unwrap_err();
        assert_eq!(err.field, "module");
        let err = RouteTable::builder(HostSettings {
            apps_host: Some("apps host".into()),
            ..Default::default()
        })
        .build()
        .unwrap_err();
        assert_eq!(err.field, "apps_host");
    }

    #[test]
    fn backend_addresses_need_a_port() {
        assert!(BackendSpec::new("i", "127.0.0.1:80").is_ok());
        assert!(BackendSpec::new("i", "[::1]:80").is_ok());
        assert!(BackendSpec::new("i", "host-1.internal:8080").is_ok());
        for bad in ["127.0.0.1", "user@host:80", "", "http://h:80"] {
            assert!(BackendSpec::new("i", bad).is_err(), "{bad}");
        }
        assert!(BackendSpec::new("", "127.0.0.1:80").is_err());
        assert_eq!(Env::parse("test").unwrap(), Env::Stag);
        assert!(Env::parse("dev").is_err());
    }
}
