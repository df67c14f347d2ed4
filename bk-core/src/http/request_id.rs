//! Request ids: taken from `X-Request-Id` when the caller sent a sane one, else generated
//! (32 lower-case hex chars, the ESB format). Echoed in the response header and carried in
//! every log line of the request.

use std::fmt;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The id of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

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
        Self(format!("{prefix:016x}{n:016x}").into())
    }

    /// Accept a caller's id if it is short and plain, else make a new one.
    pub fn from_header(value: Option<&str>) -> Self {
        match value {
            Some(v)
                if (8..=64).contains(&v.len())
                    && v.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') =>
            {
                Self(v.into())
            }
            _ => Self::generate(),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
