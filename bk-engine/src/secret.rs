//! App secrets (V6 `APP_TOKEN`, V7 `BKPAAS_APP_SECRET`, sent as `bk_app_secret`) encrypted
//! at rest.
//!
//! Developers must be able to read their secret again, so it cannot be hashed like a
//! token: it is sealed with XChaCha20-Poly1305 under a 256-bit engine key. The 24-byte
//! nonce is random per seal (safe without a counter at any realistic volume), and the app
//! code is the associated data, so a sealed row copied to another app does not open. The
//! library takes the key; [`SecretKey::load_or_create`] is the helper binaries use for
//! `BK_ENGINE_SECRET_KEY` or `<data_dir>/secrets/engine_key` (created 0600).
//!
//! Plaintext secrets live only in [`AppSecret`], whose `Debug` prints `***`.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bk_core::crypto;
use bk_core::types::AppCode;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::error::{EngineError, Result};
use crate::model::SealedSecret;

/// Domain separation for the associated data.
const AAD_PREFIX: &[u8] = b"bk-engine app secret v1:";

/// The engine key: 32 bytes.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(id={})", self.id())
    }
}

impl SecretKey {
    /// Name of the environment variable binaries read the key from.
    pub const ENV: &'static str = "BK_ENGINE_SECRET_KEY";

