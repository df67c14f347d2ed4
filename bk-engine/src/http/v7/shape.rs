//! Small facts V7 answers are written with: BK's date format and app URLs.

use crate::config::EngineConfig;
use crate::model::{App, AppState, Env};

/// BK's `"2018-04-25 12:08:54"` (UTC here) from milliseconds since the epoch.
pub(super) fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
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
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Where an env of an app is served: sub-domains when a root domain is set, else the
/// `/t/` and `/o/` paths on `apps_host` or the platform's URL (a bare path when neither
/// is configured).
pub(super) fn app_url(cfg: &EngineConfig, code: &str, env: Env) -> String {
    let public = cfg.public_url.trim_end_matches('/');
    let scheme = public.split_once("://").map_or("http", |(s, _)| s);
    let prefix = match env {
        Env::Stag => "t",
        Env::Prod => "o",
    };
    if let Some(root) = cfg.root_domain() {
        return match env {
            Env::Stag => format!("{scheme}://stag-dot-{code}.{root}/"),
            Env::Prod => format!("{scheme}://{code}.{root}/"),
        };
    }
    if let Some(host) = cfg.apps_host() {
        return format!("{scheme}://{host}/{prefix}/{code}/");
    }
    format!("{public}/{prefix}/{code}/")
}

/// Whether an env has been deployed, as far as the V6 state tells. (The deployment part
/// of the engine answers this from what actually runs.)
pub(super) fn deployed(app: &App, env: Env) -> bool {
    match env {
        Env::Stag => matches!(
            app.state,
            AppState::InTest | AppState::Online | AppState::DeployingProd
        ),
        Env::Prod => matches!(app.state, AppState::Online | AppState::GoingOffline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_bk_format() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_524_658_134_000), "2018-04-25 12:08:54");
        assert_eq!(datetime(951_782_400_999), "2000-02-29 00:00:00");
    }

    #[test]
    fn urls_follow_the_serving_setup() {
        let mut cfg = EngineConfig::default();
        assert_eq!(app_url(&cfg, "demo", Env::Stag), "/t/demo/");
        cfg.public_url = "https://bk.example.com/".into();
        assert_eq!(
            app_url(&cfg, "demo", Env::Prod),
            "https://bk.example.com/o/demo/"
        );
        cfg.apps_host = "apps.example.com".into();
        assert_eq!(
            app_url(&cfg, "demo", Env::Prod),
            "https://apps.example.com/o/demo/"
        );
        cfg.root_domain = "example.com".into();
        assert_eq!(
            app_url(&cfg, "demo", Env::Stag),
            "https://stag-dot-demo.example.com/"
        );
        assert_eq!(
            app_url(&cfg, "demo", Env::Prod),
            "https://demo.example.com/"
        );
    }
}
