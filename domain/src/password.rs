//! Argon2id hashing, always off the async threads (it is deliberately slow) and never more
//! hashes at once than the machine has cores: each takes ~19 MiB and a core for tens of
//! milliseconds, so a burst of parallel logins would otherwise take memory by the gigabyte
//! and starve every other request. Excess hashes wait their turn.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use argon2::{password_hash::phc::PasswordHash, Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::Error;

/// The process's password hasher (one per `Services`).
pub struct Hasher {
    /// One permit per hash allowed to run at once, held by the blocking thread (so a
    /// cancelled request does not free it before its hash ends).
    permits: Arc<Semaphore>,
    /// Counters for tests and metrics.
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    /// Hashes started (hash or verify).
    started: AtomicU64,
    /// Hashes running now, and the most that ever ran at once.
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Default for Hasher {
    /// As many concurrent hashes as the machine has cores.
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl Hasher {
    pub fn new(concurrent: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrent.max(1))),
            stats: Arc::default(),
        }
    }

    /// How many hashes (and verifications) have started.
    pub fn started(&self) -> u64 {
        self.stats.started.load(Ordering::Relaxed)
    }

    /// The most hashes that ever ran at the same time.
    pub fn peak(&self) -> usize {
        self.stats.peak.load(Ordering::Relaxed)
    }

    pub async fn hash(&self, password: String) -> Result<String, Error> {
        self.bounded(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(format!("argon2: {e}")))
        })
        .await
    }

    /// `true` when `password` matches the stored PHC string.
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, Error> {
        self.bounded(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| Error::Internal(format!("argon2: {e}")))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    /// A hash of a random password, verified against when an e-mail is unknown so that
    /// the answer takes as long as for a known one (no account enumeration by timing).
    pub async fn dummy_verify(&self, password: String) {
        static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        let stored = DUMMY
            .get_or_try_init(|| self.hash("not-a-real-password".into()))
            .await;
        if let Ok(stored) = stored {
            let _ = self.verify(password, stored.clone()).await;
        }
    }

    /// Runs `work` on a blocking thread once a permit is free.
    async fn bounded<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(format!("hasher closed: {e}")))?;
        let stats = self.stats.clone();
        stats.started.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _running = Running::start(stats);
            work()
        })
        .await
        .map_err(|e| Error::Internal(format!("join: {e}")))?
    }
}

/// Counts a hash as running while its blocking thread works on it.
struct Running(Arc<Stats>);

impl Running {
    fn start(stats: Arc<Stats>) -> Self {
        let now = stats.running.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        Self(stats)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_hashes_run_at_once_than_there_are_permits() {
        let hasher = std::sync::Arc::new(Hasher::new(2));
        let stored = hasher.hash("password1".into()).await.unwrap();
        let checks = (0..8).map(|_| {
            let (h, s) = (hasher.clone(), stored.clone());
            tokio::spawn(async move { h.verify("wrong-one".into(), s).await })
        });
        for ok in futures::future::join_all(checks).await {
            assert!(!ok.unwrap().unwrap());
        }
        assert_eq!(hasher.started(), 9);
        assert_eq!(hasher.peak(), 2, "eight parallel checks on two permits");
    }

    #[tokio::test]
    async fn the_right_password_verifies() {
        let hasher = Hasher::new(1);
        let stored = hasher.hash("correct horse".into()).await.unwrap();
        assert!(hasher
            .verify("correct horse".into(), stored.clone())
            .await
            .unwrap());
        assert!(!hasher.verify("wrong horse".into(), stored).await.unwrap());
    }
}
