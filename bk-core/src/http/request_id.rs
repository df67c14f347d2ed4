//! Request ids: taken from `X-Request-Id` when the caller sent a sane one, else generated
//! (32 lower-case hex chars, the ESB format). Echoed in the response header and carried in
//! every log line of the request.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest id accepted from a caller.
const MAX: usize = 64;

/// The id of one request, held inline (copied, never allocated: it is made for every
/// request and travels in the request's extensions and the handler's context).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId {
    len: u8,
    buf: [u8; MAX],
}

impl RequestId {
    /// Header that carries the id.
    pub const HEADER: &'static str = "x-request-id";

    /// A new unique id: a random per-process prefix and a counter. Ids need to be unique,
    /// not secret, and this avoids a system call per request.
    pub fn generate() -> Self {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let b = crate::crypto::random_bytes(8).unwrap_or_else(|_| vec![0; 8]);
            b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut id = Self {
            len: 32,
            buf: [0; MAX],
        };
        hex16(prefix, &mut id.buf[..16]);
        hex16(n, &mut id.buf[16..32]);
        id
    }

    /// Accept a caller's id if it is short and plain, else make a new one.
    pub fn from_header(value: Option<&str>) -> Self {
        match value {
            Some(v)
                if (8..=MAX).contains(&v.len())
                    && v.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') =>
            {
                let mut id = Self {
                    len: v.len() as u8,
                    buf: [0; MAX],
                };
                id.buf[..v.len()].copy_from_slice(v.as_bytes());
                id
            }
            _ => Self::generate(),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters, digits, `-` and `_` are ever stored.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// `v` as 16 lower-case hex digits into `out`.
fn hex16(v: u64, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, o) in out.iter_mut().enumerate().take(16) {
        *o = HEX[((v >> (60 - 4 * i)) & 15) as usize];
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequestId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let a = RequestId::generate();
        assert_eq!(a.as_str().len(), 32);
        assert_ne!(a, RequestId::generate());
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        // Prefix, then the counter: consecutive ids differ only in the counter.
        let b = RequestId::generate();
        assert_eq!(a.as_str()[..16], b.as_str()[..16]);
        let (x, y) = (
            u64::from_str_radix(&a.as_str()[16..], 16).unwrap(),
            u64::from_str_radix(&b.as_str()[16..], 16).unwrap(),
        );
        assert!(y > x);
        assert_eq!(
            RequestId::from_header(Some("abcdef123456")).as_str(),
            "abcdef123456"
        );
        assert_ne!(
            RequestId::from_header(Some("bad id\n with spaces")).as_str(),
            "bad id\n with spaces"
        );
    }
}
