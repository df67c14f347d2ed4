//! `OidcProvider` against a real OpenID Connect provider: `oidc-provider-mock` from PyPI,
//! started on a port it picks itself. The test drives the flow as a browser would: open
//! the authorization page, submit its form with a subject, take `code` and `state` from
//! the redirect, then let the provider exchange the code and read userinfo.
//!
//! The mock accepts any client id and secret; users' claims are set with its
//! `PUT /users/<sub>` API before they authorize.
#![cfg(feature = "server")]
// Test code: a failed expectation should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use bk_auth::config::OidcProviderConfig;
use bk_auth::error::AuthError;
use bk_auth::idp::oidc::OidcProvider;
use bk_auth::idp::{IdentityProvider, ProviderFlow, RedirectStart};
use bk_auth::store::PendingLogin;
use bk_core::crypto::sha256_hex;
use bk_core::types::Role;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const REDIRECT_URI: &str = "http://127.0.0.1:9/login/oidc/mock/callback";
const CLIENT_SECRET: &str = "the-client-secret";

/// A running `oidc-provider-mock`; killed when dropped.
pub(crate) struct MockOidc {
    _child: Child,
    pub(crate) issuer: String,
}

pub(crate) async fn start_mock() -> MockOidc {
    let mut child = Command::new("oidc-provider-mock")
        .args(["--host", "127.0.0.1", "--port", "0"])
        .env("NO_COLOR", "1")
        .env("PYTHONWARNINGS", "ignore")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("oidc-provider-mock must be installed (pip install oidc-provider-mock)");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    // uvicorn logs "Uvicorn running on http://127.0.0.1:<port> (Press CTRL+C to quit)".
    let issuer = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.expect("read mock output") {
            if let Some(rest) = line.split("Uvicorn running on ").nth(1) {
                return rest
                    .split_whitespace()
                    .next()
                    .expect("url after 'running on'")
                    .to_owned();
            }
        }
        panic!("oidc-provider-mock exited before listening");
    })
    .await
    .expect("oidc-provider-mock did not start within 30 s");
    // Keep draining its log so the pipe never fills and blocks it.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    MockOidc {
        _child: child,
        issuer,
    }
}

pub(crate) fn config(issuer: &str, username_claim: &str) -> OidcProviderConfig {
    OidcProviderConfig {
        id: "mock".into(),
        display_name: "Mock SSO".into(),
        issuer: issuer.into(),
        client_id: "bk-login".into(),
        client_secret: CLIENT_SECRET.into(),
        scopes: vec!["profile".into(), "email".into(), "phone".into()],
        username_claim: username_claim.into(),
        allowed_email_domains: vec!["example.com".into(), "corp.example".into()],
        default_role: Role::Developer,
    }
}

fn provider(issuer: &str, username_claim: &str) -> OidcProvider {
    OidcProvider::new(
        config(issuer, username_claim),
        OidcProvider::http_client().unwrap(),
    )
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) async fn set_user(mock: &MockOidc, sub: &str, claims: serde_json::Value) {
    let resp = browser()
        .put(format!("{}/users/{sub}", mock.issuer))
        .json(&claims)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204, "mock PUT /users/{sub}");
}

/// What the user agent does between `start` and our callback: show the mock's page,
/// submit its form as `sub`, and return `(code, state)` from the redirect to us.
async fn authorize_as(start: &RedirectStart, sub: &str) -> (String, String) {
    let browser = browser();
    let page = browser.get(&start.authorize_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"name="sub""#),
        "authorization form expected:\n{html}"
    );
    // The form posts to the page's own URL (no `action`).
    let resp = browser
        .post(&start.authorize_url)
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        302,
        "{}",
        resp.text().await.unwrap_or_default()
    );
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT_URI), "{location}");
    let url = url::Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    (
        param("code").expect("code in redirect"),
        param("state").expect("state in redirect"),
    )
}

fn pending(start: &RedirectStart) -> PendingLogin {
    PendingLogin {
        state_hash: sha256_hex(start.state.as_bytes()),
        provider: "mock".into(),
        pkce_verifier: start.pkce_verifier.clone(),
        nonce: start.nonce.clone(),
        c_url: "/console/".into(),
        expires_at: i64::MAX,
        browser_hash: String::new(),
        address: "127.0.0.1".into(),
    }
}

fn provider_message(e: AuthError) -> String {
    match e {
        AuthError::Provider(m) => m,
        other => panic!("expected AuthError::Provider, got {other:?}"),
    }
}

#[tokio::test]
async fn oidc_login_with_the_mock_provider() {
    let mock = start_mock().await;
    set_user(
        &mock,
        "u-1001",
        json!({"preferred_username": "alice", "name": "Alice Liu", "email": "alice@example.com",
               "phone_number": "+86 138 0000 0000"}),
    )
    .await;
    let p = provider(&mock.issuer, "preferred_username");
    assert_eq!(
        (p.id(), p.display_name(), p.flow()),
        ("mock", "Mock SSO", ProviderFlow::Redirect)
    );

    let start = p.start(REDIRECT_URI).await.unwrap();
    let url = url::Url::parse(&start.authorize_url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], start.state);
    assert_eq!(q["nonce"], start.nonce);
    assert_eq!(q["redirect_uri"], REDIRECT_URI);
    assert!(
        q["scope"].split(' ').any(|s| s == "openid"),
        "{}",
        q["scope"]
    );
    assert!(start.state.len() >= 43 && start.nonce.len() >= 43 && start.pkce_verifier.len() >= 43);
    assert!(!start.authorize_url.contains(CLIENT_SECRET));
    assert!(
        !start.authorize_url.contains(&start.pkce_verifier),
        "only the challenge is sent"
    );

    let (code, state) = authorize_as(&start, "u-1001").await;
    assert_eq!(state, start.state);
    let id = p
        .finish(&code, &pending(&start), REDIRECT_URI)
        .await
        .unwrap();
    assert_eq!(id.provider, "mock");
    assert_eq!(id.subject, "u-1001");
    assert_eq!(id.username, "alice");
    assert_eq!(id.chname, "Alice Liu");
    assert_eq!(id.email, "alice@example.com");
    assert_eq!(id.phone, "+86 138 0000 0000");
    assert_eq!(id.default_role, Role::Developer);

    // A code is good once.
    let again = provider_message(
        p.finish(&code, &pending(&start), REDIRECT_URI)
            .await
            .unwrap_err(),
    );
    assert!(again.contains("Mock SSO refused the login"), "{again}");
    assert!(!again.contains(&code));
}

