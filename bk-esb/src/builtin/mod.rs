//! The components compiled in (contracts §3 "Built-in components"), with their systems and
//! default channels: `bk_login` (users, through bk-core's `UserDirectory`), `bk_paas` (apps,
//! through `AppDirectory`) and `esb` (this gateway's own catalogue). Each answers under
//! `/api/c/compapi/v2/…` with the V2 field names and under the V6 path without `/v2/` with
//! the V6 ones.

mod bk_login;
mod bk_paas;
mod esb;
mod shapes;

use std::sync::Arc;

use bk_core::apps::AppDirectory;
use bk_core::identity::UserDirectory;

use crate::model::{Channel, ChannelKind, PermLevel, System};
use crate::registry::Builtins;

fn system(name: &str, label: &str, remark: &str) -> System {
    System {
        name: name.into(),
        label: label.into(),
        remark: remark.into(),
        execute_timeout: None,
        query_timeout: None,
        admins: Vec::new(),
    }
}

fn channel(
    system: &str,
    dir: &str,
    name: &str,
    label: &str,
    method: &str,
    need_user: bool,
) -> Channel {
    Channel {
        system: system.into(),
        name: name.into(),
        label: label.into(),
        path: format!("/{dir}/{name}/"),
        method: method.into(),
        component_codename: format!("{dir}.{name}"),
        is_active: true,
        timeout_time: None,
        kind: ChannelKind::Query,
        comp_conf: serde_json::Value::Null,
        perm_level: PermLevel::None,
        is_hidden: false,
        need_user,
    }
}

/// The built-in systems, channels and components. `prefix` is where the gateway is
/// mounted (`/api`), for the paths `esb/get_components` lists.
pub fn builtins(
    users: Arc<dyn UserDirectory>,
    apps: Arc<dyn AppDirectory>,
    prefix: &str,
) -> Builtins {
    let mut b = Builtins {
        systems: vec![
            system(
                "BK_LOGIN",
                "Login",
                "BlueKing login: users and their tokens",
            ),
            system("BK_PAAS", "PaaS", "BlueKing PaaS: apps"),
            system("ESB", "API gateway", "This gateway's catalogue"),
        ],
        ..Builtins::default()
    };
    use bk_login::{BatchUsers, GetAllUsers, GetUser, IsLogin};
    b.add(
        channel(
            "BK_LOGIN",
            "bk_login",
            "is_login",
            "Check a bk_token",
            "GET",
            true,
        ),
        Arc::new(IsLogin),
    );
    b.add(
        channel(
            "BK_LOGIN",
            "bk_login",
            "get_user",
            "Get a user",
            "GET",
            true,
        ),
        Arc::new(GetUser(users.clone())),
    );
    b.add(
        channel(
            "BK_LOGIN",
            "bk_login",
            "get_all_users",
            "List users",
            "GET",
            true,
        ),
        Arc::new(GetAllUsers(users.clone())),
    );
    b.add(
        channel(
            "BK_LOGIN",
            "bk_login",
            "get_batch_users",
            "Get users by name",
            "POST",
            true,
        ),
        Arc::new(BatchUsers(users)),
    );
    b.add(
        channel(
            "BK_PAAS",
            "bk_paas",
            "get_app_info",
            "Get apps",
            "GET",
            false,
        ),
        Arc::new(bk_paas::GetAppInfo(apps)),
    );
    b.add(
        channel("ESB", "esb", "get_systems", "List systems", "GET", false),
        Arc::new(esb::GetSystems),
    );
    b.add(
        channel(
            "ESB",
            "esb",
            "get_components",
            "List components",
            "GET",
            false,
        ),
        Arc::new(esb::GetComponents {
            prefix: prefix.trim_end_matches('/').to_owned(),
        }),
    );
    b
}
