//! Bodies stream through the router in both directions: each test only finishes if a
//! chunk gets through before the next one exists, which a buffering proxy cannot do.

use bk_engine::router::{Env, HostSettings};
use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowly_streamed_response_arrives_chunk_by_chunk() {
    let b = Backend::start("b");
    let (chunks, rx) = mpsc::channel::<Bytes>(1);
    *b.controls.stream.lock().unwrap() = Some(rx);
    let r = spawn_router(options()).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Stag, &[&b]));

    let req = http::Request::get(format!("http://{}/t/demo/stream", r.addr))
        .header("host", "localhost")
        .body(empty())
        .unwrap();
    chunks.send(Bytes::from_static(b"first")).await.unwrap();
    let resp = timeout(PATIENCE, client().request(req))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut body = resp.into_body();
    for n in 0..5 {
        // The next chunk is produced only after the client holds the previous one.
        let frame = timeout(PATIENCE, body.frame())
            .await
            .expect("chunk arrived while the backend was still streaming")
            .unwrap()
            .unwrap();
        let data = frame.into_data().unwrap();
        let want = if n == 0 {
            "first".to_owned()
        } else {
            format!("chunk {n}")
        };
        assert_eq!(data, want.as_bytes());
        if n < 4 {
            chunks
                .send(Bytes::from(format!("chunk {}", n + 1)))
                .await
                .unwrap();
        }
    }
    drop(chunks);
    assert!(timeout(PATIENCE, body.frame()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_reaches_the_app_while_the_client_still_sends() {
    let b = Backend::start("b");
    let (first_seen, seen) = oneshot::channel();
    *b.controls.first_chunk.lock().unwrap() = Some(first_seen);
    let r = spawn_router(options()).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Stag, &[&b]));

    let (tx, body) = channel_body();
    let c = client();
    let addr = r.addr;
    let call = tokio::spawn(async move {
        send(&c, addr, "POST", "localhost", "/t/demo/upload", &[], body).await
    });
    tx.send(Bytes::from_static(b"hello ")).await.unwrap();
    // The app has the first chunk before the rest of the body exists.
    timeout(PATIENCE, seen)
        .await
        .expect("first chunk reached the app before the upload ended")
        .unwrap();
    tx.send(Bytes::from_static(b"world")).await.unwrap();
    drop(tx);
    let got = call.await.unwrap().unwrap();
    assert_eq!(got.json()["bytes"], 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_upload_streams_intact() {
    let b = Backend::start("b");
    let r = spawn_router(options()).await;
    r.handle
        .publish(table(HostSettings::default(), Env::Prod, &[&b]));

    const CHUNK: usize = 256 * 1024;
    const CHUNKS: usize = 128; // 32 MiB
    let (tx, body) = channel_body();
    let c = client();
    let addr = r.addr;
    let call = tokio::spawn(async move {
        send(&c, addr, "POST", "localhost", "/o/demo/upload", &[], body).await
    });
    let mut sum = 0u64;
    for i in 0..CHUNKS {
        let chunk: Vec<u8> = (0..CHUNK).map(|j| ((i * 7 + j) % 251) as u8).collect();
        sum = chunk
            .iter()
            .fold(sum, |s, &x| s.wrapping_mul(31).wrapping_add(u64::from(x)));
        tx.send(Bytes::from(chunk)).await.unwrap();
    }
    drop(tx);
    let got = call.await.unwrap().unwrap();
    let j = got.json();
    assert_eq!(j["bytes"].as_u64(), Some((CHUNK * CHUNKS) as u64));
    assert_eq!(
        j["sum"].as_u64(),
        Some(sum),
        "bytes arrived in order and unchanged"
    );
}