#[tokio::test]
async fn oidc_username_from_verified_allowed_email_or_refused() {
    let mock = start_mock().await;
    let by_email = provider(&mock.issuer, "email");
    let login = |sub: &'static str| {
        let p = &by_email;
        async move {
            let start = p.start(REDIRECT_URI).await.unwrap();
            let (code, _) = authorize_as(&start, sub).await;
            p.finish(&code, &pending(&start), REDIRECT_URI).await
        }
    };
    set_user(
        &mock,
        "u-bob",
        json!({"email": "bob.builder@example.com", "email_verified": true}),
    )
    .await;
    let id = login("u-bob").await.unwrap();
    assert_eq!(
        (id.username.as_str(), id.email.as_str()),
        ("bob.builder", "bob.builder@example.com")
    );

    // The attacks of issue 5: an address of a foreign domain, and an unverified one of
    // ours, never name an account.
    set_user(
        &mock,
        "u-att",
        json!({"email": "dave.w@attacker.example", "email_verified": true}),
    )
    .await;
    let err = login("u-att").await.unwrap_err();
    assert!(
        matches!(&err, AuthError::Forbidden(m) if m.contains("attacker.example")),
        "{err:?}"
    );
    set_user(&mock, "u-unv", json!({"email": "dave.w@corp.example"})).await;
    let err = login("u-unv").await.unwrap_err();
    assert!(
        matches!(&err, AuthError::Forbidden(m) if m.contains("not verified")),
        "{err:?}"
    );

    set_user(
        &mock,
        "u-2",
        json!({"preferred_username": "no spaces allowed", "email": "x@example.com"}),
    )
    .await;
    let p = provider(&mock.issuer, "preferred_username");
    let start = p.start(REDIRECT_URI).await.unwrap();
    let (code, _) = authorize_as(&start, "u-2").await;
    let msg = provider_message(
        p.finish(&code, &pending(&start), REDIRECT_URI)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        msg,
        "claim preferred_username missing or not a valid username"
    );
}

#[tokio::test]
async fn oidc_invalid_or_stolen_code_is_refused() {
    let mock = start_mock().await;
    let p = provider(&mock.issuer, "email");
    let start = p.start(REDIRECT_URI).await.unwrap();

    let msg = provider_message(
        p.finish("not-a-code", &pending(&start), REDIRECT_URI)
            .await
            .unwrap_err(),
    );
    assert!(
        msg.contains("refused") && msg.contains("invalid_grant"),
        "{msg}"
    );
    assert!(!msg.contains(CLIENT_SECRET) && !msg.contains("not-a-code"));

    // A real code finished with another login's pending state (a stolen code) is refused:
    // by the provider's PKCE check where it has one (this mock ignores PKCE), and by our
    // nonce check in any case.
    let (code, _) = authorize_as(&start, "carol.x@example.com").await;
    let other = p.start(REDIRECT_URI).await.unwrap();
    let msg = provider_message(
        p.finish(&code, &pending(&other), REDIRECT_URI)
            .await
            .unwrap_err(),
    );
    assert!(!msg.contains(&code), "{msg}");

    // Pending state of another provider.
    let mut foreign = pending(&start);
    foreign.provider = "other".into();
    assert!(matches!(
        p.finish(&code, &foreign, REDIRECT_URI).await,
        Err(AuthError::Provider(_))
    ));
}

#[tokio::test]
async fn oidc_nonce_mismatch_is_refused() {
    let mock = start_mock().await;
    let p = provider(&mock.issuer, "email");
    let start = p.start(REDIRECT_URI).await.unwrap();
    let (code, _) = authorize_as(&start, "dave.x@example.com").await;
    let mut replayed = pending(&start);
    replayed.nonce = "some-other-nonce".into();
    let msg = provider_message(p.finish(&code, &replayed, REDIRECT_URI).await.unwrap_err());
    assert!(msg.contains("nonce"), "{msg}");
}

#[tokio::test]
async fn oidc_unreachable_issuer_is_a_provider_error() {
    // Nothing listens on port 9 (discard) on loopback here.
    let p = provider("http://127.0.0.1:9", "email");
    let msg = provider_message(p.start(REDIRECT_URI).await.unwrap_err());
    assert!(msg.contains("Mock SSO is unreachable"), "{msg}");
    // Not cached: the next attempt fetches discovery again (and fails again the same way).
    let msg = provider_message(p.start(REDIRECT_URI).await.unwrap_err());
    assert!(msg.contains("discovery failed"), "{msg}");
}
