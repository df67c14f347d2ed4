//! The in-process driver: the router `bk up` serves, on 127.0.0.1:0 in this process, and
//! a minimal keep-alive HTTP/1.1 client issuing N requests to it, all on one thread. Run
//! under callgrind (see [`super::callgrind`]) it gives instructions per request; with the
//! counting allocator of `bk-bench` it gives allocations per request. The client reuses
//! one buffer and allocates nothing per request, so what is counted is the server's work
//! (hyper, the shared stack, the handler) plus a small constant for the client.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use bk_bins::config::BkConfig;
use bk_bins::platform::{self, Mode};

/// What the driver requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /login/accounts/is_login/?bk_token=<valid>` of `bk up`.
    IsLogin,
    /// `GET /healthz/` of `bk up`.
    Healthz,
    /// A bare axum route answering "ok" (the floor).
    Bare,
}

impl Endpoint {
    /// All, in report order.
    pub const ALL: [Endpoint; 3] = [Endpoint::IsLogin, Endpoint::Healthz, Endpoint::Bare];

    /// The name used on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::IsLogin => "is_login",
            Endpoint::Healthz => "healthz",
            Endpoint::Bare => "bare",
        }
    }
}

impl FromStr for Endpoint {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .with_context(|| format!("unknown endpoint {s:?} (is_login, healthz, bare)"))
    }
}

/// Allocations so far, counted by the global allocator of the binary running the driver
/// (`bk-bench` counts into it; elsewhere it stays 0).
pub static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The admin password of the throwaway data directory.
const PASSWORD: &str = "Drive-Passw0rd!";

/// Serve `endpoint` in this process and request it `n` times after `warmup` requests;
/// returns the allocations counted during the `n` requests.
pub fn drive(
    endpoint: Endpoint,
    warmup: u64,
    n: u64,
    log: bk_core::telemetry::LogConfig,
) -> anyhow::Result<u64> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let dir = super::TempDir::new(false)?;
    rt.block_on(async move {
        let _guard = bk_core::telemetry::init(&log);
        let (router, path) = match endpoint {
            Endpoint::Bare => (
                axum::Router::new().route("/", axum::routing::get(|| async { "ok" })),
                "/".to_owned(),
            ),
            _ => {
                let mut cfg = BkConfig::default();
                cfg.server.data_dir = dir.path().to_owned();
                cfg.log = log.clone();
                // Cheap hashing: the login below is set-up, not what is measured.
                cfg.login.argon2.memory_kib = 1024;
                cfg.login.argon2.iterations = 1;
                let platform::Built { router, login, .. } =
                    platform::build_with(&cfg, Mode::Platform, Some(PASSWORD)).await?;
                let path = if endpoint == Endpoint::Healthz {
                    "/healthz/".to_owned()
                } else {
                    let client = bk_auth::service::ClientInfo {
                        address: "127.0.0.1".into(),
                        user_agent: "bk-bench".into(),
                    };
                    let issued = login.login_password("admin", PASSWORD, &client).await?;
                    format!("/login/accounts/is_login/?bk_token={}", issued.token)
                };
                (router, path)
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        let mut c = Client::connect(addr, &path).await?;
        for _ in 0..warmup {
            c.get().await?;
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..n {
            c.get().await?;
        }
        Ok(ALLOCATIONS.load(Ordering::Relaxed) - before)
    })
}

/// One keep-alive connection sending the same GET.
struct Client {
    stream: TcpStream,
    request: Vec<u8>,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr, path: &str) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
        Ok(Self {
            stream,
            request,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Send the request and read one whole answer; fails unless it is a 200 with
    /// `"result":true` or `ok` in the body.
    async fn get(&mut self) -> anyhow::Result<()> {
        self.stream.write_all(&self.request).await?;
        let mut len = 0;
        loop {
            let k = self.stream.read(&mut self.buf[len..]).await?;
            anyhow::ensure!(k > 0, "connection closed");
            len += k;
            if let Some(total) = complete(&self.buf[..len]) {
                let answer = &self.buf[..total];
                anyhow::ensure!(
                    answer.starts_with(b"HTTP/1.1 200")
                        && (contains(answer, b"\"result\":true") || answer.ends_with(b"ok")),
                    "unexpected answer: {}",
                    String::from_utf8_lossy(answer)
                );
                anyhow::ensure!(total == len, "more bytes than one answer");
                return Ok(());
            }
            anyhow::ensure!(len < self.buf.len(), "answer too long");
        }
    }
}

/// The length of the whole answer once its head and `Content-Length` body are in `b`.
fn complete(b: &[u8]) -> Option<usize> {
    let head = b.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let body = b[..head]
        .split(|c| *c == b'\n')
        .filter_map(|l| {
            let l = std::str::from_utf8(l).ok()?;
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .next()?;
    (b.len() >= head + body).then_some(head + body)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_complete_only_with_their_body() {
        let a = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        assert_eq!(complete(a), Some(a.len()));
        assert_eq!(complete(&a[..a.len() - 1]), None);
        assert_eq!(complete(b"HTTP/1.1 200 OK\r\n"), None);
    }
}
