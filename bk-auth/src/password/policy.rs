//! Password rules for new passwords.

use crate::config::PasswordPolicy;
use crate::error::{AuthError, Result};

/// Check `password` for `username` against `policy`; the error says which rule failed.
pub fn check(policy: &PasswordPolicy, username: &str, password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < policy.min_length {
        return Err(AuthError::WeakPassword(format!(
            "password must have at least {} characters",
            policy.min_length
        )));
    }
    if password.len() > policy.max_length {
        return Err(AuthError::WeakPassword(format!(
            "password must have at most {} bytes",
            policy.max_length
        )));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|x| *x)
    .count();
    if classes < policy.min_classes {
        return Err(AuthError::WeakPassword(format!(
            "password must mix at least {} of: lower-case letters, upper-case letters, digits, symbols",
            policy.min_classes
        )));
    }
    if policy.forbid_username
        && !username.is_empty()
        && password.to_lowercase().contains(&username.to_lowercase())
    {
        return Err(AuthError::WeakPassword(
            "password must not contain the username".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let p = PasswordPolicy::default();
        assert!(check(&p, "alice", "Sh0rt").is_err());
        assert!(check(&p, "alice", "alllowercase").is_err());
        assert!(check(&p, "alice", "xxAlice-2024").is_err());
        assert!(check(&p, "alice", "correct-horse-9").is_ok());
        assert!(check(&p, "alice", &"aA1".repeat(50)).is_err());
        let msg = check(&p, "alice", "abc").unwrap_err().to_string();
        assert!(msg.contains("8 characters"), "{msg}");
    }
}
