//! WebSocket (HTTP/1.1 Upgrade) through the router: the handshake reaches the app with
//! the prefix stripped, and messages flow both ways.

use std::sync::{Arc, Mutex};

use bk_engine::router::{BackendSpec, Env, HostSettings, RouteTable};
use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::support::*;

/// A WebSocket echo server; records the path and `X-Script-Name` of each handshake.
async fn echo_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                #[allow(clippy::result_large_err)] // the callback signature tungstenite asks for
                let cb = |req: &Request, resp: Response| {
                    let script = req
                        .headers()
                        .get("x-script-name")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    record
                        .lock()
                        .unwrap()
                        .push((req.uri().path().to_owned(), script));
                    Ok(resp)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() || msg.is_binary() {
                        ws.send(msg).await.unwrap();
                    } else if msg.is_close() {
                        break;
                    }
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_echo_through_the_router() {
    let (ws_addr, seen) = echo_server().await;
    let r = spawn_router(options()).await;
    r.handle.publish(
        RouteTable::builder(HostSettings::default())
            .route(
                "demo",
                "default",
                Env::Stag,
                [BackendSpec::new("ws-1", &ws_addr.to_string()).unwrap()],
            )
            .build()
            .unwrap(),
    );
    for path in ["/t/demo/ws", "/stag--demo/ws"] {
        let url = format!("ws://{}{path}", r.addr);
        let (mut ws, resp) = timeout(PATIENCE, tokio_tungstenite::connect_async(url))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(resp.status(), 101);
        for i in 0..3 {
            let text = format!("hello {i} via {path}");
            ws.send(Message::text(text.clone())).await.unwrap();
            let back = timeout(PATIENCE, ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(back.into_text().unwrap().as_str(), text);
        }
        ws.send(Message::binary(vec![0u8, 1, 2, 255]))
            .await
            .unwrap();
        let back = timeout(PATIENCE, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(back.into_data().as_ref(), [0u8, 1, 2, 255]);
        ws.close(None).await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            ("/ws".to_owned(), "/t/demo".to_owned()),
            ("/ws".to_owned(), "/stag--demo".to_owned())
        ]
    );
    // Closed tunnels count out of the instance, so draining it ends.
    let drained = r.handle.drain("ws-1", PATIENCE).await;
    assert_eq!(drained, bk_engine::router::Drained::Idle);
}
