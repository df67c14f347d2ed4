//! The permission matrix: every admin and profile endpoint, called by a user of each of
//! the five roles and anonymously, answers exactly the expected status.

use bk_auth::testing::spawn_login;
use reqwest::Method;
use serde_json::{Value, json};

use crate::http_support::{admin_token, client, create_user};

/// Callers in table order: anonymous, then roles 0 staff, 1 superuser, 2 developer,
/// 3 operator, 4 auditor.
const CALLERS: [Option<i64>; 6] = [None, Some(0), Some(1), Some(2), Some(3), Some(4)];

/// One endpoint: method, path (`{u}` is a target user made for the cell), body, and the
/// status for each caller in [`CALLERS`] order.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 6],
}

const SU_ONLY: [u16; 6] = [401, 403, 200, 403, 403, 403];
const SU_AUDITOR: [u16; 6] = [401, 403, 200, 403, 403, 200];
const EVERYONE: [u16; 6] = [401, 200, 200, 200, 200, 200];

fn table() -> Vec<Row> {
    let row = |method: Method, path, body, expect| Row {
        method,
        path,
        body,
        expect,
    };
    vec![
        row(Method::GET, "/login/api/admin/users/", None, SU_AUDITOR),
        row(
            Method::POST,
            "/login/api/admin/users/",
            Some(json!({"username": "{new}"})),
            SU_ONLY,
        ),
        row(Method::GET, "/login/api/admin/users/{u}/", None, SU_AUDITOR),
        row(
            Method::PATCH,
            "/login/api/admin/users/{u}/",
            Some(json!({"chname": "Renamed"})),
            SU_ONLY,
        ),
        row(Method::DELETE, "/login/api/admin/users/{u}/", None, SU_ONLY),
        row(
            Method::PUT,
            "/login/api/admin/users/{u}/roles/",
            Some(json!({"roles": [2]})),
            SU_ONLY,
        ),
        row(
            Method::POST,
            "/login/api/admin/users/{u}/password/",
            Some(json!({})),
            SU_ONLY,
        ),
        row(Method::GET, "/login/api/admin/locks/", None, SU_AUDITOR),
        row(
            Method::DELETE,
            "/login/api/admin/locks/user:{u}/",
            None,
            SU_ONLY,
        ),
        row(Method::GET, "/login/api/admin/audit/", None, SU_AUDITOR),
        row(Method::GET, "/login/api/admin/export/", None, SU_ONLY),
        row(
            Method::POST,
            "/login/api/admin/import/",
            Some(json!([{"username": "{new}"}])),
            SU_ONLY,
        ),
        row(Method::GET, "/login/api/profile/", None, EVERYONE),
        row(
            Method::PATCH,
            "/login/api/profile/",
            Some(json!({"chname": "Me"})),
            EVERYONE,
        ),
    ]
}

#[tokio::test]
async fn every_admin_and_profile_endpoint_for_every_role() {
    let svc = spawn_login().await;
    let admin = admin_token(&svc).await;
    let mut tokens = Vec::new();
    for (i, role) in CALLERS.iter().enumerate() {
        tokens.push(match role {
            None => None,
            Some(r) => {
                let name = format!("caller{i}");
                let pw = create_user(&svc, &admin, &name, &[*r]).await;
                Some((
                    name.clone(),
                    pw.clone(),
                    svc.login(&name, &pw).await.unwrap(),
                ))
            }
        });
    }
    let mut failures = Vec::new();
    for (r, row) in table().iter().enumerate() {
        for (c, caller) in tokens.iter().enumerate() {
            // A target of the caller's own for every cell, so deletions and password
            // resets in one cell leave the others alone.
            let target = format!("tgt{r}x{c}");
            create_user(&svc, &admin, &target, &[0]).await;
            let fill = |s: &str| {
                s.replace("{u}", &target)
                    .replace("{new}", &format!("new{r}x{c}"))
            };
            let mut req = client().request(
                row.method.clone(),
                format!("{}{}", svc.base_url, fill(row.path)),
            );
            if let Some((_, _, token)) = caller {
                req = req.header("cookie", format!("bk_token={token}"));
            }
            if let Some(body) = &row.body {
                let body: Value = serde_json::from_str(&fill(&body.to_string())).unwrap();
                req = req.json(&body);
            }
            let status = req.send().await.unwrap().status().as_u16();
            if status != row.expect[c] {
                failures.push(format!(
                    "{} {} as {:?}: {status}, expected {}",
                    row.method, row.path, CALLERS[c], row.expect[c]
                ));
            }
        }
    }
    // Changing one's own password: every role may (with the right old password).
    for (c, caller) in tokens.iter().enumerate() {
        let mut req = client()
            .post(format!("{}/login/api/profile/password/", svc.base_url))
            .json(&json!({"old_password": caller.as_ref().map(|t| t.1.clone()).unwrap_or_default(), "new_password": "Brand-new-pass-7"}));
        if let Some((_, _, token)) = caller {
            req = req.header("cookie", format!("bk_token={token}"));
        }
        let status = req.send().await.unwrap().status().as_u16();
        if status != EVERYONE[c] {
            failures.push(format!(
                "POST /login/api/profile/password/ as {:?}: {status}, expected {}",
                CALLERS[c], EVERYONE[c]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
