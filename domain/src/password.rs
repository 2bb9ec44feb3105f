//! Argon2id hashing, always off the async threads (it is deliberately slow).
use argon2::{password_hash::phc::PasswordHash, Argon2, PasswordHasher, PasswordVerifier};

use crate::Error;

pub async fn hash(password: String) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("join: {e}")))?
}

/// `true` when `password` matches the stored PHC string.
pub async fn verify(password: String, stored: String) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        let parsed =
            PasswordHash::new(&stored).map_err(|e| Error::Internal(format!("argon2: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Internal(format!("join: {e}")))?
}

/// A hash of a random password, verified against when an e-mail is unknown so that the
/// answer takes as long as for a known one (no account enumeration by timing).
pub async fn dummy_verify(password: String) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = match DUMMY.get() {
        Some(h) => h.clone(),
        None => match hash("not-a-real-password".into()).await {
            Ok(h) => DUMMY.get_or_init(|| h).clone(),
            Err(_) => return,
        },
    };
    let _ = verify(password, stored).await;
}
