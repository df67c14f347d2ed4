//! The most an argon2 hash may cost us. Imported hashes keep the parameters they were made
//! with, and verifying one spends its memory and time: a hash claiming `m=4294967295`
//! would have one anonymous login attempt allocate terabytes. Hashes above
//! [`COST_FACTOR`] times the configured cost are refused at import and never verified.

use argon2::Params;
use argon2::password_hash::PasswordHash;

/// How many times the configured memory, iterations and lanes an accepted hash may use.
/// Lowering the configured cost by more than this locks out users whose hashes are older.
pub const COST_FACTOR: u32 = 4;

/// The ceiling on argon2 parameters, derived from the configured ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostCap {
    /// Most memory, KiB.
    pub memory_kib: u32,
    /// Most iterations.
    pub iterations: u32,
    /// Most lanes.
    pub parallelism: u32,
}

impl CostCap {
    /// [`COST_FACTOR`] times `configured`.
    pub fn of(configured: &Params) -> Self {
        Self {
            memory_kib: configured.m_cost().saturating_mul(COST_FACTOR),
            iterations: configured.t_cost().saturating_mul(COST_FACTOR),
            parallelism: configured.p_cost().saturating_mul(COST_FACTOR),
        }
    }

    /// The parameters of an argon2 PHC string when they are within the cap; otherwise
    /// (or when they cannot be read) why not, in words fit for an import error.
    pub fn check(&self, hash: &PasswordHash<'_>) -> Result<Params, String> {
        let p = Params::try_from(hash).map_err(|e| format!("unreadable argon2 parameters: {e}"))?;
        if p.m_cost() > self.memory_kib
            || p.t_cost() > self.iterations
            || p.p_cost() > self.parallelism
        {
            return Err(format!(
                "argon2 cost m={} t={} p={} is above the limit of this server (m<={} t<={} p<={}, {COST_FACTOR}x login.argon2)",
                p.m_cost(),
                p.t_cost(),
                p.p_cost(),
                self.memory_kib,
                self.iterations,
                self.parallelism
            ));
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_is_a_multiple_of_the_configured_cost() {
        let cap = CostCap::of(&Params::new(1024, 2, 1, None).unwrap());
        assert_eq!(
            (cap.memory_kib, cap.iterations, cap.parallelism),
            (4096, 8, 4)
        );
        let ok = "$argon2id$v=19$m=4096,t=8,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(cap.check(&PasswordHash::new(ok).unwrap()).is_ok());
        let bomb = "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        let msg = cap.check(&PasswordHash::new(bomb).unwrap()).unwrap_err();
        assert!(
            msg.contains("m=4294967295") && msg.contains("m<=4096"),
            "{msg}"
        );
        let slow = "$argon2id$v=19$m=1024,t=9,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(cap.check(&PasswordHash::new(slow).unwrap()).is_err());
        let wide = "$argon2id$v=19$m=1024,t=1,p=5$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(cap.check(&PasswordHash::new(wide).unwrap()).is_err());
    }
}
