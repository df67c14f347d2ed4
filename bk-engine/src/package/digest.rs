//! The package digest recorded with a release: SHA-256 of the archive bytes, so a release can
//! say exactly which upload it runs and a re-upload of the same bytes is recognisable.

use std::fmt;
use std::io::{self, Read};

use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest as _, Sha256};

/// SHA-256 of a package archive, as 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PackageDigest(String);

impl PackageDigest {
    /// Digest of bytes in memory.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Self(hex::encode(Sha256::digest(bytes)))
    }

    /// Digest of everything `reader` yields.
    pub fn of_reader(mut reader: impl Read) -> io::Result<Self> {
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        Ok(Self(hex::encode(hasher.finalize())))
    }

    /// Validate a stored digest.
    pub fn parse(s: &str) -> Result<Self, bk_core::types::InvalidValue> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(bk_core::types::InvalidValue {
                field: "package_digest",
                reason: "must be 64 lower-case hex digits (SHA-256)".into(),
            })
        }
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PackageDigest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_and_streaming_agree() {
        let d = PackageDigest::of_bytes(b"abc");
        assert_eq!(
            d.as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let big = vec![7u8; 200_000];
        assert_eq!(
            PackageDigest::of_reader(&big[..]).unwrap(),
            PackageDigest::of_bytes(&big)
        );
        assert_eq!(PackageDigest::parse(d.as_str()).unwrap(), d);
        assert!(PackageDigest::parse("ABC").is_err());
    }
}
