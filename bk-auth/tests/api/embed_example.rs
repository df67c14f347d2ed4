//! `examples/embed.rs` as its users run it: the example binary is built and started, and a
//! browser (cookie store, redirects followed by hand) signs in through `/auth/` with the
//! form and its CSRF token, then gets the greeting at `/app/`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::http_support::client;

struct Example(Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Build the example with cargo (the same target dir as this test) and return its path.
fn build_example() -> std::path::PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--quiet", "-p", "bk-auth", "--example", "embed"])
        .args(["--message-format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(out.status.success(), "cargo build --example embed failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "embed")
        .find_map(|v| v["executable"].as_str().map(std::path::PathBuf::from))
        .expect("the example's executable in cargo's messages")
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_owned()
}

fn csrf_field(html: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = html.find(marker).expect("csrf field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_embed_example_logs_in_through_auth_and_greets_at_app() {
    let exe = build_example();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(exe)
        .env("LISTEN", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("embed.db").display()),
        )
        .env("BK_ADMIN_PASSWORD", "Embed-Passw0rd-42")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().unwrap();
    let guard = Example(child);
    let line = BufReader::new(stdout)
        .lines()
        .next()
        .expect("a line on stdout")
        .unwrap();
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();

    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The host's own page and 404s are untouched by the login layer (`route_layer`).
    let home = browser.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("The host app"));
    let missing = client().get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "unknown paths are not sent to login");

    // /app/ sends the browser to the login mounted at /auth/.
    let resp = browser.get(format!("{base}/app/")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let to_login = location(&resp);
    let c_url: String =
        url::form_urlencoded::byte_serialize(format!("{base}/app/").as_bytes()).collect();
    assert_eq!(to_login, format!("/auth/?c_url={c_url}"));

    // The form posts to /auth/, and its CSRF cookie is scoped there.
    let page = browser
        .get(format!("{base}{to_login}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("bk_csrftoken="))
        .expect("CSRF cookie");
    assert!(csrf_cookie.contains("Path=/auth/"), "{csrf_cookie}");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"action="/auth/""#), "{html}");
    let csrf = csrf_field(&html);

    // The demo directory's user signs in with the form.
    let resp = browser
        .post(format!("{base}/auth/"))
        .form(&[
            ("username", "demo"),
            ("password", "demo-password"),
            ("c_url", &format!("{base}/app/")),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(location(&resp), format!("{base}/app/"));

    let app = browser.get(format!("{base}/app/")).send().await.unwrap();
    assert_eq!(app.status(), 200);
    assert!(app.text().await.unwrap().contains("Hello, demo!"));

    // Logging out at /auth/logout/ goes back to /auth/, and /app/ asks for a login again.
    let out = browser
        .get(format!("{base}/auth/logout/"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 302);
    assert_eq!(location(&out), "/auth/");
    let again = browser.get(format!("{base}/app/")).send().await.unwrap();
    assert_eq!(again.status(), 302);

    // The local store works beside the directory: admin gets in with BK_ADMIN_PASSWORD.
    let page = browser.get(format!("{base}/auth/")).send().await.unwrap();
    let csrf = csrf_field(&page.text().await.unwrap());
    let resp = browser
        .post(format!("{base}/auth/"))
        .form(&[
            ("username", "admin"),
            ("password", "Embed-Passw0rd-42"),
            ("c_url", "/app/"),
            ("csrfmiddlewaretoken", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&resp), "/app/");
    let app = browser.get(format!("{base}/app/")).send().await.unwrap();
    assert!(app.text().await.unwrap().contains("Hello, admin!"));
    drop(guard);
}
