//! Copies a child's stdout or stderr into the instance's log.
//!
//! Both streams go to one log, so each pump writes whole lines where it can: it holds back a
//! trailing partial line until its newline arrives, unless the line grows past the buffer
//! (a process printing without newlines still gets logged, in pieces). Memory per stream
//! is bounded by the buffer.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::logs::LogWriter;

/// Largest piece held back waiting for a newline.
const BUF: usize = 16 * 1024;

/// Copy `stream` into `log` until it closes.
pub(crate) async fn pump<R: AsyncRead + Unpin>(mut stream: R, log: Arc<LogWriter>) {
    let mut buf = vec![0u8; BUF];
    let mut held = 0;
    loop {
        let n = match stream.read(&mut buf[held..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let filled = held + n;
        let cut = match buf[..filled].iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None if filled == buf.len() => filled,
            None => {
                held = filled;
                continue;
            }
        };
        log.write(&buf[..cut]);
        buf.copy_within(cut..filled, 0);
        held = filled - cut;
    }
    log.write(&buf[..held]);
}
