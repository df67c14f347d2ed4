//! Relaying an upgraded connection (WebSocket or any HTTP/1.1 `Upgrade`): once both sides
//! switched protocols, bytes are copied both ways until either side closes.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::balance::InFlight;

/// Copy between the client and the instance. `_guard` keeps the connection counted in
/// flight, so draining the instance waits for it (up to the drain deadline).
pub(crate) async fn tunnel(client: OnUpgrade, upstream: OnUpgrade, _guard: InFlight) {
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(pair) => pair,
        Err(e) => {
            tracing::debug!(error = %e, "upgrade did not complete");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!(error = %e, "upgraded connection ended with an error");
    }
}
