//! The cost of one password check: the login service's own `Hasher` with the default
//! argon2id parameters, called as the service calls it (blocking pool, one at a time).

use std::sync::Arc;
use std::time::Instant;

use bk_auth::config::Argon2Config;
use bk_auth::password::Hasher;

/// Timings, milliseconds.
#[derive(Debug, Clone)]
pub struct ArgonResult {
    /// Parameters measured.
    pub params: Argon2Config,
    /// Calls of each kind.
    pub n: usize,
    /// `Hasher::new` (hashes one dummy password: part of every start).
    pub new_ms: f64,
    /// Median and max of `hash`.
    pub hash_ms: (f64, f64),
    /// Median and max of `verify` (a login check).
    pub verify_ms: (f64, f64),
}

/// Time `n` hashes and `n` verifications with the default parameters.
pub fn measure(n: usize) -> anyhow::Result<ArgonResult> {
    let params = Argon2Config::default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let t = Instant::now();
        let hasher = Arc::new(Hasher::new(&params)?);
        let new_ms = ms(t);
        let mut hashes = Vec::with_capacity(n);
        let mut stored = String::new();
        for i in 0..n {
            let t = Instant::now();
            stored = hasher.hash(&format!("Bench-Passw0rd-{i}")).await?;
            hashes.push(ms(t));
        }
        let last = format!("Bench-Passw0rd-{}", n.saturating_sub(1));
        let mut verifies = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let v = hasher.verify(&last, Some(&stored)).await?;
            verifies.push(ms(t));
            anyhow::ensure!(v.ok, "the password just hashed did not verify");
        }
        Ok(ArgonResult {
            params,
            n,
            new_ms,
            hash_ms: summary(&hashes),
            verify_ms: summary(&verifies),
        })
    })
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn summary(v: &[f64]) -> (f64, f64) {
    (super::median(v), v.iter().copied().fold(f64::NAN, f64::max))
}
