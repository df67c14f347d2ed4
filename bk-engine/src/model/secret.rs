//! App secrets as the store sees them: sealed (encrypted) bytes only. Sealing and opening
//! live in [`crate::secret`]; the store never holds a plaintext secret.

use bk_core::clock::Millis;
use bk_core::types::AppCode;

/// An encrypted secret: AEAD ciphertext, its nonce, and which key sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// Fingerprint of the key that sealed it (first 16 hex of its SHA-256), so a wrong key
    /// is reported as such rather than as corrupt data.
    pub key_id: String,
    /// Base64 nonce.
    pub nonce: String,
    /// Base64 ciphertext with its tag.
    pub ciphertext: String,
}

/// A secret row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSecret {
    /// The app.
    pub app_code: AppCode,
    /// Sequence number within the app (1, 2, ...), never reused.
    pub id: i64,
    /// The sealed value.
    pub sealed: SealedSecret,
    /// Who made it.
    pub created_by: String,
    /// When (ms).
    pub created_at: Millis,
    /// When it was revoked; `None` while live.
    pub revoked_at: Option<Millis>,
}

impl StoredSecret {
    /// Whether it still authenticates the app.
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}
