//! Real app instances, a real router on 127.0.0.1:0 and a plain HTTP client.
//!
//! Each backend runs on its own thread and runtime, so "killing" it (dropping the runtime)
//! closes its listener and every connection at once, like a process that died.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use bk_engine::router::{
    self, BackendSpec, Env, HostSettings, ProxyOptions, RouteTable, RouterHandle,
};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody, combinators::UnsyncBoxBody};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// How long a test waits for something that must happen; only a hang reaches it.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// What a test can do to steer a backend's special paths.
pub struct Controls {
    /// `/hold`: the request waits for a permit (tests add permits to release it).
    pub hold: Arc<Semaphore>,
    /// `/hold`: told when a request arrived and waits.
    pub entered: Mutex<Option<mpsc::UnboundedSender<()>>>,
    /// `/stream`: the chunks to send, as the test supplies them.
    pub stream: Mutex<Option<mpsc::Receiver<Bytes>>>,
    /// `/upload`: told when the first chunk of the upload arrived.
    pub first_chunk: Mutex<Option<oneshot::Sender<()>>>,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            hold: Arc::new(Semaphore::new(0)),
            entered: Mutex::default(),
            stream: Mutex::default(),
            first_chunk: Mutex::default(),
        }
    }
}

/// One app instance: an HTTP server answering with what it saw.
pub struct Backend {
    pub name: String,
    pub addr: SocketAddr,
    pub controls: Arc<Controls>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Backend {
    pub fn start(name: &str) -> Self {
        Self::start_with(name, app)
    }

    pub fn start_with(name: &str, make: impl FnOnce(Arc<Controls>, String) -> Router) -> Self {
        let controls = Arc::new(Controls::default());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let router = make(Arc::clone(&controls), name.to_owned());
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let serve = axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                );
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime cancels every connection task: sockets close at once.
            rt.shutdown_background();
        });
        Self {
            name: name.to_owned(),
            addr,
            controls,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn spec(&self) -> BackendSpec {
        BackendSpec::new(self.name.clone(), &self.addr.to_string()).unwrap()
    }

    /// Stop abruptly: listener and open connections close, as when a process dies.
    pub fn kill(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The app every backend runs: `/hold`, `/stream`, `/upload`, `/work…` (echoes after
/// 10 ms), anything else echoes at once.
fn app(controls: Arc<Controls>, name: String) -> Router {
    Router::new().fallback(move |req: Request| {
        let controls = Arc::clone(&controls);
        let name = name.clone();
        async move { answer(&controls, &name, req).await }
    })
}

async fn answer(controls: &Controls, name: &str, req: Request) -> Response {
    match req.uri().path() {
        "/hold" => {
            if let Some(tx) = controls.entered.lock().unwrap().as_ref() {
                let _ = tx.send(());
            }
            controls.hold.acquire().await.unwrap().forget();
            echo(name, req).await.into_response()
        }
        "/stream" => {
            let rx = controls
                .stream
                .lock()
                .unwrap()
                .take()
                .expect("a stream was set up");
            let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
                rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
            });
            Body::from_stream(chunks).into_response()
        }
        "/upload" => {
            let mut body = req.into_body();
            let (mut bytes, mut sum) = (0u64, 0u64);
            let mut first = controls.first_chunk.lock().unwrap().take();
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame.unwrap().into_data() else {
                    continue;
                };
                if let Some(tx) = first.take() {
                    let _ = tx.send(());
                }
                bytes += data.len() as u64;
                sum = data
                    .iter()
                    .fold(sum, |s, &b| s.wrapping_mul(31).wrapping_add(u64::from(b)));
            }
            axum::Json(json!({"backend": name, "bytes": bytes, "sum": sum})).into_response()
        }
        // A request that takes a while, so a load keeps several in flight at any moment.
        p if p.starts_with("/work") => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            echo(name, req).await.into_response()
        }
        _ => echo(name, req).await.into_response(),
    }
}

async fn echo(name: &str, req: Request) -> axum::Json<Value> {
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string());
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    axum::Json(json!({
        "backend": name,
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "headers": headers_json(&parts.headers),
        "body_len": body.len(),
        "peer": peer,
    }))
}

fn headers_json(h: &HeaderMap) -> Value {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in h {
        m.entry(k.as_str().to_owned())
            .or_default()
            .push(v.to_str().unwrap_or("?").to_owned());
    }
    serde_json::to_value(m).unwrap()
}

/// A running router: its address and handle.
pub struct Proxy {
    pub addr: SocketAddr,
    pub handle: RouterHandle,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A platform stand-in for `front`: `/login/` answers "platform login".
pub fn platform() -> Router {
    Router::new().route("/login/", axum::routing::get(|| async { "platform login" }))
}

/// The router in front of [`platform`], on 127.0.0.1:0.
pub async fn spawn_router(options: ProxyOptions) -> Proxy {
    let handle = RouterHandle::new(options);
    let app = router::front(handle.clone(), platform());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Proxy { addr, handle, task }
}

/// Options for tests: short ejection, defaults otherwise.
pub fn options() -> ProxyOptions {
    ProxyOptions::default()
}

/// A table with `backends` serving app `demo`, module `default`, in `env`.
pub fn table(hosts: HostSettings, env: Env, backends: &[&Backend]) -> RouteTable {
    RouteTable::builder(hosts)
        .route("demo", "default", env, backends.iter().map(|b| b.spec()))
        .build()
        .unwrap()
}

pub type ClientBody = UnsyncBoxBody<Bytes, Infallible>;

/// A keep-alive HTTP/1 client.
pub fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

pub fn empty() -> ClientBody {
    http_body_util::Empty::new().boxed_unsync()
}

pub fn full(data: impl Into<Bytes>) -> ClientBody {
    http_body_util::Full::new(data.into()).boxed_unsync()
}

/// A request body fed chunk by chunk through the returned sender.
pub fn channel_body() -> (mpsc::Sender<Bytes>, ClientBody) {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
    });
    (tx, StreamBody::new(stream.boxed()).boxed_unsync())
}

/// A response: status, headers, body as text.
pub struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Got {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

/// Send a request to the router and read the whole answer.
pub async fn send(
    c: &Client<HttpConnector, ClientBody>,
    addr: SocketAddr,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: ClientBody,
) -> Result<Got, String> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(PATIENCE, c.request(req))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    let (parts, body) = resp.into_parts();
    let bytes = tokio::time::timeout(PATIENCE, body.collect())
        .await
        .map_err(|_| "body timed out".to_owned())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Got {
        status: parts.status,
        headers: parts.headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// GET `path` with `host`, expecting an answer (any status).
pub async fn get(
    c: &Client<HttpConnector, ClientBody>,
    addr: SocketAddr,
    host: &str,
    path: &str,
) -> Got {
    send(c, addr, "GET", host, path, &[], empty())
        .await
        .unwrap()
}
