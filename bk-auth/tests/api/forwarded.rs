//! Forwarded headers through real HTTP: the login service behind a (pretend) proxy on
//! loopback. The address a login is recorded under, and whether its cookie is `Secure`,
//! follow `X-Forwarded-*` only from trusted peers, and only the right-most untrusted hop.

use std::net::SocketAddr;
use std::sync::Arc;

use bk_auth::testing::{self, TestLogin};
use bk_core::http::forwarded::Forwarding;

use crate::http_support::{admin_token, client, get_json};

/// The same login service served again on another port with `forwarding` in force (as
/// `bk up` does from `[server]`).
pub(crate) async fn serve_with(svc: &TestLogin, forwarding: Forwarding) -> Served {
    let app =
        bk_core::http::stack::wrap(bk_auth::http::router(svc.service.clone()), bk_auth::SERVICE)
            .layer(axum::Extension(Arc::new(forwarding)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    Served {
        base_url: format!("http://{addr}"),
        task,
    }
}

pub(crate) struct Served {
    pub(crate) base_url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Log in through the form, sending `headers` with both requests.
async fn login_with(
    base: &str,
    username: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    login_to(base, username, password, "/console/", headers).await
}

async fn login_to(
    base: &str,
    username: &str,
    password: &str,
    c_url: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let http = client();
    let with = |mut r: reqwest::RequestBuilder| {
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r
    };
    let page = with(http.get(format!("{base}/login/")))
        .send()
        .await
        .unwrap();
    let cookie = testing::cookie(&page, "bk_csrftoken").expect("csrf cookie");
    let html = page.text().await.unwrap();
    let field = html
        .split(r#"name="csrfmiddlewaretoken" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_owned();
    with(http.post(format!("{base}/login/")))
        .header("cookie", format!("bk_csrftoken={cookie}"))
        .form(&[
            ("username", username),
            ("password", password),
            ("c_url", c_url),
            ("csrfmiddlewaretoken", &field),
        ])
        .send()
        .await
        .unwrap()
}

/// The addresses of `username`'s audit entries, newest first.
async fn addresses(svc: &TestLogin, admin: &str, username: &str) -> Vec<String> {
    let (status, body) = get_json(
        &format!(
            "{}/login/api/admin/audit/?username={username}",
            svc.base_url
        ),
        Some(admin),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["address"].as_str().map(str::to_owned))
        .collect()
}

fn set_cookie_of(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

#[tokio::test]
async fn a_client_sent_forwarded_line_does_not_win_behind_a_trusted_proxy() {
    let svc = testing::spawn_login().await;
    let admin = admin_token(&svc).await;
    let proxy = serve_with(&svc, Forwarding::default()).await;
    // What HAProxy/nginx pass-through produce: the client's own line, then the proxy's.
    let resp = login_with(
        &proxy.base_url,
        "admin",
        testing::ADMIN_PASSWORD,
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 302);
    assert!(
        set_cookie_of(&resp, "bk_token").contains("; Secure"),
        "https per the trusted proxy"
    );
    assert_eq!(addresses(&svc, &admin, "admin").await[0], "198.51.100.7");

    // Spoofed hops on the left of one line lose the same way.
    let resp = login_with(
        &proxy.base_url,
        "admin",
        "wrong-password",
        &[("x-forwarded-for", "6.6.6.6, 203.0.113.50")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let seen = addresses(&svc, &admin, "admin").await;
    assert_eq!(seen[0], "203.0.113.50", "{seen:?}");
    assert!(!seen.iter().any(|a| a == "6.6.6.6"), "{seen:?}");
}

#[tokio::test]
async fn an_untrusted_peer_cannot_forward_anything() {
    let svc = testing::spawn_login().await;
    let admin = admin_token(&svc).await;
    // Only 10/8 is a proxy: this test's loopback connection is a plain client.
    let forwarding = Forwarding::from_config(&["10.0.0.0/8"], "").unwrap();
    let direct = serve_with(&svc, forwarding).await;
    let resp = login_with(
        &direct.base_url,
        "admin",
        testing::ADMIN_PASSWORD,
        &[
            ("x-forwarded-for", "198.51.100.7"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "evil.example"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 302);
    assert!(
        !set_cookie_of(&resp, "bk_token").contains("Secure"),
        "X-Forwarded-Proto of an untrusted peer is ignored"
    );
    let seen = addresses(&svc, &admin, "admin").await;
    assert_eq!(seen[0], "127.0.0.1");
    assert!(!seen.iter().any(|a| a == "198.51.100.7"), "{seen:?}");
}

#[tokio::test]
async fn the_public_url_decides_scheme_and_host() {
    let svc = testing::spawn_login().await;
    let forwarding = Forwarding::from_config(&["127.0.0.1"], "https://paas.example.com").unwrap();
    let public = serve_with(&svc, forwarding).await;
    let spoofed = [("x-forwarded-proto", "http"), ("host", "evil.example")];
    // The public host counts as the login host for `c_url`; the request's `Host` does not.
    let resp = login_to(
        &public.base_url,
        "admin",
        testing::ADMIN_PASSWORD,
        "https://paas.example.com/o/app/",
        &spoofed,
    )
    .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(
        resp.headers()["location"],
        "https://paas.example.com/o/app/"
    );
    assert!(set_cookie_of(&resp, "bk_token").contains("; Secure"));
    let resp = login_to(
        &public.base_url,
        "admin",
        testing::ADMIN_PASSWORD,
        "http://evil.example/steal",
        &spoofed,
    )
    .await;
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/console/");
}