    /// A key from its base64 form (standard alphabet, 32 bytes).
    pub fn from_base64(s: &str) -> Result<Self> {
        let bytes = STANDARD.decode(s.trim()).map_err(|_| {
            EngineError::Invalid(format!(
                "{}: not base64; generate a key with `head -c 32 /dev/urandom | base64`",
                Self::ENV
            ))
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            EngineError::Invalid(format!(
                "{}: must decode to 32 bytes, got {}",
                Self::ENV,
                b.len()
            ))
        })?;
        Ok(Self(key))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self> {
        let bytes = crypto::random_bytes(32)
            .map_err(|e| EngineError::Internal(format!("random source: {e}")))?;
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        Ok(Self(key))
    }

    /// The base64 form, for the key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// A fingerprint naming the key in stored rows and messages (not secret: 64 bits of its
    /// SHA-256).
    pub fn id(&self) -> String {
        crypto::sha256_hex(&self.0)[..16].to_owned()
    }

    /// The key from `env_value` when set, else from the file at `path`, creating the file
    /// (mode 0600, parent directories as needed) with a new key when it is missing. An
    /// unreadable or malformed file is an error, never silently replaced: secrets sealed
    /// with the old key would no longer open.
    pub fn load_or_create(env_value: Option<&str>, path: &Path) -> Result<Self> {
        if let Some(v) = env_value.filter(|v| !v.trim().is_empty()) {
            return Self::from_base64(v);
        }
        match std::fs::read_to_string(path) {
            Ok(text) => {
                return Self::from_base64(&text).map_err(|_| {
                    EngineError::Invalid(format!(
                        "{}: not a base64 32-byte key; restore the original file (app secrets are sealed with it)",
                        path.display()
                    ))
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(EngineError::Internal(format!(
                    "reading {}: {e}",
                    path.display()
                )));
            }
        }
        let io =
            |e: std::io::Error| EngineError::Internal(format!("writing {}: {e}", path.display()));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let key = Self::generate()?;
        let mut opts = std::fs::OpenOptions::new();
        // `create_new`: two processes starting at once cannot both write a key.
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(path) {
            Ok(mut f) => {
                f.write_all(key.to_base64().as_bytes()).map_err(io)?;
                f.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::load_or_create(None, path)
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// A plaintext app secret. `Debug` and `Display` never show it; [`AppSecret::expose`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct AppSecret(String);

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(***)")
    }
}

impl AppSecret {
    /// A new random secret, shaped like the UUIDs BK issues (122 random bits).
    pub fn generate() -> Result<Self> {
        Ok(Self(crate::model::new_uuid()?))
    }

    /// Wrap a secret a client presented (for verification).
    pub fn from_presented(s: &str) -> Self {
        Self(s.to_owned())
    }

    /// The secret itself: only for the owner's eyes, never for logs.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first four characters, the rest starred: enough to tell secrets apart.
    pub fn masked(&self) -> String {
        let head: String = self.0.chars().take(4).collect();
        format!(
            "{head}{}",
            "*".repeat(self.0.chars().count().saturating_sub(4))
        )
    }

    /// Compare with another secret in constant time.
    pub fn matches(&self, other: &AppSecret) -> bool {
        crypto::constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

/// Seals and opens app secrets with one engine key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    key_id: String,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBox(key id={})", self.key_id)
    }
}

impl SecretBox {
    /// A box over `key`.
    pub fn new(key: &SecretKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.0.into()),
            key_id: key.id(),
        }
    }

    /// The fingerprint of the key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn aad(app: &AppCode) -> Vec<u8> {
        [AAD_PREFIX, app.as_str().as_bytes()].concat()
    }

    /// Encrypt `secret` for `app`.
    pub fn seal(&self, app: &AppCode, secret: &AppSecret) -> Result<SealedSecret> {
        let nonce_bytes = crypto::random_bytes(24)
            .map_err(|e| EngineError::Internal(format!("random source: {e}")))?;
        let nonce = XNonce::try_from(nonce_bytes.as_slice())
            .map_err(|_| EngineError::Internal("nonce length".into()))?;
        let aad = Self::aad(app);
        let ct = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.0.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| EngineError::Internal("sealing an app secret failed".into()))?;
        Ok(SealedSecret {
            key_id: self.key_id.clone(),
            nonce: STANDARD.encode(nonce_bytes),
            ciphertext: STANDARD.encode(ct),
        })
    }

    /// Decrypt a secret of `app`. Failing to open means a different key or tampered data;
    /// the error says which key sealed it, never anything about the content.
    pub fn open(&self, app: &AppCode, sealed: &SealedSecret) -> Result<AppSecret> {
        let fail = |why: &str| {
            EngineError::Internal(format!(
                "an app secret of {app} cannot be opened: {why} (sealed with key {}, this engine has key {})",
                sealed.key_id, self.key_id
            ))
        };
        let nonce_bytes = STANDARD
            .decode(&sealed.nonce)
            .map_err(|_| fail("bad nonce"))?;
        let nonce = XNonce::try_from(nonce_bytes.as_slice()).map_err(|_| fail("bad nonce"))?;
        let ct = STANDARD
            .decode(&sealed.ciphertext)
            .map_err(|_| fail("bad ciphertext"))?;
        let aad = Self::aad(app);
        let pt = self
            .cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map_err(|_| fail("authentication failed"))?;
        String::from_utf8(pt)
            .map(AppSecret)
            .map_err(|_| fail("not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(code: &str) -> AppCode {
        AppCode::parse(code).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_the_ciphertext_is_not_the_secret() {
        let b = SecretBox::new(&SecretKey::generate().unwrap());
        let s = AppSecret::generate().unwrap();
        let sealed = b.seal(&app("demo"), &s).unwrap();
        assert!(!sealed.ciphertext.contains(s.expose()));
        assert!(!sealed.ciphertext.contains(&STANDARD.encode(s.expose())));
        assert_eq!(b.open(&app("demo"), &sealed).unwrap(), s);
        // Fresh nonce each time.
        let again = b.seal(&app("demo"), &s).unwrap();
        assert_ne!(again.nonce, sealed.nonce);
        assert_ne!(again.ciphertext, sealed.ciphertext);
    }

    #[test]
    fn another_app_or_key_or_tampering_does_not_open() {
        let key = SecretKey::generate().unwrap();
        let b = SecretBox::new(&key);
        let s = AppSecret::generate().unwrap();
        let sealed = b.seal(&app("demo"), &s).unwrap();
        assert!(b.open(&app("other"), &sealed).is_err());
        let other = SecretBox::new(&SecretKey::generate().unwrap());
        let e = other.open(&app("demo"), &sealed).unwrap_err().to_string();
        assert!(e.contains(&key.id()), "{e}");
        assert!(!e.contains(s.expose()));
        let mut bad = sealed.clone();
        let mut raw = STANDARD.decode(&bad.ciphertext).unwrap();
        raw[0] ^= 1;
        bad.ciphertext = STANDARD.encode(raw);
        assert!(b.open(&app("demo"), &bad).is_err());
    }

    #[test]
    fn secrets_and_keys_stay_out_of_debug() {
        let key = SecretKey::generate().unwrap();
        assert!(!format!("{key:?}").contains(&key.to_base64()));
        let s = AppSecret::generate().unwrap();
        assert_eq!(format!("{s:?}"), "AppSecret(***)");
        assert_eq!(s.masked().len(), s.expose().len());
        assert!(s.masked().starts_with(&s.expose()[..4]));
        assert!(s.masked().ends_with("****"));
        assert!(s.matches(&AppSecret::from_presented(s.expose())));
        assert!(!s.matches(&AppSecret::from_presented("nope")));
    }

    #[test]
    fn keys_load_from_env_or_a_0600_file_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets").join("engine_key");
        let k1 = SecretKey::load_or_create(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let k2 = SecretKey::load_or_create(Some(""), &path).unwrap();
        assert_eq!(k1.id(), k2.id(), "the file is reused");
        let k3 = SecretKey::load_or_create(Some(&k1.to_base64()), dir.path()).unwrap();
        assert_eq!(k3.id(), k1.id());
        let e = SecretKey::from_base64("c2hvcnQ=").unwrap_err().to_string();
        assert!(e.contains("32 bytes"), "{e}");
        std::fs::write(&path, "garbage").unwrap();
        let e = SecretKey::load_or_create(None, &path)
            .unwrap_err()
            .to_string();
        assert!(e.contains("restore the original file"), "{e}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "garbage",
            "never replaced"
        );
    }
}
